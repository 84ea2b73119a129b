"""The built demo site as files (no browser needed): page types and counts, links, plotly once and local,
page weight, Dutch and the synthetic banner, "geen gegevens" for suppressed values, escaping of text from
data, atomic builds, and what the index says changed."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from bwm.site import build as site_build
from bwm.site import check
from bwm.site import data as site_data
from bwm.site import gemeente as gemeente_pages
from bwm.site import indicator as indicator_pages
from bwm.site import pages as site_pages


def _html(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def test_the_refresh_job_publishes_the_site(demo_warehouse):
    assert (demo_warehouse["site"] / "index.html").is_file()
    names = {c.check_name: c.passed for c in demo_warehouse["checks"]}
    assert names.get("site_links_resolve") and names.get("site_pages_within_budget")


def test_every_page_type_is_built(demo_site, demo_warehouse):
    with duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True) as con:
        per_level = dict(con.execute(
            "select area_level, count(distinct area_code) from staging.areas group by 1").fetchall())
        # an indicator page per gemeente for every CBS indicator, and for the municipal data files it delivered
        n_indicator_pages = con.execute("""
            select count(*) from (select distinct area_code from staging.areas where area_level = 'gemeente') g
            cross join indicators.catalogue c
            where c.source in ('kwb', 'health') or exists (
                select 1 from indicators.values v where v.gemeente_code = g.area_code
                and v.indicator_id = c.indicator_id and (v.value is not null or v.missing_reason is not null))
        """).fetchone()[0]
    manifest = json.loads(_html(demo_site, "manifest.json"))
    assert manifest["pages"] == {"index": 1, "over": 1, "status": 1, "gemeente": per_level["gemeente"],
                                 "wijk": per_level["wijk"],
                                 "buurt": per_level["buurt"], "indicator": n_indicator_pages}
    assert len(list((demo_site / "buurt").glob("*.html"))) == per_level["buurt"]


def test_every_internal_link_resolves_and_none_leaves_the_site(demo_site):
    report = check.check_links(demo_site)
    assert report.pages > 200 and report.links > 5000
    assert report.broken == []
    assert report.external == []


def test_the_link_check_reads_what_an_html_parser_reads(demo_site, escape_site):
    """check.parse uses a regular expression; on every page of our sites it finds what html.parser finds."""
    from html.parser import HTMLParser

    class Reference(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.refs, self.ids = [], set()

        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("href", "src") and value is not None:
                    self.refs.append(value)
                if name == "id" and value:
                    self.ids.add(value)

    pages = sorted(demo_site.rglob("*.html")) + sorted(escape_site["site"].rglob("*.html"))
    for page in pages:
        ours, reference = check.parse(page), Reference()
        reference.feed(page.read_text(encoding="utf-8"))
        assert (ours.refs, ours.ids) == (reference.refs, reference.ids), page


def test_the_link_check_finds_broken_fragment_and_external_links(demo_site, tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(demo_site, site)
    (site / "buurt" / "BU99010002.html").unlink()
    page = site / "gemeente" / "GM9901.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "</main>", '<a href="../over.html#bestaat-niet">x</a> <img src="https://example.org/t.png" alt=""></main>'),
        encoding="utf-8")
    report = check.check_links(site, workers=1)
    broken = {ref for _, ref in report.broken}
    assert "../buurt/BU99010002.html" in broken and "../over.html#bestaat-niet" in broken
    assert report.external == [("gemeente/GM9901.html", "https://example.org/t.png")]
    two = check.check_links(site, workers=2)  # half the pages in a second process: the same report
    assert (two.pages, two.links, sorted(two.broken), two.external) == (
        report.pages, report.links, sorted(report.broken), report.external)


def test_plotly_is_one_local_file_and_never_inlined(demo_site):
    import plotly

    shipped = (demo_site / "assets" / "plotly.min.js").read_bytes()
    assert shipped == site_pages.PLOTLY_JS.read_bytes()
    # the reduced bundle (scatter and bar), of the same plotly.js version as the python package's full one
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    version = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", full.read_bytes()[:200]).group(1)
    assert re.search(rb"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", shipped[:200]).group(1) == version
    lock = json.loads((site_pages.PROJECT_ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/plotly.js-basic-dist-min"]["version"] == version.decode()
    assert len(shipped) * 4 < full.stat().st_size  # 1.1 MB against 4.85 MB
    for page in demo_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "cdn." not in html and "https://" not in html.replace("https://creativecommons", "")
        scripts = re.findall(r'<script src="([^"]+)"', html)
        assert all(not s.startswith(("http:", "https:", "//")) for s in scripts)
        if 'class="plot' in html:
            assert scripts.count("../assets/plotly.min.js") == 1, page
        assert len(html) < 1_000_000  # plotly.js (4.8 MB) is never inlined


def test_neighbourhood_pages_stay_within_the_budget(demo_site):
    sizes = check.page_sizes(demo_site)
    assert len(sizes) > 100
    largest = max(sizes.items(), key=lambda kv: kv[1])
    print(f"largest wijk/buurt page: {largest[0]} {largest[1] / 1024:.0f} KB")
    assert check.over_budget(demo_site) == {}, largest


def test_pages_are_dutch_and_say_the_data_is_synthetic(demo_site):
    for page in demo_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert '<html lang="nl">' in html
        assert 'id="synthetisch"' in html and "synthetische gegevens" in html


def test_suppressed_values_show_geen_gegevens_never_zero(demo_site, demo_warehouse):
    with duckdb.connect(str(demo_warehouse["warehouse"]), read_only=True) as con:
        code, indicator, year = con.execute(
            """select v.area_code, v.indicator_id, v.year from indicators.values v
               where v.area_level = 'buurt' and v.missing_reason = 'suppressed_by_cbs'
                 and exists (select 1 from indicators.values w where w.area_code = v.area_code
                             and w.indicator_id = v.indicator_id and w.value is not null)
               order by 1, 2, 3 limit 1""").fetchone()
    html = _html(demo_site, f"buurt/{code}.html")
    chart = html[html.index(f'id="c-{indicator}"'):]
    chart = chart[:chart.index("</figure>")]
    row = re.search(rf"<tr><th scope=\"row\">{year}</th><td class=\"n\">([^<]*)</td>", chart)
    assert row and row.group(1) == "geen gegevens"
    assert "afgeschermd door CBS" in chart


def test_text_from_data_is_escaped(escape_site):
    site = escape_site["site"]
    html = _html(site, f"buurt/{escape_site['buurt']}.html")
    assert "<script>alert(1)" not in html
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html
    figure_json = re.search(r'<script type="application/json" id="c-inkomen_per_inwoner-f">(.*?)</script>',
                            html).group(1)
    assert "\\u003c" in figure_json  # Jinja's tojson: no "<" inside a script element
    names = [t["name"] for t in json.loads(figure_json)["data"]]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in names  # escaped once more for plotly, shown as text
    wijk = _html(site, f"wijk/{escape_site['wijk']}.html")
    assert "<b>B</b>" not in wijk and "Wijk &#34;A&#34; &amp; &lt;b&gt;B&lt;/b&gt;" in wijk
    for page in site.rglob("*.html"):
        assert "<script>alert(1)" not in page.read_text(encoding="utf-8"), page


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failed_build_leaves_the_previous_site_untouched(demo_warehouse, tmp_path, monkeypatch, fail_writes_after):
    site = tmp_path / "site"
    site_build.build_site(demo_warehouse["warehouse"], site, mirror_dir=demo_warehouse["mirror"])
    before = _snapshot(site)
    real_write = site_pages.write_page
    calls = fail_writes_after(30)
    with pytest.raises(OSError, match="disk full"):  # reuse=False: render every page (nothing changed)
        site_build.build_site(demo_warehouse["warehouse"], site, mirror_dir=demo_warehouse["mirror"], reuse=False)
    assert calls["n"] == 31
    assert _snapshot(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # the half-built folder is gone

    monkeypatch.setattr(site_pages, "write_page", real_write)
    result = site_build.build_site(demo_warehouse["warehouse"], site, mirror_dir=demo_warehouse["mirror"])
    assert result.index == site / "index.html" and result.changes["kind"] == "unchanged"
    mask = os.umask(0)
    os.umask(mask)
    assert site.stat().st_mode & 0o777 == 0o777 & ~mask  # not mkdtemp's 0700: others may read it on a share
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # the old site was swapped out and removed


def test_the_index_says_what_changed_at_the_last_refresh(demo_site, demo_warehouse, tmp_path):
    index = _html(demo_site, "index.html")
    assert "Dit is de eerste publicatie van deze site" in index and "85984NED" in index
    site = tmp_path / "site"
    site_build.build_site(demo_warehouse["warehouse"], site, mirror_dir=demo_warehouse["mirror"])
    manifest = json.loads((site / "manifest.json").read_text())
    manifest["tables"]["85984NED"]["modified"] = "2024-01-01T00:00:00"  # as if CBS revised it since
    del manifest["tables"]["50120NED"]  # as if the health table were new
    (site / "manifest.json").write_text(json.dumps(manifest))
    site_build.build_site(demo_warehouse["warehouse"], site, mirror_dir=demo_warehouse["mirror"])
    index = (site / "index.html").read_text()
    assert "Bij de laatste verversing" in index
    assert re.search(r"Bijgewerkt door CBS: [^<]*\(85984NED\), versie van 1 maart 2025 \(was 1 januari 2024\)", index)
    assert re.search(r"Nieuw: [^<]*\(50120NED\)", index)


def test_without_boundaries_the_pages_say_geen_kaart_beschikbaar(demo_warehouse, tmp_path):
    data = site_data.load(demo_warehouse["warehouse"], mirror_dir=tmp_path)  # a mirror without geo/
    page = indicator_pages.indicator_page(data, "GM9901", "inkomen_per_inwoner")
    assert page["map_figure"] is None and page["ranking"] is not None
    html = site_pages.environment().get_template("indicator.html.j2").render(
        **page, root="../", path="x", synthetic=True, built_at="", national_name="Nederland", site_title="",
        page_path=site_pages.page_path, latest_year=2024)
    assert "geen kaart beschikbaar" in html
    spec = gemeente_pages.gemeente_page(data, "GM9901")["map_spec"]
    assert set(spec["figures"].values()) == {None}


def test_bwm_site_build_ends_with_the_index_path(demo_warehouse, tmp_path, monkeypatch, capsys):
    from pipelines import cli

    monkeypatch.setenv("BWM_WAREHOUSE", str(demo_warehouse["warehouse"]))
    monkeypatch.setenv("BWM_MIRROR_DIR", str(demo_warehouse["mirror"]))
    assert cli.main(["site", "build", "--out", str(tmp_path / "site")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(tmp_path / "site" / "index.html")
    monkeypatch.setenv("BWM_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    assert cli.main(["site", "build", "--out", str(tmp_path / "site")]) == 1
    assert "No warehouse at" in capsys.readouterr().err
    assert (tmp_path / "site" / "index.html").is_file()  # the previous site is still there
