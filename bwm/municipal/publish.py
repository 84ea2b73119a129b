"""From accepted municipal figures to what may be published: totals per wijk and gemeente, then disclosure control.

Figures arrive at one level (buurt, wijk or gemeente, as declared). Higher levels are formed here by the
catalogue's method: counts add up (aggregate ``sum``); rates add up as numerator (value x cases / factor)
over cases (aggregate ``ratio``), so a wijk's rate is its buurten's rate weighted by their cases. A total
is formed from the areas that have a figure (an area without a row in the file counts as not delivered,
not as zero). Then ``bwm.disclosure`` suppresses, per indicator and year, over each municipality's
hierarchy: counts below the threshold, rates whose numerator or complement (cases minus numerator) is below
it, and the cells that keep those from being computed or narrowly bounded from the totals (for rates over
the numerators and the complements). A suppressed figure loses its value, numerator and denominator alike,
and every suppressed figure carries the one reason ``suppressed_small_count``.
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from bwm import disclosure
from bwm.municipal.declaration import FACTORS, LEVELS_UP
from bwm.municipal.geography import Geography

PUBLISHED_SCHEMA = {
    "year": pl.Int64, "area_code": pl.String, "area_level": pl.String, "gemeente_code": pl.String,
    "indicator_id": pl.String, "count_or_rate": pl.String, "value": pl.Float64, "numerator": pl.Float64,
    "denominator": pl.Float64, "source_table": pl.String, "geography_year": pl.Int64, "missing_reason": pl.String,
}


def publishable(values: pl.DataFrame, indicators: pl.DataFrame, geo: Geography,
                rule: disclosure.DisclosureRule) -> pl.DataFrame:
    """One row per (year, area, indicator) for every area of the delivering municipalities at the declared
    level and above; value null with ``missing_reason`` where suppressed or not delivered."""
    decl = {r["indicator_id"]: r for r in indicators.iter_rows(named=True)}
    grouped: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for r in values.iter_rows(named=True):
        grouped[(r["indicator_id"], r["year"])].append(r)
    out: list[dict] = []
    for (ident, year), rows in sorted(grouped.items()):
        d = decl[ident]
        out += _one(ident, year, rows, d["count_or_rate"], d["unit"], d["level"], geo, rule)
    return pl.DataFrame(out, schema=PUBLISHED_SCHEMA).sort("indicator_id", "year", "area_code")


def _one(ident, year, rows, kind, unit, level, geo, rule) -> list[dict]:
    geo_year = rows[0]["geography_year"]
    gemeenten = tuple(sorted({r["gemeente_code"] for r in rows}))
    areas = geo.children(geo_year, gemeenten, LEVELS_UP[level])
    factor = FACTORS.get(unit, 1.0)
    # Per cell: (numerator, denominator) for rates, (value, None) for counts; and the files it rests on.
    cells: dict[str, list[float]] = {}
    files: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if kind == "rate":
            cells[r["area_code"]] = [r["value"] * r["n_cases"] / factor, r["n_cases"]]
        else:
            cells[r["area_code"]] = [r["value"], 0.0]
        files[r["area_code"]].add(r["file"])
    parent: dict[str, str | None] = {}
    by_level = {lvl: [a for a in areas if a.level == lvl] for lvl in ("buurt", "wijk", "gemeente")}
    for lvl, up in (("buurt", "wijk"), ("wijk", "gemeente")):
        if lvl not in LEVELS_UP[level]:
            continue
        for a in by_level[lvl]:
            if a.code not in cells:
                continue
            p = a.wijk_code if up == "wijk" else a.gemeente_code
            parent[a.code] = p
            total = cells.setdefault(p, [0.0, 0.0])
            total[0] += cells[a.code][0]
            total[1] += cells[a.code][1]
            files[p] |= files[a.code]
    for a in by_level["gemeente"]:
        if a.code in cells:
            parent.setdefault(a.code, None)

    def shown_value(code: str) -> float | None:
        num, den = cells[code]
        if kind == "count":
            return num
        return num / den * factor if den > 0 else None

    if kind == "count":
        protected = {c: cells[c][0] for c in parent}
        primary = [c for c in parent if rule.is_primary(kind, cells[c][0])]
        suppressed = disclosure.suppress(parent, protected, primary, rule.min_count)
    else:
        # A rate shows two counts of people: the numerator and the complement (cases without the
        # characteristic); both add up over the hierarchy and both are protected. Loss = number of cases.
        protected = {c: (cells[c][0], cells[c][1] - cells[c][0]) for c in parent}
        primary = [c for c in parent if rule.is_primary(kind, shown_value(c), cells[c][1], numerator=cells[c][0])]
        suppressed = disclosure.suppress(parent, protected, primary, rule.min_cases,
                                         cost={c: cells[c][1] for c in parent})
    out = []
    for a in areas:
        reason = suppressed.get(a.code) if a.code in parent else "not_published"
        value = shown_value(a.code) if reason is None else None
        rate = kind == "rate" and reason is None
        out.append({
            "year": year, "area_code": a.code, "area_level": a.level, "gemeente_code": a.gemeente_code,
            "indicator_id": ident, "count_or_rate": kind, "value": value,
            "numerator": cells[a.code][0] if rate else None, "denominator": cells[a.code][1] if rate else None,
            "source_table": ", ".join(sorted(files.get(a.code, set()))) or None, "geography_year": geo_year,
            "missing_reason": reason,
        })
    return out
