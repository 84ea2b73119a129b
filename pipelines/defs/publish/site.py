"""The static site: the pages the poverty coordinator reads, built from the warehouse (bwm.site)."""

import dagster as dg

from bwm import warehouse
from bwm.site import check
from bwm.site.build import PAGE_BUDGET_BYTES, build_site
from pipelines.defs.publish.model import MODEL_KEYS
from pipelines.defs.publish.policy import freshness_policy
from pipelines.resources import BwmResource

SITE = dg.AssetKey(["publish", "site"])


# The pages are made of the whole publish model, the sources' metadata and the mirror's boundary files.
@dg.asset(key=SITE, deps=[*MODEL_KEYS.values(), dg.AssetKey(["raw", "cbs_tables"]), dg.AssetKey(["mirror", "geo"])],
          group_name="publish", kinds={"jinja"}, pool=warehouse.WAREHOUSE_POOL, freshness_policy=freshness_policy())
def publish_site(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """The static site in BWM_SITE_DIR, built atomically (a failed build leaves the previous site).

    Grain: one page per gemeente, wijk, buurt and (gemeente, indicator), plus the index and the about
    page; plotly.js once in assets/. Metadata: pages per kind and the largest page of each kind (bytes), and how
    many gemeenten were rendered or kept from the previous build (their data unchanged: bwm.site.reuse).
    """
    settings = bwm.settings
    result = build_site(settings.work_warehouse_path, settings.site_dir, mirror_dir=settings.mirror_dir,
                        progress=context.log.debug)
    context.log.info(f"site: {sum(result.pages.values())} pages in {result.seconds:.1f} s ({result.rendered} gemeenten "
                     f"rendered, {result.reused} unchanged since the previous build) -> {result.index}")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(result.index)),
        "pages": sum(result.pages.values()),
        **{f"pages_{kind}": n for kind, n in sorted(result.pages.items())},
        **{f"largest_{kind}_bytes": size for kind, (_, size) in sorted(result.largest.items())},
        "changes": result.changes.get("kind", ""),
        "synthetic": result.synthetic,
        "gemeenten_rendered": result.rendered,
        "gemeenten_reused": result.reused,
        "seconds": round(result.seconds, 2),
    })


@dg.asset_check(asset=SITE, description="Every internal link of the site resolves, and none leaves the machine.")
def site_links_resolve(bwm: BwmResource) -> dg.AssetCheckResult:
    report = check.check_links(bwm.settings.site_dir)
    return dg.AssetCheckResult(
        passed=not report.broken and not report.external,
        metadata={"pages": report.pages, "links": report.links, "broken": len(report.broken),
                  "external": len(report.external),
                  "examples": dg.MetadataValue.json([list(b) for b in (report.broken + report.external)[:10]])},
    )


@dg.asset_check(asset=SITE, description="Every wijk and buurt page is at most 300 KB (plotly.js not counted).")
def site_pages_within_budget(bwm: BwmResource) -> dg.AssetCheckResult:
    sizes = check.page_sizes(bwm.settings.site_dir)
    over = {p: s for p, s in sizes.items() if s > PAGE_BUDGET_BYTES}
    largest = max(sizes.items(), key=lambda kv: kv[1]) if sizes else ("", 0)
    return dg.AssetCheckResult(
        passed=not over,
        metadata={"pages": len(sizes), "budget_bytes": PAGE_BUDGET_BYTES, "largest_page": largest[0],
                  "largest_bytes": largest[1], "over_budget": dg.MetadataValue.json(over)},
    )


site_assets = [publish_site]
site_checks = [site_links_resolve, site_pages_within_budget]
