"""Disclosure control on constructed hierarchies: small figures, the cells that protect them, one marker, and that
no suppressed cell can be computed from what is published (linear algebra here; the linear-programming attack on
the intervals, with scipy, is tests/test_disclosure_lp.py)."""

import math

import numpy as np
import pytest

from bwm.disclosure import (
    MISSING_REASONS,
    SUPPRESSED_SMALL_COUNT,
    DisclosureRule,
    intervals,
    marker,
    suppress,
)

RULE = DisclosureRule(min_count=10, min_cases=10)
T = 10


def test_primary_rules_for_counts():
    assert RULE.is_primary("count", 9, None)
    assert RULE.is_primary("count", 0, None)  # zero is a small count too
    assert not RULE.is_primary("count", 10, None)
    assert DisclosureRule(min_count=5).is_primary("count", 4, None)
    assert not DisclosureRule(min_count=5).is_primary("count", 5, None)
    with pytest.raises(ValueError, match="kind must be 'count' or 'rate'"):
        RULE.is_primary("mean", 1, None)


@pytest.mark.parametrize(("value", "cases", "factor", "primary"), [
    (10.0, 10, 100, True),     # 1 person of 10
    (0.0, 25, 100, True),      # 0 people of 25
    (50.0, 40, 100, False),    # 20 with and 20 without
    (50.0, 9, 100, True),      # too few cases at all
    (95.0, 100, 100, True),    # 95 with, but only 5 without
    (90.0, 100, 100, False),   # 90 and 10
    (100.0, 80, 100, True),    # nobody without
    (3.0, 10, 100, True),      # 0.3 of a person
    (250.0, 40, 1000, False),  # per 1 000: 10 of 40
    (200.0, 40, 1000, True),   # per 1 000: 8 of 40
    (100 / 3, 30, 100, False),  # 10 of 30, with the floating-point noise of 9.999999999999998
    (50.0, None, 100, True),   # cases unknown: cannot be judged, not published
])
def test_a_rate_needs_enough_people_with_and_without(value, cases, factor, primary):
    assert RULE.is_primary("rate", value, cases, factor=factor) is primary


def test_a_rate_is_judged_on_its_numerator_when_given():
    assert RULE.is_primary("rate", 40.0, 25, numerator=9.0)
    assert not RULE.is_primary("rate", 40.0, 25, numerator=10.0)
    assert RULE.is_primary("rate", 40.0, 25, numerator=16.0)  # 9 without


# A wijk with three buurten: A is small. The wijk total minus B and C would give A, so a sibling is hidden too;
# the wijk total then only gives A + B.
WIJK = {"WK": None, "A": "WK", "B": "WK", "C": "WK"}
WIJK_VALUES = {"WK": 52, "A": 4, "B": 12, "C": 36}


def _primary(values):
    return [c for c, v in values.items() if RULE.is_primary("count", v, None)]


def _suppress(parent, values):
    return suppress(parent, values, _primary(values), T)


def _narrowest(parent, values, hidden) -> float:
    """The narrowest interval an attacker can put on a suppressed cell (exact, by maximum flow)."""
    return min((hi - lo for lo, hi in intervals(parent, values, hidden).values()), default=math.inf)


def test_a_small_buurt_hides_a_sibling():
    hidden = _suppress(WIJK, WIJK_VALUES)
    assert hidden == {"A": SUPPRESSED_SMALL_COUNT, "B": SUPPRESSED_SMALL_COUNT}
    assert intervals(WIJK, WIJK_VALUES, hidden) == {"A": (0, 16), "B": (0, 16)}


def test_two_small_buurten_protect_each_other_if_together_they_reach_the_threshold():
    values = {"WK": 49, "A": 4, "B": 7, "C": 38}
    assert set(_suppress(WIJK, values)) == {"A", "B"}
    # 2 + 3 would tell that each is at most 5: a third buurt goes too.
    tree = {"WK": None, "A": "WK", "B": "WK", "C": "WK", "D": "WK"}
    values = {"WK": 75, "A": 2, "B": 3, "C": 30, "D": 40}
    hidden = _suppress(tree, values)
    assert set(hidden) == {"A", "B", "C"}
    assert _narrowest(tree, values, hidden) >= T


def test_ties_are_broken_by_code():
    values = {"WK": 45, "A": 5, "B": 20, "C": 20}
    assert set(_suppress(WIJK, values)) == {"A", "B"}


def test_the_issue_cases_leave_intervals_of_at_least_the_threshold():
    """Buurten 3, 10, 10 in WK990100 (the old output let the reader compute 3), and 0, 10, 45, 50."""
    tree = {"GM9901": None, "WK990100": "GM9901", "A": "WK990100", "B": "WK990100", "C": "WK990100"}
    values = {"GM9901": 23, "WK990100": 23, "A": 3, "B": 10, "C": 10}
    hidden = _suppress(tree, values)
    assert set(hidden) == {"A", "B"} and set(hidden.values()) == {SUPPRESSED_SMALL_COUNT}
    assert intervals(tree, values, hidden) == {"A": (0, 13), "B": (0, 13)}
    tree = {"WK": None, "A": "WK", "B": "WK", "C": "WK", "D": "WK"}
    values = {"WK": 105, "A": 0, "B": 10, "C": 45, "D": 50}
    hidden = _suppress(tree, values)
    assert intervals(tree, values, hidden) == {"A": (0, 10), "B": (0, 10)}


# A gemeente with three wijken; wijk W1 has two buurten, W2 one buurt (the buurt is the whole wijk), W3 three.
GEMEENTE = {"GM": None, "W1": "GM", "W2": "GM", "W3": "GM",
            "b11": "W1", "b12": "W1", "b21": "W2", "b31": "W3", "b32": "W3", "b33": "W3"}
GEMEENTE_VALUES = {"GM": 160, "W1": 40, "W2": 30, "W3": 90,
                   "b11": 15, "b12": 25, "b21": 30, "b31": 6, "b32": 40, "b33": 44}


def test_protection_reaches_the_gemeente_over_its_wijken():
    """b31 is small: a sibling hides it in W3. W1 and its buurten are small; at gemeente level W1 would be
    GM - W2 - W3, so another wijk goes, and with it (a wijk is the sum of its buurten) its buurt."""
    values = dict(GEMEENTE_VALUES, W1=8, b11=3, b12=5, GM=128)
    hidden = _suppress(GEMEENTE, values)
    assert set(hidden) == {"b31", "b32", "W1", "b11", "b12", "W2", "b21"}
    assert _recoverable(GEMEENTE, values, hidden) == []
    assert _narrowest(GEMEENTE, values, hidden) >= T


def test_an_only_child_takes_a_cousin_rather_than_the_gemeente_total():
    tree = {"GM": None, "W1": "GM", "W2": "GM", "b11": "W1", "b21": "W2", "b22": "W2"}
    values = {"GM": 5 + 60, "W1": 5, "W2": 60, "b11": 5, "b21": 25, "b22": 35}
    hidden = _suppress(tree, values)
    # W1 (5) is small itself; b11 (5) equals it. At gemeente level W2 must then go as well, and with it one of
    # its buurten (b21, the smaller). Hiding the gemeente total instead would hide less in sum, but totals are
    # spared.
    assert set(hidden) == {"W1", "b11", "W2", "b21"}
    assert _recoverable(tree, values, hidden) == []
    assert _narrowest(tree, values, hidden) >= T


def test_a_lone_gemeente_figure_and_a_single_chain():
    assert _suppress({"GM": None}, {"GM": 4}) == {"GM": SUPPRESSED_SMALL_COUNT}
    assert intervals({"GM": None}, {"GM": 4}, ["GM"]) == {"GM": (0, math.inf)}  # no total bounds it
    tree = {"GM": None, "W1": "GM", "b1": "W1"}
    values = {"GM": 4, "W1": 4, "b1": 4}
    assert set(_suppress(tree, values)) == {"GM", "W1", "b1"}
    assert _narrowest(tree, values, _suppress(tree, values)) == math.inf


def _rate_tree(num, den):
    tree = {"WK": None, **{c: "WK" for c in num}}
    num, den = dict(num, WK=sum(num.values())), dict(den, WK=sum(den.values()))
    primary = [c for c in tree if RULE.is_primary("rate", None, den[c], numerator=num[c])]
    hidden = suppress(tree, {c: (num[c], den[c] - num[c]) for c in tree}, primary, T, cost=den)
    comp = {c: den[c] - num[c] for c in tree}
    return tree, num, comp, primary, hidden


def test_a_rate_with_few_people_hides_a_sibling_with_enough_people():
    # A: 1 of 10 (10%). Its numerator would be the wijk's minus the others'; C has the fewest cases, but a
    # numerator of 10 (of 50): enough to hide a numerator of 1 (interval 0..11).
    tree, num, comp, primary, hidden = _rate_tree({"A": 1, "B": 30, "C": 10}, {"A": 10, "B": 60, "C": 50})
    assert primary == ["A"] and set(hidden) == {"A", "C"}
    assert intervals(tree, num, hidden) == {"A": (0, 11), "C": (0, 11)}
    assert intervals(tree, comp, hidden) == {"A": (0, 49), "C": (0, 49)}


def test_a_rate_with_few_people_without_hides_a_sibling_with_enough_without():
    # A: 9 of 10 (90%): 1 without. C (40 of 50) has 10 without, B (10 of 100) 90: C has fewer cases.
    tree, num, comp, primary, hidden = _rate_tree({"A": 9, "B": 10, "C": 40}, {"A": 10, "B": 100, "C": 50})
    assert primary == ["A"] and set(hidden) == {"A", "C"}
    assert intervals(tree, comp, hidden) == {"A": (0, 11), "C": (0, 11)}
    # Two rates each with few people: together 2 + 3 would bound each to 0..5, so a third goes too.
    tree, num, comp, primary, hidden = _rate_tree({"A": 2, "B": 3, "C": 20, "D": 30},
                                                  {"A": 30, "B": 30, "C": 40, "D": 60})
    assert primary == ["A", "B"] and set(hidden) == {"A", "B", "C"}
    assert min(hi - lo for lo, hi in intervals(tree, num, hidden).values()) >= T


def test_nothing_small_nothing_hidden():
    assert suppress(GEMEENTE, GEMEENTE_VALUES, [], T) == {}


def _recoverable(parent, values, hidden) -> list[str]:
    """Suppressed cells that the published cells determine exactly, by linear algebra over the relations
    parent = sum(children): a cell is determined when its unit vector lies in the row space of the
    relations restricted to the unknowns."""
    unknown = sorted(hidden)
    if not unknown:
        return []
    col = {c: i for i, c in enumerate(unknown)}
    children = {}
    for c, p in parent.items():
        if p is not None:
            children.setdefault(p, []).append(c)
    rows = []
    for p, kids in children.items():
        row = np.zeros(len(unknown))
        for c, sign in [(p, 1.0)] + [(k, -1.0) for k in kids]:
            if c in col:
                row[col[c]] += sign
        if row.any():
            rows.append(row)
    a = np.array(rows) if rows else np.zeros((0, len(unknown)))
    rank = np.linalg.matrix_rank(a) if len(a) else 0
    out = []
    for c in unknown:
        e = np.zeros(len(unknown))
        e[col[c]] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(c)
    return out


def test_recoverable_finds_a_lone_suppressed_cell():
    """The check itself: the small buurt alone is recoverable from the wijk total, and its interval is a point."""
    assert _recoverable(WIJK, WIJK_VALUES, {"A": SUPPRESSED_SMALL_COUNT}) == ["A"]
    assert intervals(WIJK, WIJK_VALUES, ["A"]) == {"A": (4, 4)}


def random_hierarchy(seed):
    rng = np.random.default_rng(seed)
    parent, values = {"GM": None}, {}
    total_gm = 0
    for w in range(int(rng.integers(1, 6))):
        wk = f"W{w}"
        parent[wk] = "GM"
        total_wk = 0
        for b in range(int(rng.integers(1, 6))):
            bu = f"b{w}{b}"
            parent[bu] = wk
            values[bu] = int(rng.choice([0, 2, 5, 9, 12, 30, 80]))
            total_wk += values[bu]
        values[wk] = total_wk
        total_gm += total_wk
    values["GM"] = total_gm
    return parent, values


@pytest.mark.parametrize("seed", range(40))
def test_no_suppressed_cell_is_recoverable_on_random_hierarchies(seed):
    parent, values = random_hierarchy(seed)
    hidden = _suppress(parent, values)
    assert set(_primary(values)) <= set(hidden)
    assert set(hidden.values()) <= {SUPPRESSED_SMALL_COUNT}
    assert _recoverable(parent, values, hidden) == []
    assert _narrowest(parent, values, hidden) >= T
    for p in {p for p in parent.values() if p}:
        group = [p] + [c for c, q in parent.items() if q == p]
        assert sum(c in hidden for c in group) != 1


def test_one_marker_for_all_of_our_own_suppression():
    assert marker(None) is None
    assert marker(SUPPRESSED_SMALL_COUNT) == "x"
    assert marker("suppressed_by_cbs") == "."
    assert marker("a_reason_added_later") == "?"
    assert "suppressed_secondary" not in MISSING_REASONS
    marks = [m for m, _, _ in MISSING_REASONS.values()]
    assert len(set(marks)) == len(marks) and "x*" not in marks
    assert not any(m.startswith(("=", "+", "-", "@")) for m in marks)
    assert MISSING_REASONS[SUPPRESSED_SMALL_COUNT][1].startswith("Afgeschermd: te weinig personen.")
    # The explanation says that cells are hidden to protect others, never how they are chosen.
    text = " ".join(MISSING_REASONS[SUPPRESSED_SMALL_COUNT][1:]).lower()
    assert "kleinste" not in text and "smallest" not in text
