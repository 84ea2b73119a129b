"""The publish model: the tables the site and the exports read (``publish.*``), each one SQL file beside this module.

Each ``<name>.sql`` here is one ``select`` whose leading comment states its grain; its asset writes it as the table
``publish.<name>``. The site (bwm.site.data) and the exports (bwm.export.tables) read these tables instead of
composing their own joins over the indicators, staging and divide layers, and their incremental builds fingerprint
them per gemeente (bwm.incremental).
"""

from pathlib import Path

import dagster as dg

from bwm import warehouse
from bwm.settings import Settings

HERE = Path(__file__).parent
#: Each publish table (the stem of its SQL file) and the warehouse tables its SQL reads, in an order in which each
#: table comes after the publish tables it reads.
MODEL = {
    "areas": ["staging.areas"],
    "indicators": ["indicators.catalogue"],
    "values": ["indicators.values", "indicators.catalogue", "indicators.comparisons", "staging.areas"],
    "theme_scores": ["indicators.theme_summary"],
    "divide_measures": ["divide.measures"],
    "divide_trends": ["divide.trends"],
}


def sql(name: str) -> str:
    """The text of ``<name>.sql`` beside this module."""
    return (HERE / f"{name}.sql").read_text(encoding="utf-8")


def description(name: str) -> str:
    """The leading comment block of ``<name>.sql``, without its ``--`` markers."""
    lines = []
    for line in sql(name).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def build_model(con, names=None) -> dict[str, int]:
    """Write every publish table (or those of ``names``, in model order) through ``con``; returns the row counts.

    What the assets do one table at a time; for tests and tools that change a warehouse by hand.
    """
    return {name: warehouse.create_table_from_sql(con, "publish", name, sql=sql(name))
            for name in MODEL if names is None or name in names}


def _model_asset(name: str, deps: list[str]) -> dg.AssetsDefinition:
    @dg.asset(key=["publish", name], deps=[dg.AssetKey(d.split(".")) for d in deps], group_name="publish",
              kinds={"duckdb", "sql"}, pool=warehouse.WAREHOUSE_POOL, description=description(name))
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        with warehouse.connect(Settings.from_env().work_warehouse_path) as con:
            n = warehouse.create_table_from_sql(con, "publish", name, sql=sql(name))
            preview = warehouse.preview_markdown(con, f"select * from publish.{name}")
        return dg.MaterializeResult(metadata={"rows": n, "preview": dg.MetadataValue.md(preview)})

    _asset.__name__ = f"publish_{name}"
    return _asset


model_assets = [_model_asset(name, deps) for name, deps in MODEL.items()]
#: The keys of the publish model, which the site and the exports depend on.
MODEL_KEYS = {name: dg.AssetKey(["publish", name]) for name in MODEL}
