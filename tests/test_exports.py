"""Exports: read back and compared with the warehouse, every XLSX sheet, formula injection neutralised, and the
same warehouse giving the same bytes apart from generated_at."""

import csv
import datetime as dt
import io
import zipfile

import duckdb
import openpyxl
import polars as pl
import pytest

from bwm import catalogue, warehouse
from bwm.export import headers, xlsx
from bwm.export.run import export
from bwm.export.tables import ExportError, Selection
from bwm.export.writers import neutralise
from bwm.municipal import store
from bwm.municipal.catalogue import catalogue_rows
from pipelines.cli import main
from pipelines.defs.publish.model import build_model

#: The publish tables the exports read (the divide tables are left out here: the exports write them empty then).
EXPORT_MODEL = ("indicators", "values")
BASIC_TABLES = ("data_long", "data_wide", "definitions", "sources", "notes")
DIVIDE_TABLES = ("divide_decomposition", "divide_contributions", "divide_stapeling", "divide_definitions", "targets")

GENERATED = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
CATALOGUE = {
    "themes": {t: {"name_nl": t, "name_en": t} for t in catalogue.THEMES},
    "indicators": [
        {"id": "inkomen", "name_nl": "Inkomen", "name_en": "Income", "theme": "materiele_welvaart",
         "definition_nl": "Gemiddeld inkomen.", "unit": "eur", "direction": "higher_is_better", "source": "kwb",
         "variable": "inkomen_per_inwoner_eur", "method": "direct", "aggregate": "weighted_mean",
         "weight": "inhabitants", "years": [2023, 2024]},
        {"id": "vermogen", "name_nl": "-Vermogen", "name_en": "Wealth", "theme": "materiele_welvaart",
         "definition_nl": "@SUM(A1) mediaan vermogen.", "unit": "eur", "direction": "higher_is_better",
         "source": "kwb", "variable": "mediaan_vermogen_eur", "method": "direct", "aggregate": "none",
         "weight": "households", "years": [2024]},
    ],
}
MUNICIPAL = pl.DataFrame([{
    "indicator_id": "clients", "name_nl": "+Cliënten", "name_en": "Clients", "theme": "welzijn",
    "count_or_rate": "count", "unit": "count", "direction": "neutral", "level": "buurt",
    "definition_nl": "=HYPERLINK(\"http://example.org\")", "definition_en": None, "source_label": "Gemeente (test)",
    "gemeenten": ["GM0001"], "years": [2024], "files": ["clients.csv"]}], schema=store.TABLES["indicators"])
AREAS = [  # year, code, level, name
    (y, c, lvl, n) for y in (2023, 2024) for c, lvl, n in [
        ("GM0001", "gemeente", "Eerste (test)"), ("WK000101", "wijk", "=cmd|' /C calc'!A0"),
        ("BU00010101", "buurt", "Café Noord"), ("BU00010102", "buurt", "Zuid"), ("GM0002", "gemeente", "Tweede")]]
VALUES = [  # year, code, level, gemeente, indicator, value, missing_reason, source_table
    (2023, "GM0001", "gemeente", "GM0001", "inkomen", 30000.0, None, "T2023"),
    (2023, "WK000101", "wijk", "GM0001", "inkomen", 29000.5, None, "T2023"),
    (2023, "BU00010101", "buurt", "GM0001", "inkomen", None, "suppressed_by_cbs", "T2023"),
    (2024, "GM0001", "gemeente", "GM0001", "inkomen", 31000.25, None, "T2024"),
    (2024, "BU00010101", "buurt", "GM0001", "vermogen", -3500.5, None, "T2024"),
    (2024, "GM0001", "gemeente", "GM0001", "clients", 45.0, None, "clients.csv"),
    (2024, "WK000101", "wijk", "GM0001", "clients", 45.0, None, "clients.csv"),
    (2024, "BU00010101", "buurt", "GM0001", "clients", None, "suppressed_small_count", "clients.csv"),
    (2024, "BU00010102", "buurt", "GM0001", "clients", None, "suppressed_small_count", "clients.csv"),
    (2024, "GM0002", "gemeente", "GM0002", "inkomen", 28000.0, None, "T2024"),
]


@pytest.fixture
def wh(tmp_path):
    path = tmp_path / "wh.duckdb"
    with warehouse.connect(path) as con:
        con.execute("create table staging.areas (year int, area_code varchar, area_level varchar, area_name varchar)")
        con.executemany("insert into staging.areas values (?, ?, ?, ?)", AREAS)
        frame = catalogue.catalogue_frame(catalogue.parse(CATALOGUE))
        warehouse.replace_table_from_frame(con, "indicators", "catalogue",
                                           pl.concat([frame, catalogue_rows(MUNICIPAL, frame)]))
        con.execute("create table indicators.values (year bigint, area_code varchar, area_level varchar, "
                    "gemeente_code varchar, indicator_id varchar, value double, missing_reason varchar, "
                    "source_table varchar, numerator double, denominator double, series_break boolean, "
                    "series_id varchar, break_reason varchar, ci_lower double, ci_upper double)")
        con.executemany("insert into indicators.values values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, null, null, false, null, null, null, null)",
                        VALUES)
        con.execute("create table indicators.territory_values as select *, null::varchar as value_source, "
                    "null::integer as territory_year, null::varchar as predecessor_codes "
                    "from indicators.values limit 0")
        con.execute("create table indicators.comparisons (year bigint, area_code varchar, indicator_id varchar, "
                    "rank_in_gemeente bigint, n_in_gemeente bigint)")
        con.execute("create table raw.cbs_tables (table_id varchar, title varchar, period varchar, modified varchar, "
                    "retrieved_at varchar)")
        con.execute("insert into raw.cbs_tables values ('T2023', 'KWB 2023', '2023', '2024-03-01T02:00:00', "
                    "'2025-01-01T00:00:00+00:00'), ('T2024', 'KWB 2024', '2024', '2025-03-01T02:00:00', "
                    "'2025-01-01T00:00:00+00:00')")
        store.ensure_tables(con)
        warehouse.replace_table_from_frame(con, "municipal", "indicators", MUNICIPAL)
        con.execute("insert into municipal.file_status values ('clients.csv', null, 'accepted', 3, 1, 'ok', "
                    "'2025-02-01 10:00:00+00', 'abc')")
        con.execute("insert into municipal.disclosure_rule values (10, 10)")
        build_export_model(con)
    return path


def build_export_model(con):
    """The tables of the publish model the exports read, from the tables above (what its assets do in a refresh)."""
    build_model(con, EXPORT_MODEL)


def _csv(path, delimiter=","):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def _warehouse_rows(path, where="gemeente_code = 'GM0001'"):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {(y, code, ind): (value, reason) for y, code, ind, value, reason in con.execute(
            "select year, area_code, indicator_id, value, missing_reason from indicators.values "
            f"where {where}").fetchall()}
    finally:
        con.close()


def test_every_format_reads_back_as_the_warehouse(wh, tmp_path):
    out = tmp_path / "out"
    paths = export(wh, Selection(municipalities=("GM0001",)), out, generated_at=GENERATED)
    assert sorted(p.name for p in paths) == sorted(
        ["GM0001.xlsx"] + [f"GM0001_{t}.{e}" for t in (*BASIC_TABLES, *DIVIDE_TABLES) for e in ("csv", "parquet")])
    expected = _warehouse_rows(wh)
    marker = {None: "", "suppressed_by_cbs": ".", "suppressed_small_count": "x"}

    rows = _csv(out / "GM0001_data_long.csv", ";")  # the default dialect: excel-nl
    header, body = rows[0], rows[1:]
    col = {c: i for i, c in enumerate(header)}
    got = {(int(r[col["year"]]), r[col["area_code"]], r[col["indicator_id"]]):
           (float(r[col["value"]].replace(",", ".")) if r[col["value"]] else None, r[col["missing_reason"]] or None)
           for r in body}
    assert got == expected
    assert all(r[col["marker"]] == marker[r[col["missing_reason"]] or None] for r in body)

    parquet = pl.read_parquet(out / "GM0001_data_long.parquet")
    assert {(r["year"], r["area_code"], r["indicator_id"]): (r["value"], r["missing_reason"])
            for r in parquet.iter_rows(named=True)} == expected
    wide = pl.read_parquet(out / "GM0001_data_wide.parquet")
    assert wide.columns[9:] == ["2023", "2024", "latest_year", "latest_value"]  # a column per year of the selection
    assert wide.filter(pl.col("area_code") == "BU00010101")["indicator_id"].to_list() == \
        ["inkomen", "vermogen", "clients"]  # catalogue order, municipal last
    assert wide.filter((pl.col("area_code") == "BU00010101") & (pl.col("indicator_id") == "vermogen"))["2024"][0] == \
        -3500.5

    wb = openpyxl.load_workbook(out / "GM0001.xlsx")
    assert wb.sheetnames == [*BASIC_TABLES, *DIVIDE_TABLES]
    sheets = {name: [list(r) for r in wb[name].iter_rows(values_only=True)] for name in wb.sheetnames}
    assert all(len(sheets[name]) > 1 for name in BASIC_TABLES), "every sheet has a header and rows"
    # This warehouse has no divide tables: their sheets have the header only; the definitions say what they hold.
    assert [len(sheets[name]) for name in DIVIDE_TABLES[:2]] == [1, 1]
    assert sheets["divide_contributions"][0][:3] == ["Gemeentecode", "Niveau", "Indicator (code)"]
    assert len(sheets["divide_definitions"]) > 40
    xl_header = sheets["data_long"][0]
    assert xl_header == [headers.header("data_long", c) for c in header]  # Dutch, with units
    xl = {(r[0], r[col["area_code"]], r[col["indicator_id"]]): (r[col["value"]], r[col["missing_reason"]])
          for r in sheets["data_long"][1:]}
    assert xl == expected
    wide_rows = {(r[3], r[6]): r for r in sheets["data_wide"][1:]}
    wide_header = sheets["data_wide"][0]
    assert wide_rows[("BU00010101", "clients")][wide_header.index("2024")] == "x"
    assert wide_rows[("BU00010102", "clients")][wide_header.index("2024")] == "x"  # one marker for all of ours
    assert wide_rows[("BU00010101", "inkomen")][wide_header.index("2023")] == "."
    assert wide_rows[("GM0001", "clients")][wide_header.index("2024")] == 45
    assert [r[0] for r in sheets["definitions"][1:4]] == ["inkomen", "vermogen", "clients"]
    assert sheets["definitions"][4] == [None] * len(sheets["definitions"][0])  # then the legend of data_wide
    assert [r[0] for r in sheets["sources"][1:]] == ["T2023", "T2024", "clients.csv"]
    sources = {r[0]: r for r in sheets["sources"][1:]}
    assert sources["T2024"][2:5] == ["2024", "2025-03-01T02:00:00", "2025-01-01T00:00:00+00:00"]
    assert sources["clients.csv"][4] == "2025-02-01T10:00:00+00:00"
    notes = {(r[0], r[1]): r[2] for r in sheets["notes"][1:]}
    assert notes[("export", "generated_at")] == "2025-03-01T12:00:00+00:00"
    assert notes[("marker", "suppressed_small_count")] == "x" and notes[("marker", "suppressed_by_cbs")] == "."
    assert notes[("disclosure", "min_count")] == "10"
    # One marker for our own disclosure control: nothing tells which cells are small and which protect others.
    note_texts = [" ".join(str(v) for v in r if v is not None) for r in sheets["notes"][1:]]
    assert not any("x*" in t or "secondary" in t or "kleinste" in t or "smallest" in t for t in note_texts)
    assert wb.properties.created == dt.datetime(2025, 3, 1, 12, 0, 0)


def test_selection_of_themes_years_and_levels(wh, tmp_path):
    export(wh, Selection(municipalities=("GM0001",), themes=("welzijn",), years=(2024,), levels=("buurt",)),
           tmp_path, name="sel", formats=("parquet",), generated_at=GENERATED)
    frame = pl.read_parquet(tmp_path / "sel_data_long.parquet")
    assert frame.select("area_code", "indicator_id").rows() == [("BU00010101", "clients"), ("BU00010102", "clients")]
    with pytest.raises(ExportError, match="unknown theme 'geluk'"):
        Selection(themes=("geluk",))
    with pytest.raises(ExportError, match="nothing to export"):
        export(wh, Selection(years=(1999,)), tmp_path, generated_at=GENERATED)


def test_semicolon_csv_has_decimal_commas(wh, tmp_path):
    export(wh, Selection(municipalities=("GM0001",)), tmp_path, name="nl", formats=("csv",), csv_delimiter=";",
           generated_at=GENERATED)
    rows = _csv(tmp_path / "nl_data_long.csv", ";")
    col = {c: i for i, c in enumerate(rows[0])}
    values = {(r[col["year"]], r[col["area_code"]], r[col["indicator_id"]]): r[col["value"]] for r in rows[1:]}
    assert values[("2023", "WK000101", "inkomen")] == "29000,5"
    assert values[("2024", "BU00010101", "vermogen")] == "-3500,5"  # a number, not text: not neutralised
    assert values[("2024", "GM0001", "clients")] == "45"


def test_xlsx_for_dutch_excel_headers_frozen_ids_filters_rounding_and_no_empty_wide_cell(wh, tmp_path):
    export(wh, Selection(municipalities=("GM0001",)), tmp_path, name="nl", formats=("xlsx", "parquet"),
           generated_at=GENERATED)
    wb = openpyxl.load_workbook(tmp_path / "nl.xlsx")
    long, wide, definitions = wb["data_long"], wb["data_wide"], wb["definitions"]
    header = [c.value for c in long[1]]
    assert header[:3] == ["Jaar", "Gemeentecode", "Gemeente"] and "Waarde (in de eenheid)" in header
    assert "Teller (aantal)" in header and "Noemer (aantal)" in header
    wide_header = [c.value for c in wide[1]]
    assert wide_header == ["Gemeentecode", "Gemeente", "Niveau", "Gebiedscode", "Gebied", "Thema", "Indicator (code)",
                           "Indicator", "Eenheid", "2023", "2024", "Laatste jaar met cijfer",
                           "Laatste cijfer (in de eenheid)"]
    # the identifying columns (up to the indicator's name) and the header row stay in view
    assert long.freeze_panes == "J2" and wide.freeze_panes == "J2" and definitions.freeze_panes == "C2"
    for ws in wb.worksheets:
        table_rows = next((i for i, row in enumerate(ws.iter_rows(values_only=True), 1) if all(
            v is None for v in row)), ws.max_row + 1) - 1
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(ws[1]))}{table_rows}", ws.title
    assert long.max_row == 1 + len(_warehouse_rows(wh))

    # data_wide: one row per area and indicator, a column per year; no cell empty; shown rounded as on the site
    rows = {(r[3], r[6]): r for r in wide.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {("GM0001", "inkomen"), ("WK000101", "inkomen"), ("BU00010101", "inkomen"),
                         ("BU00010101", "vermogen"), ("GM0001", "clients"), ("WK000101", "clients"),
                         ("BU00010101", "clients"), ("BU00010102", "clients")}
    assert rows[("GM0001", "inkomen")][9:] == (30000, 31000.25, 2024, 31000.25)  # KWB 2023 and 2024 on one row
    assert rows[("BU00010101", "vermogen")][9:] == ("\u2014", -3500.5, 2024, -3500.5)  # no 2023 row: marked
    assert rows[("BU00010101", "inkomen")][9:] == (".", "\u2014", "\u2014", "\u2014")  # CBS suppressed, no 2024
    assert rows[("BU00010102", "clients")][9:] == ("\u2014", "x", "\u2014", "\u2014")
    assert all(v is not None for row in rows.values() for v in row), "every empty cell of data_wide has a marker"
    cells = {(r[3].value, r[6].value): r for r in wide.iter_rows(min_row=2)}
    assert cells[("GM0001", "inkomen")][10].number_format == "#,##0"  # euros whole, as on the site
    assert cells[("GM0001", "inkomen")][12].number_format == "#,##0"  # latest value too
    assert cells[("GM0001", "inkomen")][11].number_format == "General"  # a year is no amount
    long_values = [r[header.index("Waarde (in de eenheid)")] for r in long.iter_rows(min_row=2)]
    assert {c.number_format for c in long_values} == {"General"}
    assert 31000.25 in [c.value for c in long_values]  # the long sheet keeps (and shows) full precision

    # every marker in the wide sheet is explained under the definitions sheet's table, and so is its shape
    legend = {r[0]: r[1] for r in definitions.iter_rows(min_row=2, values_only=True) if r[0] is not None}
    used = {v for row in rows.values() for v in row[9:] if isinstance(v, str)}
    assert used == {".", "x", "\u2014"} and used <= set(legend)
    assert legend["x"].startswith("Afgeschermd") and legend["\u2014"].startswith("Geen cijfer")
    texts = [r[0] for r in definitions.iter_rows(values_only=True) if r[0]]
    assert "Vorm van data_wide" in texts and any(t.startswith("data_wide heeft één rij per gebied en indicator")
                                                 for t in texts if isinstance(t, str))
    # Parquet keeps the same shape with nulls (typed data, the long table carries the reasons)
    parquet = pl.read_parquet(tmp_path / "nl_data_wide.parquet")
    assert parquet.height == 8 and parquet.schema["2023"] == pl.Float64 and parquet.schema["latest_year"] == pl.Int64


def test_xlsx_wide_numbers_have_the_site_decimals_of_their_unit(tmp_path):
    from bwm.export import writers

    frame = pl.DataFrame({"unit": ["pct", "eur", "per_1000", "count", "km", "index"],
                          "2024": [12.345, 32300.4, 4.56, 45.0, 1.23, 0.5], "latest_value": [1.0] * 6})
    path = tmp_path / "w.xlsx"
    path.write_bytes(xlsx.write_sheets([("data_wide", writers.xlsx_sheet("data_wide", frame))], GENERATED))
    ws = openpyxl.load_workbook(path)["data_wide"]
    formats = [(r[0].value, r[1].number_format, r[2].number_format) for r in ws.iter_rows(min_row=2)]
    # bwm.site.format writes 12,3% / € 32.300 / 4,6 per 1.000 / 45 / 1,2 km / 0,5 (one decimal by default)
    assert formats == [("pct", "#,##0.0", "#,##0.0"), ("eur", "#,##0", "#,##0"), ("per_1000", "#,##0.0", "#,##0.0"),
                       ("count", "#,##0", "#,##0"), ("km", "#,##0.0", "#,##0.0"), ("index", "#,##0.0", "#,##0.0")]
    assert [r[1].value for r in ws.iter_rows(min_row=2)] == [12.345, 32300.4, 4.56, 45, 1.23, 0.5]  # full values


def test_csv_dialect_setting_defaults_to_what_dutch_excel_opens(wh, tmp_path, monkeypatch):
    from bwm.settings import Settings, SettingsError

    assert Settings.from_env({}).export_csv_dialect == "excel-nl"
    assert Settings.from_env({"BWM_EXPORT_CSV_DIALECT": " International "}).export_csv_dialect == "international"
    with pytest.raises(SettingsError, match="BWM_EXPORT_CSV_DIALECT='semicolon' is not a CSV dialect"):
        Settings.from_env({"BWM_EXPORT_CSV_DIALECT": "semicolon"})
    monkeypatch.setenv("BWM_WAREHOUSE", str(wh))
    for dialect, sep, value in (("excel-nl", ";", "29000,5"), ("international", ",", "29000.5")):
        monkeypatch.setenv("BWM_EXPORT_CSV_DIALECT", dialect)
        assert main(["export", "--municipalities", "GM0001", "--formats", "csv", "--out", str(tmp_path / dialect),
                     "--generated-at", "2025-03-01T12:00:00"]) == 0
        raw = (tmp_path / dialect / "GM0001_data_long.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # UTF-8 with BOM, CRLF, in both dialects
        rows = _csv(tmp_path / dialect / "GM0001_data_long.csv", sep)
        col = {c: i for i, c in enumerate(rows[0])}
        assert len(rows[0]) == 21  # split into columns by this separator: nothing lands in column A only
        assert {r[col["value"]] for r in rows[1:] if r[col["area_code"]] == "WK000101"} >= {value}
    wide = _csv(tmp_path / "excel-nl" / "GM0001_data_wide.csv", ";")
    assert all(cell != "" for row in wide[1:] for cell in row), "every empty cell of data_wide has a marker"


def test_formula_injection_is_neutralised(wh, tmp_path):
    assert neutralise("=1+1") == "'=1+1" and neutralise("@x") == "'@x" and neutralise("-x") == "'-x"
    assert neutralise("+x") == "'+x" and neutralise("Café") == "Café" and neutralise("") == ""
    export(wh, Selection(municipalities=("GM0001",)), tmp_path, name="f", formats=("csv", "xlsx"),
           generated_at=GENERATED)
    text = (tmp_path / "f_data_long.csv").read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text and ";=cmd" not in text
    assert "'-Vermogen" in text and "'+Cliënten" in text
    definitions = (tmp_path / "f_definitions.csv").read_text(encoding="utf-8-sig")
    assert "'@SUM(A1) mediaan vermogen." in definitions
    assert "\"'=HYPERLINK(\"\"http://example.org\"\")\"" in definitions
    wb = openpyxl.load_workbook(tmp_path / "f.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "no cell is a formula"
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"'=cmd|' /C calc'!A0", "'-Vermogen", "'+Cliënten", "'@SUM(A1) mediaan vermogen."} <= texts
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    numbers = [c.value for c in cells if isinstance(c.value, float) and c.value < 0]
    assert numbers == [-3500.5, -3500.5, -3500.5]  # long, wide (2024 and latest): negative numbers stay numbers


def test_same_warehouse_same_bytes_apart_from_generated_at(wh, tmp_path):
    a = export(wh, Selection(municipalities=("GM0001",)), tmp_path / "a", generated_at=GENERATED)
    b = export(wh, Selection(municipalities=("GM0001",)), tmp_path / "b", generated_at=GENERATED)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    later = dt.datetime(2026, 7, 9, 8, 30, 5, tzinfo=dt.UTC)
    c = export(wh, Selection(municipalities=("GM0001",)), tmp_path / "c", generated_at=later)
    for pa, pc in zip(a, c):
        if pa.suffix == ".xlsx":
            za, zc = zipfile.ZipFile(pa), zipfile.ZipFile(pc)
            assert za.namelist() == zc.namelist()
            for name in za.namelist():
                xa, xc = za.read(name), zc.read(name)
                for stamp_a, stamp_c in ((GENERATED.isoformat(), later.isoformat()),
                                         ("2025-03-01T12:00:00Z", "2026-07-09T08:30:05Z")):
                    xa = xa.replace(stamp_a.encode(), stamp_c.encode())
                assert xa == xc, name
        elif "notes" in pa.name:
            assert pa.read_bytes() != pc.read_bytes()
            if pa.suffix == ".csv":
                assert pa.read_text(encoding="utf-8-sig").replace(GENERATED.isoformat(), later.isoformat()) == \
                    pc.read_text(encoding="utf-8-sig")
            else:
                fa, fc = pl.read_parquet(pa), pl.read_parquet(pc)
                assert fa.filter(pl.col("item") != "generated_at").equals(fc.filter(pl.col("item") != "generated_at"))
        else:
            assert pa.read_bytes() == pc.read_bytes(), pa.name


def test_bwm_export_command(wh, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BWM_WAREHOUSE", str(wh))
    monkeypatch.setenv("BWM_EXPORT_DIR", str(tmp_path / "exports"))
    assert main(["export", "--municipalities", "GM0001", "--years", "2023-2024", "--formats", "csv,parquet",
                 "--csv-delimiter", ";", "--generated-at", "2025-03-01T12:00:00"]) == 0
    out = capsys.readouterr().out
    assert "Exported municipalities: GM0001; themes: all; years: 2023, 2024; levels: gemeente, wijk, buurt" in out
    written = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert written == sorted(f"GM0001_2023-2024_{t}.{e}" for t in (*BASIC_TABLES, *DIVIDE_TABLES)
                             for e in ("csv", "parquet"))
    assert main(["export", "--themes", "geluk"]) == 1
    assert "Export failed: unknown theme 'geluk'" in capsys.readouterr().err
