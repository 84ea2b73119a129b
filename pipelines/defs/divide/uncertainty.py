"""How sure we are of the divide measures: divide.intervals and divide.change_intervals (bwm.divide.uncertainty)."""

import time

import dagster as dg
import polars as pl

from bwm import stapeling, warehouse
from bwm.divide.uncertainty import N_DRAWS, SEED, compute_intervals
from pipelines.resources import BwmResource

INTERVALS = dg.AssetKey(["divide", "intervals"])
CHANGE_INTERVALS = dg.AssetKey(["divide", "change_intervals"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(INTERVALS, group_name="divide", kinds={"python"},
                     deps=[dg.AssetKey(["divide", "inputs"]), dg.AssetKey(["divide", "measures"]),
                           dg.AssetKey(["indicators", "stapeling"]), dg.AssetKey(["indicators", "stapeling_inputs"])],
                     description="The interval of each divide measure, one row per (gemeente_code, year, level, "
                                 "indicator_id, measure): ci_low, ci_high, method 'monte_carlo_95' (health: "
                                 "2.5th-97.5th percentile of draws within the published 95% bounds) or "
                                 "'rounding_range' (KWB: range under CBS's rounding), n_draws."),
        dg.AssetSpec(CHANGE_INTERVALS, group_name="divide", kinds={"python"},
                     deps=[dg.AssetKey(["divide", "inputs"]), dg.AssetKey(["divide", "measures"])],
                     description="The interval of each divide measure's change, one row per (gemeente_code, "
                                 "level, indicator_id, measure): change_low/change_high (latest minus first "
                                 "year), change_previous_low/high (latest minus previous year); divide.trends "
                                 "reads it."),
    ],
    pool=warehouse.WAREHOUSE_POOL,
)
def intervals(context: dg.AssetExecutionContext, bwm: BwmResource):
    """Draws of every group's figures (seed bwm.divide.uncertainty.SEED and the group's key), the measures of
    each draw, and their percentiles or range: the maths and its limits are bwm.divide.uncertainty's."""
    with bwm.connect() as con:
        inputs = con.execute("select * from divide.inputs").pl()
        measures = con.execute("select * from divide.measures").pl()
        started = time.perf_counter()
        frame, changes = compute_intervals(inputs, measures)
        seconds = time.perf_counter() - started
        # The derived stapeling share: draws of every core figure of a gemeente at once (bwm.stapeling).
        started = time.perf_counter()
        shares = measures.filter(pl.col("indicator_id") == stapeling.PSEUDO_INDICATOR)
        s_frame, s_changes = stapeling.share_intervals(
            con.execute("select * from indicators.stapeling_inputs").pl(),
            con.execute("select * from indicators.stapeling").pl(), shares)
        stapeling_seconds = time.perf_counter() - started
        frame = pl.concat([frame, s_frame]).sort(["gemeente_code", "year", "level", "indicator_id", "measure"])
        changes = pl.concat([changes, s_changes]).sort(["gemeente_code", "level", "indicator_id", "measure"])
        n = warehouse.replace_table_from_frame(con, "divide", "intervals", frame)
        n_changes = warehouse.replace_table_from_frame(con, "divide", "change_intervals", changes)
    methods = {r["method"]: r["len"] for r in frame.group_by("method").len().to_dicts()}
    yield dg.MaterializeResult(asset_key=INTERVALS, metadata={
        "rows": n, "n_draws": N_DRAWS, "seed": SEED, "seconds": round(seconds, 1),
        "stapeling_seconds": round(stapeling_seconds, 1),
        **{f"rows_{m}": k for m, k in sorted(methods.items())}})
    yield dg.MaterializeResult(asset_key=CHANGE_INTERVALS, metadata={"rows": n_changes})


uncertainty_assets = [intervals]
