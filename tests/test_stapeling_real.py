"""Stapeling on CBS's real tables: the national health table 50090NED (2012/2016/2020) with the real national KWB 2020
(the March 2021 partial release: no income figures yet), through mirror, raw, staging and the indicators layer.

Nothing real is stored here (tests/realdata.py writes the mirror under a temporary folder). Every gemeente with buurt
figures gets a stapeling table and a samenhang matrix without NaN, and the share measure lies in 0-100. The run of the
indicators layer over the whole country takes minutes, so this is an acceptance test (``make test-real``).
"""

from __future__ import annotations

import math
import time

import duckdb
import polars as pl
import pytest
import realdata
from pipeline_run import run_refresh_in_process

from bwm import catalogue, stapeling, warehouse

pytestmark = [pytest.mark.real_data, pytest.mark.acceptance, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def real(cbs_real, tmp_path_factory) -> dict:
    from pipelines.definitions import defs

    base = tmp_path_factory.mktemp("stapeling-real")
    mirror_dir = base / "mirror"
    table_id, modified, files = realdata.kwb2020_national_files(cbs_real)
    realdata.write_files(mirror_dir, table_id, files, modified=modified)
    realdata.write_files(mirror_dir, realdata.REAL_HEALTH_TABLE_ID, realdata.health_table_files(cbs_real))
    (base / "municipal").mkdir()
    env = {"BWM_SOURCE": "mirror", "BWM_MIRROR_DIR": str(mirror_dir), "BWM_YEARS": "2020",
           "BWM_WAREHOUSE": str(base / "bwm.duckdb"), "BWM_DAGSTER_STORAGE": str(base / "dagster"),
           "BWM_HEALTH_TABLE": realdata.REAL_HEALTH_TABLE_ID, "BWM_MUNICIPAL_DIR": str(base / "municipal")}
    selection = [key for key in defs.resolve_all_asset_keys()
                 if key.path[0] in ("mirror", "raw", "staging", "indicators", "municipal")]
    run_refresh_in_process(env, asset_selection=selection)
    con = duckdb.connect(str(warehouse.working_path(base / "bwm.duckdb")), read_only=True)
    yield {"con": con, "inputs": con.execute("select * from indicators.stapeling_inputs").pl(),
           "scores": con.execute("select * from indicators.stapeling").pl(),
           "samenhang": con.execute("select * from indicators.samenhang").pl()}
    con.close()


def test_every_gemeente_gets_a_stapeling_table(real):
    scores, inputs = real["scores"], real["inputs"]
    gemeenten = set(inputs.filter((pl.col("year") == 2020) & pl.col("value").is_not_null())["gemeente_code"])
    assert len(gemeenten) > 300
    scored = scores.filter((pl.col("year") == 2020) & (pl.col("scope") == "gemeente")
                           & pl.col("score_reason").is_null())
    assert set(scored["gemeente_code"]) == gemeenten
    # Scored rows have their counts; unscored ones their reason, never a silent 0.
    assert scored.select(pl.col("n_themes_worst20").null_count(), pl.col("n_indicators_worst20").null_count()).row(0) \
        == (0, 0)
    assert scores.filter(pl.col("score_reason").is_not_null())["n_themes_worst20"].null_count() == \
        scores.filter(pl.col("score_reason").is_not_null()).height
    # 2012 and 2016 have health figures but no KWB here: too little coverage (or no residents), with the reason.
    early = scores.filter(pl.col("year") < 2020)
    assert early.height and early["score_reason"].null_count() == 0
    assert early["score_reason"].value_counts().sort("count")["score_reason"][-1] == "coverage_below_threshold"
    # Within each gemeente and indicator at most ~20% of the residents (plus the straddling buurt) are flagged, so
    # buurten on every theme are a small part.
    n_themes = len(catalogue.stapeling().themes)
    assert scored["n_themes_worst20"].max() <= n_themes


def test_every_gemeente_gets_a_samenhang_matrix_without_nan(real):
    rule = catalogue.stapeling()
    matrix = real["samenhang"].filter(pl.col("year") == 2020)
    gemeenten = set(real["scores"].filter(pl.col("year") == 2020)["gemeente_code"])
    assert set(matrix["gemeente_code"]) == gemeenten
    pairs = len(rule.samenhang) * (len(rule.samenhang) - 1) // 2
    assert matrix.group_by("gemeente_code").len()["len"].unique().to_list() == [pairs]
    computed = matrix.filter(pl.col("status") == "computed")
    assert computed.height > 0.5 * matrix.height
    assert all(r is not None and math.isfinite(r) and -1 <= r <= 1 for r in computed["rho"])
    # Where the inputs exist (enough buurten with both values), a correlation is given, unless one is constant.
    enough = matrix.filter(pl.col("n_buurten") >= rule.min_buurten)
    assert set(enough["status"]) <= {"computed", "no_variation"}
    assert enough.filter(pl.col("status") == "no_variation").height < 0.01 * enough.height
    few = matrix.filter(pl.col("n_buurten") < rule.min_buurten)
    assert set(few["status"]) <= {"too_few_buurten"} and few["rho"].null_count() == few.height
    # The incomes of the partial release are not published yet: the pairs with low income are not computed.
    assert set(matrix.filter(pl.col("indicator_b") == "huishoudens_laag_inkomen")["status"]) <= {"too_few_buurten"}


def test_share_measure_lies_in_0_100_and_its_interval_cost(real):
    shares = stapeling.share_measures(real["scores"])
    in_2020 = shares.filter(pl.col("year") == 2020)
    assert in_2020.height > 300
    assert in_2020["stapeling_share_pct"].null_count() == 0
    assert in_2020["stapeling_share_pct"].is_between(0, 100).all()
    assert in_2020["stapeling_share_pct"].mean() > 0
    # The intervals of 20 gemeenten, timed: the national cost is estimated from them (README).
    sample = sorted(in_2020["gemeente_code"].to_list())[::17][:20]
    started, cpu = time.perf_counter(), time.process_time()
    intervals, _ = stapeling.share_intervals(real["inputs"].filter(pl.col("gemeente_code").is_in(sample)),
                                             real["scores"], in_2020.filter(pl.col("gemeente_code").is_in(sample)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"stapeling intervals: {len(sample)} gemeenten in {seconds:.1f} s ({cpu:.1f} s CPU; "
          f"~{cpu / len(sample) * in_2020.height:.0f} s CPU for {in_2020.height} gemeenten, one year)")
    assert intervals.height == len(sample)
    assert (intervals["ci_low"] <= intervals["value"] + 1e-9).all() and (intervals["value"] <= intervals["ci_high"]
                                                                       + 1e-9).all()
    assert intervals["ci_low"].min() >= 0 and intervals["ci_high"].max() <= 100
    assert intervals["n_draws"].min() == 1000
