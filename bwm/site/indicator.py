"""The page of one indicator in one gemeente: definition, source, years, the spread over the buurten
through time, every divide measure with its finding, and the map with its ranking table."""

from __future__ import annotations

from bwm.divide import registry
from bwm.site import figures, findings, maps
from bwm.site import format as fmt
from bwm.site.common import DIRECTION_TEXT, HEALTH_SOURCE, KWB_SOURCE, Chart, Table, page_path, source_line
from bwm.site.data import SiteData


def spread(data: SiteData, code: str, ind: dict) -> Chart | None:
    gemeente = data.areas[code]
    iid, unit = ind["indicator_id"], ind["unit"]
    buurten = data.in_gemeente(code, "buurt")
    per_year: dict[int, list[float]] = {}
    tables: dict[int, str | None] = {}
    for b in buurten:
        for p in data.series(b.code, iid):
            if p.value is not None:
                per_year.setdefault(p.year, []).append(p.value)
                tables.setdefault(p.year, p.source_table)
    if not per_year:
        return None
    measures = {r["year"]: r for r in data.measures.get((code, "buurt", iid), [])}
    gem = {p.year: p.value for p in data.series(code, iid)}
    rows = [{"year": y, "min": min(v), "max": max(v), "worst20": measures.get(y, {}).get("worst20_mean"),
             "best20": measures.get(y, {}).get("best20_mean"), "gemeente": gem.get(y),
             "gap": measures.get(y, {}).get("gap"), "n": len(v)}
            for y, v in sorted(per_year.items())]
    trend = data.trends.get((code, "buurt", iid, "gap"))
    subject = findings.divide_subject(iid, ind["name_nl"], "gap", "buurt")
    title = findings.divide_title(subject, trend["label"] if trend else None, trend["first_year"] if trend else None)
    table = Table(
        caption=f"Spreiding van {ind['name_nl'][:1].lower()}{ind['name_nl'][1:]} over de buurten van {gemeente.name}",
        columns=["Jaar", "Laagste buurt", "Gemiddelde 20% slechtst", gemeente.name, "Gemiddelde 20% best",
                 "Hoogste buurt", "Kloof", "Buurten met cijfer"],
        rows=[[str(r["year"]), fmt.value(r["min"], unit), fmt.value(r["worst20"], unit), fmt.value(r["gemeente"], unit),
               fmt.value(r["best20"], unit), fmt.value(r["max"], unit), fmt.measure(r["gap"], "gap", unit), str(r["n"])]
              for r in rows],
        numeric=[False] + [True] * 7)
    return Chart(id=f"s-{iid}", title=title, figure=figures.spread_chart(rows, unit, gemeente.name),
                 source=source_line(ind["source"], tables, processed=True, label=ind["source_label"]), table=table,
                 height=340)


def measures_table(data: SiteData, code: str, ind: dict) -> Table | None:
    rows = []
    for level in ("buurt", "wijk"):
        for m in registry.TRENDED:
            t = data.trends.get((code, level, ind["indicator_id"], m))
            if t is None:
                continue
            rows.append([registry.label_nl(m, capitalised=True),
                         "buurten" if level == "buurt" else "wijken",
                         f"{fmt.measure(t['first_value'], m, ind['unit'])} ({t['first_year']})",
                         f"{fmt.measure(t['last_value'], m, ind['unit'])} ({t['last_year']})",
                         findings.TREND_PHRASES.get(t["label"], t["label"])])
    if not rows:
        return None
    return Table(caption="Alle maten voor de verschillen tussen buurten en tussen wijken",
                 columns=["Maat", "Over", "Eerste jaar", "Laatste jaar", "Conclusie"], rows=rows,
                 numeric=[False, False, True, True, False])


def indicator_page(data: SiteData, code: str, indicator_id: str) -> dict:
    gemeente = data.areas[code]
    ind = data.indicators[indicator_id]
    points = data.series(code, indicator_id)
    buurt_points = [p for a in data.in_gemeente(code, "buurt") for p in data.series(a.code, indicator_id)]
    table_by_year: dict[int, str] = {}
    for p in points + buurt_points:
        if p.source_table:
            table_by_year.setdefault(p.year, p.source_table)
    titles = data.table_titles()
    years_table = Table(
        caption="Jaren en bronnen", columns=["Jaar", "CBS-tabel of bestand", "Titel"],
        rows=[[str(y), t, titles.get(t, "")] for y, t in sorted(table_by_year.items())], numeric=[False] * 3)
    year = maps.latest_year(data, code, indicator_id)
    map_fig = ranking = None
    map_source = ""
    if year is not None:
        rows = maps.buurt_values(data, code, ind, year)
        map_fig = maps.map_for(data, code, ind, year, rows)
        ranking = maps.ranking_table(ind, year, rows)
        map_source = source_line(ind["source"], {year: table_by_year.get(year)}, label=ind["source_label"])
    return {
        "kind": "indicator", "indicator": ind, "gemeente": gemeente,
        "title": f"{ind['name_nl']} in {gemeente.name}",
        "crumbs": [("Alle gemeenten", page_path("index")), (gemeente.name, page_path("gemeente", code)),
                   (ind["name_nl"], None)],
        "direction": DIRECTION_TEXT.get(ind["direction"], ind["direction"]), "unit": fmt.axis_title(ind["unit"]),
        "source": {"health": HEALTH_SOURCE, "kwb": KWB_SOURCE}.get(ind["source"], ind["source_label"]),
        "years": fmt.year_list(ind["years"]), "years_table": years_table, "spread": spread(data, code, ind),
        "measures": measures_table(data, code, ind), "map_year": year, "map_figure": map_fig,
        "map_source": map_source, "ranking": ranking,
    }
