"""divide.trends computed for all series at once agrees with `trend` called per series."""

import math

import numpy as np
import polars as pl

from bwm.divide.build import TREND_MEASURES, compute_trends
from bwm.divide.measures import NO_CLEAR_CHANGE, trend


def _measures(rng: np.random.Generator, n_gemeenten: int = 40) -> pl.DataFrame:
    rows = []
    for g in range(n_gemeenten):
        years = sorted(rng.choice(np.arange(2013, 2025), size=int(rng.integers(1, 13)), replace=False).tolist())
        for level in ("buurt", "wijk"):
            for year in years:
                row = {"gemeente_code": f"GM{g:04d}", "level": level, "indicator_id": "x", "year": year}
                for m in TREND_MEASURES:
                    value = float(rng.choice([0.0, 1.0, 2.0])) if g % 5 == 0 else float(rng.lognormal())
                    row[m] = None if rng.random() < 0.15 else value
                rows.append(row)
    return pl.DataFrame(rows)


def test_every_series_matches_trend():
    measures = _measures(np.random.default_rng(7))
    got = compute_trends(measures)
    long = measures.unpivot(index=["gemeente_code", "level", "indicator_id", "year"], on=list(TREND_MEASURES),
                            variable_name="measure", value_name="value").drop_nulls("value")
    expected = {}
    for key, group in long.sort("year").group_by(["gemeente_code", "level", "indicator_id", "measure"],
                                                 maintain_order=True):
        expected[key] = trend(group["year"].to_numpy().astype(float), group["value"].to_numpy().astype(float))
    assert got.height == len(expected)
    for row in got.iter_rows(named=True):
        t = expected[(row["gemeente_code"], row["level"], row["indicator_id"], row["measure"])]
        assert row["label"] == t.label
        assert (row["n_years"], row["first_year"], row["last_year"]) == (t.n_years, t.first_year, t.last_year)
        for name in ("slope_per_year", "change_since_first", "change_since_previous", "relative_change"):
            want = getattr(t, name)
            assert (row[name] is None) == math.isnan(want), name
            if row[name] is not None:
                assert math.isclose(row[name], want, rel_tol=1e-9, abs_tol=1e-12), name


def test_a_slope_of_zero_up_to_rounding_is_no_direction():
    # The exact OLS slope of this series is 0; summed in another order it is +-1e-17. Either way: no clear change.
    years, gaps = [2018, 2019, 2020, 2021, 2022, 2023, 2024], [1.0, 2.0, 1.0, 1.0, 2.0, 0.0, 2.0]
    assert trend(years, gaps).label == NO_CLEAR_CHANGE
    frame = pl.DataFrame({"gemeente_code": "GM0001", "level": "wijk", "indicator_id": "x", "year": years,
                          **{m: gaps if m == "gap" else [None] * len(years) for m in TREND_MEASURES}},
                         schema_overrides={m: pl.Float64 for m in TREND_MEASURES})
    assert compute_trends(frame)["label"].to_list() == [NO_CLEAR_CHANGE]
