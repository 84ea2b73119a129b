"""Build the static site from the warehouse, atomically.

The site is built into a fresh folder next to the target (``.<name>-new-<random>``), and only when every
page is written is it swapped in: the old site is renamed aside, the new one renamed into place, the old one
deleted. A build that fails half-way removes its own folder and leaves the previous site exactly as it was.
(Between the two renames the target is briefly absent; Python has no portable atomic directory exchange.)

Pages are rendered with Jinja2 with autoescaping on for every template, so text from data (a neighbourhood
called ``<script>``) is always shown as text; JSON inside pages goes through Jinja's ``tojson``, which
escapes ``<``, ``>``, ``&`` and ``'``. plotly.js is copied once to ``assets/plotly.min.js`` from the
installed plotly package (never a CDN), and every page refers to it; figures are embedded as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import jinja2

from bwm import geo
from bwm.settings import PROJECT_ROOT
from bwm.site import area as area_pages
from bwm.site import data as site_data
from bwm.site import format as fmt
from bwm.site import gemeente as gemeente_pages
from bwm.site import indicator as indicator_pages
from bwm.site import maps, overview
from bwm.site.common import depth, page_path

TEMPLATES = PROJECT_ROOT / "dashboards" / "templates"
STATIC = PROJECT_ROOT / "dashboards" / "static"
MANIFEST = "manifest.json"
#: The budget of a wijk or buurt page, without the shared plotly.min.js (issue 4).
PAGE_BUDGET_BYTES = 300 * 1024
#: A half-built folder of a killed build is removed by a later build after this long.
STALE_SECONDS = 3600

Progress = Callable[[str], None]


class SiteBuildError(RuntimeError):
    """The site could not be built; the previous site (if any) is untouched."""


@dataclass
class BuildResult:
    site_dir: Path
    index: Path
    pages: dict[str, int] = field(default_factory=dict)  # page kind -> count
    largest: dict[str, tuple[str, int]] = field(default_factory=dict)  # kind -> (path, bytes)
    seconds: float = 0.0
    changes: dict = field(default_factory=dict)
    synthetic: bool = False


def plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise SiteBuildError(f"plotly.min.js is not in the installed plotly package ({path}); reinstall plotly.")
    return path


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":"), "allow_nan": False,
                                         "ensure_ascii": False}
    env.filters["number"] = fmt.number
    env.filters["date_nl"] = fmt.date_nl
    return env


def read_manifest(site_dir: Path) -> dict | None:
    try:
        with open(Path(site_dir) / MANIFEST, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None


def _clean_leftovers(site_dir: Path) -> None:
    now = time.time()
    for p in site_dir.parent.glob(f".{site_dir.name}-*"):
        if p.is_dir() and ("-old-" in p.name or now - p.stat().st_mtime > STALE_SECONDS):
            shutil.rmtree(p, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap(new: Path, site_dir: Path) -> None:
    old = None
    if site_dir.exists():
        old = site_dir.parent / f".{site_dir.name}-old-{os.getpid()}-{int(time.time() * 1000)}"
        os.rename(site_dir, old)
    try:
        os.rename(new, site_dir)
    except OSError:
        if old is not None:
            os.rename(old, site_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class _Writer:
    """Renders templates into the new site folder and keeps count of pages and their sizes."""

    def __init__(self, root: Path, env: jinja2.Environment, common: dict):
        self.root, self.env, self.common = root, env, common
        self.pages: dict[str, int] = {}
        self.largest: dict[str, tuple[str, int]] = {}

    def page(self, template: str, path: str, context: dict) -> None:
        prefix = "../" * depth(path)
        html = self.env.get_template(template).render(**self.common, **context, root=prefix, path=path)
        write_page(self.root / path, html)
        kind = context.get("kind", template)
        size = len(html.encode("utf-8"))
        self.pages[kind] = self.pages.get(kind, 0) + 1
        if size > self.largest.get(kind, ("", -1))[1]:
            self.largest[kind] = (path, size)


def write_page(path: Path, html: str) -> None:
    """Write one page (a separate function so tests can make a build fail half-way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def build_site(warehouse_path: Path, site_dir: Path, mirror_dir: Path | None = None,
               progress: Progress | None = None, built_at: str | None = None) -> BuildResult:
    """Build the whole site from the warehouse into ``site_dir``; the previous site stays until it is done."""
    say = progress or (lambda _m: None)
    started = time.monotonic()
    site_dir = Path(site_dir).resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(site_dir)
    built_at = built_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    previous = read_manifest(site_dir)

    data = site_data.load(warehouse_path, mirror_dir)
    if not data.gemeenten():
        raise SiteBuildError(f"The warehouse {warehouse_path} holds no gemeente; run the refresh first.")
    maps._year_shapes.cache_clear()

    new = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-new-", dir=site_dir.parent))
    try:
        os.chmod(new, 0o777 & ~_umask())  # mkdtemp makes it 0700; a site on a file share must be readable
        result = _render(data, new, previous, built_at, say)
        _swap(new, site_dir)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    result.site_dir = site_dir
    result.index = site_dir / "index.html"
    result.seconds = time.monotonic() - started
    return result


def _render(data: site_data.SiteData, root: Path, previous: dict | None, built_at: str, say: Progress) -> BuildResult:
    env = environment()
    map_years = {}
    if data.mirror_dir is not None:
        map_years = {y: "buurten" in layers for y, layers in geo.available(data.mirror_dir).items()}
    change_list = overview.changes(previous, overview.table_state(data), built_at)
    common = {"synthetic": data.synthetic, "built_at": fmt.date_nl(built_at), "national_name": data.national_name,
              "site_title": "Brede Welvaart Monitor", "page_path": page_path,
              "latest_year": data.latest_kwb_year}
    writer = _Writer(root, env, common)

    assets = root / "assets"
    assets.mkdir(parents=True)
    shutil.copyfile(plotly_js(), assets / "plotly.min.js")
    for static in STATIC.iterdir():
        if static.is_file():
            shutil.copyfile(static, assets / static.name)
    search = json.dumps(overview.search_index(data), ensure_ascii=True, separators=(",", ":"))
    (assets / "zoekindex.js").write_text(f"window.BWM_SEARCH={search};\n", encoding="utf-8")

    writer.page("index.html.j2", page_path("index"), overview.index_page(data, change_list))
    writer.page("over.html.j2", page_path("over"), overview.about_page(data, map_years))
    writer.page("status.html.j2", page_path("status"), overview.status_page(data, change_list))
    for g in data.gemeenten():
        say(f"site: {g.name}")
        writer.page("gemeente.html.j2", page_path("gemeente", g.code), gemeente_pages.gemeente_page(data, g.code))
        for ind in data.indicators_for(g.code):
            writer.page("indicator.html.j2", page_path("indicator", f"{g.code}/{ind['indicator_id']}"),
                        indicator_pages.indicator_page(data, g.code, ind["indicator_id"]))
    for a in sorted(data.areas.values(), key=lambda a: a.code):
        if a.level in ("wijk", "buurt") and a.gemeente_code in data.areas:
            writer.page("area.html.j2", page_path(a.level, a.code), area_pages.area_page(data, a.code))

    (root / MANIFEST).write_text(json.dumps(
        overview.manifest(data, built_at, change_list, writer.pages), ensure_ascii=False, indent=1), encoding="utf-8")
    return BuildResult(site_dir=root, index=root / "index.html", pages=writer.pages, largest=writer.largest,
                       changes=change_list, synthetic=data.synthetic)
