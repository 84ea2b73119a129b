"""The mirror on disk: one folder of JSON files per CBS table, plus a ``manifest.json``.

Layout and manifest are the contract in ``docs/architecture.md``: the files are the plain ``value`` lists
that ``cbsodata.download_data(dir=...)`` saves, and ``manifest.json`` records where they came from and a
sha256 per file. A folder without ``manifest.json`` is incomplete and every reader here ignores it.

Writes are atomic per table. ``write_table`` builds the new folder as ``<mirror>/.tmp-<ID>-<rand>/``
(manifest last, everything fsynced), then swaps it in: old folder renamed aside to ``.old-<ID>-<rand>``,
new folder renamed to ``<ID>``, old folder deleted. POSIX has no portable "rename a directory over a
non-empty directory", so there is a moment between the two renames where ``<ID>`` does not exist; a
crash exactly there leaves the complete old folder under ``.old-...`` and ``recover`` (run by the next
``write_table`` and by ``clean``) renames it back. A crash anywhere else leaves the old or the new
complete folder, plus at worst a stray ``.tmp-``/``.old-`` folder that the next write or ``clean``
removes. One writer per table at a time is assumed (Dagster materialises each table in one run).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
SOURCES = ("cbs", "synthetic")

_TABLE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_TMP_PREFIX = ".tmp-"
_OLD_PREFIX = ".old-"


class MirrorError(RuntimeError):
    """The mirror on disk is missing, incomplete or corrupt; the message names the folder or file."""


def write_table(
    mirror_dir: Path | str,
    table_id: str,
    files: dict[str, list | dict],
    *,
    title: str,
    modified: str,
    source: str,
    base_url: str | None = None,
    region_filter: list[str] | tuple[str, ...] | None = None,
) -> Path:
    """Write ``files`` (name -> JSON value) and ``manifest.json`` as ``<mirror_dir>/<table_id>/``.

    Names may be given with or without ``.json``. Guarantees: on return the folder holds exactly these
    files and a manifest whose sha256 sums match them; if this raises (or the process dies), the
    previous folder, if any, is still there and complete. JSON is UTF-8 with ``ensure_ascii=False``
    and byte-for-byte deterministic for equal input (key order as given, one list item per line).
    Returns the table folder.
    """
    mirror_dir = Path(mirror_dir)
    _check_table_id(table_id)
    if source not in SOURCES:
        raise ValueError(f"source={source!r} must be one of {SOURCES}")
    names = {_file_name(name): value for name, value in files.items()}
    if MANIFEST in names:
        raise ValueError("manifest.json is written by write_table itself; do not pass it in files")

    mirror_dir.mkdir(parents=True, exist_ok=True)
    recover(mirror_dir, table_id)  # restore an interrupted swap and drop stray temp folders first
    tmp = mirror_dir / f"{_TMP_PREFIX}{table_id}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        entries = {}
        for name, value in names.items():
            entries[name] = _write_file(tmp / name, _dump(value))
        rows = names.get("TypedDataSet.json")
        manifest = {
            "table_id": table_id,
            "title": title,
            "modified": modified,
            "retrieved_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "row_count": len(rows) if isinstance(rows, list) else 0,
            "source": source,
            "base_url": base_url,
            "region_filter": list(region_filter) if region_filter else None,
            "files": entries,
        }
        # The manifest goes last: its presence is what marks a folder as complete.
        _write_file(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        _fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _swap_in(mirror_dir, table_id, tmp)


def read_manifest(mirror_dir: Path | str, table_id: str) -> dict | None:
    """The manifest of a complete table folder, or ``None`` when the table is absent or incomplete."""
    path = Path(mirror_dir) / table_id / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MirrorError(f"{path} cannot be read as JSON ({exc}); delete the folder and download again") from exc


def list_tables(mirror_dir: Path | str) -> list[dict]:
    """Manifests of every complete table folder in the mirror, sorted by table id.

    Temp/aside folders (names starting with a dot) and folders without ``manifest.json`` are skipped.
    """
    mirror_dir = Path(mirror_dir)
    if not mirror_dir.is_dir():
        return []
    manifests = []
    for folder in sorted(mirror_dir.iterdir()):
        if folder.is_dir() and not folder.name.startswith("."):
            manifest = read_manifest(mirror_dir, folder.name)
            if manifest is not None:
                manifests.append(manifest)
    return manifests


def read_json(mirror_dir: Path | str, table_id: str, name: str) -> Any:
    """The parsed content of one file of a complete table folder (``name`` with or without ``.json``)."""
    manifest = read_manifest(mirror_dir, table_id)
    if manifest is None:
        raise MirrorError(f"table {table_id} is not in the mirror {mirror_dir} (no complete folder with {MANIFEST})")
    file_name = _file_name(name)
    if file_name not in manifest["files"]:
        known = ", ".join(sorted(manifest["files"]))
        raise MirrorError(f"table {table_id} in {mirror_dir} has no {file_name}; it has {known}")
    path = Path(mirror_dir) / table_id / file_name
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise MirrorError(f"{path} cannot be read as JSON ({exc}); run verify_table or download again") from exc


def verify_table(mirror_dir: Path | str, table_id: str) -> dict:
    """Check every file listed in the manifest against its size and sha256; return the manifest.

    Raises ``MirrorError`` naming the first missing or mismatching file.
    """
    manifest = read_manifest(mirror_dir, table_id)
    folder = Path(mirror_dir) / table_id
    if manifest is None:
        raise MirrorError(f"{folder} is missing or incomplete (no {MANIFEST})")
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise MirrorError(f"{path} is listed in {MANIFEST} but missing; download the table again")
        data = path.read_bytes()
        if len(data) != expected["bytes"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
            raise MirrorError(
                f"{path} does not match {MANIFEST} (expected {expected['bytes']} bytes, sha256 "
                f"{expected['sha256'][:12]}…; found {len(data)} bytes); it was changed or damaged: "
                "download the table again"
            )
    return manifest


def recover(mirror_dir: Path | str, table_id: str | None = None) -> list[Path]:
    """Finish or undo interrupted writes (of one table, or all); return the stray folders removed.

    If ``<ID>`` is missing but a complete ``.old-<ID>-*`` exists, the swap was interrupted between its
    two renames: the old folder is renamed back. All other ``.tmp-``/``.old-`` folders are deleted.
    """
    mirror_dir = Path(mirror_dir)
    if not mirror_dir.is_dir():
        return []
    removed = []
    for folder in sorted(mirror_dir.iterdir()):
        for prefix in (_OLD_PREFIX, _TMP_PREFIX):
            if not folder.name.startswith(prefix) or not folder.is_dir():
                continue
            owner = folder.name[len(prefix):].rsplit("-", 1)[0]
            if table_id is not None and owner != table_id:
                continue
            target = mirror_dir / owner
            if prefix == _OLD_PREFIX and not target.exists() and (folder / MANIFEST).is_file():
                os.rename(folder, target)
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    _fsync_dir(mirror_dir)
    return removed


def clean(mirror_dir: Path | str) -> list[Path]:
    """Remove every stray temp folder in the mirror after restoring interrupted swaps (see ``recover``)."""
    return recover(mirror_dir)


# --- internals ---------------------------------------------------------------------------------------


def _swap_in(mirror_dir: Path, table_id: str, tmp: Path) -> Path:
    final = mirror_dir / table_id
    aside = None
    if final.exists():
        aside = mirror_dir / f"{_OLD_PREFIX}{table_id}-{secrets.token_hex(4)}"
        os.rename(final, aside)
    try:
        os.rename(tmp, final)
    except BaseException:
        if aside is not None:
            os.rename(aside, final)  # put the old folder back; the new one stays a stray temp folder
        raise
    _fsync_dir(mirror_dir)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return final


def _dump(value: Any) -> bytes:
    """Serialise deterministically; a list gets one item per line so files diff and grep well."""
    if isinstance(value, list):
        if not value:
            return b"[]\n"
        lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in value)
        return f"[\n{lines}\n]\n".encode("utf-8")
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_file(path: Path, data: bytes) -> dict:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _fsync_dir(path: Path) -> None:
    # Makes renames and new directory entries durable; not supported on every platform (e.g. Windows).
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_name(name: str) -> str:
    stem = name[:-5] if name.endswith(".json") else name
    if not _FILE_NAME.match(stem):
        raise ValueError(f"{name!r} is not a valid mirror file name (letters, digits, _ and - only)")
    return f"{stem}.json"


def _check_table_id(table_id: str) -> None:
    if not _TABLE_ID.match(table_id or ""):
        raise ValueError(f"{table_id!r} is not a CBS table id (like 85984NED)")
