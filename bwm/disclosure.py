"""Disclosure control for the figures we publish ourselves (municipal data files): pure, no I/O.

Municipal figures describe vulnerable people (debt counselling, bijstand, food bank clients), so nothing
that identifies a small group may reach a page or an export. Two rules, applied per (indicator, year)
over one municipality's hierarchy gemeente > wijken > buurten:

* **Primary suppression.** A count below ``min_count`` (BWM_DISCLOSURE_MIN_COUNT, default 10), and a rate
  (percentage, per 1 000) based on fewer than ``min_cases`` cases (BWM_DISCLOSURE_MIN_CASES, default 10),
  is suppressed: ``suppressed_small_count``. Zero is a count below the threshold too.
* **Secondary suppression.** A total is the sum of its parts (wijk = its buurten, gemeente = its wijken;
  for rates the numerators and the numbers of cases add up the same way). A single suppressed cell in
  such a relation can be recovered by subtraction (the wijk total minus the sibling buurten). So every
  relation {parent, children} must hold no suppressed cell or at least two. Where exactly one is
  suppressed, we also suppress the child with the smallest size (count, or number of cases for rates;
  ties by area code): the loss of information is then smallest. If the suppressed cell is the parent's
  only child, the parent is suppressed instead (it equals the child); if the suppressed cell is the
  parent and all its children are shown, the smallest child is suppressed. Each new suppression can
  leave another relation with a single suppressed cell (a wijk suppressed at gemeente level), so the
  rule repeats until no relation has exactly one: ``suppressed_secondary``.

What this protects against, and what not: no suppressed cell can be computed exactly from the published
cells of the same indicator and year (``tests/test_disclosure.py`` checks this with linear algebra on
random hierarchies). Bounds remain (two suppressed cells that sum to 14 are each at most 14), differences
between years are not protected, and a count and a rate of the same people in separate indicators are not
linked; declare such pairs with care.

CBS's own figures are not touched here: CBS applies its disclosure control before publishing, and what it
suppressed stays missing with its own reason (``suppressed_by_cbs``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

SUPPRESSED_SMALL_COUNT = "suppressed_small_count"
SUPPRESSED_SECONDARY = "suppressed_secondary"

#: Every missing_reason a published value can carry, with the marker used in wide exports and its
#: explanation (Dutch, English). The notes sheet of every export lists them.
MISSING_REASONS: dict[str, tuple[str, str, str]] = {
    SUPPRESSED_SMALL_COUNT: (
        "x",
        "Geheim: een aantal kleiner dan de drempel, of een percentage op minder waarnemingen dan de drempel "
        "(primaire onderdrukking door de monitor).",
        "Suppressed: a count below the threshold, or a rate based on fewer cases than the threshold "
        "(primary suppression by the monitor).",
    ),
    SUPPRESSED_SECONDARY: (
        "x*",
        "Geheim: weggelaten zodat een ander geheim gebied niet uit het totaal min de overige gebieden "
        "te berekenen is (secundaire onderdrukking door de monitor).",
        "Suppressed so that another suppressed area cannot be computed as the total minus the other "
        "areas (secondary suppression by the monitor).",
    ),
    "suppressed_by_cbs": (
        ".",
        "Ontbreekt: het CBS heeft dit cijfer niet gepubliceerd (geheim of te weinig waarnemingen bij het CBS).",
        "Missing: CBS did not publish this figure (its own disclosure control or too few observations).",
    ),
    "not_published": (
        "n.b.",
        "Niet beschikbaar: de bron bevat dit cijfer niet voor dit jaar of dit gebied.",
        "Not available: the source has no figure for this year or this area.",
    ),
    "no_denominator": (
        "n.v.t.",
        "Niet te berekenen: de noemer van de verhouding is 0 of onbekend.",
        "Cannot be computed: the ratio's denominator is 0 or unknown.",
    ),
    "denominator_too_small": (
        "k.n.",
        "Weggelaten: de noemer is te klein voor een betrouwbare verhouding (het CBS rondt kleine aantallen af).",
        "Left out: the denominator is too small for a reliable ratio (CBS rounds small counts).",
    ),
    "inconsistent_counts": (
        "i.a.",
        "Weggelaten: de afgeronde teller is groter dan de afgeronde noemer.",
        "Left out: the rounded numerator exceeds the rounded denominator.",
    ),
}
#: A marker for a reason this module does not know (a newer layer added one); never empty.
UNKNOWN_MARKER = "?"


def marker(reason: str | None) -> str | None:
    """The short marker shown in a wide table for a missing value with this reason (None when not missing)."""
    if reason is None:
        return None
    return MISSING_REASONS.get(reason, (UNKNOWN_MARKER,))[0]


@dataclass(frozen=True)
class DisclosureRule:
    """The thresholds; counts and numbers of cases below them are never published."""

    min_count: float = 10
    min_cases: float = 10

    def is_primary(self, kind: str, value: float | None, n_cases: float | None) -> bool:
        """Whether a cell must be suppressed on its own: ``kind`` is 'count' or 'rate'."""
        if kind == "count":
            return value is not None and value < self.min_count
        if kind == "rate":
            # A rate without a known number of cases cannot be judged, so it is not published.
            return n_cases is None or n_cases < self.min_cases
        raise ValueError(f"kind must be 'count' or 'rate', not {kind!r}")


def suppress(parent: Mapping[str, str | None], size: Mapping[str, float], primary: Iterable[str]) -> dict[str, str]:
    """Primary plus secondary suppression on one hierarchy; returns ``{cell: reason}`` for suppressed cells.

    ``parent`` maps every published cell to its parent cell (None, or a cell not in ``parent``, for the top);
    a parent's value must be the sum of its children in ``parent``. ``size`` is what "smallest" means when
    a secondary cell is chosen (the count, or the number of cases of a rate). ``primary`` are the cells
    that fail the rule on their own.
    """
    children: dict[str, list[str]] = defaultdict(list)
    for cell, up in parent.items():
        if up is not None and up in parent:
            children[up].append(cell)
    groups = {p: sorted(kids) for p, kids in children.items()}
    suppressed = {cell: SUPPRESSED_SMALL_COUNT for cell in primary if cell in parent}
    changed = True
    while changed:
        changed = False
        for p in sorted(groups):
            kids = groups[p]
            hidden = [c for c in (p, *kids) if c in suppressed]
            if len(hidden) != 1:
                continue
            shown = [c for c in kids if c not in suppressed]
            # A lone suppressed child without siblings to hide behind: the parent equals it, hide the parent.
            pick = min(shown, key=lambda c: (size.get(c, 0.0), c)) if shown else p
            suppressed[pick] = SUPPRESSED_SECONDARY
            changed = True
    return suppressed
