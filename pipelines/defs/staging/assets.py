"""The staging layer: KWB harmonised over all years, the areas of each year, and the health table.

Python resolves each year's raw keys (``kwb_key_resolution``) and declares the views that line the raw tables
up (``kwb_unpivoted``, ``kwb_region_rows``, ``health_unpivoted``); the tables themselves are the SQL files of
this folder (``areas.sql``, ``kwb.sql``, ``health.sql``), one select each.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from bwm import herindelingen, registry, warehouse
from bwm.harmonise import keymap
from bwm.settings import KWB_YEARS, Settings
from pipelines.defs.staging import views
from pipelines.resources import BwmResource
from pipelines.sql import sql_assets

RAW_KWB = [dg.AssetKey(["raw", f"kwb_{year}"]) for year in KWB_YEARS]
RAW_META = [dg.AssetKey(["raw", "cbs_data_properties"]), dg.AssetKey(["raw", "cbs_dimensions"]),
            dg.AssetKey(["raw", "cbs_tables"])]
RESOLUTION = dg.AssetKey(["staging", "kwb_key_resolution"])
KWB_UNPIVOTED = dg.AssetKey(["staging", "kwb_unpivoted"])
KWB_REGION_ROWS = dg.AssetKey(["staging", "kwb_region_rows"])
HEALTH_UNPIVOTED = dg.AssetKey(["staging", "health_unpivoted"])


def _present_years(con, settings: Settings) -> list[tuple[int, str, str]]:
    """(year, table_id, region_dimension) of every configured KWB year whose raw table exists."""
    return [
        (t.year, t.table_id, t.region_dimension)
        for t in keymap.kwb_tables()
        if t.year in settings.years and warehouse.table_exists(con, "raw", f"kwb_{t.year}")
    ]


def _resolution_frame(con) -> pl.DataFrame:
    return con.execute("select * from staging.kwb_key_resolution").pl()


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=RESOLUTION, deps=RAW_META, group_name="staging", kinds={"python"})
def kwb_key_resolution(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """How each raw KWB key of each year maps to a canonical variable.

    Grain: one row per (year, raw_key) of each table's own DataProperties. `match` is the rule that
    resolved it (see `keymap.resolve`): 'exact' (the key is in data/reference/kwb_keymap.csv), 'alias'
    (a reviewed alias stem, data/reference/kwb_key_aliases.csv), 'stem' (suffix or case differs), 'title'
    (the table's own title and unit) or 'unmapped'. `action` is 'map', 'ignore', or 'quarantine' when the
    table's unit (`cbs_unit`) does not convert to the canonical `unit` (`expected_cbs_unit` is what the key
    map expects; `scale` is null and `note` says why). `scale` converts CBS's unit to the canonical `unit`.
    """
    settings = bwm.settings
    variables = keymap.variables()
    frames = []
    with bwm.connect() as con:
        for year, table_id, _dim in _present_years(con, settings):
            props = con.execute(
                "select key as \"Key\", type as \"Type\", unit as \"Unit\", datatype as \"Datatype\", "
                "title as \"Title\" from raw.cbs_data_properties where table_id = ? order by ordinal",
                [table_id],
            ).pl().to_dicts()
            res = keymap.resolve(year, props).with_columns(
                pl.lit(year).alias("year"), pl.lit(table_id).alias("table_id")
            )
            frames.append(res)
        frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
        frame = frame.with_columns(
            pl.col("canonical").replace_strict(
                {k: v.kind for k, v in variables.items()}, default=None, return_dtype=pl.String
            ).alias("kind")
        ).select("year", "table_id", "raw_key", "canonical", "kind", "action", "match", "scale", "unit",
                 "cbs_unit", "expected_cbs_unit", "note")
        n = warehouse.replace_table_from_frame(con, "staging", "kwb_key_resolution", frame)
    counts = frame.group_by("match").len().sort("match").to_dicts()
    quarantined = frame.filter(pl.col("action") == "quarantine").height
    return dg.MaterializeResult(metadata={"rows": n, **{f"match_{c['match']}": c["len"] for c in counts},
                                          "quarantined": quarantined})


@dg.multi_asset(
    pool=warehouse.WAREHOUSE_POOL,
    specs=[
        dg.AssetSpec(KWB_UNPIVOTED, deps=[*RAW_KWB, RESOLUTION], group_name="staging", kinds={"duckdb", "view"},
                     description="View: one row per (year, region row, mapped numeric raw key) of every raw KWB "
                                 "table present, with the raw value (nulls kept); staging.kwb reads it."),
        dg.AssetSpec(KWB_REGION_ROWS, deps=[*RAW_KWB, RESOLUTION], group_name="staging", kinds={"duckdb", "view"},
                     description="View: one row per (year, region row) with the descriptors staging.areas needs "
                                 "(name, kind, code, comparability code, inhabitants, households)."),
    ],
)
def kwb_views(context: dg.AssetExecutionContext, bwm: BwmResource):
    """The harmonisation views over every raw KWB year: each year's own keys, lined up by the key resolution.

    Their SQL is written per year from ``staging.kwb_key_resolution`` (``views.py``), because each KWB year is
    its own raw table with its own column names; every SQL file of staging reads these views, never a key.
    """
    settings = bwm.settings
    with bwm.connect() as con:
        years = _present_years(con, settings)
        unpivoted, region_rows = views.kwb_view_sql(years, _resolution_frame(con))
        warehouse.create_view_from_sql(con, "staging", "kwb_unpivoted", unpivoted)
        warehouse.create_view_from_sql(con, "staging", "kwb_region_rows", region_rows)
    shown = ", ".join(str(year) for year, _, _ in years)
    yield dg.MaterializeResult(asset_key=KWB_UNPIVOTED, metadata={"years": shown})
    yield dg.MaterializeResult(asset_key=KWB_REGION_ROWS, metadata={"years": shown})


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=HEALTH_UNPIVOTED, deps=[dg.AssetKey(["raw", "health"]), *RAW_META],
          group_name="staging", kinds={"duckdb", "view"})
def health_unpivoted(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """View: one row per (age group, margin, region, period, mapped health topic) of the configured health table
    (BWM_HEALTH_TABLE), with the raw value and the canonical variable and unit; staging.health reads it."""
    source = registry.health_table(bwm.settings)
    with bwm.connect() as con:
        props = con.execute(
            "select key as \"Key\", type as \"Type\", unit as \"Unit\", datatype as \"Datatype\", "
            "title as \"Title\" from raw.cbs_data_properties where table_id = ? order by ordinal",
            [source.table_id]).pl().to_dicts()
        sql = views.health_view_sql(f"raw.{source.raw_table}", keymap.resolve_health(props, source.table_id))
        warehouse.create_view_from_sql(con, "staging", "health_unpivoted", sql)
    return dg.MaterializeResult(metadata={"table_id": source.table_id})


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=["staging", "herindelingen"], group_name="staging", kinds={"python"})
def gemeente_herindelingen(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """The municipal mergers of data/reference/gemeente_herindelingen.csv (bwm.herindelingen), real and synthetic
    alike. Grain: one row per (change_id, old_code): where the code went from first_year (the first KWB year
    showing the change), whether whole, and whether the change is complete (no gemeente only partly in it)."""
    frame = herindelingen.code_rows()
    with bwm.connect() as con:
        n = warehouse.replace_table_from_frame(con, "staging", "herindelingen", frame)
    return dg.MaterializeResult(metadata={"rows": n, "changes": frame["change_id"].n_unique(),
                                          "synthetic_rows": int(frame["synthetic"].sum())})


#: staging.areas, staging.kwb and staging.health: one SQL file each in this folder.
staging_sql_assets = sql_assets(Path(__file__).parent)
