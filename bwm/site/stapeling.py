"""Where disadvantages pile up, on the gemeente and buurt pages (template partial ``_stapeling.html.j2``).

Reads publish.stapeling, publish.samenhang and publish.divide_stapeling (bwm.stapeling computes them); computes no
statistic of its own. The wording follows the CBS Monitor Brede Welvaart: a signal, not a verdict; it speaks of
"minder gunstige cijfers", never of bad buurten or their residents.
"""

from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape

from bwm import catalogue
from bwm.site import figures, findings, maps
from bwm.site import format as fmt
from bwm.site.common import HEALTH_SOURCE, KWB_SOURCE, Chart, Table, page_path
from bwm.site.data import SiteData

SIGNAL = "Een signaal, geen oordeel: de cijfers zeggen waar het gesprek over ondersteuning kan beginnen, niets over " \
         "de bewoners zelf."
SCOPE_NAMES = {"gemeente": "binnen de gemeente", "warehouse": "onder alle buurten in de monitor"}
REASONS = {"coverage_below_threshold": "te weinig cijfers voor een score", "no_residents": "geen inwoners bekend"}


def load(con, data: SiteData, codes: list[str]) -> None:
    """The stapeling rows of ``codes`` into ``data.stapeling`` (empty when the warehouse predates them)."""
    from bwm import warehouse

    held: dict = {"buurten": defaultdict(list), "samenhang": defaultdict(list), "measure": defaultdict(list)}
    scope = "gemeente_code in (select unnest(?::varchar[]))"
    for name, table, order in (("buurten", "stapeling", "area_code, scope, year"),
                               ("samenhang", "samenhang", "year, indicator_a, indicator_b"),
                               ("measure", "divide_stapeling", "year")):
        if not warehouse.table_exists(con, "publish", table):
            continue
        cur = con.execute(f"select * from publish.{table} where {scope} order by gemeente_code, {order}", [codes])
        cols = [d[0] for d in cur.description]
        for row in cur.fetchall():
            r = dict(zip(cols, row))
            held[name][r["area_code"] if name == "buurten" else r["gemeente_code"]].append(r)
    data.stapeling = {k: dict(v) for k, v in held.items()}


def _rule():
    return catalogue.stapeling()


def _theme_names(ids: str | None) -> list[str]:
    names = _rule().theme_names
    return [names.get(t, t) for t in (ids or "").split(";") if t]


def _name(data: SiteData, iid: str) -> str:
    ind = data.indicators.get(iid)
    return ind["name_nl"] if ind else iid


def _oriented(data: SiteData, iid: str) -> str:
    """The name as the samenhang shows it: an indicator where higher is better is turned (omgekeerd)."""
    ind = data.indicators.get(iid)
    turned = ind is not None and ind["direction"] == "higher_is_better"
    return f"{_name(data, iid)}{' (omgekeerd)' if turned else ''}"


def source_text(tables: set[str], years: list[int]) -> str:
    """The source line of a stapeling figure: both CBS sources, their tables and the years."""
    ids = ", ".join(sorted(t for t in tables if t))
    return (f"Bron: {KWB_SOURCE} en {HEALTH_SOURCE} (tabellen {ids or 'onbekend'}), {fmt.year_list(years)}; "
            "bewerking Brede Welvaart Monitor.")


def _buurt_rows(data: SiteData, code: str, scope: str = "gemeente") -> dict[str, list[dict]]:
    return {a.code: [r for r in data.stapeling.get("buurten", {}).get(a.code, []) if r["scope"] == scope]
            for a in data.in_gemeente(code, "buurt")}


def _since(rows: list[dict], theme: str) -> int | None:
    """The first year of the unbroken run of scored years, up to the latest, in which the buurt is worst-off on
    ``theme``."""
    since = None
    for r in sorted(rows, key=lambda r: r["year"]):
        if r["score_reason"] is None and theme in (r["themes_worst20"] or "").split(";"):
            since = since or r["year"]
        else:
            since = None
    return since


def share_chart(data: SiteData, code: str, rows: list[dict]) -> Chart | None:
    """The share of residents in buurten where disadvantages pile up, over the years, with its interval."""
    rows = [r for r in rows if r["value"] is not None]
    if not rows:
        return None
    rule = _rule()
    years = [r["year"] for r in rows]
    first, last = rows[0], rows[-1]
    label = findings.TREND_PHRASES.get(last["trend_label"], last["trend_label"]) if last["trend_label"] else None
    change = {"widening": "gestegen", "narrowing": "gedaald"}.get(last["trend_label"])
    title = (f"Het aandeel inwoners in buurten waar nadelen zich opstapelen is sinds {first['year']} {change}"
             if change else f"Aandeel inwoners in buurten waar nadelen zich opstapelen: {fmt.percent(last['value'])} "
                            f"in {last['year']}")
    fig = figures.measure_chart([(data.areas[code].name, years, [r["value"] for r in rows], "main")], "% inwoners",
                                "%{y:.1f}%", intervals=[([r["ci_low"] for r in rows], [r["ci_high"] for r in rows])])
    table = Table(caption=f"Aandeel inwoners in buurten die op ten minste {rule.min_themes} thema's bij de 20% "
                          "minst gunstig scorende inwoners van de gemeente horen",
                  columns=["Jaar", "Aandeel", "Marge (95%)", "Buurten met een score", "Buurten zonder score"],
                  rows=[[str(r["year"]), fmt.percent(r["value"]),
                         f"{fmt.percent(r['ci_low'])} – {fmt.percent(r['ci_high'])}" if r["ci_low"] is not None
                         else fmt.MISSING, fmt.number(r["n_areas"]), fmt.number(r["n_dropped"])] for r in rows],
                  numeric=[False, True, True, True, True])
    tables = {t.strip() for r in rows for t in (r["source_table"] or "").split(",")}
    return Chart(id="stapeling-aandeel", title=title, figure=fig, source=source_text(tables, years), table=table,
                 height=300, label=label, label_class=findings.TREND_CLASSES.get(last["trend_label"], "trend-none"),
                 label_note=findings.trend_note(last["trend_label"], last["label_reason"], "monte_carlo_95")
                 if last["trend_label"] else None, note="De band om de lijn is de 95%-onzekerheidsmarge.")


def _map(data: SiteData, code: str, year: int, by_buurt: dict[str, list[dict]], tables: set[str]) -> Chart | None:
    shapes = maps.outlines(data, code, year)
    values = {}
    for b, rows in by_buurt.items():
        r = next((r for r in rows if r["year"] == year), None)
        if r is None:
            continue
        n = r["n_themes_worst20"]
        values[b] = (n, fmt.MISSING if n is None else f"{n} thema{'' if n == 1 else 's'}")
    if shapes is None or not values:
        return None
    fig = figures.map_figure(shapes, values, "persons", "aantal thema's")
    table = Table(caption=f"Aantal thema's per buurt, {year}", columns=["Buurt", "Aantal thema's"],
                  rows=[[data.areas[b].name if b in data.areas else b, shown] for b, (_, shown) in
                        sorted(values.items(), key=lambda kv: (-(kv[1][0] or -1), kv[0]))],
                  numeric=[False, True], links=[[page_path("buurt", b), None] for b, _ in
                                                sorted(values.items(), key=lambda kv: (-(kv[1][0] or -1), kv[0]))])
    return Chart(id="stapeling-kaart", title=f"Op hoeveel thema's elke buurt bij de minst gunstig scorende 20% hoort, "
                 f"{year}", figure=fig, source=source_text(tables, [year]), table=table, height=420,
                 note="Donkerder is op meer thema's; grijs is geen score.")


def _ranked(data: SiteData, code: str, by_buurt: dict[str, list[dict]], first: int, last: int) -> Table:
    rows, links = [], []
    for b, rs in by_buurt.items():
        now = next((r for r in rs if r["year"] == last and r["score_reason"] is None), None)
        if now is None or not now["n_themes_worst20"]:
            continue
        then = next((r for r in rs if r["year"] == first), None)
        if then is None:
            before = "bestond niet"
        elif then["score_reason"] is not None:
            before = REASONS.get(then["score_reason"], then["score_reason"])
        else:
            before = str(then["n_themes_worst20"])
        area = data.areas.get(b)
        rows.append((now["n_themes_worst20"], now["n_indicators_worst20"], area.name if area else b,
                     [area.name if area else b, fmt.number(now["inhabitants"]), str(now["n_themes_worst20"]),
                      ", ".join(_theme_names(now["themes_worst20"])), str(now["n_indicators_worst20"]), before]))
        links.append(b)
    order = sorted(range(len(rows)), key=lambda i: (-rows[i][0], -rows[i][1], rows[i][2]))
    return Table(caption=f"Buurten waar nadelen zich opstapelen, {last} (binnen de gemeente; meeste thema's eerst)",
                 columns=["Buurt", "Inwoners", f"Thema's {last}", "Welke thema's", "Indicatoren", f"Thema's {first}"],
                 rows=[rows[i][3] for i in order], numeric=[False, True, True, False, True, True],
                 links=[[page_path("buurt", links[i]), None, None, None, None, None] for i in order])


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _text_class(background: str) -> str:
    """White text where it has more contrast with the cell than black (WCAG: (L1 + 0.05) / (L2 + 0.05))."""
    lum = _luminance(background)
    return " dark" if 1.05 / (lum + 0.05) > (lum + 0.05) / 0.05 else ""


def _cell_colour(rho: float) -> str:
    """Diverging (blue for negative, orange for positive; colour-blind safe), stronger for larger |rho|."""
    a = min(abs(rho), 1.0)
    base = (213, 94, 0) if rho > 0 else (0, 114, 178)
    r, g, b = (round(255 - (255 - c) * a) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(data: SiteData, rows: list[dict], year: int) -> Markup:
    """The samenhang matrix of one year as a colour-coded HTML table: the number in every cell, a legend."""
    rule = _rule()
    ids = list(rule.samenhang)
    pair = {(r["indicator_a"], r["indicator_b"]): r for r in rows if r["year"] == year}
    pair.update({(b, a): r for (a, b), r in list(pair.items())})
    out = ['<div class="table-wrap wide" tabindex="0" role="region" aria-labelledby="samenhang-kaart-c">',
           '<table class="heatmap" id="samenhang-kaart"><caption id="samenhang-kaart-c">'
           f'Samenhang tussen de indicatoren over de buurten, {year} (rangcorrelatie, gewogen naar inwoners)</caption>',
           '<thead><tr><td></td>']
    out += [f'<th scope="col">{escape(_oriented(data, i))}</th>' for i in ids]
    out.append("</tr></thead><tbody>")
    for a in ids:
        out.append(f'<tr><th scope="row">{escape(_oriented(data, a))}</th>')
        for b in ids:
            if a == b:
                out.append('<td class="diag">–</td>')
                continue
            r = pair.get((a, b))
            if r is None or r["rho"] is None:
                why = "te weinig buurten" if r is not None and r["status"] == "too_few_buurten" else "geen gegevens"
                out.append(f'<td class="none">{why}</td>')
            else:
                colour = _cell_colour(r["rho"])
                out.append(f'<td class="n{_text_class(colour)}" style="background:{colour}">'
                           f'{escape(fmt.number(r["rho"], 2))}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    legend = "".join(f'<span class="{_text_class(_cell_colour(v)).strip()}" style="background:{_cell_colour(v)}">'
                     f'{escape(fmt.number(v, 1))}</span>' for v in (-1.0, -0.5, 0.0, 0.5, 1.0))
    out.append(f'<p class="heatmap-legend">Kleur: {legend} Oranje: waar de ene indicator minder gunstig is, is de '
               'andere dat vaak ook; blauw: juist niet; wit: geen samenhang.</p>')
    return Markup("".join(out))


def samenhang_table(data: SiteData, rows: list[dict]) -> Table:
    return Table(caption="Samenhang per paar indicatoren en jaar (rangcorrelatie van -1 tot 1, gewogen naar inwoners)",
                 columns=["Jaar", "Indicator", "Met", "Buurten", "Samenhang"],
                 rows=[[str(r["year"]), _name(data, r["indicator_a"]), _name(data, r["indicator_b"]),
                        fmt.number(r["n_buurten"]),
                        fmt.number(r["rho"], 2) if r["rho"] is not None else
                        (f"te weinig buurten (minder dan {r['min_buurten']})" if r["status"] == "too_few_buurten"
                         else "geen spreiding")] for r in rows],
                 numeric=[False, False, False, True, True], row_header=False)


def gemeente_section(data: SiteData, code: str) -> dict | None:
    """The context of the gemeente page's section, or None when the warehouse has no stapeling rows for it."""
    by_buurt = _buurt_rows(data, code)
    scored = sorted({r["year"] for rs in by_buurt.values() for r in rs if r["score_reason"] is None})
    if not scored:
        return None
    first, last = scored[0], scored[-1]
    measure = data.stapeling.get("measure", {}).get(code, [])
    samenhang = data.stapeling.get("samenhang", {}).get(code, [])
    tables = {t.strip() for r in measure for t in (r["source_table"] or "").split(",")}
    computed_years = sorted({r["year"] for r in samenhang if r["rho"] is not None})
    ranked = _ranked(data, code, by_buurt, first, last)
    rule = _rule()
    return {
        "rule": rule, "first": first, "last": last, "signal": SIGNAL,
        "share": share_chart(data, code, measure), "map": _map(data, code, last, by_buurt, tables),
        "ranked": ranked, "n_ranked": len(ranked.rows),
        "heat_map": heat_map(data, samenhang, computed_years[-1]) if computed_years else None,
        "heat_year": computed_years[-1] if computed_years else None,
        "samenhang_table": samenhang_table(data, samenhang) if samenhang else None,
        "source": source_text(tables, scored),
        "themes": [(t.name_nl, [_name(data, i) for i in t.indicators]) for t in rule.themes],
    }


def buurt_section(data: SiteData, code: str) -> dict | None:
    """The context of the buurt page's section: on which themes it is among the worst-off, and since when."""
    rows = data.stapeling.get("buurten", {}).get(code, [])
    if not rows:
        return None
    rule = _rule()
    own = [r for r in rows if r["scope"] == "gemeente"]
    scored = [r for r in own if r["score_reason"] is None]
    lines = []
    if scored:
        latest = scored[-1]
        names = rule.theme_names
        themes = [t for t in (latest["themes_worst20"] or "").split(";") if t]
        if themes:
            parts = [f"{names.get(t, t)} (sinds {_since(own, t)})" for t in themes]
            lines.append(f"In {latest['year']} hoort deze buurt binnen de gemeente bij de 20% inwoners met de minst "
                         f"gunstige cijfers op {len(themes)} van de {latest['n_themes']} thema's: {', '.join(parts)}.")
        else:
            lines.append(f"In {latest['year']} hoort deze buurt binnen de gemeente op geen enkel thema bij de 20% "
                         "inwoners met de minst gunstige cijfers.")
    table_rows = []
    for r in sorted(rows, key=lambda r: (r["year"], r["scope"])):
        if r["score_reason"] is not None:
            table_rows.append([str(r["year"]), SCOPE_NAMES[r["scope"]], fmt.MISSING,
                               REASONS.get(r["score_reason"], r["score_reason"]), fmt.percent(r["coverage_pct"], 0)])
        else:
            table_rows.append([str(r["year"]), SCOPE_NAMES[r["scope"]], str(r["n_themes_worst20"]),
                               ", ".join(_theme_names(r["themes_worst20"])) or "geen",
                               fmt.percent(r["coverage_pct"], 0)])
    table = Table(caption="Op welke thema's de buurt bij de 20% minst gunstig scorende inwoners hoort, per jaar",
                  columns=["Jaar", "Vergeleken", "Thema's", "Welke", "Cijfers beschikbaar"], rows=table_rows,
                  numeric=[False, False, True, False, True])
    years = sorted({r["year"] for r in rows})
    tables = set()
    for iid in rule.theme_of:
        tables |= {p.source_table for p in data.series(code, iid) if p.year in years and p.source_table}
    gm = data.areas[code].gemeente_code if code in data.areas else None
    # The gemeente page has the section (and its anchor) only when one of its buurten has a score.
    has_section = gm is not None and any(r["score_reason"] is None for rs in _buurt_rows(data, gm).values()
                                         for r in rs)
    return {"lines": lines, "table": table, "signal": SIGNAL, "source": source_text(tables, years),
            "gemeente_href": page_path("gemeente", gm) if has_section else None}


def about_section(data: SiteData) -> dict:
    """The rules on the about page: the core set per theme and the thresholds."""
    rule = _rule()
    return {"kind": "over", "rule": rule, "signal": SIGNAL,
            "themes": [(t.name_nl, [_name(data, i) for i in t.indicators]) for t in rule.themes],
            "samenhang": [_name(data, i) for i in rule.samenhang]}
