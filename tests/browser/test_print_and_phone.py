"""Issue 15 in real headless Chromium: every page kind printed to A4 with ``page.pdf()`` (every chart drawn, the
tables open, no chart split, navigation left out; a wijk or buurt page as a factsheet of two or three pages), every
page kind on a 390 px phone (no sideways scroll, no axis title cut off or run over by the year labels), and beside
every chart a CSV for Dutch Excel and a link that work from ``file://``. Also the README's screenshots of the
printed factsheet and of a phone."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.browser.test_pages import PAGES, ROOT

FACTSHEET_PNG = ROOT / "docs" / "screenshot-factsheet.png"
PHONE_PNG = ROOT / "docs" / "screenshot-phone.png"
#: A4 at 96 dpi less the margins of site.css (@page: 12 mm top and bottom, 15 mm left and right).
A4_CONTENT = {"width": 680, "height": 1032}

DRAWN = "() => Array.from(document.querySelectorAll('.plot')).every(d => d.hidden || d.dataset.state === 'drawn')"
#: Per chart: its id, how many plotly SVG layers it holds, its drawn width, and whether it is hidden.
CHARTS = """() => Array.from(document.querySelectorAll('.plot')).map(d => ({
    id: d.dataset.figure || d.id, hidden: d.hidden, svgs: d.querySelectorAll('.main-svg').length,
    width: d.querySelector('.main-svg') ? +d.querySelector('.main-svg').getAttribute('width') : 0,
    traces: d.querySelectorAll('.scatterlayer .trace, .barlayer .point').length}))"""
#: Axis titles that stick out of their chart, and year labels that run into the x axis's title.
AXIS_FAULTS = """() => { const out = [];
  document.querySelectorAll('.plot').forEach(d => {
    const svg = d.querySelector('.main-svg'); if (!svg || d.hidden) return;
    const box = svg.getBoundingClientRect(), id = d.dataset.figure || d.id;
    d.querySelectorAll('.g-xtitle text, .g-ytitle text').forEach(t => { const r = t.getBoundingClientRect();
      if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 ||
                      r.top < box.top - 1 || r.bottom > box.bottom + 1))
        out.push(id + ': title cut off: ' + t.textContent); });
    const xt = d.querySelector('.g-xtitle text'); if (!xt) return;
    const tr = xt.getBoundingClientRect();
    d.querySelectorAll('.xtick text').forEach(k => { const r = k.getBoundingClientRect();
      if (r.width && r.bottom > tr.top + 1 && r.top < tr.bottom && r.right > tr.left && r.left < tr.right)
        out.push(id + ': year label ' + k.textContent + ' on the axis title'); });
  }); return out; }"""


def _url(site: Path, rel: str) -> str:
    return (site / rel).as_uri()


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF written by Chromium: its page objects (``/Type /Page``, not the ``/Pages`` tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def _print(w) -> list[dict]:
    """Print emulation as page.pdf() sees it; returns the charts once site.js has drawn them all for paper."""
    w.page.emulate_media(media="print")
    w.page.wait_for_function("() => document.body.dataset.print === 'ready'")
    w.page.wait_for_function(DRAWN)
    return w.page.evaluate(CHARTS)


@pytest.mark.parametrize("kind", list(PAGES))
def test_every_page_kind_prints_with_every_chart_drawn(kind, demo_site, open_page):
    w = open_page(_url(demo_site, PAGES[kind]))
    page = w.page
    before = page.evaluate(CHARTS)
    charts = _print(w)
    assert len(charts) == len(before)
    visible = [c for c in charts if not c["hidden"]]
    if kind in ("index", "over", "status"):
        assert charts == []
    else:
        undrawn = [c["id"] for c in visible if c["svgs"] == 0 or c["traces"] == 0]
        assert visible and not undrawn, f"charts not drawn for print: {undrawn}"
        # at the width of the paper: 680 px (A4 less margins), or 124 px five to a row on a factsheet
        assert {c["width"] for c in visible} == ({124} if kind in ("wijk", "buurt") else {680})
    style = page.evaluate("""() => ({
        nav: getComputedStyle(document.querySelector('.site-header nav')).display,
        crumbs: Array.from(document.querySelectorAll('.crumbs')).map(c => getComputedStyle(c).display).join() || 'none',
        closed: document.querySelectorAll('details:not([open])').length,
        split: Array.from(document.querySelectorAll('figure.chart'))
                   .filter(f => getComputedStyle(f).breakInside !== 'avoid').length,
        tools: Array.from(document.querySelectorAll('.chart-tools')).filter(t => t.offsetParent !== null).length})""")
    assert style == {"nav": "none", "crumbs": "none", "closed": 0, "split": 0, "tools": 0}, style

    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert pages >= 1
    # page.pdf() fires afterprint under print emulation: the charts stay drawn for paper
    assert page.evaluate(CHARTS) == charts
    if kind == "wijk":
        assert pages <= 2, pages  # was 11 pages with 1 of 35 charts drawn
    if kind == "buurt":
        assert pages <= 3, pages
    if kind in ("wijk", "buurt"):
        summary = page.locator("#samenvatting")
        assert summary.is_visible()
        order = page.evaluate("Array.from(document.querySelectorAll('main > section')).filter(s => s.offsetHeight)"
                              ".map(s => s.id)")
        assert order[0] == "samenvatting", order
        rows = summary.locator("tbody tr")
        assert rows.count() == len(visible)  # one row per charted indicator
        head = [h.inner_text() for h in summary.locator("thead th").all()]
        assert head[:4] == ["Indicator", "Eerste jaar", "Laatste jaar", "Ontwikkeling"]
        assert head[-1] == "Nederland (synthetisch)"
        first = [c.inner_text() for c in rows.first.locator("th, td").all()]
        assert first[0] == "Gemiddeld inkomen per inwoner" and re.fullmatch(r"€ [\d.]+ \(\d{4}\)", first[2]), first
        assert re.search(r"\((hoger|lager|≈ gelijk)\)$", first[4]), first
        sources = summary.locator(".sources li")
        assert sources.count() >= 2 and all(s.startswith("Bron: ") for s in sources.all_inner_texts())

    page.emulate_media(media="screen")  # back on screen: drawn for the window again, the tables closed again
    page.wait_for_function("() => document.body.dataset.print === undefined")
    page.wait_for_function(DRAWN)
    if kind not in ("index", "over", "status"):
        assert all(c["width"] > 700 for c in page.evaluate(CHARTS) if c["svgs"] and not c["hidden"])
    assert page.evaluate("document.querySelectorAll('details[open]').length") == 0


def test_ctrl_p_draws_every_chart_before_printing(demo_site, open_page):
    """A reader's Ctrl+P fires beforeprint (no print emulation): site.js draws every chart in its handler, at once,
    and puts the page back as it was after printing."""
    w = open_page(_url(demo_site, PAGES["wijk"]))
    page = w.page
    assert page.evaluate("document.querySelectorAll('.plot[data-state=drawn]').length") < 34
    # drawn before the event's handler returns (Chromium lays the page out for paper right after it), not later
    charts = page.evaluate(f"() => {{ window.dispatchEvent(new Event('beforeprint')); return ({CHARTS})(); }}")
    page.wait_for_function("() => document.body.dataset.print === 'ready'")
    assert len(charts) == 34 and all(c["svgs"] > 0 and c["width"] == 124 for c in charts)
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    page.wait_for_function(DRAWN)
    assert all(c["width"] > 124 for c in page.evaluate(CHARTS))
    assert page.evaluate("document.querySelectorAll('details[open]').length") == 0


@pytest.mark.parametrize("kind", list(PAGES))
def test_no_sideways_scroll_on_a_phone(kind, demo_site, open_page):
    """390 px (a phone): the page never scrolls sideways (the map's <select> was 518 px wide), and in every chart
    the axis titles are whole and the year labels, turned on a narrow screen, stay clear of the x axis title."""
    w = open_page(_url(demo_site, PAGES[kind]))
    page = w.page
    page.set_viewport_size({"width": 390, "height": 844})
    w.render_all()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{kind}: the page is {width[0]} px wide on a {width[1]} px screen"
    assert page.evaluate(AXIS_FAULTS) == []
    if kind == "gemeente":
        assert page.locator("#kaart-indicator").bounding_box()["width"] <= 390


def test_axis_titles_are_whole_on_a_desktop_too(demo_site, open_page):
    """The dissimilarity index's title was longer than its chart is high, and cut off at 1280 px too."""
    for rel in (PAGES["gemeente"], "gemeente/GM9902.html"):
        w = open_page(_url(demo_site, rel))
        w.render_all()
        assert w.page.locator("[data-figure$='dissimilarity-f'] .g-ytitle").count() == 1
        assert w.page.evaluate(AXIS_FAULTS) == []


def _download(page, figure_id: str) -> tuple[str, bytes]:
    link = page.locator(f"#{figure_id} .chart-tools a.csv")
    with page.expect_download() as info:
        link.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_every_chart_has_a_csv_for_dutch_excel_and_a_link_from_file(demo_site, open_page):
    w = open_page(_url(demo_site, PAGES["wijk"]))
    page = w.page
    figures = page.evaluate("Array.from(document.querySelectorAll('figure.chart')).map(f => [f.id, "
                            "!!f.querySelector('.chart-tools a.csv'), f.querySelector('.chart-tools a.deeplink')"
                            ".getAttribute('href')])")
    assert len(figures) == 34 and all(has_csv and link == f"#{fid}" for fid, has_csv, link in figures)

    name, raw = _download(page, "c-inkomen_per_inwoner")
    assert name == "WK990101-c-inkomen_per_inwoner.csv"
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    table = page.evaluate("""() => Array.from(document.querySelectorAll('#c-inkomen_per_inwoner details tr'))
                             .map(tr => Array.from(tr.cells).map(c => c.textContent))""")
    assert rows[0] == table[0] == ["Jaar", "Wijk 01 Noord", "Zuiderhaven (synthetisch)", "Nederland (synthetisch)",
                                   "Bron (CBS-tabel)", "Opmerking"]
    assert len(rows) == len(table) + 3  # the figures, an empty line, the caption and the source line
    for got, shown in zip(rows[1:len(table)], table[1:]):
        assert got[0] == shown[0]  # the year
        for cell, value in zip(got[1:4], shown[1:4]):
            # "€ 26.100" on the page is 26100 for Excel; a missing figure stays the words "geen gegevens"
            assert cell == (value.replace("€", "").replace(".", "").strip() if value[0] == "€" else value)
    assert re.fullmatch(r"\d+", rows[1][1])
    assert rows[-2][0].startswith("Gemiddeld inkomen per inwoner per jaar")
    assert rows[-1][0].startswith("Bron: CBS, Kerncijfers wijken en buurten")

    _, raw = _download(page, "c-huishoudens_laag_inkomen")  # a percentage: decimal comma, no % sign
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    shown = page.locator("#c-huishoudens_laag_inkomen details tbody tr td:nth-child(2)").all_text_contents()
    pairs = [(cell, row[1]) for cell, row in zip(shown, rows[1:]) if cell != "geen gegevens"]
    assert pairs and all(re.fullmatch(r"\d+,\d%", c) and got == c.rstrip("%") for c, got in pairs), pairs

    # the gemeente map's CSV is its ranking, of the indicator chosen at the time
    w = open_page(_url(demo_site, PAGES["gemeente"]))
    page = w.page
    page.select_option("#kaart-indicator", "huishoudens_laag_inkomen")
    page.wait_for_function("() => document.getElementById('kaart-titel').textContent.indexOf('laag inkomen') >= 0")
    name, raw = _download(page, "kaart-fig")
    assert name == "GM9901-kaart-fig.csv"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    # the ranking's value, its change since the first year (a column since the rankings got one), and the remarks
    # behind a number ("4,1% *" a small buurt, "(sinds 2020)", "(gedeeld)") in a last column, so every number
    # stays a number for Excel
    assert rows[0][-3:-1] == ["Waarde (procent (%))", rows[0][-2]] and rows[0][-2].startswith("Verandering sinds")
    assert rows[0][-1] == "Opmerking"
    assert len(rows) == page.locator("#rangorde tr").count() + 3
    assert all(re.fullmatch(r"\d+", r[0]) or r[0] == "–" for r in rows[1:-3]), [r[0] for r in rows[1:-3]]
    assert all(re.fullmatch(r"\d+(,\d+)?|geen gegevens", r[-3]) for r in rows[1:-3]), [r[-3:] for r in rows[1:-3]]
    assert all(re.fullmatch(r"-?\d+(,\d+)?|geen gegevens|", r[-2]) for r in rows[1:-3]), [r[-2] for r in rows[1:-3]]
    assert any("kleine buurt" in r[-1] for r in rows[1:-3]) and any("sinds 20" in r[-1] for r in rows[1:-3])

    # the link of a chart opens the page at that chart
    w = open_page(_url(demo_site, PAGES["buurt"]) + "#c-inkomen_per_inwoner")
    top = w.page.evaluate("document.getElementById('c-inkomen_per_inwoner').getBoundingClientRect().top")
    assert -1 < top < 50  # at the top of the window, up to a sub-pixel of scroll rounding


def test_the_links_of_charts_are_the_same_in_another_build(demo_site, escape_site):
    """A chart's id comes from its indicator and measure, not from its place: a build of other figures (and other
    names) gives the same page the same ids, so a link in a memo keeps working."""
    def ids(site: Path, rel: str) -> list[str]:
        return re.findall(r'<(?:figure|section)[^>]* id="([^"]+)"', (site / rel).read_text(encoding="utf-8"))

    for rel in (PAGES["wijk"], PAGES["gemeente"], PAGES["indicator"]):
        assert ids(demo_site, rel) == ids(escape_site["site"], rel)
        assert not [i for i in ids(demo_site, rel) if re.search(r"(^|-)\d+$", i)]  # no running numbers
    assert "c-inkomen_per_inwoner" in ids(demo_site, PAGES["wijk"])


def test_screenshots_of_the_printed_factsheet_and_a_phone_for_the_readme(demo_site, open_page):
    w = open_page(_url(demo_site, PAGES["wijk"]))
    page = w.page
    page.set_viewport_size(A4_CONTENT)
    _print(w)
    FACTSHEET_PNG.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(FACTSHEET_PNG), clip={"x": 0, "y": 0, **A4_CONTENT})  # the PDF's first page
    assert FACTSHEET_PNG.stat().st_size > 20_000

    w = open_page(_url(demo_site, PAGES["gemeente"]))
    page = w.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#kloof figure").first.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#kloof .plot').dataset.state === 'drawn'")
    page.evaluate("window.scrollTo(0, document.getElementById('kloof').getBoundingClientRect().top + scrollY)")
    page.screenshot(path=str(PHONE_PNG))
    assert PHONE_PNG.stat().st_size > 10_000
