"""The reviewed merger file (data/reference/gemeente_herindelingen.csv) against the gemeente codes of each year:
every code that disappears between two years is explained by a row, and every row's old codes exist in the year
before and its new code in the year of the change, wherever data for those years is present. Real codes come
from ../shared/cbs-real (read at test time only, never copied; skipped when absent), synthetic ones from
bwm.synth."""

from __future__ import annotations

import csv
import gzip
import json

import polars as pl
import pytest

from bwm import herindelingen
from bwm.synth.geography import KWB_YEARS, build_world

ROWS = herindelingen.read()


def _explained(rows, before: int, after: int) -> set[str]:
    """Codes a change taking effect in (before, after] takes away (whole or split, not the code that stays)."""
    gone = set()
    for r in rows:
        if before < herindelingen.first_kwb_year(r["effective_date"]) <= after:
            gone |= {c for c in r["old_codes"] + r["partial_codes"] if c != r["new_code"]}
    return gone


def _check(codes: dict[int, set[str]], rows) -> None:
    years = sorted(codes)
    for before, after in zip(years, years[1:]):
        gone = codes[before] - codes[after]
        assert gone <= _explained(rows, before, after), (before, after, sorted(gone - _explained(rows, before, after)))
    for r in rows:
        year = herindelingen.first_kwb_year(r["effective_date"])
        if year in codes:
            assert r["new_code"] in codes[year], (r["new_code"], year)
        if year - 1 in codes:
            missing = [c for c in r["old_codes"] + r["partial_codes"] if c not in codes[year - 1]]
            assert not missing, (r["new_code"], year - 1, missing)


def test_file_is_valid_and_sourced():
    assert ROWS, "no rows"
    for r in ROWS:
        assert 2013 <= r["effective_date"].year <= 2024
        assert r["source"].startswith(("http", "bwm.synth")), r
        if r["kind"] == "toevoeging":
            assert r["new_code"] in r["old_codes"], r
        if r["kind"] == "samenvoeging":
            assert r["new_code"] not in r["old_codes"], r
    synthetic = [r for r in ROWS if r["synthetic"]]
    assert [(r["new_code"], r["old_codes"]) for r in synthetic] == [("GM9906", ["GM9904", "GM9905"])]
    assert all(r["new_code"].startswith("GM99") for r in synthetic)
    assert not any(c.startswith("GM9") for r in ROWS if not r["synthetic"] for c in r["old_codes"] + [r["new_code"]])


def test_first_kwb_year():
    import datetime as dt
    assert herindelingen.first_kwb_year(dt.date(2019, 1, 1)) == 2019
    assert herindelingen.first_kwb_year(dt.date(2022, 3, 24)) == 2023  # Weesp: KWB 2022 still has it


def test_code_rows_flag_partial_changes():
    frame = herindelingen.code_rows()
    winsum = frame.filter(pl.col("old_code") == "GM0053")
    assert winsum.height == 2 and not winsum["whole"].any() and not winsum["complete"].any()
    groningen = frame.filter(pl.col("new_code") == "GM0014")
    assert set(groningen["old_code"]) == {"GM0014", "GM0009", "GM0017"} and groningen["complete"].all()


def test_synthetic_codes_are_explained():
    for scale in ("demo", "national"):
        world = build_world(scale)
        codes = {y: set(world.geography(y).gm_code) for y in KWB_YEARS}
        assert "GM9904" in codes[2018] and "GM9904" not in codes[2019] and "GM9906" in codes[2019]
        _check(codes, [r for r in ROWS if r["synthetic"]])


def _real_codes(cbs_real) -> dict[int, set[str]]:
    """Gemeente codes per year of the whole-country files in ../shared/cbs-real (see its PROVENANCE.md)."""
    codes: dict[int, set[str]] = {}
    path = cbs_real / "kwb" / "kwb-2019_gemeenten_bevolking_renamed.csv"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            codes[2019] = {r["unique_id"].strip() for r in csv.DictReader(fh)}
    path = cbs_real / "kwb" / "84799NED_2020_NL_release-2021-03" / "cbs.v3.84799NED_WijkenEnBuurten.parquet"
    if path.exists():
        keys = pl.read_parquet(path)["Key"].str.strip_chars()
        codes[2020] = set(keys.filter(keys.str.starts_with("GM")))
    path = cbs_real / "geo" / "gemeente_gegeneraliseerd_2022_NL_wgs84.geojson"
    if path.exists():  # CBS's gemeente boundaries of 1 January 2022 (not a KWB table; the same indeling)
        codes[2022] = {f["properties"]["statcode"] for f in json.loads(path.read_text("utf-8"))["features"]}
    path = cbs_real / "kwb" / "85984NED_2024_NL_bevolking-leeftijd_statline.csv.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=";")
            next(reader)
            codes[2024] = {row[3].strip() for row in reader if row[3].startswith("GM")}
    return codes


def test_real_codes_are_explained(cbs_real):
    codes = _real_codes(cbs_real)
    if len(codes) < 2:
        pytest.skip("fewer than two whole-country years of real gemeente codes")
    assert len(codes.get(2019, ())) in (0, 355) and len(codes.get(2024, ())) in (0, 342)
    _check(codes, [r for r in ROWS if not r["synthetic"]])
