"""The inequality maths of bwm.divide: hand-computed cases, brute-force cross-checks, invariants.

Two implementations answer the same one-municipality questions: ``divide_reference`` (tests/divide_reference.py,
plain loops straight from the definitions) and the production code (bwm.divide.measures, all municipalities at
once), reached through :class:`Vectorised` with one segment. The hand-computed and brute-force tests run on
both (fixture ``impl``); the tests at the end hold the production code on many municipalities at once to the
reference, and check that the catalogue decides which measure applies to which indicator.
"""

from __future__ import annotations

import dataclasses
import math

import divide_reference as reference
import numpy as np
import polars as pl
import pytest
from divide_reference import ExtremeGroupGap, Measure, TheilDecomposition, Trend

from bwm import catalogue
from bwm.divide import build as divide_build
from bwm.divide import frame as divide_frame
from bwm.divide import registry
from bwm.divide.frame import MEASURE_COLUMNS, divide_measures
from bwm.divide.measures import (
    NARROWING,
    NO_CLEAR_CHANGE,
    TOO_FEW_YEARS,
    WIDENING,
    measures_by_segment,
    trends_by_segment,
)

N_SEEDS = 200
NAN = float("nan")

# Four neighbourhoods, 100 residents, so a quintile is 20 residents. Sorted by value:
#   A x=1 w=30 -> residents [0, 30)    B x=2 w=50 -> [30, 80)
#   C x=3 w=10 -> [80, 90)             D x=4 w=10 -> [90, 100)
# Q1 [0,20): 20 of A                    -> mean 1
# Q2 [20,40): 10 of A + 10 of B         -> mean (10*1 + 10*2) / 20 = 1.5   (A straddles 20 %)
# Q3 [40,60), Q4 [60,80): 20 of B each  -> mean 2                          (B straddles 40/60 %)
# Q5 [80,100): 10 of C + 10 of D        -> mean (10*3 + 10*4) / 20 = 3.5
# Given in a shuffled input order: C, A, D, B.
STRADDLE_X = [3.0, 1.0, 4.0, 2.0]
STRADDLE_W = [10.0, 30.0, 10.0, 50.0]


# --- helpers: brute force, and the two implementations ---------------------------------------


def random_case(rng: np.random.Generator, *, integer_weights: bool = True):
    """1..60 neighbourhoods with income-like values, some ties, some missing values and bad weights."""
    n = int(rng.integers(1, 61))
    x = rng.lognormal(10.0, 0.6, n)
    if rng.random() < 0.3:
        x = np.round(x, -4)  # ties, and sometimes zeros
    w = rng.integers(1, 21, n).astype(float) if integer_weights else rng.uniform(0.5, 400.0, n)
    x[rng.random(n) < 0.08] = NAN
    w[rng.random(n) < 0.05] = NAN
    w[rng.random(n) < 0.05] = 0.0
    w[rng.random(n) < 0.03] = -5.0
    groups = rng.integers(0, 5, n)
    return x, w, groups


def clean(x, w):
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    return x[keep], w[keep], keep


def residents(x, w):
    """Expand each neighbourhood into w identical residents (integer weights), sorted by value."""
    return np.sort(np.repeat(x, w.astype(int)))


def resident_quantile_means(people: np.ndarray, q: int) -> np.ndarray:
    """Resident r occupies [r, r+1); group j is [j W / q, (j+1) W / q) of the line of residents."""
    total = people.size
    start = np.arange(total)
    means = []
    for j in range(q):
        lo, hi = j * total / q, (j + 1) * total / q
        part = np.clip(np.minimum(start + 1, hi) - np.maximum(start, lo), 0, None)
        means.append(np.dot(part, people) / part.sum())
    return np.array(means)


def plain_theil(people: np.ndarray) -> float:
    ratio = people / people.mean()
    return float(np.mean(ratio * np.log(ratio)))


def wijk_codes(groups) -> np.ndarray:
    """Wijk labels as the production code takes them: integer codes in sorted label order, NaN where missing."""
    labels = list(groups)
    missing = [g is None or (isinstance(g, float) and math.isnan(g)) for g in labels]
    present = sorted({g for g, m in zip(labels, missing, strict=True) if not m})
    code = {g: float(i) for i, g in enumerate(present)}
    return np.array([NAN if m else code[g] for g, m in zip(labels, missing, strict=True)], dtype=float)


class Vectorised:
    """The one-municipality API of ``divide_reference``, answered by the production code with one segment
    (``measures_by_segment``, ``trends_by_segment``).

    Production reports no bookkeeping of its own for the Theil index (besides ``theil_n_nonpositive``) and
    the dissimilarity index: those fields are None here, and :func:`assert_counts` skips them.
    """

    @staticmethod
    def _one(x, w, *, direction="higher_is_better", groups=None, counts=(None, None), threshold=NAN) -> dict:
        x = np.asarray(x, dtype=float)
        wijk = np.zeros(x.size) if groups is None else wijk_codes(groups)  # no groups: one group
        out = measures_by_segment(x, w, np.zeros(x.size, dtype=np.int64), n_segments=1, directions=[direction],
                                  wijk=wijk, low_count=counts[0], other_count=counts[1], threshold=[threshold])
        return {name: values[0].item() for name, values in out.items()}

    @classmethod
    def extreme_group_gap(cls, x, w, direction) -> ExtremeGroupGap:
        r = cls._one(x, w, direction=direction)
        return ExtremeGroupGap(r["worst20_mean"], r["best20_mean"], r["gap"], r["ratio"], direction, r["n_areas"],
                               r["weight_total"], r["n_dropped"])

    @classmethod
    def weighted_std(cls, x, w) -> Measure:
        r = cls._one(x, w)
        return Measure(r["weighted_std"], r["n_areas"], r["weight_total"], r["n_dropped"])

    @classmethod
    def coefficient_of_variation(cls, x, w) -> Measure:
        r = cls._one(x, w)
        return Measure(r["cv"], r["n_areas"], r["weight_total"], r["n_dropped"])

    @classmethod
    def theil_decomposition(cls, x, w, groups=None) -> TheilDecomposition:
        r = cls._one(x, w, groups=groups)
        return TheilDecomposition(r["theil_total"], r["theil_between"], r["theil_within"], None, None, None, None,
                                  r["theil_n_nonpositive"])

    @classmethod
    def dissimilarity_index(cls, a, b) -> Measure:
        ones = np.ones(np.asarray(a).size)
        return Measure(cls._one(ones, ones, counts=(a, b))["dissimilarity"], None, None, None)

    @classmethod
    def concentration_share(cls, x, w, threshold) -> Measure:
        r = cls._one(x, w, threshold=threshold)
        return Measure(r["concentration_share_pct"], r["n_areas"], r["weight_total"], r["n_dropped"])

    @staticmethod
    def trend(years, values, *, min_years=3, min_relative_change=0.05, larger_is_wider=True) -> Trend:
        years, values = np.asarray(years, dtype=float), np.asarray(values, dtype=float)
        order = np.argsort(years, kind="stable")
        r = trends_by_segment(years[order], values[order], np.zeros(years.size, dtype=np.int64), 1,
                              min_years=min_years, min_relative_change=min_relative_change,
                              larger_is_wider=larger_is_wider)
        r = {name: v[0].item() if hasattr(v[0], "item") else v[0] for name, v in r.items()}
        return Trend(r["label"], r["slope_per_year"], r["change_since_first"], r["change_since_previous"],
                     r["relative_change"], r["n_years"], r["first_year"], r["last_year"])


@pytest.fixture(params=[reference, Vectorised], ids=["reference", "vectorised"])
def impl(request):
    """The reference or the production code, behind the same one-municipality functions."""
    return request.param


def assert_counts(result, **expected) -> None:
    """The bookkeeping fields of ``result`` equal ``expected``; a field production does not report (None) is skipped."""
    reported = {name: getattr(result, name) for name in expected if getattr(result, name) is not None}
    assert reported == {name: expected[name] for name in reported}


# --- weighted_quantile_groups (the reference; production computes only the bottom and top quintile) -------


def test_quantile_groups_split_a_straddling_neighbourhood_fractionally():
    groups = reference.weighted_quantile_groups(STRADDLE_X, STRADDLE_W)

    np.testing.assert_allclose(groups.means, [1.0, 1.5, 2.0, 2.0, 3.5])
    np.testing.assert_allclose(groups.group_weights, [20.0] * 5)
    # Rows in input order C, A, D, B; columns Q1..Q5.
    np.testing.assert_allclose(
        groups.weights,
        [
            [0, 0, 0, 0, 10],
            [20, 10, 0, 0, 0],
            [0, 0, 0, 0, 10],
            [0, 10, 20, 20, 0],
        ],
    )
    assert (groups.n_areas, groups.weight_total, groups.n_dropped) == (4, 100.0, 0)


def test_quantile_groups_give_dropped_rows_no_weight():
    groups = reference.weighted_quantile_groups([1.0, NAN, 2.0, 5.0], [10.0, 10.0, 0.0, 10.0], q=2)
    # Kept: x=1 w=10 and x=5 w=10; halves of 10 residents each.
    np.testing.assert_allclose(groups.weights, [[10, 0], [0, 0], [0, 0], [0, 10]])
    np.testing.assert_allclose(groups.means, [1.0, 5.0])
    assert (groups.n_areas, groups.weight_total, groups.n_dropped) == (2, 20.0, 2)


def test_quantile_means_match_resident_expansion():
    rng = np.random.default_rng(1)
    for seed in range(N_SEEDS):
        x, w, _ = random_case(np.random.default_rng(seed))
        xc, wc, _ = clean(x, w)
        q = int(rng.integers(1, 8))
        groups = reference.weighted_quantile_groups(x, w, q=q)
        if xc.size == 0:
            assert np.isnan(groups.means).all() and groups.n_areas == 0
            continue
        expected = resident_quantile_means(residents(xc, wc), q)
        np.testing.assert_allclose(groups.means, expected, rtol=1e-12, err_msg=f"seed {seed}")
        _, _, keep = clean(x, w)
        np.testing.assert_allclose(groups.weights.sum(axis=1)[keep], wc, err_msg=f"seed {seed}")
        assert not groups.weights[~keep].any()
        np.testing.assert_allclose(groups.group_weights, [wc.sum() / q] * q, rtol=1e-12)


def test_quantile_groups_of_one_neighbourhood_are_its_value():
    np.testing.assert_array_equal(reference.weighted_quantile_groups([31_400.0], [2_750.0]).means, [31_400.0] * 5)


# --- extreme_group_gap --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "worst", "best"),
    [("higher_is_better", 1.0, 3.5), ("higher_is_worse", 3.5, 1.0), ("neutral", 1.0, 3.5)],
)
def test_extreme_group_gap_by_direction(impl, direction, worst, best):
    # Bottom quintile mean 1, top quintile mean 3.5 (see STRADDLE_X).
    result = impl.extreme_group_gap(STRADDLE_X, STRADDLE_W, direction)
    assert result.worst20_mean == pytest.approx(worst)
    assert result.best20_mean == pytest.approx(best)
    assert result.gap == pytest.approx(2.5)  # the worse-off are 2.5 units behind, whichever end that is
    assert result.ratio == pytest.approx(3.5)  # 3.5 / 1
    assert result.direction == direction


def test_extreme_group_ratio_is_nan_when_a_mean_is_not_positive(impl):
    # Five neighbourhoods of 10 residents: bottom quintile is x=0 only, top is x=8.
    result = impl.extreme_group_gap([0.0, 2.0, 4.0, 6.0, 8.0], [10.0] * 5, "higher_is_better")
    assert result.gap == pytest.approx(8.0)
    assert math.isnan(result.ratio)


def test_a_level_quintile_has_exactly_its_value_so_a_bottom_of_zeros_has_no_ratio(impl):
    # Seven of 16 neighbourhoods at 0 and more than 20% of the residents there: the bottom quintile is all
    # zeros. Its mean was once ~1.4e-14 (the mean took the largest value as its reference), and the ratio
    # ~1e15 instead of none: the pandas baseline found it in 4 national groups.
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(5, 30))
        x = np.sort(np.concatenate([np.zeros(n // 2), rng.uniform(0.1, 90, n - n // 2).round(1)]))
        w = rng.integers(50, 3000, n).astype(float)
        if w[x == 0].sum() < 0.2 * w.sum():
            continue
        result = impl.extreme_group_gap(list(x), list(w), "higher_is_worse")
        assert result.best20_mean == 0.0
        assert math.isnan(result.ratio)


def test_extreme_group_gap_rejects_an_unknown_direction(impl):
    with pytest.raises(ValueError, match="direction"):
        impl.extreme_group_gap([1.0], [1.0], "up")


def test_extreme_group_means_match_resident_expansion(impl):
    for seed in range(N_SEEDS):
        x, w, _ = random_case(np.random.default_rng(seed))
        xc, wc, _ = clean(x, w)
        result = impl.extreme_group_gap(x, w, "higher_is_worse")
        if xc.size == 0:
            assert math.isnan(result.gap) and result.n_areas == 0
            continue
        people = residents(xc, wc)
        fifth = people.size / 5  # may be fractional: the boundary resident counts in part
        whole = int(fifth)
        bottom = (people[:whole].sum() + (fifth - whole) * people[whole]) / fifth
        top = (people[::-1][:whole].sum() + (fifth - whole) * people[::-1][whole]) / fifth
        assert result.best20_mean == pytest.approx(bottom, rel=1e-12), f"seed {seed}"
        assert result.worst20_mean == pytest.approx(top, rel=1e-12), f"seed {seed}"
        assert result.gap >= 0
        if np.isfinite(result.ratio):
            assert result.ratio >= 1.0
        else:
            assert min(bottom, top) <= 0
        assert (result.n_areas, result.n_dropped) == (xc.size, x.size - xc.size)
        assert result.weight_total == wc.sum()


# --- weighted_std and coefficient_of_variation ----------------------------------------------------


def test_weighted_std_and_cv_by_hand(impl):
    # x = 1 (1 resident), 3 (3 residents): mean (1 + 9) / 4 = 2.5;
    # variance (1 * 1.5^2 + 3 * 0.5^2) / 4 = (2.25 + 0.75) / 4 = 0.75; cv = sqrt(0.75) / 2.5.
    assert impl.weighted_std([1.0, 3.0], [1.0, 3.0]).value == pytest.approx(math.sqrt(0.75))
    assert impl.coefficient_of_variation([1.0, 3.0], [1.0, 3.0]).value == pytest.approx(math.sqrt(0.75) / 2.5)


def test_cv_is_nan_when_the_mean_is_zero(impl):
    result = impl.coefficient_of_variation([-1.0, 1.0], [5.0, 5.0])
    assert math.isnan(result.value)
    assert result.n_areas == 2


def test_weighted_std_and_cv_match_numpy_average(impl):
    for seed in range(N_SEEDS):
        x, w, _ = random_case(np.random.default_rng(seed), integer_weights=seed % 2 == 0)
        xc, wc, _ = clean(x, w)
        std, cv = impl.weighted_std(x, w), impl.coefficient_of_variation(x, w)
        if xc.size == 0:
            assert math.isnan(std.value) and math.isnan(cv.value)
            continue
        mean = np.average(xc, weights=wc)
        expected = math.sqrt(np.average((xc - mean) ** 2, weights=wc))
        assert std.value == pytest.approx(expected, rel=1e-9, abs=1e-9 * abs(mean)), f"seed {seed}"
        if mean != 0:
            assert cv.value == pytest.approx(expected / mean, rel=1e-9, abs=1e-12), f"seed {seed}"
        assert (std.n_areas, std.n_dropped) == (xc.size, x.size - xc.size)
        assert std.weight_total == pytest.approx(wc.sum())


# --- theil_decomposition ------------------------------------------------------------------------


def test_theil_by_hand(impl):
    # x = 1, 3 with one resident each: mean 2, income shares 1/4 and 3/4;
    # T = 1/4 ln(1/2) + 3/4 ln(3/2) = -0.173287 + 0.304099 = 0.130812.
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert impl.theil_decomposition([1.0, 3.0], [1.0, 1.0]).total == pytest.approx(expected)

    # Wijk a = {1, 3}, wijk b = {2, 2}: both wijk means 2, so between = 0; within = s_a T_a
    # = (4/8) * 0.130812 = 0.065406 = the total.
    within_only = impl.theil_decomposition([1.0, 3.0, 2.0, 2.0], [1.0] * 4, ["a", "a", "b", "b"])
    assert within_only.between == pytest.approx(0.0, abs=1e-15)
    assert within_only.within == pytest.approx(expected / 2)
    assert within_only.total == pytest.approx(expected / 2)
    assert_counts(within_only, n_groups=2)

    # Wijk a = {1, 1}, wijk b = {3, 3}: no inequality inside a wijk, all of it between.
    between_only = impl.theil_decomposition([1.0, 1.0, 3.0, 3.0], [1.0] * 4, ["a", "a", "b", "b"])
    assert between_only.within == 0.0
    assert between_only.between == pytest.approx(expected)
    assert between_only.total == pytest.approx(expected)


def test_theil_drops_non_positive_values_and_counts_them(impl):
    result = impl.theil_decomposition([1.0, 3.0, 0.0, -2.0, NAN], [1.0, 1.0, 1.0, 1.0, 1.0])
    assert result.total == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    assert_counts(result, n_areas=2, n_nonpositive=2, n_dropped=3)


def test_theil_drops_neighbourhoods_without_a_wijk(impl):
    with_gap = impl.theil_decomposition([1.0, 3.0, 9.0, 9.0], [1.0] * 4, ["a", "a", None, float("nan")])
    without = impl.theil_decomposition([1.0, 3.0], [1.0, 1.0], ["a", "a"])
    assert (with_gap.total, with_gap.between, with_gap.within) == (
        without.total, without.between, without.within
    )  # fmt: skip
    assert_counts(with_gap, n_dropped=2, n_nonpositive=0)


def test_theil_matches_resident_expansion_and_decomposes_exactly(impl):
    for seed in range(N_SEEDS):
        x, w, groups = random_case(np.random.default_rng(seed))
        result = impl.theil_decomposition(x, w, groups)
        keep = np.isfinite(x) & np.isfinite(w) & (w > 0) & (x > 0)
        if not keep.any():
            assert math.isnan(result.total)
            assert_counts(result, n_areas=0)
            continue
        people = np.repeat(x[keep], w[keep].astype(int))
        label = np.repeat(groups[keep], w[keep].astype(int))
        wijken = np.unique(label)
        group_mean = {g: people[label == g].mean() for g in wijken}
        between = plain_theil(np.array([group_mean[g] for g in label]))
        within = sum(
            people[label == g].sum() / people.sum() * plain_theil(people[label == g]) for g in wijken
        )

        assert result.total == pytest.approx(plain_theil(people), rel=1e-9, abs=1e-12), f"seed {seed}"
        assert result.between == pytest.approx(between, rel=1e-9, abs=1e-12), f"seed {seed}"
        assert result.within == pytest.approx(within, rel=1e-9, abs=1e-12), f"seed {seed}"
        assert abs(result.total - (result.between + result.within)) <= 1e-9
        assert min(result.total, result.between, result.within) >= -1e-12
        assert_counts(result, n_groups=wijken.size)
        usable = np.isfinite(x) & np.isfinite(w) & (w > 0)
        assert result.n_nonpositive == int((usable & (x <= 0)).sum())


# --- dissimilarity_index ------------------------------------------------------------------------


def test_dissimilarity_by_hand(impl):
    # A = 20, B = 100; a/A = .5, 0, .5; b/B = 0, .5, .5; half of (.5 + .5 + 0) = 0.5.
    result = impl.dissimilarity_index([10.0, 0.0, 10.0], [0.0, 50.0, 50.0])
    assert result.value == pytest.approx(0.5)
    assert_counts(result, n_areas=3, weight_total=120.0, n_dropped=0)


def test_dissimilarity_is_nan_without_one_of_the_groups(impl):
    assert math.isnan(impl.dissimilarity_index([0.0, 0.0], [5.0, 7.0]).value)
    assert math.isnan(impl.dissimilarity_index([], []).value)


def test_dissimilarity_matches_the_positive_part_formula(impl):
    # sum(a/A - b/B) = 0, so half the absolute differences equals the sum of the positive ones.
    for seed in range(N_SEEDS):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 61))
        a, b = rng.integers(0, 300, n).astype(float), rng.integers(0, 900, n).astype(float)
        a[rng.random(n) < 0.08] = NAN
        b[rng.random(n) < 0.05] = -1.0
        keep = np.isfinite(a) & (b >= 0)
        result = impl.dissimilarity_index(a, b)
        total_a, total_b = a[keep].sum(), b[keep].sum()
        if total_a == 0 or total_b == 0:
            assert math.isnan(result.value)
            continue
        expected = np.clip(a[keep] / total_a - b[keep] / total_b, 0, None).sum()
        assert result.value == pytest.approx(expected, rel=1e-12, abs=1e-15), f"seed {seed}"
        assert 0.0 <= result.value <= 1.0 + 1e-12
        assert_counts(result, n_dropped=n - keep.sum())
        order = rng.permutation(n)
        reordered = impl.dissimilarity_index(a[order], b[order]).value
        assert reordered == pytest.approx(result.value, rel=1e-12, abs=1e-15)
        assert impl.dissimilarity_index(a[keep], b[keep]).value == result.value  # dropped rows as if absent


# --- concentration_share ------------------------------------------------------------------------


def test_concentration_share_by_hand(impl):
    # Values 5, 10, 20 with 100, 200, 700 residents; at or above 10: (200 + 700) / 1000 = 90 %.
    result = impl.concentration_share([5.0, 10.0, 20.0, NAN], [100.0, 200.0, 700.0, 50.0], 10.0)
    assert result.value == pytest.approx(90.0)
    assert (result.n_areas, result.weight_total, result.n_dropped) == (3, 1000.0, 1)
    assert impl.concentration_share([5.0, 10.0], [1.0, 1.0], 25.0).value == 0.0
    assert math.isnan(impl.concentration_share([5.0], [1.0], NAN).value)


# --- one neighbourhood, nothing usable ----------------------------------------------------------


def test_a_single_neighbourhood_has_no_divide(impl):
    x, w = [31_400.0], [2_750.0]
    gap = impl.extreme_group_gap(x, w, "higher_is_better")
    assert (gap.worst20_mean, gap.best20_mean, gap.gap, gap.ratio) == (31_400.0, 31_400.0, 0.0, 1.0)
    assert impl.weighted_std(x, w).value == 0.0
    assert impl.coefficient_of_variation(x, w).value == 0.0
    theil = impl.theil_decomposition(x, w, ["WK001"])
    assert (theil.total, theil.between, theil.within) == (0.0, 0.0, 0.0)
    assert impl.dissimilarity_index([120.0], [980.0]).value == 0.0
    assert impl.concentration_share(x, w, 30_000.0).value == 100.0


def test_all_missing_gives_nan_and_counts_the_drops(impl):
    result = impl.extreme_group_gap([NAN, 4.0], [10.0, 0.0], "neutral")
    assert math.isnan(result.gap) and math.isnan(result.ratio)
    assert (result.n_areas, result.weight_total, result.n_dropped) == (0, 0.0, 2)
    assert math.isnan(impl.weighted_std([], []).value)
    assert math.isnan(impl.theil_decomposition([-1.0], [3.0]).total)


# --- invariants: order, missing rows --------------------------------------------------------------


def summary(impl, x, w, groups) -> list[float]:
    """Every measure of one municipality as a flat list of numbers (quantile means: the reference only)."""
    gap = impl.extreme_group_gap(x, w, "higher_is_better")
    theil = impl.theil_decomposition(x, w, groups)
    quantiles = reference.weighted_quantile_groups(x, w).means if impl is reference else []
    return [
        *quantiles,
        gap.worst20_mean, gap.best20_mean, gap.gap, gap.ratio,
        impl.weighted_std(x, w).value, impl.coefficient_of_variation(x, w).value,
        theil.total, theil.between, theil.within,
        impl.concentration_share(x, w, 20_000.0).value,
    ]  # fmt: skip


def test_results_do_not_depend_on_the_order_of_neighbourhoods(impl):
    for seed in range(N_SEEDS):
        rng = np.random.default_rng(seed)
        x, w, groups = random_case(rng, integer_weights=seed % 2 == 0)
        order = rng.permutation(x.size)
        np.testing.assert_allclose(
            summary(impl, x[order], w[order], groups[order]), summary(impl, x, w, groups), rtol=1e-9, atol=1e-12,
            err_msg=f"seed {seed}",
        )  # fmt: skip


def test_missing_rows_count_exactly_as_absent_rows(impl):
    for seed in range(N_SEEDS):
        x, w, groups = random_case(np.random.default_rng(seed))
        _, _, keep = clean(x, w)
        np.testing.assert_array_equal(
            summary(impl, x, w, groups), summary(impl, x[keep], w[keep], groups[keep]), err_msg=f"seed {seed}"
        )
        assert impl.weighted_std(x, w).n_dropped == x.size - keep.sum()


# --- trend ----------------------------------------------------------------------------------------


def test_trend_widening_and_narrowing(impl):
    # 1.0 -> 1.4 over 2015..2019: slope 0.1 per year, +40 % since the first year.
    rising = impl.trend([2015, 2016, 2017, 2018, 2019], [1.0, 1.1, 1.2, 1.3, 1.4])
    assert rising.label == WIDENING
    assert rising.slope_per_year == pytest.approx(0.1)
    assert rising.change_since_first == pytest.approx(0.4)
    assert rising.change_since_previous == pytest.approx(0.1)
    assert rising.relative_change == pytest.approx(0.4)
    assert impl.trend([2015, 2016, 2017], [1.4, 1.2, 1.0]).label == NARROWING
    # A measure where smaller means wider: the same rise is narrowing.
    assert impl.trend([2015, 2016, 2017], [1.0, 1.2, 1.4], larger_is_wider=False).label == NARROWING


def test_trend_no_clear_change(impl):
    # +3 % from first to last is under the 5 % threshold.
    assert impl.trend([2015, 2016, 2017, 2018], [1.0, 1.02, 1.0, 1.03]).label == NO_CLEAR_CHANGE
    # +20 % from first to last, but the OLS slope is negative: over years 0..3, mean 1.275,
    # sum(dt * dy) = -1.5*-0.275 - 0.5*0.725 + 0.5*-0.375 + 1.5*-0.075 = -0.25; slope -0.25/5 = -0.05.
    wobble = impl.trend([2015, 2016, 2017, 2018], [1.0, 2.0, 0.9, 1.2])
    assert wobble.slope_per_year == pytest.approx(-0.05)
    assert wobble.label == NO_CLEAR_CHANGE
    # A lower threshold turns the 3 % rise into widening.
    assert impl.trend([2015, 2016, 2017, 2018], [1.0, 1.02, 1.0, 1.03], min_relative_change=0.02).label == WIDENING


def test_trend_needs_three_available_years(impl):
    two = impl.trend([2015, 2016, 2017], [1.0, NAN, 2.0])
    assert two.label == TOO_FEW_YEARS
    assert two.change_since_first == pytest.approx(1.0)
    assert two.slope_per_year == pytest.approx(0.5)  # still reported: (2 - 1) / 2 years
    one = impl.trend([2015], [1.0])
    assert one.label == TOO_FEW_YEARS
    assert math.isnan(one.slope_per_year) and math.isnan(one.change_since_previous)
    assert impl.trend([], []).n_years == 0
    assert impl.trend([2015, 2016, 2017], [1.0, 1.2, 1.4], min_years=4).label == TOO_FEW_YEARS


def test_trend_skips_missing_years_and_sorts_them(impl):
    result = impl.trend([2019, 2015, 2016, 2017], [1.4, 1.0, NAN, 1.2])
    assert result.label == WIDENING
    assert result.change_since_previous == pytest.approx(0.2)  # 2019 against 2017, the previous available
    assert (result.n_years, result.first_year, result.last_year) == (3, 2015.0, 2019.0)


def test_trend_from_zero_uses_the_mean_level(impl):
    # First value 0: the change 0.2 is set against the mean |value| 0.1, a relative change of 2.
    result = impl.trend([2015, 2016, 2017], [0.0, 0.1, 0.2])
    assert result.relative_change == pytest.approx(2.0)
    assert result.label == WIDENING
    assert impl.trend([2015, 2016, 2017], [0.0, 0.0, 0.0]).label == NO_CLEAR_CHANGE


def test_trend_rejects_repeated_years(impl):
    with pytest.raises(ValueError, match="repeat"):
        impl.trend([2015, 2015, 2016], [1.0, 2.0, 3.0])


def test_the_labels_are_the_reference_labels():
    assert (WIDENING, NARROWING, NO_CLEAR_CHANGE, TOO_FEW_YEARS) == (
        reference.WIDENING, reference.NARROWING, reference.NO_CLEAR_CHANGE, reference.TOO_FEW_YEARS)


# --- many municipalities at once ------------------------------------------------------------------


def test_measures_by_segment_sorts_unsorted_input_itself():
    rng = np.random.default_rng(7)
    n = 300
    x, w = rng.lognormal(3, 0.5, n), rng.integers(1, 50, n).astype(float)
    segment, wijk = rng.integers(0, 9, n), rng.integers(0, 4, n).astype(float)
    directions = ["higher_is_worse"] * 9
    shuffled = measures_by_segment(x, w, segment, n_segments=9, directions=directions, wijk=wijk)
    order = np.lexsort((x, segment))
    ordered = measures_by_segment(
        x[order], w[order], segment[order], n_segments=9, directions=directions, wijk=wijk[order]
    )
    for name in ordered:
        np.testing.assert_allclose(shuffled[name], ordered[name], rtol=1e-12, err_msg=name)


def buurt_frame() -> pl.DataFrame:
    """GM0001: the STRADDLE example in two wijken; GM0002: one buurt (and one without residents)."""
    return pl.DataFrame(
        {
            "gemeente": ["GM0001"] * 4 + ["GM0002"] * 2,
            "wijk": ["WK000101", "WK000101", "WK000102", "WK000102", "WK000201", "WK000201"],
            "indicator": ["inkomen_per_inwoner_eur"] * 6,
            "direction": ["higher_is_better"] * 6,
            "value": [3.0, 1.0, 4.0, 2.0, 7.0, 5.0],
            "inwoners": [10.0, 30.0, 10.0, 50.0, 40.0, None],
            "laag": [1.0, 10.0, 0.0, 5.0, 4.0, 0.0],
            "overig": [9.0, 20.0, 10.0, 45.0, 36.0, 0.0],
            "threshold": [3.0, 3.0, 3.0, 3.0, 8.0, 8.0],
        }
    )


def test_divide_measures_on_two_municipalities():
    out = divide_measures(
        buurt_frame(),
        value_col="value",
        weight_col="inwoners",
        group_cols=["gemeente", "indicator"],
        wijk_col="wijk",
        direction_col="direction",
        low_count_col="laag",
        other_count_col="overig",
        concentration_threshold="threshold",
    )
    assert out.columns == ["gemeente", "indicator", "direction", *MEASURE_COLUMNS]
    first, second = out.rows(named=True)

    assert first["gemeente"] == "GM0001" and first["direction"] == "higher_is_better"
    assert (first["n_areas"], first["n_dropped"], first["weight_total"]) == (4, 0, 100.0)
    assert (first["worst20_mean"], first["best20_mean"]) == (pytest.approx(1.0), pytest.approx(3.5))
    assert (first["gap"], first["ratio"]) == (pytest.approx(2.5), pytest.approx(3.5))
    assert first["weighted_std"] == pytest.approx(reference.weighted_std(STRADDLE_X, STRADDLE_W).value)
    theil = reference.theil_decomposition(STRADDLE_X, STRADDLE_W, ["WK000101", "WK000101", "WK000102", "WK000102"])
    assert first["theil_total"] == pytest.approx(theil.total)
    assert first["theil_between"] == pytest.approx(theil.between)
    assert first["theil_within"] == pytest.approx(theil.within)
    # Low-income households 1, 10, 0, 5 (16) against others 9, 20, 10, 45 (84).
    assert first["dissimilarity"] == pytest.approx(
        reference.dissimilarity_index([1, 10, 0, 5], [9, 20, 10, 45]).value)
    assert first["concentration_share_pct"] == pytest.approx(20.0)  # x >= 3: 10 + 10 of 100 residents

    # GM0002: one usable buurt (the other has no resident count); no divide.
    assert (second["n_areas"], second["n_dropped"], second["weight_total"]) == (1, 1, 40.0)
    assert (second["gap"], second["ratio"]) == (0.0, 1.0)
    assert (second["weighted_std"], second["cv"], second["theil_total"]) == (0.0, 0.0, 0.0)
    assert second["dissimilarity"] == 0.0
    assert second["concentration_share_pct"] == 0.0  # 7 < 8


def test_divide_measures_leaves_undefined_measures_null():
    out = divide_measures(
        buurt_frame().with_columns(value=pl.lit(-1.0)), value_col="value", weight_col="inwoners",
        group_cols=["gemeente"], direction="higher_is_worse",
    )  # fmt: skip
    for column in ("ratio", "theil_total", "theil_between", "dissimilarity", "concentration_share_pct"):
        assert out.get_column(column).null_count() == 2, column
    assert out.get_column("theil_n_nonpositive").to_list() == [4, 1]
    assert out.get_column("gap").to_list() == [0.0, 0.0]


def test_divide_measures_rejects_a_direction_that_varies_within_a_group():
    frame = buurt_frame().with_columns(
        direction=pl.Series(["higher_is_better", "higher_is_worse"] + ["neutral"] * 4)
    )
    columns = dict(value_col="value", weight_col="inwoners", group_cols=["gemeente"])
    with pytest.raises(ValueError, match="constant within a group"):
        divide_measures(frame, **columns, direction_col="direction")
    with pytest.raises(ValueError, match="exactly one"):
        divide_measures(frame, **columns)


def test_divide_measures_equals_the_reference(monkeypatch):
    rng = np.random.default_rng(11)
    parts = []
    for gemeente in range(12):
        for year in (2022, 2023):
            x, w, groups = random_case(rng, integer_weights=gemeente % 2 == 0)
            parts.append(
                pl.DataFrame(
                    {
                        "gemeente": f"GM{gemeente:04d}",
                        "year": year,
                        "value": x,
                        "inwoners": w,
                        "wijk": [f"WK{g:02d}" for g in groups],
                    }
                )
            )
    frame = pl.concat(parts).sample(fraction=1.0, shuffle=True, seed=3)
    arguments = dict(
        value_col="value", weight_col="inwoners", group_cols=["gemeente", "year"], wijk_col="wijk",
        direction="higher_is_worse", concentration_threshold=25_000.0,
    )  # fmt: skip
    out = divide_measures(frame, **arguments)
    monkeypatch.setattr(divide_frame, "_ROWS_PER_CHUNK", 7)  # many chunks, split at group edges
    chunked = divide_measures(frame, **arguments)
    for name in MEASURE_COLUMNS:
        got, expected = chunked[name].to_numpy().astype(float), out[name].to_numpy().astype(float)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=name)

    assert out.height == 24
    for row in out.iter_rows(named=True):
        group = frame.filter((pl.col("gemeente") == row["gemeente"]) & (pl.col("year") == row["year"]))
        x, w = group["value"].to_numpy(), group["inwoners"].to_numpy()
        gap = reference.extreme_group_gap(x, w, "higher_is_worse")
        theil = reference.theil_decomposition(x, w, group["wijk"].to_numpy())
        expected = {
            "n_areas": gap.n_areas, "n_dropped": gap.n_dropped, "weight_total": gap.weight_total,
            "worst20_mean": gap.worst20_mean, "best20_mean": gap.best20_mean,
            "gap": gap.gap, "ratio": gap.ratio,
            "weighted_std": reference.weighted_std(x, w).value,
            "cv": reference.coefficient_of_variation(x, w).value,
            "theil_total": theil.total, "theil_between": theil.between, "theil_within": theil.within,
            "theil_n_nonpositive": theil.n_nonpositive,
            "concentration_share_pct": reference.concentration_share(x, w, 25_000.0).value,
        }  # fmt: skip
        # stapeling_share_pct is derived from indicators.stapeling (bwm.stapeling), always null here
        assert set(expected) | {"dissimilarity", "stapeling_share_pct"} == set(MEASURE_COLUMNS)
        assert row["stapeling_share_pct"] is None
        for name, value in expected.items():
            got = row[name]
            if isinstance(value, float) and math.isnan(value):
                assert got is None, (row["gemeente"], name)
            else:
                assert got == pytest.approx(value, rel=1e-9, abs=1e-12), (row["gemeente"], name)
        assert row["dissimilarity"] is None


def test_measures_by_segment_and_dissimilarity_equal_the_reference():
    """Many municipalities with household counts: the dissimilarity index of every segment is the reference's."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 40, 30)
    segment = np.repeat(np.arange(sizes.size), sizes)
    low, other = rng.integers(0, 300, segment.size).astype(float), rng.integers(0, 900, segment.size).astype(float)
    low[rng.random(segment.size) < 0.05] = NAN
    other[rng.random(segment.size) < 0.03] = -1.0
    x = w = np.ones(segment.size)
    out = measures_by_segment(x, w, segment, n_segments=sizes.size, directions=["neutral"] * sizes.size,
                              low_count=low, other_count=other)
    for s in range(sizes.size):
        expected = reference.dissimilarity_index(low[segment == s], other[segment == s]).value
        if math.isnan(expected):
            assert math.isnan(out["dissimilarity"][s]), s
        else:
            assert out["dissimilarity"][s] == pytest.approx(expected, rel=1e-12, abs=1e-15), s


# --- the registry ----------------------------------------------------------------------------------


def test_the_columns_are_those_of_the_registry():
    out = measures_by_segment([1.0, 2.0], [1.0, 1.0], [0, 0], n_segments=1, directions=["neutral"])
    assert list(MEASURE_COLUMNS) == [*registry.BASIS_COLUMNS, *(c.name for c in registry.COLUMNS)]
    # the maths computes exactly the registry's columns, but for the derived ones (bwm.stapeling)
    derived = {m.name for m in registry.MEASURES.values() if m.derived}
    assert derived == {"stapeling_share_pct"} and set(out) == set(MEASURE_COLUMNS) - derived
    counts = {name for name, kind in [*registry.BASIS_COLUMNS.items(), *((c.name, c.kind) for c in registry.COLUMNS)]
              if kind == "count"}
    assert {name for name, dtype in MEASURE_COLUMNS.items() if dtype == pl.Int64()} == counts


def test_registry_measures_details_and_defaults():
    assert registry.NAMES == tuple(registry.MEASURES)
    assert set(registry.DEFAULT_MEASURES) == {"gap", "ratio", "weighted_std", "cv"}
    assert set(registry.TRENDED) <= set(registry.NAMES)
    assert registry.columns_of("gap") == ("worst20_mean", "best20_mean", "gap")
    assert registry.columns_of("theil_total") == ("theil_total", "theil_n_nonpositive")
    assert registry.columns_of("cv") == ("cv",)
    assert registry.label_nl("cv") == "variatiecoëfficiënt"
    assert registry.label_nl("theil_total", capitalised=True) == "Theil-index"
    assert registry.label_nl("gap", capitalised=True).startswith("Kloof tussen")
    with pytest.raises(KeyError, match="unknown divide measure 'gini'"):
        registry.columns_of("gini")
    with pytest.raises(KeyError, match="unknown divide column"):
        registry.label_nl("gini")


# --- which measure applies to which indicator: the catalogue -----------------------------------------

INCOME, LOW_INCOME, SOCIAL_MINIMUM = "inkomen_per_inwoner", "huishoudens_laag_inkomen", "huishoudens_sociaal_minimum"
MUNICIPAL = "schuldhulp_test"  # not in the YAML catalogue, as an indicator declared by a municipal data file


def divide_inputs() -> pl.DataFrame:
    """The shape of sql/divide/inputs.sql: three buurten (two wijken) and two wijken per indicator and year,
    with a wijk code and household counts on every row, so only the catalogue decides what is null."""
    rows = []
    for indicator_id in (INCOME, LOW_INCOME, SOCIAL_MINIMUM, MUNICIPAL):
        for year in (2022, 2023):
            for level, areas in (("buurt", [("BU1", "WK1", 10.0), ("BU2", "WK1", 20.0), ("BU3", "WK2", 40.0)]),
                                 ("wijk", [("WK1", "X", 15.0), ("WK2", "Y", 40.0)])):
                for area, wijk, value in areas:
                    rows.append({"year": year, "gemeente_code": "GM0001", "level": level,
                                 "indicator_id": indicator_id, "direction": "higher_is_worse", "area_code": area,
                                 "wijk_code": wijk, "value": value, "inhabitants": 100.0 + value,
                                 "low_income_households": value, "other_households": 100.0 - value,
                                 "source_table": "T"})
    return pl.DataFrame(rows)


def filled(frame: pl.DataFrame, column: str) -> set[tuple[str, str]]:
    """The (indicator_id, level) pairs where ``column`` has a value."""
    return set(frame.filter(pl.col(column).is_not_null()).select("indicator_id", "level").unique().iter_rows())


def test_the_catalogue_decides_which_measures_apply():
    out = divide_build.compute_measures(divide_inputs(), {2022: (8.0, "nederland"), 2023: (8.5, "nederland")}, 2.0)
    everything = {(i, lvl) for i in (INCOME, LOW_INCOME, SOCIAL_MINIMUM, MUNICIPAL) for lvl in ("buurt", "wijk")}
    for column in ("n_areas", "worst20_mean", "best20_mean", "gap", "ratio", "weighted_std", "cv"):
        assert filled(out, column) == everything, column
    for column in ("theil_total", "theil_n_nonpositive"):
        assert filled(out, column) == {(INCOME, "buurt"), (INCOME, "wijk")}, column
    for column in ("theil_between", "theil_within"):
        assert filled(out, column) == {(INCOME, "buurt")}, column
    assert filled(out, "dissimilarity") == {(LOW_INCOME, "buurt")}
    for column in ("concentration_share_pct", "concentration_threshold_pct", "concentration_basis"):
        assert filled(out, column) == {(SOCIAL_MINIMUM, "buurt"), (SOCIAL_MINIMUM, "wijk")}, column
    assert out.filter(pl.col("concentration_threshold_pct").is_not_null())["concentration_threshold_pct"] \
        .unique().sort().to_list() == [16.0, 17.0]  # 2 x the national share
    assert divide_build.CONCENTRATION_INDICATOR == SOCIAL_MINIMUM
    assert divide_build.DISSIMILARITY_INDICATOR == LOW_INCOME
    assert divide_build.measures_of(MUNICIPAL) == registry.DEFAULT_MEASURES


def test_changing_the_catalogue_changes_which_measures_apply(monkeypatch):
    by_id = catalogue.by_id()
    listed = {INCOME: ("gap",), LOW_INCOME: ("cv", "theil_total", "theil_within")}
    changed = {iid: dataclasses.replace(ind, divide_measures=listed.get(iid, ind.divide_measures))
               for iid, ind in by_id.items()}
    monkeypatch.setattr(catalogue, "by_id", lambda: changed)
    out = divide_build.compute_measures(divide_inputs(), {2022: (8.0, "nederland"), 2023: (8.5, "nederland")}, 2.0)
    assert filled(out, "theil_total") == {(LOW_INCOME, "buurt"), (LOW_INCOME, "wijk")}
    assert filled(out, "theil_within") == {(LOW_INCOME, "buurt")}
    assert filled(out, "theil_between") == set()
    assert filled(out, "dissimilarity") == set()
    assert (INCOME, "buurt") in filled(out, "gap") and (INCOME, "buurt") not in filled(out, "cv")
    assert (LOW_INCOME, "buurt") not in filled(out, "gap") | filled(out, "worst20_mean")
