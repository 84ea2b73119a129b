"""Where the site build spends its time, without building all ~20,000 pages of a national warehouse.

    python -m benchmarks.profile_site WAREHOUSE MIRROR [--gemeenten 3] [--areas 200] [--profile OUT.txt]

Loads the site data once (timed, with the memory it takes), then renders every page of the first few
gemeenten (the gemeente page and its indicator pages) and a sample of wijk and buurt pages with the site's own
functions (``bwm.site``), and extrapolates to the whole site: seconds per page of each kind x the pages of that
kind. ``--profile`` runs the same under pyinstrument and writes its text report (functions by time).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path


def run(warehouse: Path, mirror: Path, n_gemeenten: int, n_areas: int) -> dict:
    from bwm.site import area as area_pages
    from bwm.site import data as site_data
    from bwm.site import gemeente as gemeente_pages
    from bwm.site import indicator as indicator_pages
    from bwm.site import pages
    from bwm.site.common import page_path

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    data = site_data.load(warehouse, mirror)
    load_seconds = time.perf_counter() - started
    rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    common = {"synthetic": data.synthetic, "built_at": "1 januari 2025", "national_name": data.national_name,
              "site_title": "Brede Welvaart Monitor", "page_path": page_path, "latest_year": data.latest_kwb_year}
    gemeenten = data.gemeenten()
    areas = sorted((a for a in data.areas.values() if a.level in ("wijk", "buurt") and a.gemeente_code in data.areas),
                   key=lambda a: a.code)
    counts = {"gemeente": len(gemeenten), "indicator": sum(len(data.indicators_for(g.code)) for g in gemeenten[:5])
              / min(5, len(gemeenten)) * len(gemeenten),
              "wijk": sum(a.level == "wijk" for a in areas), "buurt": sum(a.level == "buurt" for a in areas)}
    seconds = {k: 0.0 for k in counts}
    rendered = {k: 0 for k in counts}
    with tempfile.TemporaryDirectory() as tmp:
        writer = pages.PageWriter(Path(tmp), pages.environment(), common)

        def page(kind, template, path, make):
            t = time.perf_counter()
            writer.page(template, path, make())
            seconds[kind] += time.perf_counter() - t
            rendered[kind] += 1

        for g in gemeenten[:n_gemeenten]:
            page("gemeente", "gemeente.html.j2", page_path("gemeente", g.code),
                 lambda g=g: gemeente_pages.gemeente_page(data, g.code))
            for ind in data.indicators_for(g.code):
                page("indicator", "indicator.html.j2", page_path("indicator", f"{g.code}/{ind['indicator_id']}"),
                     lambda g=g, ind=ind: indicator_pages.indicator_page(data, g.code, ind["indicator_id"]))
        sample = random.Random(1).sample(areas, min(n_areas, len(areas)))
        for a in sample:
            page(a.level, "area.html.j2", page_path(a.level, a.code), lambda a=a: area_pages.area_page(data, a.code))
    per_page = {k: seconds[k] / rendered[k] for k in counts if rendered[k]}
    estimate = {k: per_page[k] * counts[k] for k in per_page}
    return {"load_seconds": round(load_seconds, 2), "load_rss_increase_bytes": (rss_load - rss0) * 1024,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "pages": {k: round(v) for k, v in counts.items()}, "rendered": rendered,
            "ms_per_page": {k: round(v * 1000, 1) for k, v in per_page.items()},
            "estimated_seconds": {k: round(v, 1) for k, v in estimate.items()},
            "estimated_total_seconds": round(load_seconds + sum(estimate.values()), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse")
    parser.add_argument("mirror")
    parser.add_argument("--gemeenten", type=int, default=3)
    parser.add_argument("--areas", type=int, default=200)
    parser.add_argument("--profile", help="write a pyinstrument text report here")
    args = parser.parse_args(argv)
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    result = run(Path(args.warehouse), Path(args.mirror), args.gemeenten, args.areas)
    if args.profile:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
