"""Chart titles that state the finding, in plain Dutch.

A poverty coordinator reads the title and perhaps nothing else, so the title says what the chart shows
("De inkomenskloof tussen buurten is sinds 2015 groter geworden"), not what it is ("Kloof per jaar").
The divide findings come from the labels in divide.trends, so the page says exactly what the trend rule
(bwm.divide.measures.trends_by_segment: at least three years, at least 5% change, slope agreeing) concluded.
The plain Dutch names of the divide measures are those of bwm.divide.registry.
"""

from __future__ import annotations

from bwm.site import format as fmt

#: divide.trends label -> what it means in a sentence.
TREND_PHRASES = {
    "widening": "groter geworden",
    "narrowing": "kleiner geworden",
    "no clear change": "niet duidelijk veranderd",
    "too few years": "te weinig jaren om iets te zeggen",
}

LEVEL_PLURAL = {"buurt": "buurten", "wijk": "wijken"}

#: Relative change (of the first value) below which an area's indicator counts as unchanged.
STABLE_FRACTION = 0.02


def divide_subject(indicator_id: str, indicator_name: str, measure: str, level: str = "buurt") -> str:
    """What the divide chart is about, as the subject of a sentence."""
    between = LEVEL_PLURAL.get(level, "buurten")
    if indicator_id == "inkomen_per_inwoner" and measure in ("gap", "ratio"):
        return f"De inkomenskloof tussen {between}"
    if measure == "theil_total":
        return f"De inkomensongelijkheid tussen {between} (Theil-index)"
    if measure in ("theil_between", "theil_within"):
        return f"De inkomensongelijkheid {'tussen' if measure == 'theil_between' else 'binnen'} wijken (Theil-index)"
    if measure == "dissimilarity":
        return "De ruimtelijke scheiding van huishoudens met een laag inkomen"
    if measure == "concentration_share_pct":
        return "Het aandeel inwoners in buurten met veel huishoudens rond het sociaal minimum"
    return f"De kloof tussen {between} in {indicator_name[:1].lower()}{indicator_name[1:]}"


def divide_title(subject: str, label: str | None, first_year: int | None) -> str:
    """``"De inkomenskloof tussen buurten is sinds 2015 groter geworden"`` from a divide.trends label."""
    if label is None:
        return f"{subject}: geen gegevens"
    if label == "too few years" or first_year is None:
        return f"{subject}: {TREND_PHRASES['too few years']}"
    return f"{subject} is sinds {first_year} {TREND_PHRASES.get(label, label)}"


def change_word(first, last, direction: str = "neutral") -> str | None:
    """'gestegen', 'gedaald' or 'vrijwel gelijk gebleven' (None when one of the two is missing)."""
    if fmt.is_missing(first) or fmt.is_missing(last):
        return None
    base = abs(first) if first else 1.0
    if abs(last - first) <= STABLE_FRACTION * base:
        return "vrijwel gelijk gebleven"
    return "gestegen" if last > first else "gedaald"


def judgement(first, last, direction: str) -> str | None:
    """'gunstig', 'ongunstig' or None (neutral indicators, no clear change, missing): the direction's verdict."""
    word = change_word(first, last)
    if word in (None, "vrijwel gelijk gebleven") or direction == "neutral":
        return None
    up = word == "gestegen"
    return "gunstig" if up == (direction == "higher_is_better") else "ongunstig"


def compare_word(value, reference) -> str | None:
    """'hoger dan', 'lager dan' or 'ongeveer gelijk aan' (None when either is missing)."""
    if fmt.is_missing(value) or fmt.is_missing(reference):
        return None
    base = abs(reference) if reference else 1.0
    if abs(value - reference) <= STABLE_FRACTION * base:
        return "ongeveer gelijk aan"
    return "hoger dan" if value > reference else "lager dan"


def area_title(indicator_name: str, first_year, first, last_year, last, reference, reference_name: str) -> str:
    """The finding of an area's time series: how it moved, and where it stands against a reference area.

    ``"Gemiddeld inkomen per inwoner: sinds 2013 gestegen, lager dan in Zuiderhaven"``.
    """
    if fmt.is_missing(last):
        return f"{indicator_name}: geen gegevens voor {last_year}" if last_year else f"{indicator_name}: geen gegevens"
    parts = []
    moved = change_word(first, last)
    if moved and first_year is not None and first_year != last_year:
        parts.append(f"sinds {first_year} {moved}")
    against = compare_word(last, reference)
    if against == "ongeveer gelijk aan":
        parts.append(f"ongeveer gelijk aan {reference_name}")
    elif against:
        parts.append(f"{against} in {reference_name}")
    if not parts:
        return f"{indicator_name} in {last_year}"
    return f"{indicator_name}: {', '.join(parts)}"


def theme_signal(score) -> str:
    """The theme summary as words: it ranks areas against each other, it is not a verdict."""
    if fmt.is_missing(score):
        return fmt.MISSING
    if score >= 0.25:
        return "gunstiger dan gemiddeld"
    if score <= -0.25:
        return "minder gunstig dan gemiddeld"
    return "rond het gemiddelde"
