"""The demo site in real headless Chromium (Debian's, via Playwright): every page type loads without console
errors and draws its charts with data, no request leaves the machine, a reader can browse from the index to a
buurt and back, the keyboard reaches the controls, axe-core finds nothing serious, names from data stay
text, and the gemeente page's screenshot for the README."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = ROOT / "docs" / "screenshot-gemeente.png"

PAGES = {
    "index": "index.html",
    "gemeente": "gemeente/GM9901.html",
    "wijk": "wijk/WK990101.html",
    "buurt": "buurt/BU99010121.html",  # a buurt with a series break (boundaries changed in 2016)
    "indicator": "indicator/GM9901-huishoudens_laag_inkomen.html",
    "over": "over.html",
    "status": "status.html",
}


def _url(site: Path, rel: str) -> str:
    return (site / rel).as_uri()


def _chart_summary(w) -> list[dict]:
    """Per drawn plot: how many traces carry data points, and how many points are drawn in the SVG."""
    return w.page.evaluate("""() => Array.from(document.querySelectorAll('.plot')).filter(d => !d.hidden).map(d => ({
        id: d.dataset.figure || d.id,
        traces: (d.data || []).filter(t => (t.y || []).some(v => v !== null && v !== undefined)).length,
        drawn: d.querySelectorAll('.scatterlayer .trace path, .scatterlayer .point, .barlayer .point').length
    }))""")


@pytest.mark.parametrize("kind", list(PAGES))
def test_page_type_loads_draws_its_charts_and_passes_axe(kind, demo_site, open_page):
    """Each page type from disk (file://): no console error, every chart drawn with data, no request leaving
    the machine (the open_page fixture), and axe-core reports no violation at all."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make browser` (npm ci)")
    # axe-core as an init script: it runs outside the pages' Content-Security-Policy, which forbids injected
    # scripts; preload=false because Chromium refuses the XMLHttpRequest axe would use to reread the CSS.
    w = open_page(_url(demo_site, PAGES[kind]), init_script=AXE)
    assert w.page.evaluate("document.documentElement.lang") == "nl"
    assert w.page.locator("#synthetisch").is_visible()
    w.render_all()
    charts = _chart_summary(w)
    if kind in ("index", "over", "status"):
        assert charts == []
    else:
        assert charts, "no charts on the page"
        empty = [c["id"] for c in charts if c["traces"] == 0 or c["drawn"] == 0]
        assert not empty, f"charts without data: {empty}"
    if kind == "buurt":
        assert len(charts) > 20
        assert w.page.locator("text=reeksbreuk (grenzen gewijzigd)").count() > 0
    violations = w.page.evaluate("""async () => {
        const r = await axe.run(document, {preload: false, resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    assert violations == [], violations  # clean: not only no serious ones (issue 15: the indicator page's
    # landmark-unique was the last one)


def test_the_gemeente_page_shows_where_the_divide_grows_and_no_clear_change_in_grey(demo_site, open_page):
    """"Waar groeit de kloof?": the sentence on why the gap changed, the small multiples (a buurt's line and the
    gemeente's in every small chart) and the changes in the worst-off 20%, drawn, each with its source line and
    table; the divide charts carry their interval's explanation; and a trend label "geen duidelijke verandering"
    is grey (GM9902's concentration share changed by less than 5%)."""
    w = open_page(_url(demo_site, PAGES["gemeente"]))
    page = w.page
    section = page.locator("#waar-groeit")
    assert section.locator("h2").inner_text() == "Waar groeit de kloof?"
    assert section.locator("p.finding").first.inner_text().startswith("Tussen 2013 en 2023 groeide de kloof vooral")
    w.render_all()
    multiples = page.evaluate("""() => Array.from(document.querySelectorAll('#waar-groeit .plot')).map(d => ({
        id: d.dataset.figure, state: d.dataset.state, axes: d.querySelectorAll('.subplot').length,
        lines: d.querySelectorAll('.scatterlayer .trace').length, bars: d.querySelectorAll('.barlayer .point').length
    }))""")
    assert multiples and all(m["state"] == "drawn" for m in multiples)
    small = [m for m in multiples if m["id"].endswith("-m-f")]
    worst = [m for m in multiples if m["id"].endswith("-w-f")]
    assert small and all(m["axes"] >= 2 and m["lines"] >= 2 * m["axes"] for m in small)
    assert worst and any(m["bars"] > 0 for m in worst)
    for figure in section.locator("figure.chart").all():
        assert figure.locator("figcaption").inner_text().startswith("Bron: CBS")
        assert figure.locator("details summary").inner_text().startswith("Tabel:")
    assert "De band om de lijn is de marge door afronding door het CBS." in page.locator("#kloof").inner_text()

    w = open_page(_url(demo_site, "gemeente/GM9902.html"))
    label = w.page.locator("#kloof .trend-none .trend-label").first
    assert label.inner_text() == "geen duidelijke verandering"
    colours = label.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    for colour in colours:  # grey: red, green and blue equal
        r, g, b = (int(v) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
        assert r == g == b, colours
    up = w.page.locator("#kloof .trend-up .trend-label").first
    assert up.inner_text() == "groter geworden"
    assert up.evaluate("e => getComputedStyle(e).backgroundColor") != colours[1]


def test_the_indicator_page_shows_each_buurts_contribution(demo_site, open_page):
    w = open_page(_url(demo_site, "indicator/GM9901-inkomen_per_inwoner.html"))
    section = w.page.locator("#bijdragen")
    assert section.locator("p.finding").inner_text().startswith("Tussen 2013 en 2023 groeide de kloof vooral")
    w.render_all()
    assert section.locator(".barlayer .point").count() >= 5
    rows = section.locator("details table tbody tr")
    assert rows.last.locator("th").text_content() == "Verandering van de kloof"
    assert section.locator("figcaption").inner_text().startswith("Bron: CBS")


def test_over_a_local_web_server_too(site_server, open_page):
    w = open_page(f"{site_server}/{PAGES['gemeente']}")
    w.render_all()
    assert all(c["traces"] > 0 for c in _chart_summary(w))
    assert all(u.startswith(f"{site_server}/") for u in w.requests)


def test_browse_from_the_index_to_a_buurt_and_back(demo_site, open_page):
    w = open_page(_url(demo_site, "index.html"))
    page = w.page
    page.get_by_role("link", name="Zuiderhaven (synthetisch)").first.click()
    page.wait_for_url("**/gemeente/GM9901.html")
    page.locator("#wijken a").first.click()
    page.wait_for_url("**/wijk/WK*.html")
    wijk_url = page.url
    page.locator("#buurten a").first.click()
    page.wait_for_url("**/buurt/BU*.html")
    crumbs = page.locator("nav.crumbs a")
    assert crumbs.count() == 3
    crumbs.nth(2).click()
    assert page.url == wijk_url
    page.locator("nav.crumbs a").nth(1).click()
    page.wait_for_url("**/gemeente/GM9901.html")
    page.locator("nav.crumbs a").first.click()
    page.wait_for_url("**/index.html")


def test_search_finds_buurten(demo_site, open_page):
    w = open_page(_url(demo_site, "index.html"))
    w.page.fill("#zoek", "centrum")
    results = w.page.locator("#zoek-resultaten a")
    assert results.count() >= 1
    assert "resultat" in w.page.locator("#zoek-status").inner_text()
    results.first.click()
    w.page.wait_for_url("**/buurt/BU*.html")


def _tab_until(page, predicate_js: str, limit: int = 400) -> bool:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(predicate_js):
            return True
    return False


def test_keyboard_reaches_the_controls(demo_site, open_page):
    w = open_page(_url(demo_site, "index.html"))
    page = w.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert _tab_until(page, "document.activeElement.id === 'zoek'")
    page.keyboard.type("noord")
    assert page.locator("#zoek-resultaten a").count() > 0

    w = open_page(_url(demo_site, PAGES["gemeente"]))
    page = w.page
    assert _tab_until(page, "document.activeElement.id === 'kaart-indicator'")
    page.keyboard.press("ArrowDown")  # the next indicator: map and ranking follow
    page.wait_for_function("document.getElementById('kaart-titel').textContent.indexOf('inkomen per inwoner') < 0")
    assert _tab_until(page, "document.activeElement.closest && !!document.activeElement.closest('#rangorde thead')")
    page.keyboard.press("Enter")
    assert page.locator("#rangorde thead th[aria-sort]").count() == 1


def test_a_name_from_data_is_shown_as_text(escape_site, open_page):
    w = open_page(_url(escape_site["site"], f"buurt/{escape_site['buurt']}.html"))
    w.page.evaluate("() => window.BWM.render(document.querySelector('.plot'))")
    assert w.page.locator("h1").inner_text() == escape_site["name"]
    legend = w.page.locator(".plot .legendtext").first.text_content()
    assert legend == escape_site["name"]
    w = open_page(_url(escape_site["site"], "index.html"))
    w.page.fill("#zoek", "alert")
    assert w.page.locator("#zoek-resultaten a").first.inner_text() == escape_site["name"]
    # the open_page fixture fails the test if a dialog (alert) opened or a console error appeared


def test_screenshot_of_the_gemeente_page_for_the_readme(demo_site, open_page):
    w = open_page(_url(demo_site, PAGES["gemeente"]))
    page = w.page
    page.set_viewport_size({"width": 1200, "height": 900})
    w.render_all()
    # from the top to the end of the first divide chart: themes at a glance and the divide's finding
    bottom = page.evaluate("document.querySelector('#kloof figure').getBoundingClientRect().bottom + window.scrollY")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True, clip={"x": 0, "y": 0, "width": 1200, "height": bottom})
    assert SCREENSHOT.stat().st_size > 20_000


@pytest.mark.real_data
def test_the_real_dordrecht_buurten_draw_in_the_browser(cbs_real, demo_site, tmp_path, open_page):
    """The real 2020 wijk- en buurtkaart of Dordrecht (read from ../shared at run time), through the mirror
    and the site's own map code, drawn by the site's plotly.js and site.js: 130 filled buurten."""
    import json
    import shutil

    from bwm import geo
    from bwm.site import figures

    geo.import_file(cbs_real / "geo" / "wijkbuurtkaart_2020_buurten_GM0505_dordrecht_wgs84.geojson", 2020,
                    "buurten", tmp_path / "mirror", ["GM0505"])
    shapes = geo.shapes(tmp_path / "mirror", 2020, "buurt")
    outlines = []
    for code, shape in sorted(shapes.items()):
        xs, ys = figures.outline(shape.polygons, lambda r: geo.simplify_ring(r, 0.00007))
        outlines.append((code, shape.name or code, xs, ys))
    fig = figures.map_figure(outlines, {c: (float(i % 7), str(i % 7)) for i, c in enumerate(shapes)}, "pct", "%")
    shutil.copytree(demo_site / "assets", tmp_path / "assets")
    page = tmp_path / "dordrecht.html"
    page.write_text(
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Dordrecht</title>'
        '<link rel="stylesheet" href="assets/site.css"></head><body data-root=""><main>'
        '<h1>Buurten van Dordrecht, 2020</h1><div class="plot h520" data-kind="map" data-figure="f" role="img" '
        'aria-label="Kaart"></div><script type="application/json" id="f">'
        + json.dumps(fig).replace("<", "\\u003c") +
        '</script></main><script src="assets/plotly.min.js"></script><script src="assets/site.js"></script>'
        '</body></html>', encoding="utf-8")
    w = open_page(page.as_uri())
    w.render_all()
    drawn = w.page.evaluate("""() => {
        const d = document.querySelector('.plot');
        return {traces: d.data.filter(t => t.fill === 'toself').length,
                fills: d.querySelectorAll('.scatterlayer .trace .js-fill').length};
    }""")
    assert drawn["traces"] == 130 and drawn["fills"] >= 130


def test_the_gemeente_page_shows_where_disadvantages_pile_up(demo_site, open_page):
    """"Waar stapelen nadelen zich op?": the share over time and the map, drawn, each with its source line (source and
    years) and table; the ranked list of buurten with their themes and the first year; the samenhang heat map with a
    number in every computed cell, diverging colours and a legend; the wording says it is a signal, not a verdict.
    The buurt page says on which themes, and since when."""
    w = open_page(_url(demo_site, PAGES["gemeente"]))
    page = w.page
    section = page.locator("#stapeling")
    assert section.locator("h2").inner_text() == "Waar stapelen nadelen zich op?"
    assert "Een signaal, geen oordeel" in section.inner_text()
    w.render_all()
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll('#stapeling .plot')).map(d => ({
        id: d.dataset.figure, state: d.dataset.state, paths: d.querySelectorAll('.scatterlayer .trace').length}))""")
    assert {d["id"] for d in drawn} == {"stapeling-aandeel-f", "stapeling-kaart-f"}
    assert all(d["state"] == "drawn" and d["paths"] > 0 for d in drawn)
    for figure in section.locator("figure.chart").all():
        caption = figure.locator("figcaption").inner_text()
        assert caption.startswith("Bron: CBS, Kerncijfers wijken en buurten en GGD'en") and "2022" in caption
        assert figure.locator("details summary").inner_text().startswith("Tabel:")
    ranked = section.locator("#stapeling-tabel tbody tr")
    assert ranked.count() > 0
    first = ranked.first.locator("td, th").all_inner_texts()
    assert int(first[2]) >= 1 and first[3]  # number of themes, and which
    assert section.locator("#stapeling-tabel thead").inner_text().count("Thema's") == 2
    cells = section.locator("#samenhang-kaart td.n")
    assert cells.count() > 0
    colours = set(cells.evaluate_all("cs => cs.map(c => getComputedStyle(c).backgroundColor)"))
    assert len(colours) > 3 and all(c.strip() for c in cells.all_inner_texts())
    assert section.locator(".heatmap-legend span").count() == 5
    assert section.locator("p.source").first.inner_text().startswith("Bron:")

    w = open_page(_url(demo_site, "over.html"))
    assert "Bij de 20% minst gunstig scorende inwoners" in w.page.locator("#stapeling").inner_text()

    href = ranked.first.locator("a").first.get_attribute("href")
    w = open_page(_url(demo_site, "gemeente/" + href))
    text = w.page.locator("#stapeling").inner_text()
    assert "(sinds " in text and "Een signaal, geen oordeel" in text
