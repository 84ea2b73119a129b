"""The synthetic generator writes a mirror that looks like CBS's and tells a consistent story.

One demo mirror is generated per module (about a second); the national scale runs only with ``-m slow``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from bwm.cbs import mirror
from bwm.harmonise import keymap
from bwm.synth.geography import KWB_YEARS, MERGER_YEAR, build_world
from bwm.synth.values import PARTIAL_RELEASE_YEAR
from bwm.synth.writer import RELEASE_KEYS, SYNTH_HEALTH_TABLE_ID, generate_mirror, kwb_specs

SEED = 20240101
ROOT = Path(__file__).resolve().parents[1]
REGION_KEY = re.compile(r"^(NL00 {6}|GM\d{4} {4}|WK\d{6} {2}|BU\d{8})$")
SOORT_REGIO = {"NL": "Land      ", "GM": "Gemeente  ", "WK": "Wijk      ", "BU": "Buurt     "}
NATIONAL = "NL00      "  # the KWB tables' national row (real 84799NED: key NL00)
NATIONAL_HEALTH = "NL01      "  # the health table's (real 50090NED: key NL01)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "mirror"
    messages: list[str] = []
    ids = generate_mirror(path, scale="demo", seed=SEED, progress=messages.append)
    assert ids == [keymap.kwb_table(y).table_id for y in KWB_YEARS] + [SYNTH_HEALTH_TABLE_ID]
    assert len([m for m in messages if "rijen" in m]) == len(ids)
    return path


def _rows(path: Path, table_id: str) -> list[dict]:
    return json.loads((path / table_id / "TypedDataSet.json").read_text(encoding="utf-8"))


def _kwb(path: Path, year: int) -> tuple[list[dict], str]:
    table = keymap.kwb_table(year)
    return _rows(path, table.table_id), table.region_dimension


def _key(year: int, canonical: str) -> str:
    """The raw key of a canonical variable in a year (by the key map)."""
    keys = [s.raw_key for s in keymap.keys_for_year(year) if s.canonical == canonical and s.action == "map"]
    assert keys, f"{canonical} is not mapped in {year}"
    return keys[0]


def _by_level(rows: list[dict], region: str) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for row in rows:
        out[row[region][:2]].append(row)
    return out


def test_same_seed_gives_identical_files(demo, tmp_path):
    again = tmp_path / "again"
    generate_mirror(again, scale="demo", seed=SEED)
    for table_id in [keymap.kwb_table(y).table_id for y in KWB_YEARS] + [SYNTH_HEALTH_TABLE_ID]:
        for name in ("TypedDataSet.json", "DataProperties.json", "TableInfos.json"):
            assert (demo / table_id / name).read_bytes() == (again / table_id / name).read_bytes(), (table_id, name)
    for year in KWB_YEARS:
        for layer in ("gemeenten", "wijken", "buurten"):
            rel = Path("geo") / str(year) / f"{layer}.geojson"
            assert (demo / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = tmp_path / "other"
    generate_mirror(other, scale="demo", seed=SEED + 1, years=[2020])
    table_id = keymap.kwb_table(2020).table_id
    assert (other / table_id / "TypedDataSet.json").read_bytes() != (demo / table_id / "TypedDataSet.json").read_bytes()


@pytest.mark.parametrize("year", KWB_YEARS)
def test_each_year_has_its_real_table_id_and_key_list(demo, year):
    table = keymap.kwb_table(year)
    manifest = mirror.verify_table(demo, table.table_id)
    assert manifest["source"] == "synthetic"
    info = json.loads((demo / table.table_id / "TableInfos.json").read_text(encoding="utf-8"))[0]
    assert info["Identifier"] == table.table_id
    assert info["Title"] == f"Kerncijfers wijken en buurten {year} (synthetisch)"
    assert info["Period"] == str(year)
    props = json.loads((demo / table.table_id / "DataProperties.json").read_text(encoding="utf-8"))
    geo = [p for p in props if p["Type"] == "GeoDetail"]
    assert [p["Key"] for p in geo] == [table.region_dimension]
    specs = kwb_specs(year)  # the key map's keys, with the keys CBS renamed in that release (RELEASE_KEYS)
    topics = [p for p in props if p["Type"] == "Topic"]
    assert [p["Key"] for p in topics] == [s.raw_key for s in specs]
    assert [(p["Unit"], p["Datatype"], p["Decimals"]) for p in topics] == [
        (s.cbs_unit, s.datatype, s.decimals) for s in specs
    ]
    rows = _rows(demo, table.table_id)
    assert len(rows) == manifest["row_count"]
    expected = ["ID", table.region_dimension] + [s.raw_key for s in specs]
    assert all(list(row) == expected for row in rows)
    dimension = json.loads((demo / table.table_id / f"{table.region_dimension}.json").read_text(encoding="utf-8"))
    assert [d["Key"] for d in dimension] == [r[table.region_dimension] for r in rows]
    assert json.loads((demo / table.table_id / "CategoryGroups.json").read_text()) == []


def test_codes_are_padded_like_cbs_and_fictional(demo):
    for year in (2013, 2020, 2024):
        rows, region = _kwb(demo, year)
        codering = _key(year, "codering")
        soort = _key(year, "soort_regio")
        naam = _key(year, "gemeentenaam")
        for row in rows:
            code = row[region]
            assert REGION_KEY.match(code), code
            assert row[codering] == code  # the national row: key and Codering NL00, as the real 84799NED
            assert row[soort] == SOORT_REGIO[code[:2]]
            assert len(row[naam]) == 40 and row[naam].rstrip().endswith("(synthetisch)")
            if code != NATIONAL:
                assert code[2:4] == "99", "demo codes are GM99xx, far from every real gemeente code"


def test_national_codes_do_not_collide_with_real_gemeenten(cbs_real):
    real = json.loads((cbs_real / "geo" / "gemeente_gegeneraliseerd_2022_NL_wgs84.geojson").read_text(encoding="utf-8"))
    real_codes = {f["properties"]["statcode"].strip() for f in real["features"]}
    assert len(real_codes) > 300
    world = build_world("national", SEED)
    synthetic = set()
    for year in (2013, 2022, 2024):
        synthetic |= set(world.geography(year).gm_code)
    assert not synthetic & real_codes
    real_numbers = {c[2:] for c in real_codes}
    assert not {c[2:] for c in synthetic} & real_numbers  # so WK/BU codes cannot collide either


def test_counts_add_up_within_rounding(demo):
    for year in KWB_YEARS:
        rows, region = _kwb(demo, year)
        for canonical in ("inwoners", "huishoudens", "leeftijd_65_plus", "woningvoorraad"):
            key = _key(year, canonical)
            buurt_sum, buurt_n = defaultdict(float), defaultdict(int)
            gm_sum, gm_n = defaultdict(float), defaultdict(int)
            for row in rows:
                code = row[region].strip()
                if code.startswith("BU"):
                    assert row[key] % 5 == 0, (year, code, key, row[key])  # buurt counts: multiples of 5
                    buurt_sum["WK" + code[2:8]] += row[key]
                    buurt_n["WK" + code[2:8]] += 1
                    gm_sum["GM" + code[2:6]] += row[key]
                    gm_n["GM" + code[2:6]] += 1
            for row in rows:
                code = row[region].strip()
                if code.startswith("WK"):
                    assert row[key] % 5 == 0
                    assert abs(row[key] - buurt_sum[code]) <= 2.5 * buurt_n[code] + 2.5, (year, code, key)
                elif code.startswith("GM"):
                    assert abs(row[key] - gm_sum[code]) <= 2.5 * gm_n[code], (year, code, key)


def test_means_of_wijken_lie_within_their_buurten(demo):
    rows, region = _kwb(demo, 2022)
    key = _key(2022, "inkomen_per_inwoner_eur")
    buurten = defaultdict(list)
    for row in rows:
        code = row[region].strip()
        if code.startswith("BU") and row[key] is not None:
            buurten["WK" + code[2:8]].append(row[key])
    for row in rows:
        code = row[region].strip()
        if code.startswith("WK") and len(buurten[code]) > 0 and row[key] is not None:
            assert min(buurten[code]) - 0.1 <= row[key] <= max(buurten[code]) + 0.1


def _gap(rows: list[dict], region: str, key: str, poorer: set[str], richer: set[str]) -> float:
    values = {r[region].strip(): r[key] for r in rows}
    poor = [values[c] for c in poorer if values.get(c) is not None]
    rich = [values[c] for c in richer if values.get(c) is not None]
    return float(np.mean(rich)) / float(np.mean(poor))


def test_the_poorer_part_falls_behind(demo):
    first, last = 2013, PARTIAL_RELEASE_YEAR - 1  # the newest year has no income figures yet
    rows0, region0 = _kwb(demo, first)
    rows1, region1 = _kwb(demo, last)
    income0, income1 = _key(first, "inkomen_per_inwoner_eur"), _key(last, "inkomen_per_inwoner_eur")
    low1 = _key(last, "huishoudens_laag_inkomen_pct")
    codes1 = {r[region1].strip() for r in rows1}
    by_gm = defaultdict(list)
    for r in rows0:
        code = r[region0].strip()
        if code.startswith("BU") and code in codes1 and r[income0] is not None:
            by_gm[code[2:6]].append((r[income0], code))
    assert len(by_gm) == 3
    for gm, buurten in by_gm.items():
        buurten.sort()
        half = len(buurten) // 2
        poorer = {c for _, c in buurten[:half]}
        richer = {c for _, c in buurten[half:]}
        gap0 = _gap(rows0, region0, income0, poorer, richer)
        gap1 = _gap(rows1, region1, income1, poorer, richer)
        assert gap1 > gap0 + 0.03, (gm, gap0, gap1)
        low_gap = _gap(rows1, region1, low1, richer, poorer)  # poorer side's low-income share / richer side's
        assert low_gap > 1.3, (gm, low_gap)


def test_boundary_changes_are_flagged_1_2_3(demo):
    seen = defaultdict(set)
    for year in KWB_YEARS:
        rows, region = _kwb(demo, year)
        key = _key(year, "indelingswijziging")
        for row in rows:
            assert row[key] in ("1", "2", "3")
            seen[row[key]].add((year, row[region].strip()[:2]))
    assert {"1", "2", "3"} <= set(seen)
    assert any(level == "WK" for _, level in seen["2"])  # a recoded wijk
    assert any(level == "BU" for _, level in seen["3"])  # split and merged buurten
    # The split buurt of 2016: its old code disappears, two new codes appear, both flagged 3.
    codes = {y: {r[_kwb(demo, y)[1]].strip() for r in _kwb(demo, y)[0]} for y in (2015, 2016)}
    gone, new = codes[2015] - codes[2016], codes[2016] - codes[2015]
    assert len(gone) == 1 and len(new) == 2
    rows16, region16 = _kwb(demo, 2016)
    flag = _key(2016, "indelingswijziging")
    assert {r[flag] for r in rows16 if r[region16].strip() in new} == {"3"}


def test_suppressed_values_are_null_never_zero(demo):
    small_seen = 0
    for year in KWB_YEARS:
        rows, region = _kwb(demo, year)
        inwoners = _key(year, "inwoners")
        income = _key(year, "inkomen_per_inwoner_eur")
        own = _key(year, "koopwoningen_pct")
        size = _key(year, "gemiddelde_huishoudensgrootte")
        for row in rows:
            assert row[inwoners] is not None
            if row[region].startswith("BU") and row[inwoners] < 50:
                small_seen += 1
                assert row[income] is None and row[own] is None and row[size] is None
            assert row[income] != 0 and row[own] != 0 and row[size] != 0
    assert small_seen >= 2 * len(KWB_YEARS)


def test_demo_size(demo):
    for year in KWB_YEARS:
        rows, region = _kwb(demo, year)
        levels = _by_level(rows, region)
        # The three demo gemeenten, and GM9904 + GM9905 until they merge into GM9906 in 2019.
        assert len(levels["GM"]) == (5 if year < MERGER_YEAR else 4)
        assert 16 <= len(levels["WK"]) <= 21
        assert 80 <= len(levels["BU"]) <= 125


def test_national_row_is_the_total_of_the_gemeenten(demo):
    """Every table has a synthetic national row (NL00, in health NL01; first, like CBS's): counts are the sums of the
    gemeenten, shares their properly weighted means, and the name says it is not the real country."""
    for year in KWB_YEARS:
        table = keymap.kwb_table(year)
        rows, region = _kwb(demo, year)
        national = [r for r in rows if r[region] == NATIONAL]
        assert len(national) == 1 and rows[0] is national[0], year
        nl = national[0]
        gemeenten = [r for r in rows if r[region].startswith("GM")]
        assert nl[_key(year, "soort_regio")] == "Land      "
        assert nl[_key(year, "gemeentenaam")].rstrip() == "Nederland (synthetisch)"
        assert nl[_key(year, "indelingswijziging")] == "1"  # as the gemeenten: unchanged
        for canonical in ("inwoners", "huishoudens", "leeftijd_65_plus", "woningvoorraad"):
            key = _key(year, canonical)
            assert nl[key] == sum(r[key] for r in gemeenten), (year, canonical)
        # A household-weighted share: the mean of the gemeenten weighted by their households, within
        # the rounding of the published shares (one decimal).
        households = _key(year, "huishoudens")
        share = _key(year, "huishoudens_sociaal_minimum_pct")
        if year == PARTIAL_RELEASE_YEAR:  # a partial release: no income figures for any area yet
            assert nl[share] is None and all(r[share] is None for r in gemeenten)
            continue
        assert nl[share] is not None and all(r[share] is not None for r in gemeenten), year
        weighted = sum(r[share] * r[households] for r in gemeenten) / sum(r[households] for r in gemeenten)
        assert abs(nl[share] - weighted) <= 0.1 + 1e-9, (year, nl[share], weighted)
        dimension = json.loads((demo / table.table_id / f"{region}.json").read_text(encoding="utf-8"))
        titles = {d["Key"]: d["Title"] for d in dimension}
        assert titles[NATIONAL] == "Nederland (synthetisch)"
    rows = _rows(demo, SYNTH_HEALTH_TABLE_ID)
    national = [r for r in rows if r["WijkenEnBuurten"] == NATIONAL_HEALTH]
    assert len(national) == 3 * 3 * 4  # age groups x margins x periods
    assert all(r["SoortRegio_2"] == "Land      " and r["Codering_3"].rstrip() == "NL01" for r in national)
    assert {r["Gemeentenaam_1"].rstrip() for r in national} == {"Nederland (synthetisch)"}
    loneliness = [r["Eenzaam_27"] for r in national if r["Marges"] == "MW00000"]
    assert all(v is not None for v in loneliness)
    titles = {d["Key"]: d["Title"] for d in
              json.loads((demo / SYNTH_HEALTH_TABLE_ID / "WijkenEnBuurten.json").read_text(encoding="utf-8"))}
    assert titles[NATIONAL_HEALTH] == "Nederland (synthetisch)"


def test_health_table_shape(demo):
    manifest = mirror.verify_table(demo, SYNTH_HEALTH_TABLE_ID)
    assert manifest["source"] == "synthetic"
    folder = demo / SYNTH_HEALTH_TABLE_ID

    def load(name):
        return json.loads((folder / name).read_text(encoding="utf-8"))

    assert [d["Key"] for d in load("Leeftijd.json")] == ["20300", "53115", "80200"]
    assert [d["Key"] for d in load("Marges.json")] == ["MW00000", "MOG0095", "MBG0095"]
    assert [d["Key"] for d in load("Perioden.json")] == ["2012JJ00", "2016JJ00", "2020JJ00", "2022JJ00"]
    props = load("DataProperties.json")
    assert [p["Key"] for p in props[:4]] == ["Leeftijd", "Marges", "WijkenEnBuurten", "Perioden"]
    assert [p["Key"] for p in props if p["Type"] == "Topic"] == [
        s.raw_key for s in keymap.health_keys(SYNTH_HEALTH_TABLE_ID)]
    rows = _rows(demo, SYNTH_HEALTH_TABLE_ID)
    regions = [d["Key"] for d in load("WijkenEnBuurten.json")]
    kwb2022, region = _kwb(demo, 2022)
    # one geography (2022) for every period; the national row is NL01 here, NL00 in the KWB tables
    assert regions == [NATIONAL_HEALTH if r[region] == NATIONAL else r[region] for r in kwb2022]
    assert len(rows) == 3 * 3 * 4 * len(regions)
    expected = ["ID", "Leeftijd", "Marges", "WijkenEnBuurten", "Perioden"] + [
        s.raw_key for s in keymap.health_keys(SYNTH_HEALTH_TABLE_ID)]
    assert all(list(r) == expected for r in rows)

    cell = {(r["Leeftijd"], r["Marges"], r["WijkenEnBuurten"], r["Perioden"]): r for r in rows}
    for (age, marge, area, period), r in cell.items():
        if marge != "MW00000":
            continue
        low, high = cell[(age, "MOG0095", area, period)], cell[(age, "MBG0095", area, period)]
        for key in ("Eenzaam_27", "MoeiteMetRondkomen_33"):
            if r[key] is None:
                assert low[key] is None and high[key] is None
            else:
                assert low[key] <= r[key] <= high[key]

    # Difficulty making ends meet follows the low-income share of the buurt.
    low_income = _key(2022, "huishoudens_laag_inkomen_pct")
    pairs = [
        (kr[low_income], cell[("20300", "MW00000", kr[region], "2022JJ00")]["MoeiteMetRondkomen_33"])
        for kr in kwb2022
        if kr[region].startswith("BU") and kr[low_income] is not None
    ]
    pairs = [(a, b) for a, b in pairs if b is not None]
    assert len(pairs) > 40
    assert np.corrcoef(np.array(pairs).T)[0, 1] > 0.5
    # Older people: worse self-rated health than adults under 65, in the same gemeente.
    gm = next(r[region] for r in kwb2022 if r[region].startswith("GM"))
    assert (
        cell[("80200", "MW00000", gm, "2022JJ00")]["ErvarenGezondheidGoedZeerGoed_4"]
        < cell[("53115", "MW00000", gm, "2022JJ00")]["ErvarenGezondheidGoedZeerGoed_4"]
    )


def test_boundaries_match_the_tables(demo):
    for year in (2013, 2016, 2020, 2024):
        rows, region = _kwb(demo, year)
        levels = _by_level(rows, region)
        for layer, level in (("gemeenten", "GM"), ("wijken", "WK"), ("buurten", "BU")):
            doc = json.loads((demo / "geo" / str(year) / f"{layer}.geojson").read_text(encoding="utf-8"))
            assert doc["type"] == "FeatureCollection" and doc["synthetic"] is True
            codes = [f["properties"]["statcode"] for f in doc["features"]]
            assert sorted(codes) == sorted(r[region].strip() for r in levels[level])
            for f in doc["features"]:
                assert f["properties"]["jrstatcode"] == f"{year}{f['properties']['statcode']}"
                ring = f["geometry"]["coordinates"][0]
                assert ring[0] == ring[-1] and len(ring) >= 4
                assert all(3.0 < x < 7.5 and 50.5 < y < 54.0 for x, y in ring)


def test_raw_loader_reads_the_synthetic_mirror(demo):
    duckdb = pytest.importorskip("duckdb")
    from bwm.cbs import load

    con = duckdb.connect()
    con.execute("create schema raw")
    table = keymap.kwb_table(2013)
    n = load.load_typed_dataset(con, demo, table.table_id, "raw", "kwb_2013")
    assert n == mirror.read_manifest(demo, table.table_id)["row_count"]
    n = load.load_typed_dataset(con, demo, SYNTH_HEALTH_TABLE_ID, "raw", "health")
    assert n == mirror.read_manifest(demo, SYNTH_HEALTH_TABLE_ID)["row_count"]


@pytest.mark.slow
def test_national_scale(tmp_path):
    start = time.perf_counter()
    ids = generate_mirror(tmp_path / "national", scale="national", seed=SEED)
    elapsed = time.perf_counter() - start
    assert elapsed < 120, f"national generation took {elapsed:.0f} s"
    rows, region = _kwb(tmp_path / "national", 2024)
    levels = _by_level(rows, region)
    assert 330 <= len(levels["GM"]) <= 360
    assert 3000 <= len(levels["WK"]) <= 3700
    assert 13000 <= len(levels["BU"]) <= 15500
    inwoners = _key(2024, "inwoners")
    assert [r[inwoners] for r in levels["NL"]] == [sum(r[inwoners] for r in levels["GM"])]  # all ~345 gemeenten
    specs = keymap.keys_for_year(2024)
    assert list(rows[0]) == ["ID", region] + [s.raw_key for s in specs]
    assert len(ids) == len(KWB_YEARS) + 1
    shared = Path(os.environ.get("BWM_SHARED_DIR", ROOT.parent / "shared"))
    real_map = shared / "cbs-real" / "geo" / "gemeente_gegeneraliseerd_2022_NL_wgs84.geojson"
    if real_map.is_file():
        real = json.loads(real_map.read_text(encoding="utf-8"))
        real_codes = {f["properties"]["statcode"].strip() for f in real["features"]}
        assert not {r[region].strip() for r in levels["GM"]} & real_codes


def test_the_2020_table_carries_the_keys_of_its_first_release(demo):
    """As the real March 2021 release of 84799NED: renamed keys the pipeline has to resolve."""
    props = json.loads((demo / keymap.kwb_table(2020).table_id / "DataProperties.json").read_text(encoding="utf-8"))
    keys = {p["Key"] for p in props}
    assert set(RELEASE_KEYS[2020].values()) <= keys
    assert not set(RELEASE_KEYS[2020]) & keys


def test_benefits_are_rounded_to_tens_at_every_level_and_the_partial_release_has_no_income(demo):
    rows, _ = _kwb(demo, 2023)
    bijstand = _key(2023, "bijstand_personen")
    values = [r[bijstand] for r in rows if r[bijstand] is not None]
    assert values and all(v % 10 == 0 for v in values)
    assert 0 in values  # small counts are published as 0, as CBS does, not left out
    rows, _ = _kwb(demo, PARTIAL_RELEASE_YEAR)
    income = _key(PARTIAL_RELEASE_YEAR, "inkomen_per_inwoner_eur")
    assert all(r[income] is None for r in rows)
