"""What a municipal data file must not be able to do: lose rows silently, stop the refresh for every other
municipality, take quadratic time, read files outside the drop folder, or hide figures from review. Each test
has the input of the issue and the exact message it now gives (README, "What we tried and what happens")."""

import datetime as dt
import io
import os
import re
import shutil
import threading
import time
import zipfile

import duckdb
import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill

from bwm.municipal import folder as folder_module
from bwm.municipal.findings import CHECKS, Finding
from bwm.municipal.folder import scan_folder
from bwm.municipal.geography import Geography
from bwm.municipal.limits import MAX_FIELD_CHARS
from bwm.settings import PROJECT_ROOT, Settings
from tests.test_municipal_validation import AREAS, DECLARATION, GEO, GOOD_LONG, RESERVED, _xlsx, bad, long_csv, messages

DEMO_DIR = PROJECT_ROOT / "data" / "municipal" / "demo"
SCHULDHULP = "schuldhulp_zuiderhaven.csv"


def scan(tmp_path, files: dict, **kwargs):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return scan_folder(tmp_path, GEO, RESERVED, **kwargs)


def only(result, name):
    (f,) = [f for f in result.files if f.file == name]
    return f


def patched_xlsx(data: bytes, sheet: str, pattern: str, replacement: str) -> bytes:
    """The workbook with a regular expression replaced in the XML of one sheet (what a script could write)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == sheet:
                text, n = re.subn(pattern, replacement, content.decode("utf-8"))
                assert n == 1, pattern
                content = text.encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def styled_xlsx(change) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(_xlsx()))
    change(wb["data"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_every_new_check_is_listed():
    for check in ("quoting", "cases_on_count", "implausible_number", "size_limit", "not_regular_file",
                  "hidden_cells", "invisible_text", "check_failed"):
        assert check in CHECKS


# --- 3. a stray quote loses data silently --------------------------------------------------------------------


def test_a_stray_quote_at_the_end_of_row_2_of_the_demo_file_is_rejected_naming_the_row(tmp_path):
    lines = (DEMO_DIR / SCHULDHULP).read_text(encoding="utf-8").split("\n")
    assert len([line for line in lines[1:] if line.strip()]) == 343
    lines[1] += '"'
    result = scan(tmp_path, {SCHULDHULP: "\n".join(lines),
                             "schuldhulp_zuiderhaven.indicators.yaml":
                                 (DEMO_DIR / "schuldhulp_zuiderhaven.indicators.yaml").read_text()})
    f = only(result, SCHULDHULP)
    assert f.status == "rejected" and f.rows == []
    assert [x.message for x in f.findings] == [
        "schuldhulp_zuiderhaven.csv, row 2, column 'n_cases': expected each row on its own line (a quote \" that "
        "opens a field closes it on the same line); found a quote that is not closed on that line, so lines 2 to 344 "
        "(the end of the file) are read as one row: 1 data row read from 343 lines of data"]


def test_a_quoted_line_break_in_the_middle_is_rejected_too(tmp_path):
    # Every row on its own line: the rows read must be as many as the lines (less header and blank lines).
    assert bad(tmp_path, long_csv("BU00010101,2024,clients,12,", '"BU00010102\nX",2024,clients,30,',
                                  "", "BU00010101,2024,share,55.5,20")) == [
        "bad.csv, row 3, column 'area_code': expected each row on its own line (a quote \" that opens a field closes "
        "it on the same line); found a quote that is not closed on that line, so lines 3 to 4 are read as one row: "
        "3 data rows read from 4 lines of data"]


def test_a_number_of_cases_on_a_count_row_is_an_error(tmp_path):
    assert bad(tmp_path, long_csv("BU00010101,2024,clients,12,7")) == [
        "bad.csv, row 2, column 'n_cases': expected an empty cell (n_cases is for rates only, and clients is a "
        "count); found '7'"]


# --- 4. tiny files that stopped the whole refresh ------------------------------------------------------------


def test_a_400_digit_number_is_rejected_by_its_row_and_column(tmp_path):
    digits = "1" * 400
    assert bad(tmp_path, long_csv(f"BU00010101,2024,clients,{digits},", f"BU00010101,2024,share,50,{digits}",
                                  f"BU00010102,{digits},clients,3,")) == [
        "bad.csv, row 2, column 'value': expected a number of a plausible size; found "
        f"'{'1' * 77}...', too large to compute with",
        "bad.csv, row 3, column 'n_cases': expected a number of cases of a plausible size; found "
        f"'{'1' * 77}...', too large to compute with",
        f"bad.csv, row 4, column 'year': expected a year like 2024; found '{'1' * 77}...'"]


def test_1e400_in_an_xlsx_cell_is_rejected_by_its_cell(tmp_path):
    data = patched_xlsx(_xlsx(), "xl/worksheets/sheet1.xml", r'(<c r="D2" t="n"><v>)12(</v>)', r"\g<1>1E400\g<2>")
    assert messages(tmp_path, {"bad.xlsx": data}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 2, column 'value': expected a number of a plausible size; found inf, too large "
        "to compute with"]


def test_a_count_of_1_7e308_is_rejected_and_a_count_is_at_most_the_inhabitants(tmp_path):
    data = patched_xlsx(_xlsx(), "xl/worksheets/sheet1.xml", r'(<c r="D2" t="n"><v>)12(</v>)', r"\g<1>1.7E308\g<2>")
    assert messages(tmp_path, {"bad.xlsx": data}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 2, column 'value': expected a count of at most 20 000 000 (the cap where an "
        "area's inhabitants are unknown); found 1.7e+308"]
    # Where the warehouse knows the inhabitants (staging.areas), a count (or number of cases) is at most those.
    geo = Geography.from_rows([(*a, 1500 if a[1] == "BU00010101" else None) for a in AREAS])
    (tmp_path / "b").mkdir()
    # CBS rounds buurt inhabitants to fives, so 1 505 is still plausible for a buurt published with 1 500.
    (tmp_path / "b" / "bad.csv").write_text(long_csv("BU00010101,2024,clients,1506,", "BU00010101,2024,share,5,1600",
                                                     "BU00010102,2024,clients,1506,",
                                                     "BU00010101,2024,clients_b,1505,"))
    (tmp_path / "b" / "bad.indicators.yaml").write_text(
        DECLARATION + DECLARATION.split("indicators:\n", 1)[1].replace("id: clients", "id: clients_b")
        .replace("id: share", "id: share_b"))
    (f,) = scan_folder(tmp_path / "b", geo, RESERVED).files
    assert [x.message for x in sorted(f.findings)] == [
        "bad.csv, row 2, column 'value': expected a count of at most 1 505 (the inhabitants of BU00010101 in 2024, "
        "1 500, plus CBS's rounding); found '1506'",
        "bad.csv, row 3, column 'n_cases': expected a number of cases of at most 1 505 (the inhabitants of "
        "BU00010101 in 2024, 1 500, plus CBS's rounding); found '1600'"]


def test_inhabitants_are_read_from_staging_areas():
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute("create table staging.areas (year int, area_code varchar, area_level varchar, gemeente_code varchar, "
                "wijk_code varchar, area_name varchar, inhabitants bigint)")
    con.execute("insert into staging.areas values (2024, 'BU00010101', 'buurt', 'GM0001', 'WK000101', 'B', 1234), "
                "(2024, 'BU00010102', 'buurt', 'GM0001', 'WK000101', 'C', null)")
    geo = Geography.from_warehouse(con)
    assert geo.inhabitants(2024, "BU00010101") == 1234 and geo.inhabitants(2024, "BU00010102") is None


def test_a_6_8_kb_workbook_with_a_cell_at_xfd1048576_is_rejected_quickly_and_the_others_land(tmp_path):
    wb = openpyxl.load_workbook(DEMO_DIR / "buddyprogramma_kanaalzijl.xlsx")
    wb["data"]["XFD1048576"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    assert len(buf.getvalue()) < 7 * 1024
    started = time.perf_counter()
    result = scan(tmp_path, {"buddy.xlsx": buf.getvalue(), "good.csv": GOOD_LONG, "good.indicators.yaml": DECLARATION})
    assert time.perf_counter() - started < 10
    assert [x.message for x in only(result, "buddy.xlsx").findings] == [
        "buddy.xlsx, sheet 'data', row 1048576, column 'XFD': expected a used range of at most 1 000 columns (A to "
        "ALL) and 10 000 000 cells in the workbook; found a value in cell XFD1048576 (column 16 384)"]
    assert only(result, "good.csv").accepted


def test_a_used_range_beyond_the_cells_limit_stops_the_workbook(tmp_path):
    data = patched_xlsx(_xlsx(), "xl/worksheets/sheet1.xml", r"</sheetData>",
                        '<row r="1048576"><c r="ALL1048576" t="n"><v>1</v></c></row></sheetData>')
    assert messages(tmp_path, {"bad.xlsx": data}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 1048576, column 'ALL': expected a used range of at most 1 000 columns (A to ALL) "
        "and 10 000 000 cells in the workbook; found a value in cell ALL1048576, which makes the used ranges "
        "1 048 576 000 cells"]


BILLION_LAUGHS = (
    "gemeente: GM0001\n"
    'lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "indicators: *i\n")


def test_a_yaml_of_nested_aliases_is_rejected(tmp_path):
    assert len(BILLION_LAUGHS) < 724
    assert bad(tmp_path, GOOD_LONG, BILLION_LAUGHS) == [
        "bad.indicators.yaml: expected a declaration with at most 20 aliases (*name) that, written out, holds at most "
        "1 000 000 characters; found alias number 21 at line 5, column 14"]
    # Few aliases of a long text: the characters once written out count too.
    long_text = "x" * 60_000
    few = DECLARATION.replace("source: Gemeente Eerste (test)", f"source: &s {long_text}") + "".join(
        f"extra_{i}: *s\n" for i in range(20))
    assert bad(tmp_path, GOOD_LONG, few) == [
        "bad.indicators.yaml: expected a declaration with at most 20 aliases (*name) that, written out, holds at most "
        "1 000 000 characters; found more than 1 000 000 characters once the aliases are written out (the anchors "
        "from line 1 on)"]
    # An anchor and a few aliases, as a declaration may use them, are fine.
    fine = DECLARATION.replace("gemeente: GM0001", "gemeente: &gm GM0001").replace(
        "    level: buurt\n", "    level: buurt\n    gemeente: *gm\n")
    (tmp_path / "ok").mkdir()
    assert scan(tmp_path / "ok", {"ok.csv": GOOD_LONG, "ok.indicators.yaml": fine}).files[0].accepted


def test_a_csv_field_over_128_kb_is_rejected_by_its_row_and_column(tmp_path):
    big = "x" * (129 * 1024)
    assert bad(tmp_path, long_csv("BU00010101,2024,clients,12,", f"BU00010102,2024,clients,{big},")) == [
        "bad.csv, row 3, column 'value': expected a field of at most 10 000 characters; found 132 096 characters"]
    assert bad(tmp_path, "area_code,year,indicator_id,value,n_cases,area_name\n"
               f"BU00010101,2024,clients,12,,{'y' * (MAX_FIELD_CHARS + 1)}\n") == [
        "bad.csv, row 2, column 'area_name': expected a field of at most 10 000 characters; found 10 001 characters"]


def test_a_file_beyond_bwm_municipal_max_mb_is_rejected_unread(tmp_path):
    result = scan(tmp_path, {"bad.csv": GOOD_LONG + "BU00010102,2024,share,1,1\n" * 50_000,
                             "bad.indicators.yaml": DECLARATION}, max_mb=1)
    f = only(result, "bad.csv")
    assert f.sha256 is None and [x.message for x in f.findings] == [
        "bad.csv: expected a file of at most 1 MB (BWM_MUNICIPAL_MAX_MB); found 1.2 MB; it was not read"]
    assert Settings.from_env({}).municipal_max_mb == 50
    assert Settings.from_env({"BWM_MUNICIPAL_MAX_MB": "5"}).municipal_max_mb == 5


def test_a_crash_inside_one_file_rejects_that_file_and_the_refresh_goes_on(tmp_path, monkeypatch):
    real = folder_module.validate_sheet

    def validate(sheet, *args):
        if sheet.file == "bad.csv":
            raise MemoryError()
        return real(sheet, *args)

    monkeypatch.setattr(folder_module, "validate_sheet", validate)
    result = scan(tmp_path, {"bad.csv": GOOD_LONG, "bad.indicators.yaml": DECLARATION,
                             "good.csv": GOOD_LONG.replace("2024", "2023"), "good.indicators.yaml": DECLARATION})
    assert [x.message for x in only(result, "bad.csv").findings] == [
        "bad.csv: expected a file the checks can read to the end; found the checks stopped on MemoryError; the file "
        "is rejected, the other files are checked as usual"]
    assert only(result, "good.csv").accepted and result.values_frame().height == 3


# --- 5. the report is linear ---------------------------------------------------------------------------------


def test_a_file_of_duplicate_rows_is_reported_in_linear_time(tmp_path):
    # 30 000 duplicate rows (~0.8 MB) took ~40 s with the quadratic report; now well under a second or two.
    started = time.perf_counter()
    result = scan(tmp_path, {"bad.csv": long_csv(*["BU00010101,2024,clients,12,"] * 30_001),
                             "bad.indicators.yaml": DECLARATION})
    frame = result.status_frame(dt.datetime(2025, 1, 1))
    assert time.perf_counter() - started < 15
    report = frame["report"][0]
    assert report.startswith("bad.csv: REJECTED; nothing of this file was loaded. 30000 problems:\n")
    assert "- ... 29950 more; in all: 30000 x two rows for the same area, year and indicator" in report


# --- 6. symbolic links and other things that are not regular files -----------------------------------------


def test_a_symlink_to_a_secrets_file_is_rejected_without_reading_it(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    secret = tmp_path / "secrets.txt"
    secret.write_text("area_code,year,TOPSECRET-PASSWORD\n")
    (drop / "leak.csv").symlink_to(secret)
    (drop / "leak.indicators.yaml").write_text(DECLARATION)
    (drop / "good.csv").write_text(GOOD_LONG)
    (drop / "good.indicators.yaml").symlink_to(secret)
    result = scan_folder(drop, GEO, RESERVED)
    assert {f.file: [x.message for x in f.findings] for f in result.files} == {
        "good.csv": ["good.csv: expected a declaration good.indicators.yaml that is a regular file; found a symbolic "
                     "link; it was not opened"],
        "good.indicators.yaml": ["good.indicators.yaml: expected a regular file in the folder (no link, pipe or "
                                 "device); found a symbolic link; it was not opened (copy the file itself into the "
                                 "folder)"],
        "leak.csv": ["leak.csv: expected a regular file in the folder (no link, pipe or device); found a symbolic "
                     "link; it was not opened (copy the file itself into the folder)"],
    }
    everything = result.report() + str(result.status_frame(dt.datetime(2025, 1, 1)).rows())
    assert "TOPSECRET" not in everything and str(secret) not in everything
    assert only(result, "leak.csv").sha256 is None


def test_a_link_swapped_in_after_the_listing_is_not_followed(tmp_path):
    secret = tmp_path / "secrets.txt"
    secret.write_text("TOPSECRET\n")
    (tmp_path / "drop").mkdir()
    link = tmp_path / "drop" / "x.csv"
    link.symlink_to(secret)
    with pytest.raises(folder_module._Unread) as err:
        folder_module.read_regular(link, 1000)
    assert err.value.finding_args[-1] == "a symbolic link; it was not opened"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_does_not_block_the_refresh(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "pipe.indicators.yaml").write_text(DECLARATION)
    done: list = []
    worker = threading.Thread(target=lambda: done.append(scan_folder(tmp_path, GEO, RESERVED)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the scan blocked on a named pipe"
    assert [x.message for x in only(done[0], "pipe.csv").findings] == [
        "pipe.csv: expected a regular file in the folder (no link, pipe or device); found a named pipe (FIFO); it was "
        "not opened (copy the file itself into the folder)"]


def test_subfolders_are_still_not_read(tmp_path):
    (tmp_path / "demo").mkdir()
    shutil.copy(DEMO_DIR / SCHULDHULP, tmp_path / "demo" / SCHULDHULP)
    assert scan_folder(tmp_path, GEO, RESERVED).files == []


# --- 7. XLSX: hidden rows and columns, text in the colour of its fill ------------------------------------------


def test_a_hidden_row_with_values_is_rejected_naming_sheet_and_cell(tmp_path):
    def hide(ws):
        ws.row_dimensions[3].hidden = True

    assert messages(tmp_path, {"bad.xlsx": styled_xlsx(hide)}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 3: expected only visible rows and columns (a hidden row or column holds figures "
        "nobody reviews); found row 3 hidden, with a value in cell A3; unhide it or delete it"]


def test_a_hidden_column_with_values_is_rejected_naming_sheet_and_cell(tmp_path):
    def hide(ws):
        ws.column_dimensions["E"].hidden = True

    assert messages(tmp_path, {"bad.xlsx": styled_xlsx(hide)}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 1, column 'E': expected only visible rows and columns (a hidden row or column "
        "holds figures nobody reviews); found column E hidden, with a value in cell E1; unhide it or delete it"]


def test_white_on_white_and_text_in_the_colour_of_its_fill_are_rejected(tmp_path):
    def paint(ws):
        ws["D2"].font = Font(color="FFFFFFFF")  # white on no fill
        ws["D3"].font = Font(color="FFFF0000")
        ws["D3"].fill = PatternFill("solid", fgColor="FFFF0000")  # red on red
        ws["E3"].number_format = ";;;"  # a format that shows nothing

    assert messages(tmp_path, {"bad.xlsx": styled_xlsx(paint)}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 2, column 'value': expected text that can be read (a font colour other than the "
        "cell's fill, and a number format that shows the value); found white text on a white cell in D2 (value 12)",
        "bad.xlsx, sheet 'data', row 3, column 'n_cases': expected text that can be read (a font colour other than the "
        "cell's fill, and a number format that shows the value); found the number format ';;;', which shows nothing "
        "in E3 (value 25)",
        "bad.xlsx, sheet 'data', row 3, column 'value': expected text that can be read (a font colour other than the "
        "cell's fill, and a number format that shows the value); found text in the colour of its fill (#FF0000) in "
        "D3 (value 40.5)"]


def test_coloured_text_that_can_be_read_is_fine(tmp_path):
    def paint(ws):
        ws["D2"].font = Font(color="FFFFFFFF")
        ws["D2"].fill = PatternFill("solid", fgColor="FF000080")  # white on navy
        ws["D3"].font = Font(color="FFFF0000")  # red on no fill

    assert scan(tmp_path, {"good.xlsx": styled_xlsx(paint)}).files[0].accepted


# --- housekeeping ------------------------------------------------------------------------------------------------


def test_a_workbook_that_cannot_be_opened_says_so_not_no_declaration(tmp_path):
    result = scan(tmp_path, {"bad.xlsx": b"PK\x03\x04 this is no workbook"})
    f = only(result, "bad.xlsx")
    assert [x.message for x in f.findings] == [
        "bad.xlsx: expected an Excel workbook (.xlsx); found a file that cannot be opened as XLSX: BadZipFile: File "
        "is not a zip file"]


def test_a_yaml_that_does_not_parse_is_reported_with_line_and_column(tmp_path):
    broken = DECLARATION.replace("  - id: share", "  - id share:\n  x")
    result = scan(tmp_path, {"tags.csv": GOOD_LONG, "tags.indicators.yaml": broken})
    f = only(result, "tags.csv")
    assert [x.message for x in f.findings] == [
        "tags.indicators.yaml: expected a YAML document (see README, 'How to add a municipal data file'); found a "
        "YAML syntax error at line 15, column 12: could not find expected ':'"]
    report = f.report()
    assert "Declared in tags.indicators.yaml: ." not in report
    assert "Declared in tags.indicators.yaml: nothing could be read (see the problems above)." in report


def test_findings_are_small():
    assert not hasattr(Finding("f", None, None, None, "formula", "e", "f"), "__dict__")


def test_an_integer_of_400_or_5000_digits_in_an_xlsx_cell_is_rejected_by_its_cell(tmp_path):
    data = patched_xlsx(_xlsx(), "xl/worksheets/sheet1.xml", r'(<c r="D2" t="n"><v>)12(</v>)',
                        r"\g<1>" + "9" * 400 + r"\g<2>")
    assert messages(tmp_path, {"bad.xlsx": data}, "bad.xlsx") == [
        "bad.xlsx, sheet 'data', row 2, column 'value': expected a number of a plausible size; found "
        f"{'9' * 77}..., too large to compute with"]
    data = patched_xlsx(_xlsx(), "xl/worksheets/sheet1.xml", r'(<c r="D2" t="n"><v>)12(</v>)',
                        r"\g<1>" + "9" * 5000 + r"\g<2>")
    (message,) = messages(tmp_path, {"bad.xlsx": data}, "bad.xlsx")
    assert message.startswith("bad.xlsx, sheet 'data', row 2: expected a number of a plausible size; found a value in "
                              "cell D2 that cannot be read (ValueError: Exceeds the limit (4300 digits)")
