"""The indicator SQL on a tiny hand-built staging, with every expected number worked out by hand."""

import pytest

from bwm import catalogue, warehouse
from bwm.municipal import store as municipal_store
from pipelines.resources import BwmResource
from pipelines.sql import sql_file

CATALOGUE = {
    "themes": {t: {"name_nl": t, "name_en": t} for t in catalogue.THEMES},
    "indicators": [
        {"id": "inkomen", "name_nl": "Inkomen", "name_en": "Income", "theme": "materiele_welvaart",
         "definition_nl": "x", "unit": "eur", "direction": "higher_is_better", "source": "kwb",
         "variable": "inkomen_per_inwoner_eur", "method": "direct", "aggregate": "weighted_mean",
         "weight": "inhabitants", "years": [2020, 2021]},
        {"id": "bijstand", "name_nl": "Bijstand", "name_en": "Assistance", "theme": "arbeid_en_vrije_tijd",
         "definition_nl": "x", "unit": "per_1000", "direction": "higher_is_worse", "source": "kwb",
         "method": "ratio", "numerator": "bijstand_personen", "denominator": "inwoners", "factor": 1000,
         "aggregate": "ratio", "weight": "inhabitants", "years": [2020, 2021]},
        {"id": "alleen", "name_nl": "Alleen", "name_en": "Alone", "theme": "samenleving",
         "definition_nl": "x", "unit": "pct", "direction": "neutral", "source": "kwb",
         "method": "ratio", "numerator": "eenpersoonshuishoudens", "denominator": "huishoudens", "factor": 100,
         "min_denominator": 50, "aggregate": "ratio", "weight": "households", "years": [2020]},
    ],
}

# Gemeente GM0001 with one wijk; buurt 02 changes boundaries in 2021, buurt 03 is new in 2021.
AREAS = [
    # year, code, level, gemeente, wijk, inhabitants, households, comparability
    (2020, "GM0001", "gemeente", "GM0001", None, 3000, 1500, 1),
    (2020, "WK000101", "wijk", "GM0001", None, 3000, 1500, 1),
    (2020, "BU00010101", "buurt", "GM0001", "WK000101", 1000, 500, 1),
    (2020, "BU00010102", "buurt", "GM0001", "WK000101", 2000, 1000, 1),
    (2021, "GM0001", "gemeente", "GM0001", None, 3100, 1550, 1),
    (2021, "WK000101", "wijk", "GM0001", None, 3100, 1550, 1),
    (2021, "BU00010101", "buurt", "GM0001", "WK000101", 1000, 500, 1),
    (2021, "BU00010102", "buurt", "GM0001", "WK000101", 1500, 750, 3),
    (2021, "BU00010103", "buurt", "GM0001", "WK000101", 600, 300, 1),
]
KWB = [
    # year, code, variable, value
    (2020, "BU00010101", "inkomen_per_inwoner_eur", 20000.0),
    (2020, "BU00010102", "inkomen_per_inwoner_eur", 35000.0),
    (2020, "GM0001", "inkomen_per_inwoner_eur", 30000.0),
    (2020, "BU00010101", "bijstand_personen", 50.0),
    (2020, "BU00010102", "bijstand_personen", None),  # suppressed by CBS
    (2020, "GM0001", "bijstand_personen", 60.0),
    (2020, "BU00010101", "inwoners", 1000.0),
    (2020, "BU00010102", "inwoners", 2000.0),
    (2020, "GM0001", "inwoners", 3000.0),
    (2021, "BU00010101", "inkomen_per_inwoner_eur", 21000.0),
    (2021, "BU00010102", "inkomen_per_inwoner_eur", 36000.0),
    (2021, "BU00010103", "inkomen_per_inwoner_eur", None),
    (2021, "BU00010101", "bijstand_personen", 40.0),
    (2021, "BU00010102", "bijstand_personen", 30.0),
    (2021, "BU00010103", "bijstand_personen", 10.0),
    (2021, "BU00010101", "inwoners", 1000.0),
    (2021, "BU00010102", "inwoners", 1500.0),
    (2021, "BU00010103", "inwoners", 0.0),
    # Rounded household counts: 65 one-person households of 60 households; 20 of 40 (too few to say much).
    (2020, "BU00010101", "eenpersoonshuishoudens", 65.0),
    (2020, "BU00010101", "huishoudens", 60.0),
    (2020, "BU00010102", "eenpersoonshuishoudens", 20.0),
    (2020, "BU00010102", "huishoudens", 40.0),
    (2020, "GM0001", "eenpersoonshuishoudens", 300.0),
    (2020, "GM0001", "huishoudens", 1500.0),
    # 2021 gemeente and wijk rows carry no KWB values at all: "not published".
]


@pytest.fixture
def con(tmp_path):
    with warehouse.connect(tmp_path / "t.duckdb") as connection:
        connection.execute(
            "create table staging.areas (year int, area_code varchar, area_level varchar, gemeente_code varchar, "
            "wijk_code varchar, inhabitants bigint, households bigint, comparability_code int, table_id varchar)")
        connection.executemany("insert into staging.areas values (?, ?, ?, ?, ?, ?, ?, ?, 'T')", AREAS)
        connection.execute("create table staging.kwb (year int, area_code varchar, variable varchar, value double, "
                           "table_id varchar, value_status varchar)")
        connection.executemany("insert into staging.kwb values (?, ?, ?, ?, 'T', ?)",
                               [(*row, "published" if row[3] is not None else "suppressed") for row in KWB])
        connection.execute("create table staging.health (year int, area_code varchar, area_level varchar, "
                           "gemeente_code varchar, age_group_code varchar, variable varchar, value double, "
                           "ci_lower double, ci_upper double, table_id varchar, value_status varchar)")
        frame = catalogue.catalogue_frame(catalogue.parse(CATALOGUE))
        warehouse.replace_table_from_frame(connection, "indicators", "catalogue", frame)
        municipal_store.ensure_tables(connection)  # no municipal files here: empty tables
        for name in ("area_series", "weights", "values", "aggregated", "comparisons", "theme_summary"):
            sql_file("indicators", name).create(connection)
        yield connection


def value(con, year, code, indicator):
    return con.execute("select value, numerator, denominator, missing_reason, series_break, break_reason "
                       "from indicators.values where year = ? and area_code = ? and indicator_id = ?",
                       [year, code, indicator]).fetchone()


def test_direct_values_and_missing_reasons(con):
    assert value(con, 2020, "BU00010101", "inkomen")[:4] == (20000.0, None, None, None)
    assert value(con, 2021, "BU00010103", "inkomen")[3] == "suppressed_by_cbs"
    assert value(con, 2021, "GM0001", "inkomen")[3] == "not_published"
    assert value(con, 2021, "GM0001", "inkomen")[0] is None


def test_missing_reasons_tell_what_cbs_did(con):
    """A '.' in a filled column is CBS's suppression; an empty column is "not published yet"; a key with an
    unexpected unit is quarantined. Each gets its own reason, and none reads as suppressed by CBS."""
    for code, status in (("BU00010101", "not_published_yet"), ("BU00010102", "quarantined")):
        con.execute("update staging.kwb set value = null, value_status = ? where year = 2021 and area_code = ? "
                    "and variable = 'inkomen_per_inwoner_eur'", [status, code])
    sql_file("indicators", "values").create(con)
    assert value(con, 2021, "BU00010101", "inkomen")[:4] == (None, None, None, "not_published_yet")
    assert value(con, 2021, "BU00010102", "inkomen")[:4] == (None, None, None, "unit_quarantined")
    assert value(con, 2021, "BU00010103", "inkomen")[3] == "suppressed_by_cbs"


def test_ratio_values(con):
    assert value(con, 2020, "BU00010101", "bijstand")[:4] == (50.0, 50.0, 1000.0, None)  # 50 / 1000 x 1000
    assert value(con, 2020, "BU00010102", "bijstand")[3] == "suppressed_by_cbs"
    assert value(con, 2021, "BU00010103", "bijstand")[3] == "no_denominator"  # 0 inhabitants
    assert value(con, 2020, "GM0001", "bijstand")[0] == pytest.approx(20.0)  # 60 / 3000 x 1000


def test_series_breaks(con):
    assert value(con, 2021, "BU00010101", "inkomen")[4:] == (False, None)
    assert value(con, 2021, "BU00010102", "inkomen")[4:] == (True, "boundary_changed")
    assert value(con, 2021, "BU00010103", "bijstand")[4:] == (True, "new_area")
    ids = dict(con.execute("select year, series_id from indicators.area_series where area_code = 'BU00010102'"
                           ).fetchall())
    assert ids == {2020: "BU00010102@2020", 2021: "BU00010102@2021"}


def test_aggregation_follows_the_catalogue_method(con):
    rows = {(r[0], r[1], r[2]): r[3:] for r in con.execute(
        "select year, area_code, indicator_id, value, n_buurten, n_buurten_with_value, coverage "
        "from indicators.aggregated").fetchall()}
    # weighted mean by inhabitants: (20000 x 1000 + 35000 x 2000) / 3000 = 30000
    assert rows[(2020, "GM0001", "inkomen")][0] == pytest.approx(30000.0)
    # ratio: only buurten with a known numerator count in the denominator: 50 / 1000 x 1000; coverage 1/3
    assert rows[(2020, "GM0001", "bijstand")][0] == pytest.approx(50.0)
    assert rows[(2020, "GM0001", "bijstand")][3] == pytest.approx(1000 / 3000)
    # 2021 income: buurt 03 suppressed -> (21000 x 1000 + 36000 x 1500) / 2500; coverage 2500 / 3100
    assert rows[(2021, "WK000101", "inkomen")][0] == pytest.approx((21000 * 1000 + 36000 * 1500) / 2500)
    assert rows[(2021, "WK000101", "inkomen")][1:] == (3, 2, pytest.approx(2500 / 3100))


def test_comparisons_rank_best_off_first(con):
    rows = {r[0]: r[1:] for r in con.execute(
        "select area_code, diff_gemeente, rank_in_gemeente, n_in_gemeente, quartile_in_gemeente "
        "from indicators.comparisons where year = 2020 and indicator_id = 'inkomen' and area_level = 'buurt'"
    ).fetchall()}
    assert rows["BU00010102"] == (5000.0, 1, 2, 1)  # 35000 - 30000, best-off
    assert rows["BU00010101"] == (-10000.0, 2, 2, 3)  # quartile 1 + floor(4 x 1 / 2) = 3


def test_theme_summary_counts_its_indicators(con):
    rows = con.execute("select area_code, theme, n_indicators, n_possible, round(score, 6) "
                       "from indicators.theme_summary where year = 2020 and area_level = 'buurt' "
                       "order by 1, 2").fetchall()
    # Income z-scores over the two buurten: +1 and -1; bijstand known for one buurt only -> std 0 -> null z.
    assert ("BU00010102", "materiele_welvaart", 1, 1, 1.0) in rows
    assert ("BU00010101", "materiele_welvaart", 1, 1, -1.0) in rows
    assert ("BU00010101", "arbeid_en_vrije_tijd", 0, 1, None) in rows


def test_ratios_of_small_rounded_counts_are_left_out_with_a_reason(con):
    assert value(con, 2020, "BU00010101", "alleen")[0::3] == (None, "inconsistent_counts")  # 65 of 60 households
    assert value(con, 2020, "BU00010102", "alleen")[0::3] == (None, "denominator_too_small")  # 40 < 50
    assert value(con, 2020, "GM0001", "alleen")[0] == pytest.approx(20.0)  # 300 / 1500 x 100


def test_gemeente_totals_check_allows_buurt_rounding_but_not_a_real_gap(tmp_path):
    """Counts rounded to tens per buurt move a small gemeente's ratio by more than 5%; a large one's may not."""
    from pipelines.defs.indicators.checks import gemeente_totals_match_buurten

    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as c:
        c.execute("create table indicators.values (year int, area_code varchar, area_level varchar, "
                  "indicator_id varchar, unit varchar, value double, denominator double)")
        c.execute("create table indicators.aggregated (year int, area_code varchar, area_level varchar, "
                  "indicator_id varchar, method varchar, value double, n_buurten_with_value int, coverage double)")
        rows = [  # (gemeente, CBS value, denominator, our aggregate, buurten)
            ("GM0001", 17.171, 3902, 15.385, 4),  # 67 benefits, 4 buurten rounded to tens: 60
            ("GM0002", 15.0, 800_000, 17.0, 400),  # 13% apart over 400 buurten: not rounding
        ]
        for code, value, den, agg, n in rows:
            c.execute("insert into indicators.values values (2024, ?, 'gemeente', 'ww_per_1000', 'per_1000', ?, ?)",
                      [code, value, den])
            c.execute("insert into indicators.aggregated values "
                      "(2024, ?, 'gemeente', 'ww_per_1000', 'ratio', ?, ?, 1.0)",
                      [code, agg, n])
        # A health estimate of 2012 weighted by residents of KWB 2020 (the only KWB year in the build), 15% off:
        # weights eight years away say little about 2012's population mix, so it is not compared.
        c.execute("insert into indicators.values values (2012, 'GM0001', 'gemeente', 'stress', 'pct', 24.9, null)")
        c.execute("insert into indicators.aggregated values (2012, 'GM0001', 'gemeente', 'stress', 'weighted_mean', "
                  "21.2, 30, 1.0)")
        c.execute("create table indicators.catalogue (indicator_id varchar, source varchar)")
        c.execute("insert into indicators.catalogue values ('ww_per_1000', 'kwb'), ('stress', 'health')")
        c.execute("create table indicators.weights (source varchar, year int, area_code varchar, weight_year int)")
        c.execute("insert into indicators.weights values ('kwb', 2024, 'GM0001', 2024), ('kwb', 2024, 'GM0002', 2024), "
                  "('health', 2012, 'GM0001', 2020)")
    result = gemeente_totals_match_buurten.node_def.compute_fn.decorated_fn(
        BwmResource(environ={"BWM_WAREHOUSE": str(path)}))
    assert not result.passed
    assert result.metadata["compared"].value == 2 and result.metadata["mismatches"].value == 1
    assert result.metadata["not_compared_weights_far"].value == 1
    assert "GM0002" in result.metadata["examples"].value and "GM0001" not in result.metadata["examples"].value


def test_theme_summary_takes_each_indicators_latest_year_in_the_window(tmp_path):
    """A nearly empty latest year (2022: only indicator a) does not reduce the theme to one indicator: b and c
    count with their 2021 values. Three years later (2025: again only a) 2021 is out of the three-year window,
    so the score rests on one indicator of one and falls short of the minimum coverage (2 indicators and half
    of those possible)."""
    with warehouse.connect(tmp_path / "t.duckdb") as con:
        con.execute("create table indicators.catalogue (indicator_id varchar, theme varchar, direction varchar, "
                    "unit varchar)")
        con.execute("insert into indicators.catalogue values ('a', 'materiele_welvaart', 'higher_is_better', 'eur'), "
                    "('b', 'materiele_welvaart', 'higher_is_worse', 'pct'), "
                    "('c', 'materiele_welvaart', 'higher_is_better', 'pct')")
        con.execute("create table indicators.values (year int, area_code varchar, area_level varchar, "
                    "gemeente_code varchar, indicator_id varchar, value double)")
        rows = []
        for code, a, b, c in (("X", 10.0, 1.0, 30.0), ("Y", 20.0, 2.0, 20.0), ("Z", 30.0, 3.0, 10.0)):
            rows += [(2021, code, "a", a), (2021, code, "b", b), (2021, code, "c", c)]
            rows += [(2022, code, "a", a), (2022, code, "b", None), (2022, code, "c", None)]
            rows += [(2025, code, "a", a), (2025, code, "b", None), (2025, code, "c", None)]
        con.executemany("insert into indicators.values values (?, ?, 'buurt', 'GM0001', ?, ?)", rows)
        sql_file("indicators", "theme_summary").create(con)
        got = {r[0]: r[1:] for r in con.execute(
            "select year, score, n_indicators, n_possible, coverage_met, oldest_year from indicators.theme_summary "
            "where area_code = 'X'").fetchall()}
    # z over X, Y, Z of 10/20/30 is -1.2247 (= -sqrt(1.5)); b is higher-is-worse, so its 1/2/3 gives +1.2247 to X,
    # c (30/20/10) +1.2247: the mean is sqrt(1.5) / 3 = 0.408248.
    assert got[2022][0] == pytest.approx(1.5 ** 0.5 / 3)
    assert got[2022][1:] == (3, 3, True, 2021)
    assert got[2021][1:] == (3, 3, True, 2021)
    assert got[2025][0] == pytest.approx(-(1.5 ** 0.5))
    assert got[2025][1:] == (1, 1, False, 2025)
