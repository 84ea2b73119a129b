"""Where disadvantages pile up (bwm.stapeling): hand-worked counts with weights, ties at the 20% line and missing
values; the weighted rank correlation against an independent implementation; the catalogue's rule."""

import numpy as np
import polars as pl
import pytest
import scipy.stats

from bwm import catalogue, stapeling
from bwm.catalogue import CatalogueError, StapelingRule, StapelingTheme

RULE = StapelingRule(themes=(StapelingTheme("t1", "Thema 1", ("i1", "i2")), StapelingTheme("t2", "Thema 2", ("i3",))),
                     min_coverage_pct=60.0, min_buurten=3, min_themes=1, samenhang=("i1", "i2", "i3"))
DIRECTION = {"i1": "higher_is_worse", "i2": "higher_is_better", "i3": "higher_is_worse", "m1": "higher_is_worse"}
SOURCE = {"i1": "kwb", "i2": "health", "i3": "kwb", "m1": "municipal"}
# (buurt, gemeente, residents, {indicator: value}); None is a missing value (a row with a null value).
BUURTEN = [
    ("BU01", "GM0001", 100, {"i1": 9, "i2": 1, "i3": None}),
    ("BU02", "GM0001", 100, {"i1": 5, "i2": 2, "i3": 7}),
    ("BU03", "GM0001", 100, {"i1": 5, "i2": 3, "i3": 7}),
    ("BU04", "GM0001", 100, {"i1": 1, "i2": 4, "i3": 3}),
    ("BU05", "GM0001", 100, {"i1": None, "i2": 5, "i3": 2}),
    ("BU06", "GM0001", 0, {"i1": 50, "i2": 0, "i3": 50}),     # no residents: no score, and no weight in any total
    ("BU07", "GM0001", 100, {"i1": 0, "i2": None, "i3": None}),  # 1 of 3 valued: no score, but it is ranked
    ("BU11", "GM0002", 100, {"i1": 20, "i2": 0, "i3": 10}),
    ("BU12", "GM0002", 100, {"i1": 3}),  # no row at all for i2 and i3 (e.g. a source without that year)
]


def frame(buurten=BUURTEN, extra=()):
    rows = []
    for code, gm, residents, vals in buurten:
        for iid, value in vals.items():
            rows.append({"year": 2020, "area_code": code, "gemeente_code": gm, "indicator_id": iid,
                         "direction": DIRECTION[iid], "source": SOURCE[iid], "factor": None,
                         "value": None if value is None else float(value), "missing_reason": None,
                         "ci_lower": None, "ci_upper": None, "numerator": None, "denominator": None,
                         "source_table": "T", "stapeling_theme": "t2" if iid == "m1" else None,
                         "inhabitants": float(residents)})
    rows += list(extra)
    return pl.DataFrame(rows, schema={"year": pl.Int64, "area_code": pl.String, "gemeente_code": pl.String,
                                      "indicator_id": pl.String, "direction": pl.String, "source": pl.String,
                                      "factor": pl.Float64, "value": pl.Float64, "missing_reason": pl.String,
                                      "ci_lower": pl.Float64, "ci_upper": pl.Float64, "numerator": pl.Float64,
                                      "denominator": pl.Float64, "source_table": pl.String,
                                      "stapeling_theme": pl.String, "inhabitants": pl.Float64})


def test_worst20_ties_at_the_line_and_missing():
    # Residents 100, 50, 50, 200, (300 missing), 100: 500 counted, the line at 100. The first buurt is in; the two
    # tied at 25 have exactly 100 strictly worse residents (the line is full): both out. The missing one never.
    x = [30, 25, 25, 20, np.nan, 10]
    w = [100, 50, 50, 200, 300, 100]
    assert stapeling.worst20(x, w, True).tolist() == [True, False, False, False, False, False]
    # With 80 residents in the first, the line is at 96: the tied pair has 80 strictly worse, so both are in,
    # although together they reach 180 residents (ties go in or out together).
    w2 = [80, 50, 50, 200, 300, 100]
    assert stapeling.worst20(x, w2, True).tolist() == [True, True, True, False, False, False]
    # Higher is better: the lowest values are the worst-off; 10 (100 residents) is in, 20 has 100 > 96 worse: out.
    assert stapeling.worst20(x, w2, False).tolist() == [False, False, False, False, False, True]
    # Draws: each row on its own, the same rule.
    both = stapeling.worst20(np.array([x, x]), w2, True)
    assert both.shape == (2, 6) and both[1].tolist() == [True, True, True, False, False, False]


def row(table, code, scope="gemeente"):
    (r,) = table.filter((pl.col("area_code") == code) & (pl.col("scope") == scope)).to_dicts()
    return r


def test_counts_by_hand():
    table = stapeling.score_table(frame(), RULE)
    # i1 in GM0001: BU01..BU04 and BU07 counted (500 residents, line 100): BU01 in; BU02/BU03 tie on exactly 100
    # strictly worse: out. i2 (higher is better) over BU01..BU05: BU01 in. i3 over BU02..BU05 (400, line 80):
    # BU02/BU03 tie with 0 strictly worse: both in.
    b1 = row(table, "BU01")
    assert (b1["n_core"], b1["n_with_value"], b1["n_indicators_worst20"], b1["n_themes_worst20"]) == (3, 2, 2, 1)
    assert b1["themes_worst20"] == "t1" and b1["indicators_worst20"] == "i1;i2" and b1["n_themes_covered"] == 1
    b2 = row(table, "BU02")
    assert (b2["n_indicators_worst20"], b2["n_themes_worst20"], b2["themes_worst20"]) == (1, 1, "t2")
    assert row(table, "BU03")["indicators_worst20"] == "i3"
    b4, b5 = row(table, "BU04"), row(table, "BU05")
    assert (b4["n_indicators_worst20"], b4["n_themes_worst20"], b4["themes_worst20"]) == (0, 0, None)
    assert (b5["n_with_value"], b5["n_indicators_worst20"]) == (2, 0)
    # No score is never a 0: the counts are null and the reason is given.
    b6, b7 = row(table, "BU06"), row(table, "BU07")
    assert b6["score_reason"] == "no_residents" and b6["n_themes_worst20"] is None
    assert b7["score_reason"] == "coverage_below_threshold" and b7["n_indicators_worst20"] is None
    assert b7["coverage_pct"] == pytest.approx(100 / 3)
    # The whole core set counts, also the indicators without a row: 1 of 3, no score.
    b12 = row(table, "BU12")
    assert (b12["n_core"], b12["n_with_value"], b12["score_reason"]) == (3, 1, "coverage_below_threshold")
    assert b12["n_themes"] == 2 and b12["n_themes_covered"] == 1
    # BU11 (GM0002: 200 residents on i1, line 40; alone on i2 and i3) is its own worst-off 20% on everything.
    assert row(table, "BU11")["n_indicators_worst20"] == 3 and row(table, "BU11")["n_themes_worst20"] == 2
    # Among all buurten (700 residents on i1, 600 on i2: lines 140, 120): BU11 and BU01 are in on i1 and i2; on i3
    # (500, line 100) BU11 is worst and BU02/BU03 have exactly 100 strictly worse: out.
    assert row(table, "BU01", "warehouse")["indicators_worst20"] == "i1;i2"
    assert row(table, "BU02", "warehouse")["n_indicators_worst20"] == 0
    assert row(table, "BU11", "warehouse")["n_themes_worst20"] == 2


def test_share_measure_by_hand():
    measures = stapeling.share_measures(stapeling.score_table(frame(), RULE), RULE)
    (gm1,) = measures.filter(pl.col("gemeente_code") == "GM0001").to_dicts()
    # Scored: BU01..BU05 (500 residents); worst-off on >= 1 theme: BU01, BU02, BU03 (300).
    assert (gm1["n_areas"], gm1["n_dropped"], gm1["weight_total"]) == (5, 2, 500)
    assert gm1["stapeling_share_pct"] == pytest.approx(60.0)
    assert gm1["indicator_id"] == "stapeling" and gm1["level"] == "buurt"


def test_municipal_indicator_joins_its_gemeente_only():
    extra = frame([("BU04", "GM0001", 100, {"m1": 99}), ("BU02", "GM0001", 100, {"m1": 1}),
                   ("BU03", "GM0001", 100, {"m1": None})]).to_dicts()
    table = stapeling.score_table(frame(extra=extra), RULE)
    b4 = row(table, "BU04")
    # m1 joins theme t2 in GM0001: BU04 is the worst-off on it (300 residents valued, line 60), so t2 counts.
    assert (b4["n_core"], b4["n_indicators_worst20"], b4["themes_worst20"]) == (4, 1, "t2")
    # A suppressed (missing) municipal figure is just missing: BU03 has 3 of 4 values.
    assert row(table, "BU03")["n_with_value"] == 3
    # Among all buurten the municipal figure does not exist elsewhere, so it does not join there.
    assert row(table, "BU04", "warehouse")["n_core"] == 3
    assert row(table, "BU11")["n_core"] == 3


def reference_weighted_spearman(x, y, w):
    """Independent: ranks by explicit pairwise comparison, then numpy's weighted covariance."""
    x, y, w = (np.asarray(a, dtype=float) for a in (x, y, w))

    def ranks(v):
        return np.array([w[v < vi].sum() + w[v == vi].sum() / 2 for vi in v])

    cov = np.cov(ranks(x), ranks(y), aweights=w)
    return cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])


@pytest.mark.parametrize("seed", range(6))
def test_weighted_spearman_against_independent(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    x = rng.normal(size=n)
    y = 0.6 * x + rng.normal(size=n)
    if seed % 2:  # ties, as rounded CBS figures have
        x, y = np.round(x, 1), np.round(y)
    w = rng.integers(5, 3000, size=n).astype(float)
    assert stapeling.weighted_spearman(x, y, w) == pytest.approx(reference_weighted_spearman(x, y, w), abs=1e-12)
    # Equal weights: exactly scipy's Spearman (mid-ranks for ties).
    assert stapeling.weighted_spearman(x, y, np.ones(n)) == pytest.approx(scipy.stats.spearmanr(x, y).statistic,
                                                                          abs=1e-12)


def test_weighted_spearman_no_variation():
    assert stapeling.weighted_spearman([1, 1, 1, 1], [1, 2, 3, 4], [1, 2, 3, 4]) is None


def test_samenhang_marks_too_few_buurten():
    table = stapeling.samenhang_table(frame(), RULE)
    gm2 = table.filter(pl.col("gemeente_code") == "GM0002")
    assert set(gm2["status"]) == {"too_few_buurten"} and gm2["rho"].null_count() == gm2.height
    (pair,) = table.filter((pl.col("gemeente_code") == "GM0001") & (pl.col("indicator_a") == "i1")
                           & (pl.col("indicator_b") == "i2")).to_dicts()
    # BU01..BU04 have both values and residents (BU06 none, BU05/BU07 one value): i1 oriented as is, i2 negated.
    assert pair["n_buurten"] == 4 and pair["status"] == "computed"
    expected = reference_weighted_spearman([9, 5, 5, 1], [-1, -2, -3, -4], [100, 100, 100, 100])
    assert pair["rho"] == pytest.approx(expected)


def test_catalogue_rule():
    rule = catalogue.stapeling()
    by_id = catalogue.by_id()
    assert all(by_id[i].direction != "neutral" for i in rule.theme_of)
    assert {"moeite_met_rondkomen", "veel_stress", "ernstig_eenzaam", "ervaren_gezondheid_goed"} <= set(rule.samenhang)
    inds = catalogue.indicators()
    base = {"min_coverage_pct": 75, "min_buurten": 10, "min_themes": 2, "samenhang": ["eenzaam", "veel_stress"],
            "themes": {"a": {"name_nl": "A", "indicators": ["eenzaam"]},
                       "b": {"name_nl": "B", "indicators": ["veel_stress"]}}}
    assert catalogue.parse_stapeling(base, inds).min_themes == 2
    with pytest.raises(CatalogueError, match="direction neutral"):
        catalogue.parse_stapeling({**base, "themes": {**base["themes"], "c": {"name_nl": "C",
                                                                           "indicators": ["woz_waarde"]}}}, inds)
    with pytest.raises(CatalogueError, match="one theme each"):
        catalogue.parse_stapeling({**base, "themes": {**base["themes"], "c": {"name_nl": "C",
                                                                           "indicators": ["eenzaam"]}}}, inds)
    with pytest.raises(CatalogueError, match="min_themes"):
        catalogue.parse_stapeling({**base, "min_themes": 3}, inds)


DECLARATION = """
gemeente: GM9901
indicators:
  - id: schuldhulp_pct
    name_nl: Huishoudens in schuldhulp
    name_en: Households in debt counselling
    theme: materiele_welvaart
    kind: {kind}
    unit: {unit}
    direction: higher_is_worse
    level: buurt
    definition_nl: Het percentage huishoudens met schuldhulp.
    stapeling_theme: {theme}
"""


def test_declaration_field_joins_a_theme_with_a_clear_error():
    from bwm.municipal.declaration import parse_yaml

    (decl,), findings = parse_yaml("s.csv", DECLARATION.format(kind="rate", unit="pct", theme="armoede"), frozenset())
    assert not findings and decl.stapeling_theme == "armoede"
    _, findings = parse_yaml("s.csv", DECLARATION.format(kind="rate", unit="pct", theme="schulden"), frozenset())
    (f,) = findings
    assert f.column.endswith("stapeling_theme") and "armoede" in f.expected and "schulden" in f.found
    _, findings = parse_yaml("s.csv", DECLARATION.format(kind="count", unit="count", theme="armoede"), frozenset())
    (f,) = findings
    assert "a rate (kind rate)" in f.expected and "count" in f.found
