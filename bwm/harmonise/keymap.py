"""The reviewed KWB key map: which raw CBS key of which year is which canonical variable.

Reads the key maps the registry (``data/reference/cbs_tables.csv``, ``bwm.registry``) names: ``kwb_keymap.csv``
with ``kwb_variables.csv`` and ``kwb_key_aliases.csv``, and ``health_keymap_<table>.csv`` per health table (see
``docs/kwb-keys.md`` for where every year's key list comes from).
``resolve`` applies the map to a table's own ``DataProperties``, because CBS renumbers the ``_NN``
suffixes and renames keys inside a published table: a key whose exact name is unknown is matched by a
reviewed alias (``kwb_key_aliases.csv``), by its stem, or by its title and unit. A unit that does not
convert quarantines that one key; it never aborts the run.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl

from bwm import registry
from bwm.settings import PROJECT_ROOT, Settings

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"

ACTIONS = ("map", "ignore")

# Dimension codes of the health tables 50090NED and 50120NED (RIVM, dataderden.cbs.nl). Leeftijd and
# MW00000 are the codes in the real 50090NED UntypedDataSet files in shared/cbs-real; MOG0095/MBG0095
# (lower/upper bound of the 95% interval) are 50120NED's, seen in public code that queries it, and
# 50090NED's row ids imply the same three Marges members (shared/reference/kwb-keys-evidence).
DEFAULT_HEALTH_TABLE = Settings.health_table
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


def kwb_tables() -> list[registry.CbsTable]:
    """All KWB tables, one per year, oldest first (the registry's rows of kind kwb)."""
    return registry.tables("kwb")


def kwb_table(year: int) -> registry.CbsTable:
    for table in kwb_tables():
        if table.year == year:
            return table
    raise KeymapError(f"no KWB table known for year {year}")


def kwb_year_of(table_id: str) -> int:
    wanted = table_id.strip().upper()
    for table in kwb_tables():
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


@cache
def _health(table_id: str) -> tuple[KeySpec, ...]:
    source = registry.table(table_id)
    if source.kind != "health":
        raise KeymapError(f"{table_id} is a {source.kind} table, not a health table")
    return tuple(sorted((_spec(r) for r in _read(source.keymap)), key=lambda s: s.position))


def health_keys(table_id: str = DEFAULT_HEALTH_TABLE) -> list[KeySpec]:
    """Topic keys of a health table (50120NED or 50090NED), in DataProperties order, from its key map."""
    return list(_health(table_id.upper()))


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


@dataclass(frozen=True)
class Alias:
    canonical: str
    alias_stem: str
    evidence: str


@lru_cache(maxsize=1)
def _alias_rows() -> tuple[Alias, ...]:
    rows = tuple(Alias(r["canonical"].strip(), r["alias_stem"].strip(), r["evidence"].strip())
                 for r in _read("kwb_key_aliases.csv"))
    known = _variables()
    for a in rows:
        if a.canonical not in known:
            raise KeymapError(f"kwb_key_aliases.csv: alias {a.alias_stem} names {a.canonical!r}, "
                              "which kwb_variables.csv lacks")
        if not a.evidence:
            raise KeymapError(f"kwb_key_aliases.csv: alias {a.alias_stem} -> {a.canonical} cites no evidence")
    return rows


def aliases() -> list[Alias]:
    """The reviewed alias stems (``data/reference/kwb_key_aliases.csv``): stems CBS has used for a canonical."""
    return list(_alias_rows())


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, tuple[str, ...]]:
    """Lower-cased alias stem -> the canonicals it may stand for (several for e.g. EigenWoning: kWh and m³)."""
    out: dict[str, list[str]] = {}
    for a in _alias_rows():
        bucket = out.setdefault(a.alias_stem.lower(), [])
        if a.canonical not in bucket:
            bucket.append(a.canonical)
    return {k: tuple(v) for k, v in out.items()}


#: What ``resolve`` records per key in ``match``, strongest first; ``unmapped`` when none applies.
MATCH_RULES = ("exact", "alias", "stem", "title")
_STRENGTH = {rule: i for i, rule in enumerate(MATCH_RULES)}

_RESOLVED_SCHEMA = {
    "raw_key": pl.Utf8, "canonical": pl.Utf8, "action": pl.Utf8,
    "match": pl.Utf8, "scale": pl.Float64, "unit": pl.Utf8,
    "cbs_unit": pl.Utf8, "expected_cbs_unit": pl.Utf8, "note": pl.Utf8,
}
# Health topics carry no kwb_variables entry; their canonical unit follows from the mapped CBS unit.
_HEALTH_UNIT = {"%": "pct", "naam": "text", "omschrijving": "text", "code": "code"}
_DESCRIPTORS = ("gemeentenaam", "soort_regio", "codering")
_NOT_WORD = re.compile(r"[^\w]+|_+")


def _norm_title(text: str | None) -> str:
    """Case, whitespace and punctuation left out: 'Diefstal uit woning/schuur/e.d.' ~ '… woning, schuur e.d.'."""
    return " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text or "")).lower().split())


def _norm_unit(text: str | None) -> str:
    """Units keep their symbols ('%', '²'): only case, whitespace and full stops are left out."""
    return " ".join(unicodedata.normalize("NFKC", text or "").replace(".", " ").lower().split())


def _suffix(raw_key: str) -> str | None:
    m = _SUFFIX.search(raw_key)
    return m.group(0) if m else None


def _resolve(specs: list[KeySpec], data_properties: list[dict], unit_of, *,
             alias_index: dict[str, tuple[str, ...]] | None = None,
             known: dict[str, Variable] | None = None) -> pl.DataFrame:
    """Resolve a table's Topics against ``specs`` by the rules of ``MATCH_RULES``; never raises on CBS metadata.

    ``alias_index`` and ``known`` (the KWB variables) enable the alias rule and the title match on a
    canonical's label; the health table has neither. A unit that does not convert quarantines its key.
    """
    known = known or {}
    alias_index = alias_index or {}
    by_key = {s.raw_key: s for s in specs}
    by_canonical = {s.canonical: s for s in specs if s.action == "map" and s.canonical}
    map_stems = Counter(stem(s.raw_key).lower() for s in specs)
    by_stem = {stem(s.raw_key).lower(): s for s in specs if map_stems[stem(s.raw_key).lower()] == 1}
    topics = [p for p in data_properties if p.get("Type") == "Topic"]
    table_stems = Counter(stem(p["Key"]).lower() for p in topics)

    def target_of(canonical: str) -> KeySpec:
        """The year's own row for a canonical, or one built from kwb_variables when the year lacks it."""
        if canonical in by_canonical:
            return by_canonical[canonical]
        var = known[canonical]
        return KeySpec("", canonical, "map", var.cbs_unit, "", 0, var.label_nl, 0)

    # Title rule: (normalised title, normalised unit) -> targets, from the year's rows and the canonical labels.
    by_title: dict[tuple[str, str], dict[str, KeySpec]] = {}
    for s in specs:
        if s.title_nl:
            by_title.setdefault((_norm_title(s.title_nl), _norm_unit(s.cbs_unit)), {})[s.canonical or s.raw_key] = s
    for name, var in known.items():
        if var.label_nl:
            by_title.setdefault((_norm_title(var.label_nl), _norm_unit(var.cbs_unit)), {}).setdefault(
                name, target_of(name))
    table_titles = Counter((_norm_title(p.get("Title")), _norm_unit(p.get("Unit"))) for p in topics if p.get("Title"))

    def alias_target(key: str, found_unit) -> tuple[KeySpec | None, str | None]:
        candidates = alias_index.get(stem(key).lower(), ())
        if len(candidates) > 1:  # e.g. EigenWoning: electricity or gas. Same suffix as the year's row, else the unit.
            same_suffix = [c for c in candidates
                           if c in by_canonical and _suffix(by_canonical[c].raw_key) == _suffix(key)]
            converts = [c for c in candidates if c in known and unit_scale(found_unit, known[c].unit) is not None]
            candidates = tuple(same_suffix) if len(same_suffix) == 1 else tuple(converts)
            if len(candidates) != 1:
                return None, (f"alias stem {stem(key)} stands for several canonicals "
                              f"({', '.join(alias_index[stem(key).lower()])}); neither suffix nor unit decides")
        if len(candidates) == 1 and (candidates[0] in by_canonical or candidates[0] in known):
            target = target_of(candidates[0])
            where = f"the key map has {target.raw_key}" if target.raw_key else "not in this year's key map"
            return target, f"alias stem {stem(key)} of {candidates[0]} (kwb_key_aliases.csv); {where}"
        return None, None

    rows: list[dict] = []
    specs_of: list[KeySpec | None] = []
    for prop in topics:
        key, found_unit, title = prop["Key"], prop.get("Unit"), prop.get("Title")
        spec, match, note = by_key.get(key), "exact", None
        if spec is None:
            spec, note = alias_target(key, found_unit)
            match = "alias"
        if spec is None and table_stems[stem(key).lower()] == 1 and stem(key).lower() in by_stem:
            spec, match = by_stem[stem(key).lower()], "stem"
            note = f"suffix or case differs: the key map has {spec.raw_key}"
        if spec is None and title:
            t_key = (_norm_title(title), _norm_unit(found_unit))
            targets = by_title.get(t_key, {})
            if len(targets) == 1 and table_titles[t_key] == 1:
                spec, match = next(iter(targets.values())), "title"
                note = (f"title {title.strip()!r} and unit {found_unit!r} match "
                        f"{spec.raw_key or spec.canonical} of the key map")
            elif targets and note is None:
                note = f"title {title.strip()!r} is ambiguous ({', '.join(sorted(targets))})"
        row = {"raw_key": key, "canonical": None, "action": None, "match": "unmapped", "scale": None, "unit": None,
               "cbs_unit": found_unit, "expected_cbs_unit": None, "note": note}
        if spec is not None:
            row.update(action=spec.action, match=match, expected_cbs_unit=spec.cbs_unit or None,
                       canonical=spec.canonical if spec.action == "map" else None)
        rows.append(row)
        specs_of.append(spec)

    # One canonical, one key: the strongest rule keeps it; at equal strength nobody does.
    claims: dict[str, list[dict]] = {}
    for row in rows:
        if row["action"] == "map" and row["canonical"]:
            claims.setdefault(row["canonical"], []).append(row)
    for canonical, rivals in claims.items():
        if len(rivals) < 2:
            continue
        best = min(_STRENGTH[r["match"]] for r in rivals)
        winners = [r for r in rivals if _STRENGTH[r["match"]] == best]
        keep = winners[0] if len(winners) == 1 else None
        for r in rivals:
            if r is keep:
                continue
            if keep is not None:
                why = f"{keep['raw_key']} maps it by {keep['match']}"
            else:
                why = "so do " + ", ".join(w["raw_key"] for w in winners if w is not r) + f" by {MATCH_RULES[best]}"
            r.update(note=f"would map to {canonical} by {r['match']}, but {why}; left unmapped",
                     canonical=None, action=None, match="unmapped", expected_cbs_unit=None)

    for row, spec in zip(rows, specs_of, strict=True):
        if row["action"] != "map":
            continue
        unit = unit_of(spec)
        scale = unit_scale(row["cbs_unit"], unit)
        row["unit"] = unit
        if scale is None:
            reason = (f"CBS unit {row['cbs_unit']!r} does not convert to {unit!r} "
                      f"(expected {row['expected_cbs_unit']!r})")
            row.update(action="quarantine", note=reason + (f"; {row['note']}" if row["note"] else ""))
        else:
            row["scale"] = scale
    return pl.DataFrame(rows, schema=_RESOLVED_SCHEMA)


def resolve(year: int, data_properties: list[dict]) -> pl.DataFrame:
    """Map a KWB table's own Topic keys to canonicals: one row per Topic, in table order.

    ``match`` records the first rule that applies, strongest first:

    * 'exact': the key is in that year's key map;
    * 'alias': its stem is a reviewed alias of a canonical (``data/reference/kwb_key_aliases.csv``, any
      year; a stem that stands for several canonicals is decided by the year's suffix, else by the unit);
    * 'stem': the suffix shifted (or the case differs); the stem, compared case-insensitively, is unique
      both in the year's map and among the table's Topics;
    * 'title': the table's own ``Title`` and ``Unit`` (case, whitespace and punctuation left out) equal
      one row of the year's map, or one canonical's ``label_nl``/``cbs_unit``, and no other Topic's;
    * 'unmapped': none applies (canonical null).

    One canonical is never mapped twice: when several keys resolve to it, the strongest rule keeps it and
    the others are 'unmapped', with a ``note`` saying why. ``scale`` converts the table's own ``Unit``
    (``cbs_unit``) to the canonical ``unit``. When it cannot, the key is quarantined, not raised:
    ``action`` 'quarantine', canonical kept, ``scale`` null, ``expected_cbs_unit`` and ``note`` say why.
    """
    known = _variables()

    def unit_of(spec: KeySpec) -> str:
        if spec.canonical not in known:
            raise KeymapError(f"KWB {year}: {spec.raw_key} maps to {spec.canonical!r}, which kwb_variables.csv lacks")
        return known[spec.canonical].unit

    return _resolve(keys_for_year(year), data_properties, unit_of,
                    alias_index=_alias_index(), known=known)


def resolve_health(data_properties: list[dict], table_id: str = DEFAULT_HEALTH_TABLE) -> pl.DataFrame:
    """``resolve`` for a health table, limited to its value topics (all percentages, unit 'pct').

    The same rules apply, without aliases and canonical labels (health topics have neither); a topic whose
    unit is not '%' is quarantined, as in ``resolve``.

    The region descriptors (Gemeentenaam_1, SoortRegio_2, Codering_3) are left out: they are not values,
    and the KWB tables already supply them.
    """
    out = _resolve(health_keys(table_id), data_properties, lambda s: _HEALTH_UNIT.get(s.cbs_unit, ""))
    return out.filter(~pl.col("canonical").is_in(_DESCRIPTORS) | pl.col("canonical").is_null())
