"""Where the divide grows: each buurt's part in the change of a divide measure, and why the measure changed.

Pure maths on polars frames and numpy arrays (no Dagster): :func:`explain` takes the input rows of the divide
(the columns of the warehouse view ``divide.inputs``, one row per year, gemeente, level, indicator and buurt)
and returns two frames, ``contributions`` and ``decomposition``. A *series* is one (gemeente_code, level,
indicator_id); it runs from its **base year** (default: the first year the series has a usable buurt) to its
**latest year** (the last such year). Only the level ``buurt`` is explained by default.

Which buurten are *present* in a year: those the divide itself uses (value and residents finite, residents > 0,
:mod:`bwm.divide.measures`). A buurt is **common** to two years when it is present in both with the same
``series_id`` (``indicators.values``: a series break, e.g. changed boundaries, starts a new series, and a break
is never bridged). A buurt present in one of the two years only has *appeared* or *disappeared* (new or
removed codes, a series break, or a value missing in the other year); a buurt present in both but with a break
in between counts as both (status ``series_break``).

**Per-buurt terms** (the additive measures, :data:`ADDITIVE`): a measure over one year's buurten is a sum of
one term per buurt,

* ``gap``: with ``o_i`` the buurt's residents inside the top (bottom) 20% of residents, the production
  quantile groups of :mod:`bwm.divide.measures` where a buurt straddling the 20% line belongs fractionally,
  and ``O`` the group's residents: ``o_top_i x_i / O_top - o_bottom_i x_i / O_bottom``; the terms sum to top
  mean minus bottom mean, which is the gap (the worst-off minus the best-off share where higher is worse, the
  best-off minus the worst-off share otherwise), in the indicator's unit;
* ``theil_total``: ``s_i ln(x_i / mu)`` with ``s_i = w_i x_i / sum(w x)``; ``theil_between``:
  ``s_i ln(mu_g / mu)``; ``theil_within``: ``s_i ln(x_i / mu_g)`` (``mu_g`` the mean of the buurt's wijk);
  buurten with a value <= 0 are outside the index (term null, as in production);
* ``dissimilarity``: ``|l_i / L - o_i / O| / 2`` (low-income and other households);
* ``concentration_share_pct``: ``100 w_i [x_i >= threshold] / sum(w)``.

A buurt's **contribution** to the change from the base year to year t is its term in t minus its term in the
base year, a missing term counting as 0. The contributions of the common buurten plus ONE boundary term (the
sum over the buurten not common to both years: the terms of those that appeared minus those of those that
disappeared) add up to the measure's change (to 1e-9 of the indicator's scale: the terms are summed plainly,
the measures with a reference shift). Ratio, standard deviation and cv are no sum of per-buurt terms and have
no contributions; they are decomposed below.

**Why it changed** (``decomposition``, every applicable measure): over the common buurten ``C`` of the base
year 0 and the latest year 1, with ``M(x_a, w_b)`` the measure of the values of year a weighted by the
residents of year b (a Shapley split of the two factors):

* value effect ``V = 1/2 [M(x1,w0) - M(x0,w0) + M(x1,w1) - M(x0,w1)]``: the values changed, residents held;
* population effect ``P = 1/2 [M(x0,w1) - M(x0,w0) + M(x1,w1) - M(x1,w0)]``: residents moved, values held;
* boundary effect ``B = (M_all,1 - M_common,1) - (M_all,0 - M_common,0)``: what the buurten that are not in
  both years (and series breaks) did to the measure.

``V + P + B = M_all,1 - M_all,0``, the total change, exactly (up to rounding). With no common buurt the whole
change is the boundary effect (``V = P = 0``); where the measure is undefined over the common buurten in one
of the four combinations (a ratio of a mean <= 0), the three parts are null. For ``dissimilarity`` the weight
is the buurt's households (low + other) and the value its low-income share (low / households; a buurt without
households in the values' year has no share and is left out of the two mixed combinations), for
``concentration_share_pct`` the threshold goes with the values' year.

Membership of the worst-off and best-off 20%: ``worst20_share`` and ``best20_share`` are the fraction (0..1)
of a buurt's residents inside that group in year t. A buurt **entered** a group in year t when its share was
0 in the previous year of the series and is > 0 now, and **left** it when it was > 0 and is 0 now (a share
below :data:`MEMBERSHIP_EPS` counts as 0, so rounding on the 20% line does not make an event); null when the
buurt is not present in both years or its series broke in between.

**The tables.** ``contributions``: one row per (gemeente_code, level, indicator_id, measure, base_year, year,
area_code), for the additive measures and every year of the series from the base year on, the buurten present
in that year or in the base year: ``status`` (common, appeared, disappeared, series_break), ``value`` and
``value_base`` (the indicator's unit), ``weight`` and ``weight_base`` (residents), ``worst20_share`` and
``best20_share`` (0..1), the four entered/left flags, ``term_base``, ``term`` and ``contribution`` (the measure's
unit: the indicator's for the gap, an index for Theil, a fraction for dissimilarity, percentage points for
concentration), ``value_change``, ``gemeente_value_change`` (the gemeente's own figure, ``indicators.values``) and
``change_vs_gemeente`` = value_change - gemeente_value_change (the indicator's unit; null across a series break).
``decomposition``: one row per (gemeente_code, level, indicator_id, measure, base_year, latest_year) with two or
more years, every applicable measure: ``base_value``, ``latest_value``, ``total_change``, ``value_effect``,
``population_effect``, ``boundary_effect``, ``common_base_value``, ``common_latest_value`` (the measure over the
common buurten), ``boundary_contribution`` (additive measures: the boundary term of the contributions in the
latest year), all in the measure's unit, and ``n_common``, ``n_appeared``, ``n_disappeared`` (buurten).

Everything is computed for all series at once: the rows are sorted once, every (series, year) and every
(series, combination) is a segment of :func:`bwm.divide.measures.measures_by_segment`, and the per-buurt terms
are array operations over the same sorted rows. No loop runs per gemeente.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from bwm.divide import registry
from bwm.divide.frame import _chunk_bounds, _run_starts
from bwm.divide.measures import _mean, _overlap, _pair_ids, _positions, _sum, measures_by_segment

#: A series: one gemeente, level and indicator.
SERIES_KEYS = ["gemeente_code", "level", "indicator_id"]
#: The measures that are a sum of one term per buurt, with a per-buurt contribution.
ADDITIVE: tuple[str, ...] = ("gap", "theil_total", "theil_between", "theil_within", "dissimilarity",
                             "concentration_share_pct")
#: A membership share at or below this is 0 for the entered/left events.
MEMBERSHIP_EPS = 1e-9
#: The four combinations (values' year, weights' year) of the decomposition, 0 = base, 1 = latest.
COMBOS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1))
_ROWS_PER_CHUNK = 250_000

#: Columns of ``contributions``, in order (meaning and units: the module docstring, "The tables").
CONTRIBUTION_COLUMNS: dict[str, pl.DataType] = {
    "gemeente_code": pl.String(), "level": pl.String(), "indicator_id": pl.String(), "measure": pl.String(),
    "base_year": pl.Int64(), "year": pl.Int64(), "area_code": pl.String(), "status": pl.String(),
    "value": pl.Float64(), "weight": pl.Float64(), "value_base": pl.Float64(), "weight_base": pl.Float64(),
    "worst20_share": pl.Float64(), "best20_share": pl.Float64(),
    "entered_worst20": pl.Boolean(), "left_worst20": pl.Boolean(),
    "entered_best20": pl.Boolean(), "left_best20": pl.Boolean(),
    "term_base": pl.Float64(), "term": pl.Float64(), "contribution": pl.Float64(),
    "value_change": pl.Float64(), "gemeente_value_change": pl.Float64(), "change_vs_gemeente": pl.Float64(),
}
#: Columns of ``decomposition``, in order.
DECOMPOSITION_COLUMNS: dict[str, pl.DataType] = {
    "gemeente_code": pl.String(), "level": pl.String(), "indicator_id": pl.String(), "measure": pl.String(),
    "base_year": pl.Int64(), "latest_year": pl.Int64(), "base_value": pl.Float64(), "latest_value": pl.Float64(),
    "total_change": pl.Float64(), "value_effect": pl.Float64(), "population_effect": pl.Float64(),
    "boundary_effect": pl.Float64(), "common_base_value": pl.Float64(), "common_latest_value": pl.Float64(),
    "boundary_contribution": pl.Float64(), "n_common": pl.Int64(), "n_appeared": pl.Int64(),
    "n_disappeared": pl.Int64(),
}
STATUSES = ("common", "appeared", "disappeared", "series_break")


@dataclass(frozen=True)
class Explained:
    """The two results of :func:`explain` (columns :data:`CONTRIBUTION_COLUMNS`, :data:`DECOMPOSITION_COLUMNS`)."""

    contributions: pl.DataFrame
    decomposition: pl.DataFrame


def _default_measures_of(indicator_id: str) -> tuple[str, ...]:
    from bwm.divide.build import measures_of

    return measures_of(indicator_id)


def prepare(rows: pl.DataFrame, levels: Sequence[str] = ("buurt",)) -> pl.DataFrame:
    """The present rows of ``rows`` (columns of ``divide.inputs``), sorted by series, year, value and area code.

    Optional columns are filled when absent: ``wijk_code`` (null), the two household counts (null),
    ``threshold`` (the concentration threshold in the value's unit, null) and ``series_id`` (the area code:
    no break). Adds ``seg``: the (series, year) segment number, 0.. in sorted order, ``sid``: the series number,
    ``aid``: the rank of the area code, ``wijk_id``: a number per wijk code (NaN for no wijk).
    """
    defaults = {"wijk_code": pl.String, "low_income_households": pl.Float64, "other_households": pl.Float64,
                "threshold": pl.Float64}
    frame = rows.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in defaults.items() if c not in rows.columns)
    if "series_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("series_id"))
    frame = frame.with_columns(pl.coalesce(pl.col("series_id").cast(pl.String), pl.col("area_code")).alias("series_id"))
    frame = frame.select(
        *SERIES_KEYS, pl.col("year").cast(pl.Int64), "area_code", "direction", "series_id",
        pl.col("wijk_code").cast(pl.String),
        pl.col("value").cast(pl.Float64), pl.col("inhabitants").cast(pl.Float64).alias("weight"),
        pl.col("low_income_households").cast(pl.Float64), pl.col("other_households").cast(pl.Float64),
        pl.col("threshold").cast(pl.Float64),
    ).filter(
        pl.col("level").is_in(list(levels)) & pl.col("value").is_finite() & pl.col("weight").is_finite()
        & (pl.col("weight") > 0)
    ).sort([*SERIES_KEYS, "year", "value", "area_code"])
    def numbered(keys: list[str]) -> np.ndarray:
        starts = _run_starts(frame.select(keys))
        return np.repeat(np.arange(starts.size), np.diff(np.append(starts, frame.height)))

    return frame.with_columns(
        pl.Series("seg", numbered([*SERIES_KEYS, "year"]), dtype=pl.Int64),
        pl.Series("sid", numbered(SERIES_KEYS), dtype=pl.Int64),
        pl.col("area_code").rank("dense").cast(pl.Int64).alias("aid"),
        pl.col("wijk_code").cast(pl.Categorical).to_physical().cast(pl.Float64).alias("wijk_id"),
    )


def _per_segment(frame: pl.DataFrame, column: str, starts: np.ndarray) -> np.ndarray:
    return frame.get_column(column).gather(starts).to_numpy()


def segment_measures(frame: pl.DataFrame, n_seg: int) -> dict[str, np.ndarray]:
    """:func:`measures_by_segment` over ``frame`` (sorted by ``seg``, then value; columns of :func:`prepare`),
    in chunks of whole segments; one entry per segment."""
    if frame.height == 0:
        return measures_by_segment([], [], [], n_segments=0, directions=[])
    seg = frame.get_column("seg").to_numpy()
    starts = np.flatnonzero(np.concatenate(([True], seg[1:] != seg[:-1])))
    if starts.size != n_seg:
        raise ValueError("every segment needs at least one row")
    x, w = frame.get_column("value").to_numpy(), frame.get_column("weight").to_numpy()
    wijk = frame.get_column("wijk_id").to_numpy()
    low = frame.get_column("low_income_households").to_numpy().astype(float)
    other = frame.get_column("other_households").to_numpy().astype(float)
    directions = _per_segment(frame, "direction", starts)
    thresholds = _per_segment(frame, "threshold", starts).astype(float)
    chunks = []
    bounds = _chunk_bounds(starts, frame.height, _ROWS_PER_CHUNK)
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        rows = slice(starts[first], starts[last] if last < n_seg else frame.height)
        chunks.append(measures_by_segment(
            x[rows], w[rows], seg[rows] - first, n_segments=last - first, directions=directions[first:last],
            wijk=wijk[rows], low_count=low[rows], other_count=other[rows], threshold=thresholds[first:last]))
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}


def buurt_terms(frame: pl.DataFrame) -> pl.DataFrame:
    """Per present row of :func:`prepare`: ``worst20_share``, ``best20_share`` (0..1 of its residents) and its
    term of each additive measure, ``term_<measure>`` (null where the buurt is outside the measure)."""
    n_seg = int(frame.get_column("seg").max()) + 1 if frame.height else 0
    x, w = frame.get_column("value").to_numpy(), frame.get_column("weight").to_numpy()
    seg = frame.get_column("seg").to_numpy()
    nan = np.full(x.size, np.nan)
    if x.size == 0:
        return frame.with_columns(pl.lit(None, pl.Float64).alias(c) for c in
                                  ["worst20_share", "best20_share", *(f"term_{m}" for m in ADDITIVE)])
    starts = np.flatnonzero(np.concatenate(([True], seg[1:] != seg[:-1])))
    worse = (_per_segment(frame, "direction", starts) == "higher_is_worse")[seg]
    lower, upper, length = _positions(w, seg, n_seg)
    bottom, top = _overlap(lower, upper, length, 0, 5), _overlap(lower, upper, length, 4, 5)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = top * x / _sum(seg, top, n_seg)[seg] - bottom * x / _sum(seg, bottom, n_seg)[seg]
        worst, best = np.where(worse, top, bottom) / w, np.where(worse, bottom, top) / w

    total, between, within = nan.copy(), nan.copy(), nan.copy()
    wijk = frame.get_column("wijk_id").to_numpy()
    inside = (x > 0) & ~np.isnan(wijk)
    if inside.any():
        xs, ws, ss = x[inside], w[inside], seg[inside]
        pair = _pair_ids(ss, wijk[inside].astype(np.int64))
        mean = _mean(xs, ws, ss, n_seg)
        pair_mean = _mean(xs, ws, pair, int(pair.max()) + 1)
        share = ws * xs / _sum(ss, ws * xs, n_seg)[ss]
        total[inside] = share * np.log(xs / mean[ss])
        between[inside] = share * np.log(pair_mean[pair] / mean[ss])
        within[inside] = share * np.log(xs / pair_mean[pair])

    low = frame.get_column("low_income_households").to_numpy().astype(float)
    other = frame.get_column("other_households").to_numpy().astype(float)
    counted = np.isfinite(low) & np.isfinite(other) & (low >= 0) & (other >= 0)
    dissimilarity = nan.copy()
    if counted.any():
        total_low = _sum(seg[counted], low[counted], n_seg)[seg[counted]]
        total_other = _sum(seg[counted], other[counted], n_seg)[seg[counted]]
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = 0.5 * np.abs(low[counted] / total_low - other[counted] / total_other)
        dissimilarity[counted] = np.where((total_low > 0) & (total_other > 0), terms, np.nan)

    threshold = _per_segment(frame, "threshold", starts).astype(float)[seg]
    with np.errstate(invalid="ignore"):
        concentration = np.where(np.isfinite(threshold), 100.0 * w * (x >= threshold) / _sum(seg, w, n_seg)[seg],
                                 np.nan)
    columns = {"worst20_share": worst, "best20_share": best, "term_gap": gap, "term_theil_total": total,
               "term_theil_between": between, "term_theil_within": within, "term_dissimilarity": dissimilarity,
               "term_concentration_share_pct": concentration}
    return frame.with_columns(pl.Series(name, values, nan_to_null=True) for name, values in columns.items())


def _applicable(indicator_ids: Sequence[str], levels: Sequence[str],
                measures_of: Callable[[str], Sequence[str]]) -> pl.DataFrame:
    """(level, indicator_id, measure) wherever a measure applies: the indicator lists it, the level has it."""
    rows = [(level, iid, m) for iid in indicator_ids for m in measures_of(iid) for level in levels
            if level in registry.MEASURES[m].levels]
    return pl.DataFrame(rows, schema={"level": pl.String, "indicator_id": pl.String, "measure": pl.String},
                        orient="row")


def series_years(frame: pl.DataFrame, base_year: int | None = None) -> pl.DataFrame:
    """Per series: ``base_year`` (the first year with a present buurt, or ``base_year`` where the series has
    it; series without it are left out) and ``latest_year``; only series with a later year than the base."""
    years = frame.group_by(SERIES_KEYS).agg(pl.col("year").min().alias("first"), pl.col("year").max()
                                            .alias("latest_year"), pl.col("year").unique().alias("years"))
    if base_year is None:
        years = years.with_columns(pl.col("first").alias("base_year"))
    else:
        years = years.filter(pl.col("years").list.contains(base_year)).with_columns(
            pl.lit(base_year, pl.Int64).alias("base_year"))
    return years.filter(pl.col("latest_year") > pl.col("base_year")).select(*SERIES_KEYS, "base_year",
                                                                            "latest_year").sort(SERIES_KEYS)


def _combination_rows(frame: pl.DataFrame, years: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of the four combinations of every series (segment = series number x 4 + combination), sorted, and
    per series its number and counts of common, appeared and disappeared buurten."""
    cols = ["area_code", "series_id", "wijk_id", "value", "weight", "low_income_households", "other_households",
            "threshold", "direction"]
    numbered = years.with_row_index("series").with_columns(pl.col("series").cast(pl.Int64))
    ends = []
    for end, year_col in ((0, "base_year"), (1, "latest_year")):
        part = frame.join(numbered, left_on=[*SERIES_KEYS, "year"], right_on=[*SERIES_KEYS, year_col])
        ends.append(part.select("series", *SERIES_KEYS, *[pl.col(c).alias(f"{c}_{end}") for c in cols]))
    both = ends[0].join(ends[1].drop(SERIES_KEYS), left_on=["series", "area_code_0"],
                        right_on=["series", "area_code_1"], how="full", coalesce=False)
    area = pl.coalesce("area_code_0", "area_code_1")
    common_rows = pl.col("area_code_0").is_not_null() & pl.col("area_code_1").is_not_null() & (
        pl.col("series_id_0") == pl.col("series_id_1"))
    counts = both.group_by(pl.coalesce("series", "series_right").alias("series")).agg(
        common_rows.sum().alias("n_common"),
        (pl.col("area_code_1").is_not_null() & ~common_rows.fill_null(False)).sum().alias("n_appeared"),
        (pl.col("area_code_0").is_not_null() & ~common_rows.fill_null(False)).sum().alias("n_disappeared"),
    )
    common = both.filter(common_rows).with_columns(area.alias("area_code"))
    households = {end: pl.col(f"low_income_households_{end}") + pl.col(f"other_households_{end}") for end in (0, 1)}
    parts = []
    for number, (a, b) in enumerate(COMBOS):
        if a == b:
            low, other = pl.col(f"low_income_households_{a}"), pl.col(f"other_households_{a}")
        else:
            share = pl.col(f"low_income_households_{a}") / households[a]
            low, other = share * households[b], (1 - share) * households[b]
        parts.append(common.select(
            (pl.col("series") * len(COMBOS) + number).alias("seg"), "area_code",
            pl.col(f"wijk_id_{a}").alias("wijk_id"), pl.col(f"value_{a}").alias("value"),
            pl.col(f"weight_{b}").alias("weight"), low.alias("low_income_households"),
            other.alias("other_households"), pl.col(f"threshold_{a}").alias("threshold"),
            pl.col("direction_0").alias("direction")))
    rows = pl.concat(parts).sort(["seg", "value", "area_code"]) if parts else common
    return rows, counts


def decompose(frame: pl.DataFrame, per_year: dict[str, np.ndarray], years: pl.DataFrame,
              applicable: pl.DataFrame) -> pl.DataFrame:
    """The Shapley decomposition of every applicable measure of every series in ``years`` (without
    ``boundary_contribution``, which :func:`explain` adds from the contributions)."""
    seg_keys = frame.select([*SERIES_KEYS, "year", "seg"]).unique("seg").sort("seg")
    rows, counts = _combination_rows(frame, years)
    n_series = years.height
    present = np.zeros(n_series * len(COMBOS), dtype=bool)
    present[np.unique(rows.get_column("seg").to_numpy())] = True
    # Empty combination segments (a series without common buurten) get a placeholder row, masked out below.
    filler = pl.DataFrame({"seg": np.flatnonzero(~present).astype(np.int64)}).with_columns(
        pl.lit("").alias("area_code"), pl.lit(None, pl.Float64).alias("wijk_id"), pl.lit(1.0).alias("value"),
        pl.lit(1.0).alias("weight"), pl.lit(None, pl.Float64).alias("low_income_households"),
        pl.lit(None, pl.Float64).alias("other_households"), pl.lit(None, pl.Float64).alias("threshold"),
        pl.lit("neutral").alias("direction"))
    rows = pl.concat([rows, filler.select(rows.columns)], how="vertical_relaxed").sort(["seg", "value", "area_code"])
    combos = segment_measures(rows, n_series * len(COMBOS))

    numbered = years.with_row_index("series").with_columns(pl.col("series").cast(pl.Int64)).join(
        counts, on="series", how="left").with_columns(pl.col(c).fill_null(0) for c in
                                                      ("n_common", "n_appeared", "n_disappeared"))
    segs = {}
    for end, year_col in (("base", "base_year"), ("latest", "latest_year")):
        segs[end] = numbered.join(seg_keys, left_on=[*SERIES_KEYS, year_col], right_on=[*SERIES_KEYS, "year"],
                                  how="left").sort("series").get_column("seg").to_numpy()
    none_common = numbered.sort("series").get_column("n_common").to_numpy() == 0
    out = []
    for measure in registry.COMPUTED:
        m0, m1 = per_year[measure][segs["base"]], per_year[measure][segs["latest"]]
        c = [combos[measure][np.arange(n_series) * len(COMBOS) + k] for k in range(len(COMBOS))]
        c00, c10, c01, c11 = (np.where(none_common, 0.0, v) for v in c)
        value = 0.5 * ((c10 - c00) + (c11 - c01))
        population = 0.5 * ((c01 - c00) + (c11 - c10))
        boundary = (m1 - c11) - (m0 - c00)
        split = np.isfinite(value) & np.isfinite(population) & np.isfinite(boundary)
        nan = np.full(n_series, np.nan)
        out.append(numbered.sort("series").select(*SERIES_KEYS, "base_year", "latest_year", "n_common",
                                                  "n_appeared", "n_disappeared").with_columns(
            pl.lit(measure).alias("measure"),
            *(pl.Series(name, values, nan_to_null=True) for name, values in {
                "base_value": m0, "latest_value": m1, "total_change": m1 - m0,
                "value_effect": np.where(split, value, nan), "population_effect": np.where(split, population, nan),
                "boundary_effect": np.where(split, boundary, nan),
                "common_base_value": np.where(none_common, nan, c00),
                "common_latest_value": np.where(none_common, nan, c11)}.items())))
    result = pl.concat(out) if out else pl.DataFrame(schema=DECOMPOSITION_COLUMNS)
    return result.join(applicable, on=["level", "indicator_id", "measure"], how="semi")


def contributions(terms: pl.DataFrame, years: pl.DataFrame, applicable: pl.DataFrame,
                  gemeente_values: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (series, additive measure, year from the base year on, buurt present in that year or in the
    base year): :data:`CONTRIBUTION_COLUMNS`. ``terms``: :func:`buurt_terms`."""
    series = terms.select("sid", *SERIES_KEYS).unique("sid").join(years.select(*SERIES_KEYS, "base_year"),
                                                                  on=SERIES_KEYS)
    since_base = terms.join(series.select("sid", "base_year"), on="sid").filter(pl.col("year") >= pl.col("base_year"))
    in_years = since_base.select("sid", "year").unique()
    columns = ["sid", "base_year", "year", "aid", "area_code", "series_id", "value", "weight", "worst20_share",
               "best20_share"]
    parts = []
    for measure in ADDITIVE:
        listing = applicable.filter(pl.col("measure") == measure).select("level", "indicator_id")
        sids = series.join(listing, on=["level", "indicator_id"], how="semi").get_column("sid")
        if sids.is_empty():
            continue
        long = since_base.filter(pl.col("sid").is_in(sids.implode())).select(
            *columns, pl.col(f"term_{measure}").alias("term"))
        base = long.filter(pl.col("year") == pl.col("base_year")).select(
            "sid", "aid", pl.col("area_code").alias("area_code_base"), pl.col("series_id").alias("series_id_base"),
            pl.col("value").alias("value_base"), pl.col("weight").alias("weight_base"),
            pl.col("term").alias("term_base"))
        present = long.join(base, on=["sid", "aid"], how="left")
        gone = base.join(in_years.filter(pl.col("sid").is_in(sids.implode())), on="sid").join(
            long.select("sid", "year", "aid"), on=["sid", "year", "aid"], how="anti")
        parts.append(pl.concat([present, gone], how="diagonal_relaxed").with_columns(pl.lit(measure).alias("measure")))
    if not parts:
        return pl.DataFrame(schema=CONTRIBUTION_COLUMNS)
    both = pl.concat(parts, how="diagonal_relaxed")
    in_year, in_base = pl.col("series_id").is_not_null(), pl.col("series_id_base").is_not_null()
    status = (pl.when(in_year & in_base & (pl.col("series_id") == pl.col("series_id_base"))).then(pl.lit("common"))
              .when(in_year & in_base).then(pl.lit("series_break"))
              .when(in_year).then(pl.lit("appeared")).otherwise(pl.lit("disappeared")))
    both = both.with_columns(
        status.alias("status"), pl.coalesce("area_code", "area_code_base").alias("area_code"),
        pl.col("base_year").fill_null(pl.col("year")),
    ).with_columns(
        (pl.col("term").fill_null(0.0) - pl.col("term_base").fill_null(0.0)).alias("contribution"),
        pl.when(pl.col("status") == "common").then(pl.col("value") - pl.col("value_base")).alias("value_change"),
    ).join(_membership_events(terms), on=["sid", "year", "aid"], how="left").join(
        series.select("sid", *SERIES_KEYS, pl.col("base_year").alias("series_base")), on="sid")
    both = both.with_columns(pl.col("series_base").alias("base_year"))
    if gemeente_values is not None and gemeente_values.height:
        gm = gemeente_values.select(pl.col("gemeente_code"), "indicator_id", pl.col("year").cast(pl.Int64),
                                    pl.col("value").cast(pl.Float64), "series_id")
        bases = series.select("gemeente_code", "indicator_id", "base_year").unique()
        gm_base = gm.join(bases, left_on=["gemeente_code", "indicator_id", "year"],
                          right_on=["gemeente_code", "indicator_id", "base_year"]).select(
            "gemeente_code", "indicator_id", pl.col("year").alias("base_year"), pl.col("value").alias("gm_value_base"),
            pl.col("series_id").alias("gm_series_base"))
        change = gm.join(gm_base, on=["gemeente_code", "indicator_id"]).filter(
            pl.col("series_id") == pl.col("gm_series_base")).select(
            "gemeente_code", "indicator_id", "base_year", "year",
            (pl.col("value") - pl.col("gm_value_base")).alias("gemeente_value_change"))
        both = both.join(change, on=["gemeente_code", "indicator_id", "base_year", "year"], how="left")
    else:
        both = both.with_columns(pl.lit(None, pl.Float64).alias("gemeente_value_change"))
    both = both.with_columns((pl.col("value_change") - pl.col("gemeente_value_change")).alias("change_vs_gemeente"))
    # Sorted by series, measure, year and area code through their numbers (sid follows the series keys' order).
    rank = {m: i for i, m in enumerate(sorted(ADDITIVE))}
    both = both.sort(["sid", pl.col("measure").replace_strict(rank, return_dtype=pl.Int64), "year", "aid"])
    return both.select([pl.col(c).cast(t) for c, t in CONTRIBUTION_COLUMNS.items()])


def _membership_events(terms: pl.DataFrame) -> pl.DataFrame:
    """Per (sid, year, aid): entered/left the worst-off and best-off 20% against the previous year of the series
    (null where the buurt was not present then, or its series broke)."""
    previous = terms.select("sid", "year").unique().sort(["sid", "year"]).with_columns(
        pl.col("year").shift().over("sid").alias("previous_year"))
    rows = terms.select("sid", "year", "aid", "series_id", "worst20_share", "best20_share").sort(
        ["sid", "aid", "year"]).join(previous, on=["sid", "year"], how="left", maintain_order="left")
    comparable = ((pl.col("sid") == pl.col("sid").shift()) & (pl.col("aid") == pl.col("aid").shift())
                  & (pl.col("year").shift() == pl.col("previous_year"))
                  & (pl.col("series_id") == pl.col("series_id").shift())).fill_null(False)

    def crossed(share: str, into: bool) -> pl.Expr:
        now_in, was_in = pl.col(share) > MEMBERSHIP_EPS, pl.col(share).shift() > MEMBERSHIP_EPS
        event = (now_in & ~was_in) if into else (was_in & ~now_in)
        return pl.when(comparable).then(event).otherwise(None)

    return rows.select(
        "sid", "year", "aid",
        crossed("worst20_share", True).alias("entered_worst20"),
        crossed("worst20_share", False).alias("left_worst20"),
        crossed("best20_share", True).alias("entered_best20"),
        crossed("best20_share", False).alias("left_best20"),
    )


def explain(rows: pl.DataFrame, *, gemeente_values: pl.DataFrame | None = None, base_year: int | None = None,
            levels: Sequence[str] = ("buurt",),
            measures_of: Callable[[str], Sequence[str]] | None = None) -> Explained:
    """Contributions and decomposition of every series of ``rows`` with at least two years.

    ``rows``: the columns of ``divide.inputs`` (gemeente_code, level, indicator_id, year, area_code, direction,
    value, inhabitants, and where known wijk_code, low_income_households, other_households), plus ``threshold``
    (the concentration threshold, in the value's unit, where that measure applies) and ``series_id``
    (``indicators.values``; without it no buurt has a break). ``gemeente_values`` (gemeente_code, indicator_id,
    year, value, series_id): the gemeente's own figures, for each buurt's change against the gemeente's.
    ``base_year``: None for each series' first year. ``measures_of(indicator_id)``: the measures that apply
    (default: the catalogue's ``divide_measures``, :func:`bwm.divide.build.measures_of`).
    """
    measures_of = measures_of or _default_measures_of
    frame = prepare(rows, levels)
    n_seg = int(frame.get_column("seg").max()) + 1 if frame.height else 0
    applicable = _applicable(frame.get_column("indicator_id").unique().sort().to_list(), levels, measures_of)
    years = series_years(frame, base_year)
    if years.height == 0:
        return Explained(pl.DataFrame(schema=CONTRIBUTION_COLUMNS), pl.DataFrame(schema=DECOMPOSITION_COLUMNS))
    per_year = segment_measures(frame, n_seg)
    terms = buurt_terms(frame)
    contrib = contributions(terms, years, applicable, gemeente_values)
    decomposition = decompose(frame, per_year, years, applicable)
    boundary = contrib.filter(pl.col("status") != "common").group_by(
        [*SERIES_KEYS, "measure", "year"]).agg(pl.col("contribution").sum().alias("boundary_contribution"))
    decomposition = decomposition.join(
        boundary.rename({"year": "latest_year"}), on=[*SERIES_KEYS, "measure", "latest_year"], how="left"
    ).with_columns(
        pl.when(pl.col("measure").is_in(list(ADDITIVE))).then(pl.col("boundary_contribution").fill_null(0.0))
        .alias("boundary_contribution"))
    decomposition = decomposition.select([pl.col(c).cast(t) for c, t in DECOMPOSITION_COLUMNS.items()]).sort(
        [*SERIES_KEYS, "measure"])
    return Explained(contrib, decomposition)
