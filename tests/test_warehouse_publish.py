"""The refresh writes a working copy and publishes it over BWM_WAREHOUSE; readers keep their snapshot."""

from __future__ import annotations

import duckdb
import pytest

from bwm import warehouse
from bwm.settings import Settings


def _table(path, value):
    with duckdb.connect(str(path)) as con:
        con.execute("create or replace table t as select ? as v", [value])


def test_the_working_copy_starts_from_the_published_warehouse(tmp_path):
    published = tmp_path / "bwm.duckdb"
    _table(published, 1)
    work = warehouse.working_path(published)
    assert work.name == ".bwm.duckdb.refresh" and not work.exists()
    with warehouse.connect(work) as con:
        assert con.execute("select v from t").fetchone() == (1,)
        con.execute("update t set v = 2")
    with duckdb.connect(str(published), read_only=True) as con:  # the published file is untouched
        assert con.execute("select v from t").fetchone() == (1,)


def test_publish_swaps_in_the_working_copy_while_a_reader_keeps_its_snapshot(tmp_path):
    settings = Settings(warehouse_path=tmp_path / "bwm.duckdb")
    _table(settings.warehouse_path, 1)
    with warehouse.connect(settings.work_warehouse_path) as con:
        con.execute("update t set v = 2")
    reader = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert reader.execute("select v from t").fetchone() == (1,)
        # The writer never needs a lock on the file the reader holds: publishing is a copy and a rename.
        published = warehouse.publish(settings)
        assert published["path"] == str(settings.warehouse_path) and published["bytes"] > 0
        assert reader.execute("select v from t").fetchone() == (1,)  # its snapshot
    finally:
        reader.close()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:  # a new reader sees the refresh
        assert con.execute("select v from t").fetchone() == (2,)
    assert not list(tmp_path.glob(".bwm.duckdb.*.tmp"))


def test_publishing_without_a_working_copy_says_what_to_do(tmp_path):
    with pytest.raises(warehouse.WarehouseError, match="run the whole refresh"):
        warehouse.publish(Settings(warehouse_path=tmp_path / "bwm.duckdb"))
