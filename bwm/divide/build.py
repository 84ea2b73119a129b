"""Divide measures and their trends for every (gemeente, year, level, indicator) in the warehouse.

Which measure applies to which indicator:
* gap/ratio of the worst- and best-off 20% of residents, weighted std and CV: every indicator;
* Theil index with its between-/within-wijk decomposition: income (THEIL_INDICATORS), buurt level;
* dissimilarity of low-income households against all others: DISSIMILARITY_INDICATOR, buurt level;
* share of residents in concentration neighbourhoods: CONCENTRATION_INDICATOR, where a neighbourhood
  counts when its share is at least `factor` x the national share (BWM_CONCENTRATION_FACTOR, default 2).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from bwm.divide.frame import _run_starts, divide_measures
from bwm.divide.measures import trends_by_segment

THEIL_INDICATORS = ("inkomen_per_inwoner",)
DISSIMILARITY_INDICATOR = "huishoudens_laag_inkomen"
CONCENTRATION_INDICATOR = "huishoudens_sociaal_minimum"
GROUP_COLS = ["gemeente_code", "year", "level", "indicator_id"]
TREND_MEASURES = ("gap", "ratio", "weighted_std", "cv", "theil_total", "theil_between", "theil_within",
                  "dissimilarity", "concentration_share_pct")


def compute_measures(inputs: pl.DataFrame, national_share: dict[int, tuple[float, str]],
                     concentration_factor: float) -> pl.DataFrame:
    """One row per (gemeente_code, year, level, indicator_id) with every applicable measure.

    ``national_share`` maps year -> (share of households at the social minimum in %, basis) where basis
    says where the share came from ('nederland' for CBS's national figure).
    """
    thresholds = pl.DataFrame(
        {"year": list(national_share), "concentration_threshold_pct":
            [v[0] * concentration_factor for v in national_share.values()],
         "concentration_basis": [v[1] for v in national_share.values()]},
        schema={"year": pl.Int64, "concentration_threshold_pct": pl.Float64, "concentration_basis": pl.String},
    )
    data = inputs.with_columns(pl.col("year").cast(pl.Int64)).join(thresholds, on="year", how="left").with_columns(
        pl.when(pl.col("indicator_id") == CONCENTRATION_INDICATOR)
        .then(pl.col("concentration_threshold_pct"))
        .otherwise(None)
        .alias("threshold")
    )
    measures = divide_measures(
        data, value_col="value", weight_col="inhabitants", group_cols=GROUP_COLS, wijk_col="wijk_code",
        direction_col="direction", low_count_col="low_income_households", other_count_col="other_households",
        concentration_threshold="threshold",
    )
    applies_theil = pl.col("indicator_id").is_in(THEIL_INDICATORS)
    buurt = pl.col("level") == "buurt"
    measures = measures.with_columns(
        *[pl.when(applies_theil).then(pl.col(c)).otherwise(None).alias(c)
          for c in ("theil_total", "theil_n_nonpositive")],
        *[pl.when(applies_theil & buurt).then(pl.col(c)).otherwise(None).alias(c)
          for c in ("theil_between", "theil_within")],
        pl.when((pl.col("indicator_id") == DISSIMILARITY_INDICATOR) & buurt).then(pl.col("dissimilarity"))
        .otherwise(None).alias("dissimilarity"),
        pl.when(pl.col("indicator_id") == CONCENTRATION_INDICATOR).then(pl.col("concentration_share_pct"))
        .otherwise(None).alias("concentration_share_pct"),
    )
    extra = data.group_by(GROUP_COLS).agg(
        pl.col("source_table").drop_nulls().first().alias("source_table"),
        pl.col("concentration_threshold_pct").first(),
        pl.col("concentration_basis").first(),
    ).with_columns(
        pl.when(pl.col("indicator_id") == CONCENTRATION_INDICATOR).then(pl.col(c)).otherwise(None).alias(c)
        for c in ("concentration_threshold_pct", "concentration_basis")
    )
    return measures.join(extra, on=GROUP_COLS, how="left").sort(GROUP_COLS)


def compute_trends(measures: pl.DataFrame) -> pl.DataFrame:
    """One row per (gemeente_code, level, indicator_id, measure): slope, changes and a plain label.

    The rule of :func:`bwm.divide.measures.trend`, for every series at once (``trends_by_segment``): a loop
    calling ``trend`` per series took ~20 s for the ~150 000 series of a national run.
    """
    keys = ["gemeente_code", "level", "indicator_id", "measure"]
    long = measures.unpivot(index=["gemeente_code", "level", "indicator_id", "year"], on=list(TREND_MEASURES),
                            variable_name="measure", value_name="value").drop_nulls("value") \
        .filter(pl.col("value").is_finite()).sort([*keys, "year"])
    starts = _run_starts(long.select(keys)) if long.height else np.zeros(0, dtype=np.int64)
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, long.height)))
    result = trends_by_segment(long["year"].to_numpy().astype(float), long["value"].to_numpy().astype(float), seg,
                               starts.size)
    schema = {"gemeente_code": pl.String, "level": pl.String, "indicator_id": pl.String, "measure": pl.String,
              "label": pl.String, "slope_per_year": pl.Float64, "change_since_first": pl.Float64,
              "change_since_previous": pl.Float64, "relative_change": pl.Float64, "n_years": pl.Int64,
              "first_year": pl.Int64, "last_year": pl.Int64, "first_value": pl.Float64, "last_value": pl.Float64}
    frame = long.select(keys).gather(starts).hstack([
        pl.Series(name, result[name], nan_to_null=name not in ("label", "n_years")).cast(schema[name])
        for name in schema if name not in keys])
    return frame.select(list(schema)).with_columns(pl.col(pl.Float64).fill_nan(None))
