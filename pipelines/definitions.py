"""The Dagster code location of the Brede Welvaart Monitor: every layer's assets, checks and the jobs."""

import dagster as dg

from bwm.ops.progress import progress_logger
from pipelines.defs.automation.schedules import nightly_refresh
from pipelines.defs.automation.sensors import (
    failed_check_alert,
    municipal_files,
    purge_old_runs,
    refresh_failure_alert,
)
from pipelines.defs.divide.assets import divide_assets
from pipelines.defs.divide.checks import divide_checks
from pipelines.defs.indicators.assets import indicator_assets
from pipelines.defs.indicators.checks import indicator_checks
from pipelines.defs.mirror.assets import mirror_cbs
from pipelines.defs.mirror.checks import mirror_checks
from pipelines.defs.mirror.geo import mirror_geo
from pipelines.defs.municipal.assets import municipal_assets
from pipelines.defs.municipal.checks import municipal_checks
from pipelines.defs.publish.exports import export_assets
from pipelines.defs.publish.model import model_assets
from pipelines.defs.publish.site import site_assets, site_checks
from pipelines.defs.publish.warehouse import warehouse_publish_asset
from pipelines.defs.raw.assets import raw_assets
from pipelines.defs.staging.assets import staging_assets
from pipelines.defs.staging.checks import staging_checks

_layer_assets = [mirror_cbs, mirror_geo, *raw_assets, *staging_assets, *municipal_assets, *indicator_assets,
                 *divide_assets, *model_assets, *export_assets, *site_assets]
#: The last step: the refresh's working copy becomes the warehouse readers open (downstream of everything).
all_assets = [*_layer_assets, warehouse_publish_asset([key for asset in _layer_assets for key in asset.keys])]
all_checks = [*mirror_checks, *staging_checks, *municipal_checks, *indicator_checks, *divide_checks, *site_checks]

#: The main job: the mirror, then every layer, with every check.
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    description="Bring the mirror up to date and rebuild every layer of the warehouse.",
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[refresh_job],
    schedules=[nightly_refresh],
    sensors=[
        municipal_files,
        refresh_failure_alert,
        failed_check_alert,
        purge_old_runs,
    ],
    loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    # One process per run: every step shares the run's resources, and only one step writes DuckDB at a
    # time (DuckDB has a single writer). On two cores parallel steps would gain little anyway.
    executor=dg.in_process_executor,
)
