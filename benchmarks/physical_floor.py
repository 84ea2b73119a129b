"""The physical floor of a full rebuild (issue 16): what reading the mirror costs at the least, in one plain script.

    python -m benchmarks.physical_floor MIRROR [DATABASE]

DuckDB's ``read_json`` of every KWB ``TypedDataSet.json`` of the mirror, its numeric columns unpivoted to long form
(one row per area, year and variable: what ``staging.kwb`` holds), plus the health table's ``TypedDataSet.json``
read as it is (what ``raw.health_*`` holds). No Dagster, no checks, no key resolution, no harmonisation: the time
any refresh must at least spend on the data, against which the harness sets (a) (``(a) / physical floor``).

A KWB table is a table folder with a ``WijkenEnBuurten.json`` and no ``Perioden.json``; the health table is the
one with ``Perioden.json``. ``DATABASE`` (default: in memory; DuckDB spills beyond ``BWM_DUCKDB_MEMORY`` to a
temporary folder beside it) is removed afterwards by the harness. Prints ``BENCH {json}`` with the row counts and
the seconds of each part.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

#: The key columns of a KWB table (everything else numeric is a variable).
KWB_KEYS = ("ID", "WijkenEnBuurten", "Gemeentenaam_1", "SoortRegio_2", "Codering_3",
            "IndelingswijzigingWijkenEnBuurten_4")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "DECIMAL")


def tables(mirror: Path) -> tuple[list[Path], list[Path]]:
    """(KWB TypedDataSet.json files, health TypedDataSet.json files) of the mirror, sorted by table id."""
    kwb, health = [], []
    for folder in sorted(p for p in mirror.iterdir() if p.is_dir()):
        data = folder / "TypedDataSet.json"
        if not data.is_file():
            continue
        if (folder / "Perioden.json").is_file():
            health.append(data)
        elif (folder / "WijkenEnBuurten.json").is_file():
            kwb.append(data)
    return kwb, health


def run(mirror: Path, database: str = ":memory:", memory_limit: str = "3GB") -> dict:
    import duckdb

    kwb, health = tables(mirror)
    if not kwb:
        raise SystemExit(f"no KWB table (a folder with TypedDataSet.json and WijkenEnBuurten.json) in {mirror}")
    con = duckdb.connect(database)
    con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute("set preserve_insertion_order = false")
    started = time.perf_counter()
    con.execute("create table kwb_long (table_id varchar, area_code varchar, variable varchar, value double)")
    for path in kwb:
        con.execute(f"create or replace temp view wide as select * from read_json('{path}', format = 'array', "
                    "maximum_object_size = 1073741824)")
        columns = [name for name, kind, *_ in con.execute("describe wide").fetchall()
                   if name not in KWB_KEYS and kind.split("(")[0] in NUMERIC]
        on = ", ".join(f'"{c}"' for c in columns)
        con.execute(f"insert into kwb_long select '{path.parent.name}', trim(WijkenEnBuurten), variable, value "
                    f"from (unpivot (select WijkenEnBuurten, {on} from wide) on {on} "
                    f"into name variable value value)")
    kwb_seconds = time.perf_counter() - started
    kwb_rows = con.execute("select count(*) from kwb_long").fetchone()[0]
    health_started = time.perf_counter()
    health_rows = 0
    for i, path in enumerate(health):
        con.execute(f"create table health_{i} as select * from read_json('{path}', format = 'array', "
                    "maximum_object_size = 1073741824)")
        health_rows += con.execute(f"select count(*) from health_{i}").fetchone()[0]
    health_seconds = time.perf_counter() - health_started
    con.close()
    return {"kwb_tables": len(kwb), "kwb_long_rows": kwb_rows, "kwb_seconds": round(kwb_seconds, 2),
            "health_tables": len(health), "health_rows": health_rows, "health_seconds": round(health_seconds, 2),
            "seconds": round(kwb_seconds + health_seconds, 2)}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from bwm.settings import Settings

    result = run(Path(argv[0]), argv[1] if len(argv) > 1 else ":memory:", Settings.from_env().duckdb_memory)
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
