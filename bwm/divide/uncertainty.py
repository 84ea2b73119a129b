"""How sure we are of a divide measure: intervals from the uncertainty of the figures it is computed from.

Pure numpy and polars, no Dagster. Two sources of uncertainty, one machinery:

* **Health figures** (50120NED / 50090NED) are survey-based small-area estimates with a published 95% interval
  (Marges MOG0095 / MBG0095: ``ci_lower`` / ``ci_upper`` in ``indicators.values``). Method
  :data:`MONTE_CARLO` (``'monte_carlo_95'``): every area is drawn :data:`N_DRAWS` times from a **split normal**
  around its published value: below the value a normal with ``sd = (value - lower) / 1.96``, above it one
  with ``sd = (upper - value) / 1.96``, each side with probability 1/2, so the published value is the median
  and the published bounds are exactly the 2.5th and 97.5th percentiles, also when CBS's interval is
  asymmetric (it is whenever a bound was cut at 0%); the result is **truncated** to the percentage range
  0..100 (a draw outside is drawn again). A symmetric normal would put the lower tail of a figure of 2% with
  bounds 0..9 at -5%, and a plain normal on the average half-width would misstate both bounds. Every draw
  gives the measures (the same :func:`bwm.divide.measures.measures_by_segment`, segments = group x draw);
  the interval has the width of the draws' 2.5th-97.5th percentiles, placed about the published measure
  (moved by the draws' median bias, :func:`centred`: noise added to noisy figures inflates a spread measure).
* **Register figures** (KWB) have no sampling error, but CBS rounds what it publishes (:func:`rounding_unit`):
  counts (and the residents a neighbourhood weighs with) are rounded at random to multiples of 5, so the
  true count lies within 5 of the published one, half of a rounding unit of 10; shares are published to one
  decimal (some to whole percents), amounts of money in hundreds or thousands of euro. Method
  :data:`ROUNDING` (``'rounding_range'``): every input is drawn uniformly within +- half its rounding unit
  (a ratio of counts, such as bijstand per 1 000 inwoners, from its numerator and denominator drawn so),
  :data:`ROUNDING_DRAWS` times, and the interval is the smallest and largest measure over those draws and the
  published figures themselves (so it always contains the published measure). It is a range, not a
  confidence interval: how far rounding alone could move the measure (estimated from the draws, so it may
  fall slightly short of the extreme corners).

Indicators of other sources (municipal data files) get no interval.

**Reproducible**: the draws of a group (gemeente, indicator, level, year) come from a generator seeded by
:data:`SEED` and a SHA-256 of that key (:func:`group_generator`), over its areas sorted by area code, so a
gemeente's intervals do not depend on which other gemeenten are in the run, nor on the order of the rows.

**Changes**: the draws of two years are independent (each period is its own survey, each table its own
rounding), so draw ``d`` of the latest year minus draw ``d`` of the first (or the previous) year is a draw of
the change; its 2.5th/97.5th percentiles (health) or its range (KWB) is the change's interval. The trend rule
(:func:`bwm.divide.measures.trends_by_segment`) calls a change 'widening' or 'narrowing' only when that
interval excludes zero.

**Limits**: the small-area estimates of neighbouring areas are correlated (they come from one model fitted
on one survey), and the independent draws do not model that; the interval of a divide measure is then
likely too narrow for measures that average many areas and the interval of a change can be off either way.
A divide measure of noisy figures is itself biased upwards (noise adds spread), and the draws add noise to
figures that already carry it: the interval shows how much the measure moves within the published
uncertainty, it is not corrected for that bias, and the published measure may lie near its edge.

Cost: one call of ``measures_by_segment`` per chunk of about :data:`ROWS_PER_CHUNK` area-draws; the areas of
one draw are sorted by value with one row-wise ``np.argsort`` of a padded (group x draw, area) matrix, so
``measures_by_segment`` does not sort again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import polars as pl

from bwm import catalogue
from bwm.divide import registry
from bwm.divide.build import measures_of
from bwm.divide.measures import measures_by_segment

#: Seed of every draw (with the group's key, :func:`group_generator`); changing it changes every interval slightly.
SEED = 20_140_014
#: Draws per group of health figures (at least 1 000: the 2.5th percentile of 1 000 draws rests on 25 of them).
N_DRAWS = 1000
#: Draws per group of KWB figures. Their interval is a range (smallest to largest measure), which draws can only
#: under-estimate: on the demo, 200 draws found ranges 91% as wide as 1 000 draws do on average (5th percentile 77%),
#: so fewer draws would understate what rounding can do. At national scale this costs minutes (issue 16).
ROUNDING_DRAWS = 1000
#: The normal quantile of a two-sided 95% interval: a published bound lies this many sds from the value.
Z_95 = 1.959963984540054
#: The range health figures (percentages of residents) are truncated to.
PERCENT_RANGE = (0.0, 100.0)
#: Percentiles of the Monte Carlo interval.
PERCENTILES = (2.5, 97.5)
MONTE_CARLO = "monte_carlo_95"
ROUNDING = "rounding_range"
METHODS = (MONTE_CARLO, ROUNDING)
#: Area-draw rows per call of ``measures_by_segment`` (memory: ~15 arrays of this length at once).
ROWS_PER_CHUNK = 2_000_000
#: From this many chunks on, ``compute_intervals(workers=2)`` draws in two processes. Starting them costs ~2 s on
#: a quiet machine and far more on a busy one (one national gemeente: 6.3 s in one process, 16.9 s in two at load
#: 9), so a refresh that redraws a few gemeenten stays in one; a full computation (~2,000 chunks) uses both cores.
PARALLEL_FROM_CHUNKS = 64

#: Counts: rounded at random to multiples of 5 by CBS, so the true count is within 5 (= half of 10).
COUNT_ROUNDING = 10.0
#: Percentages published with one decimal.
SHARE_ROUNDING = 0.1
#: Per canonical KWB variable (data/reference/kwb_variables.csv), where it is not the default of its unit:
#: whole percents, and amounts CBS publishes in thousands of euro (with one decimal, or none).
ROUNDING_BY_VARIABLE: dict[str, float] = {
    "koopwoningen_pct": 1.0,
    "nettoarbeidsparticipatie_pct": 1.0,
    "inkomen_per_inwoner_eur": 100.0,
    "mediaan_vermogen_eur": 100.0,
    "woz_waarde_eur": 1000.0,
    "wmo_clienten_per_1000": 1.0,
}
#: By the catalogue's unit, for a direct KWB indicator whose variable is not listed above.
ROUNDING_BY_UNIT: dict[str, float] = {"pct": SHARE_ROUNDING, "km": 0.1, "per_1000": 1.0, "persons": 0.1,
                                      "count": COUNT_ROUNDING, "eur": 100.0}

#: The measures an interval is computed for (details such as worst20_mean are not).
INTERVAL_MEASURES: tuple[str, ...] = registry.COMPUTED  # the derived one: bwm.stapeling

GROUP_KEYS = ["gemeente_code", "indicator_id", "level", "year"]
_DRAW_ORDER = ["indicator_id", "level", "gemeente_code", "year"]
INTERVAL_SCHEMA = {"gemeente_code": pl.String, "year": pl.Int64, "level": pl.String, "indicator_id": pl.String,
                   "measure": pl.String, "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                   "method": pl.String, "n_draws": pl.Int64}
CHANGE_SCHEMA = {"gemeente_code": pl.String, "level": pl.String, "indicator_id": pl.String, "measure": pl.String,
                 "method": pl.String, "first_year": pl.Int64, "previous_year": pl.Int64, "last_year": pl.Int64,
                 "change_low": pl.Float64, "change_high": pl.Float64, "change_previous_low": pl.Float64,
                 "change_previous_high": pl.Float64, "n_draws": pl.Int64}


# --- drawing ------------------------------------------------------------------------------------------------


def group_generator(*key, seed: int = SEED) -> np.random.Generator:
    """The generator of one group's draws: seeded by ``seed`` and a SHA-256 of the key's parts, so it is the same
    in every run, whatever else the run holds."""
    digest = hashlib.sha256("|".join(str(k) for k in key).encode()).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, int.from_bytes(digest[:16], "little")]))


def draw_split_normal(value, lower, upper, rng: np.random.Generator, n_draws: int = N_DRAWS,
                      bounds: tuple[float, float] = PERCENT_RANGE) -> np.ndarray:
    """``n_draws`` x ``len(value)`` draws of figures with a published 95% interval (module docstring).

    Median ``value``, 2.5th/97.5th percentile ``lower``/``upper`` before truncation to ``bounds``; a draw
    outside ``bounds`` is drawn again. A figure with ``lower == upper == value`` is drawn as itself; a figure
    with a missing (NaN) value or bound is NaN in every draw.
    """
    value, lower, upper = (np.asarray(a, dtype=float) for a in (value, lower, upper))
    sd_low = (value - lower) / Z_95
    sd_high = (upper - value) / Z_95
    if np.any(sd_low < 0) or np.any(sd_high < 0):
        raise ValueError("a published interval must contain its value (lower <= value <= upper)")

    z = rng.standard_normal((n_draws, value.size))
    x = value + z * np.where(z < 0, sd_low, sd_high)
    outside = (x < bounds[0]) | (x > bounds[1])
    for _ in range(1000):
        n_out = int(outside.sum())
        if not n_out:
            break
        cols = np.nonzero(outside)[1]
        z = rng.standard_normal(n_out)
        x[outside] = value[cols] + z * np.where(z < 0, sd_low[cols], sd_high[cols])
        outside = (x < bounds[0]) | (x > bounds[1])
    else:  # pragma: no cover - only a value far outside bounds gets here
        raise ValueError(f"figures lie too far outside {bounds} to be drawn within it")
    return x


def draw_rounding(value, half_width, rng: np.random.Generator, n_draws: int = N_DRAWS) -> np.ndarray:
    """``n_draws + 1`` x ``len(value)``: the published figures (row 0), then figures drawn uniformly within
    +- ``half_width`` of them (one half-width per figure or one for all)."""
    value = np.asarray(value, dtype=float)
    half = np.broadcast_to(np.asarray(half_width, dtype=float), value.shape)
    draws = value + rng.uniform(-1.0, 1.0, (n_draws, value.size)) * half
    return np.vstack([value[None, :], draws])


def rounding_unit(indicator_id: str) -> tuple[str, float] | None:
    """How a KWB indicator's published figure is rounded: ``('value', unit)`` for a figure CBS publishes
    itself, ``('ratio', unit)`` for a ratio the monitor computes from two counts each rounded to ``unit``;
    None for an indicator that is not a KWB one."""
    ind = catalogue.by_id().get(indicator_id)
    if ind is None or ind.source != "kwb":
        return None
    if ind.method == "ratio":
        return "ratio", COUNT_ROUNDING
    unit = ROUNDING_BY_VARIABLE.get(ind.variable or "", ROUNDING_BY_UNIT.get(ind.unit))
    if unit is None:
        raise ValueError(f"indicator {indicator_id}: no rounding unit for variable {ind.variable}, unit {ind.unit}")
    return "value", unit


def method_of(indicator_id: str) -> str | None:
    """:data:`MONTE_CARLO` for a health indicator, :data:`ROUNDING` for a KWB one, None otherwise."""
    ind = catalogue.by_id().get(indicator_id)
    if ind is None:
        return None
    return {"health": MONTE_CARLO, "kwb": ROUNDING}.get(ind.source)


# --- one chunk of groups ------------------------------------------------------------------------------------


@dataclass
class _Group:
    """The rows of one group, areas sorted by code: everything a draw needs."""

    key: tuple
    method: str
    direction: str
    threshold: float
    value: np.ndarray
    weight: np.ndarray
    wijk: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    numerator: np.ndarray | None = None
    denominator: np.ndarray | None = None
    factor: float = 1.0
    households: np.ndarray | None = None
    half_width: float = 0.0
    measures: tuple[str, ...] = ()


def _draw_group(g: _Group, n_draws: int, seed: int) -> tuple[np.ndarray, ...]:
    """(draws of x, of w, of low-income and other households or None), each (draws, areas)."""
    rng = group_generator(*g.key, seed=seed)
    published = np.isfinite(g.value)
    if g.method == MONTE_CARLO:
        x = draw_split_normal(g.value, g.lower, g.upper, rng, n_draws)
        if np.any(published & ~(np.isfinite(g.lower) & np.isfinite(g.upper))):
            x[:] = np.nan  # an area without its interval: the group's measures get none
        w = np.broadcast_to(g.weight, x.shape)
    else:
        half_count = COUNT_ROUNDING / 2
        if g.numerator is not None:
            num = draw_rounding(g.numerator, half_count, rng, n_draws)
            den = draw_rounding(g.denominator, half_count, rng, n_draws)
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.where(den > 0, np.clip(num, 0, None) / den * g.factor, np.nan)
            x[0] = g.value  # the published figure exactly, as divide.measures has it
            x[:, ~published] = np.nan  # left out where the published figure is (e.g. too small a denominator)
        else:
            x = draw_rounding(g.value, g.half_width / 2, rng, n_draws)
        w = draw_rounding(g.weight, half_count, rng, n_draws)
    if g.households is None:
        return x, w, None, None
    if g.method == ROUNDING:
        hh = draw_rounding(g.households, COUNT_ROUNDING / 2, rng, x.shape[0] - 1)
    else:
        hh = np.broadcast_to(g.households, x.shape)
    # As divide.inputs estimates them: share x households, and the rest.
    share = np.clip(x, 0.0, 100.0)
    return x, w, share / 100 * hh, (1 - share / 100) * hh


def _chunk_measures(groups: list[_Group], n_draws: int, seed: int) -> dict[str, np.ndarray]:
    """Every measure of every draw of ``groups``: name -> (groups, draws) array."""
    drawn = [_draw_group(g, n_draws, seed) for g in groups]
    rows = max(d[0].shape[0] for d in drawn)
    width = max(max(d[0].shape[1] for d in drawn), 1)
    n_seg = len(groups) * rows
    x = np.full((len(groups), rows, width), np.nan)
    w = np.zeros_like(x)
    wijk = np.full((len(groups), rows, width), np.nan)
    counts = any(d[2] is not None for d in drawn)
    low = np.full_like(x, np.nan) if counts else None
    other = np.full_like(x, np.nan) if counts else None
    for i, (g, d) in enumerate(zip(groups, drawn, strict=True)):
        n_rows, n = d[0].shape
        x[i, :n_rows, :n], w[i, :n_rows, :n], wijk[i, :, :n] = d[0], d[1], g.wijk
        if d[2] is not None:
            low[i, :n_rows, :n], other[i, :n_rows, :n] = d[2], d[3]
    x, w, wijk = x.reshape(n_seg, width), w.reshape(n_seg, width), wijk.reshape(n_seg, width)
    # NaN sorts last; measures_by_segment drops it (and the padding) as a missing value.
    order = np.argsort(x, axis=1, kind="stable")

    def sort(a):
        return None if a is None else np.take_along_axis(a.reshape(n_seg, width), order, axis=1).ravel()

    seg = np.repeat(np.arange(n_seg), width)
    directions = np.repeat(np.array([g.direction for g in groups], dtype=object), rows)
    thresholds = np.repeat(np.array([g.threshold for g in groups], dtype=float), rows)
    needed = {m for g in groups for m in g.measures}
    result = measures_by_segment(sort(x), sort(w), seg, n_segments=n_seg, directions=directions,
                                 wijk=sort(wijk) if needed & {"theil_between", "theil_within"} else None,
                                 low_count=sort(low), other_count=sort(other), threshold=thresholds, only=needed)
    return {m: result[m].astype(float).reshape(len(groups), rows) for m in INTERVAL_MEASURES}


def _summarise(draws: np.ndarray, methods: np.ndarray, centre: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, number of finite draws) per row of ``draws``: percentiles (Monte Carlo) or range (rounding).

    With ``centre`` (the published measure or change of each row), a Monte Carlo interval is moved by the draws'
    median bias, ``centre - median(draws)``: see :func:`centred`.
    """
    finite = np.isfinite(draws)
    n = finite.sum(axis=1)
    low = np.full(draws.shape[0], np.nan)
    high = np.full(draws.shape[0], np.nan)
    mc = (methods == MONTE_CARLO) & (n > 0)
    rd = (methods == ROUNDING) & (n > 0)
    clean = np.where(finite, draws, np.nan)
    if mc.any():
        low[mc], mid, high[mc] = np.nanpercentile(clean[mc], (PERCENTILES[0], 50.0, PERCENTILES[1]), axis=1)
        if centre is not None:
            low[mc], high[mc] = centred(low[mc], mid, high[mc], np.asarray(centre, dtype=float)[mc])
    if rd.any():
        low[rd], high[rd] = np.nanmin(clean[rd], axis=1), np.nanmax(clean[rd], axis=1)
    return low, high, n


def centred(low, median, high, centre):
    """A Monte Carlo interval moved by the draws' median bias so that it is about the published figure.

    Noise added to noisy figures widens any spread measure: the draws of a gap or a standard deviation lie, on
    average, above the published one (on the demo the plain 2.5th-97.5th percentiles missed their own published
    measure in 36% of the health measures). The width of the interval is what the draws tell; where it lies is
    the published figure's: ``[centre - (median - low), centre + (high - median)]``. Where the centre is not
    known (NaN), the plain percentiles are kept.
    """
    shift = np.where(np.isfinite(centre), centre - median, 0.0)
    return low + shift, high + shift


def interval_of_draws(draws, method: str) -> tuple[float, float]:
    """The interval of one measure's draws, by ``method``: its 2.5th and 97.5th percentiles, or its range."""
    low, high, _ = _summarise(np.asarray(draws, dtype=float)[None, :], np.array([method], dtype=object))
    return float(low[0]), float(high[0])


# --- frames -------------------------------------------------------------------------------------------------


def _groups_of(inputs: pl.DataFrame, thresholds: dict[tuple, float]) -> list[_Group]:
    """The groups of ``inputs`` that get an interval, sorted by key; their areas sorted by code."""
    methods = {iid: method_of(iid) for iid in inputs.get_column("indicator_id").unique().to_list()}
    rounding = {iid: rounding_unit(iid) for iid, m in methods.items() if m == ROUNDING}
    factors = {iid: float(catalogue.by_id()[iid].factor or 1.0) for iid in rounding}
    usable = [iid for iid, m in methods.items() if m is not None]
    data = inputs.filter(pl.col("indicator_id").is_in(usable)).with_columns(
        pl.col("year").cast(pl.Int64),
        pl.col("wijk_code").cast(pl.String).cast(pl.Categorical).to_physical().cast(pl.Float64).alias("wijk"),
        (pl.col("low_income_households") + pl.col("other_households")).alias("households"),
    ).sort([*_DRAW_ORDER, "area_code"])
    groups = []
    for key, part in data.group_by(GROUP_KEYS, maintain_order=True):
        iid = key[1]
        method = methods[iid]

        def col(name, frame=part):
            return frame.get_column(name).cast(pl.Float64).to_numpy()

        g = _Group(key=tuple(key), method=method, direction=part.get_column("direction")[0],
                   threshold=thresholds.get(tuple(key), np.nan), value=col("value"), weight=col("inhabitants"),
                   wijk=col("wijk"), measures=measures_of(iid))
        if part.get_column("households").is_not_null().any():
            g.households = col("households")
        if method == MONTE_CARLO:
            g.lower, g.upper = col("ci_lower"), col("ci_upper")
        else:
            kind, unit = rounding[iid]
            if kind == "ratio":
                g.numerator, g.denominator, g.factor = col("numerator"), col("denominator"), factors[iid]
            g.half_width = unit
        groups.append(g)
    # Draw a series (gemeente, indicator, level) in one chunk, and series of one indicator, level and about one
    # size together: the padded matrix of a chunk is then hardly larger than its areas.
    size: dict[tuple, int] = {}
    for g in groups:
        size[g.key[:3]] = max(size.get(g.key[:3], 0), g.value.size)
    return sorted(groups, key=lambda g: (g.key[1], g.key[2], size[g.key[:3]], g.key[0], g.key[3]))


def _chunks(groups: list[_Group], n_draws: int) -> list[tuple[int, int]]:
    """[first, last) group ranges of about ROWS_PER_CHUNK padded rows, never splitting a series (gemeente,
    indicator, level)."""
    bounds, start, width, count = [], 0, 0, 0
    for i, g in enumerate(groups):
        new_block = i > 0 and g.key[:3] != groups[i - 1].key[:3]
        if new_block and (count + 1) * (n_draws + 1) * max(width, g.value.size) > ROWS_PER_CHUNK:
            bounds.append((start, i))
            start, width, count = i, 0, 0
        width, count = max(width, g.value.size), count + 1
    if groups:
        bounds.append((start, len(groups)))
    return bounds


def _points(measures: pl.DataFrame) -> pl.DataFrame:
    """The published measures, long: one row per (group, measure) with a finite value."""
    present = [m for m in INTERVAL_MEASURES if m in measures.columns]
    return measures.select(*GROUP_KEYS, *present).with_columns(pl.col("year").cast(pl.Int64)).unpivot(
        index=GROUP_KEYS, on=present, variable_name="measure", value_name="value").filter(
        pl.col("value").is_not_null() & pl.col("value").is_finite())


def _series_years(points: pl.DataFrame) -> pl.DataFrame:
    """Per series (gemeente, indicator, level, measure) with two years or more: first, previous and last year."""
    return points.sort("year").group_by(["gemeente_code", "indicator_id", "level", "measure"]).agg(
        pl.col("year").first().alias("first_year"), pl.col("year").slice(-2, 1).first().alias("previous_year"),
        pl.col("year").last().alias("last_year"), pl.len().alias("n")).filter(pl.col("n") >= 2).drop("n")


def _chunk_frames(chunk: list[_Group], n_draws: int, seed: int, published: dict, these: pl.DataFrame
                  ) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    """The interval rows (per measure) and change rows of one chunk of groups: its draws, summarised.

    ``published``: the published measure per (group key, measure) of the chunk's groups; ``these``: the series
    (gemeente, indicator, level, measure) of the chunk with their first, previous and last year."""
    draws = _chunk_measures(chunk, n_draws, seed)
    methods = np.array([g.method for g in chunk], dtype=object)
    index = {g.key: i for i, g in enumerate(chunk)}
    keys = pl.DataFrame([g.key for g in chunk], schema={k: INTERVAL_SCHEMA[k] for k in GROUP_KEYS}, orient="row")
    year_parts, change_parts = [], []
    for m, arr in draws.items():
        centre = np.array([published.get((*g.key, m), np.nan) for g in chunk], dtype=float)
        low, high, n = _summarise(arr, methods, centre)
        year_parts.append(keys.with_columns(pl.lit(m).alias("measure"), pl.Series("ci_low", low),
                                            pl.Series("ci_high", high), pl.Series("method", methods.tolist(),
                                                                                  dtype=pl.String),
                                            pl.Series("n_draws", n, dtype=pl.Int64)))
    for m, arr in draws.items():
        rows = these.filter(pl.col("measure") == m)
        if not rows.height:
            continue
        gkey = rows.select("gemeente_code", "indicator_id", "level").rows()

        def at(years, gkey=gkey):
            return np.array([index.get((*k, y), -1) for k, y in zip(gkey, years, strict=True)])

        i0, ip, i1 = at(rows["first_year"]), at(rows["previous_year"]), at(rows["last_year"])
        ok = (i0 >= 0) & (ip >= 0) & (i1 >= 0)
        rows, i0, ip, i1 = rows.filter(pl.Series(ok)), i0[ok], ip[ok], i1[ok]
        if not rows.height:
            continue
        lows_methods = methods[i1]

        def value(i, m=m):
            return np.array([published.get((*chunk[j].key, m), np.nan) for j in i], dtype=float)

        c_low, c_high, n = _summarise(arr[i1] - arr[i0], lows_methods, value(i1) - value(i0))
        p_low, p_high, _ = _summarise(arr[i1] - arr[ip], lows_methods, value(i1) - value(ip))
        change_parts.append(rows.with_columns(
            pl.Series("method", lows_methods.tolist(), dtype=pl.String), pl.Series("change_low", c_low),
            pl.Series("change_high", c_high), pl.Series("change_previous_low", p_low),
            pl.Series("change_previous_high", p_high), pl.Series("n_draws", n, dtype=pl.Int64)))
    return year_parts, change_parts


def _chunk_job(job: tuple) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    return _chunk_frames(*job)


def _run_chunks(jobs: list[tuple], workers: int):
    """The frames of every job, in the jobs' order: in this process, or in ``workers`` processes (spawned, so
    nothing of the caller's threads or open connections comes along) with at most two jobs per worker in flight
    (a chunk's draws are summarised where they are drawn; only the small frames come back)."""
    if workers <= 1 or len(jobs) < PARALLEL_FROM_CHUNKS:
        for job in jobs:
            yield _chunk_job(job)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append(pool.submit(_chunk_job, job))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def default_workers() -> int:
    """Processes the draws use: both cores of the machine the monitor was sized for, one on a single core."""
    import os

    return max(1, min(2, os.cpu_count() or 1))


def compute_intervals(inputs: pl.DataFrame, measures: pl.DataFrame, *, n_draws: int = N_DRAWS,
                      rounding_draws: int = ROUNDING_DRAWS, seed: int = SEED, workers: int = 1
                      ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The intervals of every published divide measure and of its change: ``(intervals, changes)``.

    ``inputs``: the rows of ``divide.inputs`` (value, inhabitants, wijk_code, household counts, ci_lower,
    ci_upper, numerator, denominator); ``measures``: ``divide.measures`` (which measures apply, their values,
    and the concentration threshold, which the draws keep fixed). An interval is given where the measure has a
    published value and the indicator is a health (Monte Carlo) or KWB (rounding) one.

    * ``intervals``, one row per (gemeente_code, year, level, indicator_id, measure): ``value`` (the published
      measure), ``ci_low``, ``ci_high``, ``method``, ``n_draws`` (draws the interval rests on: those for which
      the measure is defined; for rounding, including the published figures);
    * ``changes``, one row per (gemeente_code, level, indicator_id, measure) with a value in two years or more:
      ``first_year``, ``previous_year``, ``last_year`` (the years divide.trends compares), ``change_low`` /
      ``change_high`` of last minus first year, ``change_previous_low`` / ``change_previous_high`` of last
      minus previous year, ``method``, ``n_draws``.

    ``workers`` > 1 draws the chunks in that many processes (from :data:`PARALLEL_FROM_CHUNKS` chunks on): the
    same numbers, since every group's draws come from its own generator and the chunks are put together in
    their order.
    """
    if n_draws < 1 or rounding_draws < 1:
        raise ValueError("n_draws and rounding_draws must be at least 1")
    measures = measures.with_columns(pl.col("year").cast(pl.Int64))
    thresholds = {}
    if "concentration_threshold_pct" in measures.columns:
        for row in measures.filter(pl.col("concentration_threshold_pct").is_not_null()).select(
                *GROUP_KEYS, "concentration_threshold_pct").iter_rows():
            thresholds[tuple(row[:4])] = row[4]
    groups = _groups_of(inputs, thresholds)
    points = _points(measures)
    published = {(*row[:4], row[4]): row[5] for row in points.select(*GROUP_KEYS, "measure", "value").iter_rows()}
    series = _series_years(points)

    year_parts, change_parts = [], []
    blocks = _chunks(groups, n_draws)
    by_block = series.partition_by(["gemeente_code", "indicator_id", "level"], as_dict=True)
    jobs = []
    for first, last in blocks:
        chunk = groups[first:last]
        parts = [by_block[k] for k in sorted({g.key[:3] for g in chunk}) if k in by_block]
        these = pl.concat(parts) if parts else series.clear()
        jobs.append((chunk, n_draws if chunk[0].method == MONTE_CARLO else rounding_draws, seed,
                     {(*g.key, m): published[(*g.key, m)] for g in chunk for m in INTERVAL_MEASURES
                      if (*g.key, m) in published}, these))
    for year_part, change_part in _run_chunks(jobs, workers):
        year_parts += year_part
        change_parts += change_part

    intervals = pl.concat(year_parts) if year_parts else pl.DataFrame(schema=INTERVAL_SCHEMA)
    intervals = intervals.join(points, on=[*GROUP_KEYS, "measure"], how="inner") if year_parts else intervals
    intervals = intervals.select([pl.col(c).cast(t) for c, t in INTERVAL_SCHEMA.items()]).with_columns(
        pl.col(pl.Float64).fill_nan(None)).sort(["gemeente_code", "year", "level", "indicator_id", "measure"])
    changes = pl.concat(change_parts) if change_parts else pl.DataFrame(schema=CHANGE_SCHEMA)
    changes = changes.select([pl.col(c).cast(t) for c, t in CHANGE_SCHEMA.items()]).with_columns(
        pl.col(pl.Float64).fill_nan(None)).sort(["gemeente_code", "level", "indicator_id", "measure"])
    return intervals, changes
