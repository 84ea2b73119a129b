import re

import pytest

from bwm.settings import (
    KWB_YEARS,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    parse_memory,
    parse_municipalities,
    parse_years,
)


def test_defaults_point_inside_the_project():
    s = Settings.from_env({})
    assert s.source == "demo"
    assert s.warehouse_path == PROJECT_ROOT / "data" / "warehouse" / "bwm.duckdb"
    assert s.mirror_dir == PROJECT_ROOT / "data" / "mirror" / "demo"
    assert s.years == KWB_YEARS
    assert s.municipalities == ()


def test_municipalities_are_normalised():
    assert parse_municipalities(" gm0344, 518;GM0344 ") == ("GM0344", "GM0518")
    with pytest.raises(SettingsError, match="BWM_MUNICIPALITIES: 'Utrecht' is not a gemeente code"):
        parse_municipalities("Utrecht")


def test_years_ranges_and_unknown_years():
    assert parse_years("2019-2021,2024") == (2019, 2020, 2021, 2024)
    with pytest.raises(SettingsError, match=r"no KWB table is known for \[2011\]"):
        parse_years("2011")
    with pytest.raises(SettingsError, match="not a year"):
        parse_years("twenty")


def test_bad_source_says_what_is_allowed():
    with pytest.raises(SettingsError, match="BWM_SOURCE='cloud' is not one of demo, mirror, live"):
        Settings.from_env({"BWM_SOURCE": "cloud"})


def test_readme_documents_every_variable():
    """The README's configuration table and the code name the same BWM_ variables."""
    sources = [*(PROJECT_ROOT / "bwm").rglob("*.py"), *(PROJECT_ROOT / "pipelines").rglob("*.py"),
               PROJECT_ROOT / "tests" / "conftest.py"]
    code = {name for path in sources for name in re.findall(r'"(BWM_[A-Z_]+)"', path.read_text())}
    readme = (PROJECT_ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(BWM_[A-Z_]+)`", readme, flags=re.M))
    assert code - documented == set(), "undocumented in README"
    assert documented - code == set(), "documented but unused"


def test_duckdb_memory_limit_is_validated_and_applied(tmp_path, monkeypatch):
    assert parse_memory("", "3GB") == "3GB" and Settings.from_env({}).duckdb_memory == "3GB"
    assert parse_memory(" 512 MiB ", "2GB") == "512MiB"
    with pytest.raises(SettingsError, match="BWM_DUCKDB_MEMORY: 'lots' is not a memory size"):
        parse_memory("lots", "2GB")
    with pytest.raises(SettingsError, match="not a memory size"):
        Settings.from_env({"BWM_DUCKDB_MEMORY": "0GB"})

    from bwm import warehouse

    memory = Settings.from_env({"BWM_DUCKDB_MEMORY": "300MB"}).duckdb_memory
    with warehouse.connect(tmp_path / "w.duckdb", memory_limit=memory) as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") in ("286.1MiB", "300.0MB", "286.0MiB"), limit


def test_running_out_of_duckdb_memory_says_which_table_and_what_to_set(tmp_path, monkeypatch):
    from bwm import warehouse

    with warehouse.connect(tmp_path / "w.duckdb", memory_limit="30MB") as con:
        warehouse.create_table_from_sql(con, "staging", "big", "select 1 as s")
        with pytest.raises(warehouse.WarehouseError) as err:  # one huge string: nothing DuckDB can spill
            warehouse.create_table_from_sql(
                con, "staging", "big", "select string_agg(md5(range::varchar), ',') as s from range(3000000)")
        assert con.execute("select s from staging.big").fetchall() == [(1,)]  # the previous table stays
    text = str(err.value)
    assert "ran out of memory writing staging.big (BWM_DUCKDB_MEMORY=28.6 MiB)" in text  # DuckDB's own words
    assert "Set BWM_DUCKDB_MEMORY higher" in text


def test_a_failed_step_is_reported_by_its_innermost_cause():
    from dagster._utils.error import SerializableErrorInfo

    from pipelines.ops.progress import failure_text

    cause = SerializableErrorInfo("bwm.warehouse.WarehouseError: DuckDB ran out of memory writing x.y\n", [],
                                  "WarehouseError")
    error = SerializableErrorInfo('dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while '
                                  'executing op "indicators__values":\n', [], "DagsterExecutionStepExecutionError",
                                  cause=cause)
    assert failure_text(error) == "WarehouseError: DuckDB ran out of memory writing x.y"
    assert failure_text(None) == "unknown error"


def test_health_table_and_catalogue_hosts():
    s = Settings.from_env({})
    assert (s.health_table, s.cbs_base_url, s.cbs_dataderden_url) == (
        "50120NED", "https://opendata.cbs.nl", "https://dataderden.cbs.nl")
    s = Settings.from_env({"BWM_HEALTH_TABLE": "50090ned", "BWM_CBS_DATADERDEN_URL": "http://127.0.0.1:9/"})
    assert (s.health_table, s.cbs_dataderden_url) == ("50090NED", "http://127.0.0.1:9")
    with pytest.raises(SettingsError, match="50120NED: Gezondheid per wijk en buurt"):
        Settings.from_env({"BWM_HEALTH_TABLE": "83674NED"})
