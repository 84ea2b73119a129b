"""The page of a wijk or a buurt: every indicator over time against its gemeente and the Netherlands, the
theme summary, series breaks, and the way down (buurten of a wijk) and back up.

Budget: a buurt page has ~33 small charts; with figures as compact JSON and the tables in <details> it stays
well under 300 KB (tests/test_site_build.py checks every page of the demo site).
"""

from __future__ import annotations

from bwm.catalogue import THEMES
from bwm.site import figures, findings
from bwm.site import format as fmt
from bwm.site import stapeling as stapeling_pages
from bwm.site.common import LEVEL_NAMES, MISSING_REASONS, Chart, Table, page_path, remark, source_line
from bwm.site.data import Area, SiteData
from bwm.site.targets import targets_table


def breadcrumbs(data: SiteData, area: Area) -> list[tuple[str, str | None]]:
    """(label, page path or None for the current page), from the index down to ``area``."""
    crumbs: list[tuple[str, str | None]] = [("Alle gemeenten", page_path("index"))]
    gemeente = data.areas.get(area.gemeente_code)
    if gemeente is not None and area.level != "gemeente":
        crumbs.append((gemeente.name, page_path("gemeente", gemeente.code)))
    if area.level == "buurt" and area.wijk_code in data.areas:
        wijk = data.areas[area.wijk_code]
        crumbs.append((wijk.name, page_path("wijk", wijk.code)))
    crumbs.append((area.name, None))
    return crumbs


def _last_valued(points):
    return next((p for p in reversed(points) if p.value is not None), None)


def indicator_chart(data: SiteData, area: Area, ind: dict, reference: Area | None) -> Chart | None:
    """The chart of one indicator for one area against ``reference`` (its gemeente) and the Netherlands."""
    points = data.series(area.code, ind["indicator_id"])
    if not any(p.value is not None for p in points):
        return None
    unit = ind["unit"]
    ref_by_year = ({p.year: p.value for p in data.series(reference.code, ind["indicator_id"])}
                   if reference else {})
    nl_by_year = data.national.get(ind["indicator_id"], {})
    years = sorted({p.year for p in points} | {y for y, v in ref_by_year.items() if v is not None})
    references = []
    if reference is not None:
        references.append((reference.name, ref_by_year, "gemeente"))
    if nl_by_year:
        references.append((data.national_name, nl_by_year, "nl"))
    figure = figures.timeseries(area.name, points, unit, references, years)

    last = _last_valued(points)
    current = figures.segments(points)[-1]
    first = next((p for p in current if p.value is not None), None)
    title = findings.area_title(
        ind["name_nl"], first.year if first else None, first.value if first else None, last.year, last.value,
        ref_by_year.get(last.year) if reference else nl_by_year.get(last.year),
        reference.name if reference else data.national_name, ind["direction"])

    by_year = {p.year: p for p in points}
    banded = any(p.value is not None and p.ci_lower is not None and p.ci_upper is not None for p in points)
    columns = ["Jaar", area.name] + (["95%-onzekerheidsmarge"] if banded else []) + \
        ([reference.name] if reference else []) + \
        ([data.national_name] if nl_by_year else []) + ["Bron (CBS-tabel)", "Opmerking"]
    rows = []
    for y in years:
        p = by_year.get(y)
        row = [str(y), fmt.value(p.value if p else None, unit)]
        if banded:
            row.append(f"{fmt.value(p.ci_lower, unit)} tot {fmt.value(p.ci_upper, unit)}"
                       if p and p.value is not None and p.ci_lower is not None and p.ci_upper is not None else "")
        if reference:
            row.append(fmt.value(ref_by_year.get(y), unit))
        if nl_by_year:
            row.append(fmt.value(nl_by_year.get(y), unit))
        row += [(p.source_table or "") if p else "", remark(p) if p else f"geen {LEVEL_NAMES[area.level]} in {y}"]
        rows.append(row)
    numeric = [False, True] + [True] * (len(columns) - 4) + [False, False]

    note = None
    rank = data.ranks.get((area.code, ind["indicator_id"], last.year))
    if rank and area.level in ("wijk", "buurt"):
        best = "hoogste waarde" if ind["direction"] == "neutral" else "gunstigst"
        plural = "buurten" if area.level == "buurt" else "wijken"
        note = f"Plaats {rank[0]} van {rank[1]} {plural} in de gemeente in {last.year} (1 = {best})."
    if banded:
        band = "De band om de lijn is de 95%-onzekerheidsmarge van de schatting."
        note = f"{band} {note}" if note else band
    return Chart(
        id=f"c-{ind['indicator_id']}", title=title, figure=figure,
        source=source_line(ind["source"], {p.year: p.source_table for p in points}, label=ind["source_label"],
                           computed=[(reference.name, data.series(reference.code, ind["indicator_id"]))]
                           if reference else ()),
        table=Table(caption=f"{ind['name_nl']} per jaar, in {fmt.axis_title(unit)}", columns=columns, rows=rows,
                    numeric=numeric),
        height=300, note=note, print_title=ind["name_nl"])


def factsheet_row(data: SiteData, area: Area, ind: dict, reference: Area | None) -> list[str]:
    """One indicator on the printed factsheet: first and latest value of the current series, how it moved (and
    whether that is favourable), and the latest year's value of the gemeente and of the Netherlands."""
    unit = ind["unit"]
    points = data.series(area.code, ind["indicator_id"])
    current = [p for p in figures.segments(points)[-1] if p.value is not None] if points else []
    last = _last_valued(points)
    first = current[0] if current else None
    moved = findings.change_word(first.value, last.value) if first and first.year != last.year else None
    verdict = findings.judgement(first.value, last.value, ind["direction"]) if moved else None
    ref = {p.year: p.value for p in data.series(reference.code, ind["indicator_id"])} if reference else {}
    nl = data.national.get(ind["indicator_id"], {})

    def against(by_year: dict) -> str:
        v = by_year.get(last.year)
        if fmt.is_missing(v):
            return fmt.MISSING
        word = findings.compare_word(last.value, v)  # short, for a table that fits the width of A4
        short = {"hoger dan": "hoger", "lager dan": "lager", "ongeveer gelijk aan": "≈ gelijk"}.get(word, word)
        return f"{fmt.value(v, unit)} ({short})" if word else fmt.value(v, unit)

    moved_short = "vrijwel gelijk" if moved == "vrijwel gelijk gebleven" else moved
    return [ind["name_nl"], f"{fmt.value(first.value, unit)} ({first.year})" if moved else "",
            f"{fmt.value(last.value, unit)} ({last.year})",
            f"{moved_short} ({verdict})" if verdict else (moved_short or "één jaar"),
            against(ref) if reference else fmt.MISSING, against(nl) if nl else fmt.MISSING]


def factsheet(data: SiteData, area: Area, reference: Area | None, charts: list[tuple[dict, Chart]]) -> dict:
    """The printed page's summary (print only): per charted indicator what changed since the first year of its
    series and how the latest figure compares with the gemeente and the Netherlands, and the sources of them all."""
    rows = [factsheet_row(data, area, ind, reference) for ind, _ in charts]
    ref_name = reference.name if reference else "gemeente"
    table = Table(caption=f"{area.name} in het kort: ontwikkeling sinds het eerste jaar en vergelijking in het "
                          f"laatste jaar (tussen haakjes: {area.name} is hoger, lager of ongeveer gelijk, ≈)",
                  columns=["Indicator", "Eerste jaar", "Laatste jaar", "Ontwikkeling", f"{ref_name}",
                           data.national_name], rows=rows, numeric=[False, True, True, False, True, True])
    sources = list(dict.fromkeys(chart.source for _, chart in charts))
    return {"table": table, "sources": sources}


def single_year_row(data: SiteData, ind: dict, point, reference: Area | None) -> list[str]:
    """An indicator with one year of figures as a row of the compact table: a chart of one dot shows no
    development, and a change needs two years."""
    nl = data.national.get(ind["indicator_id"], {}).get(point.year)
    ref = next((p.value for p in data.series(reference.code, ind["indicator_id"]) if p.year == point.year), None) \
        if reference else None
    source = source_line(ind["source"], {point.year: point.source_table}, label=ind["source_label"])
    return [ind["name_nl"], str(point.year), fmt.value(point.value, ind["unit"]), fmt.value(ref, ind["unit"]),
            fmt.value(nl, ind["unit"]), source]


def single_year_table(data: SiteData, area: Area, reference: Area | None, rows: list[list[str]]) -> Table | None:
    """The compact table of a theme's indicators with only one year of figures (None without any)."""
    if not rows:
        return None
    return Table(caption=f"Indicatoren met cijfers over één jaar: {area.name}"
                         + (f", {reference.name}" if reference else "") + f" en {data.national_name}",
                 columns=["Indicator", "Jaar", area.name, reference.name if reference else "Gemeente",
                          data.national_name, "Bron"],
                 rows=rows, numeric=[False, False, True, True, True, False])


def theme_summary(data: SiteData, code: str) -> Table:
    """The five themes: the latest signal of each in a plain band (a ranking against all areas of the level, not
    a verdict), or why there is none: too few of the theme's indicators have figures in the window."""
    rows = []
    links = []
    for theme in THEMES:
        entries = [e for e in data.themes.get(code, {}).get(theme, []) if e.n_possible]
        name = data.theme_names.get(theme, theme)
        if entries:
            e = entries[-1]
            years = str(e.year) if e.oldest_year in (None, e.year) else f"{e.oldest_year}–{e.year}"
            basis = f"{e.n_indicators} van {e.n_possible} indicatoren"
            rows.append([name, years, findings.theme_signal(e.score, e.coverage_met), basis])
        else:
            rows.append([name, "", fmt.MISSING, "0 indicatoren"])
        links.append([f"#thema-{theme}", None, None, None])
    return Table(caption="De vijf thema's: signaal met de laatste cijfers per indicator",
                 columns=["Thema", "Jaren", "Signaal", "Gebaseerd op"], rows=rows,
                 numeric=[False, False, False, False], links=links)


def area_page(data: SiteData, code: str) -> dict:
    """The template context of the page of wijk or buurt ``code``."""
    area = data.areas[code]
    gemeente = data.areas.get(area.gemeente_code)
    sections = []
    charted: list[tuple[dict, Chart]] = []
    for theme in THEMES:
        charts, without, single = [], [], []
        for ind in (c for c in data.indicators_for(area.gemeente_code) if c["theme"] == theme):
            if area.level not in (ind.get("levels") or ["gemeente", "wijk", "buurt"]):
                continue
            valued = [p for p in data.series(code, ind["indicator_id"]) if p.value is not None]
            if len(valued) == 1:
                single.append(single_year_row(data, ind, valued[0], gemeente))
                continue
            chart = indicator_chart(data, area, ind, gemeente)
            if chart is None:
                reasons = [p.missing_reason for p in data.series(code, ind["indicator_id"]) if p.missing_reason]
                why = max(set(reasons), key=reasons.count) if reasons else "not_published"
                without.append(f"{ind['name_nl']} ({MISSING_REASONS.get(why, why)})")
            else:
                charts.append(chart)
                charted.append((ind, chart))
        sections.append({"id": f"thema-{theme}", "name": data.theme_names.get(theme, theme), "charts": charts,
                         "without": without, "single": single_year_table(data, area, gemeente, single)})

    status = []
    if area.last_year is not None and data.latest_kwb_year and area.last_year < data.latest_kwb_year:
        status.append(f"Deze {area.level} komt na {area.last_year} niet meer voor in de indeling van het CBS; "
                      f"de cijfers lopen tot en met {area.last_year}.")
    if area.first_year and data.first_year and area.first_year > data.first_year:
        status.append(f"Deze {area.level} bestaat in deze indeling sinds {area.first_year}.")
    if not data.national:
        status.append("Het warehouse bevat geen landelijke cijfers; de grafieken vergelijken alleen met de gemeente.")

    children = []
    if area.level == "wijk":
        for b in data.children(code, "buurt"):
            current = b.last_year == data.latest_kwb_year
            children.append({"name": b.name, "code": b.code, "href": page_path("buurt", b.code),
                             "inhabitants": fmt.number(b.inhabitants), "current": current,
                             "years": fmt.year_span(b.years)})
    return {
        "kind": area.level, "area": area, "gemeente": gemeente, "crumbs": breadcrumbs(data, area),
        "title": f"{area.name} ({LEVEL_NAMES[area.level]} in {gemeente.name if gemeente else area.gemeente_code})",
        "inhabitants": fmt.number(area.inhabitants), "status": status, "themes": theme_summary(data, code),
        "sections": sections, "children": children, "factsheet": factsheet(data, area, gemeente, charted),
        "targets": targets_table(data, code),
        "stapeling": stapeling_pages.buurt_section(data, code) if area.level == "buurt" else None,
        "wijk": data.areas.get(area.wijk_code) if area.level == "buurt" else None,
    }
