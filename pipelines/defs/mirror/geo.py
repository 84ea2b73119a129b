"""The boundaries in the mirror: the CBS wijk- en buurtkaart per year, for the maps on the site."""

import dagster as dg

from bwm import geo
from pipelines.metadata import md_table
from pipelines.resources import BwmResource


@dg.asset(key=["mirror", "geo"], deps=[dg.AssetKey(["mirror", "cbs"])], group_name="mirror", kinds={"python"})
def mirror_geo(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """Boundaries per configured year: ``<mirror>/geo/<year>/{gemeenten,wijken,buurten}.geojson`` (WGS84).

    Grain: one folder per KWB year. demo: the synthetic shapes the generator wrote; mirror: whatever the
    folder holds (nothing is downloaded); live: years the mirror lacks are downloaded from PDOK
    (BWM_GEO_BASE_URL). Boundaries are optional: a failed download is reported here and the site says
    "geen kaart beschikbaar" for that year, so it never fails the refresh.
    """
    settings = bwm.settings
    rows = geo.ensure_boundaries(settings, progress=context.log.info)
    for r in rows:
        if r["status"] in ("failed", "unavailable", "partial"):
            context.log.warning(f"boundaries {r['year']}: {r['status']}; maps of that year show 'geen kaart'")
    status = md_table(["year", "status", "layers", "synthetic"],
                      [(r["year"], r["status"], ", ".join(r["layers"]), r["synthetic"]) for r in rows], limit=100)
    return dg.MaterializeResult(metadata={
        "years_with_buurten": sum("buurten" in r["layers"] for r in rows),
        "years": len(rows),
        "status": status,
    })
