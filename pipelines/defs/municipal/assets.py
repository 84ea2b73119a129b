"""The municipal layer: the data files of the drop folder (BWM_MUNICIPAL_DIR), validated, then made publishable."""

import datetime as dt

import dagster as dg
import polars as pl

from bwm import catalogue, disclosure, warehouse
from bwm.municipal import store
from bwm.municipal.folder import scan_folder
from bwm.municipal.geography import Geography
from bwm.municipal.publish import publishable
from pipelines.metadata import md_table
from pipelines.resources import BwmResource

AREAS = dg.AssetKey(["staging", "areas"])
FILE_STATUS = dg.AssetKey(["municipal", "file_status"])
VALUES = dg.AssetKey(["municipal", "values"])
INDICATORS = dg.AssetKey(["municipal", "indicators"])
TARGETS = dg.AssetKey(["municipal", "targets"])
PUBLISHED = dg.AssetKey(["municipal", "published"])


@dg.multi_asset(
    pool=warehouse.WAREHOUSE_POOL,
    specs=[
        dg.AssetSpec(FILE_STATUS, deps=[AREAS], group_name="municipal", kinds={"python"},
                     description="One row per file (and sheet of a workbook) in the drop folder at this refresh: "
                                 "status accepted/rejected, data rows, indicators, the validation report, sha256."),
        dg.AssetSpec(VALUES, deps=[AREAS], group_name="municipal", kinds={"python"},
                     description="The figures of accepted files as delivered, one row per (year, area_code, "
                                 "indicator_id): value (count, or rate in % or per 1 000), n_cases for rates. "
                                 "Not disclosure-controlled: never published from here."),
        dg.AssetSpec(INDICATORS, deps=[AREAS], group_name="municipal", kinds={"python"},
                     description="One row per declared indicator of the accepted files (joins indicators.catalogue)."),
        dg.AssetSpec(TARGETS, deps=[AREAS], group_name="municipal", kinds={"python"},
                     description="The targets (ambities) of the accepted targets files (ambities*.csv/xlsx): one row "
                                 "per (area_code, indicator_id): target_value in the indicator's unit, target_year, "
                                 "base_year (null: the first year with a figure), file and row."),
    ],
)
def municipal_files(context: dg.AssetExecutionContext, bwm: BwmResource):
    """Read, declare and validate every file in BWM_MUNICIPAL_DIR. A file with any problem is rejected whole and
    the refresh goes on; the check ``municipal_files_accepted`` fails with its report."""
    settings = bwm.settings
    units = {ind.id: ind.unit for ind in catalogue.indicators()}
    with bwm.connect() as con:
        geo = Geography.from_warehouse(con)
        result = scan_folder(settings.municipal_dir, geo, frozenset(units), units=units)
        checked_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        store.ensure_tables(con)
        status = result.status_frame(checked_at)
        values = result.values_frame()
        indicators = result.indicators_frame()
        warehouse.replace_table_from_frame(con, "municipal", "file_status", status)
        warehouse.replace_table_from_frame(con, "municipal", "values", values)
        warehouse.replace_table_from_frame(con, "municipal", "indicators", indicators)
        targets = result.targets_frame()
        warehouse.replace_table_from_frame(con, "municipal", "targets", targets)
    for f in result.rejected:
        context.log.info(f"municipal file rejected: {f.file}\n{f.report()}")
    table = md_table(["file", "sheet", "status", "rows", "indicators"],
                     [(r["file"], r["sheet"], r["status"], r["n_rows"], r["n_indicators"])
                      for r in status.iter_rows(named=True)], limit=200)
    yield dg.MaterializeResult(asset_key=FILE_STATUS, metadata={
        "folder": str(settings.municipal_dir), "files": len(result.files), "accepted": len(result.accepted),
        "rejected": len(result.rejected), "status": table,
    })
    yield dg.MaterializeResult(asset_key=VALUES, metadata={
        "rows": values.height, "indicators": values["indicator_id"].n_unique(),
        "years": ", ".join(str(y) for y in sorted(values["year"].unique().to_list())),
    })
    yield dg.MaterializeResult(asset_key=INDICATORS, metadata={
        "indicators": indicators.height, "ids": ", ".join(indicators["indicator_id"].to_list()) or "none",
    })
    yield dg.MaterializeResult(asset_key=TARGETS, metadata={
        "targets": targets.height, "gemeenten": ", ".join(sorted(set(targets["gemeente_code"].to_list()))) or "none",
    })


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=PUBLISHED, deps=[VALUES, INDICATORS, AREAS], group_name="municipal",
          kinds={"python"})
def municipal_published(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """Municipal figures as they may be published: one row per (year, area_code, indicator_id) for every area of a
    delivering municipality at the declared level and above (wijk and gemeente totals by the catalogue's method:
    counts summed, rates as summed numerators over summed cases), after disclosure control (``bwm.disclosure``):
    counts below BWM_DISCLOSURE_MIN_COUNT, rates whose numerator or complement is below BWM_DISCLOSURE_MIN_CASES,
    and the cells hidden so that no suppressed cell can be computed or narrowly bounded from the totals are null
    with the one missing_reason 'suppressed_small_count'. Value in the indicator's unit (count, % or per 1 000)."""
    settings = bwm.settings
    rule = disclosure.DisclosureRule(settings.disclosure_min_count, settings.disclosure_min_cases)
    with bwm.connect() as con:
        store.ensure_tables(con)
        geo = Geography.from_warehouse(con)
        values = con.execute("select * from municipal.values").pl()
        indicators = con.execute("select * from municipal.indicators").pl()
        frame = publishable(values, indicators, geo, rule)
        n = warehouse.replace_table_from_frame(con, "municipal", "published", frame)
        warehouse.replace_table_from_frame(con, "municipal", "disclosure_rule", pl.DataFrame(
            {"min_count": [rule.min_count], "min_cases": [rule.min_cases]}))
    reasons = frame.group_by("missing_reason").len().to_dicts()
    counts = {r["missing_reason"] or "published": r["len"] for r in reasons}
    return dg.MaterializeResult(metadata={
        "rows": n, "min_count": rule.min_count, "min_cases": rule.min_cases,
        "published": counts.get("published", 0),
        "suppressed_small_count": counts.get(disclosure.SUPPRESSED_SMALL_COUNT, 0),
        "not_published": counts.get("not_published", 0),
    })


municipal_assets = [municipal_files, municipal_published]
