"""Reusing the pages of unchanged gemeenten: what the site's fingerprints are made of, and taking pages over.

A gemeente's pages are taken over from the previous site (hard links, or copies across file systems) when its
fingerprint is the one the previous build recorded (``bwm.incremental``: its rows in every scoped table of the
publish model, doubles to ``FINGERPRINT_DECIMALS``; what every page shares; the code version).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bwm import geo, incremental
from bwm.site import data as site_data
from bwm.site import pages

#: The code and templates that make the pages: a change to any of them rebuilds every page.
_CODE = [Path(__file__).parent, pages.TEMPLATES, pages.STATIC, Path(geo.__file__)]
#: The libraries that write bytes of the pages.
_LIBRARIES = ("plotly", "jinja2")
#: Decimals of a double in the fingerprints: finer than any page shows, coarser than floating-point jitter.
FINGERPRINT_DECIMALS = 6


def code_version() -> str:
    """The version of the code that makes the pages, derived from its files (``incremental.code_version``)."""
    return incremental.code_version(_CODE, _LIBRARIES)


def fingerprints(con, data: site_data.SiteData) -> dict[str, str]:
    """``{gemeente code: fingerprint}``: what the pages of a gemeente are made of, hashed.

    Per gemeente: its rows in every publish table with a gemeente code (the pages read them all), doubles rounded
    to ``FINGERPRINT_DECIMALS`` (pages show at most 4; DuckDB's parallel aggregates leave ~1e-13 of run-to-run
    jitter in the theme scores, which would otherwise make every gemeente "changed"). Shared by every page: the
    catalogue, the national figures, the CBS tables, the area-wide facts (latest year, first year, synthetic), the
    boundary files of the mirror, and the code and templates.
    """
    shared = {"catalogue": data.catalogue, "themes": data.theme_names, "national": data.national,
              "national_name": data.national_name, "tables": data.tables, "synthetic": data.synthetic,
              "latest_year": data.latest_kwb_year, "first_year": data.first_year,
              "concentration_basis": data.concentration_basis, "geo": _geo_state(data)}
    return incremental.fingerprints(con, code_version(), sorted(shared.items(), key=lambda kv: kv[0]),
                                    decimals=FINGERPRINT_DECIMALS)


def _geo_state(data: site_data.SiteData) -> list:
    if data.mirror_dir is None or not (data.mirror_dir / "geo").is_dir():
        return []
    return [[str(p.relative_to(data.mirror_dir)), p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted((data.mirror_dir / "geo").rglob("*")) if p.is_file()]


def reuse(recorded: dict[str, incremental.Entry], prints: dict[str, str], codes: list[str], site_dir: Path,
          writer: pages.PageWriter) -> set[str]:
    """Link the pages of every gemeente whose fingerprint is the one ``recorded`` from the previous site in
    ``site_dir`` into ``writer``'s folder, and count them there; returns those gemeenten."""
    reused = set()
    for code in codes:
        entry = recorded.get(code)
        if entry is None or not entry.files or entry.fingerprint != prints.get(code):
            continue
        if _link_pages(site_dir, writer.root, entry.files):
            writer.count_gemeente(code, entry.files)
            reused.add(code)
    return reused


def entries(prints: dict[str, str], codes: list[str], writer: pages.PageWriter) -> dict[str, incremental.Entry]:
    """What the new site records of each gemeente: its fingerprint and the pages in the folder."""
    return {code: incremental.Entry(prints[code], writer.by_gemeente.get(code, {})) for code in codes if code in prints}


def _link_pages(site_dir: Path, root: Path, files: dict) -> bool:
    """Hard-link (or copy) these pages from the previous site; all or none (a page written later into a link
    would change the previous site too, so a half-linked gemeente is unlinked again)."""
    done: list[Path] = []
    try:
        for path in files:
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
