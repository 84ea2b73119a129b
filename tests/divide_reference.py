"""An independent reference for the divide maths: every measure for one municipality, written plainly.

The production code (bwm.divide.measures) computes all municipalities at once in array operations. This
module computes one municipality at a time, straight from the definitions in that module's docstring, with
loops and exactly rounded sums (``math.fsum``); it imports nothing from ``bwm``. The tests check this
reference against hand-computed cases and brute force (every resident listed separately), and the
production code against this reference.

Shared with the production code by definition, not by code: the missing-data rule (a value or weight that
is NaN or infinite, or a weight <= 0, drops the neighbourhood) and weighted means written as
``r + sum(a (x - r)) / sum(a)`` with ``r`` one of the values, exact when all values are equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DIRECTIONS = ("higher_is_better", "higher_is_worse", "neutral")
WIDENING, NARROWING, NO_CLEAR_CHANGE, TOO_FEW_YEARS = "widening", "narrowing", "no clear change", "too few years"
NAN = float("nan")
#: A slope this small relative to a series' largest value is zero up to rounding.
SLOPE_ROUNDING = 1e-12


@dataclass(frozen=True)
class Measure:
    """One number over one municipality's neighbourhoods, with what went into it."""

    value: float
    n_areas: int | None
    weight_total: float | None
    n_dropped: int | None


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays do not compare to a single bool
class QuantileGroups:
    """Residents of each neighbourhood in each population quantile group, lowest values first.

    ``weights[i, k]``: residents of input row ``i`` in group ``k`` (0 for a dropped row); ``group_weights[k]``
    their sum (``weight_total / q``); ``means[k]`` the population-weighted mean value of group ``k``.
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
    """Theil T over neighbourhoods, split into between-wijk and within-wijk parts (counts: None if unknown)."""

    total: float
    between: float
    within: float
    n_groups: int | None
    n_areas: int | None
    weight_total: float | None
    n_dropped: int | None
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


def _pair(x, w) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    if x.ndim != 1 or x.shape != w.shape:
        raise ValueError(f"the two arrays must be 1-d and of one length, got shapes {x.shape} and {w.shape}")
    return x, w


def _usable(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.isfinite(x) & np.isfinite(w) & (w > 0)


def weighted_mean(x, a) -> float:
    """Mean of ``x`` weighted by ``a`` over the entries with ``a > 0``; NaN when there are none."""
    pairs = [(float(xi), float(ai)) for xi, ai in zip(x, a, strict=True) if ai > 0]
    if not pairs:
        return NAN
    r = pairs[0][0]
    return r + math.fsum(ai * (xi - r) for xi, ai in pairs) / math.fsum(ai for _, ai in pairs)


def weighted_quantile_groups(x, w, q: int = 5) -> QuantileGroups:
    """Population-weighted quantile groups: the residents lined up by value and cut into ``q`` equal pieces.

    A neighbourhood occupies the stretch ``[C - w, C)`` of the line (``C``: cumulative weight up to and
    including it); its residents in group ``k`` are the overlap with ``[k W / q, (k + 1) W / q)``, so a
    neighbourhood straddling a boundary is split fractionally.
    """
    if q < 1:
        raise ValueError(f"q must be >= 1, got {q}")
    x, w = _pair(x, w)
    rows = np.flatnonzero(_usable(x, w))
    rows = rows[np.argsort(x[rows], kind="stable")]
    weights = np.zeros((x.size, q))
    if rows.size == 0:
        return QuantileGroups(weights, np.zeros(q), np.full(q, NAN), 0, 0.0, x.size)
    total = 0.0
    for i in rows:
        total += w[i]
    lower = 0.0
    for i in rows:
        upper = lower + w[i]
        for k in range(q):
            weights[i, k] = max(0.0, min(upper, (k + 1) * total / q) - max(lower, k * total / q))
        lower = upper
    means = np.array([weighted_mean(x[rows], weights[rows, k]) for k in range(q)])
    group_weights = np.array([math.fsum(weights[rows, k]) for k in range(q)])
    return QuantileGroups(weights, group_weights, means, rows.size, total, x.size - rows.size)


def extreme_group_gap(x, w, direction: str) -> ExtremeGroupGap:
    """Bottom and top population quintile means; worst/best by ``direction``; gap >= 0, ratio >= 1."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    groups = weighted_quantile_groups(x, w, 5)
    n_dropped = np.asarray(x).size - groups.n_areas
    if groups.n_areas == 0:
        return ExtremeGroupGap(NAN, NAN, NAN, NAN, direction, 0, 0.0, n_dropped)
    bottom, top = float(groups.means[0]), float(groups.means[-1])
    worst, best = (top, bottom) if direction == "higher_is_worse" else (bottom, top)
    low, high = min(bottom, top), max(bottom, top)
    ratio = high / low if low > 0 else NAN
    return ExtremeGroupGap(worst, best, max(top - bottom, 0.0), ratio, direction, groups.n_areas,
                           groups.weight_total, n_dropped)


def _mean_std(x, w) -> tuple[float, float, int, float, int]:
    x, w = _pair(x, w)
    keep = _usable(x, w)
    xk, wk = x[keep], w[keep]
    if xk.size == 0:
        return NAN, NAN, 0, 0.0, x.size
    mean = weighted_mean(xk, wk)
    std = math.sqrt(math.fsum(wi * (xi - mean) ** 2 for xi, wi in zip(xk, wk, strict=True)) / math.fsum(wk))
    return mean, std, int(xk.size), math.fsum(wk), int(x.size - xk.size)


def weighted_std(x, w) -> Measure:
    """``sqrt(sum(w (x - m)^2) / sum(w))`` with ``m`` the weighted mean (ddof 0)."""
    _, std, n, total, dropped = _mean_std(x, w)
    return Measure(std, n, total, dropped)


def coefficient_of_variation(x, w) -> Measure:
    """Weighted standard deviation / weighted mean; NaN when the mean is 0."""
    mean, std, n, total, dropped = _mean_std(x, w)
    return Measure(std / mean if mean != 0 else NAN, n, total, dropped)


def _missing_label(label) -> bool:
    return label is None or (isinstance(label, float) and math.isnan(label))


def theil_decomposition(x, w, groups=None) -> TheilDecomposition:
    """Theil T, split over ``groups`` (wijk labels; None: one group) into between and within.

    Left out: the usual missing values, neighbourhoods without a label (None or NaN), values <= 0 (counted
    in ``n_nonpositive``).
    """
    x, w = _pair(x, w)
    labels = [0] * x.size if groups is None else list(groups)
    if len(labels) != x.size:
        raise ValueError(f"groups must have the length of x ({x.size}), got {len(labels)}")
    present = [bool(u) and not _missing_label(g) for u, g in zip(_usable(x, w), labels, strict=True)]
    rows = [i for i in range(x.size) if present[i] and x[i] > 0]
    n_nonpositive = sum(1 for i in range(x.size) if present[i] and x[i] <= 0)
    if not rows:
        return TheilDecomposition(NAN, NAN, NAN, 0, 0, 0.0, x.size, n_nonpositive)
    mu = weighted_mean(x[rows], w[rows])
    income = math.fsum(w[i] * x[i] for i in rows)
    total = math.fsum(w[i] * x[i] / income * math.log(x[i] / mu) for i in rows)
    members: dict = {}
    for i in rows:
        members.setdefault(labels[i], []).append(i)
    between_parts, within_parts = [], []
    for group_rows in members.values():
        mu_g = weighted_mean(x[group_rows], w[group_rows])
        income_g = math.fsum(w[i] * x[i] for i in group_rows)
        theil_g = math.fsum(w[i] * x[i] / income_g * math.log(x[i] / mu_g) for i in group_rows)
        between_parts.append(income_g / income * math.log(mu_g / mu))
        within_parts.append(income_g / income * theil_g)
    return TheilDecomposition(total, math.fsum(between_parts), math.fsum(within_parts), len(members), len(rows),
                              math.fsum(w[rows]), x.size - len(rows), n_nonpositive)


def dissimilarity_index(a, b) -> Measure:
    """Duncan's index ``1/2 sum |a_i / A - b_i / B|``; rows with a NaN, infinite or negative count left out."""
    a, b = _pair(a, b)
    keep = np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)
    ak, bk = a[keep], b[keep]
    total_a, total_b = math.fsum(ak), math.fsum(bk)
    value = 0.5 * math.fsum(abs(ai / total_a - bi / total_b) for ai, bi in zip(ak, bk, strict=True)) \
        if total_a > 0 and total_b > 0 else NAN
    return Measure(value, int(keep.sum()), total_a + total_b, int(a.size - keep.sum()))


def concentration_share(x, w, threshold: float) -> Measure:
    """``100 sum(w where x >= threshold) / sum(w)``; NaN without a finite threshold or residents."""
    x, w = _pair(x, w)
    keep = _usable(x, w)
    xk, wk = x[keep], w[keep]
    total = math.fsum(wk)
    if not math.isfinite(threshold) or total <= 0:
        value = NAN
    else:
        value = 100.0 * math.fsum(wi for xi, wi in zip(xk, wk, strict=True) if xi >= threshold) / total
    return Measure(value, int(xk.size), total, int(x.size - xk.size))


def _slope_sign(slope: float, largest: float) -> float:
    """Sign of the slope, 0 where it is zero up to rounding."""
    return 0.0 if abs(slope) <= SLOPE_ROUNDING * largest else float(np.sign(slope))


def trend(years, values, *, min_years: int = 3, min_relative_change: float = 0.05,
          larger_is_wider: bool = True) -> Trend:
    """How a divide measure moved over the years it is available (NaN years are skipped), one series.

    The rule of bwm.divide.measures.trends_by_segment: 'too few years' below ``min_years``; 'widening' or
    'narrowing' when the relative change is at least ``min_relative_change`` and the OLS slope agrees in sign
    with the change from first to last year; otherwise 'no clear change'.
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
        return Trend(TOO_FEW_YEARS, NAN, NAN, NAN, NAN, 0, NAN, NAN)

    change_first = float(y[-1] - y[0])
    change_previous = float(y[-1] - y[-2]) if n >= 2 else NAN
    if n >= 2:
        dt = t - t.mean()
        slope = float(np.dot(dt, y - y.mean()) / np.dot(dt, dt))
    else:
        slope = NAN
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
