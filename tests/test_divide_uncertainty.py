"""The intervals of the divide measures (bwm.divide.uncertainty) and the trend rule that reads them."""

import duckdb
import numpy as np
import polars as pl
import pytest

from bwm.divide import uncertainty as u
from bwm.divide.build import compute_trends
from bwm.divide.measures import NO_CLEAR_CHANGE, REASON_INTERVAL_INCLUDES_ZERO, WIDENING, trends_by_segment

HEALTH = "roker"  # a health indicator of the catalogue: gap, ratio, weighted_std, cv
KWB = "huishoudens_sociaal_minimum"  # a KWB percentage
MEASURES4 = ("gap", "ratio", "weighted_std", "cv")


def _inputs(indicator: str, years: dict[int, np.ndarray], half: float, gemeente: str = "GM0001") -> pl.DataFrame:
    """One gemeente's buurten: values per year, bounds value +- half (clipped to 0..100), 100..1000 residents."""
    rows = []
    for year, values in years.items():
        for i, v in enumerate(values):
            rows.append({"year": year, "gemeente_code": gemeente, "level": "buurt", "indicator_id": indicator,
                         "direction": "higher_is_worse", "area_code": f"BU{i:04d}", "wijk_code": f"WK{i % 3:02d}",
                         "value": float(v), "inhabitants": 100.0 + 100.0 * (i % 10),
                         "low_income_households": None, "other_households": None, "source_table": "t",
                         "ci_lower": max(float(v) - half, 0.0), "ci_upper": min(float(v) + half, 100.0),
                         "numerator": None, "denominator": None})
    return pl.DataFrame(rows, schema_overrides={"low_income_households": pl.Float64, "other_households": pl.Float64,
                                                "numerator": pl.Float64, "denominator": pl.Float64})


def _measures(inputs: pl.DataFrame) -> pl.DataFrame:
    """divide.measures of ``inputs`` (the four general measures) as the pipeline computes them."""
    from bwm.divide.frame import divide_measures
    out = divide_measures(inputs, value_col="value", weight_col="inhabitants",
                          group_cols=["gemeente_code", "year", "level", "indicator_id"], direction_col="direction")
    return out.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in
                            ("theil_total", "theil_between", "theil_within", "dissimilarity",
                             "concentration_share_pct", "concentration_threshold_pct"))


def _values(rng, n=30, base=20.0, spread=8.0):
    return np.clip(rng.normal(base, spread, n), 1.0, 99.0).round(1)


@pytest.fixture(scope="module")
def health_case():
    rng = np.random.default_rng(3)
    return {2016: _values(rng), 2020: _values(rng), 2022: _values(rng, spread=14.0)}


def test_monte_carlo_is_reproducible_and_independent_of_other_gemeenten(health_case):
    one = _inputs(HEALTH, health_case, 6.0)
    other = _inputs(HEALTH, {y: v[::-1] + 1 for y, v in health_case.items()}, 6.0, gemeente="GM0002")
    a, ca = u.compute_intervals(one, _measures(one))
    b, cb = u.compute_intervals(one, _measures(one))
    both = pl.concat([other, one.sample(fraction=1.0, shuffle=True, seed=1)])
    c, cc = u.compute_intervals(both, _measures(both))
    assert a.equals(b) and ca.equals(cb)
    assert a.equals(c.filter(pl.col("gemeente_code") == "GM0001"))
    assert ca.equals(cc.filter(pl.col("gemeente_code") == "GM0001"))
    assert set(a["method"]) == {u.MONTE_CARLO} and set(a["n_draws"]) == {u.N_DRAWS}
    assert set(a["measure"]) == set(MEASURES4) and a.height == 3 * 4
    # Another seed gives other (but close) intervals.
    d, _ = u.compute_intervals(one, _measures(one), seed=u.SEED + 1)
    assert not a.equals(d)
    steady = pl.col("measure").is_in(["gap", "weighted_std"])  # the ratio's upper tail is long
    assert np.allclose(a.filter(steady)["ci_high"], d.filter(steady)["ci_high"], rtol=0.05)


def test_intervals_shrink_with_the_bounds_and_vanish_for_zero_width(health_case):
    widths = {}
    for half in (0.0, 1.0, 3.0, 9.0):
        data = _inputs(HEALTH, health_case, half)
        iv, ch = u.compute_intervals(data, _measures(data))
        widths[half] = (iv["ci_high"] - iv["ci_low"]).to_numpy(), (ch["change_high"] - ch["change_low"]).to_numpy()
    assert np.all(widths[0.0][0] == 0) and np.all(widths[0.0][1] == 0)
    for small, large in ((0.0, 1.0), (1.0, 3.0), (3.0, 9.0)):
        assert np.all(widths[small][0] < widths[large][0]) or small == 0.0
        assert np.all(widths[small][0] <= widths[large][0])
        assert np.all(widths[small][1] <= widths[large][1])
    data = _inputs(HEALTH, health_case, 0.0)
    iv, _ = u.compute_intervals(data, _measures(data))
    assert np.allclose(iv["ci_low"], iv["value"], rtol=1e-12) and np.allclose(iv["ci_high"], iv["value"], rtol=1e-12)


def test_split_normal_reproduces_the_published_bounds_and_stays_in_range():
    rng = np.random.default_rng(0)
    value, lower, upper = np.array([2.0, 40.0, 97.0]), np.array([0.0, 30.0, 90.0]), np.array([9.0, 55.0, 100.0])
    x = u.draw_split_normal(value, lower, upper, rng, 200_000)
    assert x.min() >= 0 and x.max() <= 100
    # The column the truncation hardly touches: median = value, the bounds are the 2.5th and 97.5th percentiles.
    assert abs(np.median(x[:, 1]) - 40.0) < 0.1
    # Truncated at 0: the mass below 0 is drawn again, which lifts the median a little (never lowers it).
    assert np.median(x[:, 0]) > 2.0
    assert np.allclose(np.percentile(x[:, 1], [2.5, 97.5]), [30.0, 55.0], atol=0.2)
    with pytest.raises(ValueError):
        u.draw_split_normal([5.0], [6.0], [9.0], rng, 10)


def test_against_an_independent_numpy_computation():
    """Two buurten drawn with the module's own generator, the gap and std computed by hand."""
    values, lower, upper, w = np.array([10.0, 30.0]), np.array([6.0, 20.0]), np.array([16.0, 38.0]), [300.0, 100.0]
    data = pl.DataFrame({"year": [2020, 2020], "gemeente_code": "GM0009", "level": "buurt", "indicator_id": HEALTH,
                         "direction": "higher_is_worse", "area_code": ["BU1", "BU2"], "wijk_code": ["WK1", "WK1"],
                         "value": values, "inhabitants": w, "low_income_households": [None, None],
                         "other_households": [None, None], "source_table": "t", "ci_lower": lower,
                         "ci_upper": upper, "numerator": [None, None], "denominator": [None, None]},
                        schema_overrides={c: pl.Float64 for c in ("low_income_households", "other_households",
                                                                   "numerator", "denominator")})
    iv, _ = u.compute_intervals(data, _measures(data))
    rng = u.group_generator("GM0009", HEALTH, "buurt", 2020)
    x = u.draw_split_normal(values, lower, upper, rng, u.N_DRAWS)
    wa = np.array(w)
    mean = x @ wa / wa.sum()
    std = np.sqrt(((x - mean[:, None]) ** 2) @ wa / wa.sum())
    # With 300 and 100 residents the bottom 20% (80) are all in the lower buurt, the top 20% in the upper one.
    gap = np.abs(x[:, 0] - x[:, 1])
    published = {"weighted_std": np.sqrt(((values - values @ wa / wa.sum()) ** 2) @ wa / wa.sum()),
                 "gap": abs(values[0] - values[1])}
    published["cv"] = published["weighted_std"] / (values @ wa / wa.sum())
    got = {r["measure"]: (r["ci_low"], r["ci_high"]) for r in iv.iter_rows(named=True)}
    for measure, draws in (("weighted_std", std), ("gap", gap), ("cv", std / mean)):
        # The width of the draws' 2.5th-97.5th percentiles, about the published measure (moved by the median bias).
        low, mid, high = np.percentile(draws, [2.5, 50, 97.5])
        shift = published[measure] - mid
        assert np.allclose(got[measure], (low + shift, high + shift), rtol=1e-9), measure
        assert got[measure][0] <= published[measure] <= got[measure][1]


def test_a_trend_turns_no_clear_change_when_the_bounds_widen():
    years = {2012: np.array([10.0, 20.0, 30.0] * 10), 2016: np.array([9.0, 20.0, 32.0] * 10),
             2020: np.array([8.0, 20.0, 34.0] * 10)}
    labels = {}
    for half in (0.0, 25.0):
        data = _inputs(HEALTH, years, half)
        measures = _measures(data)
        _, changes = u.compute_intervals(data, measures)
        trends = compute_trends(measures, changes).filter(pl.col("measure") == "gap")
        labels[half] = trends.row(0, named=True)
    assert labels[0.0]["label"] == WIDENING and labels[0.0]["label_reason"] == "clear_change"
    assert labels[25.0]["label"] == NO_CLEAR_CHANGE
    assert labels[25.0]["label_reason"] == REASON_INTERVAL_INCLUDES_ZERO
    assert labels[25.0]["change_low"] < 0 < labels[25.0]["change_high"]


def test_trend_rule_with_intervals():
    years = np.array([2018.0, 2019.0, 2020.0] * 3)
    values = np.array([1.0, 1.1, 1.2] * 3)
    seg = np.repeat(np.arange(3), 3)
    got = trends_by_segment(years, values, seg, 3, change_low=np.array([0.1, -0.1, np.nan]),
                            change_high=np.array([0.3, 0.3, np.nan]))
    assert got["label"].tolist() == [WIDENING, NO_CLEAR_CHANGE, WIDENING]
    assert got["label_reason"].tolist() == ["clear_change", "interval_includes_zero", "clear_change_no_interval"]


def test_rounding_ranges_contain_the_point_and_grow_with_the_unit(monkeypatch):
    rng = np.random.default_rng(5)
    years = {2019: _values(rng), 2021: _values(rng), 2023: _values(rng)}
    data = _inputs(KWB, years, 0.0).with_columns(pl.lit(None, dtype=pl.Float64).alias(c)
                                                 for c in ("ci_lower", "ci_upper"))
    measures = _measures(data)
    widths = []
    for unit in (0.1, 1.0, 5.0):
        monkeypatch.setitem(u.ROUNDING_BY_VARIABLE, "huishoudens_sociaal_minimum_pct", unit)
        iv, ch = u.compute_intervals(data, measures)
        assert set(iv["method"]) == {u.ROUNDING} and set(iv["n_draws"]) == {u.ROUNDING_DRAWS + 1}
        assert (iv["ci_low"] <= iv["value"]).all() and (iv["value"] <= iv["ci_high"]).all()
        assert (ch["change_low"] < ch["change_high"]).all()
        widths.append((iv["ci_high"] - iv["ci_low"]).to_numpy())
    assert np.all(widths[0] < widths[1]) and np.all(widths[1] < widths[2])


def test_rounding_units_of_the_catalogue():
    assert u.rounding_unit("bijstand_per_1000") == ("ratio", u.COUNT_ROUNDING)
    assert u.rounding_unit("huishoudens_sociaal_minimum") == ("value", u.SHARE_ROUNDING)
    assert u.rounding_unit("woz_waarde") == ("value", 1000.0)
    assert u.rounding_unit(HEALTH) is None
    assert u.method_of(HEALTH) == u.MONTE_CARLO and u.method_of(KWB) == u.ROUNDING
    assert u.method_of("not_in_the_catalogue") is None


def test_demo_every_health_measure_has_an_interval_and_labels_follow_the_rule(demo_warehouse):
    with duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True) as con:
        missing = con.execute("""
            select count(*) from divide.measures m
            join indicators.catalogue c using (indicator_id)
            cross join (select unnest(['gap', 'ratio', 'weighted_std', 'cv']) as measure) ms
            left join divide.intervals i using (gemeente_code, year, level, indicator_id, measure)
            where c.source = 'health' and i.ci_low is null
              and case ms.measure when 'gap' then m.gap when 'ratio' then m.ratio
                  when 'weighted_std' then m.weighted_std else m.cv end is not null""").fetchone()[0]
        assert missing == 0
        n_health = con.execute("select count(*) from divide.intervals where method = 'monte_carlo_95'").fetchone()[0]
        assert n_health > 0
        assert con.execute("select count(*) from divide.intervals where ci_low > ci_high").fetchone()[0] == 0
        assert con.execute("select count(*) from divide.intervals where method = 'rounding_range' "
                           "and not (value between ci_low and ci_high)").fetchone()[0] == 0
        broken = con.execute("""
            select count(*) from divide.trends
            where label in ('widening', 'narrowing')
              and change_low is not null and change_low <= 0 and change_high >= 0""").fetchone()[0]
        assert broken == 0
        health_trends = con.execute("""
            select count(*), count(change_low) from divide.trends t join indicators.catalogue c using (indicator_id)
            where c.source = 'health' and t.n_years >= 2""").fetchone()
        assert health_trends[0] > 0 and health_trends[0] == health_trends[1]
        reasons = {r[0] for r in con.execute("select distinct label_reason from divide.trends").fetchall()}
        assert "interval_includes_zero" in reasons
        published = con.execute("select count(gap_ci_low) from publish.divide_measures").fetchone()[0]
        assert published > 0
        assert con.execute("select count(*) from publish.divide_trends where label_reason is null").fetchone()[0] == 0
