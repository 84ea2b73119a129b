"""Divide measures and their trends for every (gemeente, year, level, indicator) in the warehouse.

Which measure applies to which indicator is the catalogue's ``divide_measures`` (data/reference/indicators.yaml,
names from :mod:`bwm.divide.registry`); an indicator outside the YAML catalogue (declared by a municipal data
file) gets the registry's default measures. Every measure is computed for every group, then blanked (null)
where it does not apply: for an indicator that does not list it, or at a level where it is not defined.

The concentration share counts a neighbourhood when its share is at least `factor` x the national share of
the indicator that lists ``concentration_share_pct`` (BWM_CONCENTRATION_FACTOR, default 2).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from bwm import catalogue
from bwm.divide import registry
from bwm.divide.frame import _run_starts, divide_measures
from bwm.divide.measures import trends_by_segment

GROUP_COLS = ["gemeente_code", "year", "level", "indicator_id"]


def measures_of(indicator_id: str) -> tuple[str, ...]:
    """The divide measures that apply to an indicator: its catalogue ``divide_measures``, or the default ones
    for an indicator the YAML catalogue does not hold."""
    derived = tuple(m for m, iid in registry.DERIVED_INDICATORS.items() if iid == indicator_id)
    if derived:  # a pseudo-indicator of divide.measures (bwm.stapeling): its derived measure only
        return derived
    ind = catalogue.by_id().get(indicator_id)
    return ind.divide_measures if ind is not None else registry.DEFAULT_MEASURES


def indicators_with(measure: str) -> tuple[str, ...]:
    """The catalogue's indicators that list ``measure``, in catalogue order."""
    if measure not in registry.MEASURES:
        raise KeyError(f"unknown divide measure {measure!r}; known: {', '.join(registry.NAMES)}")
    return tuple(ind.id for ind in catalogue.indicators() if measure in ind.divide_measures)


def _the_indicator_with(measure: str) -> str | None:
    """The one indicator listing a single-indicator measure (the catalogue allows at most one), or None."""
    ids = indicators_with(measure)
    return ids[0] if ids else None


#: The indicator whose national share sets the concentration threshold (the one listing concentration_share_pct).
CONCENTRATION_INDICATOR = _the_indicator_with("concentration_share_pct")
#: The indicator whose household counts give the dissimilarity index (the one listing dissimilarity).
DISSIMILARITY_INDICATOR = _the_indicator_with("dissimilarity")


def _applies(measure: str, indicator_ids: Iterable[str]) -> pl.Expr:
    """True on the rows where ``measure`` applies: an indicator that lists it, at a level where it is defined."""
    listing = [iid for iid in indicator_ids if measure in measures_of(iid)]
    return pl.col("indicator_id").is_in(listing) & pl.col("level").is_in(list(registry.MEASURES[measure].levels))


def compute_measures(inputs: pl.DataFrame, national_share: dict[int, tuple[float, str]],
                     concentration_factor: float) -> pl.DataFrame:
    """One row per (gemeente_code, year, level, indicator_id) with every applicable measure.

    ``national_share`` maps year -> (share of households at the social minimum in %, basis) where basis
    says where the share came from ('nederland' for CBS's national figure).
    """
    indicator_ids = inputs.get_column("indicator_id").unique().to_list()
    concentration = _applies("concentration_share_pct", indicator_ids)
    thresholds = pl.DataFrame(
        {"year": list(national_share), "concentration_threshold_pct":
            [v[0] * concentration_factor for v in national_share.values()],
         "concentration_basis": [v[1] for v in national_share.values()]},
        schema={"year": pl.Int64, "concentration_threshold_pct": pl.Float64, "concentration_basis": pl.String},
    )
    data = inputs.with_columns(pl.col("year").cast(pl.Int64)).join(thresholds, on="year", how="left").with_columns(
        pl.when(concentration).then(pl.col("concentration_threshold_pct")).otherwise(None).alias("threshold")
    )
    measures = divide_measures(
        data, value_col="value", weight_col="inhabitants", group_cols=GROUP_COLS, wijk_col="wijk_code",
        direction_col="direction", low_count_col="low_income_households", other_count_col="other_households",
        concentration_threshold="threshold",
    )
    measures = measures.with_columns(
        pl.when(_applies(measure, indicator_ids)).then(pl.col(column)).otherwise(None).alias(column)
        for measure in registry.MEASURES for column in registry.columns_of(measure)
    )
    extra = data.group_by(GROUP_COLS).agg(
        pl.col("source_table").drop_nulls().first().alias("source_table"),
        pl.col("concentration_threshold_pct").first(),
        pl.col("concentration_basis").first(),
    ).with_columns(
        pl.when(concentration).then(pl.col(c)).otherwise(None).alias(c)
        for c in ("concentration_threshold_pct", "concentration_basis")
    )
    return measures.join(extra, on=GROUP_COLS, how="left").sort(GROUP_COLS)


#: Columns ``compute_trends`` takes over from the change intervals (bwm.divide.uncertainty, divide.change_intervals).
CHANGE_INTERVAL_COLUMNS = ["change_low", "change_high", "change_previous_low", "change_previous_high"]


def compute_trends(measures: pl.DataFrame, changes: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (gemeente_code, level, indicator_id, measure): slope, changes and a plain label.

    Every trended measure of :mod:`bwm.divide.registry`, with the rule of
    :func:`bwm.divide.measures.trends_by_segment` for all series at once: a loop over the series one at a time
    took ~20 s for the ~150 000 series of a national run.

    ``changes`` (``divide.change_intervals``, :func:`bwm.divide.uncertainty.compute_intervals`): the interval of
    each series' change; a series whose change interval includes zero is 'no clear change'. Its columns
    ``change_low`` .. ``change_previous_high`` and ``method`` (as ``interval_method``) are added to the
    result (null for a series without an interval); ``label_reason`` says which condition decided the label.
    """
    keys = ["gemeente_code", "level", "indicator_id", "measure"]
    long = measures.unpivot(index=["gemeente_code", "level", "indicator_id", "year"], on=list(registry.TRENDED),
                            variable_name="measure", value_name="value").drop_nulls("value") \
        .filter(pl.col("value").is_finite()).sort([*keys, "year"])
    starts = _run_starts(long.select(keys)) if long.height else np.zeros(0, dtype=np.int64)
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, long.height)))
    series = long.select(keys).gather(starts)
    wider = series.get_column("measure").replace_strict(
        {m: registry.MEASURES[m].larger_is_wider for m in registry.TRENDED}, return_dtype=pl.Boolean).to_numpy()
    interval_schema = {**dict.fromkeys(CHANGE_INTERVAL_COLUMNS, pl.Float64), "method": pl.String}
    if changes is None:
        changes = pl.DataFrame(schema={"gemeente_code": pl.String, "level": pl.String, "indicator_id": pl.String,
                                       "measure": pl.String, **interval_schema})
    # first_year/last_year as the change interval compared them: the same as the series' (checked by the tests).
    intervals = series.join(changes.select(*keys, *interval_schema), on=keys, how="left", maintain_order="left")
    result = trends_by_segment(long["year"].to_numpy().astype(float), long["value"].to_numpy().astype(float), seg,
                               starts.size, larger_is_wider=wider,
                               change_low=intervals["change_low"].cast(pl.Float64).to_numpy(),
                               change_high=intervals["change_high"].cast(pl.Float64).to_numpy())
    schema = {"gemeente_code": pl.String, "level": pl.String, "indicator_id": pl.String, "measure": pl.String,
              "label": pl.String, "slope_per_year": pl.Float64, "change_since_first": pl.Float64,
              "change_since_previous": pl.Float64, "relative_change": pl.Float64, "n_years": pl.Int64,
              "first_year": pl.Int64, "last_year": pl.Int64, "first_value": pl.Float64, "last_value": pl.Float64,
              "label_reason": pl.String}
    frame = series.hstack([
        pl.Series(name, result[name], nan_to_null=name not in ("label", "label_reason", "n_years")).cast(schema[name])
        for name in schema if name not in keys])
    frame = frame.hstack([intervals[c] for c in CHANGE_INTERVAL_COLUMNS]).with_columns(
        intervals["method"].alias("interval_method"))
    return frame.select(*schema, *CHANGE_INTERVAL_COLUMNS, "interval_method").with_columns(
        pl.col(pl.Float64).fill_nan(None))
