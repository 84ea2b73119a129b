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


# --- where the divide grows: per-neighbourhood terms and the Shapley split (bwm.divide.explain) ---------------


def gap_terms(x, w, direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per input row: its term of the gap (share of the top-quintile mean minus share of the bottom-quintile mean,
    which sum to top mean - bottom mean), and the fraction of its residents in the worst-off and best-off 20%
    (NaN for a dropped row)."""
    x, w = _pair(x, w)
    groups = weighted_quantile_groups(x, w, 5)
    keep = _usable(x, w)
    term, worst, best = np.full(x.size, NAN), np.full(x.size, NAN), np.full(x.size, NAN)
    for i in np.flatnonzero(keep):
        bottom, top = groups.weights[i, 0], groups.weights[i, 4]
        term[i] = top * x[i] / groups.group_weights[4] - bottom * x[i] / groups.group_weights[0]
        low_share, high_share = bottom / w[i], top / w[i]
        worst[i], best[i] = (high_share, low_share) if direction == "higher_is_worse" else (low_share, high_share)
    return term, worst, best


def theil_terms(x, w, groups) -> dict[str, np.ndarray]:
    """Per input row: its terms s_i ln(x_i / mu) (total), s_i ln(mu_g / mu) (between) and s_i ln(x_i / mu_g)
    (within); NaN for a row outside the index (dropped, no group, value <= 0)."""
    x, w = _pair(x, w)
    labels = list(groups)
    rows = [i for i in range(x.size) if _usable(x, w)[i] and not _missing_label(labels[i]) and x[i] > 0]
    out = {k: np.full(x.size, NAN) for k in ("total", "between", "within")}
    if not rows:
        return out
    mu = weighted_mean(x[rows], w[rows])
    income = math.fsum(w[i] * x[i] for i in rows)
    for i in rows:
        members = [j for j in rows if labels[j] == labels[i]]
        mu_g = weighted_mean(x[members], w[members])
        s = w[i] * x[i] / income
        out["total"][i] = s * math.log(x[i] / mu)
        out["between"][i] = s * math.log(mu_g / mu)
        out["within"][i] = s * math.log(x[i] / mu_g)
    return out


def dissimilarity_terms(a, b) -> np.ndarray:
    """Per input row: |a_i / A - b_i / B| / 2 (NaN for a row left out, or where A or B is 0)."""
    a, b = _pair(a, b)
    keep = np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)
    total_a, total_b = math.fsum(a[keep]), math.fsum(b[keep])
    out = np.full(a.size, NAN)
    if total_a > 0 and total_b > 0:
        for i in np.flatnonzero(keep):
            out[i] = 0.5 * abs(a[i] / total_a - b[i] / total_b)
    return out


def concentration_terms(x, w, threshold: float) -> np.ndarray:
    """Per input row: 100 w_i [x_i >= threshold] / sum(w) (NaN for a dropped row or without a threshold)."""
    x, w = _pair(x, w)
    keep = _usable(x, w)
    total = math.fsum(w[keep])
    out = np.full(x.size, NAN)
    if math.isfinite(threshold) and total > 0:
        for i in np.flatnonzero(keep):
            out[i] = 100.0 * w[i] * (x[i] >= threshold) / total
    return out


@dataclass(frozen=True)
class Shapley:
    """A measure's change between two years split into the value, population and boundary effects."""

    total: float
    value: float
    population: float
    boundary: float
    n_common: int


def shapley_split(measure, year0: dict, year1: dict) -> Shapley:
    """``measure(keys, values, weights)`` over ``year0`` and ``year1`` (neighbourhood key -> (value, weight),
    present ones only; a neighbourhood whose series broke is under a different key in the two years), split over
    the neighbourhoods in both. Values and weights may be anything the measure understands (a value with its
    year's threshold, a share with households as weight).

    ``M(x_a, w_b)`` is the measure of the common neighbourhoods' values of year a with the weights of year b:
    value effect ``((M(1,0) - M(0,0)) + (M(1,1) - M(0,1))) / 2``, population effect ``((M(0,1) - M(0,0)) +
    (M(1,1) - M(1,0))) / 2``, boundary effect ``(M_all,1 - M(1,1)) - (M_all,0 - M(0,0))``; without a common
    neighbourhood the whole change is the boundary effect."""
    def m(keys, pairs):
        return measure(list(keys), [v for v, _ in pairs], [w for _, w in pairs])

    all0, all1 = m(year0, year0.values()), m(year1, year1.values())
    common = sorted(set(year0) & set(year1))
    if not common:
        return Shapley(all1 - all0, 0.0, 0.0, all1 - all0, 0)
    years = (year0, year1)
    mix = {(a, b): m(common, [(years[a][k][0], years[b][k][1]) for k in common]) for a in (0, 1) for b in (0, 1)}
    value = 0.5 * ((mix[1, 0] - mix[0, 0]) + (mix[1, 1] - mix[0, 1]))
    population = 0.5 * ((mix[0, 1] - mix[0, 0]) + (mix[1, 1] - mix[1, 0]))
    boundary = (all1 - mix[1, 1]) - (all0 - mix[0, 0])
    return Shapley(all1 - all0, value, population, boundary, len(common))
