"""The inequality maths of bwm.divide: hand-computed cases, brute-force cross-checks, invariants."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from bwm.divide import frame as divide_frame
from bwm.divide.frame import MEASURE_COLUMNS, divide_measures
from bwm.divide.measures import (
    NARROWING,
    NO_CLEAR_CHANGE,
    TOO_FEW_YEARS,
    WIDENING,
    coefficient_of_variation,
    concentration_share,
    dissimilarity_index,
    extreme_group_gap,
    measures_by_segment,
    theil_decomposition,
    trend,
    weighted_quantile_groups,
    weighted_std,
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


# --- helpers: independent reference implementations -------------------------------------------


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


# --- weighted_quantile_groups ------------------------------------------------------------------


def test_quantile_groups_split_a_straddling_neighbourhood_fractionally():
    groups = weighted_quantile_groups(STRADDLE_X, STRADDLE_W)

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
    groups = weighted_quantile_groups([1.0, NAN, 2.0, 5.0], [10.0, 10.0, 0.0, 10.0], q=2)
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
        groups = weighted_quantile_groups(x, w, q=q)
        if xc.size == 0:
            assert np.isnan(groups.means).all() and groups.n_areas == 0
            continue
        expected = resident_quantile_means(residents(xc, wc), q)
        np.testing.assert_allclose(groups.means, expected, rtol=1e-12, err_msg=f"seed {seed}")
        _, _, keep = clean(x, w)
        np.testing.assert_allclose(groups.weights.sum(axis=1)[keep], wc, err_msg=f"seed {seed}")
        assert not groups.weights[~keep].any()
        np.testing.assert_allclose(groups.group_weights, [wc.sum() / q] * q, rtol=1e-12)


# --- extreme_group_gap --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "worst", "best"),
    [("higher_is_better", 1.0, 3.5), ("higher_is_worse", 3.5, 1.0), ("neutral", 1.0, 3.5)],
)
def test_extreme_group_gap_by_direction(direction, worst, best):
    # Bottom quintile mean 1, top quintile mean 3.5 (see STRADDLE_X).
    result = extreme_group_gap(STRADDLE_X, STRADDLE_W, direction)
    assert result.worst20_mean == pytest.approx(worst)
    assert result.best20_mean == pytest.approx(best)
    assert result.gap == pytest.approx(2.5)  # the worse-off are 2.5 units behind, whichever end that is
    assert result.ratio == pytest.approx(3.5)  # 3.5 / 1
    assert result.direction == direction


def test_extreme_group_ratio_is_nan_when_a_mean_is_not_positive():
    # Five neighbourhoods of 10 residents: bottom quintile is x=0 only, top is x=8.
    result = extreme_group_gap([0.0, 2.0, 4.0, 6.0, 8.0], [10.0] * 5, "higher_is_better")
    assert result.gap == pytest.approx(8.0)
    assert math.isnan(result.ratio)


def test_extreme_group_gap_rejects_an_unknown_direction():
    with pytest.raises(ValueError, match="direction"):
        extreme_group_gap([1.0], [1.0], "up")


def test_extreme_group_means_match_resident_expansion():
    for seed in range(N_SEEDS):
        x, w, _ = random_case(np.random.default_rng(seed))
        xc, wc, _ = clean(x, w)
        result = extreme_group_gap(x, w, "higher_is_worse")
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


def test_weighted_std_and_cv_by_hand():
    # x = 1 (1 resident), 3 (3 residents): mean (1 + 9) / 4 = 2.5;
    # variance (1 * 1.5^2 + 3 * 0.5^2) / 4 = (2.25 + 0.75) / 4 = 0.75; cv = sqrt(0.75) / 2.5.
    assert weighted_std([1.0, 3.0], [1.0, 3.0]).value == pytest.approx(math.sqrt(0.75))
    assert coefficient_of_variation([1.0, 3.0], [1.0, 3.0]).value == pytest.approx(math.sqrt(0.75) / 2.5)


def test_cv_is_nan_when_the_mean_is_zero():
    result = coefficient_of_variation([-1.0, 1.0], [5.0, 5.0])
    assert math.isnan(result.value)
    assert result.n_areas == 2


def test_weighted_std_and_cv_match_numpy_average():
    for seed in range(N_SEEDS):
        x, w, _ = random_case(np.random.default_rng(seed), integer_weights=seed % 2 == 0)
        xc, wc, _ = clean(x, w)
        std, cv = weighted_std(x, w), coefficient_of_variation(x, w)
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


def test_theil_by_hand():
    # x = 1, 3 with one resident each: mean 2, income shares 1/4 and 3/4;
    # T = 1/4 ln(1/2) + 3/4 ln(3/2) = -0.173287 + 0.304099 = 0.130812.
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert theil_decomposition([1.0, 3.0], [1.0, 1.0]).total == pytest.approx(expected)

    # Wijk a = {1, 3}, wijk b = {2, 2}: both wijk means 2, so between = 0; within = s_a T_a
    # = (4/8) * 0.130812 = 0.065406 = the total.
    within_only = theil_decomposition([1.0, 3.0, 2.0, 2.0], [1.0] * 4, ["a", "a", "b", "b"])
    assert within_only.between == pytest.approx(0.0, abs=1e-15)
    assert within_only.within == pytest.approx(expected / 2)
    assert within_only.total == pytest.approx(expected / 2)
    assert within_only.n_groups == 2

    # Wijk a = {1, 1}, wijk b = {3, 3}: no inequality inside a wijk, all of it between.
    between_only = theil_decomposition([1.0, 1.0, 3.0, 3.0], [1.0] * 4, ["a", "a", "b", "b"])
    assert between_only.within == 0.0
    assert between_only.between == pytest.approx(expected)
    assert between_only.total == pytest.approx(expected)


def test_theil_drops_non_positive_values_and_counts_them():
    result = theil_decomposition([1.0, 3.0, 0.0, -2.0, NAN], [1.0, 1.0, 1.0, 1.0, 1.0])
    assert result.total == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    assert (result.n_areas, result.n_nonpositive, result.n_dropped) == (2, 2, 3)


def test_theil_drops_neighbourhoods_without_a_wijk():
    with_gap = theil_decomposition([1.0, 3.0, 9.0, 9.0], [1.0] * 4, ["a", "a", None, float("nan")])
    without = theil_decomposition([1.0, 3.0], [1.0, 1.0], ["a", "a"])
    assert (with_gap.total, with_gap.between, with_gap.within) == (
        without.total, without.between, without.within
    )  # fmt: skip
    assert (with_gap.n_dropped, with_gap.n_nonpositive) == (2, 0)


def test_theil_matches_resident_expansion_and_decomposes_exactly():
    for seed in range(N_SEEDS):
        x, w, groups = random_case(np.random.default_rng(seed))
        result = theil_decomposition(x, w, groups)
        keep = np.isfinite(x) & np.isfinite(w) & (w > 0) & (x > 0)
        if not keep.any():
            assert math.isnan(result.total) and result.n_areas == 0
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
        assert result.n_groups == wijken.size
        usable = np.isfinite(x) & np.isfinite(w) & (w > 0)
        assert result.n_nonpositive == int((usable & (x <= 0)).sum())


# --- dissimilarity_index ------------------------------------------------------------------------


def test_dissimilarity_by_hand():
    # A = 20, B = 100; a/A = .5, 0, .5; b/B = 0, .5, .5; half of (.5 + .5 + 0) = 0.5.
    result = dissimilarity_index([10.0, 0.0, 10.0], [0.0, 50.0, 50.0])
    assert result.value == pytest.approx(0.5)
    assert (result.n_areas, result.weight_total, result.n_dropped) == (3, 120.0, 0)


def test_dissimilarity_is_nan_without_one_of_the_groups():
    assert math.isnan(dissimilarity_index([0.0, 0.0], [5.0, 7.0]).value)
    assert math.isnan(dissimilarity_index([], []).value)


def test_dissimilarity_matches_the_positive_part_formula():
    # sum(a/A - b/B) = 0, so half the absolute differences equals the sum of the positive ones.
    for seed in range(N_SEEDS):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 61))
        a, b = rng.integers(0, 300, n).astype(float), rng.integers(0, 900, n).astype(float)
        a[rng.random(n) < 0.08] = NAN
        b[rng.random(n) < 0.05] = -1.0
        keep = np.isfinite(a) & (b >= 0)
        result = dissimilarity_index(a, b)
        total_a, total_b = a[keep].sum(), b[keep].sum()
        if total_a == 0 or total_b == 0:
            assert math.isnan(result.value)
            continue
        expected = np.clip(a[keep] / total_a - b[keep] / total_b, 0, None).sum()
        assert result.value == pytest.approx(expected, rel=1e-12, abs=1e-15), f"seed {seed}"
        assert 0.0 <= result.value <= 1.0 + 1e-12
        assert result.n_dropped == n - keep.sum()
        order = rng.permutation(n)
        reordered = dissimilarity_index(a[order], b[order]).value
        assert reordered == pytest.approx(result.value, rel=1e-12, abs=1e-15)
        assert dissimilarity_index(a[keep], b[keep]).value == result.value  # dropped rows as if absent


# --- concentration_share ------------------------------------------------------------------------


def test_concentration_share_by_hand():
    # Values 5, 10, 20 with 100, 200, 700 residents; at or above 10: (200 + 700) / 1000 = 90 %.
    result = concentration_share([5.0, 10.0, 20.0, NAN], [100.0, 200.0, 700.0, 50.0], 10.0)
    assert result.value == pytest.approx(90.0)
    assert (result.n_areas, result.weight_total, result.n_dropped) == (3, 1000.0, 1)
    assert concentration_share([5.0, 10.0], [1.0, 1.0], 25.0).value == 0.0
    assert math.isnan(concentration_share([5.0], [1.0], NAN).value)


# --- one neighbourhood, nothing usable ----------------------------------------------------------


def test_a_single_neighbourhood_has_no_divide():
    x, w = [31_400.0], [2_750.0]
    gap = extreme_group_gap(x, w, "higher_is_better")
    assert (gap.worst20_mean, gap.best20_mean, gap.gap, gap.ratio) == (31_400.0, 31_400.0, 0.0, 1.0)
    assert weighted_std(x, w).value == 0.0
    assert coefficient_of_variation(x, w).value == 0.0
    theil = theil_decomposition(x, w, ["WK001"])
    assert (theil.total, theil.between, theil.within) == (0.0, 0.0, 0.0)
    assert dissimilarity_index([120.0], [980.0]).value == 0.0
    assert concentration_share(x, w, 30_000.0).value == 100.0
    np.testing.assert_array_equal(weighted_quantile_groups(x, w).means, [31_400.0] * 5)


def test_all_missing_gives_nan_and_counts_the_drops():
    result = extreme_group_gap([NAN, 4.0], [10.0, 0.0], "neutral")
    assert math.isnan(result.gap) and math.isnan(result.ratio)
    assert (result.n_areas, result.weight_total, result.n_dropped) == (0, 0.0, 2)
    assert math.isnan(weighted_std([], []).value)
    assert math.isnan(theil_decomposition([-1.0], [3.0]).total)


# --- invariants: order, missing rows --------------------------------------------------------------


def summary(x, w, groups) -> list[float]:
    """Every measure of one municipality as a flat list of numbers."""
    gap = extreme_group_gap(x, w, "higher_is_better")
    theil = theil_decomposition(x, w, groups)
    return [
        *weighted_quantile_groups(x, w).means,
        gap.worst20_mean, gap.best20_mean, gap.gap, gap.ratio,
        weighted_std(x, w).value, coefficient_of_variation(x, w).value,
        theil.total, theil.between, theil.within,
        concentration_share(x, w, 20_000.0).value,
    ]  # fmt: skip


def test_results_do_not_depend_on_the_order_of_neighbourhoods():
    for seed in range(N_SEEDS):
        rng = np.random.default_rng(seed)
        x, w, groups = random_case(rng, integer_weights=seed % 2 == 0)
        order = rng.permutation(x.size)
        np.testing.assert_allclose(
            summary(x[order], w[order], groups[order]), summary(x, w, groups), rtol=1e-9, atol=1e-12,
            err_msg=f"seed {seed}",
        )  # fmt: skip


def test_missing_rows_count_exactly_as_absent_rows():
    for seed in range(N_SEEDS):
        x, w, groups = random_case(np.random.default_rng(seed))
        _, _, keep = clean(x, w)
        np.testing.assert_array_equal(
            summary(x, w, groups), summary(x[keep], w[keep], groups[keep]), err_msg=f"seed {seed}"
        )
        assert weighted_std(x, w).n_dropped == x.size - keep.sum()


# --- trend ----------------------------------------------------------------------------------------


def test_trend_widening_and_narrowing():
    # 1.0 -> 1.4 over 2015..2019: slope 0.1 per year, +40 % since the first year.
    rising = trend([2015, 2016, 2017, 2018, 2019], [1.0, 1.1, 1.2, 1.3, 1.4])
    assert rising.label == WIDENING
    assert rising.slope_per_year == pytest.approx(0.1)
    assert rising.change_since_first == pytest.approx(0.4)
    assert rising.change_since_previous == pytest.approx(0.1)
    assert rising.relative_change == pytest.approx(0.4)
    assert trend([2015, 2016, 2017], [1.4, 1.2, 1.0]).label == NARROWING
    # A measure where smaller means wider: the same rise is narrowing.
    assert trend([2015, 2016, 2017], [1.0, 1.2, 1.4], larger_is_wider=False).label == NARROWING


def test_trend_no_clear_change():
    # +3 % from first to last is under the 5 % threshold.
    assert trend([2015, 2016, 2017, 2018], [1.0, 1.02, 1.0, 1.03]).label == NO_CLEAR_CHANGE
    # +20 % from first to last, but the OLS slope is negative: over years 0..3, mean 1.275,
    # sum(dt * dy) = -1.5*-0.275 - 0.5*0.725 + 0.5*-0.375 + 1.5*-0.075 = -0.25; slope -0.25/5 = -0.05.
    wobble = trend([2015, 2016, 2017, 2018], [1.0, 2.0, 0.9, 1.2])
    assert wobble.slope_per_year == pytest.approx(-0.05)
    assert wobble.label == NO_CLEAR_CHANGE
    # A lower threshold turns the 3 % rise into widening.
    assert trend([2015, 2016, 2017, 2018], [1.0, 1.02, 1.0, 1.03], min_relative_change=0.02).label == WIDENING


def test_trend_needs_three_available_years():
    two = trend([2015, 2016, 2017], [1.0, NAN, 2.0])
    assert two.label == TOO_FEW_YEARS
    assert two.change_since_first == pytest.approx(1.0)
    assert two.slope_per_year == pytest.approx(0.5)  # still reported: (2 - 1) / 2 years
    one = trend([2015], [1.0])
    assert one.label == TOO_FEW_YEARS
    assert math.isnan(one.slope_per_year) and math.isnan(one.change_since_previous)
    assert trend([], []).n_years == 0
    assert trend([2015, 2016, 2017], [1.0, 1.2, 1.4], min_years=4).label == TOO_FEW_YEARS


def test_trend_skips_missing_years_and_sorts_them():
    result = trend([2019, 2015, 2016, 2017], [1.4, 1.0, NAN, 1.2])
    assert result.label == WIDENING
    assert result.change_since_previous == pytest.approx(0.2)  # 2019 against 2017, the previous available
    assert (result.n_years, result.first_year, result.last_year) == (3, 2015.0, 2019.0)


def test_trend_from_zero_uses_the_mean_level():
    # First value 0: the change 0.2 is set against the mean |value| 0.1, a relative change of 2.
    result = trend([2015, 2016, 2017], [0.0, 0.1, 0.2])
    assert result.relative_change == pytest.approx(2.0)
    assert result.label == WIDENING
    assert trend([2015, 2016, 2017], [0.0, 0.0, 0.0]).label == NO_CLEAR_CHANGE


def test_trend_rejects_repeated_years():
    with pytest.raises(ValueError, match="repeat"):
        trend([2015, 2015, 2016], [1.0, 2.0, 3.0])


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
    assert first["weighted_std"] == pytest.approx(weighted_std(STRADDLE_X, STRADDLE_W).value)
    theil = theil_decomposition(STRADDLE_X, STRADDLE_W, ["WK000101", "WK000101", "WK000102", "WK000102"])
    assert first["theil_total"] == pytest.approx(theil.total)
    assert first["theil_between"] == pytest.approx(theil.between)
    assert first["theil_within"] == pytest.approx(theil.within)
    # Low-income households 1, 10, 0, 5 (16) against others 9, 20, 10, 45 (84).
    assert first["dissimilarity"] == pytest.approx(dissimilarity_index([1, 10, 0, 5], [9, 20, 10, 45]).value)
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


def test_divide_measures_equals_the_one_municipality_functions(monkeypatch):
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
        gap = extreme_group_gap(x, w, "higher_is_worse")
        theil = theil_decomposition(x, w, group["wijk"].to_numpy())
        expected = {
            "n_areas": gap.n_areas, "n_dropped": gap.n_dropped, "weight_total": gap.weight_total,
            "worst20_mean": gap.worst20_mean, "best20_mean": gap.best20_mean,
            "gap": gap.gap, "ratio": gap.ratio,
            "weighted_std": weighted_std(x, w).value, "cv": coefficient_of_variation(x, w).value,
            "theil_total": theil.total, "theil_between": theil.between, "theil_within": theil.within,
            "theil_n_nonpositive": theil.n_nonpositive,
            "concentration_share_pct": concentration_share(x, w, 25_000.0).value,
        }  # fmt: skip
        for name, value in expected.items():
            got = row[name]
            if isinstance(value, float) and math.isnan(value):
                assert got is None, (row["gemeente"], name)
            else:
                assert got == pytest.approx(value, rel=1e-9, abs=1e-12), (row["gemeente"], name)
        assert row["dissimilarity"] is None
