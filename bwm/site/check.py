"""Checks of a built site that need no browser: every internal link resolves, nothing points off the
machine, and the wijk and buurt pages stay within the page budget.

Used by the publish asset's checks and by the tests. Links are read with the standard library's HTML
parser: ``href`` and ``src`` of every element; a fragment (``#thema-gezondheid``) must name an ``id`` on the
target page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bwm.site.build import PAGE_BUDGET_BYTES


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.refs.append(value)
            if name == "id" and value:
                self.ids.add(value)


@dataclass
class LinkReport:
    pages: int = 0
    links: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)  # (page, link)
    external: list[tuple[str, str]] = field(default_factory=list)  # (page, link) leaving the site


def parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def check_links(site_dir: Path) -> LinkReport:
    site_dir = Path(site_dir).resolve()
    pages = sorted(site_dir.rglob("*.html"))
    parsed = {p.resolve(): parse(p) for p in pages}
    report = LinkReport(pages=len(pages))
    for page, links in parsed.items():
        rel = str(page.relative_to(site_dir))
        for ref in links.refs:
            report.links += 1
            parts = urlsplit(ref)
            if parts.scheme == "data":  # inline (the empty favicon): no request at all
                continue
            if parts.scheme or parts.netloc or ref.startswith("//"):
                report.external.append((rel, ref))
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if not target.is_file() or site_dir not in target.parents:
                report.broken.append((rel, ref))
                continue
            if parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if parts.fragment not in ids:
                    report.broken.append((rel, ref))
    return report


def page_sizes(site_dir: Path, kinds=("wijk", "buurt")) -> dict[str, int]:
    """Bytes of every page of the given kinds (their folder names), by path from the site root."""
    site_dir = Path(site_dir)
    return {str(p.relative_to(site_dir)): p.stat().st_size
            for kind in kinds for p in sorted((site_dir / kind).glob("*.html"))}


def over_budget(site_dir: Path, budget: int = PAGE_BUDGET_BYTES) -> dict[str, int]:
    return {path: size for path, size in page_sizes(site_dir).items() if size > budget}
