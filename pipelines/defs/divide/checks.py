"""Asset checks on the divide measures: the identities that must hold whatever the data."""

import dagster as dg

from pipelines.metadata import md_table
from pipelines.resources import BwmResource

MEASURES = dg.AssetKey(["divide", "measures"])
IDENTITY_TOLERANCE = 1e-9


#: Blocking: a failure stops the site and the exports from being replaced (README, "Checks that block").
@dg.asset_check(asset=MEASURES, blocking=True,
                description="Theil total = between + within (to 1e-9); ratio >= 1; Theil >= 0.")
def divide_identities_hold(bwm: BwmResource) -> dg.AssetCheckResult:
    theil = bwm.query(
        f"select gemeente_code, year, indicator_id, theil_total, theil_between + theil_within from divide.measures "
        f"where theil_between is not null and abs(theil_total - theil_between - theil_within) > {IDENTITY_TOLERANCE}"
    )
    ratio = bwm.query("select gemeente_code, year, indicator_id, ratio from divide.measures where ratio < 1 - 1e-12")
    negative = bwm.query("select gemeente_code, year, indicator_id, theil_total from divide.measures "
                      "where theil_total < -1e-12 or theil_between < -1e-12 or theil_within < -1e-12")
    checked = bwm.query("select count(*) from divide.measures where theil_between is not null")[0][0]
    return dg.AssetCheckResult(
        passed=not (theil or ratio or negative),
        metadata={"theil_rows_checked": checked, "theil_identity_violations": len(theil),
                  "ratio_below_1": len(ratio), "negative_theil": len(negative),
                  "examples": md_table(["gemeente", "year", "indicator", "a", "b"], theil + ratio)},
    )


@dg.asset_check(asset=MEASURES, blocking=True,
                description="No divide measure is infinite or NaN (a null means 'cannot be computed').")
def divide_measures_are_finite(bwm: BwmResource) -> dg.AssetCheckResult:
    columns = [r[0] for r in bwm.query(
        "select column_name from information_schema.columns where table_schema = 'divide' "
        "and table_name = 'measures' and data_type = 'DOUBLE' order by ordinal_position")]
    bad = bwm.query(
        "select gemeente_code, year, indicator_id from divide.measures where "
        + (" or ".join(f"not isfinite({c})" for c in columns) or "false") + " order by 1, 2, 3")
    return dg.AssetCheckResult(passed=not bad, metadata={"columns": len(columns), "non_finite_rows": len(bad),
                               "examples": md_table(["gemeente", "year", "indicator"], bad)})


@dg.asset_check(asset=dg.AssetKey(["divide", "decomposition"]),
                description="value + population + boundary effect = total change, to 1e-9 of the measure's scale.")
def divide_decomposition_adds_up(bwm: BwmResource) -> dg.AssetCheckResult:
    bad = bwm.query(
        "select gemeente_code, indicator_id, measure, total_change, value_effect + population_effect + boundary_effect "
        "from divide.decomposition where value_effect is not null and abs(total_change - value_effect - "
        "population_effect - boundary_effect) > 1e-9 * greatest(1, abs(base_value), abs(latest_value)) "
        "order by 1, 2, 3")
    checked, split = bwm.query("select count(*), count(value_effect) from divide.decomposition")[0]
    return dg.AssetCheckResult(passed=not bad, metadata={
        "rows_checked": checked, "rows_split": split, "violations": len(bad),
        "examples": md_table(["gemeente", "indicator", "measure", "total", "sum of parts"], bad[:20])})


divide_checks = [divide_identities_hold, divide_measures_are_finite, divide_decomposition_adds_up]
