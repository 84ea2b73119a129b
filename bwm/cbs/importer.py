"""Importing a folder that ``cbsodata.download_data(table_id, dir=...)`` wrote into the mirror (``bwm mirror import``).

Such a folder holds the same JSON files as a mirror table but no ``manifest.json``, so the pipeline does not take
it as complete. ``import_folder`` checks it (every file parses, the metadata is there, every value fits its
column), types an ``UntypedDataSet.json`` and writes it with ``bwm.cbs.mirror.write_table``, manifest last.
``missing_table_hint`` is the sentence the pipeline adds when a table folder exists without a manifest.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from bwm.cbs.mirror import (
    DIMENSION_TYPES,
    FILE_NAME_PATTERN,
    INTEGER_DATATYPES,
    MANIFEST,
    TABLE_ID_PATTERN,
    TEXT_DATATYPES,
    MirrorError,
    write_table,
)

_DATA_SETS = ("TypedDataSet", "UntypedDataSet")
_INTEGER_TEXT = re.compile(r"^\s*[-+]?\d+\s*$", re.ASCII)
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$", re.ASCII)
_AGAIN = "download the table again"
#: A folder name taken as the table id when TableInfos has no Identifier: CBS ids start with digits (84583NED).
_FOLDER_TABLE_ID = re.compile(r"^\d{4,}[A-Za-z0-9_]*$", re.ASCII)


def import_folder(src_dir: Path | str, mirror_dir: Path | str, *, table_id: str | None = None) -> Path:
    """Check a folder written by ``cbsodata.download_data(table_id, dir=...)`` and add it to the mirror.

    The table id is ``table_id`` if given (it must then agree with TableInfos' ``Identifier``), else that
    ``Identifier``, else the folder name if it looks like one (``84583NED``). Checked: every ``*.json`` file
    parses and is a list; TableInfos (with ``Modified``) and DataProperties are there; a data set is there;
    every dimension DataProperties lists has its file, and every data row uses only known columns, known
    dimension codes and values of its Topic's ``Datatype``. ``TypedDataSet.json`` is used when present.
    Otherwise ``UntypedDataSet.json`` (what cbsodata 1.3.5 writes for ``typed=True``: its flag is inverted) is
    converted to typed values: numeric Topics from the padded strings, ``"."`` or empty to null; text Topics,
    dimension codes and their padding stay as sent. The copy is written with ``write_table`` (source ``cbs``,
    TableInfos' ``Modified`` and ``Title``), so the manifest comes last and a failure leaves the mirror as it
    was. ``src_dir`` is only read; it may be ``<mirror_dir>/<id>`` itself (a folder without manifest), which
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
    if not TABLE_ID_PATTERN.match(table_id or ""):
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
        if not FILE_NAME_PATTERN.match(name):
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
        if not TABLE_ID_PATTERN.match(wanted):
            raise MirrorError(f"{wanted!r} is not a CBS table id (like 84583NED): pass the id of the table in {src}")
        if identifier is not None and identifier.lower() != wanted.lower():
            raise MirrorError(f"{src / 'TableInfos.json'} is table {identifier}, not {wanted}: check the folder, "
                              f"or leave out the table id to import it as {identifier}")
    folder = src.resolve().name
    candidate = identifier or wanted or (folder if _FOLDER_TABLE_ID.match(folder) else "")
    if not TABLE_ID_PATTERN.match(candidate):
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
        if not isinstance(key, str) or not FILE_NAME_PATTERN.match(key):
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
