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
             "geen signaal: te weinig indicatoren met cijfers", "geen gegevens"}
    for r in table.locator("tbody tr").all():
        theme, years, signal, basis = r.locator("th, td").all_inner_texts()
        assert signal in bands
        if signal.startswith("geen signaal"):
            assert basis.endswith("(te weinig voor een signaal)")
    # the demo's Samenleving theme has one scored indicator: never a signal on one indicator alone
    samenleving = table.locator("tbody tr", has_text="Samenleving").locator("td").all_inner_texts()
    assert samenleving[1] == "geen signaal: te weinig indicatoren met cijfers" and samenleving[2].startswith("1 van 1")
