"""The page of one indicator in one gemeente: definition, source, years, the spread over the buurten
through time, every divide measure with its finding, each buurt's contribution to the change of the gap (and
why the gap changed), and the map with its ranking table."""

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
    label = {}
    if trend:
        label = {"label": findings.TREND_PHRASES.get(trend["label"], trend["label"]),
                 "label_class": findings.TREND_CLASSES.get(trend["label"], "trend-none"),
                 "label_note": findings.trend_note(trend["label"], trend.get("label_reason"),
                                                   trend.get("interval_method"))}
    return Chart(id=f"s-{iid}", title=title, figure=figures.spread_chart(rows, unit, gemeente.name),
                 source=source_line(ind["source"], tables, processed=True, label=ind["source_label"]), table=table,
                 height=340, **label)


#: At most this many buurten each way (widening, narrowing) get a bar; the table has every buurt.
N_BARS = 12


def contributions(data: SiteData, code: str, ind: dict) -> Chart | None:
    """Each buurt's contribution to the change of the gap from the base year to the latest year (divide.contributions
    of the buurten in both years, and one bar for the buurten in only one of the two years together), sorted, as a
    bar chart; the table has every buurt in both years, a buurt without a value as "geen gegevens" (not 0)."""
    iid, unit = ind["indicator_id"], ind["unit"]
    rows = data.contributions.get((code, iid))
    dec = data.decomposition.get((code, iid))
    if not rows or not dec or dec["base_year"] == dec["latest_year"]:
        return None
    base, latest = dec["base_year"], dec["latest_year"]
    common = [r for r in rows if r["year"] == latest and r["status"] == "common"]
    names = [data.areas[r["area_code"]].name if r["area_code"] in data.areas else r["area_code"] for r in common]
    named = [(f"{n} ({r['area_code']})" if names.count(n) > 1 else n, r) for n, r in zip(names, common)]
    valued = sorted(((n, r) for n, r in named if not fmt.is_missing(r["contribution"])),
                    key=lambda nr: (-nr[1]["contribution"], nr[0]))
    other = dec.get("boundary_contribution")
    other_name = "nieuwe en verdwenen buurten (samen)"
    bars = [(n, r["contribution"]) for n, r in valued if abs(r["contribution"]) > 1e-9]
    bars = [b for b in bars if b[1] > 0][:N_BARS] + [b for b in bars if b[1] < 0][-N_BARS:]
    total = dec.get("total_change")
    # the title names a buurt in both years: the combined term of the others is bookkeeping, not one buurt's part
    driver = (bars[0] if bars and bars[0][1] > 0 else None) if not fmt.is_missing(total) and total > 0 else \
        (bars[-1] if bars and bars[-1][1] < 0 else None)
    if driver is None or fmt.is_missing(total) or total == 0:
        title = f"Wat elke buurt sinds {base} bijdroeg aan de verandering van de kloof"
    else:
        title = findings.contribution_title(driver[0], total > 0, base)
    if not fmt.is_missing(other) and abs(other) > 1e-9:
        bars.append((other_name, other))
        bars.sort(key=lambda b: -b[1])
    if not bars:
        return None
    gap_unit = "procentpunt" if unit == "pct" else fmt.axis_title(unit)
    table_rows = [[n, fmt.difference(r["contribution"], unit), fmt.value(r["value_base"], unit),
                   fmt.value(r["value"], unit)] for n, r in valued]
    table_rows += [[n, fmt.MISSING, fmt.value(r["value_base"], unit), fmt.value(r["value"], unit)]
                   for n, r in named if fmt.is_missing(r["contribution"])]
    if not fmt.is_missing(other):
        table_rows.append([other_name, fmt.difference(other, unit), "", ""])
    table_rows.append(["Verandering van de kloof", fmt.difference(total, unit), fmt.measure(dec["base_value"], "gap",
                       unit), fmt.measure(dec["latest_value"], "gap", unit)])
    shown = len([b for b in bars if b[0] != other_name])
    n_zero = sum(1 for _, r in valued if abs(r["contribution"]) <= 1e-9)
    note = ("Oranje maakte de kloof groter, blauw (gearceerd) kleiner. Een buurt draagt bij door haar aandeel in het "
            "gemiddelde van de 20% slechtst of best scorende buurten.")
    if n_zero:
        note += f" {n_zero} buurten lagen in beide jaren buiten die groepen (bijdrage 0) en staan alleen in de tabel."
    if shown < len(valued) - n_zero:
        note += f" De grafiek toont de {N_BARS} grootste bijdragen naar elke kant; de tabel alle buurten."
    if not fmt.is_missing(other):
        note += (" Met de bijdrage van de nieuwe en verdwenen buurten samen is het de hele verandering van de kloof; "
                 "wat de veranderde buurtindeling zelf deed, zegt de zin boven de grafiek.")
    tables = {r["year"]: r.get("source_table") for r in data.measures.get((code, "buurt", iid), [])
              if r["year"] in (base, latest)}
    return Chart(
        id=f"b-{iid}", title=title,
        figure=figures.contributions_chart([b[0] for b in bars], [b[1] for b in bars], gap_unit,
                                           "%{x:,.1f} procentpunt" if unit == "pct" else
                                           fmt.hover_format(unit).replace("%{y", "%{x"), fmt.tick_format(unit)),
        source=source_line(ind["source"], tables or {base: None, latest: None}, processed=True,
                           label=ind["source_label"]),
        table=Table(caption=f"Bijdrage van elke buurt aan de verandering van de kloof van {base} tot {latest}",
                    columns=["Buurt", "Bijdrage", f"Waarde {base}", f"Waarde {latest}"], rows=table_rows,
                    numeric=[False, True, True, True]),
        height=300 if len(bars) <= 6 else (420 if len(bars) <= 14 else 560), note=note)


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


def decomposition_table(data: SiteData, code: str, ind: dict) -> Table | None:
    """Why each divide measure changed (publish.divide_decomposition over buurten): the change from the base year
    to the latest year, split exactly into what the buurten's values did, what moving residents did (values held),
    and what the changed buurtindeling did. The parts add up to the change."""
    rows_by_measure = data.decomposition_by_measure.get((code, ind["indicator_id"]), {})
    unit = ind["unit"]
    rows = []
    for m in registry.NAMES:
        r = rows_by_measure.get(m)
        if r is None:
            continue
        rows.append([registry.label_nl(m, capitalised=True), f"{r['base_year']}–{r['latest_year']}",
                     *(fmt.measure_change(r[c], m, unit)
                       for c in ("total_change", "value_effect", "population_effect", "boundary_effect"))])
    if not rows:
        return None
    return Table(caption="Waarom veranderden de maten? De verandering sinds het eerste jaar, in drie delen die samen "
                         "de verandering zijn (over de buurten)",
                 columns=["Maat", "Jaren", "Verandering", "door de waarden van de buurten",
                          "door verhuizingen (waarden gelijk)", "door een andere buurtindeling"],
                 rows=rows, numeric=[False, False, True, True, True, True])


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
        # a caption of its own: the section around it is "Jaren en bronnen", and two landmarks of one name confuse a
        # screen reader's list of regions (axe: landmark-unique)
        caption=f"De bron van elk jaar: {ind['name_nl'][:1].lower()}{ind['name_nl'][1:]} in {data.areas[code].name}",
        columns=["Jaar", "CBS-tabel of bestand", "Titel"],
        rows=[[str(y), t, titles.get(t, "")] for y, t in sorted(table_by_year.items())], numeric=[False] * 3)
    year = maps.latest_year(data, code, indicator_id)
    map_fig = ranking = None
    map_source = ""
    if year is not None:
        rows = maps.buurt_values(data, code, ind, year)
        map_fig = maps.map_for(data, code, ind, year, rows)
        ranking = maps.ranking_table(ind, year, rows)
        map_source = source_line(ind["source"], {year: table_by_year.get(year)}, label=ind["source_label"])
    spread_chart = spread(data, code, ind)  # one year: a table, as a chart of one year shows no spread over time
    return {
        "kind": "indicator", "indicator": ind, "gemeente": gemeente,
        "title": f"{ind['name_nl']} in {gemeente.name}",
        "crumbs": [("Alle gemeenten", page_path("index")), (gemeente.name, page_path("gemeente", code)),
                   (ind["name_nl"], None)],
        "direction": DIRECTION_TEXT.get(ind["direction"], ind["direction"]), "unit": fmt.axis_title(ind["unit"]),
        "source": {"health": HEALTH_SOURCE, "kwb": KWB_SOURCE}.get(ind["source"], ind["source_label"]),
        "years": fmt.year_list(ind["years"]), "years_table": years_table, "spread": spread_chart,
        "spread_single": spread_chart is not None and len(spread_chart.table.rows) == 1,
        "measures": measures_table(data, code, ind), "contributions": contributions(data, code, ind),
        "decomposition": findings.decomposition_sentence(data.decomposition.get((code, indicator_id)), indicator_id),
        "decomposition_table": decomposition_table(data, code, ind),
        "map_year": year, "map_figure": map_fig,
        "map_source": map_source, "ranking": ranking,
    }
