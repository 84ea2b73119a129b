"""What every page type shares: addresses of pages, charts with their source line and table, source texts.

Addresses are relative (``../buurt/BU99010001.html``), so the site works from a file share (``file://``)
as well as from any static web server, in any folder. Every page but the index and the about page sits one
folder deep, so a page's way back to the root is ``../``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from bwm.site import format as fmt

_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")

HEALTH_SOURCE = "GGD'en, CBS en RIVM, Gezondheidsmonitor"
KWB_SOURCE = "CBS, Kerncijfers wijken en buurten"
#: Why a value is missing, as the data tables say it (the value itself always reads "geen gegevens").
MISSING_REASONS = {
    "suppressed_by_cbs": "afgeschermd door CBS (te weinig inwoners of waarnemingen)",
    "not_published": "niet gepubliceerd voor dit gebied of jaar",
    "not_published_yet": "nog niet gepubliceerd: het CBS vult dit cijfer in een latere versie van de tabel in",
    "not_measured": "niet gemeten in deze periode van de Gezondheidsmonitor",
    "unit_quarantined": "weggelaten: het CBS levert dit cijfer in een onverwachte eenheid (zie de statuspagina)",
    "no_denominator": "niet te berekenen (noemer ontbreekt of is 0)",
    "denominator_too_small": "weggelaten: noemer te klein voor een betrouwbare verhouding",
    "inconsistent_counts": "weggelaten: afgeronde teller groter dan de noemer",
    "suppressed_small_count": "afgeschermd: te weinig personen",
    "not_aggregable": "niet te berekenen uit de cijfers van de gemeenten waaruit de gemeente is ontstaan "
                      "(een mediaan)",
    "predecessor_missing": "niet te berekenen: een van de gemeenten waaruit de gemeente is ontstaan heeft geen cijfer",
}
DIRECTION_TEXT = {
    "higher_is_better": "hoger is gunstiger",
    "higher_is_worse": "lager is gunstiger",
    "neutral": "geen oordeel: hoger of lager is niet vanzelf beter",
}
LEVEL_NAMES = {"gemeente": "gemeente", "wijk": "wijk", "buurt": "buurt"}


def _safe(part: str) -> str:
    if not _SAFE.match(part):
        raise ValueError(f"not a safe page name: {part!r}")
    return part


def page_path(kind: str, key: str = "") -> str:
    """The path of a page from the site root: 'index.html', 'gemeente/GM0344.html', ..."""
    if kind in ("index", "over", "status"):
        return f"{kind}.html"
    if kind in ("gemeente", "wijk", "buurt"):
        return f"{kind}/{_safe(key)}.html"
    if kind == "indicator":
        gemeente, indicator = key.split("/", 1)
        return f"indicator/{_safe(gemeente)}-{_safe(indicator)}.html"
    raise ValueError(kind)


def depth(path: str) -> int:
    return path.count("/")


@dataclass
class Table:
    """A data table: the text alternative of a chart, or a table in its own right."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)  # right-aligned columns
    row_header: bool = True  # the first cell of a row is its header (th scope=row)
    links: list[list[str | None]] | None = None  # per row per cell an href (relative to the page), or None


def _escape(value) -> str:
    """``markupsafe.escape`` for a plain string without making a Markup object of it (a table cell is mostly a
    short number); anything else (Markup, None, numbers) goes through ``escape`` itself, as in a template."""
    if type(value) is str:
        if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
            return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;")
                    .replace('"', "&#34;"))
        return value
    return escape(value)


def table_html(t: Table, id: str | None = None, sortable: bool = False, wide: bool = False,
               root: str = "") -> Markup:
    """The HTML of a data table (the templates' ``table`` macro calls this).

    Python rather than a Jinja macro because a national site has ~30 million table cells, and a macro costs
    ~10 times as much per cell. Every text is escaped as Jinja's autoescaping would (``_escape``).
    """
    e = _escape
    out = [f'<div class="table-wrap{" wide" if wide else ""}"']
    if wide:
        out.append(f' tabindex="0" role="region" aria-labelledby="{e(id)}-c"')
    out.append(">\n<table")
    if id:
        out.append(f' id="{e(id)}"')
    if sortable:
        out.append(' class="sortable"')
    out.append(">\n<caption")
    if id:
        out.append(f' id="{e(id)}-c"')
    out.append(f">{e(t.caption)}")
    if sortable:
        out.append(' <span class="hint">(klik op een kolomkop om te sorteren)</span>')
    out.append("</caption>\n<thead><tr>")
    numeric = t.numeric or []
    td = ['<td class="n">' if i < len(numeric) and numeric[i] else "<td>" for i in range(len(t.columns))]
    for i, col in enumerate(t.columns):
        cls = ' class="n"' if i < len(numeric) and numeric[i] else ""
        label = f'<button type="button">{e(col)}</button>' if sortable else e(col)
        out.append(f'<th scope="col"{cls}>{label}</th>')
    out.append("</tr></thead>\n<tbody>\n")
    for ri, row in enumerate(t.rows):
        links = t.links[ri] if t.links else None
        out.append("<tr>")
        for ci, cell in enumerate(row):
            header = ci == 0 and t.row_header
            if header:
                out.append('<th scope="row">')
            else:
                out.append(td[ci] if ci < len(td) else ('<td class="n">' if ci < len(numeric) and numeric[ci]
                                                        else "<td>"))
            href = links[ci] if links else None
            if href:
                out.append(f'<a href="{"" if href[0] == "#" else e(root)}{e(href)}">{e(cell)}</a>')
            else:
                out.append(e(cell))
            out.append("</th>" if header else "</td>")
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n</div>\n")
    return Markup("".join(out))


@dataclass
class Chart:
    """One chart on a page: the title states the finding; source, unit and table travel with it."""

    id: str
    title: str
    figure: dict
    source: str
    table: Table
    height: int = 320
    note: str | None = None
    label: str | None = None  # a divide trend's label under the title ("geen duidelijke verandering", grey)
    label_class: str | None = None  # its CSS class (findings.TREND_CLASSES)
    label_note: str | None = None  # why the label was given (findings.trend_note)
    print_title: str | None = None  # the title of a small chart on a printed factsheet (the indicator's name; the
    # finding is in the factsheet's summary)


def source_line(source: str, points_or_tables: dict[int, str | None], processed: bool = False,
                label: str | None = None, computed=()) -> str:
    """``"Bron: CBS, Kerncijfers wijken en buurten 2013–2024 (tabellen 82339NED t/m 85984NED)."``

    ``points_or_tables``: year -> CBS table id (or the municipal data file) of the figures shown;
    ``label``: the catalogue's source_label, used for sources other than CBS (municipal data files);
    ``computed``: (name, points) of the lines shown; the years of those the monitor computed from a merged
    gemeente's predecessors are named: "Lindenmeer 2013–2018: berekend door de monitor uit de cijfers van
    Beekwolde en Zandhorst (grondgebied 2024)".
    """
    years = sorted(points_or_tables)
    tables = list(dict.fromkeys(t for _, t in sorted(points_or_tables.items()) if t))
    if source == "health":
        table = f" (tabel {', '.join(tables)}, RIVM via CBS)" if tables else ""
        text = f"Bron: {HEALTH_SOURCE}{table}, {fmt.year_list(years)}"
    elif source != "kwb":
        files = f" (bestand {', '.join(tables)})" if tables else ""
        text = f"Bron: {label or source}{files}, {fmt.year_list(years)}"
    else:
        if len(tables) > 2:
            ids = f"tabellen {tables[0]} t/m {tables[-1]}"
        elif tables:
            ids = f"tabel{'len' if len(tables) > 1 else ''} {' en '.join(tables)}"
        else:
            ids = "tabel onbekend"
        text = f"Bron: {KWB_SOURCE} {fmt.year_span(years)} ({ids})"
    if processed:
        text += "; bewerking Brede Welvaart Monitor"
    for name, points in computed:
        text += "".join(f"; {name} {part}" for part in _computed_parts(points))
    return text + "."


def _computed_parts(points) -> list[str]:
    """"2013–2018: berekend door de monitor uit de cijfers van A en B (grondgebied 2024)", per set of predecessors."""
    groups: dict[tuple, list] = {}
    for p in points:
        if getattr(p, "value_source", None) == "aggregated_predecessors" and p.value is not None:
            groups.setdefault((p.derived_from, p.territory_year), []).append(p)
    out = []
    for (names, territory), group in groups.items():
        tables = sorted({t for p in group for t in (p.source_table or "").split(";") if t})
        ids = f"tabel {tables[0]}, " if len(tables) == 1 else f"tabellen {tables[0]} t/m {tables[-1]}, " \
            if tables else ""
        out.append(f"{fmt.year_list(p.year for p in group)}: berekend door de monitor uit de cijfers van {names} "
                   f"({ids}grondgebied {territory})")
    return out


def remark(point) -> str:
    """The 'Opmerking' cell of a data-table row: why a value is missing, and series breaks."""
    from bwm.site.figures import BREAK_REASONS

    parts = []
    if point is not None and point.value is None and point.missing_reason:
        parts.append(MISSING_REASONS.get(point.missing_reason, point.missing_reason))
    if point is not None and point.value_source == "aggregated_predecessors":
        parts += [part.split(": ", 1)[1] for part in _computed_parts([point])]
    if point is not None and point.series_break:
        parts.append(f"reeksbreuk: {BREAK_REASONS.get(point.break_reason, 'nieuwe reeks')}")
    return "; ".join(parts)
