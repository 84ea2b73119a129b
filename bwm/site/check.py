"""Checks of a built site that need no browser: every internal link resolves, nothing points off the
machine, and the wijk and buurt pages stay within the page budget.

Used by the publish asset's checks and by the tests. Every ``href``, ``src`` and ``id`` attribute of a page
is read; a fragment (``#thema-gezondheid``) must name an ``id`` on the target page.

The attributes are found with a regular expression, not an HTML parser: the pages are this project's own
templates, which always quote attributes with ``"`` and escape ``"`` inside text, attributes and embedded JSON
(there it is ``\\"``), so `` href="`` only ever starts an attribute. The standard library's parser
gives the same links (``tests/browser/test_site_static.py`` compares them) but reads ~5 MB/s: the 2.4 GB of a
national site took it longer than building the site.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bwm import workers as workers_
from bwm.site.build import PAGE_BUDGET_BYTES

#: A space, not ``\s``: the templates separate attributes with one space, and a literal first character lets the
#: regular expression engine skip ahead (7x faster). The comparison with html.parser in the tests would catch a
#: template that puts an attribute after a line break.
_ATTRIBUTE = re.compile(r' (href|src|id)="([^"]*)"')


@dataclass
class PageLinks:
    refs: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


@dataclass
class LinkReport:
    pages: int = 0
    links: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)  # (page, link)
    external: list[tuple[str, str]] = field(default_factory=list)  # (page, link) leaving the site


def parse(path: Path) -> PageLinks:
    page = PageLinks()
    for name, value in _ATTRIBUTE.findall(path.read_text(encoding="utf-8")):
        if "&" in value:
            value = html.unescape(value)
        if name == "id":
            if value:
                page.ids.add(value)
        else:
            page.refs.append(value)
    return page


#: Pages from which a second process checks half of them (it costs ~1 s to start; a national site has 29,000).
PARALLEL_FROM = 2000


def check_links(site_dir: Path, workers: int | None = None) -> LinkReport:
    """Every ``href`` and ``src`` of every page: broken (no such file, or no such ``id`` for a fragment) or external.

    With many pages, every second page is checked by a second process (``python -m bwm.site.check``; the default
    ``workers`` is the cores, at most 2): the check is Python per link, 1.5 million links on a national site.
    """
    site_dir = Path(site_dir).resolve()
    pages = sorted(str(p) for p in site_dir.rglob("*.html"))
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1)) if len(pages) >= PARALLEL_FROM else 1
    if workers <= 1:
        return _check_pages(site_dir, pages, set(pages))
    jobs = [{"site": str(site_dir), "part": part, "of": workers} for part in range(1, workers)]
    report, others = workers_.run_alongside("bwm.site.check", jobs,
                                            lambda: _check_pages(site_dir, pages[0::workers], set(pages)),
                                            RuntimeError, "a link-check worker")
    for part in others:
        report.links += part["links"]
        report.broken += [tuple(b) for b in part["broken"]]
        report.external += [tuple(e) for e in part["external"]]
    report.pages = len(pages)
    report.broken.sort()
    report.external.sort()
    return report


def _check_pages(site_dir: Path, pages: list[str], files: set[str]) -> LinkReport:
    """Check the links of ``pages`` (absolute paths) against the site's ``files``."""
    root = str(site_dir) + os.sep
    report = LinkReport(pages=len(pages))
    ids: dict[str, set[str]] = {}  # of the pages that fragments point to, read once each
    split: dict[str, tuple] = {}  # ref -> urlsplit(ref): most links repeat from page to page
    targets: dict[tuple[str, str], str] = {}  # (folder, path) -> normalised target
    for page in pages:
        links = parse(Path(page))
        ids[page] = links.ids
        rel = page[len(root):]
        folder = os.path.dirname(page)
        for ref in links.refs:
            report.links += 1
            parts = split.get(ref)
            if parts is None:
                parts = split[ref] = urlsplit(ref)
            if parts.scheme == "data":  # inline (the empty favicon): no request at all
                continue
            if parts.scheme or parts.netloc or ref.startswith("//"):
                report.external.append((rel, ref))
                continue
            if parts.path:
                target = targets.get((folder, parts.path))
                if target is None:  # the site has no symbolic links, so normalising the text is resolving it
                    target = targets[(folder, parts.path)] = os.path.normpath(
                        os.path.join(folder, unquote(parts.path)))
            else:
                target = page
            if not target.startswith(root) or not (target in files or os.path.isfile(target)):
                report.broken.append((rel, ref))
                continue
            if parts.fragment and target.endswith(".html"):
                if target not in ids:
                    ids[target] = parse(Path(target)).ids
                if parts.fragment not in ids[target]:
                    report.broken.append((rel, ref))
        if len(ids) > 1000:  # only the few pages fragments point to are needed again; keep memory flat
            ids = {p: i for p, i in ids.items() if os.path.dirname(p) + os.sep == root}
    return report


def _worker() -> None:
    """``python -m bwm.site.check JOB``: part ``part`` of ``of`` of the site's pages; the report as JSON."""
    job = json.loads(sys.argv[1])
    site_dir = Path(job["site"])
    pages = sorted(str(p) for p in site_dir.rglob("*.html"))
    report = _check_pages(site_dir, pages[job["part"]::job["of"]], set(pages))
    print(json.dumps({"links": report.links, "broken": report.broken, "external": report.external}))


def page_sizes(site_dir: Path, kinds=("wijk", "buurt")) -> dict[str, int]:
    """Bytes of every page of the given kinds (their folder names), by path from the site root."""
    site_dir = Path(site_dir)
    return {str(p.relative_to(site_dir)): p.stat().st_size
            for kind in kinds for p in sorted((site_dir / kind).glob("*.html"))}


def over_budget(site_dir: Path, budget: int = PAGE_BUDGET_BYTES) -> dict[str, int]:
    return {path: size for path, size in page_sizes(site_dir).items() if size > budget}


if __name__ == "__main__":
    _worker()
