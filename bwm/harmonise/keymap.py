"""The reviewed KWB key map: which raw CBS key of which year is which canonical variable.

Reads ``data/reference/kwb_tables.csv``, ``kwb_keymap.csv``, ``kwb_variables.csv`` and
``health_keymap.csv`` (see ``docs/kwb-keys.md`` for where every year's key list comes from).
``resolve`` applies the map to a table's own ``DataProperties``, because CBS renumbers the ``_NN``
suffixes inside a published table: a key whose exact name is unknown is matched by its stem.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from bwm.settings import PROJECT_ROOT

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"

ACTIONS = ("map", "ignore")

# Health table 50090NED, dimension codes. Leeftijd and MW00000 are the codes in the real
# UntypedDataSet files in shared/cbs-real. The two interval bounds follow CBS's usual Marges coding
# (titles "Ondergrens/Bovengrens 95%-interval" appear in the sister table 83674NED); those files carry
# only MW00000, so the bound codes are not verified against 50090NED itself.
HEALTH_TABLE_ID = "50090NED"
HEALTH_LEEFTIJD = {"20300": "18 jaar of ouder", "53115": "18 tot 65 jaar", "80200": "65 jaar of ouder"}
HEALTH_MARGES = {"MW00000": "waarde", "MOG0095": "ondergrens 95%-interval", "MBG0095": "bovengrens 95%-interval"}

# (CBS unit, canonical unit) -> factor. Explicit on purpose: an unlisted pair is a unit change CBS made
# that someone has to look at, not something to guess. CBS units are compared whitespace- and
# case-normalised ("x 1 000 euro" == "x 1 000 Euro").
UNIT_SCALE: dict[tuple[str, str], float] = {
    ("aantal", "count"): 1.0,
    ("aantal", "persons"): 1.0,  # GemiddeldeHuishoudensgrootte is published as "aantal"
    ("%", "pct"): 1.0,
    ("x 1 000 euro", "eur"): 1000.0,
    ("euro", "eur"): 1.0,
    ("per 1 000 inwoners", "per_1000"): 1.0,
    ("aantal inwoners per km²", "per_km2"): 1.0,
    ("per km²", "per_km2"): 1.0,
    ("per km2", "per_km2"): 1.0,
    ("km", "km"): 1.0,
    ("ha", "ha"): 1.0,
    ("kwh", "kwh"): 1.0,
    ("m³", "m3"): 1.0,
    ("m3", "m3"): 1.0,
    ("per huishouden", "per_household"): 1.0,
    ("code", "code"): 1.0,
    ("code", "text"): 1.0,
    ("naam", "text"): 1.0,
    ("omschrijving", "text"): 1.0,
}

_SUFFIX = re.compile(r"_\d+$")


class KeymapError(ValueError):
    """The key map is incomplete or contradicts a table's own metadata; the message says where."""


@dataclass(frozen=True)
class KwbTable:
    year: int
    table_id: str
    title: str
    region_dimension: str
    key_list_status: str


@dataclass(frozen=True)
class KeySpec:
    raw_key: str
    canonical: str | None
    action: str
    cbs_unit: str
    datatype: str
    decimals: int
    title_nl: str
    position: int


@dataclass(frozen=True)
class Variable:
    canonical: str
    kind: str
    unit: str
    cbs_unit: str
    scale: float
    label_nl: str
    label_en: str
    description_nl: str


def stem(raw_key: str) -> str:
    """``GemiddeldInkomenPerInwoner_72`` -> ``GemiddeldInkomenPerInwoner``."""
    return _SUFFIX.sub("", raw_key)


def unit_scale(cbs_unit: str | None, unit: str) -> float | None:
    """Factor from a CBS unit to a canonical unit, or None when the pair is not a known conversion."""
    return UNIT_SCALE.get((" ".join((cbs_unit or "").split()).lower(), unit))


def _read(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _tables() -> tuple[KwbTable, ...]:
    return tuple(
        KwbTable(int(r["year"]), r["table_id"], r["title"], r["region_dimension"], r["key_list_status"])
        for r in _read("kwb_tables.csv")
    )


def kwb_tables() -> list[KwbTable]:
    """All KWB tables, one per year, oldest first."""
    return sorted(_tables(), key=lambda t: t.year)


def kwb_table(year: int) -> KwbTable:
    for table in _tables():
        if table.year == year:
            return table
    raise KeymapError(f"no KWB table known for year {year}")


def kwb_year_of(table_id: str) -> int:
    wanted = table_id.strip().upper()
    for table in _tables():
        if table.table_id.upper() == wanted:
            return table.year
    raise KeymapError(f"{table_id!r} is not a known KWB table id")


def _spec(r: dict[str, str]) -> KeySpec:
    if r["action"] not in ACTIONS:
        raise KeymapError(f"{r['raw_key']}: action {r['action']!r} is not one of {ACTIONS}")
    return KeySpec(r["raw_key"], r["canonical"] or None, r["action"], r["cbs_unit"], r["datatype"],
                   int(r["decimals"]), r["title_nl"], int(r["position"]))


@lru_cache(maxsize=1)
def _keys_by_year() -> dict[int, tuple[KeySpec, ...]]:
    by_year: dict[int, list[KeySpec]] = {}
    for r in _read("kwb_keymap.csv"):
        by_year.setdefault(int(r["year"]), []).append(_spec(r))
    return {y: tuple(sorted(specs, key=lambda s: s.position)) for y, specs in by_year.items()}


def keys_for_year(year: int) -> list[KeySpec]:
    """Every Topic key of that year's table, in DataProperties order."""
    try:
        return list(_keys_by_year()[year])
    except KeyError:
        raise KeymapError(f"no KWB key list for year {year}") from None


@lru_cache(maxsize=1)
def _health() -> tuple[KeySpec, ...]:
    return tuple(sorted((_spec(r) for r in _read("health_keymap.csv")), key=lambda s: s.position))


def health_keys() -> list[KeySpec]:
    """Topic keys of the health table 50090NED, in DataProperties order."""
    return list(_health())


@lru_cache(maxsize=1)
def _variables() -> dict[str, Variable]:
    return {
        r["canonical"]: Variable(r["canonical"], r["kind"], r["unit"], r["cbs_unit"], float(r["scale"]),
                                 r["label_nl"], r["label_en"], r["description_nl"])
        for r in _read("kwb_variables.csv")
    }


def variables() -> dict[str, Variable]:
    """Canonical KWB variables by name."""
    return dict(_variables())


_RESOLVED_SCHEMA = {
    "raw_key": pl.Utf8, "canonical": pl.Utf8, "action": pl.Utf8,
    "match": pl.Utf8, "scale": pl.Float64, "unit": pl.Utf8,
}
# Health topics carry no kwb_variables entry; their canonical unit follows from the mapped CBS unit.
_HEALTH_UNIT = {"%": "pct", "naam": "text", "omschrijving": "text", "code": "code"}
_DESCRIPTORS = ("gemeentenaam", "soort_regio", "codering")


def _resolve(label: str, specs: list[KeySpec], data_properties: list[dict], unit_of) -> pl.DataFrame:
    by_key = {s.raw_key: s for s in specs}
    map_stems = Counter(stem(s.raw_key) for s in specs)
    by_stem = {stem(s.raw_key): s for s in specs if map_stems[stem(s.raw_key)] == 1}
    topics = [p for p in data_properties if p.get("Type") == "Topic"]
    table_stems = Counter(stem(p["Key"]) for p in topics)

    rows = []
    for prop in topics:
        key = prop["Key"]
        spec, match = by_key.get(key), "exact"
        if spec is None and table_stems[stem(key)] == 1 and stem(key) in by_stem:
            spec, match = by_stem[stem(key)], "stem"
        row = {"raw_key": key, "canonical": None, "action": None, "match": "unmapped", "scale": None, "unit": None}
        if spec is not None:
            row.update(action=spec.action, match=match)
        if spec is not None and spec.action == "map":
            unit = unit_of(spec)
            found = prop.get("Unit")
            scale = unit_scale(found, unit)
            if scale is None:
                raise KeymapError(
                    f"{label}: key {key} has CBS unit {found!r}, which does not convert to {unit!r} "
                    f"(canonical {spec.canonical}; expected CBS unit {spec.cbs_unit!r})"
                )
            row.update(canonical=spec.canonical, scale=scale, unit=unit)
        rows.append(row)
    return pl.DataFrame(rows, schema=_RESOLVED_SCHEMA)


def resolve(year: int, data_properties: list[dict]) -> pl.DataFrame:
    """Map a KWB table's own Topic keys to canonicals: one row per Topic, in table order.

    ``match`` is 'exact' (key in the map), 'stem' (suffix shifted; the stem is unique both in the
    map and in the table, so the match cannot be ambiguous) or 'unmapped' (canonical null).
    ``scale`` converts the table's own ``Unit`` to the canonical unit; ``KeymapError`` when it cannot.
    """
    known = _variables()

    def unit_of(spec: KeySpec) -> str:
        if spec.canonical not in known:
            raise KeymapError(f"KWB {year}: {spec.raw_key} maps to {spec.canonical!r}, which kwb_variables.csv lacks")
        return known[spec.canonical].unit

    return _resolve(f"KWB {year}", keys_for_year(year), data_properties, unit_of)


def resolve_health(data_properties: list[dict]) -> pl.DataFrame:
    """``resolve`` for 50090NED, limited to its value topics (all percentages, unit 'pct').

    The region descriptors (Gemeentenaam_1, SoortRegio_2, Codering_3) are left out: they are not values,
    and the KWB tables already supply them.
    """
    out = _resolve(HEALTH_TABLE_ID, health_keys(), data_properties, lambda s: _HEALTH_UNIT.get(s.cbs_unit, ""))
    return out.filter(~pl.col("canonical").is_in(_DESCRIPTORS) | pl.col("canonical").is_null())
