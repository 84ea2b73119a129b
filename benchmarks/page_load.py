"""How long the heaviest gemeente page takes to load from ``file://`` in Chromium, until its charts are drawn.

    python -m benchmarks.page_load SITE [--runs 7] [--page gemeente/GM9901.html]

Opens the largest page of ``SITE/gemeente/`` (or ``--page``) ``--runs`` times, each in a fresh browser context
(nothing cached), in Debian's headless Chromium through Playwright as the browser tests do, and reports the
median and range of three times, in milliseconds from the start of the navigation:

* ``load``: the load event (the HTML parsed, site.css, plotly.js and site.js read and run);
* ``first_view``: the charts in the first screen (1280 x 900) drawn, as a reader sees them;
* ``all_charts``: every chart of the page drawn (``BWM.renderAll()`` after the load, as printing does).

It also prints the size of ``assets/plotly.min.js``. A measurement, not a test; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
#: Every chart in view drawn: the lazily drawn ones outside the first screen do not count.
FIRST_VIEW = """() => Array.from(document.querySelectorAll('.plot')).filter(d => {
    const r = d.getBoundingClientRect(); return !d.hidden && r.top < innerHeight && r.bottom > 0;
}).every(d => d.dataset.state === 'drawn')"""
ALL_DRAWN = "() => Array.from(document.querySelectorAll('.plot')).every(d => d.hidden || d.dataset.state === 'drawn')"


def heaviest(site: Path) -> Path:
    pages = sorted(site.glob("gemeente/*.html"), key=lambda p: (-p.stat().st_size, p.name))
    if not pages:
        raise SystemExit(f"no gemeente pages in {site}/gemeente: build the site first (bwm demo or bwm site build)")
    return pages[0]


def measure(page_file: Path, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: run `make browser`")
    times: dict[str, list[float]] = {"load": [], "first_view": [], "all_charts": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(page_file.as_uri(), wait_until="load")
                times["load"].append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
                page.wait_for_function(FIRST_VIEW, polling=10)
                times["first_view"].append(page.evaluate("performance.now()"))
                page.evaluate("() => window.BWM.renderAll()")
                page.wait_for_function(ALL_DRAWN, polling=10)
                times["all_charts"].append(page.evaluate("performance.now()"))
                context.close()
        finally:
            browser.close()
    plotly = page_file.parents[1] / "assets" / "plotly.min.js"
    return {"page": str(page_file), "page_bytes": page_file.stat().st_size, "plotly_bytes": plotly.stat().st_size,
            "runs": runs, **{k: {"median_ms": round(statistics.median(v)), "min_ms": round(min(v)),
                                 "max_ms": round(max(v))} for k, v in times.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="a built site folder (e.g. data/site)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--page", help="a page inside SITE (default: the largest gemeente page)")
    args = parser.parse_args(argv)
    page = args.site / args.page if args.page else heaviest(args.site)
    print(json.dumps(measure(page.resolve(), args.runs), indent=2))


if __name__ == "__main__":
    main()
