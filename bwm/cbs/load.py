"""Read mirror tables into the warehouse's raw schema, as CBS delivered them.

Raw keeps CBS's own keys, padding and nulls; harmonising is staging's job. Every Topic column is typed
from the table's own DataProperties (text topics as VARCHAR, numbers as DOUBLE), so a column that is
entirely null (suppressed everywhere) keeps its type instead of being guessed.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl

from bwm.cbs import mirror as mirror_mod


class RawLoadError(RuntimeError):
    """A mirror table cannot be read into raw; the message names the table and file."""


def data_properties(mirror_dir: Path, table_id: str) -> list[dict]:
    return _read(mirror_dir, table_id, "DataProperties.json")


def column_types(props: list[dict]) -> dict[str, str]:
    """DuckDB column types for a TypedDataSet, from its DataProperties."""
    types: dict[str, str] = {"ID": "BIGINT"}
    for prop in props:
        kind = prop.get("Type")
        key = prop.get("Key")
        if not key:
            continue
        if kind in mirror_mod.DIMENSION_TYPES:
            types[key] = "VARCHAR"
        elif kind == "Topic":
            types[key] = "VARCHAR" if prop.get("Datatype") in mirror_mod.TEXT_DATATYPES else "DOUBLE"
    return types


def load_typed_dataset(
    con: duckdb.DuckDBPyConnection, mirror_dir: Path, table_id: str, schema: str, table: str
) -> int:
    """Replace ``schema.table`` with the mirror's TypedDataSet of ``table_id``; returns the row count."""
    mirror_dir = Path(mirror_dir)
    manifest = mirror_mod.read_manifest(mirror_dir, table_id)
    if manifest is None:
        raise RawLoadError(
            f"Table {table_id} is not in the mirror {mirror_dir} (no complete folder with manifest.json). "
            "Run with BWM_SOURCE=live to download it, or `bwm mirror download {table_id}`."
        )
    try:  # every file against the manifest's sha256 before anything is read (cached per file version)
        mirror_mod.verify_table(mirror_dir, table_id, cached=True)
    except mirror_mod.MirrorError as exc:
        raise RawLoadError(str(exc)) from None
    path = mirror_dir / table_id / "TypedDataSet.json"
    types = column_types(data_properties(mirror_dir, table_id))
    columns = ", ".join(f"'{k}': '{v}'" for k, v in types.items())
    try:
        con.execute("begin transaction")
        con.execute(
            f"create or replace table {schema}.{table} as "
            f"select * from read_json(?, format = 'array', columns = {{{columns}}})",
            [str(path)],
        )
        con.execute("commit")
    except duckdb.Error as exc:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass
        if isinstance(exc, duckdb.IOException) and "No space left" in str(exc):
            raise RawLoadError(f"Cannot write {schema}.{table}: No space left on device. The previous version of "
                               "the table is unchanged; free disk space and run again.") from exc
        raise RawLoadError(f"Cannot read {path} into {schema}.{table}: {exc}") from exc
    n = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    if manifest.get("row_count") is not None and n != manifest["row_count"]:
        raise RawLoadError(
            f"{path} holds {n} rows but its manifest says {manifest['row_count']}; the mirror folder is "
            f"damaged. Download {table_id} again (`bwm mirror download {table_id} --force`)."
        )
    return n


def metadata_frames(mirror_dir: Path, table_ids: list[str]) -> dict[str, pl.DataFrame]:
    """Three small frames describing the given mirror tables: tables, data_properties, dimensions."""
    tables, props, dims = [], [], []
    for table_id in table_ids:
        manifest = mirror_mod.read_manifest(mirror_dir, table_id)
        if manifest is None:
            continue
        info = (_read(mirror_dir, table_id, "TableInfos.json") or [{}])[0]
        tables.append(
            {
                "table_id": table_id,
                "title": info.get("Title") or manifest.get("title"),
                "period": info.get("Period"),
                "modified": manifest.get("modified") or info.get("Modified"),
                "retrieved_at": manifest.get("retrieved_at"),
                "row_count": manifest.get("row_count"),
                "source": manifest.get("source"),
                "base_url": manifest.get("base_url"),
                "region_filter": ",".join(manifest.get("region_filter") or []) or None,
            }
        )
        table_props = _read(mirror_dir, table_id, "DataProperties.json")
        for i, prop in enumerate(table_props):
            props.append(
                {
                    "table_id": table_id,
                    "ordinal": i,
                    "key": prop.get("Key") or None,
                    "type": prop.get("Type"),
                    "title": prop.get("Title"),
                    "unit": prop.get("Unit"),
                    "datatype": prop.get("Datatype"),
                    "decimals": prop.get("Decimals"),
                    "description": prop.get("Description"),
                }
            )
            if prop.get("Type") in mirror_mod.DIMENSION_TYPES and prop.get("Key"):
                dim_file = mirror_dir / table_id / f"{prop['Key']}.json"
                if not dim_file.exists():
                    continue
                for item in _read(mirror_dir, table_id, dim_file.name):
                    dims.append(
                        {
                            "table_id": table_id,
                            "dimension": prop["Key"],
                            "key": item.get("Key"),
                            "title": item.get("Title"),
                            "description": item.get("Description"),
                        }
                    )
    return {
        "tables": pl.DataFrame(tables, schema=_TABLES_SCHEMA),
        "data_properties": pl.DataFrame(props, schema=_PROPS_SCHEMA),
        "dimensions": pl.DataFrame(dims, schema=_DIMS_SCHEMA),
    }


_TABLES_SCHEMA = {
    "table_id": pl.String,
    "title": pl.String,
    "period": pl.String,
    "modified": pl.String,
    "retrieved_at": pl.String,
    "row_count": pl.Int64,
    "source": pl.String,
    "base_url": pl.String,
    "region_filter": pl.String,
}
_PROPS_SCHEMA = {
    "table_id": pl.String,
    "ordinal": pl.Int64,
    "key": pl.String,
    "type": pl.String,
    "title": pl.String,
    "unit": pl.String,
    "datatype": pl.String,
    "decimals": pl.Int64,
    "description": pl.String,
}
_DIMS_SCHEMA = {
    "table_id": pl.String,
    "dimension": pl.String,
    "key": pl.String,
    "title": pl.String,
    "description": pl.String,
}


def _read(mirror_dir: Path, table_id: str, name: str):
    path = Path(mirror_dir) / table_id / name
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise RawLoadError(f"{path} is missing; the mirror folder of {table_id} is incomplete.") from None
    except json.JSONDecodeError as exc:
        raise RawLoadError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.") from exc
