"""What the site and the exports need to rebuild only the gemeenten whose output would change, in one place.

Both publish outputs are made per gemeente from the publish model (the ``publish.*`` tables of the warehouse), and
both take over the output of a gemeente from the previous build when its fingerprint is the one recorded then:

* **the fingerprint** of a gemeente (:func:`fingerprints`) is a SHA-256 over three parts. Its rows in the publish
  tables the output reads that are *scoped*, i.e. have a ``gemeente_code`` column (derived from the model: which
  tables those are is read from the warehouse, not listed), as ``count(*)`` and ``sum(hash(row)::hugeint)`` per
  table in DuckDB (the sum does not depend on row order, and a duplicated row counts twice; an xor would cancel
  it). What the output shares between every gemeente (``shared``: the site's base data, the exports' notes and
  formats). And the **code version** (:func:`code_version`): a hash of the source files and templates that shape
  the output and of the libraries that write its bytes, so a change to any of them rebuilds everything without a
  version number to bump by hand. An output may add what it makes of an unscoped table for one gemeente (``extra``:
  the exports' definitions and sources tables).
* **the state** (:func:`read_state`, :func:`write_state`): one JSON file, ``STATE``, in each output folder (the
  site's folder; each municipality's export folder), ``{"gemeenten": {code: {"fingerprint": ..., "files":
  {path: [kind, bytes]}}}}``: per gemeente the fingerprint its files were made from and the files (relative to the
  folder). A missing, unreadable or malformed state means building every gemeente again.

Over-inclusive on purpose: a gemeente rebuilt for nothing costs a second, a stale one would be wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bwm.settings import PROJECT_ROOT

#: The state file in an output folder (bookkeeping, not output: tests/output_identity.py leaves it out).
STATE = ".publish-state.json"
#: The schema of the publish model.
SCHEMA = "publish"


@dataclass
class Entry:
    """What the state records of one gemeente: the fingerprint its files were made from, and those files
    (path relative to the output folder -> ``[kind, bytes]``)."""

    fingerprint: str
    files: dict[str, list] = field(default_factory=dict)


def code_version(paths: Iterable[Path], libraries: Iterable[str] = ()) -> str:
    """A SHA-256 over every file under ``paths`` (files or folders; path relative to the project and bytes;
    compiled ``.pyc`` left out) and the versions of ``libraries``: it changes exactly when the code that shapes an
    output does. This module is always included, so a change to the fingerprints or the state rebuilds too."""
    import importlib.metadata

    digest = hashlib.sha256()
    for library in sorted(libraries):
        digest.update(f"{library} {importlib.metadata.version(library)}\0".encode())
    for base in sorted({Path(p).resolve() for p in [*paths, Path(__file__)]}):
        for path in sorted([base] if base.is_file() else base.rglob("*")):
            if path.is_file() and path.suffix != ".pyc":
                name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
                digest.update(str(name).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def scoped_tables(con, tables: Iterable[str] | None = None) -> list[str]:
    """The publish tables with a ``gemeente_code`` column (``schema.table``, sorted), of ``tables`` or of the whole
    model: the part of an output that belongs to one gemeente."""
    found = [f"{SCHEMA}.{t}" for (t,) in con.execute(
        "select table_name from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and column_name = 'gemeente_code' order by table_name", [SCHEMA]).fetchall()]
    if tables is None:
        return found
    wanted = set(tables)
    unknown = wanted - {f"{SCHEMA}.{t}" for (t,) in con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ?", [SCHEMA]).fetchall()}
    if unknown:
        raise ValueError(f"not a table of the publish model: {', '.join(sorted(unknown))}")
    return [t for t in found if t in wanted]


def _row_hashes(con, table: str, decimals: int | None) -> dict[str, str]:
    """``{gemeente_code: 'n:sum'}``: the rows of one scoped table per gemeente, counted and hashed."""
    columns = []
    for name, kind, *_ in con.execute(f"describe {table}").fetchall():
        if kind in ("DOUBLE", "FLOAT"):
            # hash() takes -0.0 for 0.0, a written file does not; rounded, the jitter of parallel sums goes away
            columns.append(f'round("{name}", {decimals})' if decimals is not None
                           else f'"{name}", signbit("{name}")')
        else:
            columns.append(f'"{name}"')
    return dict(con.execute(
        f"select gemeente_code, count(*)::varchar || ':' || sum(hash({', '.join(columns)})::hugeint)::varchar "
        f"from {table} where gemeente_code is not null group by 1").fetchall())


def fingerprints(con, code: str, shared: object = None, tables: Iterable[str] | None = None,
                 decimals: int | None = None, extra: Mapping[str, object] | None = None) -> dict[str, str]:
    """``{gemeente_code: fingerprint}`` for every gemeente with rows in the scoped publish tables of ``tables``
    (``schema.table`` names; None: every scoped table of the model) or in ``extra``.

    ``code`` is the output's :func:`code_version`; ``shared`` what it shares between gemeenten and ``extra``
    (gemeente -> anything) what it makes of the unscoped tables for one gemeente, both hashed through ``repr``.
    Doubles are hashed exactly, or rounded to ``decimals`` where the output shows fewer (floating-point jitter
    of parallel sums would otherwise make every gemeente "changed").
    """
    return table_fingerprints(con, code, scoped_tables(con, tables), shared, decimals, extra)


def table_fingerprints(con, code: str, tables: Iterable[str], shared: object = None, decimals: int | None = None,
                       extra: Mapping[str, object] | None = None) -> dict[str, str]:
    """:func:`fingerprints` over ``tables`` as given (``schema.table`` names of any schema, each with a
    ``gemeente_code`` column): what a layer before the publish model (``divide.intervals``) uses to redo only the
    gemeenten whose input rows changed."""
    parts: dict[str, list[str]] = {}
    for table in tables:
        for gemeente, rows in _row_hashes(con, table, decimals).items():
            parts.setdefault(gemeente, []).append(f"{table}={rows}")
    extra = extra or {}
    common = f"{code}\n{shared!r}\n"
    return {gemeente: hashlib.sha256(
        (common + "\n".join(sorted(parts.get(gemeente, []))) + f"\n{extra.get(gemeente)!r}").encode()).hexdigest()
        for gemeente in sorted(parts.keys() | extra.keys())}


def read_state(folder: Path) -> dict[str, Entry]:
    """The entries recorded in ``folder``'s state; empty when there is none or it is unreadable or malformed."""
    try:
        state = json.loads((Path(folder) / STATE).read_text(encoding="utf-8"))
        gemeenten = state["gemeenten"]
        return {code: Entry(entry["fingerprint"], dict(entry.get("files") or {})) for code, entry in gemeenten.items()
                if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def write_state(folder: Path, entries: Mapping[str, Entry]) -> None:
    """Record ``entries`` as ``folder``'s state, atomically (a temporary file renamed over the old state)."""
    text = json.dumps({"gemeenten": {code: {"fingerprint": e.fingerprint, "files": e.files}
                                     for code, e in entries.items()}}, separators=(",", ":"))
    tmp = Path(folder) / f"{STATE}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, Path(folder) / STATE)


def forget(folder: Path) -> None:
    """Remove ``folder``'s state: done before its files are replaced, so a run that stops halfway leaves no state
    vouching for a mix of old and new files."""
    (Path(folder) / STATE).unlink(missing_ok=True)
