"""Chart titles that state the finding, in plain Dutch.

A poverty coordinator reads the title and perhaps nothing else, so the title says what the chart shows
("De inkomenskloof tussen buurten is sinds 2015 groter geworden"), not what it is ("Kloof per jaar").
The divide findings come from the labels in divide.trends, so the page says exactly what the trend rule
(bwm.divide.measures.trends_by_segment: at least three years, at least 5% change, slope agreeing, and the interval
of the change excluding zero) concluded, and ``label_reason`` says why (:func:`trend_note`). Where the divide grows
(divide.decomposition) is one sentence (:func:`decomposition_sentence`): a signal, not a verdict.
The plain Dutch names of the divide measures are those of bwm.divide.registry.
"""

from __future__ import annotations

from bwm.site import format as fmt

#: divide.trends label -> what it means in a sentence.
TREND_PHRASES = {
    "widening": "groter geworden",
    "narrowing": "kleiner geworden",
    "no clear change": "geen duidelijke verandering",
    "too few years": "te weinig jaren om iets te zeggen",
}
#: divide.trends label -> the CSS class of its label on the pages ('geen duidelijke verandering' is grey, as the
#: CBS monitors show a change that is not significant).
TREND_CLASSES = {"widening": "trend-up", "narrowing": "trend-down", "no clear change": "trend-none",
                 "too few years": "trend-none"}
#: interval_method -> what the band around a divide line is, in one line.
INTERVAL_NOTES = {
    "monte_carlo_95": "De band om de lijn is de 95%-onzekerheidsmarge.",
    "rounding_range": "De band om de lijn is de marge door afronding door het CBS.",
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
    if label == "no clear change":
        return f"{subject}: sinds {first_year} {TREND_PHRASES[label]}"
    return f"{subject} is sinds {first_year} {TREND_PHRASES.get(label, label)}"


def trend_note(label: str | None, reason: str | None, method: str | None) -> str | None:
    """Why a divide trend got its label, in one plain sentence (from divide.trends' label_reason and the interval
    method of the change): a widening or narrowing is a change larger than the uncertainty."""
    if label is None:
        return None
    margin = "de marge door afronding door het CBS" if method == "rounding_range" else "de 95%-onzekerheidsmarge"
    if label in ("widening", "narrowing"):
        if reason == "clear_change_no_interval" or method is None:
            return "Een duidelijke verandering: meer dan 5% in dezelfde richting; voor deze cijfers is geen " \
                   "onzekerheidsmarge bekend."
        return f"Een duidelijke verandering: groter dan {margin}."
    if label == "too few years":
        return "Er zijn minder dan drie jaren met cijfers."
    return {
        "interval_includes_zero": f"De verandering valt binnen {margin}.",
        "change_below_threshold": "De verandering is kleiner dan 5% van het eerste jaar.",
        "slope_disagrees": "De jaren laten geen duidelijke richting zien.",
    }.get(reason, "De cijfers laten geen duidelijke verandering zien.")


def behind_ahead_title(behind: str | None, ahead: str | None, base_year: int) -> str:
    """The title of the small multiples: the buurt that fell behind the gemeente most and the one that caught up
    most since the base year (either may be missing)."""
    if behind and ahead:
        return f"{behind} bleef sinds {base_year} het meest achter bij de gemeente, {ahead} liep het meest in"
    if behind:
        return f"{behind} bleef sinds {base_year} het meest achter bij de gemeente"
    return f"{ahead} liep sinds {base_year} het meest in op de gemeente"


def contribution_title(name: str, widened: bool, base_year: int) -> str:
    """The title of the contributions chart: the buurt that added most to the change of the gap since the base
    year."""
    change = "de groei" if widened else "het kleiner worden"
    return f"{name} droeg sinds {base_year} het meest bij aan {change} van de kloof"


def group_changes_title(first_year: int, n_in: int, n_out: int) -> str:
    """The title of the changes in the worst-off 20%: how often a buurt came in and went out since ``first_year``."""
    if not n_in and not n_out:
        return f"Sinds {first_year} kwam geen buurt bij de 20% slechtst scorende buurten en ging er geen uit"
    came = f"{n_in} keer kwam een buurt bij de 20% slechtst scorende buurten" if n_in else \
        "geen buurt kwam bij de 20% slechtst scorende buurten"
    went = f"{n_out} keer ging er een uit" if n_out else "er ging geen uit"
    return f"Sinds {first_year}: {came}, {went}"


#: What a buurt's indicator is called in the decomposition sentence (singular); others: "de cijfers" (plural).
DECOMPOSITION_NOUNS = {
    "inkomen_per_inwoner": "het inkomen",
    "huishoudens_laag_inkomen": "het aandeel huishoudens met een laag inkomen",
    "huishoudens_sociaal_minimum": "het aandeel huishoudens rond het sociaal minimum",
}
#: A part of the change counts as small beside the main one below this fraction of it.
SMALL_PART = 0.25


def decomposition_sentence(row: dict | None, indicator_id: str = "") -> str | None:
    """One sentence on why the gap between the worst- and best-off 20% changed from the base year to the latest
    year (a row of divide.decomposition): the part that drove the change (the largest of those with the sign of
    the total: value, population or boundary effect), the parts that were small beside it ("niet door ..."), and
    a part that worked the other way. When the boundary effect drives it, the sentence says the buurtindeling
    changed. None without a change or without the parts."""
    if not row:
        return None
    total = row.get("total_change")
    base, latest = row.get("base_year"), row.get("latest_year")
    if fmt.is_missing(total) or base is None or latest is None or base == latest:
        return None
    when = f"Tussen {base} en {latest}"
    if not row.get("n_common"):
        return (f"{when} is de buurtindeling helemaal veranderd: geen buurt telt in beide jaren mee, dus de "
                "verandering van de kloof komt geheel door de nieuwe indeling en zegt niets over de buurten zelf.")
    parts = {k: row.get(f"{k}_effect") for k in ("value", "population", "boundary")}
    if any(fmt.is_missing(v) for v in parts.values()):
        return None
    if total == 0:
        return f"{when} is de kloof niet veranderd."
    up = total > 0
    verb = "groeide" if up else "kromp"
    driver = max((k for k, v in parts.items() if (v > 0) == up and v != 0), key=lambda k: abs(parts[k]))
    big = abs(parts[driver])
    noun = DECOMPOSITION_NOUNS.get(indicator_id)
    moved = ("verder uit elkaar ging lopen" if up else "naar elkaar toe groeide") if noun else \
        ("verder uit elkaar gingen lopen" if up else "naar elkaar toe groeiden")
    values = f"doordat {noun} in de buurten {moved}" if noun else f"doordat de cijfers van de buurten {moved}"
    because = {
        "value": values,
        "population": "doordat de inwoners zich anders over de buurten verdeelden (verhuizingen, nieuwbouw of sloop)",
        "boundary": "doordat er buurten bijkwamen, verdwenen of anders begrensd werden",
    }
    by = {"value": "veranderde cijfers in de buurten", "population": "verhuizingen",
          "boundary": "een andere buurtindeling"}
    small = [by[k] for k in ("value", "population", "boundary") if k != driver and abs(parts[k]) < SMALL_PART * big]
    against = [by[k] for k in ("value", "population", "boundary")
               if k != driver and (parts[k] > 0) != up and parts[k] != 0 and abs(parts[k]) >= SMALL_PART * big]
    sentence = f"{when} {verb} de kloof vooral {because[driver]}"
    if driver == "boundary":
        sentence = f"De buurtindeling is veranderd: {sentence[0].lower()}{sentence[1:]}"
    if small:
        sentence += ", niet door " + " of ".join(small)
    if against:
        plural = len(against) > 1 or against[0] != by["boundary"]
        sentence += f"; {' en '.join(against)} {'werkten' if plural else 'werkte'} juist de andere kant op"
    return sentence + "."


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


def area_title(indicator_name: str, first_year, first, last_year, last, reference, reference_name: str,
               direction: str = "neutral") -> str:
    """The finding of an area's time series: how it moved, whether that is favourable (by the indicator's
    direction; a neutral indicator says neither), and where it stands against a reference area.

    ``"Gemiddeld inkomen per inwoner: sinds 2013 gestegen (gunstig), lager dan in Zuiderhaven"``.
    """
    if fmt.is_missing(last):
        return f"{indicator_name}: geen gegevens voor {last_year}" if last_year else f"{indicator_name}: geen gegevens"
    parts = []
    moved = change_word(first, last)
    if moved and first_year is not None and first_year != last_year:
        verdict = judgement(first, last, direction)
        parts.append(f"sinds {first_year} {moved}" + (f" ({verdict})" if verdict else ""))
    against = compare_word(last, reference)
    if against == "ongeveer gelijk aan":
        parts.append(f"ongeveer gelijk aan {reference_name}")
    elif against:
        parts.append(f"{against} in {reference_name}")
    if not parts:
        return f"{indicator_name} in {last_year}"
    return f"{indicator_name}: {', '.join(parts)}"


#: The plain bands of a theme score (the mean, over the theme's indicators, of how many standard deviations an
#: area lies from the mean of all areas of its level; positive is better-off), symmetric around 0:
#: score >= 1 | 0.25 <= score < 1 | -0.25 < score < 0.25 | -1 < score <= -0.25 | score <= -1.
#: The about page and the README state the same boundaries.
THEME_BAND_EDGES = (0.25, 1.0)
THEME_BANDS = ("veel minder gunstig dan gemiddeld", "minder gunstig dan gemiddeld", "rond het gemiddelde",
               "gunstiger dan gemiddeld", "veel gunstiger dan gemiddeld")
#: The signal when the score covers too few of the theme's indicators (publish.theme_scores.coverage_met).
THEME_TOO_FEW = "geen signaal: te weinig cijfers"


def theme_signal(score, coverage_met: bool = True) -> str:
    """The theme summary as words in a documented band (:data:`THEME_BANDS`): it ranks areas against each
    other, it is not a verdict. No words when the score covers too few indicators."""
    if fmt.is_missing(score):
        return fmt.MISSING
    if not coverage_met:
        return THEME_TOO_FEW
    near, far = THEME_BAND_EDGES
    if score >= far:
        return THEME_BANDS[4]
    if score >= near:
        return THEME_BANDS[3]
    if score > -near:
        return THEME_BANDS[2]
    if score > -far:
        return THEME_BANDS[1]
    return THEME_BANDS[0]
