"""Targets (ambities): the file validated like the other municipal files, and 'op koers' computed by publish.targets
against the straight line from the base year's figure to the target (hand-worked values)."""

import duckdb
import polars as pl
import pytest

from bwm import warehouse
from bwm.municipal import store
from bwm.municipal.folder import scan_folder
from bwm.municipal.geography import Geography
from pipelines.defs.publish.model import build_model
from tests.test_municipal_validation import DECLARATION  # the same two declared indicators

GEO = Geography.from_rows([
    (year, code, level, gm, wk, name) for year in (2023, 2024) for code, level, gm, wk, name in [
        ("GM0001", "gemeente", "GM0001", None, "Eerste (test)"), ("WK000101", "wijk", "GM0001", None, "Wijk 1"),
        ("BU00010101", "buurt", "GM0001", "WK000101", "Buurt 1")]])
#: The CBS indicators a target may name (id -> unit); 'clients' and 'share' come from the data file's declaration.
UNITS = {"bijstand_per_1000": "per_1000"}
GOOD_DATA = "area_code,year,indicator_id,value,n_cases\nBU00010101,2024,clients,12,\nBU00010101,2024,share,55.5,20\n"
HEADER = "area_code;indicator_id;base_year;target_year;target_value\n"


def scan(tmp_path, files: dict):
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    return scan_folder(tmp_path, GEO, frozenset(UNITS), units=UNITS)


def report(tmp_path, content: str) -> list[str]:
    result = scan(tmp_path, {"ambities_test.csv": content, "data.csv": GOOD_DATA,
                             "data.indicators.yaml": DECLARATION})
    (f,) = [f for f in result.files if f.file == "ambities_test.csv"]
    assert f.status == "rejected" and f.targets == []
    return [x.message for x in sorted(f.findings, key=lambda x: (x.row or 0, x.column or ""))]


def test_a_good_targets_file_is_accepted_and_needs_no_declaration(tmp_path):
    result = scan(tmp_path, {
        "ambities_test.csv": HEADER + "GM0001;bijstand_per_1000;2019;2030;22,0\n"
                                      "WK000101;clients;;2028;10\n",
        "data.csv": GOOD_DATA, "data.indicators.yaml": DECLARATION})
    assert [f.status for f in result.files] == ["accepted", "accepted"]
    frame = result.targets_frame()
    assert frame.select("area_code", "area_level", "indicator_id", "base_year", "target_year", "target_value").rows() \
        == [("GM0001", "gemeente", "bijstand_per_1000", 2019, 2030, 22.0), ("WK000101", "wijk", "clients", None, 2028,
                                                                            10.0)]
    status = result.status_frame(dt_now())
    assert status.filter(pl.col("file") == "ambities_test.csv")["report"][0].endswith("Loaded 2 targets.")


def dt_now():
    import datetime as dt

    return dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def test_every_problem_says_file_row_column_expected_and_found(tmp_path):
    messages = report(tmp_path, HEADER + "GM0009;bijstand_per_1000;2019;2030;22\n"
                                         "GM0001;geluk;2019;2030;5\n"
                                         "GM0001;bijstand_per_1000;2031;2030;veel\n"
                                         "GM0001;share;2019;1990;120\n"
                                         "GM0001;clients;;2030;10\n"
                                         "GM0001;clients;;2031;12\n")
    assert messages == [
        "ambities_test.csv, row 2, column 'area_code': expected a gemeente, wijk or buurt code of 2024 (the newest "
        "KWB year in the warehouse); found 'GM0009'",
        "ambities_test.csv, row 3, column 'indicator_id': expected an indicator of the monitor (a CBS indicator of "
        "the catalogue, or one declared in an accepted municipal file); see the definitions of an export; found "
        "'geluk'",
        "ambities_test.csv, row 4, column 'target_value': expected the target as a number in the indicator's unit; "
        "found 'veel'",
        "ambities_test.csv, row 4, column 'target_year': expected a target year after the base year 2031; found "
        "'2030'",
        "ambities_test.csv, row 5, column 'target_value': expected a value from 0 to 100 (pct); found '120'",
        "ambities_test.csv, row 5, column 'target_year': expected a year from 2000 to 2100; found '1990'",
        "ambities_test.csv, row 7, column 'indicator_id': expected one target per area and indicator (row 6 already "
        "has GM0001 and clients); found 'clients'",
    ]


def test_a_header_without_its_columns_is_rejected_and_the_other_files_go_on(tmp_path):
    result = scan(tmp_path, {"ambities_a.csv": "gebied;indicator;doel\nGM0001;clients;3\n",
                             "ambities_b.csv": HEADER + "GM0001;clients;;2030;10\n",
                             "data.csv": GOOD_DATA, "data.indicators.yaml": DECLARATION})
    status = {f.file: f.status for f in result.files}
    assert status == {"ambities_a.csv": "rejected", "ambities_b.csv": "accepted", "data.csv": "accepted"}
    (bad,) = [f for f in result.files if f.file == "ambities_a.csv"]
    assert bad.findings[0].message.startswith(
        "ambities_a.csv, row 1: expected a header with area_code, indicator_id, target_value, target_year (and "
        "optionally base_year), each once; found the columns 'gebied', 'indicator', 'doel': missing area_code")
    assert result.targets_frame()["file"].to_list() == ["ambities_b.csv"]


def test_a_target_set_twice_across_files_rejects_the_later_file(tmp_path):
    result = scan(tmp_path, {"ambities_a.csv": HEADER + "GM0001;clients;;2030;10\n",
                             "ambities_b.csv": HEADER + "GM0001;clients;;2030;8\n",
                             "data.csv": GOOD_DATA, "data.indicators.yaml": DECLARATION})
    (later,) = [f for f in result.files if f.file == "ambities_b.csv"]
    assert later.status == "rejected" and "ambities_a.csv, row 2 already has GM0001 and clients" in str(
        later.findings[0])


# --- publish.targets: the rule, by hand -----------------------------------------------------------------------

ROWS = [  # year, area, indicator, value
    *[(y, "GM0001", "bijstand_per_1000", v) for y, v in ((2019, 27.8), (2022, 28.0), (2024, 30.6))],
    *[(y, "GM0001", "arbeid", v) for y, v in ((2018, 67.0), (2024, 69.0))],
    *[(y, "WK000101", "arbeid", v) for y, v in ((2018, 60.0), (2031, 70.0))],
    (2021, "GM0001", "clients", 1216.0), (2024, "GM0001", "clients", 1100.0),
    (2024, "BU00010101", "clients", None),
]
TARGETS = [  # area, level, indicator, base_year, target_year, target
    ("GM0001", "gemeente", "bijstand_per_1000", 2019, 2030, 22.0),
    ("GM0001", "gemeente", "arbeid", 2018, 2030, 71.0),
    ("WK000101", "wijk", "arbeid", 2018, 2030, 71.0),
    ("GM0001", "gemeente", "clients", None, 2028, 1000.0),
    ("BU00010101", "buurt", "clients", None, 2028, 5.0),
]


@pytest.fixture
def targets(tmp_path):
    path = tmp_path / "wh.duckdb"
    with warehouse.connect(path) as con:
        con.execute("create table indicators.values (year bigint, area_code varchar, indicator_id varchar, "
                    "value double)")
        con.executemany("insert into indicators.values values (?, ?, ?, ?)", ROWS)
        con.execute("create table indicators.catalogue (indicator_id varchar, name_nl varchar, unit varchar, "
                    "direction varchar)")
        con.executemany("insert into indicators.catalogue values (?, ?, ?, ?)", [
            ("bijstand_per_1000", "Bijstand", "per_1000", "higher_is_worse"),
            ("arbeid", "Arbeidsparticipatie", "pct", "higher_is_better"),
            ("clients", "Cliënten", "count", "higher_is_worse")])
        store.ensure_tables(con)
        con.executemany("insert into municipal.targets values ('GM0001', ?, ?, ?, ?, ?, ?, 'ambities.csv', null, 2)",
                        TARGETS)
        build_model(con, ("targets",))
    con = duckdb.connect(str(path), read_only=True)
    rows = {(r[0], r[1]): r[2:] for r in con.execute(
        "select area_code, indicator_id, base_year, base_value, latest_year, latest_value, expected_value, status, "
        "progress_pct from publish.targets").fetchall()}
    con.close()
    return rows


def test_on_course_against_the_straight_line_from_base_to_target(targets):
    # bijstand: 27.8 in 2019 towards 22.0 in 2030; in 2024 the line expects 27.8 - 5.8 * 5/11 = 25.1636...; 30.6 lags
    base_year, base, latest_year, latest, expected, status, progress = targets[("GM0001", "bijstand_per_1000")]
    assert (base_year, base, latest_year, latest, status) == (2019, 27.8, 2024, 30.6, "niet_op_koers")
    assert expected == pytest.approx(27.8 - 5.8 * 5 / 11)
    assert progress == pytest.approx(100 * (30.6 - 27.8) / (22.0 - 27.8))  # -48.3%: the wrong way
    # arbeid: 67 in 2018 towards 71 in 2030; 2024 expects 67 + 4 * 6/12 = 69; 69 is exactly on the line: on course
    assert targets[("GM0001", "arbeid")][4:6] == (pytest.approx(69.0), "op_koers")
    # past the target year the line is the target itself: 70 in 2031 against 71 lags
    assert targets[("WK000101", "arbeid")][2:6] == (2031, 70.0, pytest.approx(71.0), "niet_op_koers")
    # no base year declared: the first year with a figure (2021: 1216); 2024 expects 1216 - 216 * 3/7 = 1123.43;
    # 1100 is further towards 1000: on course
    base_year, base, latest_year, latest, expected, status, _ = targets[("GM0001", "clients")]
    assert (base_year, base, latest_year, latest, status) == (2021, 1216.0, 2024, 1100.0, "op_koers")
    assert expected == pytest.approx(1216 - 216 * 3 / 7)
    # no figure at all: unknown, never "niet op koers" on missing data
    assert targets[("BU00010101", "clients")][5] == "onbekend"
