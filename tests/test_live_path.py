"""The live CBS path end to end: the refresh job with BWM_SOURCE=live against the replay server.

The replay server serves the demo mirror as the CBS OData feed on 127.0.0.1; the job downloads through
cbsodata (filtered to one municipality), writes a new mirror, and builds a warehouse whose staging must
equal the demo warehouse's for that municipality.
"""

import duckdb
import pytest
from pipeline_run import run_refresh_in_process

from bwm.cbs import replay

GEMEENTE = "GM9902"


def _run_refresh(env: dict):
    return run_refresh_in_process(env, raise_on_error=False)


@pytest.fixture(scope="module")
def live_run(demo_warehouse, tmp_path_factory):
    base = tmp_path_factory.mktemp("live")
    # One server per CBS catalogue, as CBS has them: the KWB tables on opendata, 50120NED on dataderden only.
    with replay.serve_catalogs(demo_warehouse["mirror"]) as servers:
        server = servers["opendata"]
        env = {
            "BWM_SOURCE": "live",
            **replay.catalog_env(servers),
            "BWM_MUNICIPALITIES": GEMEENTE,
            "BWM_MIRROR_DIR": str(base / "mirror"),
            "BWM_WAREHOUSE": str(base / "bwm.duckdb"),
            "BWM_HTTP_TIMEOUT": "10",
            "BWM_SITE_DIR": str(base / "site"),
            # boundaries are asked of the replay server too (it has none: 404), so nothing leaves the machine
            "BWM_GEO_BASE_URL": server.base_url,
        }
        first = _run_refresh(env)
        first_requests = {name: len(s.requests) for name, s in servers.items()}
        data_requests_first = [r for s in servers.values() for r in s.requests if "DataSet" in str(r)]
        second = _run_refresh(env)
        data_requests_second = [r for name, s in servers.items() for r in s.requests[first_requests[name]:]
                                if "DataSet" in str(r)]
        health_paths = {name: [r["path"] for r in s.requests if "50120NED" in r["path"]] for name, s in servers.items()}
    return {"first": first, "second": second, "warehouse": base / "bwm.duckdb", "health_paths": health_paths,
            "data_requests_second": data_requests_second, "data_requests_first": data_requests_first,
            "demo": demo_warehouse["warehouse"]}


def test_live_refresh_succeeds(live_run):
    assert live_run["first"].success
    assert live_run["second"].success


def test_only_the_chosen_municipality_is_downloaded(live_run):
    with duckdb.connect(str(live_run["warehouse"]), read_only=True) as con:
        codes = {r[0] for r in con.execute("select distinct gemeente_code from staging.areas "
                                           "where area_level <> 'land'").fetchall()}
        regions = con.execute("select count(*) from raw.kwb_2024").fetchone()[0]
    assert codes == {GEMEENTE}
    assert regions > 10


def test_staging_equals_the_demo_for_that_municipality(live_run):
    query = ("select year, area_code, variable, value from staging.kwb where gemeente_code = ? "
             "order by year, area_code, variable")
    with duckdb.connect(str(live_run["warehouse"]), read_only=True) as live, \
            duckdb.connect(str(live_run["demo"]), read_only=True) as demo:
        live_rows = live.execute(query, [GEMEENTE]).fetchall()
        demo_rows = demo.execute(query, [GEMEENTE]).fetchall()
        live_health = live.execute("select count(*), count(value) from staging.health "
                                   "where gemeente_code = ?", [GEMEENTE]).fetchone()
        demo_health = demo.execute("select count(*), count(value) from staging.health "
                                   "where gemeente_code = ?", [GEMEENTE]).fetchone()
    assert len(live_rows) > 1000
    assert live_rows == demo_rows
    assert live_health == demo_health


def test_health_is_asked_of_the_dataderden_host_only(live_run):
    """RIVM's health table lives in CBS's third-party catalogue; the main host does not serve it."""
    assert live_run["health_paths"]["dataderden"]
    assert live_run["health_paths"]["opendata"] == []
    with duckdb.connect(str(live_run["warehouse"]), read_only=True) as con:
        land = con.execute("select count(*) from staging.areas where area_level = 'land'").fetchone()[0]
    assert land == 12  # the national row of every KWB year comes along with the municipality


def test_second_refresh_skips_unchanged_tables(live_run):
    """CBS's Modified is unchanged, so the second run downloads no data set at all."""
    assert len(live_run["data_requests_first"]) >= 13  # 12 KWB years + health, at least one page each
    assert live_run["data_requests_second"] == []
