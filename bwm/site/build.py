"""Build the static site from the warehouse, atomically.

The site is built into a fresh folder next to the target (``.<name>-new-<pid>-<random>``), and only when every
page is written is it swapped in: the old site is renamed aside, the new one renamed into place, the old one
deleted. A build that fails half-way removes its own folder and leaves the previous site exactly as it was.
(Between the two renames the target is briefly absent; Python has no portable atomic directory exchange.)

Pages are rendered with Jinja2 with autoescaping on for every template, so text from data (a neighbourhood
called ``<script>``) is always shown as text; JSON inside pages goes through Jinja's ``tojson``, which
escapes ``<``, ``>``, ``&`` and ``'``. plotly.js is copied once to ``assets/plotly.min.js`` from the
installed plotly package (never a CDN), and every page refers to it; figures are embedded as JSON.
"""

from __future__ import annotations

import gc
import hashlib
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

from bwm import geo, warehouse
from bwm import workers as workers_
from bwm.ops.lock import process_alive
from bwm.settings import PROJECT_ROOT
from bwm.site import area as area_pages
from bwm.site import data as site_data
from bwm.site import format as fmt
from bwm.site import gemeente as gemeente_pages
from bwm.site import indicator as indicator_pages
from bwm.site import maps, overview
from bwm.site.common import depth, page_path, table_html

TEMPLATES = PROJECT_ROOT / "dashboards" / "templates"
STATIC = PROJECT_ROOT / "dashboards" / "static"
MANIFEST = "manifest.json"
#: What the previous build wrote per gemeente and from which data (fingerprints), to reuse unchanged pages.
STATE = "build-state.json"
STATE_VERSION = 1
#: Gemeenten whose figures are held in memory at once (a national warehouse is 4 GiB of Python objects whole).
SCOPE_BATCH = 25
#: Gemeenten to render from which a second process pays for itself (it loads the base data itself, ~2 s).
PARALLEL_FROM = 12
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
    rendered: int = 0  # gemeenten whose pages were rendered in this build
    reused: int = 0  # gemeenten whose pages were taken over unchanged from the previous build
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
    env.globals["table_html"] = table_html
    return env


def read_manifest(site_dir: Path) -> dict | None:
    try:
        with open(Path(site_dir) / MANIFEST, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None


def _clean_leftovers(site_dir: Path) -> None:
    """Remove what killed builds left beside the site: swapped-out old sites, and half-built new ones.

    A new folder carries its builder's process id (``.<name>-new-<pid>-<random>``); it is removed as soon as that
    process is gone (a national half-built site is 2.5 GB), and otherwise only when it is older than
    ``STALE_SECONDS`` (a folder of another build that is still running is left alone).
    """
    now = time.time()
    for p in site_dir.parent.glob(f".{site_dir.name}-*"):
        if not p.is_dir():
            continue
        builder = _builder_pid(p.name, site_dir.name)
        dead = builder is not None and builder != os.getpid() and not process_alive(builder)
        if "-old-" in p.name or dead or now - p.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(p, ignore_errors=True)


def _builder_pid(name: str, site_name: str) -> int | None:
    prefix = f".{site_name}-new-"
    if not name.startswith(prefix):
        return None
    pid = name[len(prefix):].split("-", 1)[0]
    return int(pid) if pid.isdigit() else None



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
        self.by_gemeente: dict[str, dict[str, list]] = {}  # gemeente code -> page path -> [kind, bytes]
        self.gemeente: str | None = None  # the gemeente whose pages are being written

    def page(self, template: str, path: str, context: dict) -> None:
        prefix = "../" * depth(path)
        html = self.env.get_template(template).render(**self.common, **context, root=prefix, path=path)
        write_page(self.root / path, html)
        self.count(path, context.get("kind", template), len(html.encode("utf-8")))

    def count(self, path: str, kind: str, size: int) -> None:
        self.pages[kind] = self.pages.get(kind, 0) + 1
        if size > self.largest.get(kind, ("", -1))[1] or (
                size == self.largest[kind][1] and path < self.largest[kind][0]):
            self.largest[kind] = (path, size)
        if self.gemeente is not None:
            self.by_gemeente.setdefault(self.gemeente, {})[path] = [kind, size]


def write_page(path: Path, html: str) -> None:
    """Write one page (a separate function so tests can make a build fail half-way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def build_site(warehouse_path: Path, site_dir: Path, mirror_dir: Path | None = None,
               progress: Progress | None = None, built_at: str | None = None, reuse: bool = True,
               workers: int | None = None) -> BuildResult:
    """Build the whole site from the warehouse into ``site_dir``; the previous site stays until it is done.

    With ``reuse`` (the default) the pages of a gemeente whose data did not change since the previous build
    (same fingerprint, see :func:`fingerprints`) are taken over from the previous site (hard links, or copies
    across file systems) instead of rendered again; their footer keeps the date they were made. ``workers``
    (default: the cores, at most 2) processes render the other gemeenten when there are many.
    """
    say = progress or (lambda _m: None)
    started = time.monotonic()
    site_dir = Path(site_dir).resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(site_dir)
    built_at = built_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    previous = read_manifest(site_dir)
    state = read_state(site_dir) if reuse else None

    with warehouse.connect(warehouse_path, read_only=True) as con:
        data = site_data.load_base(con, mirror_dir)
        if not data.gemeenten():
            raise SiteBuildError(f"The warehouse {warehouse_path} holds no gemeente; run the refresh first.")
        prints = fingerprints(con, data)
        # The areas live for the whole build: keep them out of the garbage collector's full passes.
        gc.collect()
        gc.freeze()
        maps._year_shapes.cache_clear()
        new = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-new-{os.getpid()}-", dir=site_dir.parent))
        try:
            os.chmod(new, 0o777 & ~_umask())  # mkdtemp makes it 0700; a site on a file share must be readable
            result = _render(con, Path(warehouse_path), data, new, site_dir, previous, state, prints, built_at, say,
                             workers)
            _swap(new, site_dir)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
        finally:
            gc.unfreeze()
    result.site_dir = site_dir
    result.index = site_dir / "index.html"
    result.seconds = time.monotonic() - started
    return result


def _common(data: site_data.SiteData, built_at: str) -> dict:
    return {"synthetic": data.synthetic, "built_at": fmt.date_nl(built_at), "national_name": data.national_name,
            "site_title": "Brede Welvaart Monitor", "page_path": page_path, "latest_year": data.latest_kwb_year}


def _render(con, warehouse_path: Path, data: site_data.SiteData, root: Path, site_dir: Path, previous: dict | None,
            state: dict | None, prints: dict, built_at: str, say: Progress, workers: int | None) -> BuildResult:
    map_years = {}
    if data.mirror_dir is not None:
        map_years = {y: "buurten" in layers for y, layers in geo.available(data.mirror_dir).items()}
    change_list = overview.changes(previous, overview.table_state(data), built_at)
    writer = _Writer(root, environment(), _common(data, built_at))

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

    codes = [g.code for g in data.gemeenten()]
    reused = _reuse(state, prints, codes, site_dir, root, writer)
    todo = [c for c in codes if c not in reused]
    if reused:
        say(f"site: {len(reused)} gemeenten unchanged since the previous build, {len(todo)} to build")
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1))
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        parts = [todo[i::workers] for i in range(workers)]
        jobs = [{"warehouse": str(warehouse_path), "mirror": str(data.mirror_dir) if data.mirror_dir else None,
                 "root": str(root), "built_at": built_at, "codes": part} for part in parts[1:]]
        _, others = workers_.run_alongside("bwm.site.worker", jobs,
                                           lambda: render_gemeenten(con, data, writer, parts[0], say),
                                           SiteBuildError, "a site worker")
        for written in others:
            for code, pages in written.items():
                writer.gemeente = code
                for path, (kind, size) in pages.items():
                    writer.count(path, kind, size)
        writer.gemeente = None
    else:
        render_gemeenten(con, data, writer, todo, say)

    (root / MANIFEST).write_text(json.dumps(
        overview.manifest(data, built_at, change_list, writer.pages), ensure_ascii=False, indent=1), encoding="utf-8")
    (root / STATE).write_text(json.dumps({
        "version": STATE_VERSION, "global": prints["global"],
        "gemeenten": {code: {"fingerprint": prints["gemeenten"].get(code), "pages": writer.by_gemeente.get(code, {})}
                      for code in codes}}, separators=(",", ":")), encoding="utf-8")
    return BuildResult(site_dir=root, index=root / "index.html", pages=writer.pages, largest=writer.largest,
                       changes=change_list, synthetic=data.synthetic, rendered=len(todo), reused=len(reused))


def render_gemeenten(con, data: site_data.SiteData, writer: _Writer, codes: list[str], say: Progress) -> None:
    """Every page of these gemeenten: the gemeente page, its indicator pages and its wijk and buurt pages; their
    figures are loaded a batch of gemeenten at a time."""
    for start in range(0, len(codes), SCOPE_BATCH):
        batch = codes[start:start + SCOPE_BATCH]
        site_data.load_scope(con, data, batch)
        for code in batch:
            g = data.areas[code]
            say(f"site: {g.name}")
            writer.gemeente = code
            writer.page("gemeente.html.j2", page_path("gemeente", code), gemeente_pages.gemeente_page(data, code))
            for ind in data.indicators_for(code):
                writer.page("indicator.html.j2", page_path("indicator", f"{code}/{ind['indicator_id']}"),
                            indicator_pages.indicator_page(data, code, ind["indicator_id"]))
            for a in data.in_gemeente(code):
                if a.level in ("wijk", "buurt"):
                    writer.page("area.html.j2", page_path(a.level, a.code), area_pages.area_page(data, a.code))
        writer.gemeente = None


# --- reusing the pages of unchanged gemeenten -----------------------------------------------------------------

#: The code and templates that make the pages: a change to any of them rebuilds every page.
_CODE = [Path(__file__).parent, TEMPLATES, STATIC, Path(geo.__file__)]


def _code_version() -> str:
    import plotly

    digest = hashlib.sha256(f"{STATE_VERSION} plotly {plotly.__version__} jinja2 {jinja2.__version__}".encode())
    for base in _CODE:
        for path in sorted([base] if base.is_file() else base.rglob("*")):
            if path.is_file() and path.suffix != ".pyc":
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


#: Decimals of a double in the fingerprints: finer than any page shows, coarser than floating-point jitter.
FINGERPRINT_DECIMALS = 6
#: The tables a gemeente's pages are made of, each with the column that names the gemeente.
_SCOPED_TABLES = ("publish.areas", "publish.values", "publish.theme_scores", "publish.divide_measures",
                  "publish.divide_trends")


def fingerprints(con, data: site_data.SiteData) -> dict:
    """``{'global': ..., 'gemeenten': {code: ...}}``: what the pages of a gemeente are made of, hashed.

    Per gemeente: every row (all columns, doubles to ``FINGERPRINT_DECIMALS``) of the tables in ``_SCOPED_TABLES``
    with its gemeente code, hashed and summed as 128-bit integers (order does not matter, a duplicated row does). Global, shared by every page: the catalogue,
    the national figures, the CBS tables, the area-wide facts (latest year, first year, synthetic), the boundary
    files of the mirror, and the code and templates. Over-inclusive on purpose: a page rebuilt for nothing costs
    milliseconds, a stale page would be wrong.
    """
    parts: dict[str, list[str]] = {}
    for table in _SCOPED_TABLES:
        # Doubles rounded to 6 decimals (pages show at most 4): DuckDB's parallel aggregates leave ~1e-13 of
        # run-to-run jitter in the theme scores, which would otherwise make every gemeente "changed".
        columns = ", ".join(f"round({name}, {FINGERPRINT_DECIMALS})" if kind in ("DOUBLE", "FLOAT") else name
                            for name, kind, *_ in con.execute(f"describe {table}").fetchall())
        for code, total in con.execute(
                f"select gemeente_code, sum(hash({columns})::hugeint)::varchar from {table} "
                "where gemeente_code is not null group by 1").fetchall():
            parts.setdefault(code, []).append(f"{table}={total}")
    shared = {"catalogue": data.catalogue, "themes": data.theme_names, "national": data.national,
              "national_name": data.national_name, "tables": data.tables, "synthetic": data.synthetic,
              "latest_year": data.latest_kwb_year, "first_year": data.first_year,
              "concentration_basis": data.concentration_basis, "code": _code_version(), "geo": _geo_state(data)}
    glob = hashlib.sha256(json.dumps(shared, sort_keys=True, default=str).encode()).hexdigest()
    return {"global": glob, "gemeenten": {
        code: hashlib.sha256("\n".join(sorted(p)).encode()).hexdigest() for code, p in parts.items()}}


def _geo_state(data: site_data.SiteData) -> list:
    if data.mirror_dir is None or not (data.mirror_dir / "geo").is_dir():
        return []
    return [[str(p.relative_to(data.mirror_dir)), p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted((data.mirror_dir / "geo").rglob("*")) if p.is_file()]


def read_state(site_dir: Path) -> dict | None:
    try:
        with open(Path(site_dir) / STATE, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None
    ok = isinstance(state, dict) and state.get("version") == STATE_VERSION and isinstance(state.get("gemeenten"), dict)
    return state if ok else None


def _reuse(state: dict | None, prints: dict, codes: list[str], site_dir: Path, root: Path, writer: _Writer) -> set:
    """Link the pages of every gemeente whose fingerprint is unchanged from the previous site into the new one."""
    if not state or state.get("global") != prints["global"]:
        return set()
    reused = set()
    for code in codes:
        entry = state["gemeenten"].get(code)
        if not isinstance(entry, dict) or not entry.get("pages") or \
                entry.get("fingerprint") != prints["gemeenten"].get(code):
            continue
        if _link_pages(site_dir, root, entry["pages"]):
            writer.gemeente = code
            for path, (kind, size) in entry["pages"].items():
                writer.count(path, kind, size)
            reused.add(code)
    writer.gemeente = None
    return reused


def _link_pages(site_dir: Path, root: Path, pages: dict) -> bool:
    """Hard-link (or copy) these pages from the previous site; all or none (a page written later into a link
    would change the previous site too, so a half-linked gemeente is unlinked again)."""
    done: list[Path] = []
    try:
        for path in pages:
            src, dst = site_dir / path, root / path
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                if not src.is_file():
                    raise
                shutil.copyfile(src, dst)
            done.append(dst)
    except OSError:
        for p in done:
            p.unlink(missing_ok=True)
        return False
    return True


# --- the second process ----------------------------------------------------------------------------------------

def render_part(job: dict) -> dict:
    """The worker's half: render the pages of ``job['codes']`` into ``job['root']``; returns what it wrote."""
    with warehouse.connect(Path(job["warehouse"]), read_only=True) as con:
        data = site_data.load_base(con, Path(job["mirror"]) if job["mirror"] else None)
        gc.collect()
        gc.freeze()
        writer = _Writer(Path(job["root"]), environment(), _common(data, job["built_at"]))
        render_gemeenten(con, data, writer, job["codes"], lambda _m: None)
    return writer.by_gemeente
