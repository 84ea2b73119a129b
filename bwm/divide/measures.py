"""The divide between neighbourhoods of one municipality: pure numpy maths, no Dagster, no polars.

One call covers one municipality, one year and one indicator. ``x`` holds the neighbourhoods' values
(for example mean income per inhabitant in euro, or % of households at the social minimum) and ``w``
their population weights (residents). Every neighbourhood stands for ``w`` residents who all have the
value ``x``; "the worst-off 20 %" therefore means 20 % of *residents*, not of neighbourhoods.

Missing data, the same rule everywhere: a neighbourhood whose value or weight is NaN or infinite, or
whose weight is <= 0, is dropped before anything is computed, so a result is identical to the result
with those rows removed. Every result reports ``n_areas`` (neighbourhoods used), ``weight_total``
(residents used) and ``n_dropped`` (neighbourhoods left out). With nothing left, every measure is NaN.

Weighted means are computed as ``r + sum(w * (x - r)) / sum(w)`` with ``r`` one of the values: the
same number as the plain weighted mean, but exact when all values are equal, so a one-neighbourhood
municipality gets a gap of exactly 0, a ratio of exactly 1, a standard deviation and a Theil index of
exactly 0.

The public functions take one municipality. :func:`measures_by_segment` computes all of them for many
municipalities (segments) in one pass of array operations; it is what :mod:`bwm.divide.frame` calls,
and the one-municipality functions run the same private ``_segment_*`` code with a single segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["higher_is_better", "higher_is_worse", "neutral"]
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "higher_is_worse", "neutral")

WIDENING = "widening"
NARROWING = "narrowing"
NO_CLEAR_CHANGE = "no clear change"
TOO_FEW_YEARS = "too few years"
TREND_LABELS: tuple[str, ...] = (WIDENING, NARROWING, NO_CLEAR_CHANGE, TOO_FEW_YEARS)

_NAN = float("nan")


@dataclass(frozen=True)
class Measure:
    """One number over one municipality's neighbourhoods, with what went into it."""

    value: float
    n_areas: int
    weight_total: float
    n_dropped: int


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays do not compare to a single bool
class QuantileGroups:
    """Residents of each neighbourhood in each population quantile group, lowest values first.

    ``weights[i, k]`` is the number of residents of input row ``i`` counted in group ``k`` (0 for a
    dropped row); ``group_weights[k]`` their sum (``weight_total / q``); ``means[k]`` the
    population-weighted mean value of group ``k``.
    """

    weights: np.ndarray
    group_weights: np.ndarray
    means: np.ndarray
    n_areas: int
    weight_total: float
    n_dropped: int


@dataclass(frozen=True)
class ExtremeGroupGap:
    """Mean value of the worst-off and best-off 20 % of residents, their gap and ratio."""

    worst20_mean: float
    best20_mean: float
    gap: float
    ratio: float
    direction: str
    n_areas: int
    weight_total: float
    n_dropped: int


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T over neighbourhoods, split into between-wijk and within-wijk parts."""

    total: float
    between: float
    within: float
    n_groups: int
    n_areas: int
    weight_total: float
    n_dropped: int
    n_nonpositive: int


@dataclass(frozen=True)
class Trend:
    """Direction of a divide measure over the years it is available."""

    label: str
    slope_per_year: float
    change_since_first: float
    change_since_previous: float
    relative_change: float
    n_years: int
    first_year: float
    last_year: float


# --- segment machinery: arrays of rows, an int64 segment id per row, one result per segment ------------


def _as_pair(x, w) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    if x.ndim != 1 or x.shape != w.shape:
        raise ValueError(f"the two arrays must be 1-d and of one length, got shapes {x.shape} and {w.shape}")
    return x, w


def _usable(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The missing-data rule of the module docstring."""
    return np.isfinite(x) & np.isfinite(w) & (w > 0)


def _sum(seg: np.ndarray, values: np.ndarray, n_seg: int) -> np.ndarray:
    return np.bincount(seg, values, minlength=n_seg)


def _member(x: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """One value of each segment (NaN for an empty one): the reference r of the weighted means."""
    ref = np.full(n_seg, _NAN)
    ref[seg] = x
    return ref


def _mean(x: np.ndarray, a: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """Mean of x weighted by a, per segment: r + sum(a (x - r)) / sum(a)."""
    ref = _member(x, seg, n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ref + _sum(seg, a * (x - ref[seg]), n_seg) / _sum(seg, a, n_seg)


def _sorted_by_segment_and_value(x: np.ndarray, seg: np.ndarray) -> bool:
    same = seg[1:] == seg[:-1]
    return bool(np.all(seg[1:] >= seg[:-1]) and np.all(x[1:][same] >= x[:-1][same]))


def _positions(w: np.ndarray, seg: np.ndarray, n_seg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by segment, then value: each row's stretch [lower, upper) on its segment's line of
    residents, and the length of that line (the segment's residents), per row."""
    # One running sum over all segments, minus each segment's start: exact for whole resident counts,
    # off by rounding (~1e-16 of the running total) for fractional weights.
    upper = np.cumsum(w)
    lower = np.concatenate(([0.0], upper[:-1]))
    first = np.concatenate(([True], seg[1:] != seg[:-1]))
    last = np.concatenate((seg[1:] != seg[:-1], [True]))
    start = np.zeros(n_seg)
    start[seg[first]] = lower[first]
    length = np.zeros(n_seg)
    length[seg[last]] = upper[last] - start[seg[last]]
    offset = start[seg]
    return lower - offset, upper - offset, length[seg]


def _overlap(lower, upper, length, k, q: int) -> np.ndarray:
    """Residents of a row's stretch [lower, upper) inside quantile slice k: [k L / q, (k + 1) L / q)."""
    inside = np.minimum(upper, length * ((k + 1) / q)) - np.maximum(lower, length * (k / q))
    return np.clip(inside, 0.0, None)


def _segment_bottom_top(x, w, seg, n_seg) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the bottom and of the top population quintile per segment (rows sorted by seg, x)."""
    lower, upper, length = _positions(w, seg, n_seg)
    bottom = _mean(x, _overlap(lower, upper, length, 0, 5), seg, n_seg)
    top = _mean(x, _overlap(lower, upper, length, 4, 5), seg, n_seg)
    return bottom, top


def _gap_ratio(bottom, top, higher_is_worse):
    """worst, best, gap (>= 0) and ratio (>= 1) from the bottom and top quintile means."""
    worst = np.where(higher_is_worse, top, bottom)
    best = np.where(higher_is_worse, bottom, top)
    # Sorted order makes top >= bottom; the maximum only absorbs rounding in the last bit.
    gap = np.where(np.isnan(top - bottom), _NAN, np.maximum(top - bottom, 0.0))
    low, high = np.minimum(bottom, top), np.maximum(bottom, top)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(low > 0, high / low, _NAN)
    return worst, best, gap, ratio


def _segment_mean_std(x, w, seg, n_seg) -> tuple[np.ndarray, np.ndarray]:
    mean = _mean(x, w, seg, n_seg)
    dev = x - mean[seg]
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(_sum(seg, w * dev * dev, n_seg) / _sum(seg, w, n_seg))
    return mean, std


def _cv(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean != 0, std / mean, _NAN)


def _pair_ids(seg: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Dense ids 0..n-1 of the distinct (segment, label) pairs; labels are non-negative integers."""
    key = seg * (int(labels.max()) + 1) + labels
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    ids = np.empty(key.size, dtype=np.int64)
    ids[order] = np.concatenate(([0], np.cumsum(sorted_key[1:] != sorted_key[:-1])))
    return ids


def _segment_theil(x, w, seg, n_seg, pair):
    """Theil T per segment and its split over the (segment, wijk) pairs ``pair`` (dense ids from
    :func:`_pair_ids`); x > 0."""
    n_pair = int(pair.max()) + 1
    pair_seg = np.empty(n_pair, dtype=np.int64)
    pair_seg[pair] = seg
    mean = _mean(x, w, seg, n_seg)
    pair_mean = _mean(x, w, pair, n_pair)
    income = w * x
    with np.errstate(invalid="ignore", divide="ignore"):
        share = income / _sum(seg, income, n_seg)[seg]
    pair_share = _sum(pair, share, n_pair)
    total = _sum(seg, share * np.log(x / mean[seg]), n_seg)
    between = _sum(pair_seg, pair_share * np.log(pair_mean / mean[pair_seg]), n_seg)
    # sum_g s_g T_g written per neighbourhood: s_g * (w_i x_i / Y_g) = s_i.
    within = _sum(seg, share * np.log(x / pair_mean[pair]), n_seg)
    n_groups = np.bincount(pair_seg, minlength=n_seg)
    return total, between, within, n_groups


def _segment_dissimilarity(a, b, seg, n_seg) -> np.ndarray:
    total_a, total_b = _sum(seg, a, n_seg), _sum(seg, b, n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = 0.5 * _sum(seg, np.abs(a / total_a[seg] - b / total_b[seg]), n_seg)
    return np.where((total_a > 0) & (total_b > 0), d, _NAN)


def _segment_share_at_or_above(x, w, seg, n_seg, threshold) -> np.ndarray:
    weight = _sum(seg, w, n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 100.0 * _sum(seg, w * (x >= threshold[seg]), n_seg) / weight
    return np.where(np.isfinite(threshold) & (weight > 0), share, _NAN)


def _theil_labels(groups, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of wijk labels and where a label is missing (None or NaN)."""
    if groups is None:
        return np.zeros(size, dtype=np.int64), np.zeros(size, dtype=bool)
    labels = np.asarray(groups)
    if labels.shape != (size,):
        raise ValueError(f"groups must have the shape of x ({size},), got {labels.shape}")
    if labels.dtype.kind == "f":
        missing = np.isnan(labels)
    elif labels.dtype.kind == "O":
        missing = np.fromiter((g is None or g != g for g in labels), dtype=bool, count=size)
    else:
        missing = np.zeros(size, dtype=bool)
    codes = np.zeros(size, dtype=np.int64)
    if (~missing).any():
        codes[~missing] = np.unique(labels[~missing], return_inverse=True)[1].ravel()
    return codes, missing


# --- one municipality -------------------------------------------------------------------------------


def weighted_quantile_groups(x, w, q: int = 5) -> QuantileGroups:
    """Population-weighted quantile groups (quintiles for q=5) of neighbourhoods.

    Line the residents up by the value of their neighbourhood, lowest first, and cut the line into
    ``q`` pieces of equal size ``W / q`` (``W`` = all residents). A neighbourhood occupies the stretch
    ``[C - w, C)`` of the line, where ``C`` is the cumulative weight up to and including it; its
    residents in group ``k`` are the overlap of that stretch with ``[k W / q, (k + 1) W / q)``.

    Straddling: a neighbourhood whose residents cross a boundary is split fractionally, e.g. one of
    300 residents of whom 100 fall below the 20 % mark counts 100 residents in the first quintile and
    200 in the second. This keeps every group exactly ``W / q`` residents, and a group mean is then
    exactly the mean over that share of residents (as if each resident were listed separately), for
    any neighbourhood sizes. Neighbourhoods with equal values are tied; which of them is split does
    not change any group mean.

    Group mean ``k``: ``sum_i weights[i, k] * x_i / sum_i weights[i, k]``.
    """
    if q < 1:
        raise ValueError(f"q must be >= 1, got {q}")
    x, w = _as_pair(x, w)
    keep = _usable(x, w)
    n_areas = int(keep.sum())
    weights = np.zeros((x.size, q))
    if n_areas == 0:
        return QuantileGroups(weights, np.zeros(q), np.full(q, _NAN), 0, 0.0, x.size)
    order = np.argsort(x[keep], kind="stable")
    xs, ws = x[keep][order], w[keep][order]
    seg = np.zeros(n_areas, dtype=np.int64)
    lower, upper, length = _positions(ws, seg, 1)
    overlap = _overlap(lower[:, None], upper[:, None], length[:, None], np.arange(q)[None, :], q)
    weights[np.flatnonzero(keep)[order]] = overlap
    means = np.array([_mean(xs, overlap[:, k], seg, 1)[0] for k in range(q)])
    return QuantileGroups(weights, overlap.sum(axis=0), means, n_areas, float(ws.sum()), x.size - n_areas)


def extreme_group_gap(x, w, direction: Direction) -> ExtremeGroupGap:
    """Mean value of the neighbourhoods housing the worst-off and the best-off 20 % of residents.

    The bottom and top population quintiles are those of :func:`weighted_quantile_groups` (boundary
    neighbourhoods split fractionally). ``direction`` says which end is worse off:

    * ``higher_is_better`` (income, participation): worst = lowest values, best = highest;
    * ``higher_is_worse`` (% at the social minimum, distance to a GP): worst = highest, best = lowest;
    * ``neutral`` (density, age mix): worst = lowest values, best = highest, read as "low" and "high".

    ``gap`` = how far the worst-off 20 % are behind the best-off 20 %, in the indicator's own unit:
    ``best - worst`` for ``higher_is_better`` and ``neutral``, ``worst - best`` for
    ``higher_is_worse``. Both equal top-quintile mean minus bottom-quintile mean, so the gap is never
    negative; 0 means the two ends are level (always so for one neighbourhood).

    ``ratio`` = larger mean / smaller mean, so >= 1 (1 for one neighbourhood). NaN when either mean
    is <= 0, where a ratio says nothing.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    x, w = _as_pair(x, w)
    keep = _usable(x, w)
    n_areas = int(keep.sum())
    if n_areas == 0:
        return ExtremeGroupGap(_NAN, _NAN, _NAN, _NAN, direction, 0, 0.0, x.size)
    order = np.argsort(x[keep], kind="stable")
    bottom, top = _segment_bottom_top(x[keep][order], w[keep][order], np.zeros(n_areas, dtype=np.int64), 1)
    worst, best, gap, ratio = (float(v[0]) for v in _gap_ratio(bottom, top, direction == "higher_is_worse"))
    weight_total = float(w[keep].sum())
    return ExtremeGroupGap(worst, best, gap, ratio, direction, n_areas, weight_total, x.size - n_areas)


def weighted_std(x, w) -> Measure:
    """Population-weighted standard deviation of the neighbourhood values (ddof 0).

    ``sqrt(sum(w * (x - m)**2) / sum(w))`` with ``m = sum(w * x) / sum(w)``: the spread of the values
    residents see, every resident counted once. 0 for one neighbourhood.
    """
    x, w = _as_pair(x, w)
    keep = _usable(x, w)
    n_areas = int(keep.sum())
    if n_areas == 0:
        return Measure(_NAN, 0, 0.0, x.size)
    _, std = _segment_mean_std(x[keep], w[keep], np.zeros(n_areas, dtype=np.int64), 1)
    return Measure(float(std[0]), n_areas, float(w[keep].sum()), x.size - n_areas)


def coefficient_of_variation(x, w) -> Measure:
    """Weighted standard deviation divided by the weighted mean (a unit-free spread).

    ``weighted_std / m`` with ``m`` the population-weighted mean; 0.25 means neighbourhoods typically
    sit 25 % of the mean away from it. 0 for one neighbourhood. NaN when the mean is 0; negative when
    the mean is negative (not meaningful there; the monitor's values are counts, euros, percentages).
    """
    x, w = _as_pair(x, w)
    keep = _usable(x, w)
    n_areas = int(keep.sum())
    if n_areas == 0:
        return Measure(_NAN, 0, 0.0, x.size)
    mean, std = _segment_mean_std(x[keep], w[keep], np.zeros(n_areas, dtype=np.int64), 1)
    return Measure(float(_cv(mean, std)[0]), n_areas, float(w[keep].sum()), x.size - n_areas)


def theil_decomposition(x, w, groups=None) -> TheilDecomposition:
    """Theil T index across neighbourhoods, split exactly into between- and within-wijk parts.

    Each neighbourhood counts as ``w`` residents who each have ``x`` (mean income per inhabitant).
    With ``mu`` the overall mean and ``s_i = w_i x_i / sum(w x)`` the neighbourhood's share of all
    income: ``T = sum_i s_i ln(x_i / mu)``. In words: how far the income shares of neighbourhoods are
    from their population shares. 0 when everyone has the same value (one neighbourhood), at most
    ``ln(number of residents)``.

    Decomposition over ``groups`` (wijk codes): with ``mu_g`` the group's mean and ``s_g`` its income
    share, ``T = sum_g s_g ln(mu_g / mu) + sum_g s_g T_g``. Between = the inequality if every resident
    had their wijk's mean; within = the income-weighted average of each wijk's own Theil ``T_g``.
    ``groups=None`` is one group: between 0, within = total.

    Dropped: the usual missing values, neighbourhoods without a group label (None or NaN), and values
    <= 0. A Theil index has no meaning for negative values; a mean income of exactly 0 would be allowed
    by the formula (0 ln 0 = 0), but for a neighbourhood with residents it is a placeholder, not an
    income, so it is dropped too rather than failing the municipality. ``n_nonpositive`` counts
    those, ``n_dropped`` all rows left out.
    """
    x, w = _as_pair(x, w)
    codes, missing = _theil_labels(groups, x.size)
    present = _usable(x, w) & ~missing
    keep = present & (x > 0)
    n_nonpositive = int((present & ~keep).sum())
    n_areas = int(keep.sum())
    if n_areas == 0:
        return TheilDecomposition(_NAN, _NAN, _NAN, 0, 0, 0.0, x.size, n_nonpositive)
    seg = np.zeros(n_areas, dtype=np.int64)
    total, between, within, n_groups = _segment_theil(x[keep], w[keep], seg, 1, _pair_ids(seg, codes[keep]))
    return TheilDecomposition(
        float(total[0]), float(between[0]), float(within[0]), int(n_groups[0]),
        n_areas, float(w[keep].sum()), x.size - n_areas, n_nonpositive,
    )  # fmt: skip


def dissimilarity_index(a, b) -> Measure:
    """Duncan's index of dissimilarity of group ``a`` against group ``b`` over neighbourhoods.

    ``a`` and ``b`` are counts per neighbourhood (e.g. low-income households and all other
    households). ``D = 1/2 * sum_i |a_i / A - b_i / B|`` with ``A``, ``B`` the totals: the share of
    group ``a`` (equivalently of ``b``) that would have to move for both to be spread alike. 0 = the
    same spread (always so for one neighbourhood), 1 = never in the same neighbourhood. A fraction
    0..1, not a percentage. NaN when ``A`` or ``B`` is 0.

    Dropped: NaN or infinite counts, and negative counts. ``weight_total`` is ``A + B``.
    """
    a, b = _as_pair(a, b)
    keep = np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)
    n_areas = int(keep.sum())
    seg = np.zeros(n_areas, dtype=np.int64)
    value = _segment_dissimilarity(a[keep], b[keep], seg, 1)[0]
    return Measure(float(value), n_areas, float(a[keep].sum() + b[keep].sum()), a.size - n_areas)


def concentration_share(x, w, threshold: float) -> Measure:
    """Share (%) of residents living in neighbourhoods whose value is at or above ``threshold``.

    ``100 * sum(w where x >= threshold) / sum(w)``. The caller picks the threshold, e.g. twice the
    national share of households at the social minimum. NaN when the threshold is NaN.
    """
    x, w = _as_pair(x, w)
    keep = _usable(x, w)
    n_areas = int(keep.sum())
    seg = np.zeros(n_areas, dtype=np.int64)
    value = _segment_share_at_or_above(x[keep], w[keep], seg, 1, np.array([float(threshold)]))[0]
    return Measure(float(value), n_areas, float(w[keep].sum()), x.size - n_areas)


# --- many municipalities at once -------------------------------------------------------------------


def measures_by_segment(
    x,
    w,
    segment,
    *,
    n_segments: int,
    directions: Sequence[str] | np.ndarray,
    wijk=None,
    low_count=None,
    other_count=None,
    threshold=None,
) -> dict[str, np.ndarray]:
    """Every measure of this module for many segments (municipality x year x indicator) at once.

    ``x``, ``w`` (and ``wijk``, ``low_count``, ``other_count``) hold one entry per neighbourhood row;
    ``segment`` the row's segment id, an integer in ``0 .. n_segments - 1``. ``directions`` (one per
    segment) and ``threshold`` (one per segment, NaN for none) are per segment. ``wijk`` holds
    non-negative integer wijk codes, NaN where missing. The result maps the column names of
    :mod:`bwm.divide.frame` to arrays of length ``n_segments``, equal to what the one-municipality
    functions return per segment (NaN where they return NaN; ``theil_between``/``theil_within`` and
    ``dissimilarity`` are NaN when ``wijk`` or the counts are not given).

    Rows already sorted by segment, then value (``NaN`` rows anywhere) are used as they are; other
    input is sorted here first, which costs a few seconds for millions of rows.
    """
    x, w = _as_pair(x, w)
    seg = np.asarray(segment, dtype=np.int64)
    if seg.shape != x.shape:
        raise ValueError(f"segment must have the shape of x {x.shape}, got {seg.shape}")
    if seg.size and (seg.min() < 0 or seg.max() >= n_segments):
        raise ValueError(f"segment ids must lie in 0..{n_segments - 1}")
    directions = np.asarray(directions, dtype=object)
    if directions.shape != (n_segments,):
        raise ValueError(f"directions must hold one entry per segment ({n_segments}), got {directions.shape}")
    unknown = set(directions.tolist()) - set(DIRECTIONS)
    if unknown:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {sorted(map(str, unknown))}")
    thresholds = np.full(n_segments, _NAN) if threshold is None else np.asarray(threshold, dtype=float)
    if thresholds.shape != (n_segments,):
        raise ValueError(f"threshold must hold one entry per segment ({n_segments}), got {thresholds.shape}")

    keep = _usable(x, w)
    xk, wk, sk = x[keep], w[keep], seg[keep]
    if not _sorted_by_segment_and_value(xk, sk):
        order = np.argsort(xk, kind="stable")
        order = order[np.argsort(sk[order], kind="stable")]
        xk, wk, sk = xk[order], wk[order], sk[order]
        if wijk is not None:
            wijk_k = np.asarray(wijk, dtype=float)[keep][order]
    elif wijk is not None:
        wijk_k = np.asarray(wijk, dtype=float)[keep]

    n_areas = np.bincount(sk, minlength=n_segments)
    out: dict[str, np.ndarray] = {
        "n_areas": n_areas,
        "n_dropped": np.bincount(seg, minlength=n_segments) - n_areas,
        "weight_total": _sum(sk, wk, n_segments),
    }
    if xk.size:
        bottom, top = _segment_bottom_top(xk, wk, sk, n_segments)
        mean, std = _segment_mean_std(xk, wk, sk, n_segments)
    else:
        bottom = top = mean = std = np.full(n_segments, _NAN)
    worst, best, gap, ratio = _gap_ratio(bottom, top, directions == "higher_is_worse")
    out |= {"worst20_mean": worst, "best20_mean": best, "gap": gap, "ratio": ratio}
    out |= {"weighted_std": std, "cv": _cv(mean, std)}

    labelled = np.ones(xk.size, dtype=bool) if wijk is None else ~np.isnan(wijk_k)
    in_theil = labelled & (xk > 0)
    out["theil_n_nonpositive"] = np.bincount(sk[labelled & ~in_theil], minlength=n_segments)
    if in_theil.any():
        theil_seg = sk[in_theil]
        codes = np.zeros(theil_seg.size, dtype=np.int64)
        if wijk is not None:
            codes = wijk_k[in_theil].astype(np.int64)
        total, between, within, _ = _segment_theil(
            xk[in_theil], wk[in_theil], theil_seg, n_segments, _pair_ids(theil_seg, codes)
        )
        no_theil = np.bincount(theil_seg, minlength=n_segments) == 0
    else:
        total = between = within = np.full(n_segments, _NAN)
        no_theil = np.ones(n_segments, dtype=bool)
    out["theil_total"] = np.where(no_theil, _NAN, total)
    out["theil_between"] = np.where(no_theil | (wijk is None), _NAN, between)
    out["theil_within"] = np.where(no_theil | (wijk is None), _NAN, within)

    if low_count is not None and other_count is not None:
        a, b = _as_pair(low_count, other_count)
        counted = np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)
        out["dissimilarity"] = _segment_dissimilarity(a[counted], b[counted], seg[counted], n_segments)
    else:
        out["dissimilarity"] = np.full(n_segments, _NAN)
    out["concentration_share_pct"] = _segment_share_at_or_above(xk, wk, sk, n_segments, thresholds)
    return out


# --- over the years ---------------------------------------------------------------------------------


def trend(
    years,
    values,
    *,
    min_years: int = 3,
    min_relative_change: float = 0.05,
    larger_is_wider: bool = True,
) -> Trend:
    """How a divide measure moved over the years it is available (NaN years are skipped).

    * ``slope_per_year``: ordinary least-squares slope of value on year (NaN with fewer than 2 years).
    * ``change_since_first``: last value minus first; ``change_since_previous``: last value minus the
      one of the previous available year (NaN with fewer than 2 years).
    * ``relative_change``: ``change_since_first / |first value|``; when the first value is 0 the
      change is divided by the mean absolute value over the years instead (0 if that is 0 too).

    Label rule (thresholds are parameters):

    * fewer than ``min_years`` (3) available years: ``'too few years'``, a separate label because
      two points cannot tell a trend from a wobble, which is not the same as "no change";
    * otherwise ``'widening'`` or ``'narrowing'`` only when ``|relative_change| >=
      min_relative_change`` (5 %) *and* the OLS slope has the same sign as the change from first to
      last year, so the end points and the whole series agree;
    * anything else: ``'no clear change'``. A slope within rounding of zero (``|slope| <= 1e-12 x`` the largest
      value) counts as zero: the points then do not agree on a direction, however the sums were ordered.

    Sign: for gap-like measures (gap, ratio, std, CV, Theil, dissimilarity, concentration) a larger
    value is a wider divide, so a rise is ``'widening'``. Pass ``larger_is_wider=False`` for a
    measure where a smaller value means a wider divide.
    """
    years = np.asarray(years, dtype=float)
    values = np.asarray(values, dtype=float)
    if years.ndim != 1 or years.shape != values.shape:
        raise ValueError(f"years and values must be 1-d of one length, got {years.shape} and {values.shape}")
    keep = np.isfinite(years) & np.isfinite(values)
    order = np.argsort(years[keep], kind="stable")
    t, y = years[keep][order], values[keep][order]
    if np.any(np.diff(t) == 0):
        raise ValueError(f"years must not repeat, got {t.tolist()}")
    n = t.size
    if n == 0:
        return Trend(TOO_FEW_YEARS, _NAN, _NAN, _NAN, _NAN, 0, _NAN, _NAN)

    change_first = float(y[-1] - y[0])
    change_previous = float(y[-1] - y[-2]) if n >= 2 else _NAN
    if n >= 2:
        dt = t - t.mean()
        slope = float(np.dot(dt, y - y.mean()) / np.dot(dt, dt))
    else:
        slope = _NAN
    scale = abs(float(y[0])) or float(np.abs(y).mean())
    relative = change_first / scale if scale > 0 else 0.0

    agree = change_first != 0 and _slope_sign(slope, float(np.abs(y).max())) == np.sign(change_first)
    if n < min_years:
        label = TOO_FEW_YEARS
    elif abs(relative) >= min_relative_change and agree:
        label = WIDENING if (change_first > 0) == larger_is_wider else NARROWING
    else:
        label = NO_CLEAR_CHANGE
    return Trend(label, slope, change_first, change_previous, relative, n, float(t[0]), float(t[-1]))


#: A slope this small relative to a series' largest value is zero up to rounding (see ``trend``).
_SLOPE_ROUNDING = 1e-12


def _slope_sign(slope, largest):
    """Sign of the slope, 0 where it is zero up to rounding (works on numbers and on arrays)."""
    return np.where(np.abs(slope) <= _SLOPE_ROUNDING * largest, 0.0, np.sign(slope))


def trends_by_segment(years, values, seg, n_seg: int, *, min_years: int = 3,
                      min_relative_change: float = 0.05) -> dict[str, np.ndarray]:
    """:func:`trend` for many series at once (``larger_is_wider``): one result per segment ``0..n_seg-1``.

    ``years`` and ``values`` are 1-d arrays with the segment of each row in ``seg``; rows must be sorted by
    segment, then year, and a year may not repeat within a segment. Non-finite years or values are skipped, as
    in :func:`trend`. Returns arrays ``label`` (object), ``slope_per_year``, ``change_since_first``,
    ``change_since_previous``, ``relative_change``, ``n_years``, ``first_year``, ``last_year``,
    ``first_value`` and ``last_value`` (NaN where undefined). The same rules and formulas as :func:`trend`;
    means and sums are taken per segment with ``np.bincount``, so a slope may differ from :func:`trend`'s in the
    last bits (the order of summation), which the label ignores (a slope within rounding of zero counts as zero).
    """
    t = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    seg = np.asarray(seg, dtype=np.int64)
    keep = np.isfinite(t) & np.isfinite(y)
    t, y, seg = t[keep], y[keep], seg[keep]
    if t.size > 1 and (np.any(seg[1:] < seg[:-1]) or np.any((seg[1:] == seg[:-1]) & (t[1:] <= t[:-1]))):
        raise ValueError("rows must be sorted by segment, then year, without repeated years")
    n = np.bincount(seg, minlength=n_seg)
    has = n > 0
    first = np.zeros(n_seg, dtype=np.int64)
    last = np.zeros(n_seg, dtype=np.int64)
    if t.size:
        starts = np.flatnonzero(np.concatenate(([True], seg[1:] != seg[:-1])))
        ends = np.append(starts[1:], t.size) - 1
        first[seg[starts]] = starts
        last[seg[starts]] = ends
    pick = (lambda a, idx, ok: np.where(ok, a[np.where(ok, idx, 0)], _NAN)) if t.size else \
        (lambda a, idx, ok: np.full(n_seg, _NAN))
    y0, y1, t0, t1 = pick(y, first, has), pick(y, last, has), pick(t, first, has), pick(t, last, has)
    y_prev = pick(y, last - 1, n >= 2)
    change_first = y1 - y0
    change_previous = np.where(n >= 2, y1 - y_prev, _NAN)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_mean = np.bincount(seg, t, minlength=n_seg) / n
        y_mean = np.bincount(seg, y, minlength=n_seg) / n
        dt = t - t_mean[seg]
        slope = np.bincount(seg, dt * (y - y_mean[seg]), minlength=n_seg) / np.bincount(seg, dt * dt, minlength=n_seg)
        slope = np.where(n >= 2, slope, _NAN)
        mean_abs = np.bincount(seg, np.abs(y), minlength=n_seg) / n
        scale = np.where(np.abs(y0) != 0, np.abs(y0), mean_abs)
        relative = np.where(scale > 0, change_first / scale, 0.0)
    largest = np.zeros(n_seg)
    np.maximum.at(largest, seg, np.abs(y))
    agree = (change_first != 0) & (_slope_sign(slope, largest) == np.sign(change_first))
    label = np.where(n < min_years, TOO_FEW_YEARS,
                     np.where((np.abs(relative) >= min_relative_change) & agree,
                              np.where(change_first > 0, WIDENING, NARROWING), NO_CLEAR_CHANGE)).astype(object)
    return {"label": label, "slope_per_year": slope, "change_since_first": np.where(has, change_first, _NAN),
            "change_since_previous": change_previous, "relative_change": np.where(has, relative, _NAN),
            "n_years": n, "first_year": t0, "last_year": t1, "first_value": y0, "last_value": y1}
