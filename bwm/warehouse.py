"""The DuckDB warehouse: one file, one schema per layer, and the one helper that turns SQL files into tables.

Readers never block the refresh. DuckDB lets one process write a file only while nobody else has it open,
even read-only, so the refresh never writes the file readers open (``BWM_WAREHOUSE``, the *published*
warehouse). It writes its *working copy* beside it (``working_path``: ``.bwm.duckdb.refresh``), which no
reader opens, and the last step of a successful refresh (``publish``) copies the working copy to a
temporary file beside the published one and renames it over it. A reader that has the old file open keeps
its consistent snapshot (the old file lives on until its last reader closes it); the next connection sees
the new warehouse. A failed refresh never reaches ``publish``, so the published warehouse stays the last
good one.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bwm import markdown
from bwm.settings import WORKING_SUFFIX, Settings, working_copy_of

SCHEMAS = ("raw", "staging", "indicators", "divide", "publish")
#: Dagster concurrency pool of every step that opens the warehouse (DuckDB allows one writer at a time).
WAREHOUSE_POOL = "warehouse"

#: DuckDB's memory limit when the caller names none: the default of ``Settings.duckdb_memory``.
DEFAULT_MEMORY_LIMIT = Settings.duckdb_memory

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
def working_path(published: Path) -> Path:
    """Where the refresh writes: ``data/warehouse/bwm.duckdb`` -> ``data/warehouse/.bwm.duckdb.refresh``."""
    return working_copy_of(Path(published))


def _published_of(path: Path) -> Path | None:
    name = path.name
    if name.startswith(".") and name.endswith(WORKING_SUFFIX):
        return path.with_name(name[1:-len(WORKING_SUFFIX)])
    return None


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or written; the message says what to do."""


@contextmanager
def connect(path: Path, read_only: bool = False, memory_limit: str = DEFAULT_MEMORY_LIMIT
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder and schemas when writable) and close it afterwards.

    ``memory_limit`` is DuckDB's (``Settings.duckdb_memory``, BWM_DUCKDB_MEMORY); it spills beyond it to disk.
    """
    path = Path(path)
    published = _published_of(path)
    if published is not None and not path.exists() and published.exists():
        # No working copy yet (the first refresh since this layout, or the copy was removed): start from the
        # published warehouse, so an incremental refresh has every table it does not rebuild. A write-ahead log
        # beside it (left by a refresh of an earlier version that wrote the published file) holds committed
        # tables too: it comes along, and DuckDB replays it when the copy is opened.
        wal = published.with_name(published.name + ".wal")
        if wal.exists():
            _copy_atomically(wal, path.with_name(path.name + ".wal"))
        _copy_atomically(published, path)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"Cannot create the warehouse folder {path.parent}: {exc.strerror}. "
                "Set BWM_WAREHOUSE to a writable location."
            ) from exc
    elif not path.exists():
        raise WarehouseError(f"No warehouse at {path}. Run `make demo` or `bwm run` first.")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            hint = "Another process is writing it (a refresh, or a notebook with a write connection); wait for it."
        elif "Read-only file system" in text or "Permission denied" in text:
            hint = "Its folder is not writable; set BWM_WAREHOUSE to a writable location."
        elif "No space left" in text:
            hint = "The disk is full; free space and run again."
        else:
            hint = "Check the file and its folder."
        raise WarehouseError(f"Cannot open the warehouse {path}: {text.splitlines()[0]} {hint}") from exc
    try:
        # A setting of the database instance, not of this connection alone; DuckDB spills beyond it to disk.
        con.execute(f"set memory_limit = '{memory_limit}'")
        if not read_only:
            for schema in SCHEMAS:
                con.execute(f"create schema if not exists {schema}")
        yield con
    finally:
        con.close()


def publish(settings: Settings) -> dict:
    """Make the working copy the published warehouse, atomically; returns its path and size.

    The working copy is checkpointed (its write-ahead log folded in) and copied to a temporary file beside
    ``BWM_WAREHOUSE``, which is then renamed over it. Readers of the old file keep reading it.
    """
    work, published = settings.work_warehouse_path, settings.warehouse_path
    if not work.exists():
        raise WarehouseError(f"No working copy at {work} to publish; run the whole refresh (`bwm run`).")
    with connect(work) as con:
        con.execute("checkpoint")
    _copy_atomically(work, published)
    return {"path": str(published), "bytes": published.stat().st_size}


def _copy_atomically(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a temporary file in ``dst``'s folder; ``dst`` is whole or untouched."""
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.tmp")
    try:
        shutil.copyfile(src, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = "No space left on device" if exc.errno == 28 else (exc.strerror or str(exc))
        raise WarehouseError(
            f"Cannot write the warehouse {dst}: {reason}. The previous version is unchanged. Free disk space "
            "(the refresh needs room for a second copy of the warehouse) and run again."
        ) from exc
    try:
        dir_fd = os.open(dst.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def create_table_from_sql(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, sql: str, params: dict | None = None
) -> int:
    """``create or replace table schema.table as <sql>`` (one select); returns the row count.

    The whole replacement happens in one transaction, so readers see the old table or the new one.
    """
    for ident in (schema, table):
        if not _IDENT.match(ident):
            raise ValueError(f"not a plain SQL identifier: {ident!r}")
    select = sql.strip().rstrip(";")
    con.execute("begin transaction")
    try:
        con.execute(f"create or replace table {schema}.{table} as\n{select}", params or {})
        con.execute("commit")
    except Exception as exc:
        _rollback(con)
        _raise_clear_write_error(con, schema, table, exc)
        raise
    return row_count(con, schema, table)


def create_view_from_sql(con: duckdb.DuckDBPyConnection, schema: str, view: str, sql: str) -> None:
    """``create or replace view schema.view as <sql>`` (one select)."""
    for ident in (schema, view):
        if not _IDENT.match(ident):
            raise ValueError(f"not a plain SQL identifier: {ident!r}")
    try:
        con.execute(f"create or replace view {schema}.{view} as\n{sql.strip().rstrip(';')}")
    except Exception as exc:
        _raise_clear_write_error(con, schema, view, exc)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass  # the failed statement may already have ended the transaction


def _raise_clear_write_error(con: duckdb.DuckDBPyConnection, schema: str, table: str, exc: Exception) -> None:
    """Turn a disk or memory problem deep inside DuckDB into a message that says what happened and what to do."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        try:
            limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        except duckdb.Error:
            limit = "its limit"
        raise WarehouseError(
            f"DuckDB ran out of memory writing {schema}.{table} (BWM_DUCKDB_MEMORY={limit}): "
            f"{str(exc).splitlines()[0]} The previous version of the table is unchanged. Set BWM_DUCKDB_MEMORY "
            "higher (e.g. 4GB; at most what the machine can spare) and run the refresh again."
        ) from exc
    if not isinstance(exc, (duckdb.IOException, OSError)) and "No space left" not in str(exc):
        return
    try:
        path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    except duckdb.Error:
        path = "the warehouse"
    reason = "No space left on device" if "No space left" in str(exc) else str(exc).splitlines()[0]
    raise WarehouseError(
        f"Cannot write {schema}.{table} to {path}: {reason}. The previous version of the table is unchanged. "
        "Free disk space (or point BWM_WAREHOUSE at a disk with room) and run the refresh again."
    ) from exc


def replace_table_from_frame(con: duckdb.DuckDBPyConnection, schema: str, table: str, frame) -> int:
    """Replace ``schema.table`` with a polars/pandas/arrow frame, atomically; returns the row count."""
    for ident in (schema, table):
        if not _IDENT.match(ident):
            raise ValueError(f"not a plain SQL identifier: {ident!r}")
    con.register("_bwm_frame", frame)
    con.execute("begin transaction")
    try:
        con.execute(f"create or replace table {schema}.{table} as select * from _bwm_frame")
        con.execute("commit")
    except Exception as exc:
        _rollback(con)
        _raise_clear_write_error(con, schema, table, exc)
        raise
    finally:
        con.unregister("_bwm_frame")
    return row_count(con, schema, table)


def replace_gemeenten_from_frames(con: duckdb.DuckDBPyConnection, schema: str, frames: dict, gemeenten: list[str]
                                  ) -> None:
    """For each ``table -> frame`` of ``frames``: delete the rows of ``gemeenten`` from ``schema.table`` and insert
    the frame's rows (which must belong to those gemeenten, with the table's columns), all tables in one
    transaction. The incremental counterpart of :func:`replace_table_from_frame`; the row order of the table is
    then not that of a full build (readers order by what they need)."""
    for ident in (schema, *frames):
        if not _IDENT.match(ident):
            raise ValueError(f"not a plain SQL identifier: {ident!r}")
    import polars as pl

    codes = pl.DataFrame({"gemeente_code": list(gemeenten)}, schema={"gemeente_code": pl.String})
    con.register("_bwm_gemeenten", codes)
    con.execute("begin transaction")
    table = None
    try:
        for table, frame in frames.items():
            stray = set(frame.get_column("gemeente_code").unique().to_list()) - set(gemeenten)
            if stray:
                raise ValueError(f"{schema}.{table}: rows of gemeenten not being replaced: {sorted(stray)[:5]}")
            con.execute(f"delete from {schema}.{table} where gemeente_code in "
                        "(select gemeente_code from _bwm_gemeenten)")
            con.register("_bwm_frame", frame)
            try:
                con.execute(f"insert into {schema}.{table} by name select * from _bwm_frame")
            finally:
                con.unregister("_bwm_frame")
        con.execute("commit")
    except Exception as exc:
        _rollback(con)
        if table is not None and isinstance(exc, duckdb.Error):
            _raise_clear_write_error(con, schema, table, exc)
        raise
    finally:
        con.unregister("_bwm_gemeenten")


def row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    return con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return (
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
        > 0
    )


def preview_markdown(con: duckdb.DuckDBPyConnection, sql: str, limit: int = 5) -> str:
    """A small markdown table of ``sql`` for asset metadata."""
    rel = con.execute(f"select * from ({sql}) limit {int(limit)}")
    return markdown.table([d[0] for d in rel.description], rel.fetchall())
