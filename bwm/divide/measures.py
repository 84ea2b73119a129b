"""The divide between neighbourhoods of a municipality: pure numpy maths, no Dagster, no polars.

Everything is computed for many municipalities (segments: municipality x year x indicator) in one pass of
array operations: :func:`measures_by_segment` for the measures of one year, :func:`trends_by_segment` for
how a measure moved over the years. :mod:`bwm.divide.frame` calls them on polars frames; the list of
measures, their names and meaning is :mod:`bwm.divide.registry`.

Per segment, ``x`` holds the neighbourhoods' values (for example mean income per inhabitant in euro, or %
of households at the social minimum) and ``w`` their population weights (residents). Every neighbourhood
stands for ``w`` residents who all have the value ``x``; "the worst-off 20 %" therefore means 20 % of
*residents*, not of neighbourhoods.

Missing data, the same rule everywhere: a neighbourhood whose value or weight is NaN or infinite, or whose
weight is <= 0, is dropped before anything is computed, so a result is identical to the result with those
rows removed. Every result reports ``n_areas`` (neighbourhoods used), ``weight_total`` (residents used) and
``n_dropped`` (neighbourhoods left out). With nothing left, every measure is NaN.

Weighted means are computed as ``r + sum(w * (x - r)) / sum(w)`` with ``r`` one of the values: the same
number as the plain weighted mean, but exact when all values are equal, so a one-neighbourhood
municipality gets a gap of exactly 0, a ratio of exactly 1, a standard deviation and a Theil index of
exactly 0.

The measures (definitions; ``tests/divide_reference.py`` implements each one again, one municipality at a
time, and the tests hold this module to it):

* **Population quintiles.** Line the residents up by the value of their neighbourhood, lowest first, and
  cut the line into 5 pieces of ``W / 5`` residents (``W`` = all residents). A neighbourhood occupies the
  stretch ``[C - w, C)`` of the line (``C``: cumulative weight up to and including it); its residents in
  quintile ``k`` are the overlap of that stretch with ``[k W / 5, (k + 1) W / 5)``. A neighbourhood that
  straddles a boundary is split fractionally (of 300 residents of whom 100 fall below the 20 % mark, 100
  count in the first quintile and 200 in the second), so a quintile mean is exactly the mean over that
  fifth of the residents, for any neighbourhood sizes. Ties do not change any quintile mean.
* **worst20_mean, best20_mean, gap, ratio.** The mean values of the bottom and the top quintile. Which end
  is worse off follows the indicator's direction: ``higher_is_better`` (income, participation) and
  ``neutral`` (density, age mix; read as "low" and "high"): worst = lowest values; ``higher_is_worse`` (%
  at the social minimum, distance to a GP): worst = highest values. ``gap`` = how far the worst-off 20 %
  are behind the best-off 20 %, in the indicator's own unit, which is always top mean minus bottom mean,
  so never negative; 0 when both ends are level (always so for one neighbourhood). ``ratio`` = larger mean
  / smaller mean, so >= 1; NaN when either mean is <= 0, where a ratio says nothing.
* **weighted_std, cv.** ``sqrt(sum(w (x - m)^2) / sum(w))`` with ``m`` the weighted mean (ddof 0): the
  spread of the values residents see. ``cv = weighted_std / m``, unit-free (0.25: neighbourhoods typically
  sit 25 % of the mean away from it); NaN when the mean is 0, negative when the mean is (not meaningful).
* **theil_total, theil_between, theil_within.** With ``mu`` the overall mean and ``s_i = w_i x_i /
  sum(w x)`` a neighbourhood's share of all income: ``T = sum_i s_i ln(x_i / mu)``, how far the income
  shares of neighbourhoods are from their population shares; 0 when everyone has the same value, at most
  ``ln(residents)``. Over wijken ``g`` (mean ``mu_g``, income share ``s_g``) it splits exactly:
  ``T = sum_g s_g ln(mu_g / mu) + sum_g s_g T_g``; between = the inequality if every resident had their
  wijk's mean, within = the income-weighted mean of each wijk's own Theil index. Left out of the index,
  besides the usual missing values: neighbourhoods without a wijk, and values <= 0 (a Theil index has no
  meaning for negative values, and a mean income of exactly 0 for a neighbourhood with residents is a
  placeholder, not an income); ``theil_n_nonpositive`` counts the latter.
* **dissimilarity.** Duncan's index of group ``a`` against group ``b`` (counts per neighbourhood, e.g.
  low-income and all other households): ``D = 1/2 sum_i |a_i / A - b_i / B|`` with ``A``, ``B`` the totals,
  the share of group ``a`` that would have to move for both to be spread alike. 0 = the same spread
  (always so for one neighbourhood), 1 = never in the same neighbourhood; a fraction, not a percentage.
  NaN when ``A`` or ``B`` is 0. Rows with a NaN, infinite or negative count are left out.
* **concentration_share_pct.** ``100 sum(w where x >= threshold) / sum(w)``: the share of residents living
  in neighbourhoods at or above a threshold the caller picks (e.g. twice the national share of households
  at the social minimum); NaN without a (finite) threshold.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

import numpy as np

Direction = Literal["higher_is_better", "higher_is_worse", "neutral"]
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "higher_is_worse", "neutral")

WIDENING = "widening"
NARROWING = "narrowing"
NO_CLEAR_CHANGE = "no clear change"
TOO_FEW_YEARS = "too few years"
TREND_LABELS: tuple[str, ...] = (WIDENING, NARROWING, NO_CLEAR_CHANGE, TOO_FEW_YEARS)
#: Why a trend got its label (``label_reason`` of ``trends_by_segment``), in the order the rule tests them.
REASON_TOO_FEW_YEARS = "too_few_years"
REASON_SMALL_CHANGE = "change_below_threshold"
REASON_SLOPE_DISAGREES = "slope_disagrees"
REASON_INTERVAL_INCLUDES_ZERO = "interval_includes_zero"
REASON_CLEAR = "clear_change"
REASON_CLEAR_NO_INTERVAL = "clear_change_no_interval"
LABEL_REASONS: tuple[str, ...] = (REASON_TOO_FEW_YEARS, REASON_SMALL_CHANGE, REASON_SLOPE_DISAGREES,
                                  REASON_INTERVAL_INCLUDES_ZERO, REASON_CLEAR, REASON_CLEAR_NO_INTERVAL)

_NAN = float("nan")


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


def _member(x: np.ndarray, seg: np.ndarray, n_seg: int, first: bool = False) -> np.ndarray:
    """One value of each segment (NaN for an empty one): the reference r of the weighted means. The last row
    of each segment by default (its largest value when rows are sorted), its first row with ``first``."""
    ref = np.full(n_seg, _NAN)
    if first:
        ref[seg[::-1]] = x[::-1]
    else:
        ref[seg] = x
    return ref


def _mean(x: np.ndarray, a: np.ndarray, seg: np.ndarray, n_seg: int, ref: np.ndarray | None = None) -> np.ndarray:
    """Mean of x weighted by a, per segment: r + sum(a (x - r)) / sum(a), r one value of the segment (``ref``)."""
    if ref is None:
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
    # Each quintile's reference is one of its own values: the smallest value for the bottom, the largest for the
    # top. A quintile of equal values then has exactly that mean; with the largest value as the bottom's
    # reference a bottom of zeros came out as ~1e-14 and its ratio as ~1e15 instead of none (pandas baseline).
    bottom = _mean(x, _overlap(lower, upper, length, 0, 5), seg, n_seg, _member(x, seg, n_seg, first=True))
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
    only: Collection[str] | None = None,
) -> dict[str, np.ndarray]:
    """Every measure of this module for many segments (municipality x year x indicator) at once.

    ``x``, ``w`` (and ``wijk``, ``low_count``, ``other_count``) hold one entry per neighbourhood row;
    ``segment`` the row's segment id, an integer in ``0 .. n_segments - 1``. ``directions`` (one per
    segment) and ``threshold`` (one per segment, NaN for none) are per segment. ``wijk`` holds
    non-negative integer wijk codes, NaN where missing. The result maps the column names of
    :mod:`bwm.divide.registry` (basis columns, measures and their details) to arrays of length
    ``n_segments``, following the definitions of the module docstring (NaN where a measure is undefined;
    ``theil_between``/``theil_within`` and ``dissimilarity`` are NaN when ``wijk`` or the counts are not
    given).

    Rows already sorted by segment, then value (``NaN`` rows anywhere) are used as they are; other
    input is sorted here first, which costs a few seconds for millions of rows.

    ``only`` (measure names): the Theil index, dissimilarity and concentration share are computed only when
    named there (NaN otherwise), to save their cost when the caller needs none of them (the basis columns,
    gap, ratio, standard deviation and cv are always computed); default: everything.
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

    wanted = set(only) if only is not None else {"theil_total", "dissimilarity", "concentration_share_pct"}
    labelled = np.ones(xk.size, dtype=bool) if wijk is None else ~np.isnan(wijk_k)
    in_theil = labelled & (xk > 0)
    out["theil_n_nonpositive"] = np.bincount(sk[labelled & ~in_theil], minlength=n_segments)
    if not wanted & {"theil_total", "theil_between", "theil_within"}:
        in_theil = np.zeros(xk.size, dtype=bool)
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

    if low_count is not None and other_count is not None and "dissimilarity" in wanted:
        a, b = _as_pair(low_count, other_count)
        counted = np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)
        out["dissimilarity"] = _segment_dissimilarity(a[counted], b[counted], seg[counted], n_segments)
    else:
        out["dissimilarity"] = np.full(n_segments, _NAN)
    if "concentration_share_pct" in wanted:
        out["concentration_share_pct"] = _segment_share_at_or_above(xk, wk, sk, n_segments, thresholds)
    else:
        out["concentration_share_pct"] = np.full(n_segments, _NAN)
    return out


# --- over the years ---------------------------------------------------------------------------------

#: A slope this small relative to a series' largest value is zero up to rounding (see ``trends_by_segment``).
_SLOPE_ROUNDING = 1e-12


def _slope_sign(slope, largest):
    """Sign of the slope, 0 where it is zero up to rounding (works on numbers and on arrays)."""
    return np.where(np.abs(slope) <= _SLOPE_ROUNDING * largest, 0.0, np.sign(slope))


def trends_by_segment(years, values, seg, n_seg: int, *, min_years: int = 3, min_relative_change: float = 0.05,
                      larger_is_wider: bool | Sequence[bool] | np.ndarray = True, change_low=None,
                      change_high=None) -> dict[str, np.ndarray]:
    """How a divide measure moved over the years it is available, for many series (segments) at once.

    ``years`` and ``values`` are 1-d arrays with the segment of each row in ``seg`` (``0..n_seg-1``); rows
    must be sorted by segment, then year, and a year may not repeat within a segment. Non-finite years or
    values are skipped. Per segment:

    * ``slope_per_year``: ordinary least-squares slope of value on year (NaN with fewer than 2 years);
    * ``change_since_first``: last value minus first; ``change_since_previous``: last value minus the one of
      the previous available year (NaN with fewer than 2 years);
    * ``relative_change``: ``change_since_first / |first value|``; when the first value is 0 the change is
      divided by the mean absolute value over the years instead (0 if that is 0 too);
    * ``n_years``, ``first_year``, ``last_year``, ``first_value``, ``last_value`` (NaN where undefined);
    * ``label`` (object array), by this rule (thresholds are parameters):

      - fewer than ``min_years`` (3) available years: ``'too few years'``, a separate label because two
        points cannot tell a trend from a wobble, which is not the same as "no change";
      - otherwise ``'widening'`` or ``'narrowing'`` only when ``|relative_change| >= min_relative_change``
        (5 %) *and* the OLS slope has the same sign as the change from first to last year, so the end
        points and the whole series agree;
      - and, where the segment has an interval of its change from first to last year (``change_low``,
        ``change_high``: one per segment, NaN for none; :mod:`bwm.divide.uncertainty`), only when that
        interval excludes zero: a change the figures' own uncertainty (or rounding) could produce is no clear
        change. A segment without an interval is labelled by the other conditions alone;
      - anything else: ``'no clear change'``. A slope within rounding of zero (``|slope| <= 1e-12 x`` the
        largest value) counts as zero: the points then do not agree on a direction, however the sums were
        ordered.

    ``label_reason`` says which condition decided, the first that fails in the order above:
    ``'too_few_years'``, ``'change_below_threshold'``, ``'slope_disagrees'``, ``'interval_includes_zero'``;
    else ``'clear_change'`` (or ``'clear_change_no_interval'`` where the segment has no interval).

    Sign: where a larger value is a wider divide (``larger_is_wider``, one flag or one per segment; true
    for every measure of :mod:`bwm.divide.registry` so far) a rise is ``'widening'``, elsewhere
    ``'narrowing'``. Means and sums are taken per segment with ``np.bincount``.
    """
    t = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    seg = np.asarray(seg, dtype=np.int64)
    wider = np.broadcast_to(np.asarray(larger_is_wider, dtype=bool), (n_seg,))
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
    direction = np.where((change_first > 0) == wider, WIDENING, NARROWING)
    big = np.abs(relative) >= min_relative_change
    low = np.full(n_seg, _NAN) if change_low is None else np.asarray(change_low, dtype=float)
    high = np.full(n_seg, _NAN) if change_high is None else np.asarray(change_high, dtype=float)
    if low.shape != (n_seg,) or high.shape != (n_seg,):
        raise ValueError(f"change_low and change_high must hold one entry per segment ({n_seg})")
    has_interval = np.isfinite(low) & np.isfinite(high)
    excludes_zero = (low > 0) | (high < 0)
    clear = big & agree & (~has_interval | excludes_zero)
    label = np.where(n < min_years, TOO_FEW_YEARS, np.where(clear, direction, NO_CLEAR_CHANGE)).astype(object)
    reason = np.select(
        [n < min_years, ~big, ~agree, has_interval & ~excludes_zero, has_interval],
        [REASON_TOO_FEW_YEARS, REASON_SMALL_CHANGE, REASON_SLOPE_DISAGREES, REASON_INTERVAL_INCLUDES_ZERO,
         REASON_CLEAR], REASON_CLEAR_NO_INTERVAL).astype(object)
    return {"label": label, "label_reason": reason, "slope_per_year": slope,
            "change_since_first": np.where(has, change_first, _NAN),
            "change_since_previous": change_previous, "relative_change": np.where(has, relative, _NAN),
            "n_years": n, "first_year": t0, "last_year": t1, "first_value": y0, "last_value": y1}
