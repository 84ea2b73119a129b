"""Every validation of a municipal data file, each with a file that triggers it and the exact message."""

import io

import openpyxl
import pytest

from bwm.municipal.folder import scan_folder
from bwm.municipal.geography import Geography

# Two gemeenten on the geography of 2023 and 2024; buurt BU00010103 exists in 2023 only (merged in 2024).
AREAS = [
    (year, code, level, gm, wk, name)
    for year in (2023, 2024)
    for code, level, gm, wk, name in [
        ("GM0001", "gemeente", "GM0001", None, "Eerste (test)"),
        ("WK000101", "wijk", "GM0001", None, "Wijk 1"),
        ("BU00010101", "buurt", "GM0001", "WK000101", "Buurt 1"),
        ("BU00010102", "buurt", "GM0001", "WK000101", "Buurt 2"),
        ("BU00010103", "buurt", "GM0001", "WK000101", "Buurt 3"),
        ("GM0002", "gemeente", "GM0002", None, "Tweede (test)"),
        ("WK000201", "wijk", "GM0002", None, "Wijk 1"),
        ("BU00020101", "buurt", "GM0002", "WK000201", "Buurt 1"),
    ]
    if not (year == 2024 and code == "BU00010103")
]
GEO = Geography.from_rows(AREAS)
RESERVED = frozenset({"inkomen_per_inwoner"})

DECLARATION = """\
gemeente: GM0001
source: Gemeente Eerste (test)
indicators:
  - id: clients
    name_nl: Cliënten
    name_en: Clients
    theme: materiele_welvaart
    kind: count
    unit: count
    direction: higher_is_worse
    level: buurt
    definition_nl: Het aantal cliënten.
  - id: share
    name_nl: Aandeel
    name_en: Share
    theme: welzijn
    kind: rate
    unit: pct
    direction: higher_is_better
    level: buurt
    definition_nl: Het percentage.
"""
GOOD_LONG = ("area_code,year,indicator_id,value,n_cases\n"
             "BU00010101,2024,clients,12,\n"
             "BU00010102,2024,clients,30,\n"
             "BU00010101,2024,share,55.5,20\n")


def scan(tmp_path, files: dict):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return scan_folder(tmp_path, GEO, RESERVED)


def messages(tmp_path, files: dict, name: str = "bad.csv") -> list[str]:
    result = scan(tmp_path, files)
    (f,) = [f for f in result.files if f.file == name]
    return [finding.message for finding in sorted(f.findings, key=lambda x: (x.row or 0, x.column or ""))]


def long_csv(*rows: str) -> str:
    return "area_code,year,indicator_id,value,n_cases\n" + "".join(r + "\n" for r in rows)


def bad(tmp_path, content, declaration=DECLARATION) -> list[str]:
    return messages(tmp_path, {"bad.csv": content, "bad.indicators.yaml": declaration})


# --- what is accepted ---------------------------------------------------------------------------------------


def test_a_good_long_file_is_accepted_with_a_report(tmp_path):
    result = scan(tmp_path, {"good.csv": GOOD_LONG, "good.indicators.yaml": DECLARATION})
    (f,) = result.files
    assert f.accepted and f.findings == []
    assert [(r.area_code, r.indicator_id, r.value, r.n_cases) for r in f.rows] == [
        ("BU00010101", "clients", 12.0, None), ("BU00010102", "clients", 30.0, None),
        ("BU00010101", "share", 55.5, 20.0)]
    assert f.report() == (
        "good.csv: accepted.\n"
        "Read as UTF-8, delimiter ',', long layout; 3 data rows.\n"
        "Declared in good.indicators.yaml: clients (count, buurt, GM0001); share (rate, pct, buurt, GM0001).\n"
        "Loaded 3 figures for 2024.")


@pytest.mark.parametrize("encoding, prefix, how", [
    ("utf-8", b"", "UTF-8"),
    ("utf-8", b"\xef\xbb\xbf", "UTF-8 with BOM"),
    ("cp1252", b"", "cp1252 (Windows-1252)"),
])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_encodings_and_delimiters_excel_writes_are_read(tmp_path, encoding, prefix, how, delimiter):
    decimal = "," if delimiter != "," else "."
    text = delimiter.join(["area_code", "year", "area_name", "clients", "share", "share_n_cases"]) + "\r\n"
    text += delimiter.join(["BU00010101", "2024", "Café – Noord", "12", f"55{decimal}5", "20"]) + "\r\n"
    result = scan(tmp_path, {"good.csv": prefix + text.encode(encoding), "good.indicators.yaml": DECLARATION})
    (f,) = result.files
    assert f.accepted, f.report()
    assert f.sheets[0].how.startswith(how)
    assert [(r.indicator_id, r.value) for r in f.rows] == [("clients", 12.0), ("share", 55.5)]


def test_an_xlsx_declared_in_its_own_sheet_is_accepted(tmp_path):
    result = scan(tmp_path, {"good.xlsx": _xlsx()})
    (f,) = result.files
    assert f.accepted, f.report()
    assert f.declared_in == "good.xlsx, sheet 'indicatoren'"
    assert {(r.sheet, r.row_number, r.indicator_id) for r in f.rows} == {("data", 2, "clients"), ("data", 3, "share")}


def test_a_year_after_the_newest_kwb_year_uses_its_area_codes(tmp_path):
    result = scan(tmp_path, {"good.csv": long_csv("BU00010101,2026,clients,12,"), "good.indicators.yaml": DECLARATION})
    (f,) = result.files
    assert f.accepted and f.rows[0].geography_year == 2024
    assert "2026 is later than the newest KWB year in the warehouse: its area codes are those of 2024." in f.report()


# --- each check, with the exact message ---------------------------------------------------------------------


def test_area_code_unknown_in_that_year(tmp_path):
    assert bad(tmp_path, long_csv("BU00010103,2024,clients,12,", "BU00019999,2024,clients,12,")) == [
        "bad.csv, row 2, column 'area_code': expected an area code that exists in 2024; "
        "found 'BU00010103', which exists only in 2023",
        "bad.csv, row 3, column 'area_code': expected an area code that exists in 2024; "
        "found 'BU00019999', which is not an area code in any year in the warehouse",
    ]


def test_code_from_another_municipality(tmp_path):
    assert bad(tmp_path, long_csv("BU00020101,2024,clients,12,")) == [
        "bad.csv, row 2, column 'area_code': expected an area of GM0001, as declared for clients; "
        "found 'BU00020101', an area of GM0002 (Tweede (test))"]


def test_code_of_another_level_than_declared(tmp_path):
    assert bad(tmp_path, long_csv("WK000101,2024,clients,12,")) == [
        "bad.csv, row 2, column 'area_code': expected a buurt code (BU + 8 digits), as declared for clients; "
        "found 'WK000101', a wijk code"]


def test_non_numeric_values(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,clients,veel,", "BU00010102,2024,clients,\"1,5\",")) == [
        "bad.csv, row 2, column 'value': expected a number (decimal point, no thousands separator); found 'veel'",
        "bad.csv, row 3, column 'value': expected a number (decimal point, no thousands separator); found '1,5'"]


def test_negative_and_fractional_counts(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,clients,-3,", "BU00010102,2024,clients,2.5,",
                                  "BU00010101,2024,share,50,-1")) == [
        "bad.csv, row 2, column 'value': expected a count of 0 or more; found '-3'",
        "bad.csv, row 3, column 'value': expected a whole number (a count); found '2.5'",
        "bad.csv, row 4, column 'n_cases': expected a number of cases of 0 or more; found '-1'"]


def test_percentages_outside_0_to_100(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,share,112.5,40", "BU00010102,2024,share,-0.1,40")) == [
        "bad.csv, row 2, column 'value': expected a percentage from 0 to 100; found '112.5'",
        "bad.csv, row 3, column 'value': expected a percentage from 0 to 100; found '-0.1'"]


def test_rate_without_its_number_of_cases(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,share,50,")) == [
        "bad.csv, row 2, column 'n_cases': expected the number of cases the rate is based on; found an empty cell"]
    assert bad(tmp_path, "area_code,year,clients,share\nBU00010101,2024,1,50\n") == [
        "bad.csv, row 1, column 'share': expected a column 'share_n_cases' with the number of cases of the rate "
        "'share'; found no such column"]


def test_duplicate_keys(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,clients,12,", "bu00010101 ,2024,clients,13,")) == [
        "bad.csv, row 3, column 'indicator_id': expected one row per area_code, year and indicator; "
        "found a second figure for BU00010101, 2024, clients (the first is in bad.csv, row 2)"]


def test_duplicate_key_across_files(tmp_path):
    files = {"a.csv": long_csv("BU00010101,2024,clients,12,"), "a.indicators.yaml": DECLARATION,
             "bad.csv": long_csv("BU00010101,2024,clients,13,"), "bad.indicators.yaml": DECLARATION}
    assert messages(tmp_path, files) == [
        "bad.csv, row 2, column 'indicator_id': expected one row per area_code, year and indicator; "
        "found a second figure for BU00010101, 2024, clients (the first is in a.csv, row 2)"]


def test_undeclared_indicator(tmp_path):
    declared = "an indicator declared in bad.indicators.yaml (clients, share)"
    assert bad(tmp_path, long_csv("BU00010101,2024,klanten,12,")) == [
        f"bad.csv, row 2, column 'indicator_id': expected {declared}; found 'klanten'"]
    assert bad(tmp_path, "area_code,year,clients,klanten\nBU00010101,2024,1,2\n") == [
        f"bad.csv, row 1, column 'klanten': expected {declared}; found 'klanten'"]


def test_wrong_delimiter(tmp_path):
    assert bad(tmp_path, "area_code|year|indicator_id|value\nBU00010101|2024|clients|12\n") == [
        "bad.csv, row 1: expected columns separated by ',' or ';' (or tab); "
        "found a single column 'area_code|year|indicator_id|value'; it looks separated by '|'"]


def test_decimal_comma_in_a_comma_separated_file(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,share,55,5,20")) == [
        "bad.csv, row 2: expected 5 fields separated by ',', as in the header; found 6 fields "
        "(a decimal comma in a comma-separated file? use ';' as delimiter, or decimal points)"]


def test_wrong_encoding(tmp_path):
    utf16 = long_csv("BU00010101,2024,clients,12,").encode("utf-16")
    assert bad(tmp_path, utf16) == [
        "bad.csv: expected UTF-8 (with or without BOM) or cp1252 text; found UTF-16 (byte order mark FF FE, "
        "Excel's 'Unicode text'); save as 'CSV UTF-8' instead"]
    neither = long_csv("BU00010101,2024,clients,12,").encode() + b"\x81\n"
    assert bad(tmp_path, neither) == [
        "bad.csv: expected UTF-8 (with or without BOM) or cp1252 text; "
        "found byte 0x81 at offset 70, which is neither UTF-8 nor cp1252"]
    assert bad(tmp_path, _xlsx()) == [
        "bad.csv: expected a text file (CSV); found a zip archive: probably an Excel workbook with the extension "
        ".csv; save it as .xlsx or as CSV"]


def test_empty_file(tmp_path):
    assert bad(tmp_path, b"") == [
        "bad.csv: expected a header row and at least one data row; found an empty file (0 bytes)"]
    assert bad(tmp_path, "area_code,year,indicator_id,value\n\n") == [
        "bad.csv: expected at least one data row below the header; found a header but no data rows"]


def test_formulas_in_an_xlsx(tmp_path):
    assert messages(tmp_path, {"bad.xlsx": _xlsx(formula=True)}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 2, column 'value': expected a value (copy the column and paste it as values); "
        "found the formula '=2*6' in cell D2"]


def test_hidden_sheet_in_an_xlsx(tmp_path):
    assert messages(tmp_path, {"bad.xlsx": _xlsx(hidden=True)}, "bad.xlsx") == [
        "bad.xlsx, sheet 'oud': expected only visible sheets (a hidden sheet holds figures nobody reviews); "
        "found a hidden sheet; unhide it or delete it"]


def test_year_without_area_codes(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2019,clients,12,", "BU00010101,twintig,clients,12,")) == [
        "bad.csv, row 2, column 'year': expected a year from 2023 to 2026 (the KWB years in the warehouse, and up "
        "to two years later on the newest area codes); found 2019",
        "bad.csv, row 3, column 'year': expected a year like 2024; found 'twintig'"]


def test_missing_and_faulty_declarations(tmp_path):
    assert messages(tmp_path, {"bad.csv": GOOD_LONG}) == [
        "bad.csv: expected a declaration bad.indicators.yaml next to the file; found none"]
    faulty = DECLARATION.replace("kind: count", "kind: aantal").replace("id: share", "id: inkomen_per_inwoner")
    assert bad(tmp_path, GOOD_LONG, faulty) == [
        "bad.indicators.yaml, column 'clients.kind': expected one of count, rate; found 'aantal'",
        "bad.indicators.yaml, column 'inkomen_per_inwoner.id': expected an id that is not already a CBS indicator "
        "in data/reference/indicators.yaml; found 'inkomen_per_inwoner'"]
    assert bad(tmp_path, GOOD_LONG, "indicators: [\n") [0].startswith(
        "bad.indicators.yaml: expected a YAML document (see README, 'How to add a municipal data file'); "
        "found a YAML syntax error")


def test_unsupported_files_and_orphan_declarations(tmp_path):
    result = scan(tmp_path, {"oud.xls": b"\xd0\xcf\x11\xe0", "weg.indicators.yaml": DECLARATION,
                             "README.md": "notes", ".~lock.x#": ""})
    assert [(f.file, [x.message for x in f.findings]) for f in result.files] == [
        ("oud.xls", ["oud.xls: expected a .csv or .xlsx file with its declaration (README, 'How to add a municipal "
                     "data file'); found a .xls file (an old Excel format; save it as .xlsx)"]),
        ("weg.indicators.yaml", ["weg.indicators.yaml: expected a data file weg.csv or weg.xlsx next to this "
                                 "declaration; found no such file"]),
    ]


# --- a bad file next to a good one --------------------------------------------------------------------------


def test_a_bad_file_is_rejected_whole_and_the_good_one_lands(tmp_path):
    result = scan(tmp_path, {
        "good.csv": GOOD_LONG, "good.indicators.yaml": DECLARATION,
        # One bad row among good ones: none of the file's rows may land.
        "bad.csv": long_csv("BU00010102,2023,clients,40,", "BU00010101,2023,clients,-1,"),
        "bad.indicators.yaml": DECLARATION,
    })
    status = {f.file: f.status for f in result.files}
    assert status == {"bad.csv": "rejected", "good.csv": "accepted"}
    values = result.values_frame()
    assert set(values["file"]) == {"good.csv"} and values.height == 3
    report = result.rejected[0].report()
    assert report.startswith("bad.csv: REJECTED; nothing of this file was loaded. 1 problem:\n"
                             "- bad.csv, row 3, column 'value': expected a count of 0 or more; found '-1'\n")
    assert report.endswith("Fix the file (or its declaration) and run the refresh again.")
    frame = result.status_frame(__import__("datetime").datetime(2025, 1, 1, tzinfo=__import__("datetime").timezone.utc))
    assert frame.columns == ["file", "sheet", "status", "n_rows", "n_indicators", "report", "checked_at", "sha256"]
    assert frame.filter(frame["file"] == "bad.csv")["report"][0] == report


def test_a_workbook_with_one_bad_sheet_is_rejected_whole(tmp_path):
    result = scan(tmp_path, {"bad.xlsx": _xlsx(second_sheet_bad=True)})
    (f,) = result.files
    assert f.status == "rejected" and f.rows == []
    frame = result.status_frame(__import__("datetime").datetime(2025, 1, 1))
    assert frame.select("sheet", "status").rows() == [("data", "rejected"), ("meer", "rejected")]
    data_report = frame.filter(frame["sheet"] == "data")["report"][0]
    assert "Other sheets of this workbook have 1 more problem(s) (see their rows)" in data_report


def _xlsx(formula=False, hidden=False, second_sheet_bad=False) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(["area_code", "year", "indicator_id", "value", "n_cases"])
    ws.append(["BU00010101", 2024, "clients", "=2*6" if formula else 12, None])
    ws.append(["BU00010101", 2024, "share", 40.5, 25])
    decl = wb.create_sheet("indicatoren")
    decl.append(["id", "name_nl", "name_en", "theme", "kind", "unit", "direction", "level", "definition_nl",
                 "gemeente"])
    decl.append(["clients", "Cliënten", "Clients", "welzijn", "count", "count", "neutral", "buurt", "Aantal.",
                 "GM0001"])
    decl.append(["share", "Aandeel", "Share", "welzijn", "rate", "pct", "neutral", "buurt", "Percentage.", "GM0001"])
    if hidden:
        old = wb.create_sheet("oud")
        old.append(["area_code", "year", "indicator_id", "value"])
        old.sheet_state = "hidden"
    if second_sheet_bad:
        more = wb.create_sheet("meer")
        more.append(["area_code", "year", "indicator_id", "value", "n_cases"])
        more.append(["BU00010102", 2024, "clients", -4, None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
