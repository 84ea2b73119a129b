"""The indicators layer: the catalogue, values per area, series breaks, comparisons and theme summaries."""

from pathlib import Path

import dagster as dg
import polars as pl

from bwm import catalogue, warehouse
from bwm.municipal import store as municipal_store
from bwm.municipal.catalogue import catalogue_rows as municipal_catalogue_rows
from pipelines.resources import BwmResource
from pipelines.sql import sql_assets

CATALOGUE = dg.AssetKey(["indicators", "catalogue"])
MUNICIPAL_INDICATORS = dg.AssetKey(["municipal", "indicators"])


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=CATALOGUE, deps=[MUNICIPAL_INDICATORS], group_name="indicators",
          kinds={"python"})
def indicator_catalogue(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """The indicator catalogue as a table. Grain: one row per indicator.

    CBS indicators from data/reference/indicators.yaml (their single source), then the indicators declared by
    the accepted municipal data files (municipal.indicators: source 'municipal', disclosure 'municipal').
    """
    frame = catalogue.catalogue_frame()
    with bwm.connect() as con:
        municipal_store.ensure_tables(con)
        declared = con.execute("select * from municipal.indicators order by indicator_id").pl()
        frame = pl.concat([frame, municipal_catalogue_rows(declared, frame)])
        n = warehouse.replace_table_from_frame(con, "indicators", "catalogue", frame)
    per_theme = frame.group_by("theme").len().sort("theme").to_dicts()
    return dg.MaterializeResult(metadata={"indicators": n, **{f"theme_{r['theme']}": r["len"] for r in per_theme}})


#: area_series, weights, values, comparisons, theme_summary and aggregated: one SQL file each in this folder.
indicator_sql_assets = sql_assets(Path(__file__).parent)
