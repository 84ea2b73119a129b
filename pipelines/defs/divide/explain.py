"""Where the divide grows: each buurt's contribution to the change of a divide measure, and why it changed.

The maths is :mod:`bwm.divide.explain`; these assets read its inputs from the warehouse and write its two tables.
"""

import dagster as dg

from bwm import warehouse
from bwm.divide import explain as divide_explain
from pipelines.resources import BwmResource

CONTRIBUTIONS = dg.AssetKey(["divide", "contributions"])
DECOMPOSITION = dg.AssetKey(["divide", "decomposition"])
#: Gemeenten explained at once: a sixth of the country, ~1 million contribution rows (~0.5 GB while it is built).
GEMEENTEN_PER_BATCH = 60
DEPS = [dg.AssetKey(["divide", "inputs"]), dg.AssetKey(["divide", "measures"]), dg.AssetKey(["indicators", "values"])]

#: The buurt rows of the divide with the series each buurt's figure belongs to (a break starts a new one) and the
#: concentration threshold of its gemeente and year (divide.measures; null where that measure does not apply).
INPUT_ROWS = """
select
    i.year, i.gemeente_code, i.level, i.indicator_id, i.direction, i.area_code, i.wijk_code, i.value,
    i.inhabitants, i.low_income_households, i.other_households,
    v.series_id,
    m.concentration_threshold_pct as threshold
from divide.inputs i
left join indicators.values v on v.year = i.year and v.area_code = i.area_code and v.indicator_id = i.indicator_id
left join divide.measures m
    on m.gemeente_code = i.gemeente_code and m.year = i.year and m.level = i.level and m.indicator_id = i.indicator_id
where i.level = 'buurt'
"""
#: The gemeenten's own figures, for each buurt's change against its gemeente's.
GEMEENTE_VALUES = """
select area_code as gemeente_code, indicator_id, year, value, series_id
from indicators.values where area_level = 'gemeente' and value is not null
"""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(CONTRIBUTIONS, deps=DEPS, group_name="divide", kinds={"python"}, description=(
            "Per (gemeente_code, level, indicator_id, measure, base_year, year, area_code), level buurt and the "
            "additive measures (gap, theil_*, dissimilarity, concentration_share_pct): the buurt's value and "
            "residents, its share (0..1) of its residents in the worst-off and best-off 20% and whether it entered "
            "or left them, its term of the measure in the base year and in year (measure's unit), its contribution "
            "to the change since the base year, and its value change against the gemeente's (indicator's unit).")),
        dg.AssetSpec(DECOMPOSITION, deps=DEPS, group_name="divide", kinds={"python"}, description=(
            "Per (gemeente_code, level, indicator_id, measure, base_year, latest_year), level buurt, every "
            "applicable measure: the total change split exactly into value_effect, population_effect (Shapley, over "
            "the buurten in both years) and boundary_effect (measure's unit), with n_common, n_appeared, "
            "n_disappeared.")),
    ],
    pool=warehouse.WAREHOUSE_POOL,
)
def divide_explain_assets(context: dg.AssetExecutionContext, bwm: BwmResource):
    """Both tables of bwm.divide.explain.explain, from the first year of each series to its latest.

    Computed for ``GEMEENTEN_PER_BATCH`` gemeenten at a time (the series of one gemeente never need another's), so
    the memory does not grow with the country: the contributions of all gemeenten are ~6 million rows. Both tables
    are written in one transaction."""
    with bwm.connect() as con:
        codes = [c for (c,) in con.execute(
            "select distinct gemeente_code from divide.inputs where level = 'buurt' order by 1").fetchall()]
        con.execute("begin transaction")
        try:
            counts = {"contributions": 0, "decomposition": 0}
            measures: set[str] = set()
            series = gemeenten = 0
            for first in range(0, max(len(codes), 1), GEMEENTEN_PER_BATCH):
                batch = codes[first:first + GEMEENTEN_PER_BATCH]
                rows = con.execute(INPUT_ROWS + " and i.gemeente_code in (select unnest($gm))", {"gm": batch}).pl()
                values = con.execute(GEMEENTE_VALUES + " and area_code in (select unnest($gm))", {"gm": batch}).pl()
                explained = divide_explain.explain(rows, gemeente_values=values)
                for name, frame in (("contributions", explained.contributions),
                                    ("decomposition", explained.decomposition)):
                    con.register("_bwm_frame", frame)
                    verb = "create or replace table divide.{} as" if first == 0 else "insert into divide.{}"
                    con.execute(f"{verb.format(name)} select * from _bwm_frame")
                    con.unregister("_bwm_frame")
                    counts[name] += frame.height
                decomposition = explained.decomposition
                measures |= set(explained.contributions["measure"])
                series += decomposition.select(divide_explain.SERIES_KEYS).n_unique() if decomposition.height else 0
                gemeenten += decomposition["gemeente_code"].n_unique()
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    yield dg.MaterializeResult(asset_key=CONTRIBUTIONS, metadata={
        "rows": counts["contributions"], "measures": ", ".join(sorted(measures)) or "none"})
    yield dg.MaterializeResult(asset_key=DECOMPOSITION, metadata={
        "rows": counts["decomposition"], "series": series, "gemeenten": gemeenten})


divide_explain_defs = [divide_explain_assets]
