"""Gemeente figures of today's gemeente before a merger, aggregated from its predecessors (indicators.territory_values,
shown by publish.values): on the demo's merger (GM9904 + GM9905 -> GM9906 in 2019) against a computation of our
own, and on a hand-built Groningen-type merger (a gemeente absorbing another under its own code)."""

import duckdb
import pytest

from bwm import catalogue, warehouse
from pipelines.defs.publish.model import build_model
from pipelines.sql import sql_file

PREDECESSORS = ("GM9904", "GM9905")


@pytest.fixture(scope="module")
def demo(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True)
    yield con
    con.close()


def _rows(con, sql, params=()):
    cur = con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def test_merged_gemeente_has_flagged_figures_before_its_merger(demo):
    rows = _rows(demo, "select year, value_source, territory_year, predecessor_codes, series_break, series_id "
                       "from publish.values where area_code = 'GM9906' and area_level = 'gemeente' and source = 'kwb'")
    before = [r for r in rows if r["year"] < 2019]
    assert sorted({r["year"] for r in before}) == list(range(2013, 2019))
    assert {(r["value_source"], r["territory_year"], r["predecessor_codes"]) for r in before} == {
        ("aggregated_predecessors", 2024, "GM9904;GM9905")}
    assert {r["value_source"] for r in rows if r["year"] >= 2019} == {"cbs"}
    # one series across the merger (same territory): the line runs on from 2018 into 2019
    assert {r["series_id"] for r in before} == {r["series_id"] for r in rows if r["year"] == 2019}
    assert not any(r["series_break"] for r in before)
    # CBS's own figures are untouched, and indicators.values itself has no GM9906 row before 2019
    assert demo.execute("select count(*) from indicators.values join indicators.catalogue using (indicator_id) "
                        "where area_code = 'GM9906' and year < 2019 and source = 'kwb'").fetchone()[0] == 0


def _predecessor(demo, year, indicator_id):
    """The predecessors' published figures and their weights, read separately from publish.values/publish.areas."""
    return _rows(demo, "select v.area_code, v.value, v.numerator, v.denominator, a.inhabitants, a.households "
                       "from publish.values v join publish.areas a using (year, area_code) "
                       "where v.year = ? and v.indicator_id = ? and v.area_code in ('GM9904', 'GM9905')",
                 (year, indicator_id))


def _aggregate(demo, year, indicator_id):
    return demo.execute("select value, numerator, denominator, missing_reason from publish.values "
                        "where year = ? and area_code = 'GM9906' and indicator_id = ?", [year, indicator_id]).fetchone()


@pytest.mark.parametrize("year", [2013, 2016, 2018])
def test_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators(demo, year):
    parts = _predecessor(demo, year, "bijstand_per_1000")
    assert len(parts) == 2 and all(p["numerator"] is not None for p in parts)
    num, den = sum(p["numerator"] for p in parts), sum(p["denominator"] for p in parts)
    value, numerator, denominator, reason = _aggregate(demo, year, "bijstand_per_1000")
    assert (numerator, denominator, reason) == (num, den, None)
    assert value == pytest.approx(num / den * 1000, rel=1e-12)
    # and not the plain mean of the two rates
    assert value != pytest.approx(sum(p["value"] for p in parts) / 2, rel=1e-6)


@pytest.mark.parametrize(("indicator_id", "weight"), [("inkomen_per_inwoner", "inhabitants"),
                                                      ("huishoudens_laag_inkomen", "households"),
                                                      ("woz_waarde", "households")])
def test_weighted_mean_uses_the_catalogue_weight(demo, indicator_id, weight):
    for year in (2015, 2018):
        parts = _predecessor(demo, year, indicator_id)
        expected = sum(p["value"] * p[weight] for p in parts) / sum(p[weight] for p in parts)
        value, numerator, denominator, reason = _aggregate(demo, year, indicator_id)
        assert (numerator, denominator, reason) == (None, None, None)
        assert value == pytest.approx(expected, rel=1e-12)


def test_a_median_is_not_aggregated_and_says_why(demo):
    assert _predecessor(demo, 2018, "mediaan_vermogen")[0]["value"] is not None
    value, _, _, reason = _aggregate(demo, 2018, "mediaan_vermogen")
    assert (value, reason) == (None, "not_aggregable")


def test_nothing_else_changes(demo):
    """Every other row of publish.values is indicators.values' row; comparisons and theme_summary count no area
    twice (GM9906 has none of their rows before 2019, and the gemeenten of a year are those of that year)."""
    other = demo.execute(
        "select year, area_code, indicator_id, value, missing_reason, series_id from publish.values "
        "where value_source <> 'aggregated_predecessors' except all "
        "select year, area_code, indicator_id, value, missing_reason, series_id from indicators.values").fetchall()
    assert other == []
    counts = demo.execute(
        "select (select count(*) from publish.values), (select count(*) from indicators.values), "
        "(select count(*) from indicators.territory_values)").fetchone()
    assert counts[0] == counts[1] + counts[2] and counts[2] > 0
    assert demo.execute("select count(*) from indicators.comparisons join indicators.catalogue using (indicator_id) "
                        "where area_code = 'GM9906' and year < 2019 and source = 'kwb'").fetchone()[0] == 0
    # GM9906's theme scores before 2019 rest on its health figures only (that table is on today's geography):
    # each theme's health indicators with a value in the three-year window up to the year
    possible = demo.execute(
        "select year, theme, n_indicators from indicators.theme_summary where area_code = 'GM9906' and year < 2019 "
        "and n_indicators > 0 except all select t.year, t.theme, count(distinct v.indicator_id) "
        "from (select distinct year, theme from indicators.theme_summary where area_code = 'GM9906') t "
        "join indicators.values v on v.year between t.year - 2 and t.year join indicators.catalogue c "
        "on v.indicator_id = c.indicator_id and c.theme = t.theme where v.area_code = 'GM9906' and t.year < 2019 "
        "and c.source = 'health' and v.value is not null and direction <> 'neutral' and c.unit <> 'count' "
        "group by t.year, t.theme").fetchall()
    assert possible == []
    n = dict(demo.execute("select year, max(n_national) from indicators.comparisons join indicators.catalogue "
                          "using (indicator_id) where area_level = 'gemeente' and source = 'kwb' group by year"
                          ).fetchall())
    gemeenten = dict(demo.execute("select year, count(*) from staging.areas where area_level = 'gemeente' "
                                  "group by year").fetchall())
    assert all(n[y] <= gemeenten[y] for y in n)
    ranks = demo.execute("select count(*) from publish.values where value_source = 'aggregated_predecessors' "
                         "and rank_in_gemeente is not null").fetchone()[0]
    assert ranks == 0


def test_pages_and_exports_name_the_predecessors(demo_warehouse):
    site = demo_warehouse["site"]
    buurt = next((site / "buurt").glob("BU9906*.html")).read_text(encoding="utf-8")
    assert "berekend door de monitor uit de cijfers van Beekwolde (synthetisch) en Zandhorst (synthetisch) " \
           "(tabellen 82339NED t/m 84286NED, grondgebied 2024)" in buurt
    assert "2013 tot en met 2018: berekend door de monitor" in buurt
    former = next((site / "buurt").glob("BU9904*.html")).read_text(encoding="utf-8")
    assert "berekend door de monitor" not in former
    text = (demo_warehouse["exports"] / "GM9906" / "GM9906_data_long.csv").read_text(encoding="utf-8-sig")
    assert "value_source" in text.splitlines()[0]
    assert "aggregated_predecessors" in text and "GM9904;GM9905" in text


# --- a gemeente that absorbs another under its own code (as Groningen did in 2019), built by hand ---------------

CATALOGUE = {
    "themes": {t: {"name_nl": t, "name_en": t} for t in catalogue.THEMES},
    "indicators": [
        {"id": "inkomen", "name_nl": "Inkomen", "name_en": "Income", "theme": "materiele_welvaart",
         "definition_nl": "x", "unit": "eur", "direction": "higher_is_better", "source": "kwb",
         "variable": "inkomen_per_inwoner_eur", "method": "direct", "aggregate": "weighted_mean",
         "weight": "inhabitants", "years": [2018, 2019]},
        {"id": "bijstand", "name_nl": "Bijstand", "name_en": "Assistance", "theme": "arbeid_en_vrije_tijd",
         "definition_nl": "x", "unit": "per_1000", "direction": "higher_is_worse", "source": "kwb",
         "method": "ratio", "numerator": "bijstand_personen", "denominator": "inwoners", "factor": 1000,
         "aggregate": "ratio", "weight": "inhabitants", "years": [2018, 2019]},
        {"id": "woz", "name_nl": "WOZ", "name_en": "WOZ", "theme": "materiele_welvaart",
         "definition_nl": "x", "unit": "eur", "direction": "neutral", "source": "kwb",
         "variable": "woz", "method": "direct", "aggregate": "weighted_mean",
         "weight": "households", "years": [2018, 2019]},
        {"id": "vermogen", "name_nl": "Vermogen", "name_en": "Wealth", "theme": "materiele_welvaart",
         "definition_nl": "x", "unit": "eur", "direction": "higher_is_better", "source": "kwb",
         "variable": "mediaan_vermogen", "method": "direct", "aggregate": "none",
         "weight": "households", "years": [2018, 2019]},
    ],
}
# year, code, indicator, value, numerator, denominator, missing_reason
VALUES = [
    (2018, "GM0014", "inkomen", 25000.0, None, None, None),
    (2018, "GM0017", "inkomen", 35000.0, None, None, None),
    (2018, "GM0014", "bijstand", 40.0, 8000.0, 200000.0, None),
    (2018, "GM0017", "bijstand", 10.0, 200.0, 20000.0, None),
    (2018, "GM0014", "woz", 200000.0, None, None, None),
    (2018, "GM0017", "woz", None, None, None, "suppressed_by_cbs"),
    (2018, "GM0014", "vermogen", 30000.0, None, None, None),
    (2018, "GM0017", "vermogen", 90000.0, None, None, None),
    (2019, "GM0014", "inkomen", 27000.0, None, None, None),
]
WEIGHTS = [(2018, "GM0014", 200000, 100000), (2018, "GM0017", 20000, 8000), (2019, "GM0014", 221000, 108500)]


@pytest.fixture
def absorbed(tmp_path):
    with warehouse.connect(tmp_path / "t.duckdb") as con:
        frame = catalogue.catalogue_frame(catalogue.parse(CATALOGUE))
        warehouse.replace_table_from_frame(con, "indicators", "catalogue", frame)
        con.execute("create table indicators.territory (year int, source_code varchar, gemeente_code varchar, "
                    "territory_year int)")
        con.execute("insert into indicators.territory values (2018, 'GM0014', 'GM0014', 2019), "
                    "(2018, 'GM0017', 'GM0014', 2019), (2018, 'GM0017', 'GM0017', null), "
                    "(2019, 'GM0014', 'GM0014', null)")
        con.execute("create table indicators.values (year int, area_code varchar, area_level varchar, "
                    "gemeente_code varchar, indicator_id varchar, theme varchar, unit varchar, value double, "
                    "numerator double, denominator double, ci_lower double, ci_upper double, source_table varchar, "
                    "period varchar, missing_reason varchar, series_id varchar, series_break boolean, "
                    "break_reason varchar)")
        con.executemany("insert into indicators.values values (?, ?, 'gemeente', ?, ?, 't', 'u', ?, ?, ?, null, "
                        "null, 'KWB' || ?, null, ?, ? || '@2018', false, null)",
                        [(y, c, c, i, v, n, d, y, r, c) for y, c, i, v, n, d, r in VALUES])
        con.execute("create table indicators.weights (source varchar, year int, area_code varchar, weight_year int, "
                    "inhabitants bigint, households bigint)")
        con.executemany("insert into indicators.weights values ('kwb', ?, ?, ?, ?, ?)",
                        [(y, c, y, i, h) for y, c, i, h in WEIGHTS])
        con.execute("create table indicators.area_series (year int, area_code varchar, area_level varchar, "
                    "series_id varchar)")
        con.execute("insert into indicators.area_series values (2018, 'GM0014', 'gemeente', 'GM0014@2018'), "
                    "(2018, 'GM0017', 'gemeente', 'GM0017@2018'), (2019, 'GM0014', 'gemeente', 'GM0014@2019')")
        con.execute("create table indicators.comparisons (year int, area_code varchar, indicator_id varchar, "
                    "rank_in_gemeente bigint, n_in_gemeente bigint)")
        con.execute("create table staging.areas (year int, area_code varchar, area_name varchar)")
        con.execute("insert into staging.areas values (2018, 'GM0014', 'Groningen'), (2018, 'GM0017', 'Haren'), "
                    "(2019, 'GM0014', 'Groningen')")
        sql_file("indicators", "territory_values").create(con)
        build_model(con, ("values",))
        yield con


def test_absorbing_gemeente_shows_the_aggregate_of_today_s_territory(absorbed):
    rows = {r[0]: r[1:] for r in absorbed.execute(
        "select indicator_id, value, missing_reason, value_source, territory_year, predecessor_codes, series_id "
        "from publish.values where year = 2018 and area_code = 'GM0014'").fetchall()}
    assert rows["inkomen"][0] == pytest.approx((25000 * 200000 + 35000 * 20000) / 220000)
    assert rows["bijstand"][0] == pytest.approx(8200 / 220000 * 1000)
    assert rows["inkomen"][2:] == ("aggregated_predecessors", 2019, "GM0014;GM0017", "GM0014@2019")
    # a predecessor without a figure: missing, with its reason; never 0 and never Groningen's own figure
    assert rows["woz"][:2] == (None, "predecessor_missing")
    assert rows["vermogen"][:2] == (None, "not_aggregable")
    # Groningen's own smaller figure is replaced (one row per key), Haren's own series and 2019 are CBS's
    assert absorbed.execute("select count(*) from publish.values where year = 2018 and area_code = 'GM0014'"
                            ).fetchone()[0] == 4
    assert absorbed.execute("select value, value_source from publish.values where year = 2018 "
                            "and area_code = 'GM0017' and indicator_id = 'inkomen'").fetchone() == (35000.0, "cbs")
    own = absorbed.execute("select value, value_source, territory_year from publish.values where year = 2019 "
                           "and area_code = 'GM0014' and indicator_id = 'inkomen'").fetchone()
    assert own == (27000.0, "cbs", None)


def test_predecessors_all_missing_for_the_same_reason_keep_it(absorbed):
    absorbed.execute("update indicators.values set value = null, missing_reason = 'not_published' "
                     "where year = 2018 and indicator_id = 'inkomen'")
    sql_file("indicators", "territory_values").create(absorbed)
    assert absorbed.execute("select value, missing_reason from indicators.territory_values where year = 2018 "
                            "and indicator_id = 'inkomen'").fetchone() == (None, "not_published")


def test_source_line_names_the_computed_years_and_only_those():
    from bwm.site.common import source_line
    from bwm.site.data import Point

    tables = ((2016, "83487NED"), (2017, "83765NED"), (2018, "84286NED"))
    ours = [Point(y, 1.0, None, t, "GM0014@2019", False, None, value_source="aggregated_predecessors",
                  territory_year=2024, derived_from="Groningen, Haren en Ten Boer") for y, t in tables]
    cbs = [Point(2019, 1.0, None, "84583NED", "GM0014@2019", False, None, value_source="cbs")]
    missing = [Point(2015, None, "predecessor_missing", "83220NED", "GM0014@2019", False, None,
                     value_source="aggregated_predecessors", territory_year=2024,
                     derived_from="Groningen, Haren en Ten Boer")]
    line = source_line("kwb", {2019: "84583NED"}, computed=[("Groningen", missing + ours + cbs)])
    assert line == ("Bron: CBS, Kerncijfers wijken en buurten 2019 (tabel 84583NED); Groningen 2016 tot en met 2018: "
                    "berekend door de monitor uit de cijfers van Groningen, Haren en Ten Boer (tabellen 83487NED t/m "
                    "84286NED, grondgebied 2024).")
    assert source_line("kwb", {2019: "84583NED"}, computed=[("Groningen", cbs)]) == \
        "Bron: CBS, Kerncijfers wijken en buurten 2019 (tabel 84583NED)."
