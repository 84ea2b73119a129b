"""The whole graph materialised on the demo scale into a temporary DuckDB, and what it holds."""

import duckdb
import pytest

from bwm import catalogue
from bwm.settings import KWB_YEARS


@pytest.fixture(scope="module")
def con(demo_warehouse):
    connection = duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True)
    yield connection
    connection.close()


def scalar(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def test_every_check_passes_or_warns_with_its_reason(demo_warehouse):
    failed = [(c.check_name, c.metadata) for c in demo_warehouse["checks"]
              if not c.passed and c.severity.value != "WARN"]
    warned = {c.check_name: c for c in demo_warehouse["checks"] if not c.passed and c.severity.value == "WARN"}
    assert demo_warehouse["result"].success
    assert len(demo_warehouse["checks"]) >= 12
    assert failed == []
    # The one expected warning: the demo's newest year is a partial release without income figures yet.
    assert set(warned) == {"values_cover_catalogue"}
    gaps = warned["values_cover_catalogue"].metadata["not_published_yet"].value
    assert "inkomen_per_inwoner 2024 (85984NED)" in gaps and "2023" not in gaps


def test_areas_hold_every_year_and_level(con):
    rows = con.execute(
        "select year, count(*) filter (area_level='gemeente'), count(*) filter (area_level='wijk'), "
        "count(*) filter (area_level='buurt') from staging.areas group by 1 order by 1").fetchall()
    assert [r[0] for r in rows] == list(KWB_YEARS)
    for year, gemeenten, wijken, buurten in rows:
        assert gemeenten == (5 if year < 2019 else 4), year  # GM9904 + GM9905 merge into GM9906 in 2019
        assert 16 <= wijken <= 21, year
        assert 80 <= buurten <= 125, year


def test_area_codes_trimmed_and_synthetic(con):
    assert scalar(con, "select count(*) from staging.areas where area_code <> trim(area_code) "
                       "or area_code <> upper(area_code)") == 0
    assert scalar(con, "select bool_and(is_synthetic) from staging.areas") is True
    assert scalar(con, "select count(*) from staging.areas where area_level = 'gemeente' "
                       "and area_name not like '%(synthetisch)%'") == 0
    assert scalar(con, "select count(*) from staging.areas where area_level <> 'land' "
                       "and gemeente_code not like 'GM99%'") == 0


def test_boundary_changes_carry_their_cbs_codes(con):
    codes = {r[0] for r in con.execute("select distinct comparability_code from staging.areas").fetchall()}
    assert {1, 2, 3} <= codes


def test_kwb_harmonised_over_renamed_keys_and_units(con):
    # WOZ is GemiddeldeWoningwaarde in 2019 and GemiddeldeWOZWaardeVanWoningen in 2024: one canonical name.
    keys = dict(con.execute(
        "select year, any_value(raw_key) from staging.kwb where variable = 'woz_waarde_eur' "
        "and year in (2019, 2024) group by 1").fetchall())
    assert keys[2019].startswith("GemiddeldeWoningwaarde_")
    assert keys[2024].startswith("GemiddeldeWOZWaardeVanWoningen_")
    # CBS publishes x 1 000 euro; staging holds euros.
    low, high = con.execute("select min(value), max(value) from staging.kwb where variable = 'woz_waarde_eur' "
                            "and value is not null").fetchone()
    assert 50_000 < low < high < 2_000_000
    assert scalar(con, "select count(distinct year) from staging.kwb where variable = 'inkomen_per_inwoner_eur'") == 12


def test_missing_stays_missing(con):
    missing = scalar(con, "select count(*) from staging.kwb where value is null")
    assert missing > 0
    assert scalar(con, "select count(*) from staging.kwb where value is null "
                       "and value_status not in ('suppressed', 'not_published_yet', 'quarantined')") == 0
    # Suppressed income values of tiny buurten are null, not 0.
    assert scalar(con, "select count(*) from staging.kwb where variable = 'inkomen_per_inwoner_eur' "
                       "and value = 0") == 0


def test_health_periods_and_age_groups(con):
    years = [r[0] for r in con.execute("select distinct year from staging.health order by 1").fetchall()]
    assert years == [2012, 2016, 2020, 2022]
    groups = {r[0] for r in con.execute("select distinct age_group_code from staging.health").fetchall()}
    assert groups == {"20300", "53115", "80200"}


def test_catalogue_indicators_resolve_to_staging_variables_for_their_years(con):
    """Every indicator's canonical variables exist in staging for every year it claims."""
    present = {
        (r[0], r[1]) for r in con.execute(
            "select distinct 'kwb', variable || '@' || year from staging.kwb union all "
            "select distinct 'health', variable || '@' || year from staging.health").fetchall()
    }
    problems = []
    for ind in catalogue.indicators():
        for year in ind.years:
            for var in ind.variables:
                if (ind.source, f"{var}@{year}") not in present:
                    problems.append(f"{ind.id}: {var} not in staging.{ind.source} for {year}")
    assert problems == []


def test_every_indicator_has_values_and_every_null_a_reason(con):
    counts = dict(con.execute("select indicator_id, count(value) from indicators.values group by 1").fetchall())
    ids = {r[0] for r in con.execute("select indicator_id from indicators.catalogue").fetchall()}
    assert {ind.id for ind in catalogue.indicators()} <= ids  # and the demo's municipal indicators
    assert ids == {k for k, v in counts.items() if v > 0}
    assert scalar(con, "select count(*) from indicators.values where value is null and missing_reason is null") == 0
    assert scalar(con, "select count(*) from indicators.values where value is not null "
                       "and missing_reason is not null") == 0


def test_ratio_indicator_is_numerator_over_denominator(con):
    rows = con.execute("select value, numerator, denominator from indicators.values "
                       "where indicator_id = 'bijstand_per_1000' and value is not null limit 50").fetchall()
    assert rows
    for value, num, den in rows:
        assert value == pytest.approx(num / den * 1000)


def test_series_are_cut_at_boundary_changes(con):
    cut = con.execute("select break_reason, count(*) from indicators.area_series where series_break group by 1"
                      ).fetchall()
    reasons = dict(cut)
    assert reasons.get("boundary_changed", 0) > 0 and reasons.get("recoded", 0) > 0
    # A value in a year with a break carries the flag, so pages never join it to the year before.
    assert scalar(con, "select count(*) from indicators.values v join indicators.area_series s "
                       "using (year, area_code) join indicators.catalogue c using (indicator_id) "
                       "where c.source = 'kwb' and s.series_break and not v.series_break") == 0


def test_comparisons_and_theme_summary(con):
    q = con.execute("select min(quartile_in_gemeente), max(quartile_in_gemeente), min(rank_in_gemeente) "
                    "from indicators.comparisons where area_level = 'buurt'").fetchone()
    assert q == (1, 4, 1)
    themes = {r[0] for r in con.execute("select distinct theme from indicators.theme_summary").fetchall()}
    assert themes == set(catalogue.THEMES)
    assert scalar(con, "select count(*) from indicators.theme_summary where n_indicators > n_possible") == 0
    # The synthetic national row (NL00 in KWB, NL01 in health; area_level 'land') gives every buurt a national
    # comparison.
    n, with_nl = con.execute("select count(*), count(nl_value) from indicators.comparisons "
                             "where indicator_id = 'inkomen_per_inwoner' and area_level = 'buurt'").fetchone()
    assert n > 0 and with_nl == n


def test_divide_measures_for_every_year_and_the_divide_widens(con):
    years = {r[0] for r in con.execute("select distinct year from divide.measures "
                                       "where indicator_id = 'inkomen_per_inwoner'").fetchall()}
    assert years == set(KWB_YEARS)
    # The synthetic data lets a poorer and a richer part of town drift apart: the income gap widens.
    labels = {r[0] for r in con.execute(
        "select label from divide.trends where indicator_id = 'inkomen_per_inwoner' and level = 'buurt' "
        "and measure = 'gap'").fetchall()}
    assert labels == {"widening"}
    theil = con.execute("select max(abs(theil_total - theil_between - theil_within)) from divide.measures "
                        "where theil_between is not null").fetchone()[0]
    assert theil < 1e-9
    # The Theil index is defined over wijken too (its split over wijken is not): once it was never filled there.
    wijk_theil = con.execute(
        "select count(theil_total), count(theil_between), count(*) from divide.measures "
        "where indicator_id = 'inkomen_per_inwoner' and level = 'wijk' and n_areas > 1").fetchone()
    assert wijk_theil[0] == wijk_theil[2] > 0 and wijk_theil[1] == 0
    assert scalar(con, "select count(*) from divide.measures where dissimilarity is not null") > 0
    assert scalar(con, "select count(*) from divide.measures where concentration_share_pct is not null") > 0


def test_health_values_carry_their_95pct_bounds(con):
    """50120NED's Marges MOG0095/MBG0095 reach indicators.values beside each health figure."""
    rows = con.execute(
        "select count(*), count(ci_lower), count(*) filter (where ci_lower <= value and value <= ci_upper) "
        "from indicators.values where source_table = '50120NED' and value is not null").fetchone()
    assert rows[0] > 1000 and rows[1] == rows[0] == rows[2]
    assert con.execute("select count(ci_lower) from indicators.values "
                       "where source_table <> '50120NED'").fetchone()[0] == 0
