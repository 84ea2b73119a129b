"""Disclosure control on constructed hierarchies: primary and secondary suppression, and that no suppressed cell
can be computed from what is published."""

import numpy as np
import pytest

from bwm.disclosure import (
    MISSING_REASONS,
    SUPPRESSED_SECONDARY,
    SUPPRESSED_SMALL_COUNT,
    DisclosureRule,
    marker,
    suppress,
)

RULE = DisclosureRule(min_count=10, min_cases=10)


def test_primary_rules_for_counts_and_rates():
    assert RULE.is_primary("count", 9, None)
    assert RULE.is_primary("count", 0, None)  # zero is a small count too
    assert not RULE.is_primary("count", 10, None)
    assert RULE.is_primary("rate", 50.0, 9)  # a rate on 9 cases
    assert not RULE.is_primary("rate", 3.0, 10)
    assert RULE.is_primary("rate", 50.0, None)  # cases unknown: cannot be judged, not published
    assert DisclosureRule(min_count=5).is_primary("count", 4, None)
    assert not DisclosureRule(min_count=5).is_primary("count", 5, None)
    with pytest.raises(ValueError, match="kind must be 'count' or 'rate'"):
        RULE.is_primary("mean", 1, None)


# A wijk with three buurten: A is small (primary). The wijk total minus B and C would give A, so the smallest
# sibling (B, 12) is hidden too; the wijk total then only gives A + B.
WIJK = {"WK": None, "A": "WK", "B": "WK", "C": "WK"}
WIJK_VALUES = {"WK": 52, "A": 4, "B": 12, "C": 36}


def _primary(values):
    return [c for c, v in values.items() if RULE.is_primary("count", v, None)]


def test_a_small_buurt_hides_its_smallest_sibling():
    hidden = suppress(WIJK, WIJK_VALUES, _primary(WIJK_VALUES))
    assert hidden == {"A": SUPPRESSED_SMALL_COUNT, "B": SUPPRESSED_SECONDARY}


def test_two_small_buurten_protect_each_other():
    values = {"WK": 49, "A": 4, "B": 7, "C": 38}
    assert suppress(WIJK, values, _primary(values)) == {"A": SUPPRESSED_SMALL_COUNT, "B": SUPPRESSED_SMALL_COUNT}


def test_ties_are_broken_by_code():
    values = {"WK": 45, "A": 5, "B": 20, "C": 20}
    assert suppress(WIJK, values, _primary(values))["B"] == SUPPRESSED_SECONDARY


# A gemeente with three wijken; wijk W1 has two buurten, W2 one buurt (the buurt is the whole wijk), W3 three.
GEMEENTE = {"GM": None, "W1": "GM", "W2": "GM", "W3": "GM",
            "b11": "W1", "b12": "W1", "b21": "W2", "b31": "W3", "b32": "W3", "b33": "W3"}
GEMEENTE_VALUES = {"GM": 160, "W1": 40, "W2": 30, "W3": 90,
                   "b11": 15, "b12": 25, "b21": 30, "b31": 6, "b32": 40, "b33": 44}


def test_secondary_suppression_reaches_the_gemeente_over_its_wijken():
    """b31 is small: b32 hides it in W3. A small wijk hides a sibling wijk at gemeente level, and that
    wijk's buurten then hide one of their own, since the wijk would equal the sum of its buurten."""
    values = dict(GEMEENTE_VALUES, W1=8, b11=3, b12=5, GM=128)
    hidden = suppress(GEMEENTE, values, _primary(values))
    assert hidden["b31"] == SUPPRESSED_SMALL_COUNT and hidden["b32"] == SUPPRESSED_SECONDARY
    assert hidden["W1"] == hidden["b11"] == hidden["b12"] == SUPPRESSED_SMALL_COUNT
    # W1 alone at gemeente level would be GM - W2 - W3: the smallest other wijk (W2, 30) is hidden ...
    assert hidden["W2"] == SUPPRESSED_SECONDARY
    # ... and W2 equals its only buurt, so that buurt goes too.
    assert hidden["b21"] == SUPPRESSED_SECONDARY
    assert set(hidden) == {"b31", "b32", "W1", "b11", "b12", "W2", "b21"}
    assert _recoverable(GEMEENTE, values, hidden) == []


def test_an_only_child_hides_its_parent():
    tree = {"GM": None, "W1": "GM", "W2": "GM", "b11": "W1", "b21": "W2", "b22": "W2"}
    values = {"GM": 5 + 60, "W1": 5, "W2": 60, "b11": 5, "b21": 25, "b22": 35}
    hidden = suppress(tree, values, _primary(values))
    # W1 (5) is small itself; b11 (5) equals it. At gemeente level W2 must then go as well, and with it one of
    # its buurten (b21, the smaller).
    assert hidden == {"W1": SUPPRESSED_SMALL_COUNT, "b11": SUPPRESSED_SMALL_COUNT,
                      "W2": SUPPRESSED_SECONDARY, "b21": SUPPRESSED_SECONDARY}
    assert _recoverable(tree, values, hidden) == []


def test_nothing_small_nothing_hidden():
    assert suppress(GEMEENTE, GEMEENTE_VALUES, []) == {}


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
    """The check itself: primary suppression alone leaves the small buurt recoverable from the wijk total."""
    assert _recoverable(WIJK, WIJK_VALUES, {"A": SUPPRESSED_SMALL_COUNT}) == ["A"]


@pytest.mark.parametrize("seed", range(40))
def test_no_suppressed_cell_is_recoverable_on_random_hierarchies(seed):
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
    hidden = suppress(parent, values, _primary(values))
    assert set(_primary(values)) <= set(hidden)
    assert _recoverable(parent, values, hidden) == []
    for p in {p for p in parent.values() if p}:
        group = [p] + [c for c, q in parent.items() if q == p]
        assert sum(c in hidden for c in group) != 1


def test_markers_keep_our_suppression_apart_from_cbs():
    assert marker(None) is None
    assert marker(SUPPRESSED_SMALL_COUNT) == "x"
    assert marker(SUPPRESSED_SECONDARY) == "x*"
    assert marker("suppressed_by_cbs") == "."
    assert marker("a_reason_added_later") == "?"
    marks = [m for m, _, _ in MISSING_REASONS.values()]
    assert len(set(marks)) == len(marks)
    assert not any(m.startswith(("=", "+", "-", "@")) for m in marks)
