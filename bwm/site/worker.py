"""The site's pages rendered in a second process: ``python -m bwm.site.worker JOB`` (:func:`render_alongside`).

JOB is JSON: warehouse, mirror, root (the new site folder), built_at and the gemeente codes to render. Prints
``{gemeente code: {page path: [kind, bytes]}}`` as JSON on stdout; errors go to stderr with a non-zero exit.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

from bwm import warehouse
from bwm import workers as workers_
from bwm.site import data as site_data
from bwm.site import pages


def render_alongside(con, data: site_data.SiteData, writer: pages.PageWriter, parts: list[list[str]],
                     warehouse_path: Path, built_at: str, say: pages.Progress) -> None:
    """Render the gemeenten of ``parts[0]`` here through ``con`` and each other part in a worker process (its own
    read-only connection) into ``writer``'s folder, and count the workers' pages in ``writer``."""
    jobs = [{"warehouse": str(warehouse_path), "mirror": str(data.mirror_dir) if data.mirror_dir else None,
             "root": str(writer.root), "built_at": built_at, "codes": part} for part in parts[1:]]
    _, others = workers_.run_alongside("bwm.site.worker", jobs,
                                       lambda: pages.render_gemeenten(con, data, writer, parts[0], say),
                                       pages.SiteBuildError, "a site worker")
    for written in others:
        for code, paths in written.items():
            writer.count_gemeente(code, paths)


def render_part(job: dict) -> dict:
    """The worker's part: render the pages of ``job['codes']`` into ``job['root']``; returns what it wrote."""
    with warehouse.connect(Path(job["warehouse"]), read_only=True) as con:
        data = site_data.load_base(con, Path(job["mirror"]) if job["mirror"] else None)
        gc.collect()
        gc.freeze()
        writer = pages.PageWriter(Path(job["root"]), pages.environment(), pages.common(data, job["built_at"]))
        pages.render_gemeenten(con, data, writer, job["codes"], lambda _m: None)
    return writer.by_gemeente


if __name__ == "__main__":
    print(json.dumps(render_part(json.loads(sys.argv[1]))))
