"""The Dagster code location of the Brede Welvaart Monitor: every layer's assets, checks and the jobs."""

import dagster as dg

from pipelines.defs.divide.assets import divide_assets
from pipelines.defs.divide.checks import divide_checks
from pipelines.defs.indicators.assets import indicator_assets
from pipelines.defs.indicators.checks import indicator_checks
from pipelines.defs.mirror.assets import mirror_cbs
from pipelines.defs.raw.assets import raw_assets
from pipelines.defs.staging.assets import staging_assets
from pipelines.defs.staging.checks import staging_checks

all_assets = [mirror_cbs, *raw_assets, *staging_assets, *indicator_assets, *divide_assets]
all_checks = [*staging_checks, *indicator_checks, *divide_checks]

#: The main job: the mirror, then every layer, with every check.
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    description="Bring the mirror up to date and rebuild every layer of the warehouse.",
)

defs = dg.Definitions(assets=all_assets, asset_checks=all_checks, jobs=[refresh_job])
