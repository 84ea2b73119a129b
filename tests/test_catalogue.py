"""The indicator catalogue: complete, valid, and strict about what it accepts."""

import collections

import pytest

from bwm import catalogue
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


@pytest.mark.parametrize(
    "change, message",
    [
        ({"theme": "geluk"}, "theme is 'geluk'"),
        ({"direction": "up"}, "direction is 'up'"),
        ({"years": "soon"}, "years must be a range"),
        ({"variable": None}, "method direct needs a variable"),
    ],
)
def test_malformed_entries_are_refused_with_the_indicator_named(change, message):
    doc = {"themes": {t: {"name_nl": t, "name_en": t} for t in catalogue.THEMES},
           "indicators": [{"id": "x", "name_nl": "X", "name_en": "Y", "theme": "welzijn", "definition_nl": "d",
                           "unit": "pct", "direction": "higher_is_worse", "source": "kwb", "variable": "v",
                           "method": "direct", "aggregate": "weighted_mean", "weight": "inhabitants",
                           "years": "2019-2020", **change}]}
    with pytest.raises(catalogue.CatalogueError, match=message):
        catalogue.parse(doc)
