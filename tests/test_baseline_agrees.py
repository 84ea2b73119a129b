"""The pandas baseline (benchmarks/baseline) produces the warehouse's indicators.values and divide.measures.

Issue 16 times the warehouse's compute core against this baseline; the ratio means something only when both
produce the same output. Every row of both tables is compared on the demo warehouse: the same keys, the same
missing values and reasons, every number within 1e-9 relative (plus 1e-12 absolute, for figures that are 0 in
one and ~1e-15 in the other). Excluded, by name:

* indicators of source 'municipal' (municipal data files, not the CBS mirror: their values come from the
  monitor's own disclosure control, bwm.municipal.publish, which the baseline does not redo), and their
  divide rows;
* the derived stapeling measure (``stapeling_share_pct``, the rows of the pseudo-indicator ``stapeling``):
  it counts themes over a core set of indicators (bwm.stapeling, issue 17), beyond the compute core the baseline
  redoes; it has its own hand-worked and independent tests (tests/test_stapeling.py).

Nothing else is excluded: the 95% interval columns, numerators and denominators, source tables, series ids
and breaks, territory years (mergers) and the concentration threshold are compared too.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from benchmarks.baseline.compute import VALUE_COLUMNS, compute, divide_measures
from bwm import stapeling

VALUE_KEYS = ["year", "area_code", "indicator_id"]
MEASURE_KEYS = ["gemeente_code", "year", "level", "indicator_id"]


def _disagreements(warehouse: pd.DataFrame, baseline: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    """Per column, the rows on which the two tables differ (a key present in one only is reported as 'key')."""
    both = warehouse.merge(baseline, on=keys, how="outer", suffixes=("_wh", "_bl"), indicator=True)
    out = {}
    if (both["_merge"] != "both").any():
        out["key"] = both.loc[both["_merge"] != "both", [*keys, "_merge"]]
    both = both[both["_merge"] == "both"]
    for column in warehouse.columns:
        if column in keys:
            continue
        a, b = both[f"{column}_wh"], both[f"{column}_bl"]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            a, b = a.astype(float), b.astype(float)
            bad = (a.isna() != b.isna()) | ((a - b).abs() > 1e-9 * np.maximum(a.abs(), b.abs()) + 1e-12)
        else:
            bad = ~((a.astype(object) == b.astype(object)) | (a.isna() & b.isna()))
        if bad.any():
            out[column] = both.loc[bad, [*keys, f"{column}_wh", f"{column}_bl"]]
    return out


@pytest.fixture(scope="module")
def both_outputs(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True)
    try:
        municipal = {r[0] for r in con.execute(
            "select indicator_id from indicators.catalogue where source = 'municipal'").fetchall()}
        values = con.execute("select * from indicators.values").df()
        measures = con.execute("select * from divide.measures").df()
    finally:
        con.close()
    values = values[~values["indicator_id"].isin(municipal)]
    measures = measures[~measures["indicator_id"].isin(municipal | {stapeling.PSEUDO_INDICATOR})]
    assert measures[stapeling.MEASURE].isna().all()  # only the pseudo-indicator's rows carry the share
    measures = measures.drop(columns=[stapeling.MEASURE])
    base_values, base_measures = compute(demo_warehouse["mirror"])
    return values, measures, base_values, base_measures, municipal


def test_the_comparison_covers_the_catalogue(both_outputs):
    values, measures, base_values, base_measures, municipal = both_outputs
    assert municipal, "the demo has municipal indicators: the exclusion above is not vacuous"
    assert list(base_values.columns) == VALUE_COLUMNS == list(values.columns)
    assert set(base_measures.columns) == set(measures.columns)
    # every KWB and health indicator of the catalogue, every level, both divide levels, mergers included
    assert values["indicator_id"].nunique() == base_values["indicator_id"].nunique() >= 30
    assert set(values["area_level"]) == {"land", "gemeente", "wijk", "buurt"}
    assert set(measures["level"]) == {"buurt", "wijk"}
    assert measures["territory_year"].notna().any()
    assert {"suppressed_by_cbs", "not_published_yet", "denominator_too_small"} <= set(values["missing_reason"])
    assert values["ci_lower"].notna().any() and measures["theil_total"].notna().any()


def test_indicators_values_agree_on_every_row(both_outputs):
    values, _, base_values, _, _ = both_outputs
    assert len(values) == len(base_values) > 20_000
    differences = _disagreements(values, base_values, VALUE_KEYS)
    assert not differences, {c: d.head(5).to_dict("records") for c, d in differences.items()}


def test_divide_measures_agree_on_every_row(both_outputs):
    _, measures, _, base_measures, _ = both_outputs
    assert len(measures) == len(base_measures) > 2_000
    differences = _disagreements(measures, base_measures, MEASURE_KEYS)
    assert not differences, {c: d.head(5).to_dict("records") for c, d in differences.items()}


def test_a_difference_is_caught(both_outputs):
    """The comparison is not vacuous: a change in the tenth digit of one gap fails it."""
    _, measures, _, base_measures, _ = both_outputs
    changed = base_measures.copy()
    row = changed["gap"].first_valid_index()
    changed.loc[row, "gap"] *= 1 + 1e-8
    assert list(_disagreements(measures, changed, MEASURE_KEYS)) == ["gap"]


def _rows(values, weights, *, direction="higher_is_better", wijken=None):
    n = len(values)
    return pd.DataFrame({"gemeente_code": "GM0001", "year": 2024, "level": "buurt", "indicator_id": "x",
                         "direction": direction, "value": values, "inhabitants": weights,
                         "wijk_code": wijken or ["WK000101"] * n, "low": np.nan, "other": np.nan})


def test_baseline_maths_by_hand():
    # 100 + 100 + 300 residents at 10, 20, 30: the lowest 20% (100) are the first buurt, the highest 20% sit
    # in the last; mean 24, variance (100*14^2 + 100*4^2 + 300*6^2)/500 = 64.
    m = divide_measures(_rows([10.0, 20.0, 30.0], [100.0, 100.0, 300.0]), {}).iloc[0]
    assert (m["worst20_mean"], m["best20_mean"], m["gap"], m["ratio"]) == (10.0, 30.0, 20.0, 3.0)
    assert m["weighted_std"] == pytest.approx(8.0) and m["cv"] == pytest.approx(1 / 3)
    theil = 1 / 12 * math.log(10 / 24) + 1 / 6 * math.log(20 / 24) + 3 / 4 * math.log(30 / 24)
    assert m["theil_total"] == pytest.approx(theil) and m["theil_within"] == pytest.approx(theil)
    assert m["theil_between"] == pytest.approx(0.0, abs=1e-15)
    # A straddling buurt counts in part: 50 at 1 and 450 at 2; the lowest 100 residents are 50 at 1, 50 at 2.
    m = divide_measures(_rows([2.0, 1.0], [450.0, 50.0], direction="higher_is_worse"), {}).iloc[0]
    assert (m["worst20_mean"], m["best20_mean"], m["gap"]) == (2.0, 1.5, 0.5)
    # Two wijken of one buurt each: all of the Theil index lies between them.
    m = divide_measures(_rows([10.0, 30.0], [100.0, 100.0], wijken=["WK000101", "WK000102"]), {}).iloc[0]
    assert m["theil_within"] == pytest.approx(0.0, abs=1e-15)
    assert m["theil_between"] == pytest.approx(m["theil_total"]) and m["theil_total"] > 0
    # One buurt: no divide, exactly; a missing value or a zero weight is left out and counted.
    m = divide_measures(_rows([7.0, np.nan, 9.0], [120.0, 50.0, 0.0]), {}).iloc[0]
    assert (m["n_areas"], m["n_dropped"], m["gap"], m["ratio"], m["weighted_std"]) == (1, 2, 0.0, 1.0, 0.0)


def test_missing_reasons_the_demo_does_not_exercise():
    """Hand-built: the reasons of indicators.values's header that the demo never produces, on one year."""
    from benchmarks.baseline.compute import kwb_values

    codes = [f"BU0001000{i}" for i in range(7)]
    areas = pd.DataFrame({"year": 2024, "area_code": codes, "area_level": "buurt", "gemeente_code": "GM0001",
                          "table_id": "T"})
    # numerator, denominator per buurt, with their staging status
    num = [(5.0, "published"), (np.nan, "quarantined"), (np.nan, "not_published_yet"), (np.nan, "suppressed"),
           (5.0, "published"), (5.0, "published"), (60.0, "published")]
    den = [(50.0, "published"), (50.0, "published"), (50.0, "published"), (50.0, "published"),
           (0.0, "published"), (20.0, "published"), (50.0, "published")]
    kwb = pd.concat([
        pd.DataFrame({"year": 2024, "area_code": codes, "variable": name, "value": [v for v, _ in pairs],
                      "status": [s for _, s in pairs], "table_id": "T"})
        for name, pairs in (("a", num), ("b", den))], ignore_index=True)
    kwb = kwb[~((kwb["variable"] == "b") & (kwb["area_code"] == codes[-1]))]  # no denominator row at all
    catalogue = [
        {"id": "pct", "source": "kwb", "method": "ratio", "numerator": "a", "denominator": "b", "factor": 100,
         "min_denominator": 30, "years": [2024]},
        {"id": "missing", "source": "kwb", "method": "direct", "variable": "absent", "years": [2024]},
    ]
    v = kwb_values(catalogue, areas, kwb).set_index(["indicator_id", "area_code"])
    reasons = v.loc["pct", "missing_reason"].tolist()
    assert reasons == [None, "unit_quarantined", "not_published_yet", "suppressed_by_cbs", "no_denominator",
                       "denominator_too_small", "not_published"]
    assert v.loc[("pct", codes[0]), "value"] == 10.0
    assert v.loc["pct", "value"].iloc[1:].isna().all()
    assert (v.loc["missing", "missing_reason"] == "not_published").all()
    # a percentage whose rounded numerator exceeds its denominator
    kwb.loc[(kwb["variable"] == "a") & (kwb["area_code"] == codes[0]), "value"] = 55.0
    v = kwb_values(catalogue, areas, kwb).set_index(["indicator_id", "area_code"])
    assert v.loc[("pct", codes[0]), "missing_reason"] == "inconsistent_counts"
    assert np.isnan(v.loc[("pct", codes[0]), "value"])
