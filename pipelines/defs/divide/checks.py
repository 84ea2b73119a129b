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


divide_checks = [divide_identities_hold, divide_measures_are_finite]
