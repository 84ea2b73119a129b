"""What changed since the last refresh: CBS tables (their `Modified`) and municipal files (their bytes).

Used by the nightly schedule to decide whether to run at all, and which raw assets to refresh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bwm import warehouse
from bwm.cbs import mirror
from bwm.registry import CbsTable
from bwm.settings import Settings
from bwm.sources import expected_tables


@dataclass(frozen=True)
class TableChange:
    table: CbsTable
    mirror_modified: str | None
    cbs_modified: str | None

    @property
    def reason(self) -> str:
        if self.mirror_modified is None:
            return "not in the mirror yet"
        return f"CBS Modified {self.cbs_modified} (mirror has {self.mirror_modified})"


def changed_cbs_tables(settings: Settings) -> list[TableChange]:
    """The expected tables whose CBS `Modified` differs from the mirror's (or that the mirror lacks).

    Asks CBS only for the catalogue entry of each table (a few hundred bytes each), never for data.
    With BWM_SOURCE=demo or mirror nothing can change upstream, so only missing tables are reported.
    """
    changes = []
    for table in expected_tables(settings):
        manifest = mirror.read_manifest(settings.mirror_dir, table.table_id)
        have = manifest.get("modified") if manifest else None
        if settings.source == "live":
            from bwm.cbs import client

            now = client.table_modified(table.table_id, settings=settings)  # asks the table's own catalogue host
        else:
            now = have
        if have is None or now != have:
            changes.append(TableChange(table, have, now))
    return changes


DATA_SUFFIXES = {".csv", ".xlsx"}


def current_files(folder: Path, max_mb: float | None = None) -> dict[str, str | None]:
    """{file name: sha256} of every data file in the municipal drop folder, as its scan sees the folder.

    The same entries as ``bwm.municipal.folder.listing`` (no subfolders, no ignored names): an entry that is not a
    regular file (a link, a pipe) or is larger than ``BWM_MUNICIPAL_MAX_MB`` is never opened and has no sha256
    (None), as its file status has; a regular file is hashed in blocks, never read whole.
    """
    from bwm.municipal.folder import entry_kind, listing

    folder = Path(folder)
    if not folder.is_dir():
        return {}
    limit = (Settings.municipal_max_mb if max_mb is None else max_mb) * 1024 * 1024
    found: dict[str, str | None] = {}
    for name, mode in listing(folder).items():
        path = folder / name
        if path.suffix.lower() not in DATA_SUFFIXES:
            continue
        if entry_kind(mode) is not None or path.lstat().st_size > limit:
            found[name] = None
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        found[name] = digest.hexdigest()
    return found


def municipal_changes(settings: Settings) -> list[str]:
    """Names of files that are new, changed or gone since the warehouse's municipal.file_status."""
    folder = getattr(settings, "municipal_dir", None)
    if folder is None:
        return []
    now = current_files(folder, max_mb=settings.municipal_max_mb)
    seen: dict[str, str] = {}
    if settings.warehouse_path.exists():
        with warehouse.connect(settings.warehouse_path, read_only=True) as con:
            if warehouse.table_exists(con, "municipal", "file_status"):
                seen = dict(con.execute("select distinct file, sha256 from municipal.file_status").fetchall())
    return sorted(f for f in set(now) | set(seen) if now.get(f) != seen.get(f))
