"""The demo's municipal files, totals and disclosure control on published figures, and the Dagster assets: a
rejected file fails the check with its report, while the good file lands and the refresh goes on."""

import datetime as dt

import dagster as dg
import duckdb
import polars as pl
import pytest

from bwm import catalogue, disclosure, warehouse
from bwm.municipal.folder import scan_folder
from bwm.municipal.geography import Geography
from bwm.municipal.publish import publishable
from bwm.settings import PROJECT_ROOT
from bwm.synth.geography import build_world
from bwm.synth.municipal import FILES, demo_files
from tests.test_municipal_validation import AREAS, DECLARATION, GEO, GOOD_LONG, long_csv

DEMO_DIR = PROJECT_ROOT / "data" / "municipal" / "demo"
RULE = disclosure.DisclosureRule(min_count=10, min_cases=10)


def test_demo_files_regenerate_byte_for_byte():
    """The committed example files are exactly what the seeded generator writes."""
    assert sorted(p.name for p in DEMO_DIR.iterdir()) == sorted(FILES)
    for name, data in demo_files().items():
        assert (DEMO_DIR / name).read_bytes() == data, f"{name}: run `python -c 'from bwm.synth.municipal import " \
                                                       "write_demo_files; write_demo_files(\"data/municipal/demo\")'`"


def test_demo_files_are_as_documented():
    raw = (DEMO_DIR / "inkomensondersteuning_noordveen.csv").read_bytes()
    assert raw.split(b"\r\n")[0].count(b";") == 6 and "–".encode("cp1252") in raw  # cp1252, ';', CRLF
    assert b"," in raw.split(b"\r\n")[1]  # decimal commas
    assert (DEMO_DIR / "schuldhulp_zuiderhaven.csv").read_bytes().startswith(b"area_code,year,indicator_id,value")


@pytest.fixture(scope="module")
def synthetic_geo() -> Geography:
    rows = []
    for year in range(2021, 2025):
        geo = build_world("demo").geography(year)
        for g, code in enumerate(geo.gm_code):
            rows.append((year, code, "gemeente", code, None, geo.gm_name[g]))
        for w, code in enumerate(geo.wk_code):
            rows.append((year, code, "wijk", geo.gm_code[int(geo.wk_gm[w])], None, geo.wk_name[w]))
        for b, code in enumerate(geo.bu_code):
            w = int(geo.bu_wk[b])
            rows.append((year, code, "buurt", geo.gm_code[int(geo.wk_gm[w])], geo.wk_code[w], geo.bu_name[b]))
    return Geography.from_rows(rows)


def test_demo_files_land_and_small_counts_are_suppressed(synthetic_geo):
    units = {i.id: i.unit for i in catalogue.indicators()}  # the targets file names CBS indicators
    result = scan_folder(DEMO_DIR, synthetic_geo, frozenset(units), units=units)
    assert [(f.file, f.status) for f in result.files] == [
        ("ambities_zuiderhaven.csv", "accepted"), ("buddyprogramma_kanaalzijl.xlsx", "accepted"),
        ("inkomensondersteuning_noordveen.csv", "accepted"),
        ("schuldhulp_zuiderhaven.csv", "accepted")], result.report()
    published = publishable(result.values_frame(), result.indicators_frame(), synthetic_geo, RULE)
    reasons = set(published["missing_reason"].drop_nulls())
    assert disclosure.SUPPRESSED_SMALL_COUNT in reasons and reasons <= {disclosure.SUPPRESSED_SMALL_COUNT,
                                                                         "not_published"}
    shown = published.filter(pl.col("value").is_not_null())
    assert shown.filter((pl.col("count_or_rate") == "count") & (pl.col("value") < 10)).is_empty()
    assert shown.filter((pl.col("count_or_rate") == "rate") & (pl.col("denominator") < 10)).is_empty()
    assert shown.filter((pl.col("count_or_rate") == "rate")
                        & ((pl.col("numerator") < 10) | (pl.col("denominator") - pl.col("numerator") < 10))).is_empty()


# --- totals and disclosure on constructed figures -----------------------------------------------------------


def _values(rows):
    """rows: (area_code, indicator_id, kind, value, n_cases) in 2024, gemeente GM0001."""
    level = {"BU": "buurt", "WK": "wijk", "GM": "gemeente"}
    return pl.DataFrame([
        {"year": 2024, "area_code": code, "area_level": level[code[:2]], "gemeente_code": "GM0001",
         "indicator_id": ident, "count_or_rate": kind, "value": value, "n_cases": n, "geography_year": 2024,
         "file": "f.csv", "sheet": None, "row_number": i + 2}
        for i, (code, ident, kind, value, n) in enumerate(rows)])


def _indicators(*decl):
    return pl.DataFrame([{"indicator_id": i, "count_or_rate": k, "unit": u, "level": lvl} for i, k, u, lvl in decl])


def test_counts_add_up_to_wijk_and_gemeente_and_a_small_buurt_hides_a_sibling():
    # Wijk WK000101 holds BU..0101, 0102, 0103 in 2023 only; in 2024 it has 0101 and 0102.
    values = _values([("BU00010101", "clients", "count", 4, None), ("BU00010102", "clients", "count", 30, None)])
    out = publishable(values, _indicators(("clients", "count", "count", "buurt")), GEO, RULE)
    got = {r["area_code"]: (r["value"], r["missing_reason"]) for r in out.iter_rows(named=True)}
    # 4 is small; its only sibling (30) hides too, or the wijk total 34 minus 30 would give it away. The wijk (34)
    # is the gemeente's only wijk: both stay published, since they only reveal the sum of two hidden buurten.
    assert got == {"BU00010101": (None, "suppressed_small_count"), "BU00010102": (None, "suppressed_small_count"),
                   "WK000101": (34.0, None), "GM0001": (34.0, None)}


def test_rates_aggregate_as_numerators_over_cases():
    values = _values([("BU00010101", "share", "rate", 50.0, 40), ("BU00010102", "share", "rate", 25.0, 60)])
    out = publishable(values, _indicators(("share", "rate", "pct", "buurt")), GEO, RULE)
    wijk = out.filter(pl.col("area_code") == "WK000101").row(0, named=True)
    assert wijk["value"] == pytest.approx((20 + 15) / 100 * 100)
    assert (wijk["numerator"], wijk["denominator"]) == (pytest.approx(35.0), 100.0)


def test_a_rate_on_few_cases_is_suppressed_with_its_counts():
    values = _values([("BU00010101", "share", "rate", 50.0, 8), ("BU00010102", "share", "rate", 25.0, 60)])
    out = publishable(values, _indicators(("share", "rate", "pct", "buurt")), GEO, RULE)
    hidden = out.filter(pl.col("missing_reason").is_not_null()).select("area_code", "value", "numerator",
                                                                       "denominator", "missing_reason").rows()
    assert hidden == [("BU00010101", None, None, None, "suppressed_small_count"),
                      ("BU00010102", None, None, None, "suppressed_small_count")]


def test_areas_without_a_figure_are_not_published_not_zero():
    values = _values([("BU00010102", "clients", "count", 30, None)])
    out = publishable(values, _indicators(("clients", "count", "count", "buurt")), GEO, RULE)
    assert out.filter(pl.col("area_code") == "BU00010101").select("value", "missing_reason").row(0) == \
        (None, "not_published")


def test_a_year_after_the_newest_kwb_year_is_published_on_its_area_codes():
    values = _values([("BU00010101", "clients", "count", 14, None), ("BU00010102", "clients", "count", 30, None)])
    values = values.with_columns(pl.lit(2026).alias("year"))  # geography_year stays 2024
    out = publishable(values, _indicators(("clients", "count", "count", "buurt")), GEO, RULE)
    assert out.select("year", "area_code", "value", "geography_year").rows() == [
        (2026, "BU00010101", 14.0, 2024), (2026, "BU00010102", 30.0, 2024), (2026, "GM0001", 44.0, 2024),
        (2026, "WK000101", 44.0, 2024)]


# --- the Dagster assets on a small warehouse ----------------------------------------------------------------


@pytest.fixture
def small_warehouse(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    paths = {"warehouse": tmp_path / "wh" / "bwm.duckdb"}
    with warehouse.connect(paths["warehouse"]) as con:
        con.execute("create table staging.areas (year int, area_code varchar, area_level varchar, "
                    "gemeente_code varchar, wijk_code varchar, area_name varchar)")
        con.executemany("insert into staging.areas values (?, ?, ?, ?, ?, ?)", AREAS)
    return {**paths, "folder": folder}


def test_rejected_file_fails_the_check_with_its_report_and_the_good_file_lands(small_warehouse):
    from pipelines.defs.municipal.assets import municipal_assets
    from pipelines.defs.municipal.checks import municipal_checks
    from pipelines.resources import BwmResource

    folder = small_warehouse["folder"]
    (folder / "good.csv").write_text(GOOD_LONG)
    (folder / "good.indicators.yaml").write_text(DECLARATION)
    # Its own indicators, one good row and one from another municipality: none of it may land.
    (folder / "bad.csv").write_text(long_csv("BU00010102,2024,clients_b,40,", "BU00020101,2024,clients_b,15,"))
    (folder / "bad.indicators.yaml").write_text(DECLARATION.replace("id: clients", "id: clients_b")
                                                .replace("id: share", "id: share_b"))
    bwm = BwmResource(environ={"BWM_WAREHOUSE": str(small_warehouse["warehouse"]),
                               "BWM_MUNICIPAL_DIR": str(folder)})
    result = dg.materialize([*municipal_assets, *municipal_checks], instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=True, resources={"bwm": bwm})
    assert result.success  # the refresh goes on
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    failed = checks["municipal_files_accepted"]
    assert not failed.passed and failed.metadata["rejected"].value == "bad.csv"
    assert ("bad.csv, row 3, column 'area_code': expected an area of GM0001, as declared for clients_b; "
            "found 'BU00020101', an area of GM0002 (Tweede (test))") in failed.metadata["report"].value
    assert checks["municipal_disclosure_holds"].passed
    # Only the municipal layer ran, so nothing was published: the refresh's working copy holds the result.
    con = duckdb.connect(str(warehouse.working_path(small_warehouse["warehouse"])), read_only=True)
    try:
        assert con.execute("select distinct file from municipal.values").fetchall() == [("good.csv",)]
        assert con.execute("select count(*) from municipal.published where indicator_id like '%_b'").fetchone()[0] == 0
        status = con.execute("select file, sheet, status, n_rows, n_indicators, checked_at, sha256 "
                             "from municipal.file_status order by file").fetchall()
        assert [s[:5] for s in status] == [("bad.csv", None, "rejected", 2, 1), ("good.csv", None, "accepted", 3, 2)]
        assert all(isinstance(s[5], dt.datetime) and len(s[6]) == 64 for s in status)
        assert [r[0] for r in con.execute("select indicator_id from municipal.indicators").fetchall()] == \
            ["clients", "share"]
    finally:
        con.close()
