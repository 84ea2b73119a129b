"""The Dagster code location of the Brede Welvaart Monitor.

Every asset, check, schedule and sensor lives in the folder of its layer under ``pipelines/defs/`` and is found
there (``dg.load_from_defs_folder``): adding a SQL table to a layer means adding one file, and nothing here
lists the layers. Only what cuts across them is added by hand: the resource every step receives, the last step
that publishes the warehouse (downstream of every other asset), the job, the loggers and the executor.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.publish.warehouse import warehouse_publish_asset
from pipelines.ops.progress import progress_logger
from pipelines.resources import BwmResource

_layers = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
_layer_keys = sorted({key for asset in _layers.assets or [] if isinstance(asset, dg.AssetsDefinition)
                      for key in asset.keys},
                     key=lambda k: k.to_user_string())

#: The main job: the mirror, then every layer, with every check.
refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    description="Bring the mirror up to date and rebuild every layer of the warehouse.",
)

#: The last step: the refresh's working copy becomes the warehouse readers open (downstream of every other asset).
publish_warehouse = warehouse_publish_asset(_layer_keys)


def definitions(bwm: BwmResource | None = None) -> dg.Definitions:
    """The code location with ``bwm`` as the run's resource (default: the BWM_ variables of the process).

    ``bwm run`` and the tests pass the settings of their run here; Dagster's tools load ``defs``.
    """
    return dg.Definitions.merge(
        _layers,
        dg.Definitions(
            assets=[publish_warehouse],
            jobs=[refresh_job],
            resources={"bwm": bwm or BwmResource()},
            loggers={"console": dg.colored_console_logger, "progress": progress_logger},
            # One process per run: every step shares the run's resources, and only one step writes DuckDB at a
            # time (DuckDB has a single writer). On two cores parallel steps would gain little anyway.
            executor=dg.in_process_executor,
        ),
    )


defs = definitions()
