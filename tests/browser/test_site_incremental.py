"""Incremental site builds: the pages of a gemeente whose data did not change are taken over from the previous
site, and the result is the same site a full build makes (test files, no browser)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from bwm import incremental
from bwm.site import build as site_build
from bwm.site import reuse as site_reuse
from pipelines.defs.publish.model import build_model

BUILT_AT = "2026-02-01T06:00:00+00:00"
NOT_PAGES = {"index.html", "manifest.json", incremental.STATE}  # "what changed" differs between the two histories


def _files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def _inodes(site: Path, pattern: str) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in site.glob(pattern)}


@pytest.fixture()
def changed_warehouse(demo_warehouse, tmp_path) -> Path:
    """A copy of the demo warehouse in which one buurt figure of GM9902 differs."""
    wh = tmp_path / "changed.duckdb"
    shutil.copyfile(demo_warehouse["warehouse"], wh)
    with duckdb.connect(str(wh)) as con:
        rowid = con.execute("select rowid from indicators.values where gemeente_code = 'GM9902' and area_level = "
                            "'buurt' and indicator_id = 'inkomen_per_inwoner' and value is not null "
                            "order by area_code, year desc limit 1").fetchone()[0]
        con.execute("update indicators.values set value = value + 1234 where rowid = ?", [rowid])
        build_model(con)  # as a refresh does downstream of the change
    return wh


def _build(warehouse: Path, site: Path, mirror: Path, **kw) -> site_build.BuildResult:
    return site_build.build_site(warehouse, site, mirror_dir=mirror, built_at=BUILT_AT, **kw)


def test_only_the_changed_gemeente_is_rendered_again(demo_warehouse, changed_warehouse, tmp_path):
    mirror = demo_warehouse["mirror"]
    site = tmp_path / "site"
    first = _build(demo_warehouse["warehouse"], site, mirror)
    assert (first.rendered, first.reused) == (6, 0)
    before = _inodes(site, "buurt/BU9901*.html")
    before_9902 = _inodes(site, "buurt/BU9902*.html")

    again = _build(changed_warehouse, site, mirror)
    assert (again.rendered, again.reused) == (1, 5)
    assert again.pages == first.pages
    assert _inodes(site, "buurt/BU9901*.html") == before  # the same files, linked from the previous site
    assert all(_inodes(site, "buurt/BU9902*.html")[n] != i for n, i in before_9902.items())  # written again

    fresh = tmp_path / "fresh"
    _build(changed_warehouse, fresh, mirror, reuse=False)
    got, want = _files(site), _files(fresh)
    assert sorted(got) == sorted(want)
    differing = [p for p in want if p not in NOT_PAGES and got[p] != want[p]]
    assert differing == []
    # and the change reached the pages: a full build of the unchanged warehouse differs exactly there
    unchanged = tmp_path / "unchanged"
    _build(demo_warehouse["warehouse"], unchanged, mirror, reuse=False)
    old = _files(unchanged)
    changed_pages = {p for p in want if p not in NOT_PAGES and old[p] != want[p]}
    assert changed_pages and all("9902" in p for p in changed_pages), changed_pages


def test_a_change_of_code_or_shared_data_renders_everything(demo_warehouse, tmp_path, monkeypatch):
    site = tmp_path / "site"
    _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"])
    assert _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"]).reused == 6
    monkeypatch.setattr(site_reuse, "code_version", lambda: "a template changed")
    result = _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"])
    assert (result.rendered, result.reused) == (6, 0)


def test_a_missing_or_unreadable_previous_page_is_rendered_again(demo_warehouse, tmp_path):
    site = tmp_path / "site"
    _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"])
    page = site / "buurt" / "BU99010002.html"
    want = page.read_bytes()
    page.unlink()
    result = _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"])
    assert (result.rendered, result.reused) == (1, 5)
    assert page.read_bytes() == want
    (site / incremental.STATE).write_text("{not json")
    assert _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"]).rendered == 6


def test_a_failed_incremental_build_leaves_the_previous_site_untouched(demo_warehouse, changed_warehouse, tmp_path,
                                                                       fail_writes_after):
    """The reused pages are hard links to the previous site's files: nothing may be written through them."""
    site = tmp_path / "site"
    _build(demo_warehouse["warehouse"], site, demo_warehouse["mirror"])
    before = {p: hashlib.sha256(b).hexdigest() for p, b in _files(site).items()}
    fail_writes_after(10)
    with pytest.raises(OSError, match="disk full"):
        _build(changed_warehouse, site, demo_warehouse["mirror"])
    assert {p: hashlib.sha256(b).hexdigest() for p, b in _files(site).items()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["site"]


def test_two_processes_build_the_same_site_as_one(demo_warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(site_build, "PARALLEL_FROM", 1)
    one = _build(demo_warehouse["warehouse"], tmp_path / "one", demo_warehouse["mirror"], workers=1)
    two = _build(demo_warehouse["warehouse"], tmp_path / "two", demo_warehouse["mirror"], workers=2)
    assert one.pages == two.pages and one.largest == two.largest
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
