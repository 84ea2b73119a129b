"""The pages' content where the data are thin: a build of one KWB year shows no one-dot charts (a compact table
and a sentence saying that a change needs two years), the theme signal says when it rests on too few
indicators, and the divide table does not show one year as both first and last."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline_run import run_refresh_in_process  # noqa: E402

from bwm.site.build import build_site  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def one_year_site(tmp_path_factory) -> Path:
    """The demo refreshed with one KWB year (BWM_YEARS=2024) and its site; the health figures keep their years."""
    base = tmp_path_factory.mktemp("one-year")
    env = {"BWM_SOURCE": "demo", "BWM_YEARS": "2024", "BWM_WAREHOUSE": str(base / "bwm.duckdb"),
           "BWM_MIRROR_DIR": str(base / "mirror"), "BWM_SITE_DIR": str(base / "site-job"),
           "BWM_EXPORT_DIR": str(base / "exports")}
    assert run_refresh_in_process(env).success
    build_site(base / "bwm.duckdb", base / "site", mirror_dir=base / "mirror", built_at="2026-01-15T09:00:00+00:00")
    return base / "site"


def _axe(w) -> list:
    """The serious and critical axe-core violations (axe is loaded as an init script, as in test_pages)."""
    result = w.page.evaluate("async () => await axe.run(document, {preload: false, resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_a_one_year_build_shows_tables_not_one_dot_charts(one_year_site, open_page):
    w = open_page((one_year_site / "wijk" / "WK990101.html").as_uri(), init_script=AXE)
    w.render_all()
    xs = w.page.evaluate("""() => Array.from(document.querySelectorAll('.plot')).filter(d => !d.hidden)
        .map(d => new Set((d.data || []).flatMap(t => (t.x || []).filter((x, i) => (t.y || [])[i] != null))).size)""")
    assert xs and min(xs) >= 2, f"a chart with fewer than two years: {xs}"
    sentence = w.page.locator("p.single-year").first
    assert "Een verandering is pas te zien vanaf twee jaren" in sentence.inner_text()
    table = w.page.locator("#thema-materiele_welvaart-een-jaar")
    assert table.count() == 1
    header = table.locator("thead th").all_inner_texts()
    assert header[:2] == ["Indicator", "Jaar"] and header[-1] == "Bron"
    first = table.locator("tbody tr").first.locator("th, td").all_inner_texts()
    assert first[1] == "2024" and first[-1].startswith("Bron: CBS")
    assert _axe(w) == []


def test_a_one_year_build_says_a_change_needs_two_years_on_the_gemeente_page(one_year_site, open_page):
    w = open_page((one_year_site / "gemeente" / "GM9901.html").as_uri(), init_script=AXE)
    glance = w.page.locator("ul.glance li").all_inner_texts()
    material = next(t for t in glance if t.startswith("Materiële welvaart"))
    assert "gunstig ontwikkeld" not in material and "met cijfers over één jaar" in material
    assert "De kloof is alleen voor 2024 bekend" in w.page.locator("#kloof").inner_text()
    assert w.page.locator("#kloof .plot").count() == 0
    rows = [r.locator("th, td").all_inner_texts() for r in w.page.locator("#kloof-tabel tbody tr").all()]
    kwb = [cells for cells in rows if cells[2].endswith("(2024)")]  # the health figures keep their own years
    assert kwb
    assert all(cells[1] == "alleen 2024: zie laatste jaar" for cells in kwb)
    assert _axe(w) == []


def test_the_theme_signal_is_a_band_and_says_when_too_few_indicators_have_figures(demo_site, open_page):
    w = open_page((demo_site / "wijk" / "WK990101.html").as_uri())
    table = w.page.locator("#thema-tabel")
    assert table.locator("thead th").all_inner_texts() == ["Thema", "Jaren", "Signaal", "Gebaseerd op"]
    bands = {"veel minder gunstig dan gemiddeld", "minder gunstig dan gemiddeld", "rond het gemiddelde",
             "gunstiger dan gemiddeld", "veel gunstiger dan gemiddeld",
             "geen signaal: te weinig cijfers", "geen gegevens"}
    for r in table.locator("tbody tr").all():
        theme, years, signal, basis = r.locator("th, td").all_inner_texts()
        assert signal in bands
        if signal.startswith("geen signaal"):  # too few: fewer than 2, or fewer than half of those possible
            n, of = (int(x) for x in basis.split(" indicatoren")[0].split(" van "))
            assert n < 2 or n < of / 2
    # the demo's Samenleving theme has one scored indicator: never a signal on one indicator alone
    samenleving = table.locator("tbody tr", has_text="Samenleving").locator("td").all_inner_texts()
    assert samenleving[1] == "geen signaal: te weinig cijfers" and samenleving[2].startswith("1 van 1")


@pytest.fixture(scope="session")
def tie_site(demo_warehouse, tmp_path_factory) -> dict:
    """A copy of the demo in which three small buurten of GM9901 (fewer than 1,000 inhabitants) have 0 benefits
    per 1,000 in 2024 and share rank 1, as CBS's rounding to tens makes happen; returns the site and the codes."""
    import shutil

    import duckdb

    base = tmp_path_factory.mktemp("tie")
    wh = base / "bwm.duckdb"
    shutil.copyfile(demo_warehouse["warehouse"], wh)
    with duckdb.connect(str(wh)) as con:
        codes = [c for (c,) in con.execute(
            "select v.area_code from publish.values v join publish.areas a on a.area_code = v.area_code "
            "and a.year = v.year where v.gemeente_code = 'GM9901' and v.area_level = 'buurt' and v.year = 2024 "
            "and v.indicator_id = 'bijstand_per_1000' and v.value is not null and a.inhabitants < 1000 "
            "order by v.area_code limit 3").fetchall()]
        assert len(codes) == 3
        con.execute("update publish.values set value = 0, rank_in_gemeente = 1 where year = 2024 and "
                    "indicator_id = 'bijstand_per_1000' and area_code in (select unnest(?::varchar[]))", [codes])
    build_site(wh, base / "site", mirror_dir=demo_warehouse["mirror"], built_at="2026-01-15T09:00:00+00:00")
    return {"site": base / "site", "codes": codes}


def _visible_rows(w) -> list[list[str]]:
    return [r.locator("td").all_inner_texts() for r in w.page.locator("#rangorde tbody tr:not([hidden])").all()]


def test_the_ranking_shows_the_best_and_worst_10_with_a_wijk_filter_and_the_change(demo_site, open_page):
    w = open_page((demo_site / "gemeente" / "GM9901.html").as_uri(), init_script=AXE)
    page = w.page
    total = page.locator("#rangorde tbody tr").count()
    ranked = [r for r in page.locator("#rangorde tbody tr").all() if r.locator("td").first.inner_text() != "–"]
    assert total > 20 and len(ranked) > 20
    rows = _visible_rows(w)
    assert len(rows) == 20
    assert [r[0] for r in rows[:3]] == ["1", "2", "3"]
    assert rows[-1][0] == ranked[-1].locator("td").first.inner_text()  # the worst-off buurt with a rank
    assert page.locator("#rangorde thead th").all_inner_texts()[-1] == "Verandering sinds 2013 (€)"
    assert any(r[-1].startswith(("+", "-")) and r[-1][1].isdigit() for r in rows)
    # "toon alle" with the keyboard: Enter on the focused button shows every buurt, and again hides the middle
    button = page.locator("#rangorde-alle")
    assert button.inner_text() == f"Toon alle {total} buurten"
    button.focus()
    page.keyboard.press("Enter")
    assert len(_visible_rows(w)) == total and button.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Enter")
    assert len(_visible_rows(w)) == 20
    # the wijk filter: only that wijk's buurten, all of them when they are few
    option = page.locator("#rangorde-wijk option").nth(1)
    wijk_name = option.inner_text()
    page.select_option("#rangorde-wijk", option.get_attribute("value"))
    rows = _visible_rows(w)
    assert rows and all(r[2] == wijk_name for r in rows)
    assert page.locator("#rangorde-status").inner_text() == f"De tabel toont {len(rows)} buurten."
    # the compact table keeps the page short: fewer than 60 links in the ranking can take the focus
    page.select_option("#rangorde-wijk", "")
    # site.js rebuilds the table on another indicator with the same cells as the page's own (Python) table
    every = "() => Array.from(document.querySelectorAll('#rangorde tr')).map(r => r.textContent)"
    built = page.evaluate(every)
    default = page.locator("#kaart-indicator").input_value()
    page.select_option("#kaart-indicator", "bijstand_per_1000")
    page.select_option("#kaart-indicator", default)
    assert page.evaluate(every) == built
    assert page.locator("#rangorde tbody tr:not([hidden]) a").count() <= 40
    assert _axe(w) == []


def test_map_colour_follows_favourability_and_the_legend_says_so(demo_site, open_page):
    w = open_page((demo_site / "gemeente" / "GM9901.html").as_uri())
    page = w.page
    w.render_all()
    legend = page.locator("#kaart-kleur")
    assert "donkerder is ongunstiger (bij deze indicator: lager)" in legend.inner_text()  # income

    def darkest_is(pick: str) -> bool:
        """Whether the buurt with the lowest (pick='min') or highest value is drawn in the darkest colour."""
        return page.evaluate("""(pick) => {
            const spec = JSON.parse(document.getElementById('kaart-spec').textContent);
            const ind = spec.indicators[document.getElementById('kaart-indicator').value];
            const rows = ind.rows.filter(r => r[1] !== null);
            const target = rows.reduce((a, b) => (pick === 'min' ? b[1] < a[1] : b[1] > a[1]) ? b : a);
            const div = document.getElementById('kaart-plot');
            const trace = div.data.find(t => t.meta === target[0]);
            return trace.fillcolor === '#440154';
        }""", pick)

    assert darkest_is("min")
    page.select_option("#kaart-indicator", "huishoudens_laag_inkomen")
    page.wait_for_function("() => document.getElementById('kaart-kleur').textContent.includes('hoger')")
    page.wait_for_timeout(300)
    assert darkest_is("max")
    assert page.evaluate("document.getElementById('kaart-plot').data.find(t => t.meta === 'colorbar')"
                         ".marker.reversescale") is False


def test_tied_small_buurten_are_flagged_in_the_ranking(tie_site, open_page):
    w = open_page((tie_site["site"] / "gemeente" / "GM9901.html").as_uri())
    page = w.page
    page.select_option("#kaart-indicator", "bijstand_per_1000")
    page.wait_for_function("() => document.getElementById('rangorde-noot').textContent.includes('inwoners')")
    rows = _visible_rows(w)
    assert [r[0] for r in rows[:3]] == ["1 (gedeeld)"] * 3
    assert all(r[4] == "0,0 per 1.000 *" for r in rows[:3])
    assert "minder dan 1.000 inwoners" in page.locator("#rangorde-noot").inner_text()
    assert "afgerond" in page.locator("#rangorde-noot").inner_text() or \
        "rondt de aantallen af op tientallen" in page.locator("#rangorde-noot").inner_text()


def test_long_pages_have_a_table_of_contents(demo_site, open_page):
    w = open_page((demo_site / "wijk" / "WK990101.html").as_uri())
    links = w.page.locator("nav.toc a").all()
    assert len(links) >= 6
    for a in links:
        target = a.get_attribute("href")
        assert target.startswith("#") and w.page.locator(target).count() == 1
    links[-1].focus()
    w.page.keyboard.press("Enter")
    assert w.page.evaluate("location.hash") == links[-1].get_attribute("href")


def test_search_is_on_every_page_knows_other_names_and_opens_the_first_hit_on_enter(demo_site, open_page):
    w = open_page((demo_site / "buurt" / "BU99010121.html").as_uri(), init_script=AXE)
    page = w.page
    box = page.locator("#zoek-kop")
    box.fill("de haven")  # the demo's alias of Zuiderhaven (data/reference/gemeente_aliassen.csv)
    page.wait_for_function("() => document.getElementById('zoek-kop-status').textContent.includes('resultaat')")
    first = page.locator("#zoek-kop-resultaten li").first
    assert first.inner_text().startswith("Zuiderhaven (synthetisch) (gemeente, GM9901)")
    assert "ook: De Haven" in first.inner_text()
    assert _axe(w) == []
    box.fill("BU99040001")  # Dijkzicht's code before the merger of 2019 recoded it to BU99060001
    page.wait_for_function("() => document.getElementById('zoek-kop-resultaten').textContent.includes('BU99060001')")
    texts = page.locator("#zoek-kop-resultaten li").all_inner_texts()
    assert any("BU99060001" in t and "vroegere code BU99040001" in t for t in texts)
    box.fill("de haven")
    box.press("Enter")
    page.wait_for_url("**/gemeente/GM9901.html")
    # and on the index, Enter opens the first hit too
    w2 = open_page((demo_site / "index.html").as_uri())
    w2.page.locator("#zoek").fill("Zuiderhaven")
    w2.page.locator("#zoek").press("Enter")
    w2.page.wait_for_url("**/gemeente/GM9901.html")


def test_the_about_page_states_the_rules_the_pages_use(demo_site):
    """The band edges, the window and the minimum coverage on the about page are those the code applies."""
    import re

    from bwm.site import findings, maps
    from pipelines.sql import sql_file

    about = (demo_site / "over.html").read_text(encoding="utf-8")
    near, far = findings.THEME_BAND_EDGES
    assert (near, far) == (0.25, 1.0)
    for words in findings.THEME_BANDS:
        assert f"<td>{words}</td>" in about
    assert "<td>0,25 tot 1</td>" in about and "<td>−1 of lager</td>" in about
    rules = re.search(r"(\d+) as window_years,\s*(\d+) as min_indicators,\s*([\d.]+) as min_share",
                      sql_file("indicators", "theme_summary").text)
    assert rules.groups() == ("3", "2", "0.5")
    assert "laatste cijfer uit de afgelopen drie jaar" in about
    assert "minstens twee indicatoren en minstens de helft" in about
    assert maps.SMALL_BUURT == 1000 and "minder dan 1.000 inwoners" in about


def test_a_one_year_build_shows_the_spread_as_a_table_on_the_indicator_page(one_year_site, open_page):
    w = open_page((one_year_site / "indicator" / "GM9901-bijstand_per_1000.html").as_uri(), init_script=AXE)
    assert w.page.locator("#spreiding .plot").count() == 0
    assert "pas te zien vanaf twee jaren" in w.page.locator("#spreiding p.single-year").inner_text()
    assert w.page.locator("#spreiding-tabel tbody tr").count() == 1
    assert w.page.locator("#spreiding p.source").inner_text().startswith("Bron: CBS")
    assert _axe(w) == []
