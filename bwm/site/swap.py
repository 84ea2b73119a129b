"""The site's folder replaced as a whole: a new site is built beside the target and swapped in when complete.

The new site is built in a fresh folder next to the target (``.<name>-new-<pid>-<random>``, :func:`new_folder`), and
only when every page is written is it swapped in (:func:`swap`): the old site is renamed aside, the new one renamed
into place, the old one deleted. A build that fails half-way removes its own folder and leaves the previous site
exactly as it was. (Between the two renames the target is briefly absent; Python has no portable atomic directory
exchange.) What killed builds leave beside the site is removed by the next one (:func:`clean_leftovers`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bwm.ops.lock import process_alive

#: A half-built folder of a killed build is removed by a later build after this long.
STALE_SECONDS = 3600


def new_folder(site_dir: Path) -> Path:
    """A fresh, empty folder beside ``site_dir`` for the new site, named after this process, readable like any
    folder this process makes (mkdtemp makes it 0700; a site on a file share must be readable)."""
    new = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-new-{os.getpid()}-", dir=site_dir.parent))
    os.chmod(new, 0o777 & ~_umask())
    return new


def swap(new: Path, site_dir: Path) -> None:
    """Put the complete site ``new`` in the place of ``site_dir`` (and delete the old one); on failure the old site
    is put back."""
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


def clean_leftovers(site_dir: Path) -> None:
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
