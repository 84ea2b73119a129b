"""The reviewed KWB key map (data/reference/*.csv) and its loader bwm.harmonise.keymap."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from pathlib import Path

import pytest

from bwm.harmonise import keymap as km
from bwm.settings import KWB_YEARS, PROJECT_ROOT

YEARS = list(KWB_YEARS)
KINDS = {"meta", "count", "share", "mean", "rate", "distance", "area", "code", "other"}
EVIDENCE = {"confirmed", "inferred", "assumed"}

# Concepts that docs/architecture.md relies on, and the first year kwb-keys.md shows each in.
FROM_2013 = [
    "inwoners", "mannen", "vrouwen", "leeftijd_0_15", "leeftijd_15_25", "leeftijd_25_45", "leeftijd_45_65",
    "leeftijd_65_plus", "huishoudens", "eenpersoonshuishoudens", "huishoudens_met_kinderen",
    "gemiddelde_huishoudensgrootte", "bevolkingsdichtheid_per_km2", "woningvoorraad", "woz_waarde_eur",
    "koopwoningen_pct", "huurwoningen_pct", "corporatiewoningen_pct", "inkomensontvangers",
    "inkomen_per_inkomensontvanger_eur", "inkomen_per_inwoner_eur", "huishoudens_sociaal_minimum_pct",
    "bijstand_personen", "ao_personen", "ww_personen", "aow_personen", "afstand_huisarts_km",
    "afstand_supermarkt_km", "afstand_kinderdagverblijf_km", "afstand_school_km", "scholen_binnen_3km",
    "oppervlakte_totaal_ha", "oppervlakte_land_ha", "oppervlakte_water_ha", "mate_van_stedelijkheid",
    "omgevingsadressendichtheid_per_km2", "gemeentenaam", "soort_regio", "codering", "indelingswijziging",
    "meest_voorkomende_postcode", "dekkingspercentage",
]
FROM_2016 = [
    "personen_laagste_40pct_inkomen_pct", "personen_hoogste_20pct_inkomen_pct",
    "huishoudens_laagste_40pct_inkomen_pct", "huishoudens_hoogste_20pct_inkomen_pct", "huishoudens_laag_inkomen_pct",
]
FROM_2018 = [
    "nettoarbeidsparticipatie_pct", "gestandaardiseerd_huishoudinkomen_eur",
    "huishoudens_tot_110pct_sociaal_minimum_pct", "huishoudens_tot_120pct_sociaal_minimum_pct", "mediaan_vermogen_eur",
    "jeugdzorg_jongeren", "jeugdzorg_jongeren_pct", "wmo_clienten", "wmo_clienten_per_1000",
]


def _rows(name: str) -> list[dict[str, str]]:
    with (PROJECT_ROOT / "data" / "reference" / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _canonicals(year: int) -> dict[str, str]:
    return {s.canonical: s.raw_key for s in km.keys_for_year(year) if s.action == "map"}


def _topic(key: str, unit: str) -> dict:
    return {"Type": "Topic", "Key": key, "Unit": unit}


def _real_dir() -> Path:
    shared = os.environ.get("BWM_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    real = base if base.name == "cbs-real" else base / "cbs-real"
    if not real.is_dir():
        pytest.skip(f"real CBS files not present at {real}")
    return real


# (a) tables and ordered key lists


def test_every_year_has_a_table_and_an_ordered_key_list():
    tables = km.kwb_tables()
    assert [t.year for t in tables] == YEARS
    assert km.kwb_table(2019).table_id == "84583NED" and km.kwb_table(2024).table_id == "85984NED"
    assert km.kwb_year_of("85984ned") == 2024
    assert {t.year: t.region_dimension for t in tables} == {
        y: "RegioS" if y == 2013 else "WijkenEnBuurten" for y in YEARS}
    assert len({t.table_id for t in tables}) == len(tables)
    for year in YEARS:
        specs = km.keys_for_year(year)
        assert specs, year
        assert [s.position for s in specs] == list(range(1, len(specs) + 1)), year
        assert len({s.raw_key for s in specs}) == len(specs), year
        # CBS numbers Topic keys in table order, so the suffix equals the position
        assert all(s.raw_key.endswith(f"_{s.position}") for s in specs), year


def test_unknown_year_and_table_raise():
    with pytest.raises(km.KeymapError):
        km.keys_for_year(2012)
    with pytest.raises(km.KeymapError):
        km.kwb_year_of("00000NED")


# (b) every key is mapped to a known variable or ignored with a reason


def test_every_key_is_mapped_or_ignored_with_a_note():
    known = km.variables()
    for row in _rows("kwb_keymap.csv"):
        assert row["evidence"] in EVIDENCE, row
        assert row["table_id"] == km.kwb_table(int(row["year"])).table_id, row
        if row["action"] == "map":
            assert row["canonical"] in known, row
        else:
            assert row["action"] == "ignore" and not row["canonical"] and row["note"], row


def test_no_two_keys_of_one_year_share_a_canonical():
    for year in YEARS:
        mapped = [s.canonical for s in km.keys_for_year(year) if s.action == "map"]
        assert len(mapped) == len(set(mapped)), year


def test_variables_follow_the_naming_rule_and_units_convert():
    suffix = {"pct": "_pct", "eur": "_eur", "km": "_km", "ha": "_ha", "per_1000": "_per_1000", "per_km2": "_per_km2",
              "kwh": "_kwh", "m3": "_m3"}
    used = {s.canonical for y in YEARS for s in km.keys_for_year(y)} - {None}
    for name, var in km.variables().items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name) and var.kind in KINDS, var
        assert name.endswith(suffix.get(var.unit, "")), var
        assert km.unit_scale(var.cbs_unit, var.unit) == var.scale, var
        assert name in used, f"{name} is defined but no year maps to it"
    for year in YEARS:
        for spec in km.keys_for_year(year):
            if spec.action == "map":
                var = km.variables()[spec.canonical]
                assert km.unit_scale(spec.cbs_unit, var.unit) == var.scale, (year, spec)


# (c) the names docs/architecture.md relies on


def _architecture_names() -> set[str]:
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Canonical KWB variables", 1)[1]
    names = set()
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith(("| canonical", "|---")):
            names |= {n.strip() for n in line.split("|")[1].split(",")}
    descriptors = section.split("Region descriptors", 1)[1].split("\n\n", 1)[0]
    names |= {n for n in re.findall(r"`([a-z_]+)`", descriptors) if n != "meta"}
    return names


def test_architecture_names_exist_and_are_mapped_where_the_concept_exists():
    names = _architecture_names()
    assert names == set(FROM_2013) | set(FROM_2016) | set(FROM_2018)
    assert names <= set(km.variables())
    for year in YEARS:
        have = _canonicals(year)
        wanted = FROM_2013 + (FROM_2016 if year >= 2016 else []) + (FROM_2018 if year >= 2018 else [])
        assert not [n for n in wanted if n not in have], year


@pytest.mark.parametrize(
    ("year", "raw_key"),
    [(2013, "GemiddeldInkomenPerInwoner_65"), (2016, "GemiddeldInkomenPerInwoner_66"),
     (2017, "GemiddeldInkomenPerInwoner_66"), (2018, "GemiddeldInkomenPerInwoner_69"),
     (2019, "GemiddeldInkomenPerInwoner_72"), (2021, "GemiddeldInkomenPerInwoner_72"),
     (2022, "GemiddeldInkomenPerInwoner_72"), (2023, "GemiddeldInkomenPerInwoner_81"),
     (2024, "GemiddeldInkomenPerInwoner_83")],
)
def test_known_income_keys(year, raw_key):
    assert _canonicals(year)["inkomen_per_inwoner_eur"] == raw_key


def test_woz_is_one_concept_in_euro_across_the_rename():
    for year, key in [(2019, "GemiddeldeWoningwaarde_35"), (2024, "GemiddeldeWOZWaardeVanWoningen_39")]:
        out = km.resolve(year, [_topic(key, "x 1 000 euro")]).row(0, named=True)
        assert (out["canonical"], out["scale"], out["unit"], out["match"]) == ("woz_waarde_eur", 1000.0, "eur", "exact")


def test_decisions_that_keep_concepts_apart():
    c2013, c2023 = _canonicals(2013), _canonicals(2023)
    assert "huishoudens_laag_inkomen_pct" not in c2013
    assert c2013["huishoudens_lage_koopkracht_pct"] == "HuishoudensMetLageKoopkracht_71"
    assert c2013["woningen_onbewoond_pct"] == "PercentageLeegstaand_38"
    assert "migratieachtergrond_westers" in _canonicals(2022) and "migratieachtergrond_westers" not in c2023
    assert c2023["herkomstland_nederland"] == "Nederland_17"
    assert c2023["geboren_in_nl_herkomstland_nederland"] == "Nederland_20"
    assert _canonicals(2017)["elektriciteit_appartement_kwh"] == "Appartement_48"
    assert _canonicals(2017)["aardgas_appartement_m3"] == "Appartement_56"


# (d) against the real CBS files in ../shared/cbs-real


@pytest.mark.real_data
def test_2024_data_properties_resolve_completely_with_matching_metadata():
    props = json.loads((_real_dir() / "odata" / "85984NED" / "DataProperties.json").read_text(encoding="utf-8"))
    topics = [p for p in props if p["Type"] == "Topic"]
    resolved = km.resolve(2024, props)
    assert resolved.height == len(topics)
    assert resolved.filter(resolved["match"] != "exact").height == 0
    specs = km.keys_for_year(2024)
    assert [s.raw_key for s in specs] == [p["Key"] for p in topics]
    for spec, prop in zip(specs, topics, strict=True):
        assert (spec.cbs_unit, spec.datatype, spec.decimals) == (prop["Unit"], prop["Datatype"], prop["Decimals"])
        assert spec.title_nl == prop["Title"].strip()


def _header(path: Path, sep: str) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig") as f:
        return [k.strip('"') for k in f.readline().strip().split(sep)]


@pytest.mark.real_data
def test_2019_header_equals_the_2019_map():
    real = _real_dir() / "kwb"
    header = _header(real / "84583NED_2019_GM0518_denhaag_allcols.csv", ";")
    assert header[:2] == ["ID", "WijkenEnBuurten"]
    assert header[2:] == [s.raw_key for s in km.keys_for_year(2019)]
    assert _header(real / "84583NED_2019_GM0363_amsterdam_allcols.csv.gz", ";") == header


@pytest.mark.real_data
@pytest.mark.parametrize("city", ["GM0344_utrecht", "GM0363_amsterdam", "GM0518_denhaag"])
def test_2021_partial_headers_exist_in_the_2021_map(city):
    header = _header(_real_dir() / "kwb" / f"85039NED_2021_{city}_22cols.csv", ";")
    assert set(header[2:]) <= {s.raw_key for s in km.keys_for_year(2021)}


@pytest.mark.real_data
def test_health_header_equals_the_health_map():
    for path in sorted((_real_dir() / "health").glob("50090NED_*_UntypedDataSet.csv.gz")):
        header = _header(path, ",")
        assert header[:5] == ["ID", "Leeftijd", "Marges", "WijkenEnBuurten", "Perioden"]
        assert header[5:] == [s.raw_key for s in km.health_keys("50090NED")], path.name


def test_health_keys_are_percentages_with_pct_names():
    specs = km.health_keys("50090NED")
    assert [s.position for s in specs] == list(range(1, 39))
    by_key = {s.raw_key: s.canonical for s in specs}
    assert by_key["Eenzaam_28"] == "eenzaam_pct" and by_key["MoeiteMetRondkomen_38"] == "moeite_met_rondkomen_pct"
    for spec in specs[3:]:
        assert spec.action == "map" and spec.canonical.endswith("_pct")
        assert (spec.cbs_unit, spec.datatype, spec.decimals) == ("%", "Double", 1)
    assert len({s.canonical for s in specs}) == len(specs)
    assert set(km.HEALTH_LEEFTIJD) == {"20300", "53115", "80200"} and "MW00000" in km.HEALTH_MARGES


# (e) resolve: stem matching, unmapped keys and unit errors


def test_resolve_matches_a_shifted_suffix_by_stem():
    out = km.resolve(2024, [_topic("GemiddeldInkomenPerInwoner_99", "x 1 000 euro"), _topic("Onbekend_7", "aantal")])
    rows = out.rows(named=True)
    assert out.columns == ["raw_key", "canonical", "action", "match", "scale", "unit", "cbs_unit",
                           "expected_cbs_unit", "note"]
    assert (rows[0]["canonical"], rows[0]["match"], rows[0]["scale"]) == ("inkomen_per_inwoner_eur", "stem", 1000.0)
    assert "GemiddeldInkomenPerInwoner_83" in rows[0]["note"]
    assert (rows[1]["canonical"], rows[1]["match"]) == (None, "unmapped")


def test_resolve_refuses_ambiguous_stems():
    # Appartement occurs twice in the 2024 map (electricity and gas); two shifted copies in a table
    # of an otherwise unique stem cannot be told apart either.
    out = km.resolve(2024, [_topic("Appartement_200", "kWh"), _topic("WmoClienten_301", "aantal"),
                            _topic("WmoClienten_302", "aantal")])
    assert out["match"].to_list() == ["unmapped"] * 3


def test_resolve_skips_non_topics_and_reports_ignored_keys():
    props = [{"Type": "GeoDetail", "Key": "RegioS"}, {"Type": "TopicGroup", "Key": ""},
             _topic("Verkeersterrein_103", "ha"), _topic("AantalInwoners_4", "aantal")]
    rows = km.resolve(2013, props).rows(named=True)
    assert [(r["raw_key"], r["action"], r["canonical"]) for r in rows] == [
        ("Verkeersterrein_103", "ignore", None), ("AantalInwoners_4", "map", "inwoners")]


def test_resolve_quarantines_a_unit_that_does_not_convert():
    # Used to raise KeymapError and abort the whole refresh; now only that key is held back.
    out = km.resolve(2024, [_topic("AantalInwoners_5", "%"), _topic("GemiddeldInkomenPerInwoner_83", "euro per maand"),
                            _topic("Mannen_6", "aantal")])
    rows = out.rows(named=True)
    assert [(r["raw_key"], r["action"], r["canonical"], r["scale"]) for r in rows] == [
        ("AantalInwoners_5", "quarantine", "inwoners", None),
        ("GemiddeldInkomenPerInwoner_83", "quarantine", "inkomen_per_inwoner_eur", None),
        ("Mannen_6", "map", "mannen", 1.0)]
    assert (rows[0]["cbs_unit"], rows[0]["expected_cbs_unit"], rows[0]["unit"], rows[0]["match"]) == (
        "%", "aantal", "count", "exact")
    assert rows[0]["note"] == "CBS unit '%' does not convert to 'count' (expected 'aantal')"
    assert rows[1]["note"] == "CBS unit 'euro per maand' does not convert to 'eur' (expected 'x 1 000 euro')"
    assert rows[2]["note"] is None and rows[2]["cbs_unit"] == rows[2]["expected_cbs_unit"] == "aantal"


def test_quarantine_never_scales_the_wrong_way():
    # x 1 000 euro where a percentage is expected: a factor of 1 000 on a share must never happen.
    row = km.resolve(2024, [_topic("Koopwoningen_47", "x 1 000 euro")]).row(0, named=True)
    assert (row["action"], row["canonical"], row["scale"], row["expected_cbs_unit"]) == (
        "quarantine", "koopwoningen_pct", None, "%")
    assert row["note"] == "CBS unit 'x 1 000 euro' does not convert to 'pct' (expected '%')"


def test_stem():
    assert km.stem("k_40PersonenMetLaagsteInkomen_84") == "k_40PersonenMetLaagsteInkomen"
    assert km.stem("Gemeentenaam") == "Gemeentenaam"


def test_every_year_resolves_its_own_map_exactly():
    for year in YEARS:
        props = [_topic(s.raw_key, s.cbs_unit) for s in km.keys_for_year(year)]
        out = km.resolve(year, props)
        assert out["match"].unique().to_list() == ["exact"], year
        assert out.filter(out["action"] == "map")["scale"].null_count() == 0, year


def test_2018_layout_a_keys_still_resolve_by_stem():
    # The map holds 84286NED layout (b); the original release (a) numbers keys from _64 differently.
    props = [_topic("GemiddeldInkomenPerInwoner_66", "x 1 000 euro"),
             _topic("TotaalDiefstalUitWoningSchuurED_78", "per 1 000 inwoners"), _topic("Actieven1575Jaar_69", "%")]
    rows = km.resolve(2018, props).rows(named=True)
    assert [(r["canonical"], r["match"]) for r in rows] == [
        ("inkomen_per_inwoner_eur", "stem"), ("diefstal_uit_woning_per_1000", "stem"), (None, "unmapped")]


def test_resolve_health_returns_the_percentage_topics_only():
    props = [_topic(s.raw_key, s.cbs_unit) for s in km.health_keys("50090NED")] + [_topic("NieuwIndicator_39", "%")]
    out = km.resolve_health(props, "50090NED")
    assert out.height == 36  # 35 percentage topics + 1 unmapped; the 3 region descriptors are left out
    mapped = out.filter(out["action"] == "map")
    assert mapped["unit"].unique().to_list() == ["pct"] and mapped["scale"].unique().to_list() == [1.0]
    assert out.filter(out["match"] == "unmapped")["raw_key"].to_list() == ["NieuwIndicator_39"]
    # an unexpected unit quarantines the topic there too instead of raising
    row = km.resolve_health([_topic("Eenzaam_28", "aantal"), _topic("MoeiteMetRondkomen_38", "%")],
                            "50090NED").rows(named=True)
    assert [(r["raw_key"], r["action"], r["scale"]) for r in row] == [
        ("Eenzaam_28", "quarantine", None), ("MoeiteMetRondkomen_38", "map", 1.0)]
    assert row[0]["note"] == "CBS unit 'aantal' does not convert to 'pct' (expected '%')"


# (f) resolve: aliases, case, titles, one key per canonical


def _titled(key: str, unit: str, title: str) -> dict:
    return {"Type": "Topic", "Key": key, "Unit": unit, "Title": title}


def test_alias_file_names_known_canonicals_and_cites_evidence():
    rows = _rows("kwb_key_aliases.csv")
    assert rows and set(rows[0]) == {"canonical", "alias_stem", "evidence"}
    known = km.variables()
    assert not [r for r in rows if r["canonical"] not in known], "alias canonicals missing from kwb_variables.csv"
    assert len({(r["canonical"], r["alias_stem"].lower()) for r in rows}) == len(rows)
    for r in rows:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", r["alias_stem"]), r  # a stem: no _NN suffix
        assert "kwb-keys-evidence/" in r["evidence"], r
    # every stem a canonical has in the key map is one of its aliases, once a canonical has two stems
    stems: dict[str, set[str]] = {}
    for year in YEARS:
        for s in km.keys_for_year(year):
            if s.action == "map":
                stems.setdefault(s.canonical, set()).add(km.stem(s.raw_key).lower())
    aliased = {}
    for r in rows:
        aliased.setdefault(r["canonical"], set()).add(r["alias_stem"].lower())
    for canonical, names in aliased.items():
        assert stems.get(canonical, set()) <= names, canonical
    # and no alias stem is, in any year's map, the key of a canonical it does not stand for
    for year in YEARS:
        for s in km.keys_for_year(year):
            owners = {r["canonical"] for r in rows if r["alias_stem"].lower() == km.stem(s.raw_key).lower()}
            assert not owners or s.canonical in owners, (year, s.raw_key, s.canonical, owners)
    assert [a.canonical for a in km.aliases() if a.alias_stem == "Motortweewielers"] == ["motorfietsen"]


def test_alias_maps_renamed_keys_whatever_the_year():
    # 2020's first release (March 2021) and late 2017/2019 releases swapped the two WOZ names
    for year, key in [(2020, "GemiddeldeWoningwaarde_35"), (2017, "GemiddeldeWOZWaardeVanWoningen_35"),
                      (2019, "GemiddeldeWOZWaardeVanWoningen_35"), (2013, "GemiddeldeWOZWaardeVanWoningen_34")]:
        row = km.resolve(year, [_topic(key, "x 1 000 euro")]).row(0, named=True)
        assert (row["canonical"], row["match"], row["action"], row["scale"]) == (
            "woz_waarde_eur", "alias", "map", 1000.0), (year, key)
    # 2016's first release
    rows = km.resolve(2016, [_topic("Koopwoning_54", "kWh"), _topic("Koopwoning_62", "m³"),
                             _topic("Motortweewielers_94", "aantal")]).rows(named=True)
    assert [(r["canonical"], r["match"], r["action"]) for r in rows] == [
        ("elektriciteit_eigen_woning_kwh", "alias", "map"), ("aardgas_eigen_woning_m3", "alias", "map"),
        ("motorfietsen", "alias", "map")]


def test_an_alias_of_two_canonicals_is_decided_by_suffix_then_unit_or_not_at_all():
    # EigenWoning is both the electricity and the gas key. In 2016 the suffix says which, whatever the unit.
    rows = km.resolve(2016, [_topic("Koopwoning_62", None)]).rows(named=True)
    assert (rows[0]["canonical"], rows[0]["match"]) == ("aardgas_eigen_woning_m3", "alias")
    # 2013 has Koopwoning_53/_61, so EigenWoning_70 is decided by its unit
    rows = km.resolve(2013, [_topic("EigenWoning_70", "kWh"), _topic("EigenWoning_80", "m³")]).rows(named=True)
    assert [r["canonical"] for r in rows] == ["elektriciteit_eigen_woning_kwh", "aardgas_eigen_woning_m3"]
    # no suffix, no unit that decides: unmapped, and the note says why
    row = km.resolve(2013, [_topic("EigenWoning_70", "aantal")]).row(0, named=True)
    assert (row["canonical"], row["match"]) == (None, "unmapped")
    assert "several canonicals" in row["note"]


def test_stem_matching_ignores_case():
    row = km.resolve(2020, [_topic("NettoArbeidsparticipatie_67", "%")]).row(0, named=True)
    assert (row["canonical"], row["match"], row["scale"]) == ("nettoarbeidsparticipatie_pct", "stem", 1.0)
    assert "Nettoarbeidsparticipatie_67" in row["note"]
    row = km.resolve(2024, [_topic("GEMIDDELDINKOMENPERINWONER_90", "x 1 000 euro")]).row(0, named=True)
    assert (row["canonical"], row["match"]) == ("inkomen_per_inwoner_eur", "stem")


def test_title_and_unit_are_the_last_resort():
    props = [_titled("WozGemiddeld_39", "x 1 000 Euro", "  Gemiddelde  WOZ waarde van woningen. "),
             _titled("Onbekend_200", "aantal", "Iets nieuws")]
    rows = km.resolve(2024, props).rows(named=True)
    assert [(r["canonical"], r["match"]) for r in rows] == [("woz_waarde_eur", "title"), (None, "unmapped")]
    assert rows[0]["scale"] == 1000.0 and "GemiddeldeWOZWaardeVanWoningen_39" in rows[0]["note"]
    # the canonical's label counts as well, in a year whose map lacks it (2013 has no Nettoarbeidsparticipatie)
    row = km.resolve(2013, [_titled("Arbeid_200", "%", "Nettoarbeidsparticipatie")]).row(0, named=True)
    assert (row["canonical"], row["match"], row["expected_cbs_unit"]) == ("nettoarbeidsparticipatie_pct", "title", "%")
    # the unit is part of the match: Appartement (kWh) is electricity, Appartement (m³) gas
    rows = km.resolve(2024, [_titled("ElekAppartement_1", "kWh", "Appartement"),
                             _titled("GasAppartement_2", "m³", "Appartement")]).rows(named=True)
    assert [(r["canonical"], r["match"]) for r in rows] == [
        ("elektriciteit_appartement_kwh", "title"), ("aardgas_appartement_m3", "title")]


def test_title_matching_refuses_ambiguity_and_other_units():
    # two Topics of the table with one title: neither is matched
    rows = km.resolve(2024, [_titled("A_1", "%", "Koopwoningen"), _titled("B_2", "%", "Koopwoningen")]).rows(named=True)
    assert [r["match"] for r in rows] == ["unmapped", "unmapped"]
    # a title with another unit is no match (and so cannot be quarantined on a guess)
    row = km.resolve(2024, [_titled("A_1", "aantal", "Koopwoningen")]).row(0, named=True)
    assert (row["match"], row["action"]) == ("unmapped", None)


def test_one_canonical_is_never_mapped_twice_the_stronger_rule_wins():
    props = [_topic("GemiddeldeWOZWaardeVanWoningen_39", "x 1 000 euro"),
             _topic("GemiddeldeWoningwaarde_40", "x 1 000 euro"),
             _titled("Woz_41", "x 1 000 euro", "Gemiddelde WOZ-waarde van woningen")]
    rows = km.resolve(2024, props).rows(named=True)
    assert [(r["raw_key"], r["canonical"], r["match"]) for r in rows] == [
        ("GemiddeldeWOZWaardeVanWoningen_39", "woz_waarde_eur", "exact"),
        ("GemiddeldeWoningwaarde_40", None, "unmapped"), ("Woz_41", None, "unmapped")]
    assert "by alias, but GemiddeldeWOZWaardeVanWoningen_39 maps it by exact" in rows[1]["note"]
    assert "by title, but GemiddeldeWOZWaardeVanWoningen_39 maps it by exact" in rows[2]["note"]
    # equally strong: nobody gets it
    rows = km.resolve(2024, [_topic("GemiddeldeWoningwaarde_40", "x 1 000 euro"),
                             _topic("GemiddeldeWOZWaardeVanWoningen_41", "x 1 000 euro")]).rows(named=True)
    assert [r["match"] for r in rows] == ["unmapped", "unmapped"]
    assert "GemiddeldeWOZWaardeVanWoningen_41" in rows[0]["note"] and "GemiddeldeWoningwaarde_40" in rows[1]["note"]


def test_2014_follows_the_2013_numbering():
    # the one real 82931NED key (kwb-keys-evidence/keys_2014.csv) is GeboorteRelatief_24, the 2013 number
    assert _canonicals(2014)["geboorten_per_1000"] == "GeboorteRelatief_24"
    assert [km.stem(s.raw_key) for s in km.keys_for_year(2014)] == [km.stem(s.raw_key) for s in km.keys_for_year(2013)]


def test_units_as_expected_check_names_every_quarantined_key(tmp_path):
    import duckdb

    from bwm import warehouse
    from pipelines.defs.staging.checks import units_as_expected
    from pipelines.resources import BwmResource

    bwm = BwmResource(environ={"BWM_WAREHOUSE": str(tmp_path / "bwm.duckdb")})
    path = warehouse.working_path(tmp_path / "bwm.duckdb")  # the refresh's working copy, which checks read
    frame = km.resolve(2024, [_topic("AantalInwoners_5", "%"), _topic("Mannen_6", "aantal")])
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.register("f", frame)
        con.execute("create table staging.kwb_key_resolution as select 2024 as year, '85984NED' as table_id, * from f")
    result = units_as_expected(bwm=bwm)
    assert result.passed is False and result.severity.value == "WARN"
    assert result.metadata["quarantined"].value == 1
    text = result.metadata["keys"].value
    assert "| 2024 | 85984NED | AantalInwoners_5 | inwoners | aantal | % |" in text
    with duckdb.connect(str(path)) as con:
        con.execute("delete from staging.kwb_key_resolution where action = 'quarantine'")
    assert units_as_expected(bwm=bwm).passed is True


def test_status_page_lists_quarantined_variables_escaped():
    from bwm.site import overview, pages
    from bwm.site.data import SiteData

    def page(quarantined):
        data = SiteData(catalogue=[], theme_names={}, areas={}, values={}, national={}, national_name="Nederland",
                        ranks={}, themes={}, measures={}, trends={}, tables=[], synthetic=False, latest_kwb_year=2024,
                        quarantined=quarantined)
        context = overview.status_page(data, {"kind": "first", "date": None, "since": None, "items": []})
        common = {"synthetic": False, "built_at": "1 januari 2025", "national_name": "Nederland",
                  "site_title": "Brede Welvaart Monitor", "page_path": pages.page_path, "latest_year": 2024}
        template = pages.environment().get_template("status.html.j2")
        return template.render(**common, **context, root="", path="status.html")

    html = page([])
    assert "Variabelen in quarantaine" in html and "<p>Geen.</p>" in html
    html = page([{"year": 2024, "table_id": "85984NED", "raw_key": "Koopwoningen_47", "canonical": "koopwoningen_pct",
                  "cbs_unit": "<b>x 1 000 euro</b>", "expected_cbs_unit": "%"}])
    assert "<p>Geen.</p>" not in html and "Koopwoningen_47" in html and "85984NED" in html
    assert "&lt;b&gt;x 1 000 euro&lt;/b&gt;" in html and "<b>x 1 000 euro</b>" not in html
