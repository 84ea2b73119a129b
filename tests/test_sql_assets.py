"""The SQL factory (pipelines/sql.py): a SQL file is an asset, named by its file, depending on what it reads."""

import dagster as dg
import duckdb
import pytest

from bwm.settings import Settings
from pipelines.resources import BwmResource
from pipelines.sql import SqlFile, sql_asset, sql_assets, sql_params


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.sql"
    path.write_text(text, encoding="utf-8")
    return SqlFile(path)


def test_key_deps_params_and_description_come_from_the_file(tmp_path):
    sql = _write(tmp_path / "indicators", "shares", """-- indicators.shares: one row per (year, area_code).
-- Reads staging.kwb (this mention in a comment is no dependency: raw.kwb_2020).
with kwb as (select * from staging.kwb), areas as (select * from staging.areas)
select kwb.year, kwb.area_code, count(*) as n
from kwb join areas using (year, area_code)
where list_contains($municipalities, areas.gemeente_code) or len($municipalities) = 0
  and kwb.area_code in (select area_code from indicators.shares_before)
group by all
""")
    assert sql.key == dg.AssetKey(["indicators", "shares"])
    assert [k.to_user_string() for k in sql.reads] == ["indicators/shares_before", "staging/areas", "staging/kwb"]
    assert sql.params == ["municipalities"]
    assert sql.description.startswith("indicators.shares: one row per (year, area_code).\nReads staging.kwb")
    assert not sql.is_view
    asset = sql_asset(sql)
    assert asset.key == sql.key and asset.group_names_by_key[sql.key] == "indicators"
    assert set(asset.asset_deps[sql.key]) == set(sql.reads)


def test_a_file_reading_itself_does_not_depend_on_itself(tmp_path):
    sql = _write(tmp_path / "staging", "x", "select * from staging.x_old union all select 1 from staging.x where false")
    assert sql.reads == [dg.AssetKey(["staging", "x_old"])]


def test_adding_a_file_adds_an_asset_that_materialises_the_table(tmp_path):
    folder = tmp_path / "staging"
    _write(folder, "numbers", "-- staging.numbers: one row per number.\nselect range as n from range(3)")
    _write(folder, "evens", "-- materialize: view\n-- staging.evens: the even numbers.\n"
                            "select n from staging.numbers where n % 2 = 0")
    assets = sql_assets(folder)
    assert [a.key.to_user_string() for a in assets] == ["staging/evens", "staging/numbers"]
    warehouse_path = tmp_path / "wh" / "bwm.duckdb"
    bwm = BwmResource(environ={"BWM_WAREHOUSE": str(warehouse_path)})
    result = dg.materialize(assets, resources={"bwm": bwm})
    assert result.success
    numbers = result.asset_materializations_for_node("staging__numbers")[0].metadata
    assert numbers["rows"].value == 3
    con = duckdb.connect(str(bwm.settings.work_warehouse_path), read_only=True)
    try:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables "
                                 "where table_schema = 'staging'").fetchall())
        assert kinds == {"numbers": "BASE TABLE", "evens": "VIEW"}
        assert con.execute("select n from staging.evens order by n").fetchall() == [(0,), (2,)]
    finally:
        con.close()


def test_parameters_come_from_the_settings():
    params = sql_params(Settings.from_env({"BWM_MUNICIPALITIES": "GM0344", "BWM_HEALTH_TABLE": "50090NED"}))
    assert params == {"municipalities": ["GM0344"], "table_id": "50090NED"}


def test_a_resource_carries_exactly_the_settings_it_was_given(tmp_path):
    settings = Settings.from_env({"BWM_SOURCE": "mirror", "BWM_MIRROR_DIR": str(tmp_path / "m"),
                                  "BWM_YEARS": "2019-2021", "BWM_REFRESH_CRON": "30 3 * * *"})
    assert BwmResource.of(settings).settings == settings
    assert Settings.from_env(settings.to_env()) == settings


def test_a_bad_cron_is_refused_with_an_example():
    with pytest.raises(ValueError, match="five fields, e.g. '0 2"):
        Settings.from_env({"BWM_REFRESH_CRON": "every night"})
