"""The mirror layer: CBS tables as JSON folders on disk (downloaded, copied in, or generated for the demo)."""

import dagster as dg

from bwm.sources import ensure_mirror
from pipelines.metadata import md_table
from pipelines.resources import BwmResource


@dg.asset(key=["mirror", "cbs"], group_name="mirror", kinds={"python"})
def mirror_cbs(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """The CBS mirror folder: one folder per table (KWB per configured year, the health table BWM_HEALTH_TABLE).

    Grain: one folder per CBS table id. Source per BWM_SOURCE: demo (synthetic, generated once per
    scale and seed), mirror (an existing folder, checked), live (downloaded; unchanged tables skipped).
    """
    settings = bwm.settings
    statuses = ensure_mirror(settings, progress=context.log.info)
    status = md_table(["table", "kind", "year", "status", "modified", "rows"],
                      [(s["table_id"], s["kind"], s["year"], s["status"], s["modified"], s["row_count"])
                       for s in statuses], limit=100)
    return dg.MaterializeResult(
        metadata={
            "source": settings.source,
            "mirror_dir": str(settings.mirror_dir),
            "tables": len(statuses),
            "changed": sum(s["status"] in ("downloaded", "generated") for s in statuses),
            "status": status,
        }
    )
