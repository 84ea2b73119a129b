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

``import_folder`` turns a folder that ``cbsodata.download_data(table_id, dir=...)`` wrote (the same JSON
files, no manifest) into a mirror table: it checks every file, types an ``UntypedDataSet.json`` from
DataProperties, and writes the copy with ``write_table``. ``missing_table_hint`` tells a reader that
finds such a folder without manifest what to run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shlex
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


#: Per mirror folder: the sha256 of each file version already verified, keyed by its size and mtime, so a
#: refresh hashes a file only when it changed (the national mirror is ~1.7 GB: hashing all of it takes ~5 s).
VERIFIED_CACHE = ".verified.json"


def verify_table_cached(mirror_dir: Path | str, table_id: str) -> dict:
    """``verify_table``, hashing only the files whose (size, mtime) differ from their last verified version.

    The cache (``<mirror>/.verified.json``) holds, per file, the size, mtime and sha256 seen the last time it
    matched the manifest; a file whose size and mtime are unchanged and whose manifest sum is the cached one is
    not read again. Anything else is read and hashed. Raises ``MirrorError`` naming the file that does not match
    and what to do. Returns the manifest.
    """
    mirror_dir = Path(mirror_dir)
    manifest = read_manifest(mirror_dir, table_id)
    folder = mirror_dir / table_id
    if manifest is None:
        raise MirrorError(f"{folder} is missing or incomplete (no {MANIFEST})")
    cache_path = mirror_dir / VERIFIED_CACHE
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
            cache.pop(key, None)
            _write_cache(cache_path, cache)
            fix = (f"Delete {folder} and run again: the demo generates it anew" if manifest.get("source") == "synthetic"
                   else f"Download it again (`bwm mirror download {table_id} --force`, or copy the folder again from "
                        "where it was downloaded)")
            raise MirrorError(
                f"{path} does not match {MANIFEST} (expected {expected['bytes']} bytes, sha256 "
                f"{expected['sha256'][:12]}…; found {st.st_size} bytes, sha256 {digest.hexdigest()[:12]}…): the file "
                f"was changed or damaged after it was written, so {table_id} is not loaded. {fix}."
            )
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


# --- importing a folder written by cbsodata.download_data ------------------------------------------

#: DataProperties ``Type``s whose ``Key`` is a data column holding codes of a dimension resource.
DIMENSION_TYPES = ("Dimension", "GeoDimension", "GeoDetail", "TimeDimension")
#: Topic ``Datatype``s that hold text (kept exactly as CBS sends it); every other Topic is a number.
TEXT_DATATYPES = ("String", "Char")
INTEGER_DATATYPES = ("Long", "Integer", "Short", "Byte")
_DATA_SETS = ("TypedDataSet", "UntypedDataSet")
_INTEGER_TEXT = re.compile(r"^\s*[-+]?\d+\s*$", re.ASCII)
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$", re.ASCII)
_AGAIN = "download the table again"
#: A folder name taken as the table id when TableInfos has no Identifier: CBS ids start with digits (84583NED).
_FOLDER_TABLE_ID = re.compile(r"^\d{4,}[A-Za-z0-9_]*$", re.ASCII)


def import_folder(src_dir: Path | str, mirror_dir: Path | str, *, table_id: str | None = None) -> Path:
    """Check a folder written by ``cbsodata.download_data(table_id, dir=...)`` and add it to the mirror.

    The table id is ``table_id`` if given (it must then agree with TableInfos' ``Identifier``), else that
    ``Identifier``, else the folder name if it looks like one (``84583NED``). Checked: every ``*.json`` file parses and is a list; TableInfos
    (with ``Modified``) and DataProperties are there; a data set is there; every dimension DataProperties
    lists has its file, and every data row uses only known columns, known dimension codes and values of
    its Topic's ``Datatype``. ``TypedDataSet.json`` is used when present. Otherwise ``UntypedDataSet.json``
    (what cbsodata 1.3.5 writes for ``typed=True``: its flag is inverted) is converted to typed values:
    numeric Topics from the padded strings, ``"."`` or empty to null; text Topics, dimension codes and
    their padding stay as sent. The copy is written with ``write_table`` (source ``cbs``, TableInfos'
    ``Modified`` and ``Title``), so the manifest comes last and a failure leaves the mirror as it was.
    ``src_dir`` is only read; it may be ``<mirror_dir>/<id>`` itself (a folder without manifest), which
    is then replaced by the checked copy. Raises ``MirrorError`` naming the file and what to do.
    """
    src = Path(src_dir)
    mirror_dir = Path(mirror_dir)
    if not src.is_dir():
        raise MirrorError(f"{src} is not a folder: name the folder that cbsodata.download_data(table_id, dir=...) "
                          "wrote")
    if not (src / "TableInfos.json").is_file():  # e.g. the mirror or a folder of downloads instead of one table
        inner = sorted(p.name for p in src.iterdir() if p.is_dir() and (p / "TableInfos.json").is_file())
        if inner:
            raise MirrorError(f"{src} holds table folders ({', '.join(inner[:3])}{', ...' if len(inner) > 3 else ''}), "
                              f"not the files of one table: name the table folders themselves, e.g. {src / inner[0]}")
    files = _read_download(src)
    infos = _required(files, src, "TableInfos")
    properties = _required(files, src, "DataProperties")
    info = infos[0] if infos and isinstance(infos[0], dict) else None
    if info is None:
        raise MirrorError(f"{src / 'TableInfos.json'} holds no table description (CBS sends a list with one "
                          f"object): the file is damaged; {_AGAIN}")
    table_id = _import_table_id(src, info, table_id)
    modified = info.get("Modified")
    if not isinstance(modified, str) or not modified:
        raise MirrorError(f"{src / 'TableInfos.json'} has no Modified date, which every CBS table has and the "
                          f"mirror needs to see updates: the file is not what CBS sent; {_AGAIN}")
    data_name = next((name for name in _DATA_SETS if name in files), None)
    if data_name is None:
        present = ", ".join(f"{name}.json" for name in files)
        raise MirrorError(
            f"{src} has no data set: neither TypedDataSet.json nor UntypedDataSet.json is there (only {present}). "
            f"The download stopped early or only the metadata was copied; {_AGAIN} with "
            f"`bwm mirror download {table_id} --mirror {shlex.quote(str(mirror_dir))}` where CBS is reachable"
        )
    columns = _columns(src, properties)
    dimensions = {}
    for key, kind in columns.items():
        if kind in DIMENSION_TYPES:
            if key not in files:
                raise MirrorError(f"{src} has no {key}.json, the file of the dimension {key} that DataProperties.json "
                                  f"lists: the download stopped early or the copy is incomplete; {_AGAIN}")
            dimensions[key] = _dimension_keys(src / f"{key}.json", files[key])
    typed = data_name == "TypedDataSet"
    rows = _typed_rows(src / f"{data_name}.json", files[data_name], columns, dimensions, typed=typed)

    # The order write_table lists them in: as ``download_table`` writes them (dimensions as DataProperties has them).
    out: dict[str, list] = {"TableInfos": infos, "DataProperties": properties,
                            "CategoryGroups": files.get("CategoryGroups", [])}
    out.update((key, files[key]) for key in dimensions)
    out.update((name, value) for name, value in files.items() if name not in out and name not in _DATA_SETS)
    out["TypedDataSet"] = rows
    title = info.get("Title") or info.get("ShortTitle") or table_id
    try:
        return write_table(mirror_dir, table_id, out, title=str(title), modified=modified, source="cbs")
    except OSError as exc:
        raise MirrorError(f"Cannot write {table_id} into the mirror {mirror_dir}: {exc}. The mirror is unchanged "
                          "(a previous folder of the table, if any, is still there); check free space and "
                          "permissions and run again") from exc


def missing_table_hint(mirror_dir: Path | str, table_id: str) -> str:
    """What to do about ``<mirror_dir>/<table_id>/`` when it exists without ``manifest.json``, else ``""``.

    Meant to be appended to a "the mirror lacks <table>" error: a folder that holds cbsodata's files but
    no manifest is usually a ``cbsodata.download_data`` folder copied in by hand.
    """
    if not _TABLE_ID.match(table_id or ""):
        return ""
    folder = Path(mirror_dir) / table_id
    if not folder.is_dir() or (folder / MANIFEST).is_file():
        return ""
    if any((folder / f"{name}.json").is_file() for name in ("TableInfos", "DataProperties", *_DATA_SETS)):
        command = f"bwm mirror import {shlex.quote(str(folder))} --mirror {shlex.quote(str(mirror_dir))}"
        return (f"The folder {folder} exists but has no {MANIFEST} (it looks like a cbsodata.download_data folder): "
                f"run `{command}` to verify it and add the manifest.")
    return (f"The folder {folder} exists but has no {MANIFEST} and none of the files cbsodata.download_data writes "
            "(TableInfos.json, DataProperties.json, TypedDataSet.json): it is an unfinished copy or download; "
            "remove it and download the table again.")


def _read_download(src: Path) -> dict[str, list]:
    """Every ``*.json`` file of the folder (except a manifest), parsed; each must be a JSON list."""
    files: dict[str, list] = {}
    for path in sorted(src.glob("*.json")):
        if path.name == MANIFEST or path.name.startswith(".") or not path.is_file():
            continue
        name = path.name[:-5]
        if not _FILE_NAME.match(name):
            raise MirrorError(f"{path}: {path.name!r} is not a CBS resource name (letters, digits, _ and - only), so "
                              "cbsodata did not write it: remove or rename the file and import again")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MirrorError(f"{path} cannot be read ({exc}): check the file's permissions") from exc
        files[name] = _parse_json(path, data)
    if not files:
        raise MirrorError(f"{src} holds no .json files: it is not a folder written by "
                          "cbsodata.download_data(table_id, dir=...); name that folder")
    return files


def _parse_json(path: Path, data: bytes) -> list:
    if not data.strip():
        raise MirrorError(f"{path} is empty ({len(data)} bytes): the download or copy was interrupted; {_AGAIN}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MirrorError(f"{path} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}), so it is not a "
                          f"file cbsodata wrote: it was damaged or replaced; {_AGAIN}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        if cut:
            raise MirrorError(f"{path} is cut off: its JSON ends at line {text.rstrip().count(chr(10)) + 1} before "
                              f"it is complete ({exc.msg}); the download or copy was interrupted: {_AGAIN}") from None
        raise MirrorError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): the file "
                          f"was changed or damaged; {_AGAIN}") from None
    if not isinstance(value, list):
        raise MirrorError(f"{path} holds a JSON {type(value).__name__}, not the list of rows that "
                          f"cbsodata.download_data saves: it was not written by cbsodata; {_AGAIN}")
    return value


def _required(files: dict[str, list], src: Path, name: str) -> list:
    if name not in files:
        raise MirrorError(f"{src} has no {name}.json, which every folder cbsodata.download_data writes has (it "
                          f"describes the table and its columns): the download or copy is incomplete; {_AGAIN}")
    return files[name]


def _import_table_id(src: Path, info: dict, wanted: str | None) -> str:
    identifier = info.get("Identifier")
    identifier = identifier.strip() if isinstance(identifier, str) and identifier.strip() else None
    if wanted is not None:
        if not _TABLE_ID.match(wanted):
            raise MirrorError(f"{wanted!r} is not a CBS table id (like 84583NED): pass the id of the table in {src}")
        if identifier is not None and identifier.lower() != wanted.lower():
            raise MirrorError(f"{src / 'TableInfos.json'} is table {identifier}, not {wanted}: check the folder, "
                              f"or leave out the table id to import it as {identifier}")
    folder = src.resolve().name
    candidate = identifier or wanted or (folder if _FOLDER_TABLE_ID.match(folder) else "")
    if not _TABLE_ID.match(candidate):
        raise MirrorError(f"{src / 'TableInfos.json'} has no Identifier and the folder name {src.name!r} is not a "
                          "table id: pass the table id (`--table-id 84583NED`, or table_id=...)")
    return candidate


def _columns(src: Path, properties: list) -> dict[str, str]:
    """Data column -> its DataProperties ``Type`` (a dimension type), or ``Topic:<Datatype>``."""
    path = src / "DataProperties.json"
    columns: dict[str, str] = {}
    for n, prop in enumerate(properties, 1):
        if not isinstance(prop, dict):
            raise MirrorError(f"{path} row {n}: expected an object describing a column, found {_short(prop)}; "
                              f"the file was changed or damaged: {_AGAIN}")
        kind, key = prop.get("Type"), prop.get("Key")
        if kind not in DIMENSION_TYPES and kind != "Topic":
            continue  # TopicGroups and the like describe no column
        if not isinstance(key, str) or not _FILE_NAME.match(key):
            raise MirrorError(f"{path} row {n}: the {kind} has no usable Key (found {_short(key)}); the file was "
                              f"changed or damaged: {_AGAIN}")
        columns[key] = kind if kind != "Topic" else f"Topic:{prop.get('Datatype') or ''}"
    if not any(kind.startswith("Topic:") for kind in columns.values()):
        raise MirrorError(f"{path} describes no Topic (no column with figures): it is not a CBS table's "
                          f"DataProperties; {_AGAIN}")
    return columns


def _dimension_keys(path: Path, rows: list) -> set:
    keys = set()
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("Key"), str):
            raise MirrorError(f"{path} row {n}: expected an object with a Key (a dimension code), found "
                              f"{_short(row)}; the file was changed or damaged: {_AGAIN}")
        keys.add(row["Key"])
    return keys


def _typed_rows(path: Path, rows: list, columns: dict[str, str], dimensions: dict[str, set], *, typed: bool) -> list:
    """Check every data row and return the rows, IDs and numeric Topics made numbers (in place: ``rows`` is
    the parsed file, never written back). A typed set's values are only checked."""
    if not rows:
        raise MirrorError(f"{path} holds no rows: CBS tables have data, so the download stopped early or was "
                          f"filtered to nothing; {_AGAIN}")
    if not isinstance(rows[0], dict):
        raise MirrorError(f"{path} row 1: expected an object (one data row), found {_short(rows[0])}; the file was "
                          f"changed or damaged: {_AGAIN}")
    first = rows[0].keys()
    unknown = [key for key in first if key != "ID" and key not in columns]
    if unknown:
        raise MirrorError(f"{path} row 1: column {unknown[0]} is not in DataProperties.json, so the files come "
                          f"from different tables or downloads: {_AGAIN}")
    names = set(first)
    codes = [(key, dimensions[key]) for key in first if key in dimensions]
    topics = [(key, columns[key][6:]) for key in first if columns.get(key, "").startswith("Topic:")]
    numbers = [(key, datatype, datatype in INTEGER_DATATYPES, {}) for key, datatype in topics
               if datatype not in TEXT_DATATYPES]
    texts = [key for key, datatype in topics if datatype in TEXT_DATATYPES]
    seen_ids: set = set()
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise MirrorError(f"{path} row {n}: expected an object (one data row), found {_short(row)}; the file was "
                              f"changed or damaged: {_AGAIN}")
        if row.keys() != names:
            odd = sorted(set(row) ^ names)
            raise MirrorError(f"{path} row {n}: its columns differ from row 1's ({', '.join(odd)}); the file was "
                              f"changed or damaged: {_AGAIN}")
        if "ID" in names:
            row_id = row["ID"] = _row_id(path, n, row["ID"])
            if row_id in seen_ids:
                raise MirrorError(f"{path} row {n}: ID {row_id} occurs twice; the file was changed or pieced together "
                                  f"from several downloads: {_AGAIN}")
            seen_ids.add(row_id)
        for key, known in codes:
            value = row[key]
            if not isinstance(value, str) or value not in known:
                raise MirrorError(f"{path} row {n}: {key} {_short(value)} is not a Key in {key}.json (codes are "
                                  f"compared as sent, padding included), so the files come from different downloads: "
                                  f"{_AGAIN}")
        for key, datatype, whole, cache in numbers:
            value = row[key]
            if value is None or type(value) is int or (type(value) is float and (typed or not whole)):
                continue  # already a JSON number (or null) of the right kind
            if type(value) is str and value in cache:  # untyped figures repeat a lot: convert each text once
                row[key] = cache[value]
                continue
            number = _number(f"{path} row {n}", key, datatype, value, typed)
            if type(value) is str:
                cache[value] = number
            row[key] = number
        for key in texts:
            value = row[key]
            if value is not None and not isinstance(value, str):
                raise MirrorError(f"{path} row {n}: Topic {key} expected text, found {_short(value)}; the file was "
                                  f"changed or damaged: {_AGAIN}")
    return rows


def _row_id(path: Path, n: int, value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str) and _INTEGER_TEXT.match(value):
        return int(value)
    raise MirrorError(f"{path} row {n}: ID expected a whole number, found {_short(value)}; the file was changed or "
                      f"damaged: {_AGAIN}")


def _number(where: str, key: str, datatype: str, value: Any, typed: bool) -> Any:
    """A Topic value as a JSON number or None; a typed set must already hold numbers (or null)."""
    whole = datatype in INTEGER_DATATYPES
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if whole and not typed and isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, str) and not typed:
        stripped = value.strip()
        if stripped in ("", "."):  # CBS's mark for a suppressed or unknown figure
            return None
        if _INTEGER_TEXT.match(value):
            return int(stripped) if whole else float(stripped)
        if _NUMBER_TEXT.match(value):
            number = float(stripped)
            if not whole:
                return number
            if number.is_integer():
                return int(number)
            raise MirrorError(f"{where}: Topic {key} ({datatype}) expected a whole number, found {value!r}; the "
                              f"file was changed or damaged: {_AGAIN}")
    if typed:
        raise MirrorError(f"{where}: Topic {key} expected a number or null, found {_short(value)}; the file was "
                          f"changed or damaged: {_AGAIN}")
    raise MirrorError(f"{where}: Topic {key} expected a number, found {_short(value)}; CBS sends numbers as text "
                      f"here ('.' for a suppressed figure), so the file was changed or damaged: {_AGAIN}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
