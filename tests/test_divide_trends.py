"""divide.trends computed for all series at once agrees with the reference `trend` called per series."""

import dataclasses
import math

import numpy as np
import polars as pl
from divide_reference import trend

from bwm.divide import registry
from bwm.divide.build import compute_trends
from bwm.divide.measures import NARROWING, NO_CLEAR_CHANGE, WIDENING, trends_by_segment


def _measures(rng: np.random.Generator, n_gemeenten: int = 40) -> pl.DataFrame:
    rows = []
    for g in range(n_gemeenten):
        years = sorted(rng.choice(np.arange(2013, 2025), size=int(rng.integers(1, 13)), replace=False).tolist())
        for level in ("buurt", "wijk"):
            for year in years:
                row = {"gemeente_code": f"GM{g:04d}", "level": level, "indicator_id": "x", "year": year}
                for m in registry.TRENDED:
                    value = float(rng.choice([0.0, 1.0, 2.0])) if g % 5 == 0 else float(rng.lognormal())
                    row[m] = None if rng.random() < 0.15 else value
                rows.append(row)
    return pl.DataFrame(rows)


def test_every_series_matches_trend():
    measures = _measures(np.random.default_rng(7))
    got = compute_trends(measures)
    long = measures.unpivot(index=["gemeente_code", "level", "indicator_id", "year"], on=list(registry.TRENDED),
                            variable_name="measure", value_name="value").drop_nulls("value")
    expected = {}
    for key, group in long.sort("year").group_by(["gemeente_code", "level", "indicator_id", "measure"],
                                                 maintain_order=True):
        expected[key] = trend(group["year"].to_numpy().astype(float), group["value"].to_numpy().astype(float),
                              larger_is_wider=registry.MEASURES[key[3]].larger_is_wider)
    assert got.height == len(expected)
    assert set(got["measure"]) == set(registry.TRENDED)
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
                          **{m: gaps if m == "gap" else [None] * len(years) for m in registry.TRENDED}},
                         schema_overrides={m: pl.Float64 for m in registry.TRENDED})
    assert compute_trends(frame)["label"].to_list() == [NO_CLEAR_CHANGE]


def test_larger_is_wider_sets_the_sign_per_series():
    # Two rising series and two falling ones; the second of each pair is a measure where smaller means wider.
    years = np.array([2020, 2021, 2022] * 4, dtype=float)
    values = np.array([1.0, 1.2, 1.4, 1.0, 1.2, 1.4, 1.4, 1.2, 1.0, 1.4, 1.2, 1.0])
    seg = np.repeat(np.arange(4), 3)
    wider = np.array([True, False, True, False])
    labels = trends_by_segment(years, values, seg, 4, larger_is_wider=wider)["label"].tolist()
    assert labels == [WIDENING, NARROWING, NARROWING, WIDENING]
    assert labels == [trend(years[seg == s], values[seg == s], larger_is_wider=bool(wider[s])).label for s in range(4)]


def test_compute_trends_reads_larger_is_wider_from_the_registry(monkeypatch):
    frame = pl.DataFrame({"gemeente_code": "GM0001", "level": "buurt", "indicator_id": "x", "year": [2020, 2021, 2022],
                          **{m: [1.0, 1.2, 1.4] for m in registry.TRENDED}})
    assert set(compute_trends(frame)["label"]) == {WIDENING}  # every measure so far: larger is wider
    monkeypatch.setitem(registry.MEASURES, "cv", dataclasses.replace(registry.MEASURES["cv"], larger_is_wider=False))
    labels = dict(compute_trends(frame).select("measure", "label").iter_rows())
    assert labels.pop("cv") == NARROWING
    assert set(labels.values()) == {WIDENING}
