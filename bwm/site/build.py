"""Build the static site from the warehouse, atomically and incrementally: what ``bwm site`` and the asset call.

The build reads the publish model (bwm.site.data), takes over the pages of every gemeente whose data did not change
since the previous build (bwm.site.reuse), renders the others (bwm.site.pages; with many, in two processes:
bwm.site.worker) into a new folder beside the site, and swaps that in when it is complete (bwm.site.swap), so a
build that fails half-way leaves the previous site exactly as it was.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bwm import incremental, warehouse
from bwm.site import data as site_data
from bwm.site import maps, overview, pages, swap, worker
from bwm.site import reuse as site_reuse
from bwm.site.pages import Progress, SiteBuildError

__all__ = ["BuildResult", "SiteBuildError", "build_site", "read_manifest"]

MANIFEST = "manifest.json"
#: Gemeenten to render from which a second process pays for itself (it loads the base data itself, ~2 s).
PARALLEL_FROM = 12
#: The budget of a wijk or buurt page, without the shared plotly.min.js (issue 4).
PAGE_BUDGET_BYTES = 300 * 1024


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


@dataclass(frozen=True)
class _Build:
    """One build: where it reads and writes, and how."""

    warehouse_path: Path
    site_dir: Path  # the site as readers see it (the previous one, until the swap)
    root: Path  # the folder the new site is written into
    built_at: str
    say: Progress
    workers: int | None


def read_manifest(site_dir: Path) -> dict | None:
    try:
        with open(Path(site_dir) / MANIFEST, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None


def build_site(warehouse_path: Path, site_dir: Path, mirror_dir: Path | None = None,
               progress: Progress | None = None, built_at: str | None = None, reuse: bool = True,
               workers: int | None = None) -> BuildResult:
    """Build the whole site from the warehouse into ``site_dir``; the previous site stays until it is done.

    With ``reuse`` (the default) the pages of a gemeente whose data did not change since the previous build
    (same fingerprint, see :func:`bwm.site.reuse.fingerprints`) are taken over from the previous site (hard links,
    or copies across file systems) instead of rendered again; their footer keeps the date they were made.
    ``workers`` (default: the cores, at most 2) processes render the other gemeenten when there are many.
    """
    started = time.monotonic()
    site_dir = Path(site_dir).resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    swap.clean_leftovers(site_dir)
    built_at = built_at or datetime.now(UTC).replace(microsecond=0).isoformat()
    previous = read_manifest(site_dir)
    recorded = incremental.read_state(site_dir) if reuse else {}

    with warehouse.connect(warehouse_path, read_only=True) as con:
        data = site_data.load_base(con, mirror_dir)
        if not data.gemeenten():
            raise SiteBuildError(f"The warehouse {warehouse_path} holds no gemeente; run the refresh first.")
        prints = site_reuse.fingerprints(con, data)
        # The areas live for the whole build: keep them out of the garbage collector's full passes.
        gc.collect()
        gc.freeze()
        maps._year_shapes.cache_clear()
        new = swap.new_folder(site_dir)
        try:
            build = _Build(Path(warehouse_path), site_dir, new, built_at, progress or (lambda _m: None), workers)
            result = _render(con, build, data, previous, recorded, prints)
            swap.swap(new, site_dir)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
        finally:
            gc.unfreeze()
    result.site_dir = site_dir
    result.index = site_dir / "index.html"
    result.seconds = time.monotonic() - started
    return result


def _render(con, build: _Build, data: site_data.SiteData, previous: dict | None,
            recorded: dict[str, incremental.Entry], prints: dict[str, str]) -> BuildResult:
    """Every file of the new site in ``build.root``: assets, overview pages, the gemeenten's pages (taken over or
    rendered), the manifest and the state the next build reuses pages by."""
    change_list = overview.changes(previous, overview.table_state(data), build.built_at)
    writer = pages.PageWriter(build.root, pages.environment(), pages.common(data, build.built_at))
    pages.write_assets(build.root, data)
    pages.write_overview(writer, data, change_list)

    codes = [g.code for g in data.gemeenten()]
    reused = site_reuse.reuse(recorded, prints, codes, build.site_dir, writer)
    todo = [c for c in codes if c not in reused]
    if reused:
        build.say(f"site: {len(reused)} gemeenten unchanged since the previous build, {len(todo)} to build")
    _render_gemeenten(con, build, data, writer, todo)

    (build.root / MANIFEST).write_text(json.dumps(
        overview.manifest(data, build.built_at, change_list, writer.pages), ensure_ascii=False, indent=1),
        encoding="utf-8")
    incremental.write_state(build.root, site_reuse.entries(prints, codes, writer))
    return BuildResult(site_dir=build.root, index=build.root / "index.html", pages=writer.pages,
                       largest=writer.largest, changes=change_list, synthetic=data.synthetic, rendered=len(todo),
                       reused=len(reused))


def _render_gemeenten(con, build: _Build, data: site_data.SiteData, writer: pages.PageWriter,
                      todo: list[str]) -> None:
    """The pages of the gemeenten in ``todo``: in this process, or split over ``build.workers`` processes when
    there are at least ``PARALLEL_FROM``."""
    workers = build.workers if build.workers is not None else max(1, min(2, os.cpu_count() or 1))
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        worker.render_alongside(con, data, writer, [todo[i::workers] for i in range(workers)], build.warehouse_path,
                                build.built_at, build.say)
    else:
        pages.render_gemeenten(con, data, writer, todo, build.say)
