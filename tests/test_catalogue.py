"""The indicator catalogue: complete, valid, and strict about what it accepts."""

import collections
import re

import pytest
import yaml

from bwm import catalogue
from bwm.divide import registry
from bwm.harmonise import keymap

REQUIRED = {
    "materiele_welvaart": {"inkomen_per_inwoner", "huishoudens_laag_inkomen", "huishoudens_sociaal_minimum",
                           "personen_laagste_40pct", "mediaan_vermogen", "woz_waarde"},
    "arbeid_en_vrije_tijd": {"nettoarbeidsparticipatie", "bijstand_per_1000", "ww_per_1000", "ao_per_1000",
                             "wekelijkse_sporters", "afstand_huisarts", "afstand_supermarkt", "afstand_school"},
    "gezondheid": {"ervaren_gezondheid_goed", "langdurige_aandoening", "beperkt_gezondheid",
                   "hoog_risico_angst_depressie", "overgewicht", "roker", "jeugdzorg", "wmo_per_1000"},
    "welzijn": {"eenzaam", "ernstig_eenzaam", "mist_emotionele_steun", "veel_stress", "moeite_met_rondkomen"},
    "samenleving": {"vrijwilligerswerk", "mantelzorger", "eenpersoonshuishoudens"},
}


def test_at_least_30_indicators_and_4_per_theme():
    inds = catalogue.indicators()
    assert len(inds) >= 30
    per_theme = collections.Counter(i.theme for i in inds)
    assert set(per_theme) == set(catalogue.THEMES)
    assert min(per_theme.values()) >= 4


def test_the_indicators_the_issue_names_are_there():
    by_theme = collections.defaultdict(set)
    for ind in catalogue.indicators():
        by_theme[ind.theme].add(ind.id)
    for theme, ids in REQUIRED.items():
        assert ids <= by_theme[theme], theme


def test_every_variable_is_a_known_canonical_variable():
    kwb = set(keymap.variables())
    health = {k.canonical for k in keymap.health_keys() if k.canonical}
    for ind in catalogue.indicators():
        known = kwb if ind.source == "kwb" else health
        assert set(ind.variables) <= known, ind.id


def test_kwb_years_are_years_whose_key_map_has_the_variable():
    mapped = {(k.canonical, year) for year in range(2013, 2025) for k in keymap.keys_for_year(year) if k.canonical}
    for ind in catalogue.indicators():
        if ind.source == "kwb":
            for year in ind.years:
                for var in ind.variables:
                    assert (var, year) in mapped, f"{ind.id}: {var} has no key in {year}"


def test_dutch_and_english_labels_and_definitions():
    for ind in catalogue.indicators():
        assert ind.name_nl and ind.name_en and ind.name_nl != ind.name_en
        assert len(ind.definition_nl) > 30


def minimal_doc(*changes: dict) -> dict:
    """A valid catalogue document with one indicator ``x`` per change (ids x, x2, ...), each with that change."""
    entries = []
    for i, change in enumerate(changes or ({},)):
        entries.append({"id": "x" if i == 0 else f"x{i + 1}", "name_nl": "X", "name_en": "Y", "theme": "welzijn",
                        "definition_nl": "d", "unit": "pct", "direction": "higher_is_worse", "source": "kwb",
                        "variable": "v", "method": "direct", "aggregate": "weighted_mean", "weight": "inhabitants",
                        "years": "2019-2020", **change})
    return {"themes": {t: {"name_nl": t, "name_en": t} for t in catalogue.THEMES}, "indicators": entries}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"theme": "geluk"}, "theme is 'geluk'"),
        ({"direction": "up"}, "direction is 'up'"),
        ({"years": "soon"}, "years must be a range"),
        ({"variable": None}, "method direct needs a variable"),
        ({"divide_measures": ["gap", "gini"]}, re.escape(
            "indicator x: divide_measures has unknown 'gini'; expected names from " + ", ".join(registry.COMPUTED))),
        ({"divide_measures": "gap"}, "indicator x: divide_measures must be a list of measure names"),
        ({"divide_measures": ["gap", "gap"]}, "indicator x: divide_measures lists a measure twice"),
    ],
)
def test_malformed_entries_are_refused_with_the_indicator_named(change, message):
    with pytest.raises(catalogue.CatalogueError, match=message):
        catalogue.parse(minimal_doc(change))


# --- divide_measures: which divide measures apply to an indicator -------------------------------------


def test_divide_measures_default_to_the_registry_defaults():
    _, (ind,) = catalogue.parse(minimal_doc())
    assert ind.divide_measures == registry.DEFAULT_MEASURES
    _, (ind,) = catalogue.parse(minimal_doc({"divide_measures": ["cv", "theil_total"]}))
    assert ind.divide_measures == ("cv", "theil_total")
    _, (ind,) = catalogue.parse(minimal_doc({"divide_measures": []}))
    assert ind.divide_measures == ()


@pytest.mark.parametrize("measure", [m.name for m in registry.MEASURES.values() if m.single_indicator])
def test_a_single_indicator_measure_is_listed_once(measure):
    catalogue.parse(minimal_doc({"divide_measures": [measure]}, {}))
    with pytest.raises(catalogue.CatalogueError, match=f"{measure} can apply to one indicator only; listed by x, x2"):
        catalogue.parse(minimal_doc({"divide_measures": [measure]}, {"divide_measures": ["gap", measure]}))


def test_every_indicator_states_its_divide_measures():
    with open(catalogue.CATALOGUE_PATH, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)["indicators"]
    assert [entry["id"] for entry in raw if "divide_measures" not in entry] == []
    measures = {ind.id: set(ind.divide_measures) for ind in catalogue.indicators()}
    general = set(registry.DEFAULT_MEASURES)
    assert measures["inkomen_per_inwoner"] == general | {"theil_total", "theil_between", "theil_within"}
    assert measures["huishoudens_laag_inkomen"] == general | {"dissimilarity"}
    assert measures["huishoudens_sociaal_minimum"] == general | {"concentration_share_pct"}
    others = set(measures) - {"inkomen_per_inwoner", "huishoudens_laag_inkomen", "huishoudens_sociaal_minimum"}
    assert {iid for iid in others if measures[iid] != general} == set()


def test_the_catalogue_table_does_not_publish_divide_measures():
    frame = catalogue.catalogue_frame()
    assert "divide_measures" not in frame.columns
    assert frame.columns[:3] == ["indicator_id", "name_nl", "name_en"] and frame.columns[-1] == "disclosure"
