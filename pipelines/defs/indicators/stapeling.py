"""Where disadvantages pile up: indicators.stapeling and indicators.samenhang (the maths is bwm.stapeling)."""

import dagster as dg

from bwm import catalogue, stapeling, warehouse
from pipelines.resources import BwmResource

STAPELING = dg.AssetKey(["indicators", "stapeling"])
SAMENHANG = dg.AssetKey(["indicators", "samenhang"])
INPUTS = dg.AssetKey(["indicators", "stapeling_inputs"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(STAPELING, group_name="indicators", kinds={"python"}, deps=[INPUTS],
                     description="Where disadvantages pile up. Grain: one row per (year, area_code, scope) of every "
                                 "buurt in a scored year (the health periods), scope 'gemeente' (the worst-off 20% of "
                                 "the gemeente's residents) or 'warehouse' (of all buurten in the warehouse): n_core, "
                                 "n_with_value and coverage_pct (% of the core set with a value), n_indicators_worst20 "
                                 "and n_themes_worst20 (counts), themes_worst20 and indicators_worst20 (';'-joined "
                                 "ids), score_reason (coverage_below_threshold, no_residents: counts null)."),
        dg.AssetSpec(SAMENHANG, group_name="indicators", kinds={"python"}, deps=[INPUTS],
                     description="Samenhang. Grain: one row per (year, gemeente_code, indicator_a, indicator_b) of the "
                                 "catalogue's stapeling samenhang list: rho, the residents-weighted Spearman "
                                 "correlation (-1..1, oriented so that positive means the disadvantages coincide) over "
                                 "n_buurten buurten with both values; status computed, too_few_buurten (fewer than "
                                 "min_buurten, rho null) or no_variation (rho null)."),
    ],
    pool=warehouse.WAREHOUSE_POOL,
)
def stapeling_tables(context: dg.AssetExecutionContext, bwm: BwmResource):
    """Both tables from indicators.stapeling_inputs with the catalogue's stapeling rule (bwm.stapeling)."""
    rule = catalogue.stapeling()
    with bwm.connect() as con:
        inputs = con.execute("select * from indicators.stapeling_inputs").pl()
        scores = stapeling.score_table(inputs, rule)
        samenhang = stapeling.samenhang_table(inputs, rule)
        n = warehouse.replace_table_from_frame(con, "indicators", "stapeling", scores)
        n_pairs = warehouse.replace_table_from_frame(con, "indicators", "samenhang", samenhang)
    reasons = {r["score_reason"] or "scored": r["len"] for r in scores.group_by("score_reason").len().to_dicts()}
    yield dg.MaterializeResult(asset_key=STAPELING, metadata={
        "rows": n, "years": ", ".join(str(y) for y in sorted(scores["year"].unique().to_list())),
        "min_coverage_pct": rule.min_coverage_pct, **{f"rows_{k}": v for k, v in sorted(reasons.items())}})
    statuses = {r["status"]: r["len"] for r in samenhang.group_by("status").len().to_dicts()}
    yield dg.MaterializeResult(asset_key=SAMENHANG, metadata={
        "rows": n_pairs, "min_buurten": rule.min_buurten, **{f"pairs_{k}": v for k, v in sorted(statuses.items())}})


stapeling_assets = [stapeling_tables]
