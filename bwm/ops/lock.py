"""One refresh at a time: an exclusive lock next to the warehouse file, held for a whole run.

DuckDB already refuses a second writer while a connection is open, but a refresh opens and closes the
warehouse once per asset, so two refreshes could interleave between assets. The lock covers the whole
run. It is an OS-level `flock`, so a process that dies (even by SIGKILL) releases it: the next run never
needs a manual step to clear a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (someone else's counts: it exists, we may not signal it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RefreshLocked(RuntimeError):
    """Another refresh holds the lock; the message says which and what to do."""


def lock_path(warehouse_path: Path) -> Path:
    return Path(str(warehouse_path) + ".lock")


@contextmanager
def refresh_lock(warehouse_path: Path, owner: str = "") -> Iterator[Path]:
    """Hold the refresh lock of ``warehouse_path`` or raise :class:`RefreshLocked` at once (never waits)."""
    path = lock_path(warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise RefreshLocked(
                f"Another refresh is writing {warehouse_path} ({holder}). This run stops without changing "
                "anything; the running refresh will finish the work. Try again when it is done."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "owner": owner, "since": time.strftime(
            "%Y-%m-%dT%H:%M:%S%z")}).encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "holder unknown"
    return f"pid {info.get('pid')}, {info.get('owner') or 'unknown run'}, since {info.get('since')}"
