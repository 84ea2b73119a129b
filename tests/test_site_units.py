"""The site's pure parts on tiny inputs: Dutch formats, finding titles, figure dicts (validated by plotly.py),
series breaks, the change list of the index, and page addresses."""

import plotly.graph_objects as go
import pytest

from bwm.site import figures, findings, overview
from bwm.site import format as fmt
from bwm.site.common import page_path, source_line
from bwm.site.data import Point


@pytest.mark.parametrize("value, decimals, expected", [
    (1234.5, 1, "1.234,5"), (1234567, 0, "1.234.567"), (0.5, 2, "0,50"), (-1234.56, 1, "-1.234,6"),
    (-0.01, 1, "0,0"), (999.95, 1, "1.000,0"), (None, 1, "geen gegevens"), (float("nan"), 0, "geen gegevens"),
])
def test_number_uses_dutch_separators(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


def test_percent_euro_and_units():
    assert fmt.percent(12.34) == "12,3%"
    assert fmt.euro(32300) == "€ 32.300"
    assert fmt.euro(-1200) == "-€ 1.200"
    assert fmt.euro(None) == "geen gegevens"
    assert fmt.value(32299.6, "eur") == "€ 32.300"
    assert fmt.value(8.75, "pct") == "8,8%"
    assert fmt.value(12.345, "per_1000") == "12,3 per 1.000"
    assert fmt.value(1.25, "km") == "1,2 km"  # round half to even, as Python does
    assert fmt.value(None, "pct") == "geen gegevens"
    assert fmt.difference(-3.44, "pct") == "-3,4 procentpunt"
    assert fmt.difference(1200, "eur") == "+€ 1.200"
    assert fmt.difference(0.01, "pct") == "0"
    assert fmt.measure(11.84, "gap", "pct") == "11,8 procentpunt"
    assert fmt.measure(1.6106, "ratio", "eur") == "1,61 keer"
    assert fmt.measure(0.0155783, "theil_total", "eur") == "0,0156"


def test_dates_and_years():
    assert fmt.date_nl("2025-03-27T02:00:00") == "27 maart 2025"
    assert fmt.date_nl("2026-11-22T10:53:40+00:00") == "22 november 2026"
    assert fmt.date_nl(None) == "onbekend"
    assert fmt.year_span([2016, 2013, 2024]) == "2013–2024"
    assert fmt.year_list([2012, 2016, 2020, 2022]) == "2012, 2016, 2020 en 2022"
    assert fmt.year_list(range(2013, 2025)) == "2013 tot en met 2024"


@pytest.mark.parametrize("label, expected", [
    ("widening", "De inkomenskloof tussen buurten is sinds 2015 groter geworden"),
    ("narrowing", "De inkomenskloof tussen buurten is sinds 2015 kleiner geworden"),
    ("no clear change", "De inkomenskloof tussen buurten: sinds 2015 geen duidelijke verandering"),
    ("too few years", "De inkomenskloof tussen buurten: te weinig jaren om iets te zeggen"),
])
def test_divide_titles_state_the_finding_in_plain_dutch(label, expected):
    subject = findings.divide_subject("inkomen_per_inwoner", "Gemiddeld inkomen per inwoner", "gap", "buurt")
    assert findings.divide_title(subject, label, 2015) == expected


def test_area_titles_and_judgements():
    assert findings.area_title("Inkomen", 2013, 30000, 2024, 35000, 36000, "Zuiderhaven") == \
        "Inkomen: sinds 2013 gestegen, lager dan in Zuiderhaven"
    assert findings.area_title("Laag inkomen", 2015, 10.0, 2024, 10.1, 10.0, "Noordveen") == \
        "Laag inkomen: sinds 2015 vrijwel gelijk gebleven, ongeveer gelijk aan Noordveen"
    assert findings.area_title("Roker", 2012, 20, 2022, None, 18, "X") == "Roker: geen gegevens voor 2022"
    assert findings.judgement(10, 8, "higher_is_worse") == "gunstig"
    assert findings.judgement(10, 12, "higher_is_worse") == "ongunstig"
    assert findings.judgement(10, 12, "neutral") is None
    assert findings.theme_signal(0.4) == "gunstiger dan gemiddeld"
    assert findings.theme_signal(None) == "geen gegevens"


def test_area_titles_say_whether_a_change_is_favourable():
    """"gestegen" alone does not tell a reader whether that is good: the indicator's direction does; a neutral
    indicator says neither, and no change gets no verdict."""
    assert findings.area_title("Laag inkomen", 2015, 10.0, 2024, 12.0, 11.0, "Noordveen", "higher_is_worse") == \
        "Laag inkomen: sinds 2015 gestegen (ongunstig), hoger dan in Noordveen"
    assert findings.area_title("Inkomen", 2013, 30000, 2024, 35000, 36000, "Zuiderhaven", "higher_is_better") == \
        "Inkomen: sinds 2013 gestegen (gunstig), lager dan in Zuiderhaven"
    assert findings.area_title("Bijstand", 2013, 50.0, 2024, 40.0, 40.0, "X", "higher_is_worse") == \
        "Bijstand: sinds 2013 gedaald (gunstig), ongeveer gelijk aan X"
    assert findings.area_title("Huishoudgrootte", 2013, 2.0, 2024, 2.5, 2.2, "X", "neutral") == \
        "Huishoudgrootte: sinds 2013 gestegen, hoger dan in X"
    assert findings.area_title("Laag inkomen", 2015, 10.0, 2024, 10.1, 10.0, "X", "higher_is_worse") == \
        "Laag inkomen: sinds 2015 vrijwel gelijk gebleven, ongeveer gelijk aan X"


def test_theme_bands_have_documented_boundaries():
    """Five bands, symmetric around 0 at 0.25 and 1 standard deviation: -0.48 and -4.26 get different words, and
    a score on too few indicators gets none."""
    assert findings.theme_signal(-0.48) == "minder gunstig dan gemiddeld"
    assert findings.theme_signal(-4.26) == "veel minder gunstig dan gemiddeld"
    assert findings.theme_signal(-1.0) == "veel minder gunstig dan gemiddeld"
    assert findings.theme_signal(-0.25) == "minder gunstig dan gemiddeld"
    assert findings.theme_signal(-0.2499) == "rond het gemiddelde"
    assert findings.theme_signal(0.0) == "rond het gemiddelde"
    assert findings.theme_signal(0.25) == "gunstiger dan gemiddeld"
    assert findings.theme_signal(0.99) == "gunstiger dan gemiddeld"
    assert findings.theme_signal(1.0) == "veel gunstiger dan gemiddeld"
    assert findings.theme_signal(3.1, coverage_met=False) == "geen signaal: te weinig cijfers"
    assert findings.theme_signal(None, coverage_met=False) == "geen gegevens"


def test_map_colour_follows_favourability():
    """Darker is less favourable: for income (higher is better) the lowest value is darkest, for poverty (higher
    is worse) the highest; a neutral indicator keeps darker = higher, and each legend says which."""
    from bwm.site import maps

    income = {"direction": "higher_is_better"}
    poverty = {"direction": "higher_is_worse"}
    neutral = {"direction": "neutral"}
    assert figures.colour(0, 0, 10, maps.dark_is_low(income)) == "#440154"  # lowest income: darkest
    assert figures.colour(10, 0, 10, maps.dark_is_low(income)) == "#fde725"
    assert figures.colour(10, 0, 10, maps.dark_is_low(poverty)) == "#440154"  # most poverty: darkest
    assert figures.colour(10, 0, 10, maps.dark_is_low(neutral)) == "#440154"
    assert "donkerder is ongunstiger (bij deze indicator: lager)" in maps.colour_legend(income)
    assert "donkerder is ongunstiger (bij deze indicator: hoger)" in maps.colour_legend(poverty)
    assert "geen oordeel" in maps.colour_legend(neutral)
    fig = figures.map_figure([("BU1", "A", [0, 1, 1, 0], [0, 0, 1, 1])], {"BU1": (5.0, "5")}, "eur", "euro", True)
    assert fig["data"][1]["marker"]["reversescale"] is True


def test_the_y_axis_rule_zero_for_shares_and_counts_data_range_for_euros():
    pts = [_point(2013, 40.0), _point(2014, 42.0)]
    share = figures.timeseries("B", pts, "pct", [], [2013, 2014])["layout"]["yaxis"]
    rate = figures.timeseries("B", pts, "per_1000", [], [2013, 2014])["layout"]["yaxis"]
    euros = figures.timeseries("B", pts, "eur", [], [2013, 2014])["layout"]["yaxis"]
    km = figures.timeseries("B", pts, "km", [], [2013, 2014])["layout"]["yaxis"]
    assert share["rangemode"] == "tozero" and rate["rangemode"] == "tozero"
    assert "rangemode" not in euros and "rangemode" not in km


def test_search_knows_common_former_and_merged_names_and_recoded_codes():
    """'Den Haag' leads to 's-Gravenhage; a gemeente merged away without a page of its own leads to the one it
    went into; a renamed buurt keeps its former name; a buurt CBS recoded in 2019 (comparability code 2) is found
    by the code of the buurt with its name that ended in 2018 in the same gemeente (not by a namesake elsewhere)."""
    import datetime as dt

    from bwm.site import overview
    from bwm.site.data import Area, SiteData

    areas = {
        "GM0518": Area("GM0518", "gemeente", "'s-Gravenhage", "GM0518", None, [2018, 2019]),
        "GM1931": Area("GM1931", "gemeente", "Krimpenerwaard", "GM1931", None, [2018, 2019]),
        "BU05180001": Area("BU05180001", "buurt", "Oud Centrum", "GM0518", "WK051800", [2013, 2018]),
        "BU05180099": Area("BU05180099", "buurt", "Oud Centrum", "GM0518", "WK051800", [2019],
                           recoded_in=2019),
        "BU19310001": Area("BU19310001", "buurt", "Oud Centrum", "GM1931", "WK193100", [2013, 2018]),
        "BU05180002": Area("BU05180002", "buurt", "Zeeheldenkwartier", "GM0518", "WK051800", [2013, 2019],
                           former_names=["Zeeheldenbuurt"]),
    }
    data = SiteData(catalogue=[], theme_names={}, areas=areas, values={}, national={}, national_name="Nederland",
                    ranks={}, themes={}, measures={}, trends={}, tables=[], synthetic=False, latest_kwb_year=2019)
    mergers = [{"new_code": "GM1931", "old_codes": ["GM0491", "GM0623"], "old_names": "Bergambacht;Ouderkerk",
                "effective_date": dt.date(2015, 1, 1)}]
    also = overview.also_known_as(data, {"GM0518": ["Den Haag"], "GM9999": ["Nergens"]}, mergers)
    assert also["GM0518"] == ["ook: Den Haag"]
    assert also["GM1931"] == ["vroegere gemeente Bergambacht (GM0491), tot 2015",
                              "vroegere gemeente Ouderkerk (GM0623), tot 2015"]
    assert also["BU05180099"] == ["vroegere code BU05180001"]
    assert also["BU05180002"] == ["vroeger: Zeeheldenbuurt"]
    assert "BU19310001" not in also and "GM9999" not in also
    entry = next(e for e in overview.search_index(data) if e[1] == "GM0518")
    assert entry[5] == "ook: Den Haag"


def test_the_alias_file_is_valid_and_documented():
    from bwm.site import overview

    aliases = overview.read_aliases()
    assert "Den Haag" in aliases["GM0518"] and "Den Bosch" in aliases["GM0796"]


def _point(year, value, series="A@2013", brk=False, why=None):
    return Point(year, value, None if value is not None else "suppressed_by_cbs", "T", series, brk, why)


def test_a_series_break_splits_the_line_and_is_marked():
    points = [_point(2013, 1.0), _point(2014, None), _point(2015, 2.0),
              _point(2016, 3.0, "A@2016", True, "boundary_changed"), _point(2017, 4.0, "A@2016")]
    fig = figures.timeseries("Buurt <b>X</b>", points, "pct", [("Gemeente", {2013: 1.5, 2017: 2.5}, "gemeente")],
                             [2013, 2014, 2015, 2016, 2017])
    area = [t for t in fig["data"] if t["legendgroup"] == "area"]
    assert [t["x"] for t in area] == [[2013, 2014, 2015], [2016, 2017]]  # no line across the break
    assert area[0]["y"][1] is None  # suppressed: a gap, never 0
    assert [t["showlegend"] for t in area] == [True, False]
    assert fig["layout"]["shapes"][0]["x0"] == 2015.5
    assert "grenzen gewijzigd" in fig["layout"]["annotations"][0]["text"]
    assert area[0]["name"] == "Buurt &lt;b&gt;X&lt;/b&gt;"  # plotly shows it as text
    go.Figure(fig)  # a valid plotly figure


def test_every_figure_kind_is_valid_plotly():
    go.Figure(figures.measure_chart([("tussen wijken", [2013, 2014], [0.1, None], "main"),
                                     ("binnen wijken", [2013, 2014], [0.2, 0.3], "second")],
                                    "Theil-index", "%{y:.4f}", stacked=True))
    rows = [{"year": 2013, "min": 1, "max": 9, "worst20": 8, "best20": 2, "gemeente": 5},
            {"year": 2014, "min": None, "max": None, "worst20": None, "best20": None, "gemeente": 6}]
    go.Figure(figures.spread_chart(rows, "pct", "Gemeente"))
    square = [[[(5.0, 52.0), (5.1, 52.0), (5.1, 52.1), (5.0, 52.1), (5.0, 52.0)]]]
    xs, ys = figures.outline(square)
    fig = figures.map_figure([("BU1", "A", xs, ys), ("BU2", "B", xs, ys)], {"BU1": (3.0, "3,0%")}, "pct", "%")
    go.Figure(fig)
    fills = [t for t in fig["data"] if t.get("fill") == "toself"]
    assert fills[1]["fillcolor"] == figures.C_MISSING and "geen gegevens" in fills[1]["text"]


def test_map_colours_run_light_to_dark():
    assert figures.colour(0, 0, 10) == "#fde725"
    assert figures.colour(10, 0, 10) == "#440154"
    assert figures.colour(None, 0, 10) == figures.C_MISSING


def test_source_lines_name_table_and_years():
    assert source_line("kwb", {2013: "82339NED", 2014: "82931NED", 2024: "85984NED"}) == \
        "Bron: CBS, Kerncijfers wijken en buurten 2013–2024 (tabellen 82339NED t/m 85984NED)."
    assert source_line("health", {2012: "50120NED", 2022: "50120NED"}) == \
        "Bron: GGD'en, CBS en RIVM, Gezondheidsmonitor (tabel 50120NED, RIVM via CBS), 2012 en 2022."


def test_page_paths_are_relative_and_safe():
    assert page_path("buurt", "BU99010001") == "buurt/BU99010001.html"
    assert page_path("indicator", "GM9901/inkomen_per_inwoner") == "indicator/GM9901-inkomen_per_inwoner.html"
    with pytest.raises(ValueError):
        page_path("buurt", "../../etc/passwd")


def test_changes_first_changed_and_unchanged():
    v1 = {"85984NED": {"title": "KWB 2024", "modified": "2025-03-01T02:00:00"}}
    first = overview.changes(None, v1, "2026-01-01T00:00:00+00:00")
    assert first["kind"] == "first" and "KWB 2024 (85984NED)" in first["items"][0]
    v2 = {**v1, "86165NED": {"title": "KWB 2025", "modified": "2026-03-01T02:00:00"},
          "50090NED": {"title": "Gezondheid", "modified": "2024-01-01T00:00:00"}}
    prev = {"built_at": "2026-01-01T00:00:00+00:00", "tables": {**v1, "50090NED": {"title": "Gezondheid",
                                                                                    "modified": "2023-11-30T02:00:00"}},
            "changes": first}
    changed = overview.changes(prev, v2, "2026-04-01T00:00:00+00:00")
    assert changed["kind"] == "changed"
    assert any(i.startswith("Nieuw: KWB 2025 (86165NED)") for i in changed["items"])
    assert any("Bijgewerkt door CBS: Gezondheid (50090NED)" in i and "was 30 november 2023" in i
               for i in changed["items"])
    same = overview.changes({"built_at": "2026-04-01", "tables": v2, "changes": changed}, v2, "2026-05-01")
    assert same["kind"] == "unchanged" and same["items"] == changed["items"] and same["since"] == "2026-04-01"


def test_a_killed_builds_half_built_site_is_removed_by_the_next_build(tmp_path):
    """A killed build leaves .site-new-<pid>-*: gone as soon as its process is, not an hour later."""
    import os
    import subprocess
    import sys

    from bwm.site.swap import clean_leftovers

    site = tmp_path / "site"
    site.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftovers = {
        "dead": tmp_path / f".site-new-{int(dead.stdout)}-abc",  # its builder has exited
        "running": tmp_path / f".site-new-{os.getppid()}-def",  # a build of a process that still runs
        "unknown": tmp_path / ".site-new-xyz",  # no pid in the name (an older version): the hour rule
        "old": tmp_path / ".site-old-123-456",
    }
    for folder in leftovers.values():
        folder.mkdir()
        (folder / "index.html").write_text("x")
    clean_leftovers(site)
    assert {k for k, p in leftovers.items() if p.exists()} == {"running", "unknown"}


def test_every_missing_reason_is_explained_on_pages_and_in_exports():
    """Pages (short Dutch phrase) and exports (marker and notes) explain the same reasons, the new ones included."""
    import re

    from bwm import disclosure
    from bwm.site.common import MISSING_REASONS
    from pipelines.sql import sql_file

    assert set(MISSING_REASONS) == set(disclosure.MISSING_REASONS)
    assert {"not_published_yet", "not_measured", "unit_quarantined", "suppressed_by_cbs", "not_aggregable",
            "predecessor_missing"} <= set(MISSING_REASONS)
    sql = sql_file("indicators", "values").text + sql_file("indicators", "territory_values").text
    produced = set(re.findall(r"then '([a-z_]+)'", sql)) | set(re.findall(r"when '[a-z_]+' then '([a-z_]+)'", sql))
    assert produced <= set(MISSING_REASONS), produced - set(MISSING_REASONS)
    markers = [m for m, _, _ in disclosure.MISSING_REASONS.values()]
    assert len(set(markers)) == len(markers)  # one marker per reason in the wide exports


def test_merger_notes_link_predecessors_and_successor():
    """A former gemeente's page says what it went into and links there; today's says what it was formed from."""
    from types import SimpleNamespace

    from bwm import herindelingen
    from bwm.site.gemeente import merger_notes, territory_note

    rows = [r for r in herindelingen.read() if r["synthetic"] or r["new_code"] == "GM0014"]
    areas = {c: SimpleNamespace(level="gemeente") for c in ("GM9904", "GM9905", "GM9906", "GM0014")}
    data = SimpleNamespace(areas=areas, measures={})
    (gone,) = merger_notes(data, "GM9904", rows)
    assert gone["text"] == "Per 1 januari 2019 opgegaan in"
    assert gone["links"] == [("Lindenmeer (synthetisch)", "gemeente/GM9906.html")]
    (formed,) = merger_notes(data, "GM9906", rows)
    assert formed["text"] == "Per 1 januari 2019 gevormd uit"
    assert [name for name, _ in formed["links"]] == ["Beekwolde (synthetisch)", "Zandhorst (synthetisch)"]
    (groningen,) = merger_notes(data, "GM0014", rows)
    assert groningen["text"].endswith("uitgebreid met") and [h for _, h in groningen["links"]] == [None, None]
    assert merger_notes(data, "GM9901", rows) == [] and territory_note(data, "GM9906") is None
    data.measures = {("GM9906", "buurt", "x"): [{"year": 2013, "territory_year": 2024},
                                                {"year": 2018, "territory_year": 2024},
                                                {"year": 2019, "territory_year": None}]}
    assert "2013–2018 zijn berekend op het grondgebied van 2024" in territory_note(data, "GM9906")


# --- where the divide grows, and uncertainty on the pages -------------------------------------------------------


def _decomposition(value, population, boundary, n_common=30):
    return {"base_year": 2013, "latest_year": 2023, "total_change": value + population + boundary,
            "value_effect": value, "population_effect": population, "boundary_effect": boundary,
            "n_common": n_common}


def test_the_decomposition_sentence_names_the_part_that_drove_the_change():
    say = findings.decomposition_sentence
    assert say(_decomposition(9724, -103, -684), "inkomen_per_inwoner") == (
        "Tussen 2013 en 2023 groeide de kloof vooral doordat het inkomen in de buurten verder uit elkaar ging "
        "lopen, niet door verhuizingen of een andere buurtindeling.")
    # the sign of the total decides the verb; the part with that sign and the largest size is the reason
    assert say(_decomposition(-5.0, 0.5, -0.2), "huishoudens_laag_inkomen") == (
        "Tussen 2013 en 2023 kromp de kloof vooral doordat het aandeel huishoudens met een laag inkomen in de "
        "buurten naar elkaar toe groeide, niet door verhuizingen of een andere buurtindeling.")
    assert say(_decomposition(0.5, 4.0, 0.0), "") == (
        "Tussen 2013 en 2023 groeide de kloof vooral doordat de inwoners zich anders over de buurten verdeelden "
        "(verhuizingen, nieuwbouw of sloop), niet door veranderde cijfers in de buurten of een andere "
        "buurtindeling.")
    # a part that worked the other way is said, and a generic indicator gets plural verbs
    assert say(_decomposition(6.0, -3.0, 0.1), "woz_waarde") == (
        "Tussen 2013 en 2023 groeide de kloof vooral doordat de cijfers van de buurten verder uit elkaar gingen "
        "lopen, niet door een andere buurtindeling; verhuizingen werkten juist de andere kant op.")
    # the largest part by size but against the total's sign is not "the reason"
    assert say(_decomposition(-6.0, 2.0, 5.0), "").startswith(
        "De buurtindeling is veranderd: tussen 2013 en 2023 groeide de kloof vooral doordat er buurten bijkwamen")


def test_the_decomposition_sentence_says_the_buurtindeling_changed_when_the_boundary_effect_dominates():
    say = findings.decomposition_sentence
    assert say(_decomposition(0.2, 0.1, 3.0), "") == (
        "De buurtindeling is veranderd: tussen 2013 en 2023 groeide de kloof vooral doordat er buurten bijkwamen, "
        "verdwenen of anders begrensd werden, niet door veranderde cijfers in de buurten of verhuizingen.")
    assert say(_decomposition(-0.2, -0.1, -3.0), "").startswith("De buurtindeling is veranderd: tussen 2013 en 2023 "
                                                                "kromp de kloof vooral doordat er buurten bijkwamen")
    assert say(_decomposition(0.0, 0.0, 9350.0, n_common=0), "") == (
        "Tussen 2013 en 2023 is de buurtindeling helemaal veranderd: geen buurt telt in beide jaren mee, dus de "
        "verandering van de kloof komt geheel door de nieuwe indeling en zegt niets over de buurten zelf.")
    # nothing to say: no row, no change, or parts left empty (a measure undefined over the common buurten)
    assert say(None) is None
    assert say({**_decomposition(1, 1, 1), "value_effect": None}) is None
    assert say({**_decomposition(1, 1, 1), "latest_year": 2013}) is None


def test_trend_labels_and_why_they_were_given():
    assert findings.TREND_PHRASES["widening"] == "groter geworden"
    assert findings.TREND_PHRASES["narrowing"] == "kleiner geworden"
    assert findings.TREND_PHRASES["no clear change"] == "geen duidelijke verandering"
    assert findings.TREND_CLASSES["no clear change"] == "trend-none"  # grey, as the CBS monitors' not significant
    note = findings.trend_note
    assert note("widening", "clear_change", "monte_carlo_95") == \
        "Een duidelijke verandering: groter dan de 95%-onzekerheidsmarge."
    assert note("narrowing", "clear_change", "rounding_range") == \
        "Een duidelijke verandering: groter dan de marge door afronding door het CBS."
    assert "geen onzekerheidsmarge bekend" in note("widening", "clear_change_no_interval", None)
    assert note("no clear change", "interval_includes_zero", "monte_carlo_95") == \
        "De verandering valt binnen de 95%-onzekerheidsmarge."
    assert note("no clear change", "change_below_threshold", "rounding_range") == \
        "De verandering is kleiner dan 5% van het eerste jaar."
    assert note("too few years", "too_few_years", None) == "Er zijn minder dan drie jaren met cijfers."
    assert findings.INTERVAL_NOTES["monte_carlo_95"] == "De band om de lijn is de 95%-onzekerheidsmarge."
    assert findings.INTERVAL_NOTES["rounding_range"] == "De band om de lijn is de marge door afronding door het CBS."


def test_titles_of_where_the_divide_grows():
    assert findings.behind_ahead_title("Beekdal", "Havenkwartier", 2013) == \
        "Beekdal bleef sinds 2013 het meest achter bij de gemeente, Havenkwartier liep het meest in"
    assert findings.behind_ahead_title(None, "Havenkwartier", 2013) == \
        "Havenkwartier liep sinds 2013 het meest in op de gemeente"
    assert findings.group_changes_title(2014, 16, 15) == \
        "Sinds 2014: 16 keer kwam een buurt bij de 20% slechtst scorende buurten, 15 keer ging er een uit"
    assert findings.group_changes_title(2016, 0, 1) == \
        "Sinds 2016: geen buurt kwam bij de 20% slechtst scorende buurten, 1 keer ging er een uit"
    assert findings.contribution_title("Vogelbuurt", True, 2013) == \
        "Vogelbuurt droeg sinds 2013 het meest bij aan de groei van de kloof"


def test_fell_behind_and_caught_up_follow_the_direction_and_unbroken_series_only():
    from bwm.site.gemeente import behind_and_ahead

    def row(code, change, status="common", year=2023):
        return {"area_code": code, "year": year, "status": status, "change_vs_gemeente": change}

    rows = [row("A", -900), row("B", -100), row("C", 500), row("D", 1200), row("E", None),
            row("F", -5000, status="appeared"), row("G", -4000, year=2022)]
    behind, ahead = behind_and_ahead(rows, 2023, "higher_is_better")
    assert [r["area_code"] for r in behind] == ["A", "B"] and [r["area_code"] for r in ahead] == ["D", "C"]
    # higher is worse (a share of low incomes): rising more than the gemeente is falling behind
    behind, ahead = behind_and_ahead(rows, 2023, "higher_is_worse")
    assert [r["area_code"] for r in behind] == ["D", "C"] and [r["area_code"] for r in ahead] == ["A", "B"]


def test_figures_of_where_the_divide_grows_are_valid_and_never_draw_missing_as_zero():
    fig = figures.small_multiples(
        [{"name": "Buurt <b>", "title": "Buurt <b>: -€ 900", "years": [2013, 2014, 2015],
          "buurt": [30000, None, 31000], "gemeente": [32000, 32500, 33000], "row": 0, "col": 0},
         {"name": "Andere", "title": "Andere: +€ 1.200", "years": [2013, 2014, 2015],
          "buurt": [29000, 30000, 31500], "gemeente": [32000, 32500, 33000], "row": 0, "col": 1}], "eur", "Gem")
    go.Figure(fig)
    assert fig["data"][0]["y"] == [30000, None, 31000] and fig["data"][0]["connectgaps"] is False
    assert fig["data"][0]["name"] == "Buurt &lt;b&gt;" and fig["data"][2]["xaxis"] == "x2"
    go.Figure(figures.group_changes_chart([2014, 2015], [1, 0], [0, 2]))
    bars = figures.contributions_chart(["A", "B", "C"], [3.0, 1.0, -2.0], "euro", "%{x}")
    go.Figure(bars)
    assert bars["data"][0]["y"] == ["C", "B", "A"]  # the largest at the top
    assert bars["data"][0]["marker"]["color"] == [figures.C_NARROWS, figures.C_WIDENS, figures.C_WIDENS]
    # a divide line with its interval as a band behind it; a year without bounds leaves a gap
    fig = figures.measure_chart([("tussen buurten", [2013, 2014, 2015], [5.0, 6.0, 7.0], "main")], "euro", "%{y}",
                                intervals=[([4.5, None, 6.5], [5.5, None, 7.5])])
    go.Figure(fig)
    lower, upper, line = fig["data"]
    assert lower["y"] == [4.5, None, 6.5] and upper["fill"] == "tonexty" and line["y"] == [5.0, 6.0, 7.0]
    fig = figures.measure_chart([("tussen wijken", [2013], [0.01], "main"), ("binnen wijken", [2013], [0.02],
                                 "second")], "Theil-index", "%{y}", stacked=True,
                                total=("totaal", [2013], [0.03], [0.025], [0.04]))
    go.Figure(fig)
    assert fig["data"][-1]["error_y"]["array"] == [0.01] and fig["data"][-1]["error_y"]["arrayminus"] == [0.005]


def test_a_health_figure_is_drawn_with_its_interval_as_a_band():
    points = [Point(2016, 20.0, None, "T", "A", False, None, 15.0, 26.0), Point(2020, None, "suppressed_by_cbs", "T",
                                                                              "A", False, None, None, None),
              Point(2022, 22.0, None, "T", "A", False, None, 18.0, 27.0)]
    fig = figures.timeseries("Buurt", points, "pct", [], [2016, 2020, 2022])
    go.Figure(fig)
    lower, upper, line = fig["data"][:3]
    assert lower["y"] == [15.0, None, 18.0] and upper["y"] == [26.0, None, 27.0]
    assert upper["name"] == "95%-onzekerheidsmarge" and line["y"] == [20.0, None, 22.0]
    kwb = [Point(2016, 20.0, None, "T", "A", False, None)]
    assert len(figures.timeseries("Buurt", kwb, "pct", [], [2016])["data"]) == 1  # no interval, no band


def test_the_indicator_page_splits_the_change_of_every_measure_in_three():
    """Why every divide measure changed: one row per measure, with the three parts written as signed changes."""
    from bwm.site import format as fmt
    from bwm.site.data import SiteData
    from bwm.site.indicator import decomposition_table

    data = SiteData.__new__(SiteData)
    row = {"base_year": 2013, "latest_year": 2023, "total_change": 250.0, "value_effect": 400.0,
           "population_effect": -100.0, "boundary_effect": -50.0}
    data.decomposition_by_measure = {("GM0001", "inkomen"): {
        "gap": row, "ratio": {**row, "total_change": 0.12, "value_effect": 0.1, "population_effect": 0.02,
                              "boundary_effect": 0.0}}}
    table = decomposition_table(data, "GM0001", {"indicator_id": "inkomen", "unit": "eur"})
    assert [r[0] for r in table.rows] == ["Kloof tussen de 20% slechtst en best scorende inwoners",
                                          "Verhouding tussen de 20% slechtst en best scorende inwoners"]
    assert table.rows[0][1:] == ["2013–2023", "+€ 250", "+€ 400", "-€ 100", "-€ 50"]
    assert table.rows[1][2:] == ["+0,12 keer", "+0,10 keer", "+0,02 keer", "0"]
    assert decomposition_table(data, "GM0002", {"indicator_id": "inkomen", "unit": "eur"}) is None
    assert fmt.measure_change(None, "gap", "eur") == fmt.MISSING  # missing is never 0


def test_the_printed_factsheet_row_of_an_indicator():
    """The factsheet's summary row, worked by hand: the current series starts at its break (2016: 12,0%), not at
    2013; 12,0% -> 15,0% is a rise (more than 2%), unfavourable for an indicator where lower is better; against the
    gemeente's 14,0% in the latest year 15,0% is higher (by 7%), against the Netherlands' 14,8% about equal (1,4%,
    within 2%). A year missing in the area (2014) is skipped, never read as 0; no national figure: "geen gegevens"."""
    from types import SimpleNamespace

    from bwm.site.area import factsheet_row
    from bwm.site.data import Area

    wijk = Area("WK1", "wijk", "Noord", "GM1", None)
    gemeente = Area("GM1", "gemeente", "Stad", "GM1", None)
    series = {
        "WK1": [_point(2013, 10.0), _point(2014, None), _point(2016, 12.0, "A@2016", True, "boundary_changed"),
                _point(2023, 15.0, "A@2016"), _point(2024, None, "A@2016")],
        "GM1": [_point(2013, 11.0), _point(2023, 14.0)],
    }
    data = SimpleNamespace(series=lambda code, _ind: series[code], national={"x": {2023: 14.8}})
    ind = {"indicator_id": "x", "name_nl": "Aandeel laag inkomen", "unit": "pct", "direction": "higher_is_worse"}
    assert factsheet_row(data, wijk, ind, gemeente) == [
        "Aandeel laag inkomen", "12,0% (2016)", "15,0% (2023)", "gestegen (ongunstig)", "14,0% (hoger)",
        "14,8% (≈ gelijk)"]
    data.national = {}
    ind["direction"] = "neutral"
    assert factsheet_row(data, wijk, ind, gemeente)[3:] == ["gestegen", "14,0% (hoger)", "geen gegevens"]
    series["WK1"] = [_point(2023, 15.0)]  # one year: nothing to compare it with over time
    assert factsheet_row(data, wijk, ind, gemeente)[1:4] == ["", "15,0% (2023)", "één jaar"]


def test_a_site_build_without_node_modules_says_to_run_npm_ci(monkeypatch, tmp_path):
    """plotly.js comes from node_modules (package-lock.json): without it the build stops and says what to run."""
    from bwm.site import pages

    assert pages.PLOTLY_JS.is_file()  # installed here (`make` runs npm ci first)
    monkeypatch.setattr(pages, "PLOTLY_JS", tmp_path / "node_modules" / "plotly.js-basic-dist-min" / "x.js")
    with pytest.raises(pages.SiteBuildError, match=r"is missing\): run `npm ci` in .*then build the site again"):
        pages.plotly_js()
