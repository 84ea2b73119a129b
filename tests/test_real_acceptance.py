"""Acceptance on CBS's real tables: the whole refresh, as a municipality would run it tonight.

Each scenario builds a mirror from the real files in ``../shared/cbs-real`` (at test time, in a temporary
folder; nothing real is stored in the repository), serves it with ``bwm mirror serve`` as CBS does, one
server per catalogue host (KWB on the opendata host, the health table on the dataderden host), and runs
``bwm run`` with ``BWM_SOURCE=live``: cbsodata downloads through the replay servers into a fresh mirror,
then every layer is built, with every check, up to the site and the exports.

* (a) the real whole-country KWB 2020 in its first release (March 2021, a partial release) with the real
  national health table 50090NED (2012/2016/2020);
* (b) Amsterdam 2017, 2019 and 2021 (StatLine exports mapped to their keys, and the 22-column 2021 file),
  with Utrecht's and Den Haag's 2019 and 2021 rows: a multi-year trend on real rows;
* (c) one municipality (Utrecht) filtered out of (a), as ``BWM_MUNICIPALITIES=GM0344`` downloads it;
* (d) KWB 2024 from StatLine's own CSV export of the whole country (population by age), mapped to the real
  85984NED DataProperties by title and unit, for Utrecht, Helmond and Groningen.

Not taken through the pipeline, and why: the 2015 Amsterdam income export names its regions but has no region
codes (nothing to join on); 83674NED and 85012NED are regional health monitors (GGD regions and gemeenten, no
wijken or buurten); the kwb-2023/2024 spreadsheets, the SES-WOA and nabijheid files are not tables the monitor
reads. The Den Haag and Utrecht 2019 and 2021 files join (b).

Run with ``make test-real`` (CI runs it); skipped when ``../shared`` is absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import realdata

ROOT = Path(__file__).resolve().parents[1]

# Each scenario is a whole refresh (the national one renders 28,703 pages): more than the default 300 s per test.
pytestmark = [pytest.mark.real_data, pytest.mark.acceptance, pytest.mark.timeout(1800)]

BWM = [sys.executable, "-m", "pipelines.cli"]
OTHERS_2019 = ("0344", "0518")  # Utrecht, Den Haag
KWB_2024 = "85984NED_2024_NL_bevolking-leeftijd_statline.csv.gz"
AMSTERDAM_FILES = {
    2017: "83765NED_2017_GM0363_amsterdam_statline-R.csv.gz",
    2019: "84583NED_2019_GM0363_amsterdam_statline-R.csv.gz",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``bwm mirror serve --catalog ...`` for each CBS catalogue host, as subprocesses."""

    def __init__(self, mirror_dir: Path, log_dir: Path):
        self.procs, self.urls = [], {}
        for catalog in ("opendata", "dataderden"):
            port = _free_port()
            log = (log_dir / f"serve-{catalog}.log").open("w")
            self.procs.append(subprocess.Popen(
                [*BWM, "mirror", "serve", "--mirror", str(mirror_dir), "--port", str(port), "--catalog", catalog],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))
            self.urls[catalog] = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        for url in self.urls.values():
            port = int(url.rsplit(":", 1)[1])
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"bwm mirror serve did not start on {url}") from None
                    time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=20)


def _refresh(base: Path, source_mirror: Path, extra: dict[str, str]) -> dict:
    """``bwm run`` against the served ``source_mirror``; returns paths, exit code and output."""
    served = Served(source_mirror, base)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BWM_")}
        env.update({
            "BWM_SOURCE": "live",
            "BWM_CBS_BASE_URL": served.urls["opendata"],
            "BWM_CBS_DATADERDEN_URL": served.urls["dataderden"],
            "BWM_GEO_BASE_URL": served.urls["opendata"],  # no boundaries there (404): nothing leaves the machine
            "BWM_MIRROR_DIR": str(base / "mirror"),
            "BWM_WAREHOUSE": str(base / "bwm.duckdb"),
            "BWM_SITE_DIR": str(base / "site"),
            "BWM_EXPORT_DIR": str(base / "exports"),
            "BWM_DAGSTER_STORAGE": str(base / "dagster"),
            "BWM_MUNICIPAL_DIR": str(base / "municipal"),
            "BWM_HTTP_TIMEOUT": "60",
            **extra,
        })
        (base / "municipal").mkdir(exist_ok=True)
        proc = subprocess.run([*BWM, "run"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    finally:
        served.stop()
    (base / "run.log").write_text(proc.stdout + proc.stderr)
    return {"rc": proc.returncode, "out": proc.stdout + proc.stderr, "warehouse": base / "bwm.duckdb",
            "site": base / "site", "exports": base / "exports", "base": base}


@pytest.fixture(scope="module")
def national_source(cbs_real, tmp_path_factory) -> Path:
    """The real KWB 2020 release and the real 50090NED as a source mirror (what CBS's hosts would serve)."""
    folder = tmp_path_factory.mktemp("cbs-national")
    table_id, modified, files = realdata.kwb2020_national_files(cbs_real)
    realdata.write_files(folder, table_id, files, modified=modified)
    realdata.write_files(folder, realdata.REAL_HEALTH_TABLE_ID, realdata.health_table_files(cbs_real))
    return folder


@pytest.fixture(scope="module")
def run_a(national_source, tmp_path_factory) -> dict:
    return _refresh(tmp_path_factory.mktemp("a"), national_source,
                    {"BWM_YEARS": "2020", "BWM_HEALTH_TABLE": "50090NED"})


@pytest.fixture(scope="module")
def run_c(national_source, tmp_path_factory) -> dict:
    return _refresh(tmp_path_factory.mktemp("c"), national_source,
                    {"BWM_YEARS": "2020", "BWM_HEALTH_TABLE": "50090NED", "BWM_MUNICIPALITIES": "GM0344"})


@pytest.fixture(scope="module")
def run_b(cbs_real, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("cbs-amsterdam")
    shared = cbs_real.parent  # ../shared (BWM_SHARED_DIR): the key evidence lies beside cbs-real
    retitled = {}
    for year, name in AMSTERDAM_FILES.items():
        table_id, files, retitled[year] = realdata.statline_r_files(cbs_real, shared, year, name)
        if year == 2019:  # Utrecht's (22 columns) and Den Haag's (all) real 2019 rows join the same table
            _, others = realdata.kwb_table_files(cbs_real, 2019)
            rows = [r for r in others["TypedDataSet"] if r["WijkenEnBuurten"].strip()[2:6] in OTHERS_2019]
            offset = len(files["TypedDataSet"])
            files["TypedDataSet"] += [{**r, "ID": offset + i} for i, r in enumerate(rows)]
            files["WijkenEnBuurten"] += [d for d in others["WijkenEnBuurten"]
                                         if d["DetailRegionCode"][2:6] in OTHERS_2019]
        realdata.write_files(folder, table_id, files)
    table_id, files = realdata.kwb_table_files(cbs_real, 2021)  # Amsterdam, Den Haag, Utrecht: 22 columns
    realdata.write_files(folder, table_id, files)
    realdata.write_files(folder, realdata.REAL_HEALTH_TABLE_ID, realdata.health_table_files(cbs_real))
    result = _refresh(tmp_path_factory.mktemp("b"), folder,
                      {"BWM_YEARS": "2017,2019,2021", "BWM_HEALTH_TABLE": "50090NED",
                       "BWM_MUNICIPALITIES": "GM0363,GM0344,GM0518"})
    result["retitled"] = retitled
    return result


def _con(run: dict) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(run["warehouse"]), read_only=True)


def _assert_clean_exit(run: dict) -> None:
    assert run["rc"] == 0, run["out"][-4000:]
    assert "Refresh finished" in run["out"]
    for line in run["out"].splitlines():
        assert " FAIL " not in f" {line} " and "ERROR" not in line, line


def _warn_lines(run: dict) -> list[str]:
    return [line for line in run["out"].splitlines() if " WARN " in f" {line} "]


# --- (a) the whole country, KWB 2020 first release + 50090NED ------------------------------------------------


def test_a_national_refresh_exits_0_with_every_check_ok_or_explained(run_a):
    _assert_clean_exit(run_a)
    warned = _warn_lines(run_a)
    # The partial release is the one expected warning, and it names what CBS has not published yet.
    assert warned and all("values_cover_catalogue" in line or "units_as_expected" in line for line in warned), warned
    with _con(run_a) as con:
        description = con.execute("select 1").fetchone()  # the warehouse opens read-only after the run
    assert description == (1,)


def test_a_known_national_and_municipal_figures(run_a):
    with _con(run_a) as con:
        inhabitants = dict(con.execute(
            "select area_code, inhabitants from staging.areas where year = 2020 and area_code in "
            "('NL00', 'GM0363', 'GM0344', 'GM0518')").fetchall())
        n_gemeenten = con.execute(
            "select count(*) from staging.areas where year = 2020 and area_level = 'gemeente'").fetchone()[0]
    # CBS's 1 January 2020 figures in this release (the same numbers as StatLine).
    assert inhabitants["NL00"] == 17_407_585
    assert n_gemeenten == 355
    assert inhabitants["GM0363"] > 870_000 and inhabitants["GM0344"] > 355_000


def test_a_partial_release_is_not_published_yet_never_suppressed(run_a):
    with _con(run_a) as con:
        reasons = dict(con.execute(
            "select missing_reason, count(*) from indicators.values where year = 2020 and indicator_id = "
            "'inkomen_per_inwoner' group by 1").fetchall())
        woz = dict(con.execute(
            "select value_status, count(*) from staging.kwb where year = 2020 and variable = 'woz_waarde_eur' "
            "group by 1").fetchall())
        bijstand = con.execute(
            "select count(value), count(*) filter (where missing_reason = 'suppressed_by_cbs') "
            "from indicators.values where year = 2020 and indicator_id = 'bijstand_per_1000'").fetchone()
    assert set(reasons) == {"not_published_yet"}, reasons
    assert set(woz) == {"not_published_yet"}, woz  # resolved (renamed key) but empty in this release
    assert bijstand[0] > 10_000 and bijstand[1] > 0  # filled column: a '.' is CBS's own suppression


def test_a_renamed_keys_resolve(run_a):
    with _con(run_a) as con:
        rows = dict(con.execute(
            "select raw_key, canonical from staging.kwb_key_resolution where year = 2020 and raw_key in "
            "('GemiddeldeWoningwaarde_35', 'NettoArbeidsparticipatie_67')").fetchall())
    assert rows == {"GemiddeldeWoningwaarde_35": "woz_waarde_eur",
                    "NettoArbeidsparticipatie_67": "nettoarbeidsparticipatie_pct"}


def test_a_health_comes_from_the_dataderden_host_with_true_reasons(run_a):
    with _con(run_a) as con:
        base = con.execute("select base_url from raw.cbs_tables where table_id = '50090NED'").fetchone()[0]
        kwb_base = con.execute("select base_url from raw.cbs_tables where table_id = '84799NED'").fetchone()[0]
        reasons = dict(con.execute(
            "select missing_reason, count(*) from indicators.values where source_table = '50090NED' "
            "group by 1").fetchall())
        periods = [r[0] for r in con.execute("select distinct year from staging.health order by 1").fetchall()]
    assert base != kwb_base  # each table was downloaded from its own catalogue host
    assert periods == [2012, 2016, 2020]
    assert reasons.get(None, 0) > 100_000
    assert "not_published" not in reasons


def test_a_health_topic_not_asked_in_a_period_is_not_measured(run_a):
    with _con(run_a) as con:
        reasons = dict(con.execute(
            "select year, list(distinct missing_reason) from indicators.values where indicator_id = 'veel_stress' "
            "group by 1").fetchall())
    assert reasons[2012] == ["not_measured"] and reasons[2016] == ["not_measured"]  # not asked before 2020
    assert "not_measured" not in reasons[2020]


def test_a_gemeente_check_passes_on_real_data_and_catches_a_13pct_error(run_a, tmp_path, monkeypatch):
    """CBS rounds buurt counts and leaves small buurten out; the check allows for that, not for a real error."""
    import shutil

    from pipelines.defs.indicators.checks import gemeente_totals_match_buurten
    from pipelines.resources import BwmResource

    copy = tmp_path / "bwm.duckdb"
    shutil.copy(run_a["warehouse"], copy)
    bwm = BwmResource(environ={"BWM_WAREHOUSE": str(copy)})
    before = gemeente_totals_match_buurten(bwm=bwm)
    assert before.passed and before.metadata["compared"].value > 1000
    # The checks read the refresh's working copy (made from the published file on first use): change that one.
    from bwm import warehouse

    with duckdb.connect(str(warehouse.working_path(copy))) as con:
        changed = con.execute(
            "update indicators.values set value = value * 1.13 where year = 2020 and area_code = 'GM0344' "
            "and indicator_id = 'eenpersoonshuishoudens' and value is not null").fetchone()[0]
    assert changed == 1
    after = gemeente_totals_match_buurten(bwm=bwm)
    assert not after.passed and after.metadata["mismatches"].value == 1
    assert "GM0344" in after.metadata["examples"].value and "eenpersoonshuishoudens" in after.metadata["examples"].value


def test_a_site_and_exports_are_published(run_a):
    assert (run_a["site"] / "index.html").is_file()
    assert (run_a["site"] / "gemeente" / "GM0344.html").is_file()
    assert (run_a["exports"] / "GM0344").is_dir()


# --- (c) one municipality filtered out of (a) ------------------------------------------------------------


def test_c_filtered_refresh_keeps_the_netherlands(run_c):
    _assert_clean_exit(run_c)
    with _con(run_c) as con:
        land = con.execute("select area_code, inhabitants from staging.areas where area_level = 'land'").fetchall()
        codes = {r[0] for r in con.execute(
            "select distinct gemeente_code from staging.areas where area_level <> 'land'").fetchall()}
        health_land = con.execute(
            "select count(value) from staging.health where area_level = 'land'").fetchone()[0]
        no_nl = con.execute(
            "select count(*) from indicators.comparisons where area_code like 'BU0344%' and year = 2020 "
            "and value is not null and nl_value is null").fetchone()[0]
    assert land == [("NL00", 17_407_585)]
    assert codes == {"GM0344"}
    assert health_land > 0
    assert no_nl == 0


def test_c_every_page_compares_with_the_netherlands(run_c):
    pages = [p for p in (run_c["site"]).rglob("*.html")
             if p.parent.name in ("gemeente", "wijk", "buurt")]
    assert len(pages) > 100
    without = [p.name for p in pages if "geen landelijk cijfer" in p.read_text(encoding="utf-8")]
    assert without == []


def test_b_concentration_threshold_is_cbs_national_figure(run_b):
    """Filtered to two municipalities, the concentration threshold still rests on CBS's national share."""
    with _con(run_b) as con:
        rows = con.execute(
            "select distinct year, concentration_basis, concentration_threshold_pct from divide.measures "
            "where concentration_basis is not null order by 1").fetchall()
        national = dict(con.execute(
            "select year, value from indicators.values where area_level = 'land' "
            "and indicator_id = 'huishoudens_sociaal_minimum'").fetchall())
    assert rows, "no concentration measure at all"
    for year, basis, threshold in rows:
        assert basis == "nederland", (year, basis)
        assert threshold == pytest.approx(2 * national[year]), (year, threshold, national.get(year))


# --- (b) Amsterdam 2017, 2019, 2021 -------------------------------------------------------------------------


def test_b_amsterdam_trend_refresh_exits_0(run_b):
    _assert_clean_exit(run_b)
    # The one retitled topic of the late 2017 export: position 35, "Gemiddelde WOZ-waarde van woningen".
    assert run_b["retitled"] == {2017: [("GemiddeldeWoningwaarde_35", "Gemiddelde woningwaarde",
                                         "Wonen.Gemiddelde.WOZ.waarde.van.woningen..x.1.000.euro.")], 2019: []}


def test_b_known_figures(run_b):
    with _con(run_b) as con:
        got = dict(((y, c), n) for y, c, n in con.execute(
            "select year, area_code, inhabitants from staging.areas where area_level in ('land', 'gemeente')"
        ).fetchall())
        years = [r[0] for r in con.execute(
            "select distinct year from indicators.values where indicator_id = 'woz_waarde' and value is not null "
            "and area_code = 'GM0363' order by 1").fetchall()]
    assert got[(2019, "NL00")] == 17_282_163
    assert got[(2019, "GM0363")] == 862_965
    assert got[(2019, "GM0344")] == 352_866
    assert got[(2019, "GM0518")] == 537_833
    assert got[(2017, "GM0363")] == 844_947
    assert got[(2017, "NL00")] == 17_081_507
    assert years == [2017, 2019]  # the 22-column 2021 file has no WOZ column


def test_b_divide_trend_over_real_years(run_b):
    with _con(run_b) as con:
        years = [r[0] for r in con.execute(
            "select distinct year from divide.measures where gemeente_code = 'GM0363' order by 1").fetchall()]
    assert {2017, 2019, 2021} <= set(years)


# --- (d) KWB 2024: the whole country's population, from StatLine's own export ---------------------------


@pytest.fixture(scope="module")
def run_d(cbs_real, tmp_path_factory) -> dict:
    """The real 2024 StatLine export (every region, 13 columns) mapped to 85984NED's real DataProperties, with
    the real 50090NED (2020 boundaries: its areas meet 2024's where their codes still exist)."""
    folder = tmp_path_factory.mktemp("cbs-2024")
    table_id, files = realdata.statline_csv_files(cbs_real, 2024, KWB_2024)
    realdata.write_files(folder, table_id, files)
    realdata.write_files(folder, realdata.REAL_HEALTH_TABLE_ID, realdata.health_table_files(cbs_real))
    return _refresh(tmp_path_factory.mktemp("d"), folder,
                    {"BWM_YEARS": "2024", "BWM_HEALTH_TABLE": "50090NED",
                     "BWM_MUNICIPALITIES": "GM0344,GM0794,GM0014"})  # Utrecht, Helmond, Groningen


def test_d_2024_refresh_exits_0_with_known_figures(run_d):
    _assert_clean_exit(run_d)
    with _con(run_d) as con:
        got = dict(con.execute("select area_code, inhabitants from staging.areas where area_level in "
                               "('land', 'gemeente')").fetchall())
        reasons = dict(con.execute("select missing_reason, count(*) from indicators.values where year = 2024 "
                                   "and indicator_id = 'inkomen_per_inwoner' group by 1").fetchall())
    assert got["NL00"] == 17_942_942 and got["GM0344"] == 374_238
    assert set(got) == {"NL00", "GM0344", "GM0794", "GM0014"}
    assert set(reasons) == {"not_published"}  # the export has 13 columns: income is not in it at all
    assert (run_d["site"] / "gemeente" / "GM0794.html").is_file()
