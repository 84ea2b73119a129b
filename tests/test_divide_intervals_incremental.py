"""divide.intervals is recomputed only for the gemeenten whose input rows changed (pipelines.defs.divide.uncertainty),
and gives the numbers a full computation gives; the draws give the same numbers in one process or two."""

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bwm.divide import uncertainty as u
from pipelines.defs.divide.uncertainty import refresh_intervals
from tests.test_divide_uncertainty import HEALTH, _inputs, _measures, _values

INTERVAL_KEYS = ["gemeente_code", "year", "level", "indicator_id", "measure"]
CHANGE_KEYS = ["gemeente_code", "level", "indicator_id", "measure"]


def _case(seed: int, gemeente: str) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return _inputs(HEALTH, {2016: _values(rng), 2020: _values(rng), 2022: _values(rng, spread=14.0)}, 6.0,
                   gemeente=gemeente)


def _load(con, inputs: pl.DataFrame) -> None:
    con.execute("create schema if not exists divide")
    for name, frame in (("inputs", inputs), ("measures", _measures(inputs))):
        con.register("_f", frame)
        con.execute(f"create or replace table divide.{name} as select * from _f")
        con.unregister("_f")


def _tables(con) -> tuple[pl.DataFrame, pl.DataFrame]:
    return (con.execute("select * from divide.intervals").pl().sort(INTERVAL_KEYS),
            con.execute("select * from divide.change_intervals").pl().sort(CHANGE_KEYS))


@pytest.fixture()
def con():
    with duckdb.connect(":memory:") as c:
        yield c


def test_only_changed_gemeenten_are_recomputed_and_the_result_is_a_full_computation(con):
    one, two = _case(1, "GM0001"), _case(2, "GM0002")
    _load(con, pl.concat([one, two]))
    first = refresh_intervals(con, workers=1)
    assert first["full"] and first["gemeenten_computed"] == 2
    before = _tables(con)
    assert set(before[0]["gemeente_code"]) == {"GM0001", "GM0002"}

    again = refresh_intervals(con, workers=1)  # nothing changed: nothing drawn, tables as they were
    assert (again["full"], again["gemeenten_computed"], again["gemeenten_kept"]) == (False, 0, 2)
    assert_frame_equal(_tables(con)[0], before[0])
    assert_frame_equal(_tables(con)[1], before[1])

    # One figure of GM0002 changes: GM0002 is drawn again, GM0001 keeps its rows, and the tables are what a full
    # computation of the new inputs gives, number for number.
    changed = two.with_columns(pl.when(pl.col("area_code") == "BU0003").then(pl.col(c) * 0.9).otherwise(pl.col(c))
                               .alias(c) for c in ("value", "ci_lower", "ci_upper"))
    _load(con, pl.concat([one, changed]))
    third = refresh_intervals(con, workers=1)
    assert (third["full"], third["gemeenten_computed"], third["gemeenten_kept"]) == (False, 1, 1)
    full_i, full_c = u.compute_intervals(pl.concat([one, changed]), _measures(pl.concat([one, changed])))
    got_i, got_c = _tables(con)
    assert_frame_equal(got_i, full_i.sort(INTERVAL_KEYS), check_exact=True)
    assert_frame_equal(got_c, full_c.sort(CHANGE_KEYS), check_exact=True)
    assert not got_i.filter(pl.col("gemeente_code") == "GM0002").equals(
        before[0].filter(pl.col("gemeente_code") == "GM0002"))
    assert_frame_equal(got_i.filter(pl.col("gemeente_code") == "GM0001"),
                       before[0].filter(pl.col("gemeente_code") == "GM0001"))

    # GM0002 is gone: its rows go, GM0001 is not drawn again.
    _load(con, one)
    fourth = refresh_intervals(con, workers=1)
    assert (fourth["gemeenten_computed"], fourth["gemeenten_removed"]) == (0, 1)
    assert set(_tables(con)[0]["gemeente_code"]) == {"GM0001"}
    assert set(_tables(con)[1]["gemeente_code"]) == {"GM0001"}


def test_a_missing_state_computes_everything(con):
    _load(con, _case(1, "GM0001"))
    refresh_intervals(con, workers=1)
    con.execute("drop table ops.interval_state")
    assert refresh_intervals(con, workers=1)["full"]


def test_two_processes_give_the_same_numbers(monkeypatch):
    both = pl.concat([_case(1, "GM0001"), _case(2, "GM0002"), _case(3, "GM0003")])
    monkeypatch.setattr(u, "ROWS_PER_CHUNK", 1)  # one chunk per series: three chunks
    monkeypatch.setattr(u, "PARALLEL_FROM_CHUNKS", 2)
    one_i, one_c = u.compute_intervals(both, _measures(both), workers=1)
    two_i, two_c = u.compute_intervals(both, _measures(both), workers=2)
    assert_frame_equal(one_i, two_i, check_exact=True)
    assert_frame_equal(one_c, two_c, check_exact=True)
    assert one_i.height == 3 * 3 * 4


def test_the_stapeling_share_is_redrawn_with_its_gemeente_on_the_demo_warehouse(demo_warehouse, tmp_path):
    """The derived stapeling share (bwm.stapeling) is drawn in the same step: a gemeente whose state is gone is
    drawn again, stapeling rows included, and the result is the full computation's, number for number."""
    import shutil

    path = tmp_path / "bwm.duckdb"
    shutil.copyfile(demo_warehouse["warehouse"], path)
    with duckdb.connect(str(path)) as c:
        before = _tables(c)
        assert before[0].filter(pl.col("indicator_id") == "stapeling").height > 0
        kept = refresh_intervals(c, workers=1)  # the demo's own state: nothing to draw
        assert (kept["full"], kept["gemeenten_computed"]) == (False, 0)
        c.execute("delete from ops.interval_state where gemeente_code = 'GM9901'")
        c.execute("delete from divide.intervals where gemeente_code = 'GM9901'")
        c.execute("delete from divide.change_intervals where gemeente_code = 'GM9901'")
        redone = refresh_intervals(c, workers=1)
        assert (redone["full"], redone["gemeenten_computed"]) == (False, 1)
        after = _tables(c)
    assert after[0].filter((pl.col("gemeente_code") == "GM9901") & (pl.col("indicator_id") == "stapeling")).height > 0
    assert_frame_equal(after[0], before[0])
    assert_frame_equal(after[1], before[1])
