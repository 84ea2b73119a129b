"""``keymap.resolve`` against every real CBS key list in ../shared (read at run time, never copied here).

* ``reference/kwb-keys-evidence/keys_<year>.csv``: the OData keys public sources show for each KWB year, with
  the real unit and title where one is known (2017, 2020, 2024);
* ``cbs-real/kwb/84799NED_2020_NL_release-2021-03/DataProperties.json``: the 2020 table as released in March
  2021 (``GemiddeldeWoningwaarde_35``, ``NettoArbeidsparticipatie_67``);
* ``cbs-real/odata/85984NED/DataProperties.json``: the 2024 table.

Every key must resolve by one of the rules (exact, alias, stem, title) or be ignored on purpose. Skipped
cleanly when the shared folder is absent (``BWM_SHARED_DIR``, default ``../shared``).
"""

from __future__ import annotations

import copy
import csv
import json
import os
from pathlib import Path

import pytest

from bwm.harmonise import keymap as km
from bwm.settings import KWB_YEARS

pytestmark = pytest.mark.real_data

ROOT = Path(__file__).resolve().parents[1]
RULES = set(km.MATCH_RULES)
DATA_PROPERTIES = {
    2020: ("cbs-real", "kwb", "84799NED_2020_NL_release-2021-03", "DataProperties.json"),
    2024: ("cbs-real", "odata", "85984NED", "DataProperties.json"),
}


def _shared() -> Path:
    return Path(os.environ.get("BWM_SHARED_DIR", ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="module")
def evidence() -> Path:
    path = _shared() / "reference" / "kwb-keys-evidence"
    if not path.is_dir():
        pytest.skip(f"real CBS key lists not available at {path}")
    return path


def _data_properties(year: int) -> list[dict]:
    path = _shared().joinpath(*DATA_PROPERTIES[year])
    if not path.is_file():
        pytest.skip(f"real DataProperties not available at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def _key_list(evidence: Path, year: int) -> list[dict]:
    """A key list as Topic entries: the real unit and title where the source gives them, else None."""
    with (evidence / f"keys_{year}.csv").open(newline="", encoding="utf-8") as f:
        return [{"Type": "Topic", "Key": r["key"], "Unit": r["unit"] or None, "Title": r["title"] or None}
                for r in csv.DictReader(f)]


def _failures(resolved) -> list[str]:
    return [f"{r['raw_key']} ({r['match']}: {r['note']})" for r in resolved.iter_rows(named=True)
            if r["match"] not in RULES and r["action"] != "ignore"]


@pytest.mark.parametrize("year", list(KWB_YEARS))
def test_every_key_of_the_real_key_list_resolves(evidence, year):
    props = _key_list(evidence, year)
    resolved = km.resolve(year, props)
    assert resolved.height == len(props)
    failures = _failures(resolved)
    assert not failures, f"KWB {year}: {len(failures)} real keys do not resolve: {failures}"
    # where the source gives the real unit, it is the one the key map expects: nothing is quarantined
    with_unit = {p["Key"] for p in props if p["Unit"]}
    held = [f"{r['raw_key']}: {r['note']}" for r in resolved.iter_rows(named=True)
            if r["raw_key"] in with_unit and r["action"] == "quarantine"]
    assert not held, f"KWB {year}: {held}"
    mapped = resolved.filter(resolved["canonical"].is_not_null())["canonical"].to_list()
    assert len(mapped) == len(set(mapped)), f"KWB {year}: a canonical is mapped twice"


@pytest.mark.parametrize("year", sorted(DATA_PROPERTIES))
def test_every_topic_of_the_real_data_properties_resolves_and_maps(year):
    props = _data_properties(year)
    topics = [p for p in props if p["Type"] == "Topic"]
    resolved = km.resolve(year, props)
    assert resolved.height == len(topics) > 100
    failures = _failures(resolved)
    assert not failures, f"KWB {year}: {len(failures)} real keys do not resolve: {failures}"
    not_mapped = resolved.filter(resolved["action"] != "map")
    assert not_mapped.height == 0, not_mapped.to_dicts()


def test_real_2020_release_maps_woz_and_labour_participation():
    resolved = {r["raw_key"]: r for r in km.resolve(2020, _data_properties(2020)).iter_rows(named=True)}
    woz = resolved["GemiddeldeWoningwaarde_35"]
    assert (woz["canonical"], woz["match"], woz["action"], woz["scale"], woz["unit"]) == (
        "woz_waarde_eur", "alias", "map", 1000.0, "eur")
    assert "woz_waarde_eur" in km.variables() and "nettoarbeidsparticipatie_pct" in km.variables()
    labour = resolved["NettoArbeidsparticipatie_67"]
    assert (labour["canonical"], labour["match"], labour["action"], labour["scale"], labour["unit"]) == (
        "nettoarbeidsparticipatie_pct", "stem", "map", 1.0, "pct")
    assert labour["cbs_unit"] == labour["expected_cbs_unit"] == "%"


def test_an_unexpected_unit_in_real_data_properties_quarantines_that_key_only():
    props = copy.deepcopy(_data_properties(2020))
    for p in props:
        if p["Key"] == "NettoArbeidsparticipatie_67":
            p["Unit"] = "x 1 000 euro"
    resolved = km.resolve(2020, props)  # does not raise
    rows = {r["raw_key"]: r for r in resolved.iter_rows(named=True)}
    held = rows["NettoArbeidsparticipatie_67"]
    assert (held["action"], held["canonical"], held["scale"], held["cbs_unit"], held["expected_cbs_unit"]) == (
        "quarantine", "nettoarbeidsparticipatie_pct", None, "x 1 000 euro", "%")
    assert held["note"].startswith("CBS unit 'x 1 000 euro' does not convert to 'pct' (expected '%')")
    others = resolved.filter(resolved["raw_key"] != "NettoArbeidsparticipatie_67")
    assert others["action"].unique().to_list() == ["map"] and others["scale"].null_count() == 0
    assert rows["GemiddeldeWoningwaarde_35"]["canonical"] == "woz_waarde_eur"


@pytest.mark.parametrize("year", [2017, 2020, 2024])
def test_title_rule_on_real_titles_never_picks_the_wrong_canonical(evidence, year):
    """With every key name hidden, the real titles and units alone: what the title rule maps, it maps right."""
    props = _key_list(evidence, year)
    truth = {r["raw_key"]: r["canonical"] for r in km.resolve(year, props).iter_rows(named=True)}
    hidden = [{**p, "Key": f"Onbekend{i}_{900 + i}"} for i, p in enumerate(props)]
    resolved = km.resolve(year, hidden).rows(named=True)
    by_title = [(p["Key"], r["canonical"]) for p, r in zip(props, resolved, strict=True) if r["match"] == "title"]
    wrong = [(key, canonical, truth[key]) for key, canonical in by_title if canonical != truth[key]]
    assert not wrong, f"KWB {year}: title rule picked the wrong canonical: {wrong}"
    assert len(by_title) > len(props) / 2, f"KWB {year}: only {len(by_title)} of {len(props)} matched by title"
