"""The exports of the publish layer: per municipality, every indicator table as CSV, Parquet and XLSX."""

import datetime as dt

import dagster as dg

from bwm import warehouse
from bwm.export import writers
from bwm.export.run import update_per_municipality
from pipelines.defs.publish.model import MODEL_KEYS
from pipelines.defs.publish.policy import freshness_policy
from pipelines.resources import BwmResource

EXPORTS = dg.AssetKey(["publish", "exports"])
INPUTS = [MODEL_KEYS["values"], MODEL_KEYS["indicators"], MODEL_KEYS["divide_decomposition"],
          MODEL_KEYS["divide_contributions"], MODEL_KEYS["divide_stapeling"], MODEL_KEYS["stapeling"],
          MODEL_KEYS["targets"]] + [
    dg.AssetKey(["municipal", "published"]), dg.AssetKey(["municipal", "file_status"]),
    dg.AssetKey(["raw", "cbs_tables"]),
]


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=EXPORTS, deps=INPUTS, group_name="publish",
          kinds={"python", "xlsx", "parquet", "csv"}, freshness_policy=freshness_policy())
def publish_exports(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """One export per municipality in BWM_EXPORT_DIR/<gemeente_code>/: every theme, year and level (gemeente, wijk,
    buurt) from publish.values, disclosure-controlled already. Files ``<code>_<table>.csv`` (UTF-8 with BOM, in the
    dialect of BWM_EXPORT_CSV_DIALECT: ';' and decimal commas by default) and ``.parquet`` for the tables data_long
    (one row per year, area and indicator; value in the indicator's unit), data_wide (one row per area and
    indicator, a column per year, then the latest year with a figure and that figure), definitions, sources and
    notes, and where the divide grows: divide_decomposition, divide_contributions (publish.divide_*) and
    divide_definitions; and ``<code>.xlsx`` with those tables as sheets. Same warehouse, same bytes, apart from
    generated_at.

    Incremental: a municipality whose inputs (its values, names, definitions and sources; the shared notes and
    formats) have the fingerprint recorded in BWM_EXPORT_DIR/<gemeente_code>/.publish-state.json keeps its files,
    generated_at included; only the others are written. Metadata ``written`` and ``reused`` count the municipalities."""
    settings = bwm.settings
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with bwm.connect(read_only=True) as con:
        codes = [r[0] for r in con.execute(
            "select distinct gemeente_code from publish.values where area_level = 'gemeente' order by 1").fetchall()]
    # The same files as `export(..., Selection(municipalities=(code,)))` per code, read in batches of municipalities.
    result = update_per_municipality(settings.work_warehouse_path, codes, settings.export_dir, formats=writers.FORMATS,
                                     generated_at=generated_at,
                                     csv_delimiter=writers.dialect_delimiter(settings.export_csv_dialect))
    context.log.info(f"exports: {len(result.written)} municipalities written, {len(result.reused)} reused (unchanged)")
    shown = ", ".join(result.written[:20]) + (", ..." if len(result.written) > 20 else "")
    return dg.MaterializeResult(metadata={
        "folder": str(settings.export_dir), "municipalities": len(codes), "written": len(result.written),
        "reused": len(result.reused), "written_codes": shown or "none", "files": len(result.files),
        "bytes": sum(p.stat().st_size for p in result.files), "generated_at": generated_at.isoformat(),
    })


export_assets = [publish_exports]
