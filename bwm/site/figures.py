"""Plotly figures as plain JSON-ready dicts (no plotly.py objects).

Why dicts: a demo site has a few thousand charts; building them through ``plotly.graph_objects`` (which
validates every attribute) would take most of the build time, while plotly.js takes the same JSON. The
tests pass one figure of every kind through ``plotly.graph_objects.Figure`` to prove the dicts are valid.

Shared styling (fonts, margins, Dutch separators) lives in dashboards/static/site.js and is merged into
every figure there, so each page carries only its data. Texts that plotly renders (trace names, hover
labels, annotations) go through :func:`text`, which escapes ``<`` ``>`` ``&``: plotly.js interprets a small
set of HTML tags in strings, and a neighbourhood called ``<b>`` must not come out bold.

Colours: Okabe-Ito blue (#0072B2) for the area, vermilion (#D55E00) for the gemeente and dark grey for the
Netherlands, each with its own dash and marker so no reader depends on colour (and none on red against
green); all three have at least 3:1 contrast against white (WCAG 1.4.11).
"""

from __future__ import annotations

import html
import math

from bwm.site import format as fmt

C_AREA = "#0072B2"
C_GEMEENTE = "#D55E00"
C_NL = "#4D4D4D"
C_BAND_OUTER = "#C6DBEF"
C_BAND_INNER = "#6BAED6"
C_MISSING = "#D9D9D9"
#: The bands of intervals: the line's colour, light (the line itself keeps its 3:1 contrast).
C_BAND_AREA = "rgba(0,114,178,0.18)"
C_BAND_GEMEENTE = "rgba(213,94,0,0.16)"
#: The y-axis rule of the time series: shares, rates and counts start at zero (so a rise from 10% to 11% does not
#: fill the chart); euros and distances use the range of the data (a zero-based income axis hides every change).
ZERO_BASED_UNITS = ("pct", "per_1000", "persons", "count")


def y_axis(unit: str, **extra) -> dict:
    """The y axis of a chart of ``unit`` under the rule of :data:`ZERO_BASED_UNITS`."""
    axis = {"title": {"text": fmt.axis_title(unit)}, "tickformat": fmt.tick_format(unit), **extra}
    if unit in ZERO_BASED_UNITS:
        axis["rangemode"] = "tozero"
    return axis


#: Bars of where the divide grows: a contribution that widens the gap, one that narrows it (blue against orange,
#: no red against green).
C_WIDENS = "#D55E00"
C_NARROWS = "#0072B2"
#: Viridis (plotly's stops), reversed below so that a higher value is darker.
VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
           "#fde725"]

BREAK_REASONS = {
    "boundary_changed": "grenzen gewijzigd",
    "recoded": "nieuwe code",
    "new_area": "nieuw gebied",
}


def text(s) -> str:
    """A string for plotly.js: escaped, so it is shown as text and never read as markup."""
    return html.escape("" if s is None else str(s), quote=False)


def lines(s: str) -> str:
    """A title of several lines (``\\n`` between them) for plotly.js: each escaped, joined by plotly's ``<br>``."""
    return "<br>".join(text(part) for part in s.split("\n"))


def _round(v, unit: str):
    if fmt.is_missing(v):
        return None
    return round(float(v), fmt.UNIT_DECIMALS.get(unit, 1) + 2)


def _line(name, xs, ys, color, dash, symbol, unit, show_legend=True, group=None, width=3):
    return {
        "type": "scatter", "mode": "lines+markers", "name": text(name), "x": xs, "y": ys,
        "line": {"color": color, "dash": dash, "width": width}, "marker": {"symbol": symbol, "size": 8},
        "connectgaps": False, "showlegend": show_legend, "legendgroup": group or text(name),
        "hovertemplate": f"%{{x}}: {fmt.hover_format(unit)}<extra>{text(name)}</extra>",
    }


def _band(xs, lows, highs, name, fill, unit, show_legend=True, group=None, hover=None) -> list[dict]:
    """An interval as a filled band: the lower bound (no line) and the upper bound filled down to it. A year
    without bounds leaves a gap (never a band down to 0)."""
    hover = hover or fmt.hover_format(unit)
    edge = {"type": "scatter", "mode": "lines", "x": xs, "line": {"width": 0, "color": fill}, "connectgaps": False,
            "legendgroup": group or text(name)}
    return [
        {**edge, "y": lows, "name": text(f"{name}, ondergrens"), "showlegend": False,
         "hovertemplate": f"%{{x}}: ondergrens {hover}<extra></extra>"},
        {**edge, "y": highs, "name": text(name), "fill": "tonexty", "fillcolor": fill, "showlegend": show_legend,
         "hovertemplate": f"%{{x}}: bovengrens {hover}<extra></extra>"},
    ]


def segments(points) -> list[list]:
    """Split an area's points where its series is cut (series_id changes): no line is drawn across a break."""
    out: list[list] = []
    last_id = object()
    for p in points:
        if p.series_id != last_id:
            out.append([])
            last_id = p.series_id
        out[-1].append(p)
    return out


def timeseries(area_name: str, points, unit: str, references: list[tuple[str, dict[int, float], str]],
               years: list[int]) -> dict:
    """An area's indicator over time, against reference lines (gemeente, Nederland).

    ``references``: (name, {year: value}, kind) with kind 'gemeente' or 'nl'. Breaks in the area's series
    split its line and are marked with a dotted vertical line labelled "reeksbreuk".
    """
    traces = []
    shapes, annotations = [], []
    segs = segments(points)
    banded = False
    for seg in segs:  # the published 95% interval of a health figure, as a band behind the area's line
        lows = [_round(p.ci_lower, unit) if p.value is not None else None for p in seg]
        highs = [_round(p.ci_upper, unit) if p.value is not None else None for p in seg]
        if any(v is not None for v in lows) and any(v is not None for v in highs):
            traces += _band([p.year for p in seg], lows, highs, "95%-onzekerheidsmarge", C_BAND_AREA, unit,
                            show_legend=not banded, group="area-band")
            banded = True
    for i, seg in enumerate(segs):
        traces.append(_line(area_name, [p.year for p in seg], [_round(p.value, unit) for p in seg], C_AREA,
                            "solid", "circle", unit, show_legend=(i == 0), group="area"))
        first = seg[0]
        if first.series_break or i > 0:
            x = first.year - 0.5
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                           "line": {"color": "#000000", "width": 1.5, "dash": "dot"}})
            annotations.append({"x": x, "y": 1, "xref": "x", "yref": "paper", "yanchor": "top",
                                "xanchor": "left", "showarrow": False, "font": {"size": 11},
                                "bgcolor": "rgba(255,255,255,0.85)",
                                "text": text(f"reeksbreuk ({BREAK_REASONS.get(first.break_reason, 'nieuwe reeks')})")})
    styles = {"gemeente": (C_GEMEENTE, "dash", "square"), "nl": (C_NL, "dot", "diamond")}
    for name, by_year, kind in references:
        color, dash, symbol = styles[kind]
        ys = [_round(by_year.get(y), unit) for y in years]
        if any(v is not None for v in ys):
            traces.append(_line(name, years, ys, color, dash, symbol, unit, width=2))
    return {
        "data": traces,
        "layout": {
            "xaxis": {"title": {"text": "jaar"}, "tickmode": "array", "tickvals": years,
                      "range": [min(years) - 0.6, max(years) + 0.6] if years else None},
            "yaxis": y_axis(unit),
            "shapes": shapes, "annotations": annotations,
        },
    }


def _ys(values) -> list:
    return [None if fmt.is_missing(v) else round(float(v), 6) for v in values]


def measure_chart(series: list[tuple[str, list[int], list, str]], unit_title: str, hover: str,
                  stacked: bool = False, tickformat: str | None = None,
                  intervals: list[tuple[list, list] | None] | None = None,
                  total: tuple[str, list[int], list, list, list] | None = None) -> dict:
    """Divide measures over time: one line per (name, years, values, style) with style 'main'/'second'/'third'.

    ``intervals``: per series (lows, highs) of its interval, drawn as a band behind the line (None: no band);
    ``total``: for a stacked chart, (name, years, totals, lows, highs): the interval of the stack's total as
    error bars on its top.
    """
    styles = {"main": (C_AREA, "solid", "circle"), "second": (C_GEMEENTE, "dash", "square"),
              "third": (C_NL, "dot", "diamond")}
    bands = {"main": C_BAND_AREA, "second": C_BAND_GEMEENTE, "third": "rgba(77,77,77,0.15)"}
    traces = []
    all_years: set[int] = set()
    for i, (name, years, _values, style) in enumerate(series):
        band = intervals[i] if intervals and i < len(intervals) else None
        if band and not stacked and any(not fmt.is_missing(v) for v in band[0]):
            traces += _band(years, _ys(band[0]), _ys(band[1]), f"marge {name}", bands[style], "",
                            show_legend=False, group=f"band-{i}", hover=hover)
    for name, years, values, style in series:
        color, dash, symbol = styles[style]
        all_years.update(years)
        t = {"type": "scatter", "mode": "lines+markers", "name": text(name), "x": years, "y": _ys(values),
             "line": {"color": color, "dash": dash, "width": 3 if style == "main" else 2},
             "marker": {"symbol": symbol, "size": 8}, "connectgaps": False,
             "hovertemplate": f"%{{x}}: {hover}<extra>{text(name)}</extra>"}
        if stacked:
            t["stackgroup"] = "one"
            t["fillcolor"] = {"main": "rgba(0,114,178,0.35)", "second": "rgba(213,94,0,0.35)"}.get(style)
        traces.append(t)
    if total and any(not fmt.is_missing(v) for v in total[3]):
        name, years, values, lows, highs = total
        ys = _ys(values)
        plus = [None if y is None or fmt.is_missing(h) else round(float(h) - y, 6) for y, h in zip(ys, highs)]
        minus = [None if y is None or fmt.is_missing(lo) else round(y - float(lo), 6) for y, lo in zip(ys, lows)]
        traces.append({"type": "scatter", "mode": "markers", "name": text(name), "x": years, "y": ys,
                       "marker": {"color": C_NL, "size": 6, "symbol": "line-ew-open"},
                       "error_y": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                                   "color": C_NL, "thickness": 1.5, "width": 5},
                       "hovertemplate": f"%{{x}}: {hover}<extra>{text(name)}</extra>"})
    years = sorted(all_years)
    return {"data": traces, "layout": {
        "xaxis": {"title": {"text": "jaar"}, "tickmode": "array", "tickvals": years,
                  "range": [min(years) - 0.6, max(years) + 0.6] if years else None},
        "yaxis": {"title": {"text": lines(unit_title)}, "rangemode": "tozero", "tickformat": tickformat}}}


def spread_chart(rows: list[dict], unit: str, gemeente_name: str) -> dict:
    """The spread over neighbourhoods through time: the range (lowest to highest buurt), the averages of the
    worst- and best-off 20% of residents, and the gemeente.

    ``rows``: per year {year, min, max, worst20, best20, gemeente}.
    """
    years = [r["year"] for r in rows]

    def col(key):
        return [_round(r.get(key), unit) for r in rows]

    hover = fmt.hover_format(unit)
    low_high = [(min(a, b) if a is not None and b is not None else None,
                 max(a, b) if a is not None and b is not None else None)
                for a, b in zip(col("worst20"), col("best20"))]
    traces = [
        {"type": "scatter", "mode": "lines", "x": years, "y": col("min"), "name": "laagste buurt",
         "line": {"color": "#6B8FB3", "width": 1}, "showlegend": False,
         "hovertemplate": f"%{{x}}: {hover}<extra>laagste buurt</extra>"},
        {"type": "scatter", "mode": "lines", "x": years, "y": col("max"), "name": "laagste tot hoogste buurt",
         "fill": "tonexty", "fillcolor": C_BAND_OUTER, "line": {"color": "#6B8FB3", "width": 1},
         "hovertemplate": f"%{{x}}: {hover}<extra>hoogste buurt</extra>"},
        {"type": "scatter", "mode": "lines", "x": years, "y": [lo for lo, _ in low_high],
         "name": "20% inwoners, onderkant", "line": {"color": "#08519C", "width": 1}, "showlegend": False,
         "hovertemplate": f"%{{x}}: {hover}<extra>laagste 20% inwoners</extra>"},
        {"type": "scatter", "mode": "lines", "x": years, "y": [hi for _, hi in low_high],
         "name": "gemiddelde van de laagste en hoogste 20% inwoners", "fill": "tonexty",
         "fillcolor": C_BAND_INNER, "line": {"color": "#08519C", "width": 1},
         "hovertemplate": f"%{{x}}: {hover}<extra>hoogste 20% inwoners</extra>"},
        _line(gemeente_name, years, col("gemeente"), C_GEMEENTE, "dash", "square", unit, width=3),
    ]
    return {"data": traces, "layout": {
        "xaxis": {"title": {"text": "jaar"}, "tickmode": "array", "tickvals": years,
                  "range": [min(years) - 0.6, max(years) + 0.6] if years else None},
        "yaxis": y_axis(unit)}}


# --- where the divide grows --------------------------------------------------------------------------------


def small_multiples(panels: list[dict], unit: str, gemeente_name: str, columns: int = 2) -> dict:
    """Small charts side by side, each a buurt's line against the gemeente's, on one shared value axis.

    ``panels``: {"title", "years", "buurt": values, "gemeente": values, "row", "col"} (row and col from 0); a
    missing value leaves a gap in the line (never 0). The legend names the two lines once.
    """
    rows = max((p["row"] for p in panels), default=0) + 1
    gap_x, gap_y = 0.08, 0.16 if rows > 1 else 0.0
    width, height = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    hover = fmt.hover_format(unit)
    traces, annotations, layout = [], [], {}
    all_years = sorted({y for p in panels for y in p["years"]})
    for i, p in enumerate(panels):
        n = "" if i == 0 else str(i + 1)
        x0 = p["col"] * (width + gap_x)
        y1 = 1 - p["row"] * (height + gap_y)
        layout[f"xaxis{n}"] = {"domain": [round(x0, 4), round(x0 + width, 4)], "anchor": f"y{n}",
                               "tickmode": "array", "tickvals": [all_years[0], all_years[-1]] if all_years else [],
                               "range": [all_years[0] - 0.5, all_years[-1] + 0.5] if all_years else None,
                               "gridcolor": "#e6e6e6", "fixedrange": True, "tickformat": "d"}
        layout[f"yaxis{n}"] = {"domain": [round(y1 - height, 4), round(y1, 4)], "anchor": f"x{n}",
                               "tickformat": fmt.tick_format(unit), "gridcolor": "#e6e6e6", "fixedrange": True,
                               "automargin": True, **({} if i == 0 else {"matches": "y"}),
                               **({"rangemode": "tozero"} if unit in ZERO_BASED_UNITS else {})}
        xs = list(p["years"])
        traces.append({**_line(p["name"], xs, [_round(v, unit) for v in p["buurt"]], C_AREA, "solid", "circle",
                               unit, show_legend=False, width=2), "xaxis": f"x{n}", "yaxis": f"y{n}"})
        traces.append({**_line(gemeente_name, xs, [_round(v, unit) for v in p["gemeente"]], C_GEMEENTE, "dash",
                               "square", unit, show_legend=False, width=2), "xaxis": f"x{n}", "yaxis": f"y{n}"})
        annotations.append({"text": text(p["title"]), "x": round(x0, 4), "y": round(y1, 4), "xref": "paper",
                            "yref": "paper", "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 12}})
        for t in traces[-2:]:
            t["marker"]["size"] = 5
            t["hovertemplate"] = f"%{{x}}: {hover}<extra>{t['name']}</extra>"
    legend = [  # the two lines, named once
        {"type": "scatter", "mode": "lines", "x": [None], "y": [None], "name": "buurt",
         "line": {"color": C_AREA, "width": 2}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "x": [None], "y": [None], "name": text(gemeente_name),
         "line": {"color": C_GEMEENTE, "width": 2, "dash": "dash"}, "hoverinfo": "skip"},
    ]
    return {"data": traces + legend, "layout": {**layout, "annotations": annotations, "hovermode": "closest",
                                                 "margin": {"l": 70, "r": 20, "t": 60, "b": 30},
                                                 "legend": {"orientation": "h", "x": 0, "y": 1.08,
                                                            "yanchor": "bottom"}}}


def group_changes_chart(years: list[int], entered: list[int], left: list[int]) -> dict:
    """Per year, how many buurten came into and how many left the worst-off 20% (bars side by side)."""
    return {"data": [
        {"type": "bar", "name": "erbij gekomen", "x": years, "y": entered, "marker": {"color": C_WIDENS},
         "hovertemplate": "%{x}: %{y} erbij<extra></extra>"},
        {"type": "bar", "name": "eruit gegaan", "x": years, "y": left, "marker": {"color": C_NARROWS},
         "hovertemplate": "%{x}: %{y} eruit<extra></extra>"},
    ], "layout": {
        "barmode": "group",
        "xaxis": {"title": {"text": "jaar"}, "tickmode": "array", "tickvals": years,
                  "range": [min(years) - 0.6, max(years) + 0.6] if years else None},
        "yaxis": {"title": {"text": "aantal buurten"}, "rangemode": "tozero", "tickformat": "d", "dtick": 1}}}


def contributions_chart(names: list[str], values: list[float], unit_title: str, hover: str,
                        tickformat: str | None = None) -> dict:
    """Each buurt's contribution to the change of the gap as horizontal bars, largest at the top: orange widens
    the gap, blue narrows it (and the hatching tells them apart without colour). ``names`` must be unique (a
    category axis puts equal names on one row)."""
    names, values = names[::-1], values[::-1]  # plotly draws the first category at the bottom
    return {"data": [{
        "type": "bar", "orientation": "h", "y": [text(n) for n in names],
        "x": [round(float(v), 6) for v in values], "name": "bijdrage",
        "marker": {"color": [C_WIDENS if v > 0 else C_NARROWS for v in values],
                   "pattern": {"shape": ["" if v > 0 else "/" for v in values], "fgcolor": "#ffffff"}},
        "hovertemplate": f"%{{y}}: {hover}<extra></extra>", "showlegend": False,
    }], "layout": {
        "xaxis": {"title": {"text": text(unit_title)}, "zeroline": True, "zerolinecolor": "#1a1a1a",
                  "tickformat": tickformat},
        "yaxis": {"automargin": True, "tickmode": "linear", "type": "category"},
        "hovermode": "closest", "margin": {"l": 20, "r": 20, "t": 20, "b": 50}}}


# --- maps ------------------------------------------------------------------------------------------------


def colour(v, lo, hi, dark_is_low: bool = False) -> str:
    """A value's colour on reversed viridis (light = low, dark = high; ``dark_is_low``: the other way round);
    grey when missing."""
    if fmt.is_missing(v) or lo is None or hi is None:
        return C_MISSING
    t = 0.5 if hi == lo else (float(v) - lo) / (hi - lo)
    t = min(1.0, max(0.0, t)) if dark_is_low else 1 - min(1.0, max(0.0, t))
    pos = t * (len(VIRIDIS) - 1)
    i = min(int(pos), len(VIRIDIS) - 2)
    f = pos - i
    a, b = VIRIDIS[i], VIRIDIS[i + 1]
    mix = [round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def colorscale() -> list:
    """The plotly colorscale matching :func:`colour` (for the colour bar)."""
    rev = list(reversed(VIRIDIS))
    return [[i / (len(rev) - 1), c] for i, c in enumerate(rev)]


def map_figure(outlines: list[tuple[str, str, list, list]], values: dict[str, tuple[float | None, str]],
               unit: str, legend_title: str, dark_is_low: bool = False) -> dict:
    """A choropleth of filled polygons on plain axes: no base map, no tiles, nothing fetched.

    ``outlines``: (code, name, xs, ys) with rings separated by None (from :func:`outline`);
    ``values``: code -> (value, formatted value). Each area is one trace (``meta`` = its code), so a page
    can recolour it for another indicator without sending the shapes again.
    """
    nums = [v for v, _ in values.values() if not fmt.is_missing(v)]
    lo, hi = (min(nums), max(nums)) if nums else (None, None)
    traces = []
    lats: list[float] = []
    for code, name, xs, ys in outlines:
        v, shown = values.get(code, (None, fmt.MISSING))
        lats += [y for y in ys[:1] if y is not None]
        traces.append({
            "type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself",
            "fillcolor": colour(v, lo, hi, dark_is_low), "line": {"color": "#FFFFFF", "width": 0.8},
            "hoveron": "fills", "hoverinfo": "text", "text": text(f"{name}: {shown}"), "name": text(name),
            "meta": code, "showlegend": False,
        })
    x0 = next((x for _, _, xs, _ in outlines for x in xs if x is not None), 0)
    y0 = next((y for _, _, _, ys in outlines for y in ys if y is not None), 0)
    traces.append({  # the colour bar: one invisible marker carrying the scale
        "type": "scatter", "mode": "markers", "x": [x0], "y": [y0], "hoverinfo": "skip", "showlegend": False,
        "meta": "colorbar",
        "marker": {"size": 0.1, "opacity": 0, "color": [lo if lo is not None else 0],
                   "cmin": lo if lo is not None else 0, "cmax": hi if hi is not None else 1,
                   "colorscale": colorscale(), "reversescale": dark_is_low, "showscale": lo is not None,
                   "colorbar": {"title": {"text": text(legend_title)}, "thickness": 14, "len": 0.8,
                                "tickformat": fmt.tick_format(unit)}},
    })
    traces.append({  # a legend entry for areas without a value
        "type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": fmt.MISSING, "meta": "missing",
        "marker": {"symbol": "square", "size": 12, "color": C_MISSING, "line": {"color": "#767676", "width": 1}},
        "hoverinfo": "skip", "showlegend": True,
    })
    mean_lat = sum(lats) / len(lats) if lats else 52.0
    return {"data": traces, "layout": {
        "xaxis": {"visible": False}, "showlegend": True,
        "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": round(1 / math.cos(math.radians(mean_lat)), 4)},
        "legend": {"orientation": "h", "y": -0.02}, "margin": {"l": 10, "r": 10, "t": 10, "b": 30},
        "hovermode": "closest"}}


def outline(polygons, simplify=None) -> tuple[list, list]:
    """Polygons (lists of rings) -> x and y lists with None between rings, rounded to ~1 m (5 decimals)."""
    xs: list = []
    ys: list = []
    for polygon in polygons:
        for ring in polygon:
            pts = simplify(ring) if simplify else ring
            if xs:
                xs.append(None)
                ys.append(None)
            xs += [round(p[0], 5) for p in pts]
            ys += [round(p[1], 5) for p in pts]
    return xs, ys
