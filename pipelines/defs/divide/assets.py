"""The divide layer: how far apart the neighbourhoods of each gemeente are, and whether that grows."""

from pathlib import Path

import dagster as dg
import polars as pl

from bwm import stapeling, warehouse
from bwm.divide.build import CONCENTRATION_INDICATOR, compute_measures, compute_trends
from pipelines.resources import BwmResource
from pipelines.sql import sql_assets

INPUTS = dg.AssetKey(["divide", "inputs"])
MEASURES = dg.AssetKey(["divide", "measures"])
STAPELING = dg.AssetKey(["indicators", "stapeling"])
STAPELING_INPUTS = dg.AssetKey(["indicators", "stapeling_inputs"])
def stapeling_measures(con) -> pl.DataFrame:
    """The rows of divide.measures of the derived measure stapeling_share_pct (pseudo-indicator 'stapeling', level
    buurt; bwm.stapeling.share_measures): they sit in the same table, trends and exports as the other measures."""
    scores = con.execute("select * from indicators.stapeling").pl()
    inputs = con.execute("select * from indicators.stapeling_inputs").pl()
    return stapeling.share_measures(scores, source_tables=stapeling.source_tables(inputs))


def national_share(con) -> dict[int, tuple[float, str]]:
    """Per year, the share of households at the social minimum that concentration is measured against.

    CBS's national figure (area_level 'land') where the source has it; otherwise the household-weighted
    share over every gemeente in the warehouse, labelled as such (basis 'warehouse').
    """
    rows = con.execute(
        """
        with v as (
            select v.year, v.area_level, v.value, w.households
            from indicators.values v
            left join indicators.weights w on w.source = 'kwb' and w.year = v.year and w.area_code = v.area_code
            where v.indicator_id = ? and v.value is not null
        )
        select year,
               max(value) filter (area_level = 'land') as nl,
               sum(value * households) filter (area_level = 'gemeente')
                   / sum(households) filter (area_level = 'gemeente')
        from v group by year order by year
        """,
        [CONCENTRATION_INDICATOR],
    ).fetchall()
    return {y: ((nl, "nederland") if nl is not None else (wh, "warehouse")) for y, nl, wh in rows if (nl or wh)}


def with_territory(frame: pl.DataFrame, source: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``territory_year`` from ``source`` (divide.inputs or divide.measures): the latest KWB year
    when a figure of today's gemeente was computed over its predecessors' neighbourhoods together (per measure row
    that year's flag; per trend the flag of any of its years), null for an unmerged gemeente."""
    keys = [k for k in ("gemeente_code", "year", "level", "indicator_id") if k in frame.columns]
    flags = source.group_by(keys).agg(pl.col("territory_year").max())
    return frame.join(flags, on=keys, how="left")


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=MEASURES,
          deps=[INPUTS, dg.AssetKey(["indicators", "values"]), dg.AssetKey(["indicators", "weights"]),
                STAPELING, STAPELING_INPUTS],
          group_name="divide", kinds={"python"})
def measures(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """Divide measures per (gemeente_code, year, level, indicator_id), level = buurt or wijk.

    territory_year: set when today's gemeente's figure is computed over its predecessors' buurten (with_territory).
    Population-weighted over that year's neighbourhoods: worst20_mean/best20_mean/gap (indicator's unit),
    ratio (>= 1), weighted_std (unit), cv (unit-free), Theil total/between/within (income only),
    dissimilarity (0-1, low-income households, buurten), concentration_share_pct (% of residents); and under the
    pseudo-indicator 'stapeling' (level buurt) stapeling_share_pct (% of residents of scored buurten that are
    worst-off within the gemeente on at least min_themes themes; from indicators.stapeling, bwm.stapeling).
    """
    settings = bwm.settings
    with bwm.connect() as con:
        inputs = con.execute("select * from divide.inputs").pl()
        shares = national_share(con)
        frame = with_territory(compute_measures(inputs, shares, settings.concentration_factor), inputs)
        frame = pl.concat([frame, stapeling_measures(con)], how="diagonal_relaxed").select(frame.columns)
        n = warehouse.replace_table_from_frame(con, "divide", "measures", frame)
    basis = sorted({b for _, b in shares.values()})
    return dg.MaterializeResult(metadata={
        "rows": n, "gemeenten": frame["gemeente_code"].n_unique(), "years": frame["year"].n_unique(),
        "concentration_factor": settings.concentration_factor, "concentration_basis": ", ".join(basis) or "none",
    })


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=["divide", "trends"],
          deps=[MEASURES, dg.AssetKey(["divide", "change_intervals"])], group_name="divide", kinds={"python"})
def trends(context: dg.AssetExecutionContext, bwm: BwmResource) -> dg.MaterializeResult:
    """Trend of each divide measure per (gemeente_code, level, indicator_id, measure) over the years.

    slope_per_year (measure's unit per year), change since the first and previous year, and a label:
    'widening', 'narrowing', 'no clear change' or 'too few years' (rule: bwm.divide.measures.trends_by_segment;
    measures from bwm.divide.registry): widening or narrowing only when the interval of the change
    (divide.change_intervals, copied here as change_low/change_high) excludes zero; label_reason says why.
    """
    with bwm.connect() as con:
        measures_frame = con.execute("select * from divide.measures").pl()
        changes = con.execute("select * from divide.change_intervals").pl()
        frame = with_territory(compute_trends(measures_frame, changes), measures_frame)
        n = warehouse.replace_table_from_frame(con, "divide", "trends", frame)
    labels = frame.group_by("label").len().sort("label")
    return dg.MaterializeResult(metadata={"rows": n, **{f"label_{r['label']}": r["len"] for r in labels.to_dicts()}})


#: divide.inputs (a view): the SQL file in this folder.
divide_sql_assets = sql_assets(Path(__file__).parent)
divide_assets = [measures, trends]
