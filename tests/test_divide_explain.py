"""Where the divide grows (bwm.divide.explain): every identity to 1e-9, against the plain reference of
tests/divide_reference.py, a hand-worked example, the demo warehouse and the real national health data."""

from __future__ import annotations

import math
import time

import divide_reference as ref
import duckdb
import numpy as np
import polars as pl
import pytest

from bwm.divide import explain
from bwm.divide.explain import ADDITIVE, MEMBERSHIP_EPS

ALL = ("gap", "ratio", "weighted_std", "cv", "theil_total", "theil_between", "theil_within", "dissimilarity",
       "concentration_share_pct")
YEARS = (2019, 2020, 2021, 2022)
TOL = 1e-9


def random_rows(seed: int, n_gemeenten: int = 8) -> pl.DataFrame:
    """Buurten with random residents, values (some missing, some 0), household counts, wijken, buurten appearing
    and disappearing, series breaks, and a concentration threshold per gemeente and year."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_gemeenten):
        gm = f"GM{g:04d}"
        direction = str(rng.choice(ref.DIRECTIONS))
        thresholds = {y: float(rng.uniform(10, 50)) for y in YEARS}
        for b in range(int(rng.integers(1, 15))):
            code, start = f"BU{g:04d}{b:04d}", YEARS[0]
            for y in YEARS:
                if rng.random() < 0.15:
                    continue
                if rng.random() < 0.1:
                    start = y
                value = float(rng.uniform(0.5, 60)) if rng.random() > 0.08 else None
                value = 0.0 if rng.random() < 0.04 else value
                weight = float(rng.integers(0, 3000)) if rng.random() > 0.05 else None
                households = float(rng.integers(0, 1200)) if rng.random() > 0.03 else 0.0
                rows.append({
                    "gemeente_code": gm, "level": "buurt", "indicator_id": "x", "year": y, "area_code": code,
                    "direction": direction, "wijk_code": f"WK{g:04d}{b % 3:02d}", "value": value,
                    "inhabitants": weight, "series_id": f"{code}@{start}",
                    "low_income_households": None if value is None else value / 100 * households,
                    "other_households": None if value is None else (1 - value / 100) * households,
                    "threshold": thresholds[y]})
    return pl.DataFrame(rows)


def _present(frame: pl.DataFrame) -> list[dict]:
    """The present rows (usable value and residents), in area-code order (the tie order of the module)."""
    return [r for r in frame.sort("area_code").to_dicts() if r["value"] is not None and math.isfinite(r["value"])
            and r["inhabitants"] is not None and r["inhabitants"] > 0]


def reference_measure(name: str, rows: list[dict], direction: str) -> float:
    x = np.array([r["value"] for r in rows], dtype=float)
    w = np.array([r["inhabitants"] for r in rows], dtype=float)
    if name in ("gap", "ratio"):
        return getattr(ref.extreme_group_gap(x, w, direction), name) if rows else math.nan
    if name == "weighted_std":
        return ref.weighted_std(x, w).value
    if name == "cv":
        return ref.coefficient_of_variation(x, w).value
    if name.startswith("theil"):
        t = ref.theil_decomposition(x, w, [r["wijk_code"] for r in rows])
        return {"theil_total": t.total, "theil_between": t.between, "theil_within": t.within}[name]
    if name == "dissimilarity":
        return ref.dissimilarity_index([r["low_income_households"] for r in rows],
                                       [r["other_households"] for r in rows]).value
    return ref.concentration_share(x, w, rows[0]["threshold"] if rows else math.nan).value


def _mixed(rows_v: list[dict], rows_w: list[dict], same_year: bool) -> list[dict]:
    """Rows with the values of one year and the weights of another (households for dissimilarity, the share of
    low-income households with the values; undefined where the values' year has no households)."""
    out = []
    for v, w in zip(rows_v, rows_w, strict=True):
        row = dict(v, inhabitants=w["inhabitants"])
        if not same_year:
            h_v = v["low_income_households"] + v["other_households"]
            h_w = w["low_income_households"] + w["other_households"]
            share = v["low_income_households"] / h_v if h_v > 0 else math.nan
            row["low_income_households"], row["other_households"] = share * h_w, (1 - share) * h_w
        out.append(row)
    return out


def reference_shapley(name: str, rows0: list[dict], rows1: list[dict], direction: str) -> ref.Shapley:
    year0 = {r["series_id"]: (r, r) for r in rows0}
    year1 = {r["series_id"]: (r, r) for r in rows1}

    def measure(keys, values, weights):
        same = all(v is w for v, w in zip(values, weights, strict=True))
        return reference_measure(name, _mixed(values, weights, same), direction)

    return ref.shapley_split(measure, year0, year1)


def reference_terms(name: str, rows: list[dict], direction: str) -> dict[str, float]:
    x = np.array([r["value"] for r in rows], dtype=float)
    w = np.array([r["inhabitants"] for r in rows], dtype=float)
    if name == "gap":
        terms = ref.gap_terms(x, w, direction)[0]
    elif name.startswith("theil"):
        terms = ref.theil_terms(x, w, [r["wijk_code"] for r in rows])[name.removeprefix("theil_")]
    elif name == "dissimilarity":
        terms = ref.dissimilarity_terms([r["low_income_households"] for r in rows],
                                        [r["other_households"] for r in rows])
    else:
        terms = ref.concentration_terms(x, w, rows[0]["threshold"])
    return {r["area_code"]: float(t) for r, t in zip(rows, terms, strict=True)}


def close(a, b, tol=TOL) -> bool:
    a = math.nan if a is None else a
    b = math.nan if b is None else b
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def _explained(frame):
    return explain.explain(frame, measures_of=lambda _: ALL)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_decomposition_matches_the_reference_and_adds_up(seed):
    frame = random_rows(seed)
    result = _explained(frame).decomposition
    checked = 0
    for gm, part in frame.partition_by("gemeente_code", as_dict=True).items():
        direction = part["direction"][0]
        present = {y: _present(part.filter(pl.col("year") == y)) for y in YEARS}
        years = [y for y in YEARS if present[y]]
        got = result.filter(pl.col("gemeente_code") == gm[0])
        if len(years) < 2:
            assert got.height == 0
            continue
        base, latest = years[0], years[-1]
        assert got.height == len(ALL)
        for row in got.iter_rows(named=True):
            name = row["measure"]
            assert (row["base_year"], row["latest_year"]) == (base, latest)
            split = reference_shapley(name, present[base], present[latest], direction)
            m0, m1 = (reference_measure(name, present[y], direction) for y in (base, latest))
            assert close(row["base_value"], m0) and close(row["latest_value"], m1), (gm, name)
            assert close(row["total_change"], split.total), (gm, name)
            assert row["n_common"] == split.n_common
            assert row["n_appeared"] == len(present[latest]) - split.n_common
            assert row["n_disappeared"] == len(present[base]) - split.n_common
            if row["value_effect"] is None:  # undefined over the common buurten (a ratio of a mean <= 0)
                assert not all(map(math.isfinite, (split.value, split.population, split.boundary)))
                continue
            assert close(row["value_effect"], split.value), (gm, name)
            assert close(row["population_effect"], split.population), (gm, name)
            assert close(row["boundary_effect"], split.boundary), (gm, name)
            parts = row["value_effect"] + row["population_effect"] + row["boundary_effect"]
            assert abs(parts - row["total_change"]) <= TOL
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("seed", [4, 5])
def test_contributions_match_the_reference_terms_and_sum_to_the_change(seed):
    frame = random_rows(seed)
    result = _explained(frame)
    contributions = result.contributions
    assert set(contributions["measure"]) == set(ADDITIVE)
    sums = contributions.group_by("gemeente_code", "measure", "year").agg(
        pl.col("contribution").filter(pl.col("status") == "common").sum().alias("common"),
        pl.col("contribution").filter(pl.col("status") != "common").sum().alias("boundary"))
    checked = 0
    for gm, part in frame.partition_by("gemeente_code", as_dict=True).items():
        direction = part["direction"][0]
        present = {y: _present(part.filter(pl.col("year") == y)) for y in YEARS}
        years = [y for y in YEARS if present[y]]
        if len(years) < 2:
            assert contributions.filter(pl.col("gemeente_code") == gm[0]).height == 0
            continue
        base = years[0]
        for name in ADDITIVE:
            base_terms = reference_terms(name, present[base], direction)
            base_series = {r["area_code"]: r["series_id"] for r in present[base]}
            m0 = reference_measure(name, present[base], direction)
            for year in years:
                terms = reference_terms(name, present[year], direction)
                series = {r["area_code"]: r["series_id"] for r in present[year]}
                got = contributions.filter((pl.col("gemeente_code") == gm[0]) & (pl.col("measure") == name)
                                           & (pl.col("year") == year))
                assert sorted(got["area_code"]) == sorted(set(terms) | set(base_terms))
                for row in got.iter_rows(named=True):
                    code = row["area_code"]
                    expected_status = ("common" if base_series.get(code) == series.get(code) else "series_break") \
                        if code in terms and code in base_terms else "appeared" if code in terms else "disappeared"
                    assert row["status"] == expected_status
                    assert close(row["term"], terms.get(code)) and close(row["term_base"], base_terms.get(code))
                    expected = (0 if math.isnan(terms.get(code, 0)) else terms.get(code, 0)) - \
                        (0 if math.isnan(base_terms.get(code, 0)) else base_terms.get(code, 0))
                    assert close(row["contribution"], expected)
                change = reference_measure(name, present[year], direction) - m0
                total = sums.filter((pl.col("gemeente_code") == gm[0]) & (pl.col("measure") == name)
                                    & (pl.col("year") == year)).select(pl.col("common") + pl.col("boundary")).item()
                if math.isfinite(change):
                    assert abs(total - change) <= TOL, (gm, name, year)
                    checked += 1
    assert checked > 50


def test_membership_shares_and_events_follow_the_quantile_groups():
    frame = random_rows(6)
    gap = _explained(frame).contributions.filter(pl.col("measure") == "gap")
    checked = 0
    for gm, part in frame.partition_by("gemeente_code", as_dict=True).items():
        direction = part["direction"][0]
        present = {y: _present(part.filter(pl.col("year") == y)) for y in YEARS}
        years = [y for y in YEARS if present[y]]
        shares = {}
        for y in years:
            x = np.array([r["value"] for r in present[y]], dtype=float)
            w = np.array([r["inhabitants"] for r in present[y]], dtype=float)
            _, worst, best = ref.gap_terms(x, w, direction)
            shares[y] = {r["area_code"]: (wo, be, r["series_id"]) for r, wo, be in zip(present[y], worst, best,
                                                                                       strict=True)}
        for previous, year in zip(years[:-1], years[1:], strict=True):
            got = gap.filter((pl.col("gemeente_code") == gm[0]) & (pl.col("year") == year)
                             & pl.col("value").is_not_null())
            for row in got.iter_rows(named=True):
                worst, best, series = shares[year][row["area_code"]]
                assert close(row["worst20_share"], worst) and close(row["best20_share"], best)
                assert 0 <= row["worst20_share"] <= 1 + 1e-12 and 0 <= row["best20_share"] <= 1 + 1e-12
                before = shares[previous].get(row["area_code"])
                if before is None or before[2] != series:
                    assert row["entered_worst20"] is None and row["left_best20"] is None
                    continue
                assert row["entered_worst20"] == (before[0] <= MEMBERSHIP_EPS < worst)
                assert row["left_worst20"] == (worst <= MEMBERSHIP_EPS < before[0])
                assert row["entered_best20"] == (before[1] <= MEMBERSHIP_EPS < best)
                assert row["left_best20"] == (best <= MEMBERSHIP_EPS < before[1])
                checked += 1
    assert checked > 30


def _hand_rows(values: dict[int, dict[str, tuple[float, float]]], direction="higher_is_better") -> pl.DataFrame:
    return pl.DataFrame([{"gemeente_code": "GM0001", "level": "buurt", "indicator_id": "x", "year": y,
                          "area_code": code, "direction": direction, "wijk_code": "WK000100", "value": v,
                          "inhabitants": w} for y, buurten in values.items() for code, (v, w) in buurten.items()])


def test_hand_worked_gap_contributions_and_group_changes():
    # Five buurten of 100 residents: the worst-off 20% is the lowest buurt, the best-off 20% the highest.
    # 2020: A=10 .. E=50, gap 50 - 10 = 40. 2021: A improves to 25, B (20) is now lowest, E rises to 70: gap 50.
    rows = _hand_rows({2020: {"BU1A": (10, 100), "BU1B": (20, 100), "BU1C": (30, 100), "BU1D": (40, 100),
                              "BU1E": (50, 100)},
                       2021: {"BU1A": (25, 100), "BU1B": (20, 100), "BU1C": (30, 100), "BU1D": (40, 100),
                              "BU1E": (70, 100)}})
    result = explain.explain(rows, measures_of=lambda _: ("gap",))
    c = {r["area_code"]: r for r in result.contributions.filter(pl.col("year") == 2021).iter_rows(named=True)}
    assert {k: (r["term_base"], r["term"], r["contribution"]) for k, r in c.items()} == {
        "BU1A": (-10, 0, 10), "BU1B": (0, -20, -20), "BU1C": (0, 0, 0), "BU1D": (0, 0, 0), "BU1E": (50, 70, 20)}
    assert (c["BU1A"]["left_worst20"], c["BU1B"]["entered_worst20"], c["BU1E"]["entered_best20"]) == (True, True, False)
    assert (c["BU1A"]["worst20_share"], c["BU1B"]["worst20_share"], c["BU1E"]["best20_share"]) == (0, 1, 1)
    assert (c["BU1A"]["value_change"], c["BU1E"]["value_change"]) == (15, 20)
    d = result.decomposition.row(0, named=True)
    assert (d["base_value"], d["latest_value"], d["total_change"]) == (40, 50, 10)
    assert (d["value_effect"], d["population_effect"], d["boundary_effect"]) == (10, 0, 0)


def test_hand_worked_population_and_boundary_effects():
    # 2020: X = 10 and Y = 20, 100 residents each: mean 15, standard deviation 5.
    # 2021: same values, X has 300 residents (std over X, Y: sqrt(18.75)), and a new buurt Z = 15 with 100
    # residents: mean 13, variance (300*9 + 100*49 + 100*4) / 500 = 16, std 4. Change -1: no value effect,
    # population effect sqrt(18.75) - 5, boundary effect 4 - sqrt(18.75).
    rows = _hand_rows({2020: {"BU1X": (10, 100), "BU1Y": (20, 100)},
                       2021: {"BU1X": (10, 300), "BU1Y": (20, 100), "BU1Z": (15, 100)}})
    d = explain.explain(rows, measures_of=lambda _: ("weighted_std",)).decomposition.row(0, named=True)
    assert d["total_change"] == pytest.approx(-1, abs=1e-12)
    assert d["value_effect"] == pytest.approx(0, abs=1e-12)
    assert d["population_effect"] == pytest.approx(math.sqrt(18.75) - 5, abs=1e-12)
    assert d["boundary_effect"] == pytest.approx(4 - math.sqrt(18.75), abs=1e-12)
    assert (d["n_common"], d["n_appeared"], d["n_disappeared"]) == (2, 1, 0)


def test_a_series_break_is_never_bridged_and_a_later_base_year_can_be_chosen():
    rows = _hand_rows({2020: {"BU1X": (10, 100), "BU1Y": (20, 100)}, 2021: {"BU1X": (12, 100), "BU1Y": (30, 100)},
                       2022: {"BU1X": (14, 100), "BU1Y": (40, 100)}}).with_columns(
        pl.when((pl.col("area_code") == "BU1Y") & (pl.col("year") >= 2021)).then(pl.lit("BU1Y@2021"))
        .otherwise(pl.col("area_code") + "@2020").alias("series_id"))
    result = explain.explain(rows, measures_of=lambda _: ("gap", "weighted_std"))
    y = result.contributions.filter((pl.col("area_code") == "BU1Y") & (pl.col("year") == 2022)
                                    & (pl.col("measure") == "gap")).row(0, named=True)
    assert y["status"] == "series_break" and y["value_change"] is None
    d = result.decomposition.filter(pl.col("measure") == "weighted_std").row(0, named=True)
    assert (d["n_common"], d["n_appeared"], d["n_disappeared"]) == (1, 1, 1)
    later = explain.explain(rows, base_year=2021, measures_of=lambda _: ("gap",))
    d = later.decomposition.row(0, named=True)
    assert (d["base_year"], d["latest_year"], d["n_common"]) == (2021, 2022, 2)
    assert d["value_effect"] == pytest.approx(d["total_change"]) and d["boundary_effect"] == pytest.approx(0)


def test_no_loop_per_gemeente_many_series_take_seconds():
    frame = pl.concat([random_rows(seed, n_gemeenten=40).with_columns(
        pl.col("gemeente_code") + f"-{seed}") for seed in range(10)])
    start = time.perf_counter()
    result = _explained(frame)
    elapsed = time.perf_counter() - start
    assert result.decomposition["gemeente_code"].n_unique() > 300
    assert elapsed < 20, elapsed


# --- the demo warehouse ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True)
    yield con
    con.close()


def test_demo_every_series_with_two_years_is_decomposed_and_adds_up(demo):
    from bwm.divide.build import measures_of

    series = demo.execute(
        "select gemeente_code, indicator_id, min(year), max(year) from divide.measures "
        "where level = 'buurt' and n_areas > 0 and indicator_id <> 'stapeling' "  # derived (bwm.stapeling): no split
        "group by 1, 2 having count(*) >= 2").fetchall()
    assert len(series) > 50
    decomposition = demo.execute("select * from divide.decomposition").pl()
    got = {(r["gemeente_code"], r["indicator_id"]): r for r in decomposition.filter(pl.col("measure") == "gap")
           .iter_rows(named=True)}
    for gm, indicator, first, last in series:
        row = got[(gm, indicator)]
        assert (row["base_year"], row["latest_year"]) == (first, last)
        n = decomposition.filter((pl.col("gemeente_code") == gm) & (pl.col("indicator_id") == indicator)).height
        assert n == len(measures_of(indicator))
    split = decomposition.filter(pl.col("value_effect").is_not_null())
    assert split.height >= 0.95 * decomposition.height
    scale = pl.max_horizontal(pl.lit(1.0), pl.col("base_value").abs(), pl.col("latest_value").abs())
    worst = split.select(((pl.col("total_change") - pl.col("value_effect") - pl.col("population_effect")
                           - pl.col("boundary_effect")).abs() / scale).max()).item()
    assert worst <= 1e-9
    # The base and latest values are the divide measures of those years.
    measures = demo.execute("select * from divide.measures where level = 'buurt'").pl()
    for name in ("gap", "weighted_std", "theil_total", "dissimilarity", "concentration_share_pct"):
        joined = decomposition.filter(pl.col("measure") == name).join(
            measures.select("gemeente_code", "indicator_id", pl.col("year").alias("base_year"),
                            pl.col(name).alias("m0")), on=["gemeente_code", "indicator_id", "base_year"]).join(
            measures.select("gemeente_code", "indicator_id", pl.col("year").alias("latest_year"),
                            pl.col(name).alias("m1")), on=["gemeente_code", "indicator_id", "latest_year"])
        assert joined.height > 0, name
        diff = joined.select(pl.max_horizontal((pl.col("base_value") - pl.col("m0")).abs(),
                                               (pl.col("latest_value") - pl.col("m1")).abs()).max()).item()
        assert diff <= 1e-9 * max(1.0, joined["m1"].abs().max()), name


def test_demo_contributions_sum_to_each_years_change(demo):
    sums = demo.execute(
        """
        with c as (
            select gemeente_code, indicator_id, measure, base_year, year, sum(contribution) as total
            from divide.contributions group by all
        )
        select c.measure, c.total, b.value_base, m.value_year
        from c
        join (select gemeente_code, indicator_id, year, measure, value as value_base from divide.measures
              unpivot (value for measure in (gap, theil_total, theil_between, theil_within, dissimilarity,
                                             concentration_share_pct)) where level = 'buurt') b
          on b.gemeente_code = c.gemeente_code and b.indicator_id = c.indicator_id and b.year = c.base_year
             and b.measure = c.measure
        join (select gemeente_code, indicator_id, year, measure, value as value_year from divide.measures
              unpivot (value for measure in (gap, theil_total, theil_between, theil_within, dissimilarity,
                                             concentration_share_pct)) where level = 'buurt') m
          on m.gemeente_code = c.gemeente_code and m.indicator_id = c.indicator_id and m.year = c.year
             and m.measure = c.measure
        """).pl()
    assert sums.height > 500
    assert set(sums["measure"]) == set(ADDITIVE)
    worst = sums.select(((pl.col("total") - (pl.col("value_year") - pl.col("value_base"))).abs()
                         / pl.max_horizontal(pl.lit(1.0), pl.col("value_year").abs())).max()).item()
    assert worst <= 1e-9


def test_demo_exports_hold_the_divide_tables(demo, demo_warehouse):
    for gm in ("GM9901", "GM9902"):
        folder = demo_warehouse["exports"] / gm
        decomposition = pl.read_parquet(folder / f"{gm}_divide_decomposition.parquet")
        expected = demo.execute("select count(*) from publish.divide_decomposition where gemeente_code = ?",
                                [gm]).fetchone()[0]
        assert decomposition.height == expected > 0
        contributions = pl.read_parquet(folder / f"{gm}_divide_contributions.parquet")
        assert contributions.height == demo.execute(
            "select count(*) from publish.divide_contributions where gemeente_code = ?", [gm]).fetchone()[0]
        stapeling = pl.read_parquet(folder / f"{gm}_divide_stapeling.parquet")
        measure = demo.execute("select year, stapeling_share_pct from divide.measures where gemeente_code = ? and "
                               "indicator_id = 'stapeling' order by year", [gm]).fetchall()
        assert stapeling.select("year", "value").rows() == measure
        assert len([v for _, v in measure if v is not None]) >= 3  # 2012 has no KWB figures: no score, no share
        assert stapeling["trend_label"].n_unique() == 1
        assert (stapeling["ci_low"].is_null() == stapeling["value"].is_null()).all()
        definitions = pl.read_parquet(folder / f"{gm}_divide_definitions.parquet")
        described = {(t, c) for t, c in definitions.select("table", "column").iter_rows()}
        assert described == {("divide_decomposition", c) for c in decomposition.columns} | {
            ("divide_contributions", c) for c in contributions.columns} | {
            ("divide_stapeling", c) for c in stapeling.columns}
        # The measure's definition travels with it.
        (nl,) = definitions.filter((pl.col("table") == "divide_stapeling") & (pl.col("column") == "measure"))["nl"]
        assert "ten minste 3 thema's" in nl
        assert (folder / f"{gm}_divide_contributions.csv").is_file()


# --- the real national health data -----------------------------------------------------------------------------


@pytest.mark.real_data
def test_real_health_data_every_municipality_is_explained(cbs_real):
    """50090NED 2012/2016/2020 (18+, values only) over buurten, weighted by KWB 2024 residents (as
    tests/test_real_data.py): every municipality with a buurt value in two periods gets contributions and a
    decomposition, without a NaN or null where inputs exist."""
    import realdata

    indicators = ("Eenzaam_28", "MoeiteMetRondkomen_38")
    health = realdata.health_frame(cbs_real, indicators, age="18plus", level_prefix="BU")
    weights = realdata.kwb2024_inhabitants(cbs_real).filter(pl.col("area_code").str.starts_with("BU"))
    rows = (health.join(weights, on="area_code", how="inner")
            .unpivot(index=["year", "gemeente_code", "area_code", "inhabitants"], on=list(indicators),
                     variable_name="indicator_id", value_name="value")
            .with_columns(pl.lit("buurt").alias("level"), pl.lit("higher_is_worse").alias("direction"),
                          ("WK" + pl.col("area_code").str.slice(2, 6)).alias("wijk_code")))
    start = time.perf_counter()
    result = explain.explain(rows, measures_of=lambda _: ("gap", "ratio", "weighted_std", "cv", "theil_total"))
    elapsed = time.perf_counter() - start
    usable = rows.filter(pl.col("value").is_not_null() & (pl.col("inhabitants") > 0))
    expected = usable.group_by("gemeente_code", "indicator_id").agg(pl.col("year").n_unique().alias("n")) \
        .filter(pl.col("n") >= 2)
    assert expected.height > 600  # ~350 municipalities x 2 indicators
    decomposition = result.decomposition
    assert decomposition.select("gemeente_code", "indicator_id").unique().sort(pl.all()).equals(
        expected.select("gemeente_code", "indicator_id").sort(pl.all()))
    numbers = ["base_value", "latest_value", "total_change", "value_effect", "population_effect", "boundary_effect"]
    for name in ("gap", "weighted_std", "cv", "theil_total"):
        part = decomposition.filter(pl.col("measure") == name)
        assert part.height == expected.height
        assert part.select(pl.any_horizontal([pl.col(c).is_null() | pl.col(c).is_nan() for c in numbers]).sum()) \
            .item() == 0, name
        parts = part.select((pl.col("total_change") - pl.col("value_effect") - pl.col("population_effect")
                             - pl.col("boundary_effect")).abs().max()).item()
        assert parts <= 1e-9, name
        # One set of weights (KWB 2024) for every period: residents did not move, so no population effect.
        assert part["population_effect"].abs().max() <= 1e-9, name
    contributions = result.contributions
    assert contributions.select("gemeente_code", "indicator_id").unique().height == expected.height
    present = contributions.filter(pl.col("value").is_not_null())
    gap = present.filter(pl.col("measure") == "gap")
    assert gap.select(pl.any_horizontal([pl.col(c).is_null() | pl.col(c).is_nan() for c in
                                         ("term", "contribution", "worst20_share", "best20_share")]).sum()).item() == 0
    sums = contributions.filter(pl.col("measure") == "gap").group_by("gemeente_code", "indicator_id", "year").agg(
        pl.col("contribution").sum()).join(
        decomposition.filter(pl.col("measure") == "gap").select(
            "gemeente_code", "indicator_id", pl.col("latest_year").alias("year"), "total_change"),
        on=["gemeente_code", "indicator_id", "year"])
    assert sums.height == expected.height
    assert sums.select((pl.col("contribution") - pl.col("total_change")).abs().max()).item() <= 1e-9
    assert elapsed < 30, elapsed


def test_demo_export_of_a_selection_and_the_batched_export_agree(demo_warehouse, demo, tmp_path):
    from bwm.export.run import export
    from bwm.export.tables import Selection

    export(demo_warehouse["warehouse"], Selection(municipalities=("GM9901",)), tmp_path / "one", name="GM9901",
           formats=("csv",))
    for table in ("divide_decomposition", "divide_contributions", "divide_definitions"):
        name = f"GM9901_{table}.csv"
        assert (tmp_path / "one" / name).read_bytes() == (demo_warehouse["exports"] / "GM9901" / name).read_bytes()
    selection = Selection(municipalities=("GM9901",), themes=("materiele_welvaart",), years=tuple(range(2015, 2025)),
                          levels=("buurt",))
    export(demo_warehouse["warehouse"], selection, tmp_path / "sel", name="sel", formats=("parquet",))
    decomposition = pl.read_parquet(tmp_path / "sel" / "sel_divide_decomposition.parquet")
    contributions = pl.read_parquet(tmp_path / "sel" / "sel_divide_contributions.parquet")
    themes = dict(demo.execute("select indicator_id, theme from publish.indicators").fetchall())
    assert decomposition.height > 0 and contributions.height > 0
    for frame in (decomposition, contributions):
        assert set(frame["gemeente_code"]) == {"GM9901"}
        assert {themes[i] for i in frame["indicator_id"]} == {"materiele_welvaart"}
        assert frame["base_year"].min() >= 2015
    assert contributions["year"].min() >= 2015
    none = Selection(municipalities=("GM9901",), levels=("gemeente",))
    export(demo_warehouse["warehouse"], none, tmp_path / "gm", name="gm", formats=("parquet",))
    assert pl.read_parquet(tmp_path / "gm" / "gm_divide_contributions.parquet").height == 0
