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
    ("no clear change", "De inkomenskloof tussen buurten is sinds 2015 niet duidelijk veranderd"),
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
