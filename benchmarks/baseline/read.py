"""Reading the mirror the way an analyst would: every table's JSON into pandas, keys mapped by the reviewed CSVs.

Only data is read from the project: the CSVs and the YAML catalogue in ``data/reference`` (no ``bwm`` code).
A KWB year's raw key is matched to a canonical variable by, strongest first, its exact name in that year's
rows of ``kwb_keymap.csv``, a reviewed alias stem (``kwb_key_aliases.csv``) or its stem (``Name_12`` ->
``Name``) when that stem is unique in both the year's map and the table. The table's own unit must convert
to the canonical unit (a small table of known conversions below), else the key is quarantined.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"

#: (CBS unit, canonical unit) -> factor; a pair not listed is a unit CBS changed, and the key is quarantined.
SCALE = {
    ("aantal", "count"): 1.0, ("aantal", "persons"): 1.0, ("%", "pct"): 1.0, ("x 1 000 euro", "eur"): 1000.0,
    ("euro", "eur"): 1.0, ("per 1 000 inwoners", "per_1000"): 1.0, ("aantal inwoners per km²", "per_km2"): 1.0,
    ("per km²", "per_km2"): 1.0, ("per km2", "per_km2"): 1.0, ("km", "km"): 1.0, ("ha", "ha"): 1.0,
    ("kwh", "kwh"): 1.0, ("m³", "m3"): 1.0, ("m3", "m3"): 1.0, ("per huishouden", "per_household"): 1.0,
    ("code", "code"): 1.0, ("code", "text"): 1.0, ("naam", "text"): 1.0, ("omschrijving", "text"): 1.0,
}
_SUFFIX = re.compile(r"_\d+$")


def stem(key: str) -> str:
    return _SUFFIX.sub("", key)


def suffix(key: str) -> str:
    m = _SUFFIX.search(key)
    return m.group(0) if m else ""


def scale_of(cbs_unit: str | None, unit: str) -> float | None:
    return SCALE.get((" ".join((cbs_unit or "").split()).lower(), unit))


def tables() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "cbs_tables.csv", dtype=str)


def catalogue() -> list[dict]:
    """The YAML catalogue's indicators, with ``years`` as a list of ints."""
    raw = yaml.safe_load((REFERENCE / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]
    out = []
    for ind in raw:
        years = ind["years"]
        if isinstance(years, str):
            first, last = (int(y) for y in years.split("-"))
            years = list(range(first, last + 1))
        out.append({**ind, "years": [int(y) for y in years],
                    "divide_measures": ind.get("divide_measures") or ["gap", "ratio", "weighted_std", "cv"]})
    return out


def read_json(path: Path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def map_keys(topics: list[dict], specs: pd.DataFrame, variables: pd.DataFrame | None,
             aliases: pd.DataFrame | None, unit_of) -> pd.DataFrame:
    """One row per mapped topic: raw_key, canonical, action ('map' or 'quarantine'), scale."""
    specs = specs[specs["action"] == "map"]
    exact = dict(zip(specs["raw_key"], specs["canonical"], strict=True))
    year_stems = specs.assign(s=specs["raw_key"].map(stem).str.lower())
    counts = year_stems["s"].value_counts()
    by_stem = {s: c for s, c in zip(year_stems["s"], year_stems["canonical"], strict=True) if counts[s] == 1}
    canonical_key = dict(zip(specs["canonical"], specs["raw_key"], strict=True))
    table_stems = pd.Series([stem(t["Key"]).lower() for t in topics]).value_counts()
    alias_of: dict[str, list[str]] = {}
    if aliases is not None:
        for c, a in zip(aliases["canonical"], aliases["alias_stem"], strict=True):
            alias_of.setdefault(a.strip().lower(), [])
            if c.strip() not in alias_of[a.strip().lower()]:
                alias_of[a.strip().lower()].append(c.strip())
    known_units = dict(zip(variables["canonical"], variables["unit"], strict=True)) if variables is not None else {}
    claims = []  # (strength, raw_key, canonical, cbs_unit)
    for t in topics:
        key, s = t["Key"], stem(t["Key"]).lower()
        if key in exact:
            claims.append((0, key, exact[key], t.get("Unit")))
            continue
        candidates = alias_of.get(s, [])
        if len(candidates) > 1:
            same = [c for c in candidates if c in canonical_key and suffix(canonical_key[c]) == suffix(key)]
            converts = [c for c in candidates if c in known_units and scale_of(t.get("Unit"), known_units[c])]
            candidates = same if len(same) == 1 else converts
        if len(candidates) == 1 and (candidates[0] in canonical_key or candidates[0] in known_units):
            claims.append((1, key, candidates[0], t.get("Unit")))
        elif table_stems[s] == 1 and s in by_stem:
            claims.append((2, key, by_stem[s], t.get("Unit")))
    frame = pd.DataFrame(claims, columns=["strength", "raw_key", "canonical", "cbs_unit"])
    # One canonical, one key: the strongest match keeps it; two at the same strength, neither does.
    best = frame.groupby("canonical")["strength"].transform("min")
    frame = frame[frame["strength"] == best]
    frame = frame[~frame.duplicated("canonical", keep=False)]
    frame["scale"] = [scale_of(u, unit_of(c)) for c, u in zip(frame["canonical"], frame["cbs_unit"], strict=True)]
    frame["action"] = frame["scale"].map(lambda v: "quarantine" if v is None or pd.isna(v) else "map")
    return frame[["raw_key", "canonical", "action", "scale"]]


def numeric(column: pd.Series) -> pd.Series:
    """A raw column as numbers; text that is no number (CBS's '.', a padded code) becomes NaN."""
    if column.dtype == object:
        return pd.to_numeric(column.astype("string").str.strip(), errors="coerce").astype(float)
    return column.astype(float)


def kwb_year(mirror: Path, year: int, table_id: str, specs: pd.DataFrame, variables: pd.DataFrame,
             aliases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One KWB year: (regions, values, keys). regions: one row per region row with its code, inhabitants,
    households and comparability code; values: the same rows, one column per mapped numeric canonical (raw,
    not yet scaled); keys: the key map of the year (raw_key, canonical, action, scale)."""
    props = read_json(mirror / table_id / "DataProperties.json")
    region_dim = next(p["Key"] for p in props if p.get("Type") == "GeoDetail")
    rows = pd.DataFrame(read_json(mirror / table_id / "TypedDataSet.json"))
    units = dict(zip(variables["canonical"], variables["unit"], strict=True))
    keys = map_keys([p for p in props if p.get("Type") == "Topic"], specs, variables, aliases, units.__getitem__)
    mapped = {c: k for k, c, a in zip(keys["raw_key"], keys["canonical"], keys["action"], strict=True) if a == "map"}
    regions = pd.DataFrame({"year": year, "table_id": table_id,
                            "area_code": rows[region_dim].astype(str).str.strip().str.upper()})
    for field in ("inwoners", "huishoudens"):
        regions[field] = numeric(rows[mapped[field]]) if field in mapped else float("nan")
    change = rows[mapped["indelingswijziging"]] if "indelingswijziging" in mapped else None
    regions["comparability_code"] = (pd.to_numeric(change.astype(str).str.strip(), errors="coerce")
                                     if change is not None else float("nan"))
    kinds = dict(zip(variables["canonical"], variables["kind"], strict=True))
    keys = keys[keys["canonical"].map(kinds) != "meta"]
    values = pd.DataFrame({c: numeric(rows[k]) for k, c in zip(keys["raw_key"], keys["canonical"], strict=True)})
    return regions, values, keys


def level_of(code: pd.Series) -> pd.Series:
    prefix = code.str[:2]
    return prefix.map({"GM": "gemeente", "WK": "wijk", "BU": "buurt", "NL": "land"})
