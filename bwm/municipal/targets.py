"""Targets (ambities) a municipality declares in its drop folder, validated like its data files.

A targets file is a CSV or XLSX file whose name starts with ``ambities`` (``ambities_zuiderhaven.csv``). It needs
no declaration: every row names an indicator the monitor already has (a CBS indicator of the catalogue, or one
declared in an accepted municipal file). Columns (header row, any order, ``,`` or ``;``):

* ``area_code``: the gemeente (``GM9901``), or a wijk or buurt of it;
* ``indicator_id``: the indicator;
* ``target_value``: the value aimed at, in the indicator's unit (decimal comma allowed with ``;``);
* ``target_year``: the year it should be reached;
* ``base_year`` (optional): the year the line towards the target starts; empty or absent: the first year with a
  figure for that area and indicator.

Every problem is reported with file, sheet, row and column, what was expected and what was found; a file with any
problem is rejected whole, and the other files go on (``bwm.municipal.folder``).

Whether a target is on course (``publish.targets``, the site, the exports) is decided against the straight line
from the base year's figure to the target: in the latest year with a figure the line expects
``base + (target - base) * min(1, (latest_year - base_year) / (target_year - base_year))``. A figure at least as
far towards the target as that is ``op_koers``, one that lags is ``niet_op_koers``; without a base or a later
figure it is ``onbekend``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from bwm.municipal.findings import Finding, shown
from bwm.municipal.geography import Geography
from bwm.municipal.read import Sheet
from bwm.municipal.validate import NotANumber, parse_number

PREFIX = "ambities"
REQUIRED = ("area_code", "indicator_id", "target_value", "target_year")
OPTIONAL = ("base_year",)
#: Years a target or its base may name.
YEARS = range(2000, 2101)
SCHEMA = {"gemeente_code": pl.String, "area_code": pl.String, "area_level": pl.String, "indicator_id": pl.String,
          "base_year": pl.Int64, "target_year": pl.Int64, "target_value": pl.Float64, "file": pl.String,
          "sheet": pl.String, "row_number": pl.Int64}
RANGES = {"pct": (0.0, 100.0), "per_1000": (0.0, 1000.0)}


def is_targets_file(name: str) -> bool:
    """A data file (CSV or XLSX) in the drop folder whose name starts with 'ambities'."""
    lower = name.lower()
    return lower.startswith(PREFIX) and lower.endswith((".csv", ".xlsx"))


@dataclass(frozen=True, slots=True)
class Target:
    gemeente_code: str
    area_code: str
    area_level: str
    indicator_id: str
    base_year: int | None
    target_year: int
    target_value: float
    file: str
    sheet: str | None
    row_number: int


def validate_targets(sheet: Sheet, indicators: dict[str, str], geo: Geography,
                     earlier: dict[tuple[str, str], str] | None = None) -> tuple[list[Target], list[Finding]]:
    """The targets of one sheet and every problem in it. ``indicators``: indicator id -> unit, of every indicator
    a target may name; ``earlier``: (area_code, indicator_id) -> where an accepted targets file already set it."""
    findings: list[Finding] = []

    def add(row, column, check, expected, found):
        findings.append(Finding(sheet.file, sheet.sheet, row, column, check, expected, found))

    names = [h.strip().lower() for h in sheet.header]
    missing = [c for c in REQUIRED if c not in names]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if missing or repeated:
        what = f"missing {', '.join(missing)}" if missing else f"{', '.join(repeated)} more than once"
        add(1, None, "header", f"a header with {', '.join(REQUIRED)} (and optionally base_year), each once",
            f"the columns {', '.join(repr(h) for h in sheet.header)}: {what}")
        return [], findings
    col = {n: names.index(n) for n in (*REQUIRED, *OPTIONAL) if n in names}
    decimal_comma = sheet.delimiter not in (None, ",")
    latest = geo.years[-1] if geo.years else None
    seen: dict[tuple[str, str], int] = {}
    targets: list[Target] = []
    for row_number, cells in sheet.rows:
        def cell(name, cells=cells):
            i = col.get(name)
            value = cells[i] if i is not None and i < len(cells) else None
            return None if isinstance(value, str) and not value.strip() else value

        before = len(findings)
        code = str(cell("area_code") or "").strip().upper()
        area = geo.areas.get(latest, {}).get(code) if latest is not None else None
        if area is None:
            add(row_number, "area_code", "unknown_area",
                f"a gemeente, wijk or buurt code of {latest} (the newest KWB year in the warehouse)",
                shown(cell("area_code")))
        ident = str(cell("indicator_id") or "").strip()
        if ident not in indicators:
            add(row_number, "indicator_id", "undeclared_indicator",
                "an indicator of the monitor (a CBS indicator of the catalogue, or one declared in an accepted "
                "municipal file); see the definitions of an export", shown(cell("indicator_id")))
        years = {}
        for name in ("base_year", "target_year"):
            raw = cell(name)
            if raw is None and name == "base_year":
                years[name] = None
                continue
            try:
                number = parse_number(raw, decimal_comma) if raw is not None else None
            except NotANumber:
                number = None
            if number is None or number != int(number) or int(number) not in YEARS:
                add(row_number, name, "target_year", f"a year from {YEARS.start} to {YEARS.stop - 1}", shown(raw))
                years[name] = None
            else:
                years[name] = int(number)
        if years.get("base_year") is not None and years.get("target_year") is not None \
                and years["target_year"] <= years["base_year"]:
            add(row_number, "target_year", "target_year", f"a target year after the base year {years['base_year']}",
                shown(cell("target_year")))
        value = None
        try:
            value = parse_number(cell("target_value"), decimal_comma) if cell("target_value") is not None else None
        except NotANumber:
            pass
        if value is None:
            add(row_number, "target_value", "not_numeric", "the target as a number in the indicator's unit",
                shown(cell("target_value")))
        elif ident in indicators and indicators[ident] in RANGES:
            low, high = RANGES[indicators[ident]]
            if not low <= value <= high:
                check = "pct_out_of_range" if indicators[ident] == "pct" else "rate_out_of_range"
                add(row_number, "target_value", check, f"a value from {low:g} to {high:g} ({indicators[ident]})",
                    shown(cell("target_value")))
        key = (code, ident)
        if area is not None and ident in indicators and key in seen:
            add(row_number, "indicator_id", "duplicate_key",
                f"one target per area and indicator (row {seen[key]} already has {code} and {ident})", shown(ident))
        elif area is not None and earlier and key in earlier:
            add(row_number, "indicator_id", "duplicate_key",
                f"one target per area and indicator ({earlier[key]} already has {code} and {ident})", shown(ident))
        seen.setdefault(key, row_number)
        if len(findings) == before:
            targets.append(Target(area.gemeente_code, code, area.level, ident, years["base_year"],
                                  years["target_year"], value, sheet.file, sheet.sheet, row_number))
    if not sheet.rows:
        add(None, None, "empty_file", "at least one target under the header", "none")
    return targets, findings


def frame(targets: list[Target]) -> pl.DataFrame:
    """``municipal.targets``: one row per (area_code, indicator_id) of the accepted targets files."""
    rows = sorted(targets, key=lambda t: (t.gemeente_code, t.area_code, t.indicator_id))
    return pl.DataFrame({name: [getattr(t, name) for t in rows] for name in SCHEMA}, schema=SCHEMA)
