"""Choropleth maps of a gemeente's buurten and their ranking tables.

The shapes come from ``<mirror>/geo/<year>/buurten.geojson`` for the year shown (bwm.geo), simplified for
the screen (Douglas-Peucker, ~7 m) so a map of a city's buurten weighs tens of kilobytes, not hundreds.
When the mirror has no boundaries for that year the page says "geen kaart beschikbaar" and still shows the
ranking table, which is the map's text alternative.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bwm import geo
from bwm.site import figures
from bwm.site import format as fmt
from bwm.site.common import Table, page_path
from bwm.site.data import SiteData

#: Douglas-Peucker tolerance in degrees (~7 m north-south, ~5 m east-west at 52°N).
SIMPLIFY_DEGREES = 0.00007


@lru_cache(maxsize=64)
def _year_shapes(mirror_dir: Path | None, year: int):
    """The buurt shapes of a year grouped by gemeente: {gemeente_code: [(code, shape), ...]} (file order)."""
    if mirror_dir is None:
        return None
    shapes = geo.shapes(mirror_dir, year, "buurt")
    if shapes is None:
        return None
    by_gemeente: dict[str, list] = {}
    for code, shape in shapes.items():
        by_gemeente.setdefault(geo.gemeente_of(code), []).append((code, shape))
    return by_gemeente


def outlines(data: SiteData, gemeente_code: str, year: int) -> list[tuple[str, str, list, list]] | None:
    """(code, name, xs, ys) of the gemeente's buurten in ``year``, largest first (so enclosed buurten are
    drawn on top); None when the mirror holds no buurt boundaries for that year."""
    shapes = _year_shapes(data.mirror_dir, year)
    if shapes is None:
        return None
    out = []
    for code, shape in shapes.get(gemeente_code, []):
        area = data.areas.get(code)
        name = area.name if area else (shape.name or code)
        xs, ys = figures.outline(shape.polygons, lambda r: geo.simplify_ring(r, SIMPLIFY_DEGREES))
        out.append((code, name, xs, ys, _extent(xs, ys)))
    out.sort(key=lambda o: -o[4])
    return [o[:4] for o in out] or None


def _extent(xs, ys) -> float:
    x = [v for v in xs if v is not None]
    y = [v for v in ys if v is not None]
    return (max(x) - min(x)) * (max(y) - min(y)) if x else 0.0


def latest_year(data: SiteData, gemeente_code: str, indicator_id: str) -> int | None:
    """The latest year with a value for any buurt of the gemeente."""
    years = [p.year for a in data.in_gemeente(gemeente_code, "buurt")
             for p in data.series(a.code, indicator_id) if p.value is not None]
    return max(years) if years else None


#: Buurten with fewer inhabitants than this are flagged in a ranking of a share or rate from CBS counts: CBS
#: rounds those counts to tens, so 4 benefits among 140 inhabitants read as 0 (a "0,0 per 1.000" at rank 1).
SMALL_BUURT = 1000


def rounded_counts(ind: dict) -> bool:
    """Whether the indicator is a share or rate of the KWB, whose counts CBS rounds to tens."""
    return ind["source"] == "kwb" and ind["unit"] in ("pct", "per_1000")


#: The unit of a change in the ranking's column header (the cells carry only the signed number).
CHANGE_UNITS = {"eur": "€", "pct": "procentpunt", "per_1000": "per 1.000", "km": "km"}


def _change(points, year: int, unit: str) -> tuple[str, int | None]:
    """The change of the buurt's unbroken series from its first year to ``year`` as a signed Dutch number
    without its unit (the column header has it), and that first year; ('', None) with one year only."""
    current = next((seg for seg in figures.segments(points) if any(p.year == year for p in seg)), [])
    valued = [p for p in current if p.value is not None and p.year <= year]
    if len(valued) < 2 or valued[-1].year != year:
        return "", None
    d = valued[-1].value - valued[0].value
    decimals = fmt.UNIT_DECIMALS.get(unit, 1)
    if round(abs(d), decimals) == 0:
        return "0", valued[0].year
    return f"{'+' if d > 0 else '-'}{fmt.number(abs(d), decimals)}", valued[0].year


def change_since(rows: list[dict]) -> int | None:
    """The first year most buurten' changes start from (the column header names it; other years are named in
    the cell)."""
    years = [r["since"] for r in rows if r["since"] is not None]
    return max(set(years), key=lambda y: (years.count(y), -y)) if years else None


def change_cell(r: dict, since: int | None) -> str:
    if not r["change"]:
        return ""
    return r["change"] if r["since"] == since else f"{r['change']} (sinds {r['since']})"


def change_header(ind: dict, since: int | None) -> str:
    unit = CHANGE_UNITS.get(ind["unit"], fmt.axis_title(ind["unit"]))
    return f"Verandering sinds {since} ({unit})" if since else f"Verandering ({unit})"


def buurt_values(data: SiteData, gemeente_code: str, ind: dict, year: int) -> list[dict]:
    """Every buurt of the gemeente with a row in ``year`` (value or missing), ranked (1 = best-off), with its
    change since the first year of its unbroken series, whether its rank is shared, and whether it is small
    (fewer than SMALL_BUURT inhabitants) for an indicator from rounded counts."""
    out = []
    rounded = rounded_counts(ind)
    for area in data.in_gemeente(gemeente_code, "buurt"):
        points = data.series(area.code, ind["indicator_id"])
        point = next((p for p in points if p.year == year), None)
        if point is None:
            continue
        rank = data.ranks.get((area.code, ind["indicator_id"], year))
        wijk = data.areas.get(area.wijk_code)
        out.append({"code": area.code, "name": area.name, "wijk": wijk.name if wijk else "",
                    "wijk_code": wijk.code if wijk else None, "inhabitants": area.inhabitants,
                    "value": point.value, "shown": fmt.value(point.value, ind["unit"]),
                    "rank": rank[0] if rank else None,
                    "small": rounded and point.value is not None and area.inhabitants is not None
                    and area.inhabitants < SMALL_BUURT})
        out[-1]["change"], out[-1]["since"] = _change(points, year, ind["unit"])
    ranks = [r["rank"] for r in out if r["rank"]]
    for r in out:
        r["shared"] = r["rank"] is not None and ranks.count(r["rank"]) > 1
    out.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"]))
    return out


def rank_text(r: dict) -> str:
    """'3', '1 (gedeeld)' for a rank several buurten share, or '–' without one."""
    if not r["rank"]:
        return "–"
    return f"{r['rank']} (gedeeld)" if r["shared"] else str(r["rank"])


def ranking_note(ind: dict) -> str:
    """The note under a ranking: shared ranks, and for rounded counts the marker of small buurten."""
    note = "Buurten met dezelfde waarde delen een rang (gedeeld)."
    if rounded_counts(ind):
        note += (f" * Buurt met minder dan {fmt.number(SMALL_BUURT)} inwoners: het CBS rondt de aantallen af op "
                 "tientallen, dus bij weinig inwoners zegt dit cijfer weinig (een paar personen kunnen als 0 "
                 "tellen).")
    return note


def ranking_table(ind: dict, year: int, rows: list[dict]) -> Table:
    """The buurten ranked on one indicator (1 = best-off) with their change since the first year; the text
    alternative of the map, sortable (site.js shows the best and worst 10 first, with "toon alle")."""
    best = "hoogste waarde" if ind["direction"] == "neutral" else "gunstigst"
    since = change_since(rows)
    return Table(
        caption=f"Buurten op {ind['name_nl'][:1].lower()}{ind['name_nl'][1:]}, {year} (rang 1 = {best})",
        columns=["Rang", "Buurt", "Wijk", "Inwoners", f"Waarde ({fmt.axis_title(ind['unit'])})",
                 change_header(ind, since)],
        rows=[[rank_text(r), r["name"], r["wijk"], fmt.number(r["inhabitants"]),
               r["shown"] + (" *" if r["small"] else ""), change_cell(r, since)] for r in rows],
        numeric=[True, False, False, True, True, True], row_header=False,
        links=[[None, page_path("buurt", r["code"]), page_path("wijk", r["wijk_code"]) if r["wijk_code"] else None,
                None, None, None] for r in rows])


def dark_is_low(ind: dict) -> bool:
    """Map colour follows favourability: darker is less favourable, so for an indicator where higher is better
    (income) the lowest values are darkest; for higher-is-worse (poverty) and neutral ones, the highest."""
    return ind["direction"] == "higher_is_better"


def colour_legend(ind: dict) -> str:
    """What the map's colour means, in one sentence."""
    if ind["direction"] == "neutral":
        return "Kleur: lichter is een lagere waarde, donkerder een hogere (geen oordeel); grijs is geen gegevens."
    low = "lager" if ind["direction"] == "higher_is_better" else "hoger"
    return f"Kleur: donkerder is ongunstiger (bij deze indicator: {low}), lichter gunstiger; grijs is geen gegevens."


def map_for(data: SiteData, gemeente_code: str, ind: dict, year: int, rows: list[dict]) -> dict | None:
    """The map figure of one indicator and year, or None without boundaries."""
    shapes = outlines(data, gemeente_code, year)
    if shapes is None:
        return None
    values = {r["code"]: (r["value"], r["shown"]) for r in rows}
    return figures.map_figure(shapes, values, ind["unit"], fmt.axis_title(ind["unit"]), dark_is_low(ind))


def switchable_map(data: SiteData, gemeente_code: str, indicators: list[dict]) -> dict:
    """The gemeente page's map: one figure per boundary year, and per indicator the colours and table rows.

    The page recolours the drawn shapes when the reader picks another indicator (site.js), so the shapes
    travel once per year, not once per indicator.
    """
    figs: dict[str, dict | None] = {}
    per_indicator = {}
    areas = {}
    for ind in indicators:
        year = latest_year(data, gemeente_code, ind["indicator_id"])
        if year is None:
            continue
        rows = buurt_values(data, gemeente_code, ind, year)
        if str(year) not in figs:
            figs[str(year)] = map_for(data, gemeente_code, ind, year, rows)
        since = change_since(rows)
        nums = [r["value"] for r in rows if r["value"] is not None]
        lo, hi = (min(nums), max(nums)) if nums else (None, None)
        for r in rows:
            areas.setdefault(r["code"], [r["name"], r["wijk"], r["wijk_code"], fmt.number(r["inhabitants"]),
                                         r["inhabitants"]])
        per_indicator[ind["indicator_id"]] = {
            "year": year, "name": ind["name_nl"], "unit": fmt.axis_title(ind["unit"]),
            "best": "hoogste waarde" if ind["direction"] == "neutral" else "gunstigst",
            "lo": lo, "hi": hi, "reverse": dark_is_low(ind), "legend": colour_legend(ind), "note": ranking_note(ind),
            "rounded": rounded_counts(ind), "small": SMALL_BUURT, "change": change_header(ind, since),
            "since": since,
            # per buurt: code, value, value shown, rank, colour, change (signed number), its first year (0: since)
            "rows": [[r["code"], None if r["value"] is None else round(r["value"], 4), r["shown"], r["rank"],
                      figures.colour(r["value"], lo, hi, dark_is_low(ind)), r["change"],
                      0 if r["since"] in (None, since) else r["since"]] for r in rows],
        }
    return {"figures": figs, "indicators": per_indicator, "areas": areas, "colorscale": figures.colorscale()}
