"""Dutch number and date formats for the pages: 1.234,5; 12,3%; € 32.300; 1 maart 2025.

Every number a reader sees on the site goes through here, so a value CBS suppressed is always written
"geen gegevens" and never 0, and the charts (which format their own hover labels) use the same separators
(`PLOTLY_SEPARATORS`).
"""

from __future__ import annotations

import math
from datetime import date, datetime

#: What the site writes for a value that is missing (suppressed by CBS, not published, no denominator).
MISSING = "geen gegevens"

#: Plotly's `layout.separators`: decimal mark first, then the thousands separator.
PLOTLY_SEPARATORS = ",."

#: Decimals per catalogue unit: euros are whole, percentages and rates one decimal, distances one decimal.
UNIT_DECIMALS = {"eur": 0, "pct": 1, "per_1000": 1, "km": 1, "persons": 0, "count": 0}

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, decimals: int = 0) -> str:
    """``1234.5`` -> ``"1.234,5"`` (point for thousands, comma for decimals); missing -> "geen gegevens"."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # -0,0 reads as a negative value that is not there
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(value, decimals: int = 1) -> str:
    """``12.34`` (already in percent) -> ``"12,3%"``."""
    return MISSING if is_missing(value) else f"{number(value, decimals)}%"


def euro(value, decimals: int = 0) -> str:
    """``32300`` -> ``"€ 32.300"``; negative amounts as ``"-€ 1.200"``."""
    if is_missing(value):
        return MISSING
    sign = "-" if float(value) < 0 and round(abs(float(value)), decimals) > 0 else ""
    return f"{sign}€ {number(abs(float(value)), decimals)}"


def value(v, unit: str) -> str:
    """A value in a catalogue unit, with its unit: ``€ 32.300``, ``12,3%``, ``4,5 per 1.000``, ``1,2 km``."""
    if is_missing(v):
        return MISSING
    decimals = UNIT_DECIMALS.get(unit, 1)
    if unit == "eur":
        return euro(v, decimals)
    if unit == "pct":
        return percent(v, decimals)
    if unit == "per_1000":
        return f"{number(v, decimals)} per 1.000"
    if unit == "km":
        return f"{number(v, decimals)} km"
    return number(v, decimals)


def difference(d, unit: str) -> str:
    """A signed difference in a unit: ``+€ 1.200``, ``-3,4 procentpunt``, ``+0,5 km``."""
    if is_missing(d):
        return MISSING
    decimals = UNIT_DECIMALS.get(unit, 1)
    if round(abs(float(d)), decimals) == 0:
        return "0"
    sign = "+" if d > 0 else "-"
    magnitude = abs(float(d))
    if unit == "eur":
        return f"{sign}€ {number(magnitude, decimals)}"
    if unit == "pct":
        return f"{sign}{number(magnitude, decimals)} procentpunt"
    if unit == "per_1000":
        return f"{sign}{number(magnitude, decimals)} per 1.000"
    if unit == "km":
        return f"{sign}{number(magnitude, decimals)} km"
    return f"{sign}{number(magnitude, decimals)}"


def measure(v, kind: str, unit: str) -> str:
    """A divide measure: in the indicator's unit (gap, std), a ratio (×1,23), an index (0,0123) or a share."""
    if is_missing(v):
        return MISSING
    if kind in ("gap", "weighted_std") and unit == "pct":
        return f"{number(v, UNIT_DECIMALS['pct'])} procentpunt"  # a difference of percentages
    if kind in ("gap", "weighted_std", "worst20_mean", "best20_mean"):
        return value(v, unit)
    if kind == "ratio":
        return f"{number(v, 2)} keer"
    if kind == "concentration_share_pct":
        return percent(v, 1)
    if kind in ("theil_total", "theil_between", "theil_within"):
        return number(v, 4)
    return number(v, 3)  # cv, dissimilarity: unit-free, 0..1


def measure_change(d, kind: str, unit: str) -> str:
    """A signed change of a divide measure, as :func:`measure` writes the measure: ``+€ 1.200``,
    ``-0,8 procentpunt``, ``+0,12 keer``, ``+0,0031``."""
    if is_missing(d):
        return MISSING
    if kind in ("gap", "weighted_std", "worst20_mean", "best20_mean"):
        return difference(d, unit)
    decimals = {"ratio": 2, "concentration_share_pct": 1, "theil_total": 4, "theil_between": 4,
                "theil_within": 4}.get(kind, 3)
    if round(abs(float(d)), decimals) == 0:
        return "0"
    text = f"{'+' if d > 0 else '-'}{number(abs(float(d)), decimals)}"
    if kind == "ratio":
        return f"{text} keer"
    if kind == "concentration_share_pct":
        return f"{text} procentpunt"
    return text


def date_nl(raw) -> str:
    """``"2025-03-27T02:00:00"`` (or a date) -> ``"27 maart 2025"``; unknown -> "onbekend"."""
    if raw is None or raw == "":
        return "onbekend"
    if isinstance(raw, (date, datetime)):
        d = raw
    else:
        try:
            d = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            return str(raw)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def year_span(years) -> str:
    """``[2013, 2014, 2016]`` -> ``"2013–2016"``; one year -> ``"2024"``; none -> "geen jaren"."""
    ys = sorted(set(int(y) for y in years))
    if not ys:
        return "geen jaren"
    return str(ys[0]) if len(ys) == 1 else f"{ys[0]}–{ys[-1]}"


def year_list(years) -> str:
    """``[2012, 2016, 2020, 2022]`` -> ``"2012, 2016, 2020 en 2022"``; a run of consecutive years as a span."""
    ys = sorted(set(int(y) for y in years))
    if not ys:
        return "geen jaren"
    if ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 2:
        return f"{ys[0]} tot en met {ys[-1]}"
    parts = [str(y) for y in ys]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def hover_format(unit: str) -> str:
    """The d3 format of a value in hover labels (with `PLOTLY_SEPARATORS` it comes out Dutch)."""
    decimals = UNIT_DECIMALS.get(unit, 1)
    prefix = "€ " if unit == "eur" else ""
    suffix = {"pct": "%", "per_1000": " per 1.000", "km": " km"}.get(unit, "")
    return f"{prefix}%{{y:,.{decimals}f}}{suffix}"


def tick_format(unit: str) -> str | None:
    """Axis tick format: whole numbers with a thousands point for euros and counts (not plotly's "20k")."""
    return ",.0f" if unit in ("eur", "persons", "count") else None


def axis_title(unit: str) -> str:
    """The y-axis title of a chart in a catalogue unit."""
    return {"eur": "euro", "pct": "procent (%)", "per_1000": "per 1.000 inwoners", "km": "afstand (km)",
            "persons": "personen", "count": "aantal"}.get(unit, unit)
