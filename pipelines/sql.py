"""One factory that turns a SQL file into an asset: adding a table to a layer means adding one file.

``pipelines/defs/<layer>/<name>.sql`` holds one ``select``. It becomes the asset ``[<layer>, <name>]``, the
DuckDB relation ``<layer>.<name>``:

- **key** from the folder and the file's stem;
- **deps** from the ``schema.table`` names the SQL reads (comments left out), so the graph follows the SQL;
- **description** from the comment block the file opens with (which states the grain);
- **parameters** ``$name`` from :func:`sql_params` (the settings a select may depend on);
- a table by default (``create or replace table ... as``, in one transaction); a file whose first line is
  ``-- materialize: view`` becomes a view (for relations other SQL reads, such as the harmonisation views).
"""


import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import dagster as dg

from bwm import registry, warehouse
from bwm.settings import Settings
from pipelines.resources import BwmResource

#: The warehouse schemas a SQL file can read; ``municipal`` is the schema of the municipal layer's own tables.
READABLE_SCHEMAS = (*warehouse.SCHEMAS, "municipal")
_REFERENCE = re.compile(r"\b(" + "|".join(READABLE_SCHEMAS) + r")\.([a-z_][a-z0-9_]*)\b")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_VIEW = "-- materialize: view"


def sql_params(settings: Settings) -> dict:
    """Every ``$parameter`` a SQL file may use, from the run's settings."""
    return {
        "municipalities": list(settings.municipalities),
        "table_id": registry.health_table(settings).table_id,
    }


@dataclass(frozen=True)
class SqlFile:
    """One ``pipelines/defs/<layer>/<name>.sql``: the relation ``<layer>.<name>`` and what it reads."""

    path: Path

    @cached_property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def schema(self) -> str:
        return self.path.parent.name

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.name])

    @property
    def is_view(self) -> bool:
        return self.text.lstrip().startswith(_VIEW)

    @property
    def select(self) -> str:
        return self.text.strip().rstrip(";")

    @cached_property
    def reads(self) -> list[dg.AssetKey]:
        """The relations the SQL reads (``schema.table`` outside comments), itself left out."""
        code = _COMMENT.sub("", self.text)
        keys = {dg.AssetKey([schema, table]) for schema, table in _REFERENCE.findall(code)}
        return sorted(keys - {self.key}, key=lambda k: k.to_user_string())

    @cached_property
    def params(self) -> list[str]:
        return sorted(set(_PARAM.findall(_COMMENT.sub("", self.text))))

    @property
    def description(self) -> str:
        """The opening comment block, without its ``--`` and without the materialisation line."""
        lines = []
        for line in self.text.splitlines():
            if not line.startswith("--"):
                break
            if line.strip() != _VIEW:
                lines.append(line[2:].removeprefix(" "))
        return "\n".join(lines).strip()


    def create(self, con, params: dict | None = None) -> int | None:
        """(Re)create the relation in ``con`` (the asset's work, also for tests); the row count of a table."""
        if self.is_view:
            warehouse.create_view_from_sql(con, self.schema, self.name, self.select)
            return None
        wanted = {name: value for name, value in (params or {}).items() if name in self.params}
        return warehouse.create_table_from_sql(con, self.schema, self.name, self.select, params=wanted)


DEFS = Path(__file__).resolve().parent / "defs"


def sql_file(layer: str, name: str) -> SqlFile:
    """``pipelines/defs/<layer>/<name>.sql``."""
    path = DEFS / layer / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return SqlFile(path)


def sql_files(folder: Path) -> list[SqlFile]:
    return [SqlFile(path) for path in sorted(Path(folder).glob("*.sql"))]


def sql_asset(sql: SqlFile) -> dg.AssetsDefinition:
    """The asset that (re)creates ``sql.schema``.``sql.name`` from the file."""

    @dg.asset(key=sql.key, deps=sql.reads, group_name=sql.schema, kinds={"duckdb", "sql"},
              pool=warehouse.WAREHOUSE_POOL, description=sql.description,
              metadata={"sql_file": dg.MetadataValue.path(str(sql.path))})
    def _asset(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
        with bwm.connect() as con:
            rows = sql.create(con, sql_params(bwm.settings))
            if sql.is_view:
                return dg.MaterializeResult(metadata={"materialized_as": "view"})
            metadata = {"rows": rows}
            columns = {c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [sql.schema, sql.name]).fetchall()}
            if "year" in columns:
                per_year = con.execute(f"select year, count(*) from {sql.schema}.{sql.name} group by 1 order by 1")
                metadata.update({f"rows_{year}": n for year, n in per_year.fetchall()})
            metadata["preview"] = dg.MetadataValue.md(
                warehouse.preview_markdown(con, f"select * from {sql.schema}.{sql.name}"))
        return dg.MaterializeResult(metadata=metadata)

    _asset.__name__ = f"{sql.schema}_{sql.name}"
    return _asset


def sql_assets(folder: Path) -> list[dg.AssetsDefinition]:
    """An asset for every SQL file in a layer's folder (a layer's ``assets.py`` calls this with its own folder)."""
    return [sql_asset(sql) for sql in sql_files(folder)]

