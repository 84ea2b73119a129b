"""Writing the pages: the Jinja environment, the shared assets, and every page of the site, counted as written.

Pages are rendered with Jinja2 with autoescaping on for every template, so text from data (a neighbourhood
called ``<script>``) is always shown as text; JSON inside pages goes through Jinja's ``tojson``, which
escapes ``<``, ``>``, ``&`` and ``'``. plotly.js is copied once to ``assets/plotly.min.js`` from npm's
``plotly.js-basic-dist-min`` in ``node_modules`` (never a CDN), and every page refers to it; figures are embedded as
JSON. The basic bundle holds the scatter and bar traces, the only ones the site draws (figures.py, maps.py), at a
quarter of the full bundle's weight; its version is pinned in package.json to the plotly.js of the python plotly
package, so a figure renders as the tests check it with ``plotly.graph_objects``.

A :class:`PageWriter` writes into one site folder and keeps count: pages per kind, the largest page of each kind,
and per gemeente the pages it wrote for it (path -> ``[kind, bytes]``), which the build records to reuse them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import jinja2

from bwm import geo
from bwm.settings import PROJECT_ROOT
from bwm.site import area as area_pages
from bwm.site import data as site_data
from bwm.site import format as fmt
from bwm.site import gemeente as gemeente_pages
from bwm.site import indicator as indicator_pages
from bwm.site import overview
from bwm.site.common import depth, page_path, table_html

TEMPLATES = PROJECT_ROOT / "dashboards" / "templates"
STATIC = PROJECT_ROOT / "dashboards" / "static"
#: Gemeenten whose figures are held in memory at once (a national warehouse is 4 GiB of Python objects whole).
SCOPE_BATCH = 25

Progress = Callable[[str], None]


class SiteBuildError(RuntimeError):
    """The site could not be built; the previous site (if any) is untouched."""


#: The reduced plotly.js (scatter, bar, pie), installed by ``npm ci`` from package-lock.json.
PLOTLY_JS = PROJECT_ROOT / "node_modules" / "plotly.js-basic-dist-min" / "plotly-basic.min.js"


def plotly_js() -> Path:
    if not PLOTLY_JS.is_file():
        raise SiteBuildError(f"plotly.js is not installed ({PLOTLY_JS} is missing): run `npm ci` in {PROJECT_ROOT} "
                             "(or `make demo`, which does), then build the site again.")
    return PLOTLY_JS


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
    env.globals["table_html"] = table_html
    return env


def common(data: site_data.SiteData, built_at: str) -> dict:
    """What every template is given: the site's title, the build time, the national name, the latest year."""
    return {"synthetic": data.synthetic, "built_at": fmt.date_nl(built_at), "national_name": data.national_name,
            "site_title": "Brede Welvaart Monitor", "page_path": page_path, "latest_year": data.latest_kwb_year}


def write_page(path: Path, html: str) -> None:
    """Write one page (a separate function so tests can make a build fail half-way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


class PageWriter:
    """Renders templates into one site folder and keeps count of pages and their sizes, per gemeente too."""

    def __init__(self, root: Path, env: jinja2.Environment, shared: dict):
        self.root, self.env, self.shared = root, env, shared
        self.pages: dict[str, int] = {}
        self.largest: dict[str, tuple[str, int]] = {}
        self.by_gemeente: dict[str, dict[str, list]] = {}  # gemeente code -> page path -> [kind, bytes]

    def page(self, template: str, path: str, context: dict, gemeente: str | None = None) -> None:
        """Render ``template`` to ``path``; ``gemeente``: the gemeente the page belongs to (None: the whole site's)."""
        prefix = "../" * depth(path)
        html = self.env.get_template(template).render(**self.shared, **context, root=prefix, path=path)
        write_page(self.root / path, html)
        self.count(path, context.get("kind", template), len(html.encode("utf-8")), gemeente)

    def count(self, path: str, kind: str, size: int, gemeente: str | None = None) -> None:
        """Count a page in the folder, written here or elsewhere (a worker process, the previous site)."""
        self.pages[kind] = self.pages.get(kind, 0) + 1
        if size > self.largest.get(kind, ("", -1))[1] or (
                size == self.largest[kind][1] and path < self.largest[kind][0]):
            self.largest[kind] = (path, size)
        if gemeente is not None:
            self.by_gemeente.setdefault(gemeente, {})[path] = [kind, size]

    def count_gemeente(self, gemeente: str, pages: dict[str, list]) -> None:
        """Count the pages of a gemeente put into the folder elsewhere (path -> ``[kind, bytes]``)."""
        for path, (kind, size) in pages.items():
            self.count(path, kind, size, gemeente)


def write_assets(root: Path, data: site_data.SiteData) -> None:
    """``assets/``: plotly.js, the static files and the search index."""
    assets = root / "assets"
    assets.mkdir(parents=True)
    shutil.copyfile(plotly_js(), assets / "plotly.min.js")
    for static in STATIC.iterdir():
        if static.is_file():
            shutil.copyfile(static, assets / static.name)
    search = json.dumps(overview.search_index(data), ensure_ascii=True, separators=(",", ":"))
    (assets / "zoekindex.js").write_text(f"window.BWM_SEARCH={search};\n", encoding="utf-8")


def write_overview(writer: PageWriter, data: site_data.SiteData, change_list: dict) -> None:
    """The pages of the whole site: the index, the about page and the status page."""
    map_years = {}
    if data.mirror_dir is not None:
        map_years = {y: "buurten" in layers for y, layers in geo.available(data.mirror_dir).items()}
    writer.page("index.html.j2", page_path("index"), overview.index_page(data, change_list))
    writer.page("over.html.j2", page_path("over"), overview.about_page(data, map_years))
    writer.page("status.html.j2", page_path("status"), overview.status_page(data, change_list))


def render_gemeenten(con, data: site_data.SiteData, writer: PageWriter, codes: list[str], say: Progress) -> None:
    """Every page of these gemeenten: the gemeente page, its indicator pages and its wijk and buurt pages; their
    figures are loaded a batch of gemeenten at a time."""
    for start in range(0, len(codes), SCOPE_BATCH):
        batch = codes[start:start + SCOPE_BATCH]
        site_data.load_scope(con, data, batch)
        for code in batch:
            say(f"site: {data.areas[code].name}")
            writer.page("gemeente.html.j2", page_path("gemeente", code), gemeente_pages.gemeente_page(data, code),
                        code)
            for ind in data.indicators_for(code):
                writer.page("indicator.html.j2", page_path("indicator", f"{code}/{ind['indicator_id']}"),
                            indicator_pages.indicator_page(data, code, ind["indicator_id"]), code)
            for a in data.in_gemeente(code):
                if a.level in ("wijk", "buurt"):
                    writer.page("area.html.j2", page_path(a.level, a.code), area_pages.area_page(data, a.code), code)
