"""The demo's municipal files through the whole refresh: catalogue, values with disclosure control, exports."""

import duckdb
import openpyxl
import polars as pl
import pytest

from bwm.synth.municipal import FILES


@pytest.fixture(scope="module")
def con(demo_warehouse):
    connection = duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True)
    yield connection
    connection.close()


def test_the_demo_files_land(con, demo_warehouse):
    assert [d[0] for d in con.execute("describe municipal.file_status").fetchall()] == [
        "file", "sheet", "status", "n_rows", "n_indicators", "report", "checked_at", "sha256"]
    rows = con.execute("select file, sheet, status from municipal.file_status order by file").fetchall()
    assert rows == [("ambities_zuiderhaven.csv", None, "accepted"),
                    ("buddyprogramma_kanaalzijl.xlsx", "data", "accepted"),
                    ("inkomensondersteuning_noordveen.csv", None, "accepted"),
                    ("schuldhulp_zuiderhaven.csv", None, "accepted")]
    assert {r[0] for r in rows} == {f for f in FILES if not f.endswith(".yaml")}
    checks = {c.check_name: c.passed for c in demo_warehouse["checks"]}
    assert checks["municipal_files_accepted"] and checks["municipal_disclosure_holds"]


def test_municipal_indicators_join_the_catalogue(con):
    rows = con.execute("select indicator_id, unit, aggregate, levels, disclosure, source_label "
                       "from indicators.catalogue where source = 'municipal' order by 1").fetchall()
    assert [r[0] for r in rows] == ["bijstand_huishoudens", "bijstand_langdurig_pct", "buddy_minder_eenzaam_pct",
                                    "buddy_trajecten", "schuldhulp_huishoudens", "schuldhulp_stabiel_pct",
                                    "voedselbank_huishoudens"]
    by_id = {r[0]: r for r in rows}
    assert by_id["buddy_trajecten"][1:5] == ("count", "sum", ["gemeente", "wijk"], "municipal")
    assert by_id["schuldhulp_stabiel_pct"][1:3] == ("pct", "ratio")
    assert by_id["schuldhulp_huishoudens"][5].startswith("Gemeente Zuiderhaven (synthetisch)")


def test_values_are_disclosure_controlled_and_marked(con):
    reasons = dict(con.execute(
        "select missing_reason, count(*) from indicators.values v join indicators.catalogue c using (indicator_id) "
        "where c.source = 'municipal' and missing_reason is not null group by 1").fetchall())
    # One reason for all of our own suppression: which cells are small and which protect others is not published.
    assert reasons["suppressed_small_count"] > 20 and set(reasons) <= {"suppressed_small_count", "not_published"}
    # A published rate has at least the threshold of people with and without the characteristic.
    assert con.execute(
        "select count(*) from indicators.values v join indicators.catalogue c using (indicator_id) "
        "where c.source = 'municipal' and c.unit <> 'count' and v.value is not null "
        "and (v.numerator < 10 or v.denominator - v.numerator < 10)").fetchone()[0] == 0
    assert con.execute(
        "select count(*) from indicators.values where missing_reason = 'suppressed_by_cbs'").fetchone()[0] > 0
    small = con.execute(
        "select count(*) from indicators.values v join indicators.catalogue c using (indicator_id) "
        "where c.source = 'municipal' and v.value is not null and "
        "((c.unit = 'count' and v.value < 10) or (c.unit <> 'count' and v.denominator < 10))").fetchone()[0]
    assert small == 0
    # Every suppressed cell is null all the way down, numerator and denominator included.
    assert con.execute("select count(*) from indicators.values where missing_reason like 'suppressed_%' "
                       "and missing_reason <> 'suppressed_by_cbs' "
                       "and (value is not null or numerator is not null or denominator is not null)").fetchone()[0] == 0
    # A wijk total of a municipal count is the sum of its buurten where all of them are shown.
    mismatch = con.execute(
        """
        with b as (
            select year, indicator_id, 'WK' || substr(area_code, 3, 6) as wijk, sum(value) as s,
                   count(*) filter (value is null) as hidden
            from indicators.values where indicator_id = 'schuldhulp_huishoudens' and area_level = 'buurt' group by all
        )
        select count(*) from b join indicators.values w
          on w.year = b.year and w.area_code = b.wijk and w.indicator_id = b.indicator_id
        where b.hidden = 0 and w.value <> b.s
        """).fetchone()[0]
    assert mismatch == 0


def test_counts_stay_out_of_the_composite_and_the_divide(con):
    assert con.execute("select count(*) from divide.measures where indicator_id in "
                       "('schuldhulp_huishoudens', 'buddy_trajecten')").fetchone()[0] == 0
    assert con.execute("select count(*) from divide.measures where indicator_id = 'bijstand_langdurig_pct'"
                       ).fetchone()[0] > 0
    assert con.execute("select count(*) from indicators.comparisons where indicator_id = 'schuldhulp_huishoudens'"
                       ).fetchone()[0] > 0


def test_the_refresh_writes_an_export_per_municipality(con, demo_warehouse):
    folder = demo_warehouse["exports"]
    # Every gemeente of any year gets one, the merged GM9904 and GM9905 (until 2018) and GM9906 (from 2019) too.
    assert sorted(p.name for p in folder.iterdir()) == [f"GM990{i}" for i in range(1, 7)]
    data = pl.read_parquet(folder / "GM9902" / "GM9902_data_long.parquet")
    warehouse = con.execute(
        "select year, area_code, indicator_id, value, missing_reason from indicators.values "
        "where gemeente_code = 'GM9902' and area_level in ('gemeente', 'wijk', 'buurt')").pl()
    got = data.select("year", "area_code", "indicator_id", "value", "missing_reason")
    key = ["year", "area_code", "indicator_id"]
    assert got.sort(key).equals(warehouse.with_columns(pl.col("year").cast(pl.Int64)).sort(key))
    markers = dict(data.filter(pl.col("indicator_id") == "voedselbank_huishoudens")
                   .group_by("missing_reason").agg(pl.col("marker").unique()).drop_nulls("missing_reason").rows())
    assert markers == {"suppressed_small_count": ["x"]}
    municipal = data.join(con.execute("select indicator_id from indicators.catalogue where source = 'municipal'").pl(),
                          on="indicator_id")
    assert set(municipal["marker"].drop_nulls()) <= {"x", "n.b."}
    notes = pl.read_parquet(folder / "GM9902" / "GM9902_notes.parquet")
    assert not any("x*" in (v or "") for row in notes.rows() for v in row)
    wb = openpyxl.load_workbook(folder / "GM9903" / "GM9903.xlsx", read_only=True)
    assert wb.sheetnames == ["data_long", "data_wide", "definitions", "sources", "notes", "divide_decomposition",
                             "divide_contributions", "divide_stapeling", "divide_definitions", "targets"]
    sources = [r[0] for r in wb["sources"].iter_rows(min_row=2, values_only=True)]
    assert "buddyprogramma_kanaalzijl.xlsx" in sources and "85984NED" in sources


def test_the_demo_targets_are_on_the_pages_and_in_the_export(con, demo_warehouse):
    """ambities_zuiderhaven.csv: GM9901's netto arbeidsparticipatie 67% in 2018 towards 71% in 2030; the line
    expects 67 + 4 * 6/12 = 69% in 2024, which it is: on course. Its bijstand 27.75 per 1,000 (2019) towards 22 in
    2030 expects 27.75 - 5.75 * 5/11 in 2024 and is 30.6: not on course."""
    rows = {r[0]: r[1:] for r in con.execute(
        "select indicator_id, base_year, latest_year, expected_value, status from publish.targets "
        "where area_code = 'GM9901'").fetchall()}
    assert rows["nettoarbeidsparticipatie"][:2] == (2018, 2024)
    assert rows["nettoarbeidsparticipatie"][2:] == (pytest.approx(69.0), "op_koers")
    base = con.execute("select value from indicators.values where area_code = 'GM9901' and year = 2019 "
                       "and indicator_id = 'bijstand_per_1000'").fetchone()[0]
    assert rows["bijstand_per_1000"][2:] == (pytest.approx(base + (22.0 - base) * 5 / 11), "niet_op_koers")
    assert rows["schuldhulp_huishoudens"][0] == 2021  # no base year declared: the first year with a figure
    page = (demo_warehouse["site"] / "gemeente" / "GM9901.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="ambities"'):page.index('<section id="kloof"')]
    assert "Ambities: op koers?" in section and "ambities_zuiderhaven.csv" in section
    assert "<td class=\"n\">67,0% (2018)</td><td class=\"n\">71,0% (2030)</td><td class=\"n\">69,0% (2024)</td>" \
        "<td class=\"n\">69,0%</td><td>op koers</td>" in section
    assert section.count("<td>niet op koers</td>") == 2
    wijk = (demo_warehouse["site"] / "wijk" / "WK990101.html").read_text(encoding="utf-8")
    assert 'id="ambities"' in wijk and 'id="ambities"' not in (
        demo_warehouse["site"] / "gemeente" / "GM9902.html").read_text(encoding="utf-8")
    about = (demo_warehouse["site"] / "over.html").read_text(encoding="utf-8")
    assert "Ambities: op koers of niet" in about and "rechte lijn" in about
    wb = openpyxl.load_workbook(demo_warehouse["exports"] / "GM9901" / "GM9901.xlsx", read_only=True)
    sheet = list(wb["targets"].iter_rows(values_only=True))
    assert sheet[0][:4] == ("Gemeentecode", "Gebiedscode", "Niveau", "Indicator (code)")
    assert {(r[1], r[3], r[13]) for r in sheet[1:]} == {
        ("GM9901", "bijstand_per_1000", "niet_op_koers"), ("GM9901", "nettoarbeidsparticipatie", "op_koers"),
        ("GM9901", "schuldhulp_huishoudens", "niet_op_koers"), ("WK990101", "ww_per_1000", "niet_op_koers")}
    other = openpyxl.load_workbook(demo_warehouse["exports"] / "GM9902" / "GM9902.xlsx", read_only=True)
    assert len(list(other["targets"].iter_rows(values_only=True))) == 1  # the header only: no targets of its own
