"""The municipal tables in the warehouse, and empty versions of them for SQL that reads them."""

from __future__ import annotations

import polars as pl

from bwm import warehouse
from bwm.municipal.folder import INDICATORS_SCHEMA, STATUS_SCHEMA, VALUES_SCHEMA
from bwm.municipal.publish import PUBLISHED_SCHEMA
from bwm.municipal.targets import SCHEMA as TARGETS_SCHEMA

SCHEMA = "municipal"
TABLES = {
    "file_status": STATUS_SCHEMA,
    "values": VALUES_SCHEMA,
    "indicators": INDICATORS_SCHEMA,
    "published": PUBLISHED_SCHEMA,
    "targets": TARGETS_SCHEMA,
    "disclosure_rule": {"min_count": pl.Float64, "min_cases": pl.Float64},
}


def ensure_tables(con) -> None:
    """Create every municipal table that does not exist yet, empty (so the indicator SQL always has them)."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for table, schema in TABLES.items():
        if not warehouse.table_exists(con, SCHEMA, table):
            warehouse.replace_table_from_frame(con, SCHEMA, table, pl.DataFrame(schema=schema))
