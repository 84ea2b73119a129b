"""The gemeente overview: the five themes at a glance, the divide over time with a title that states the
finding (and its interval as a band), where the divide grows (the buurten that fell behind and caught up most,
who entered or left the worst-off 20%, and why the gap changed), a map per indicator over the buurten, a sortable
ranking table, and the way to every wijk."""

from __future__ import annotations

from bwm import herindelingen
from bwm.catalogue import THEMES
from bwm.divide import registry
from bwm.divide.build import CONCENTRATION_INDICATOR, DISSIMILARITY_INDICATOR
from bwm.site import findings, maps
from bwm.site import format as fmt
from bwm.site import stapeling as stapeling_pages
from bwm.site.common import Chart, Table, page_path, source_line
from bwm.site.data import SiteData
from bwm.site.figures import group_changes_chart, measure_chart, small_multiples
from bwm.site.targets import targets_table

DEFAULT_MAP_INDICATOR = "inkomen_per_inwoner"
INCOME = "inkomen_per_inwoner"
TREND_ICON = {"gestegen": "▲", "gedaald": "▼", "vrijwel gelijk gebleven": "="}
#: The indicators "Waar groeit de kloof?" is about: those of the divide charts (income, low income, social minimum).
GROWTH_INDICATORS = (INCOME, DISSIMILARITY_INDICATOR, CONCENTRATION_INDICATOR)
#: How many buurten each side (fell behind most, caught up most) get a small chart.
N_MULTIPLES = 3


def glance(data: SiteData, code: str) -> list[dict]:
    """Per theme, a table: each indicator's latest value, its development, and the Netherlands."""
    out = []
    has_nl = bool(data.national)
    for theme in THEMES:
        rows, links = [], []
        counts = {"gunstig": 0, "ongunstig": 0, "anders": 0, "een_jaar": 0}
        first_years = set()
        for ind in (c for c in data.indicators_for(code) if c["theme"] == theme):
            points = [p for p in data.series(code, ind["indicator_id"]) if p.value is not None]
            href = page_path("indicator", f"{code}/{ind['indicator_id']}")
            if not points:
                rows.append([ind["name_nl"], "", fmt.MISSING, "", "", ""])
                links.append([href, None, None, None, None, None])
                continue
            first, last = points[0], points[-1]
            first_years.add(first.year)
            word = findings.change_word(first.value, last.value)
            verdict = findings.judgement(first.value, last.value, ind["direction"])
            counts["een_jaar" if len(points) < 2 else (verdict or "anders")] += 1
            development = (f"{TREND_ICON.get(word, '')} {word} sinds {first.year}"
                           + (f" ({verdict})" if verdict else "")) if word and first.year != last.year else "één jaar"
            nl = data.national.get(ind["indicator_id"], {}).get(last.year)
            if nl is None:
                nl_text, against = "geen landelijk cijfer", ""
            else:
                nl_text = fmt.value(nl, ind["unit"])
                word = findings.compare_word(last.value, nl)
                against = "ongeveer gelijk" if word == "ongeveer gelijk aan" else \
                    f"{fmt.difference(abs(last.value - nl), ind['unit']).lstrip('+')} {word.split()[0]}"
            rows.append([ind["name_nl"], str(last.year), fmt.value(last.value, ind["unit"]), development.strip(),
                         nl_text, against])
            links.append([href, None, None, None, None, None])
        out.append({"id": f"thema-{theme}", "name": data.theme_names.get(theme, theme), "counts": counts,
                    "table": Table(
            caption=f"{data.theme_names.get(theme, theme)}: laatste cijfer, ontwikkeling en Nederland",
            columns=["Indicator", "Jaar", "Waarde", "Ontwikkeling", data.national_name if has_nl else "Nederland",
                     "Verschil met Nederland"],
            rows=rows, numeric=[False, False, True, False, True, False], links=links)})
    return out


def _measure_rows(data: SiteData, code: str, level: str, indicator_id: str):
    return data.measures.get((code, level, indicator_id), [])


def divide_charts(data: SiteData, code: str) -> list[Chart]:
    """The divide over time for income (gap, Theil), low income (dissimilarity) and the social minimum
    (concentration); each title is the finding of divide.trends for that measure over buurten."""
    inds = data.indicators
    charts = []
    specs = [
        (INCOME, "gap", [("buurt", "tussen buurten", "main"), ("wijk", "tussen wijken", "second")]),
        (INCOME, "theil", None),
        (DISSIMILARITY_INDICATOR, "dissimilarity", [("buurt", "tussen buurten", "main")]),
        (CONCENTRATION_INDICATOR, "concentration_share_pct", [("buurt", "in buurten", "main")]),
    ]
    for indicator_id, measure, lines in specs:
        ind = inds.get(indicator_id)
        rows = _measure_rows(data, code, "buurt", indicator_id)
        if ind is None or len({r["year"] for r in rows}) < 2:  # one year: the divide table says it, no one-dot chart
            continue
        unit = ind["unit"]
        if measure == "theil":
            key_measure = "theil_total"
            series = [("tussen wijken", [r["year"] for r in rows], [r["theil_between"] for r in rows], "main"),
                      ("binnen wijken", [r["year"] for r in rows], [r["theil_within"] for r in rows], "second")]
            if all(v is None for _, _, vs, _ in series for v in vs):
                continue
            figure = measure_chart(series, "Theil-index", "%{y:.4f}", stacked=True, total=(
                "Theil-index totaal", [r["year"] for r in rows], [r["theil_total"] for r in rows],
                [r.get("theil_total_ci_low") for r in rows], [r.get("theil_total_ci_high") for r in rows]))
            methods = {r.get("interval_method") for r in rows if r.get("theil_total_ci_low") is not None}
            columns = ["Jaar", "Theil-index totaal", "tussen wijken", "binnen wijken"]
            table_rows = [[str(r["year"]), fmt.measure(r["theil_total"], "theil_total", unit),
                           fmt.measure(r["theil_between"], "theil_between", unit),
                           fmt.measure(r["theil_within"], "theil_within", unit)] for r in rows]
            caption = "Theil-index van het inkomen per inwoner, opgesplitst in tussen en binnen wijken"
        else:
            key_measure = measure
            series, intervals, methods = [], [], set()
            for level, label, style in lines:
                lrows = _measure_rows(data, code, level, indicator_id)
                series.append((label, [r["year"] for r in lrows], [r[measure] for r in lrows], style))
                intervals.append(([r.get(f"{measure}_ci_low") for r in lrows],
                                  [r.get(f"{measure}_ci_high") for r in lrows]))
                methods |= {r.get("interval_method") for r in lrows if r.get(f"{measure}_ci_low") is not None}
            if all(v is None for _, _, vs, _ in series for v in vs):
                continue
            if measure == "gap":
                unit_title = "procentpunt" if unit == "pct" else fmt.axis_title(unit)
                hover = "%{y:,.1f} procentpunt" if unit == "pct" else fmt.hover_format(unit)
            elif measure == "concentration_share_pct":
                unit_title, hover = "procent van de inwoners (%)", "%{y:,.1f}%"
            else:
                # on two lines: in one, the vertical title is longer than the plot is high and is cut off
                unit_title, hover = "index: 0 = gelijk verdeeld,\n1 = volledig gescheiden", "%{y:.3f}"
            figure = measure_chart(series, unit_title, hover, intervals=intervals,
                                   tickformat=fmt.tick_format(unit) if measure == "gap" else None)
            by_level = {lvl: {r["year"]: r for r in _measure_rows(data, code, lvl, indicator_id)}
                        for lvl, _, _ in lines}
            years = sorted({y for m in by_level.values() for y in m})
            columns = ["Jaar"] + [f"{registry.label_nl(measure)} {label}" for _, label, _ in lines]
            if measure == "gap":
                columns = ["Jaar", "20% slechtst (buurten)", "20% best (buurten)"] + columns[1:]
            table_rows = []
            for y in years:
                row = [str(y)]
                if measure == "gap":
                    b = by_level["buurt"].get(y, {})
                    row += [fmt.value(b.get("worst20_mean"), unit), fmt.value(b.get("best20_mean"), unit)]
                row += [fmt.measure(by_level[lvl].get(y, {}).get(measure), measure, unit) for lvl, _, _ in lines]
                table_rows.append(row)
            caption = f"{registry.label_nl(measure, capitalised=True)}: " \
                      f"{ind['name_nl'][:1].lower()}{ind['name_nl'][1:]}"
        trend = data.trends.get((code, "buurt", indicator_id, key_measure))
        subject = findings.divide_subject(indicator_id, ind["name_nl"], key_measure, "buurt")
        title = findings.divide_title(subject, trend["label"] if trend else None,
                                      trend["first_year"] if trend else None)
        note = " ".join(findings.INTERVAL_NOTES[m] if measure != "theil" else
                        findings.INTERVAL_NOTES[m].replace("De band om de lijn", "Het streepje om het totaal")
                        for m in sorted(m for m in methods if m in findings.INTERVAL_NOTES)) or None
        charts.append(Chart(
            id=f"d-{indicator_id}-{measure}", title=title, figure=figure,
            source=source_line(ind["source"], {r["year"]: r.get("source_table") for r in rows}, processed=True,
                               label=ind["source_label"]),
            table=Table(caption=caption, columns=columns, rows=table_rows,
                        numeric=[False] + [True] * (len(columns) - 1)),
            height=320, note=note, **trend_label(trend)))
    return charts


def trend_label(trend: dict | None) -> dict:
    """The label of a divide trend under a chart's title, its class (grey: no clear change) and why."""
    if not trend:
        return {}
    return {"label": findings.TREND_PHRASES.get(trend["label"], trend["label"]),
            "label_class": findings.TREND_CLASSES.get(trend["label"], "trend-none"),
            "label_note": findings.trend_note(trend["label"], trend.get("label_reason"), trend.get("interval_method"))}


def _growth_source(data: SiteData, code: str, ind: dict, years) -> str:
    """The source line of a chart of where the divide grows: the tables of the years it covers."""
    tables = {r["year"]: r.get("source_table") for r in data.measures.get((code, "buurt", ind["indicator_id"]), [])
              if r["year"] in years}
    return source_line(ind["source"], tables or {y: None for y in years}, processed=True, label=ind["source_label"])


def _name(data: SiteData, code: str) -> str:
    area = data.areas.get(code)
    return area.name if area else code


def behind_and_ahead(rows: list[dict], latest: int, direction: str, n: int = N_MULTIPLES) -> tuple[list, list]:
    """The buurten that fell behind the gemeente most and caught up most from the base year to ``latest``: the
    latest year's rows of divide.contributions of buurten in both years (an unbroken series) with a value
    change against the gemeente's, ``n`` each, the largest first. Falling behind is developing less favourably
    than the gemeente (for a higher-is-worse indicator: its value rose more, or fell less); a neutral indicator
    counts a rise as catching up."""
    common = [r for r in rows if r["year"] == latest and r["status"] == "common"
              and not fmt.is_missing(r.get("change_vs_gemeente"))]
    sign = -1 if direction == "higher_is_worse" else 1
    behind = sorted((r for r in common if sign * r["change_vs_gemeente"] < 0),
                    key=lambda r: (sign * r["change_vs_gemeente"], r["area_code"]))
    ahead = sorted((r for r in common if sign * r["change_vs_gemeente"] > 0),
                   key=lambda r: (-sign * r["change_vs_gemeente"], r["area_code"]))
    return behind[:n], ahead[:n]


def _multiples_chart(data: SiteData, code: str, ind: dict, rows: list[dict], base: int, latest: int) -> Chart | None:
    iid, unit = ind["indicator_id"], ind["unit"]
    behind, ahead = behind_and_ahead(rows, latest, ind["direction"])
    if not behind and not ahead:
        return None
    years = sorted({r["year"] for r in rows if base <= r["year"] <= latest})
    gemeente = {p.year: p.value for p in data.series(code, iid)}
    by_area: dict[str, dict[int, float | None]] = {}
    for r in rows:  # the buurt's own unbroken series: only the years it is in with the base year
        if r["status"] == "common":
            by_area.setdefault(r["area_code"], {})[r["year"]] = r["value"]
    panels, table_rows = [], []
    for col, (group, chosen) in enumerate((("bleef het meest achter", behind), ("liep het meest in", ahead))):
        for row, r in enumerate(chosen):
            name = _name(data, r["area_code"])
            values = by_area.get(r["area_code"], {})
            panels.append({"name": name, "title": f"{name}: {fmt.difference(r['change_vs_gemeente'], unit)}",
                           "years": years, "buurt": [values.get(y) for y in years],
                           "gemeente": [gemeente.get(y) for y in years], "row": row, "col": col})
            table_rows.append([name, group, fmt.value(r["value_base"], unit), fmt.value(r["value"], unit),
                               fmt.difference(r["value_change"], unit),
                               fmt.difference(r["gemeente_value_change"], unit),
                               fmt.difference(r["change_vs_gemeente"], unit)])
    gemeente_name = data.areas[code].name
    title = findings.behind_ahead_title(_name(data, behind[0]["area_code"]) if behind else None,
                                        _name(data, ahead[0]["area_code"]) if ahead else None, base)
    rows_used = max(len(behind), len(ahead))
    return Chart(
        id=f"g-{iid}-m", title=title, figure=small_multiples(panels, unit, gemeente_name),
        source=_growth_source(data, code, ind, years),
        table=Table(caption=f"{ind['name_nl']}: de buurten die sinds {base} het meest achterbleven en inliepen, "
                            f"tegen {gemeente_name}",
                    columns=["Buurt", "Ontwikkeling", str(base), str(latest), "Verandering buurt",
                             "Verandering gemeente", "Verschil met de gemeente"],
                    rows=table_rows, numeric=[False, False, True, True, True, True, True]),
        height={1: 300, 2: 420}.get(rows_used, 560),
        note="Boven elke kleine grafiek: hoeveel de buurt sinds "
             f"{base} meer (+) of minder (-) veranderde dan de gemeente. Alleen buurten met een ononderbroken reeks.")


def _worst20_chart(data: SiteData, code: str, ind: dict, rows: list[dict], base: int, latest: int) -> Chart | None:
    years = sorted({r["year"] for r in rows if base < r["year"] <= latest})
    if not years:
        return None
    entered = {y: sorted(_name(data, r["area_code"]) for r in rows if r["year"] == y and r["entered_worst20"])
               for y in years}
    left = {y: sorted(_name(data, r["area_code"]) for r in rows if r["year"] == y and r["left_worst20"])
            for y in years}
    n_in, n_out = sum(len(v) for v in entered.values()), sum(len(v) for v in left.values())
    title = findings.group_changes_title(years[0], n_in, n_out)
    return Chart(
        id=f"g-{ind['indicator_id']}-w", title=title,
        figure=group_changes_chart(years, [len(entered[y]) for y in years], [len(left[y]) for y in years]),
        source=_growth_source(data, code, ind, [years[0] - 1, *years] if years[0] - 1 >= base else years),
        table=Table(caption=f"{ind['name_nl']}: buurten die bij de 20% slechtst scorende kwamen of eruit gingen",
                    columns=["Jaar", "Erbij gekomen", "Eruit gegaan"],
                    rows=[[str(y), ", ".join(entered[y]) or "geen", ", ".join(left[y]) or "geen"] for y in years],
                    numeric=[False, False, False]),
        height=300,
        note="Een buurt op de grens van de 20% telt mee zodra een deel van haar inwoners erin valt.")


def growth_sections(data: SiteData, code: str) -> list[dict]:
    """"Waar groeit de kloof?" per main divide indicator: the sentence on why the gap changed (divide.decomposition),
    the buurten that fell behind and caught up most as small multiples against the gemeente, and who entered or left
    the worst-off 20% (divide.contributions of the gap over buurten)."""
    out = []
    for iid in GROWTH_INDICATORS:
        ind = data.indicators.get(iid)
        rows = data.contributions.get((code, iid))
        if ind is None or not rows:
            continue
        dec = data.decomposition.get((code, iid))
        base = dec["base_year"] if dec else rows[0]["base_year"]
        latest = dec["latest_year"] if dec else max(r["year"] for r in rows)
        charts = [c for c in (_multiples_chart(data, code, ind, rows, base, latest),
                              _worst20_chart(data, code, ind, rows, base, latest)) if c is not None]
        sentence = findings.decomposition_sentence(dec, iid)
        if not charts and not sentence:
            continue
        out.append({"id": f"groei-{iid}", "name": ind["name_nl"], "sentence": sentence, "charts": charts,
                    "href": page_path("indicator", f"{code}/{iid}")})
    return out


def divide_table(data: SiteData, code: str) -> Table:
    """For every indicator: the gap between the worst- and best-off 20% over buurten, first and last year."""
    rows, links = [], []
    for ind in data.indicators_for(code):
        trend = data.trends.get((code, "buurt", ind["indicator_id"], "gap"))
        if trend is None:
            continue
        first = f"{fmt.measure(trend['first_value'], 'gap', ind['unit'])} ({trend['first_year']})" \
            if trend["first_year"] != trend["last_year"] else f"alleen {trend['last_year']}: zie laatste jaar"
        rows.append([ind["name_nl"], first,
                     f"{fmt.measure(trend['last_value'], 'gap', ind['unit'])} ({trend['last_year']})",
                     findings.TREND_PHRASES.get(trend["label"], trend["label"])])
        links.append([page_path("indicator", f"{code}/{ind['indicator_id']}"), None, None, None])
    return Table(caption="De kloof tussen buurten per indicator (verschil tussen de gemiddelden van de 20% "
                         "inwoners in de slechtst en best scorende buurten)",
                 columns=["Indicator", "Kloof eerste jaar", "Kloof laatste jaar", "Ontwikkeling van de kloof"],
                 rows=rows,
                 numeric=[False, True, True, False], links=links)


def single_year(data: SiteData, code: str) -> int | None:
    """The one year of figures when the gemeente's indicators cover a single year (a build of one KWB year),
    else None: the page then says that a change needs two years instead of showing one-dot charts."""
    years = {p.year for ind in data.indicators_for(code) for p in data.series(code, ind["indicator_id"])
             if p.value is not None}
    return next(iter(years)) if len(years) == 1 else None


def divide_year(data: SiteData, code: str) -> int | None:
    """The one year of the divide charts' measures over buurten (income, low income, social minimum) when there
    is only one (else None)."""
    years = {r["year"] for (g, level, iid), rows in data.measures.items()
             if g == code and level == "buurt" and iid in GROWTH_INDICATORS for r in rows}
    return next(iter(years)) if len(years) == 1 else None


def merger_notes(data: SiteData, code: str, rows: list[dict] | None = None) -> list[dict]:
    """Sentences on the municipal mergers of a gemeente (data/reference/gemeente_herindelingen.csv): which
    gemeente a former one went into, and which gemeenten today's was formed from or extended with. Each note is
    ``{"text": ..., "links": [(name, href or None), ...], "after": ...}``: the names link to the gemeente's page
    where the site has one."""
    rows = herindelingen.read() if rows is None else rows

    def link(c: str, name: str) -> tuple[str, str | None]:
        return (name, page_path("gemeente", c) if c in data.areas and data.areas[c].level == "gemeente" else None)

    notes = []
    for r in rows:
        when = f"Per {fmt.date_nl(r['effective_date'].isoformat())}"
        names = dict(zip(r["old_codes"], r["old_names"].split(";")))
        if code != r["new_code"] and code in r["old_codes"]:
            verb = "hernoemd tot" if r["kind"] == "naamswijziging" else "opgegaan in"
            notes.append({"text": f"{when} {verb}", "links": [link(r["new_code"], r["new_name"])], "after": "."})
        elif code != r["new_code"] and code in r["partial_codes"]:
            notes.append({"text": f"{when} gedeeltelijk opgegaan in", "links": [link(r["new_code"], r["new_name"])],
                          "after": "."})
        elif code == r["new_code"] and r["kind"] in ("samenvoeging", "toevoeging", "naamswijziging"):
            others = [link(c, names.get(c, c)) for c in r["old_codes"] if c != code]
            if not others:
                continue
            text = {"samenvoeging": f"{when} gevormd uit", "toevoeging": f"{when} uitgebreid met",
                    "naamswijziging": f"{when} ontstaan door naamswijziging van"}[r["kind"]]
            notes.append({"text": text, "links": others, "after": "."})
    return notes


def territory_note(data: SiteData, code: str) -> str | None:
    """The sentence under the divide charts when some of them are on today's territory (territory_year)."""
    flagged = sorted({(r["year"], r["territory_year"]) for (g, _, _), rows in data.measures.items() if g == code
                      for r in rows if r.get("territory_year") is not None})
    if not flagged:
        return None
    first, last, on = flagged[0][0], flagged[-1][0], flagged[0][1]
    span = str(first) if first == last else f"{first}–{last}"
    return (f"De kloofcijfers van {span} zijn berekend op het grondgebied van {on}: over de buurten van de "
            "gemeenten waaruit de gemeente is ontstaan samen, elk jaar op de buurten van dat jaar.")


def gemeente_page(data: SiteData, code: str) -> dict:
    gemeente = data.areas[code]
    wijken = [{"name": w.name, "code": w.code, "href": page_path("wijk", w.code),
               "inhabitants": fmt.number(w.inhabitants), "current": w.last_year == data.latest_kwb_year,
               "years": fmt.year_span(w.years),
               "buurten": sum(1 for b in data.children(w.code, "buurt") if b.last_year == data.latest_kwb_year)}
              for w in data.children(code, "wijk")]
    indicators = [c for c in data.indicators_for(code) if "buurt" in (c.get("levels") or ["buurt"])]
    map_spec = maps.switchable_map(data, code, indicators)
    default = DEFAULT_MAP_INDICATOR if DEFAULT_MAP_INDICATOR in map_spec["indicators"] else \
        next(iter(map_spec["indicators"]), None)
    ranking = None
    if default:
        ind = data.indicators[default]
        year = map_spec["indicators"][default]["year"]
        ranking = maps.ranking_table(ind, year, maps.buurt_values(data, code, ind, year))
    n_buurten = sum(w["buurten"] for w in wijken)
    return {
        "kind": "gemeente", "area": gemeente, "title": gemeente.name,
        "crumbs": [("Alle gemeenten", page_path("index")), (gemeente.name, None)],
        "inhabitants": fmt.number(gemeente.inhabitants), "n_wijken": sum(1 for w in wijken if w["current"]),
        "n_buurten": n_buurten, "glance": glance(data, code), "divide_charts": divide_charts(data, code),
        "divide_table": divide_table(data, code), "single_year": single_year(data, code),
        "divide_year": divide_year(data, code),
        "ranking_note": maps.ranking_note(data.indicators[default]) if default else None,
        "ranking_wijken": sorted({(a[2], a[1]) for a in map_spec["areas"].values() if a[2]},
                                 key=lambda w: (w[1].lower(), w[0])),
        "growth": growth_sections(data, code), "map_spec": map_spec, "map_default": default,
        "map_options": [(c["indicator_id"], c["name_nl"], data.theme_names.get(c["theme"], c["theme"]))
                        for c in indicators if c["indicator_id"] in map_spec["indicators"]],
        "ranking": ranking, "wijken": wijken, "merger_notes": merger_notes(data, code),
        "territory_note": territory_note(data, code), "targets": targets_table(data, code),
        "stapeling": stapeling_pages.gemeente_section(data, code),
        "indicator_links": [(data.theme_names.get(t, t),
                             [(c["name_nl"], page_path("indicator", f"{code}/{c['indicator_id']}"))
                              for c in data.indicators_for(code) if c["theme"] == t]) for t in THEMES],
    }
