"""The real CBS extracts (shared/cbs-real) through the same mirror -> raw -> staging code as the demo.

Nothing real is stored here: ``tests/realdata.py`` converts the extracts into mirror tables under a
temporary folder at run time, and every figure compared below is read from those files at run time,
except the four 1 January population totals that PROVENANCE.md documents. Skipped cleanly when the
folder is absent (``cbs_real`` fixture).

1. KWB 2019 (84583NED: Den Haag and Amsterdam with all keys, Utrecht with 22) and 2021 (85039NED: the
   three 22-column extracts) plus the health table 50090NED (8 national files) form one mirror; the
   ``refresh`` job runs on it with only the mirror, raw and staging assets selected (with their checks).
   The indicator and divide layers are left out to keep the run short: on this national health table they
   take over a minute on their own.
2. The divide measures (``bwm.divide.frame.divide_measures``) on the real national health data, per
   municipality, period and indicator, over its buurten.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl
import pytest
import realdata
from pipeline_run import run_refresh_in_process

from bwm import warehouse
from bwm.harmonise import keymap

pytestmark = pytest.mark.real_data

GEMEENTEN = {"GM0344", "GM0363", "GM0518"}
#: 1 January inhabitants, as PROVENANCE.md documents them (CBS StatLine).
KNOWN_INHABITANTS = {
    (2019, "GM0344"): 352_866,
    (2019, "GM0518"): 537_833,
    (2019, "GM0363"): 862_965,
    (2021, "GM0344"): 359_370,
}
STAGING_CHECKS = {
    "areas_rows_per_year_and_level", "areas_unique_key", "areas_parents_exist", "areas_inhabitants_add_up",
    "kwb_unique_key", "kwb_value_ranges", "health_unique_and_in_range", "kwb_keys_all_resolved", "units_as_expected",
    "mirror_verified",
}
HEALTH_INDICATORS = ("Eenzaam_28", "MoeiteMetRondkomen_38")


# --- the warehouse built once per session ------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_warehouse(cbs_real, tmp_path_factory) -> dict:
    """Real mirror (2019, 2021, 50090NED) built in a temp folder, then mirror + raw + staging materialised."""
    from pipelines.definitions import defs

    base = tmp_path_factory.mktemp("real")
    mirror_dir = base / "mirror"
    tables = realdata.build_mirror(cbs_real, mirror_dir)
    env = {
        "BWM_SOURCE": "mirror",
        "BWM_MIRROR_DIR": str(mirror_dir),
        "BWM_YEARS": ",".join(str(y) for y in realdata.KWB_YEARS),
        "BWM_WAREHOUSE": str(base / "bwm.duckdb"),
        "BWM_DAGSTER_STORAGE": str(base / "dagster"),
        "BWM_HEALTH_TABLE": realdata.REAL_HEALTH_TABLE_ID,
    }
    selection = [key for key in defs.resolve_all_asset_keys() if key.path[0] in ("mirror", "raw", "staging")]
    result = run_refresh_in_process(env, asset_selection=selection)
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    # Only mirror, raw and staging ran, so the warehouse was never published: read the refresh's working copy.
    return {"warehouse": warehouse.working_path(base / "bwm.duckdb"), "mirror": mirror_dir, "tables": tables,
            "result": result,
            "checks": checks}


@pytest.fixture(scope="module")
def con(real_warehouse):
    connection = duckdb.connect(str(real_warehouse["warehouse"]), read_only=True)
    yield connection
    connection.close()


def scalar(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def file_rows(cbs_real, year: int) -> list[dict[str, str]]:
    return realdata.kwb_rows(cbs_real, year)[1]


# --- the mirror ----------------------------------------------------------------------------------------------


def test_mirror_tables_are_complete_cbs_tables(real_warehouse, cbs_real):
    from bwm.cbs import mirror

    mirror_dir = real_warehouse["mirror"]
    assert real_warehouse["tables"] == ["84583NED", "85039NED", "50090NED"]
    for year in realdata.KWB_YEARS:
        table_id = keymap.kwb_table(year).table_id
        manifest = mirror.verify_table(mirror_dir, table_id)
        assert manifest["source"] == "cbs"
        columns, rows = realdata.kwb_rows(cbs_real, year)
        assert manifest["row_count"] == len(rows)
        props = mirror.read_json(mirror_dir, table_id, "DataProperties")
        assert [p["Key"] for p in props if p["Type"] == "GeoDetail"] == ["WijkenEnBuurten"]
        topics = {p["Key"]: p for p in props if p["Type"] == "Topic"}
        assert set(topics) == set(columns) - {"ID", "WijkenEnBuurten"}
        specs = {s.raw_key: s for s in keymap.keys_for_year(year)}
        for key, prop in topics.items():
            assert (prop["Unit"], prop["Datatype"], prop["Decimals"], prop["Title"]) == (
                specs[key].cbs_unit, specs[key].datatype, specs[key].decimals, specs[key].title_nl)
        typed = mirror.read_json(mirror_dir, table_id, "TypedDataSet")
        # CBS's padding is kept on the region key.
        assert all(len(r["WijkenEnBuurten"]) == 10 for r in typed)
        assert any(r["WijkenEnBuurten"] != r["WijkenEnBuurten"].strip() for r in typed)
    health = mirror.verify_table(mirror_dir, "50090NED")
    assert health["row_count"] == 8 * 17_341  # PROVENANCE.md: 17,341 rows in each of the 8 files
    dims = {p["Key"] for p in mirror.read_json(mirror_dir, "50090NED", "DataProperties") if p["Type"] != "Topic"}
    assert dims == {"Leeftijd", "Marges", "WijkenEnBuurten", "Perioden"}


# --- the run and its checks ------------------------------------------------------------------------------


def test_run_succeeds_and_every_staging_check_passes(real_warehouse):
    assert real_warehouse["result"].success
    by_name = {c.check_name: c for c in real_warehouse["checks"]}
    assert set(by_name) == STAGING_CHECKS
    failed = {name: {k: v.value for k, v in c.metadata.items()} for name, c in by_name.items() if not c.passed}
    assert failed == {}


def test_raw_tables_hold_every_file_row(con, cbs_real):
    for year in realdata.KWB_YEARS:
        assert scalar(con, f"select count(*) from raw.kwb_{year}") == len(file_rows(cbs_real, year))
    assert scalar(con, "select count(*) from raw.health") == 8 * 17_341


# --- KWB through staging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "gemeente"), sorted(KNOWN_INHABITANTS))
def test_known_inhabitants(con, year, gemeente):
    expected = KNOWN_INHABITANTS[(year, gemeente)]
    assert scalar(con, "select inhabitants from staging.areas where year = ? and area_code = ?",
                  [year, gemeente]) == expected
    assert scalar(con, "select value from staging.kwb where year = ? and area_code = ? and variable = 'inwoners'",
                  [year, gemeente]) == expected


def _expected_kwb(cbs_real, year: int) -> dict[tuple[str, str], float | None]:
    """(area_code, raw_key) -> value in the canonical unit, from the files, for every mapped numeric key.

    A key one extract lacks (the 22-column files) is null for that extract's rows, like a '.' cell.
    """
    variables = keymap.variables()
    columns, rows = realdata.kwb_rows(cbs_real, year)
    specs = [s for s in keymap.keys_for_year(year) if s.raw_key in columns and s.action == "map"
             and s.canonical in variables and variables[s.canonical].kind != "meta"]
    expected = {}
    for row in rows:
        code = row["WijkenEnBuurten"].strip()
        for spec in specs:
            cell = row.get(spec.raw_key)
            scale = keymap.unit_scale(spec.cbs_unit, variables[spec.canonical].unit)
            expected[(code, spec.raw_key)] = None if realdata.is_missing(cell) else float(cell) * scale
    return expected


@pytest.mark.parametrize("year", realdata.KWB_YEARS)
def test_staging_kwb_equals_the_files(con, cbs_real, year):
    expected = _expected_kwb(cbs_real, year)
    got = {(a, k): (v, s) for a, k, v, s in con.execute(
        "select area_code, raw_key, value, value_status from staging.kwb where year = ?", [year]).fetchall()}
    assert set(got) == set(expected)
    wrong = []
    for key, want in expected.items():
        value, status = got[key]
        if want is None:  # a '.' in a filled column is CBS's suppression; a column empty for all, not published yet
            if value is not None or status not in ("suppressed", "not_published_yet"):
                wrong.append((key, want, value, status))
        elif status != "published" or not math.isclose(value, want, rel_tol=1e-12, abs_tol=1e-9):
            wrong.append((key, want, value, status))
    assert wrong == []


def test_income_is_converted_to_euro(con, cbs_real):
    """A buurt's income per inhabitant: CBS publishes x 1 000 euro; staging holds euro."""
    rows = [r for r in file_rows(cbs_real, 2019) if r["WijkenEnBuurten"].startswith("BU")
            and not realdata.is_missing(r.get("GemiddeldInkomenPerInwoner_72"))]
    assert rows
    row = rows[0]
    code, raw = row["WijkenEnBuurten"].strip(), float(row["GemiddeldInkomenPerInwoner_72"])
    value, unit, status, raw_key = con.execute(
        "select value, unit, value_status, raw_key from staging.kwb where year = 2019 and area_code = ? "
        "and variable = 'inkomen_per_inwoner_eur'", [code]).fetchone()
    assert raw_key == "GemiddeldInkomenPerInwoner_72"
    assert (unit, status) == ("eur", "published")
    assert value == pytest.approx(raw * 1000, rel=1e-12)
    raw_value = scalar(con, "select GemiddeldInkomenPerInwoner_72 from raw.kwb_2019 where trim(WijkenEnBuurten) = ?",
                       [code])
    assert raw_value == raw


def test_a_dot_in_the_file_is_null_never_zero(con, cbs_real):
    variables = keymap.variables()
    numeric = {s.raw_key: s.canonical for s in keymap.keys_for_year(2019)
               if s.action == "map" and s.canonical in variables and variables[s.canonical].kind != "meta"}
    dots = [(r["WijkenEnBuurten"].strip(), key) for r in file_rows(cbs_real, 2019) for key in numeric
            if key in r and r[key].strip() == "."]
    assert len(dots) > 100  # suppression is common in real buurt data
    code, key = next((c, k) for c, k in dots if c.startswith("BU") and k == "GemiddeldInkomenPerInwoner_72")
    value, status = con.execute("select value, value_status from staging.kwb where year = 2019 and area_code = ? "
                                "and raw_key = ?", [code, key]).fetchone()
    assert (value, status) == (None, "suppressed")  # CBS filled the column for other areas: its own suppression
    staged = {(a, k): (v, s) for a, k, v, s in con.execute(
        "select area_code, raw_key, value, value_status from staging.kwb where year = 2019").fetchall()}
    assert {staged[d] for d in dots} <= {(None, "suppressed"), (None, "not_published_yet")}


def test_areas_levels_codes_and_parents(con, cbs_real):
    for year in realdata.KWB_YEARS:
        codes = [r["WijkenEnBuurten"].strip() for r in file_rows(cbs_real, year)]
        per_level = dict(con.execute(
            "select area_level, count(*) from staging.areas where year = ? group by 1", [year]).fetchall())
        assert per_level == {
            "gemeente": sum(c.startswith("GM") for c in codes),
            "wijk": sum(c.startswith("WK") for c in codes),
            "buurt": sum(c.startswith("BU") for c in codes),
        }
        assert per_level["gemeente"] == 3
    assert scalar(con, "select count(*) from staging.areas where area_code <> upper(trim(area_code))") == 0
    assert {r[0] for r in con.execute("select distinct gemeente_code from staging.areas").fetchall()} == GEMEENTEN
    orphans = con.execute(
        """
        select a.year, a.area_code from staging.areas a
        left join staging.areas w on w.year = a.year and w.area_code = a.wijk_code and w.area_level = 'wijk'
        left join staging.areas g on g.year = a.year and g.area_code = a.gemeente_code and g.area_level = 'gemeente'
        where (a.area_level = 'buurt' and w.area_code is null) or (a.area_level <> 'gemeente' and g.area_code is null)
        """).fetchall()
    assert orphans == []
    assert scalar(con, "select bool_or(is_synthetic) from staging.areas") is False
    # The allcols files carry the gemeente name; staging takes it over.
    assert scalar(con, "select area_name from staging.areas where year = 2019 and area_code = 'GM0363'") == "Amsterdam"


def test_buurt_inhabitants_add_up_to_the_gemeente(con):
    """The check's rule (pipelines/defs/staging/checks.py) holds on real data; the figures are in the message."""
    from pipelines.defs.staging.checks import ROUNDING_PER_BUURT, UNLOCATED_SHARE

    rows = con.execute(
        """
        select g.year, g.area_code, g.inhabitants, sum(b.inhabitants), count(b.area_code)
        from staging.areas g join staging.areas b
          on b.year = g.year and b.gemeente_code = g.area_code and b.area_level = 'buurt'
        where g.area_level = 'gemeente' group by 1, 2, 3 order by 1, 2
        """).fetchall()
    assert len(rows) == 6
    report = [(y, gm, total, int(buurt_sum), n, total - buurt_sum) for y, gm, total, buurt_sum, n in rows]
    for _year, _gm, total, _buurt_sum, n, diff in report:
        assert abs(diff) <= ROUNDING_PER_BUURT * n + UNLOCATED_SHARE * total, report


def test_key_resolution_has_no_unmapped_key(con, cbs_real):
    rows = con.execute("select year, raw_key, match, action from staging.kwb_key_resolution").fetchall()
    assert [r for r in rows if r[2] == "unmapped"] == []
    for year in realdata.KWB_YEARS:
        columns = set(realdata.kwb_rows(cbs_real, year)[0]) - {"ID", "WijkenEnBuurten"}
        assert {r[1] for r in rows if r[0] == year} == columns


# --- health through staging ------------------------------------------------------------------------------


def _national_rows(cbs_real) -> list[tuple[int, str, dict[str, str]]]:
    """(period, Leeftijd code, {column: text}) of the NL01 row of every health file."""
    out = []
    for period, age in realdata.HEALTH_FILES:
        header, rows = realdata.read_csv_rows(realdata.health_path(cbs_real, period, age), ",")
        nl = [dict(zip(header, r)) for r in rows if r[header.index("WijkenEnBuurten")].strip() == "NL01"]
        assert len(nl) == 1
        out.append((period, nl[0]["Leeftijd"].strip(), nl[0]))
    return out


def test_health_periods_levels_and_age_groups(con):
    assert [r[0] for r in con.execute("select distinct year from staging.health order by 1").fetchall()] == [
        2012, 2016, 2020]
    levels = con.execute(
        "select year, area_level, count(distinct area_code) from staging.health group by 1, 2 order by 1, 2").fetchall()
    for year in realdata.HEALTH_PERIODS:
        per_level = {lvl: n for y, lvl, n in levels if y == year}
        assert per_level["land"] == 1
        assert per_level["gemeente"] > 300 and per_level["buurt"] > 10_000
    assert scalar(con, "select count(*) from staging.health where area_code = 'NL01' and area_level = 'land'") > 0
    ages = dict(con.execute("select distinct age_group_code, age_group from staging.health").fetchall())
    assert ages == {code: keymap.HEALTH_LEEFTIJD[code] for code in ("20300", "53115", "80200")}
    # No 18-64 file for 2020 in the snapshot.
    assert scalar(con, "select count(*) from staging.health where year = 2020 and age_group_code = '53115'") == 0


def test_health_national_values_come_through_exactly(con, cbs_real):
    checked = 0
    for period, age, row in _national_rows(cbs_real):
        for key in ("Eenzaam_28", "MoeiteMetRondkomen_38", "ErvarenGezondheidGoedZeerGoed_4"):
            value, status, ci = con.execute(
                "select value, value_status, ci_lower from staging.health where year = ? and area_code = 'NL01' "
                "and age_group_code = ? and raw_key = ?", [period, age, key]).fetchone()
            assert value == float(row[key]), (period, age, key)
            assert status == "published" and ci is None  # the files carry only MW00000
            checked += 1
    assert checked == 24
    # The headline figure the issue names: NL 2020, 18+, lonely; a share of adults, not a count.
    nl_2020 = scalar(con, "select value from staging.health where year = 2020 and area_code = 'NL01' "
                          "and age_group_code = '20300' and variable = 'eenzaam_pct'")
    assert 20 < nl_2020 < 80


def test_health_missing_stays_null(con, cbs_real):
    value_keys = [s.raw_key for s in keymap.health_keys(realdata.REAL_HEALTH_TABLE_ID)
                  if s.datatype not in ("String", "Char")]
    empty = published = 0
    for period, age in realdata.HEALTH_FILES:
        text = realdata.health_text(cbs_real, period, age)
        missing = text.select([(pl.col(k).is_null() | pl.col(k).str.strip_chars().is_in(["", "."])).sum()
                               for k in value_keys]).row(0)
        empty += sum(missing)
        published += text.height * len(value_keys) - sum(missing)
    counts = dict(con.execute("select value_status, count(*) from staging.health group by 1").fetchall())
    assert set(counts) == {"suppressed", "not_measured", "published"}
    assert counts["suppressed"] + counts["not_measured"] == empty and counts["published"] == published
    # 12 topics were not asked in 2012 and 5 in 2016: no figure for any area, national row included.
    not_measured = dict(con.execute("select year, count(distinct variable) from staging.health "
                                    "where value_status = 'not_measured' group by 1").fetchall())
    assert not_measured == {2012: 12, 2016: 5, 2020: 3}
    assert scalar(con, "select count(*) from staging.health "
                       "where value_status <> 'published' and value is not null") == 0
    assert scalar(con, "select count(*) from staging.health where value_status = 'published' and value is null") == 0
    # A topic the 2012 survey did not ask is empty in the NL row and null in staging (not 0).
    period, age, row = next(r for r in _national_rows(cbs_real) if r[0] == 2012)
    gaps = [k for k in value_keys if realdata.is_missing(row[k])]
    assert gaps
    nulls = con.execute(
        f"select count(*), count(value) from staging.health where year = 2012 and area_code = 'NL01' "
        f"and age_group_code = ? and raw_key in ({', '.join('?' for _ in gaps)})", [age, *gaps]).fetchone()
    assert nulls == (len(gaps), 0)


# --- the divide on the real national health data -----------------------------------------------------------


@pytest.fixture(scope="module")
def divide_input(cbs_real) -> dict:
    """Buurt rows of the 18+ health files (value MW00000), weighted by 2024 inhabitants.

    The health table uses the 2020 boundaries for every period; the only national buurt population here
    is KWB 2024 (85984NED). Buurt codes are matched exactly. A buurt whose 2020 code no longer exists in
    2024 (a municipality merged away, or a municipality that renumbered its buurten, such as Amsterdam in
    2022) is dropped, not given weight 1: the measures are weighted by residents, and weight 1 would count
    a buurt of five residents like one of five thousand, so the 20% groups would be wrong rather than
    missing. The test below bounds the share dropped. Buurten with 0 inhabitants in 2024 (industrial
    estates, parks) get weight 0, which the divide code drops by its own rule.
    """
    health = realdata.health_frame(cbs_real, HEALTH_INDICATORS, age="18plus", level_prefix="BU")
    assert set(health["leeftijd"]) == {"20300"} and set(health["marges"]) == {"MW00000"}
    weights = realdata.kwb2024_inhabitants(cbs_real).filter(pl.col("area_code").str.starts_with("BU"))
    long = (
        health.join(weights, on="area_code", how="left")
        .unpivot(index=["year", "gemeente_code", "area_code", "inhabitants"], on=list(HEALTH_INDICATORS),
                 variable_name="indicator", value_name="value")
        .with_columns(("WK" + pl.col("area_code").str.slice(2, 6)).alias("wijk_code"))
    )
    matched = long.filter(pl.col("inhabitants").is_not_null())
    return {"all": long, "matched": matched}


def _measures(frame: pl.DataFrame) -> pl.DataFrame:
    from bwm.divide.frame import divide_measures

    return divide_measures(frame, value_col="value", weight_col="inhabitants",
                           group_cols=["gemeente_code", "year", "indicator"], wijk_col="wijk_code",
                           direction="higher_is_worse")


def test_divide_weights_cover_most_buurten(divide_input):
    with_value = divide_input["all"].filter(pl.col("value").is_not_null())
    shares = with_value.group_by("year", "indicator").agg(pl.col("inhabitants").is_null().mean().alias("dropped"))
    assert shares.height == 6
    assert shares["dropped"].max() < 0.15, shares
    # Same 2020 boundaries in every period: the same buurten lack a 2024 code each time.
    unmatched = divide_input["all"].filter(pl.col("inhabitants").is_null())
    per_year = [set(unmatched.filter(pl.col("year") == y)["area_code"]) for y in realdata.HEALTH_PERIODS]
    assert per_year[0] == per_year[1] == per_year[2]


def test_divide_invariants_on_real_health_data(divide_input):
    measures = _measures(divide_input["matched"])
    usable = (
        divide_input["matched"]
        .filter(pl.col("value").is_not_null() & (pl.col("inhabitants") > 0))
        .select("gemeente_code", "year", "indicator").unique()
    )
    with_input = measures.join(usable, on=["gemeente_code", "year", "indicator"], how="semi")
    assert with_input.height == usable.height
    assert with_input["n_areas"].min() >= 1
    columns = ["gap", "ratio", "weighted_std", "cv", "theil_total", "theil_between", "theil_within"]
    nulls = with_input.select([pl.col(c).is_null().sum() for c in columns]).row(0)
    nans = with_input.select([pl.col(c).is_nan().sum() for c in columns]).row(0)
    assert nulls == (0,) * len(columns) and nans == (0,) * len(columns)
    assert with_input["ratio"].min() >= 1
    assert with_input["gap"].min() >= 0
    assert with_input["theil_total"].min() >= 0
    identity = (with_input["theil_total"] - with_input["theil_between"] - with_input["theil_within"]).abs()
    assert identity.max() <= 1e-9
    # Municipalities covered per period and indicator (2020 boundaries hold about 355 municipalities).
    per_period = with_input.group_by("year", "indicator").len()
    assert per_period.height == len(realdata.HEALTH_PERIODS) * len(HEALTH_INDICATORS)
    assert per_period["len"].min() > 300, per_period
    # Without input there is nothing to measure: such a group has no measure, never a 0.
    empty = measures.join(usable, on=["gemeente_code", "year", "indicator"], how="anti")
    assert empty.filter(pl.col("gap").is_not_null()).height == 0


def test_divide_measures_unchanged_when_buurten_are_reordered(divide_input):
    frame = divide_input["matched"]
    first = _measures(frame)
    keys = ["gemeente_code", "year", "indicator"]
    for seed in (1, 2):
        shuffled = _measures(frame.sample(fraction=1.0, shuffle=True, seed=seed))
        assert shuffled.select(keys).equals(first.select(keys))
        for col in ("n_areas", "n_dropped", "theil_n_nonpositive", "direction"):
            assert shuffled[col].equals(first[col]), col
        for col in ("weight_total", "worst20_mean", "best20_mean", "gap", "ratio", "weighted_std", "cv",
                    "theil_total", "theil_between", "theil_within"):
            a, b = first[col], shuffled[col]
            assert a.is_null().equals(b.is_null()), col
            both = pl.DataFrame({"a": a, "b": b}).drop_nulls()
            worst = both.select(((pl.col("a") - pl.col("b")).abs() / pl.max_horizontal(pl.col("a").abs(), 1.0))
                                .max()).item()
            assert worst is None or worst <= 1e-12, (col, worst)
