"""The indicators layer: the catalogue, values per area, series breaks, comparisons and theme summaries."""

import dagster as dg
import polars as pl

from bwm import catalogue, warehouse
from bwm.municipal import store as municipal_store
from bwm.municipal.catalogue import catalogue_rows as municipal_catalogue_rows
from bwm.settings import Settings

STAGING = [dg.AssetKey(["staging", n]) for n in ("areas", "kwb", "health")]
CATALOGUE = dg.AssetKey(["indicators", "catalogue"])
VALUES = dg.AssetKey(["indicators", "values"])
SERIES = dg.AssetKey(["indicators", "area_series"])
WEIGHTS = dg.AssetKey(["indicators", "weights"])
MUNICIPAL_INDICATORS = dg.AssetKey(["municipal", "indicators"])
MUNICIPAL_PUBLISHED = dg.AssetKey(["municipal", "published"])


def _sql_asset(name: str, deps: list[dg.AssetKey], doc: str):
    """An asset that is exactly `sql/indicators/<name>.sql`, wrapped in `create or replace table`."""

    @dg.asset(pool=warehouse.WAREHOUSE_POOL, key=["indicators", name], deps=deps, group_name="indicators", compute_kind="duckdb",
              description=doc)
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = Settings.from_env()
        with warehouse.connect(settings.work_warehouse_path) as con:
            n = warehouse.create_table_from_sql(con, "indicators", name)
            preview = warehouse.preview_markdown(con, f"select * from indicators.{name}")
        return dg.MaterializeResult(metadata={"rows": n, "preview": dg.MetadataValue.md(preview)})

    _asset.__name__ = f"indicators_{name}"
    return _asset


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=CATALOGUE, deps=[MUNICIPAL_INDICATORS], group_name="indicators", compute_kind="python")
def indicator_catalogue(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The indicator catalogue as a table. Grain: one row per indicator.

    CBS indicators from data/reference/indicators.yaml (their single source), then the indicators declared by
    the accepted municipal data files (municipal.indicators: source 'municipal', disclosure 'municipal').
    """
    settings = Settings.from_env()
    frame = catalogue.catalogue_frame()
    with warehouse.connect(settings.work_warehouse_path) as con:
        municipal_store.ensure_tables(con)
        declared = con.execute("select * from municipal.indicators order by indicator_id").pl()
        frame = pl.concat([frame, municipal_catalogue_rows(declared, frame)])
        n = warehouse.replace_table_from_frame(con, "indicators", "catalogue", frame)
    per_theme = frame.group_by("theme").len().sort("theme").to_dicts()
    return dg.MaterializeResult(metadata={"indicators": n, **{f"theme_{r['theme']}": r["len"] for r in per_theme}})


area_series = _sql_asset("area_series", [dg.AssetKey(["staging", "areas"])],
                         "Series breaks per (year, area_code) of the KWB geography: comparability code 2/3 or a new "
                         "code cuts an area's series (series_id changes, series_break true).")
weights = _sql_asset("weights", [*STAGING, MUNICIPAL_PUBLISHED],
                     "Residents and households per (source, year, area_code) for weighting (persons, households).")
values = _sql_asset("values", [*STAGING, CATALOGUE, SERIES, MUNICIPAL_PUBLISHED],
                    "One row per (year, area_code, indicator_id): value in the catalogue's unit, numerator and "
                    "denominator for ratios, source table and period, missing_reason when null, series flags. "
                    "Municipal figures come from municipal.published, so they are disclosure-controlled here "
                    "already (missing_reason suppressed_small_count).")
comparisons = _sql_asset("comparisons", [VALUES, CATALOGUE],
                         "One row per (year, area_code, indicator_id) with a value: against gemeente and NL, rank "
                         "and quartile (1 = best-off) within the gemeente and the warehouse.")
theme_summary = _sql_asset("theme_summary", [VALUES, CATALOGUE],
                           "One row per (year, area_code, theme): mean of direction-adjusted z-scores (a signal, "
                           "not a verdict) with the number of indicators it covers.")
aggregated = _sql_asset("aggregated", [VALUES, CATALOGUE, WEIGHTS],
                        "One row per (year, wijk or gemeente, indicator): our own aggregate of the buurten by the "
                        "catalogue's method, with its coverage (share of weight with a known value).")

indicator_assets = [indicator_catalogue, area_series, weights, values, comparisons, theme_summary, aggregated]
