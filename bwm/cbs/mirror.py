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

A folder that ``cbsodata.download_data`` wrote (the same JSON files, no manifest) becomes a mirror table
through ``bwm.cbs.importer``. ``verify_table(..., cached=True)`` checks a table against its manifest before it
is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
SOURCES = ("cbs", "synthetic")

TABLE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
FILE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
_TMP_PREFIX = ".tmp-"
_OLD_PREFIX = ".old-"


#: DataProperties ``Type``s whose ``Key`` is a data column holding codes of a dimension resource.
DIMENSION_TYPES = ("Dimension", "GeoDimension", "GeoDetail", "TimeDimension")
#: Topic ``Datatype``s that hold text (kept exactly as CBS sends it); every other Topic is a number.
TEXT_DATATYPES = ("String", "Char")
INTEGER_DATATYPES = ("Long", "Integer", "Short", "Byte")


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
            "retrieved_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
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


#: Per mirror folder: the sha256 of each file version already verified, keyed by its size and mtime, so a
#: refresh hashes a file only when it changed (the national mirror is ~1.7 GB: hashing all of it takes ~5 s).
VERIFIED_CACHE = ".verified.json"


def verify_table(mirror_dir: Path | str, table_id: str, *, cached: bool = False) -> dict:
    """Check every file listed in the manifest against its size and sha256; return the manifest.

    With ``cached``, a file whose size and mtime are those it had when it last matched the manifest (recorded in
    ``<mirror>/.verified.json``) is not read again; anything else is read (in blocks) and hashed. Raises
    ``MirrorError`` naming the first missing or mismatching file and what to do.
    """
    mirror_dir = Path(mirror_dir)
    manifest = read_manifest(mirror_dir, table_id)
    folder = mirror_dir / table_id
    if manifest is None:
        raise MirrorError(f"{folder} is missing or incomplete (no {MANIFEST})")
    cache_path = mirror_dir / VERIFIED_CACHE
    cache: dict = {}
    if cached:
        try:
            cache = json.loads(cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    changed = False
    for name, expected in manifest["files"].items():
        path = folder / name
        try:
            st = path.stat()
        except OSError:
            raise MirrorError(f"{path} is listed in {MANIFEST} but missing; download the table again "
                              f"(`bwm mirror download {table_id} --force`)") from None
        key = f"{table_id}/{name}"
        seen = cache.get(key)
        stamp = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        if seen and seen.get("sha256") == expected["sha256"] and {k: seen.get(k) for k in stamp} == stamp:
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if st.st_size != expected["bytes"] or digest.hexdigest() != expected["sha256"]:
            if cached and cache.pop(key, None) is not None:
                _write_cache(cache_path, cache)
            fix = (f"Delete {folder} and run again: the demo generates it anew" if manifest.get("source") == "synthetic"
                   else f"Download it again (`bwm mirror download {table_id} --force`, or copy the folder again from "
                        "where it was downloaded)")
            raise MirrorError(
                f"{path} does not match {MANIFEST} (expected {expected['bytes']} bytes, sha256 "
                f"{expected['sha256'][:12]}…; found {st.st_size} bytes, sha256 {digest.hexdigest()[:12]}…): the file "
                f"was changed or damaged after it was written, so {table_id} is not loaded. {fix}."
            )
        if cached:
            cache[key] = {**stamp, "sha256": expected["sha256"]}
            changed = True
    if changed:
        _write_cache(cache_path, cache)
    return manifest


def _write_cache(path: Path, cache: dict) -> None:
    """Best effort: a mirror on a read-only share still verifies, it just hashes again next time."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


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
        return f"[\n{lines}\n]\n".encode()
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
    if not FILE_NAME_PATTERN.match(stem):
        raise ValueError(f"{name!r} is not a valid mirror file name (letters, digits, _ and - only)")
    return f"{stem}.json"


def _check_table_id(table_id: str) -> None:
    if not TABLE_ID_PATTERN.match(table_id or ""):
        raise ValueError(f"{table_id!r} is not a CBS table id (like 85984NED)")
