"""The last step of a refresh: the working copy of the warehouse becomes the one readers open (bwm.warehouse)."""

import dagster as dg

from bwm import warehouse
from pipelines.resources import BwmResource

WAREHOUSE = dg.AssetKey(["publish", "warehouse"])


def warehouse_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """``publish/warehouse``, downstream of every other asset, so every refresh (whole or incremental) ends with it
    and a refresh with a failed step (or a failed blocking check) never publishes."""

    @dg.asset(key=WAREHOUSE, deps=upstream, group_name="publish", kinds={"duckdb"}, pool=warehouse.WAREHOUSE_POOL)
    def publish_warehouse(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
        """BWM_WAREHOUSE, the warehouse readers open: after this refresh's steps all succeeded, its working copy
        (.<name>.refresh beside it) is copied beside it and renamed over it. Readers that have the previous file
        open keep reading that snapshot; new connections see this refresh. Grain: one DuckDB file."""
        settings = bwm.settings
        published = warehouse.publish(settings)
        context.log.info(f"warehouse published: {published['path']} ({published['bytes'] / 1e6:.1f} MB)")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(published["path"]),
                                              "bytes": published["bytes"]})

    return publish_warehouse
