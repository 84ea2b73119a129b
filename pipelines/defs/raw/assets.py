"""The raw layer: each CBS table as delivered (CBS keys, padded codes, nulls), plus table metadata."""

import dagster as dg

from bwm import registry, warehouse
from bwm.cbs.load import load_typed_dataset, metadata_frames
from bwm.harmonise import keymap
from bwm.settings import KWB_YEARS
from bwm.sources import expected_tables
from pipelines.resources import BwmResource

MIRROR = dg.AssetKey(["mirror", "cbs"])


@dg.multi_asset(
    pool=warehouse.WAREHOUSE_POOL,
    specs=[
        dg.AssetSpec(["raw", "cbs_tables"], deps=[MIRROR], group_name="raw", kinds={"duckdb"},
                     description="One row per CBS table in the mirror: title, period, CBS Modified, retrieval time."),
        dg.AssetSpec(["raw", "cbs_data_properties"], deps=[MIRROR], group_name="raw", kinds={"duckdb"},
                     description="One row per (table_id, DataProperties entry): key, type, title, unit, datatype."),
        dg.AssetSpec(["raw", "cbs_dimensions"], deps=[MIRROR], group_name="raw", kinds={"duckdb"},
                     description="One row per (table_id, dimension, key): the dimension files, e.g. region names."),
    ],
)
def raw_cbs_metadata(context: dg.AssetExecutionContext, bwm: BwmResource):
    """Table metadata of every expected mirror table."""
    settings = bwm.settings
    table_ids = [t.table_id for t in expected_tables(settings)]
    frames = metadata_frames(settings.mirror_dir, table_ids)
    with bwm.connect() as con:
        for name, frame in frames.items():
            table = f"cbs_{name}"
            n = warehouse.replace_table_from_frame(con, "raw", table, frame)
            yield dg.MaterializeResult(asset_key=["raw", table], metadata={"rows": n})


def _kwb_raw_asset(year: int) -> dg.AssetsDefinition:
    @dg.asset(
        pool=warehouse.WAREHOUSE_POOL,
        key=["raw", f"kwb_{year}"],
        deps=[MIRROR],
        group_name="raw",
        kinds={"duckdb"},
        tags={"source": "cbs-kwb"},
        description=(
            f"KWB {year} as CBS delivered it: one row per region (gemeente, wijk, buurt, land), one column "
            "per CBS key of that year's table; codes space-padded, suppressed values null."
        ),
    )
    def _asset(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
        settings = bwm.settings
        table_id = keymap.kwb_table(year).table_id
        with bwm.connect() as con:
            if year not in settings.years:
                con.execute(f"drop table if exists raw.kwb_{year}")
                return dg.MaterializeResult(metadata={"rows": 0, "table_id": table_id, "note": "year not configured"})
            n = load_typed_dataset(con, settings.mirror_dir, table_id, "raw", f"kwb_{year}")
        context.log.info(f"raw.kwb_{year}: {n} rows from {table_id}")
        return dg.MaterializeResult(metadata={"rows": n, "table_id": table_id})

    _asset.__name__ = f"raw_kwb_{year}"
    return _asset


raw_kwb_assets = [_kwb_raw_asset(year) for year in KWB_YEARS]


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=["raw", "health"], deps=[MIRROR], group_name="raw", kinds={"duckdb"},
          tags={"source": "cbs-health"})
def raw_health(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """The configured health table (BWM_HEALTH_TABLE: 50120NED or 50090NED, "Gezondheid per wijk en buurt")
    as delivered: one row per (Leeftijd, Marges, region, Perioden), one column per CBS key."""
    settings = bwm.settings
    source = registry.health_table(settings)
    with bwm.connect() as con:
        n = load_typed_dataset(con, settings.mirror_dir, source.table_id, "raw", source.raw_table)
    context.log.info(f"raw.{source.raw_table}: {n} rows from {source.table_id}")
    return dg.MaterializeResult(metadata={"rows": n, "table_id": source.table_id})


raw_assets = [raw_cbs_metadata, raw_health, *raw_kwb_assets]
