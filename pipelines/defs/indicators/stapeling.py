"""Where disadvantages pile up: indicators.stapeling and indicators.samenhang (the maths is bwm.stapeling)."""

import dagster as dg

from bwm import catalogue, stapeling, warehouse
from pipelines.metadata import md_table
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


@dg.asset_check(asset=STAPELING, description="Every buurt-year has a score or a reason, never both (no silent 0), and "
                                            "the counts stay within what has a value.")
def stapeling_scores_or_reasons(bwm: BwmResource) -> dg.AssetCheckResult:
    bad = bwm.query(
        "select year, area_code, scope, n_with_value, n_indicators_worst20, n_themes_worst20, score_reason "
        "from indicators.stapeling where (score_reason is null) = (n_themes_worst20 is null) "
        "or (score_reason is null) = (n_indicators_worst20 is null) or n_themes_worst20 > n_themes_covered "
        "or n_indicators_worst20 > n_with_value or coverage_pct < 0 or coverage_pct > 100 "
        "order by year, area_code, scope limit 20")
    return dg.AssetCheckResult(passed=not bad, metadata={"rows": md_table(
        ["year", "area_code", "scope", "n_with_value", "n_indicators", "n_themes", "reason"], bad)})


@dg.asset_check(asset=SAMENHANG, description="A correlation lies within -1..1 and is given exactly where enough "
                                            "buurten had both values.")
def samenhang_within_bounds(bwm: BwmResource) -> dg.AssetCheckResult:
    bad = bwm.query(
        "select year, gemeente_code, indicator_a, indicator_b, n_buurten, rho, status from indicators.samenhang "
        "where (rho is not null and (rho < -1 or rho > 1 or isnan(rho))) or (status = 'computed') <> (rho is not null) "
        "or (status = 'too_few_buurten') <> (n_buurten < min_buurten) limit 20")
    return dg.AssetCheckResult(passed=not bad, metadata={"rows": md_table(
        ["year", "gemeente", "a", "b", "n", "rho", "status"], bad)})


stapeling_assets = [stapeling_tables]
