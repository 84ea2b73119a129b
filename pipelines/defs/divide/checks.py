"""Asset checks on the divide measures: the identities that must hold whatever the data."""

import dagster as dg

from pipelines.defs.staging.checks import _md, _query

MEASURES = dg.AssetKey(["divide", "measures"])
IDENTITY_TOLERANCE = 1e-9


@dg.asset_check(asset=MEASURES, description="Theil total = between + within (to 1e-9); ratio >= 1; Theil >= 0.")
def divide_identities_hold() -> dg.AssetCheckResult:
    theil = _query(
        f"select gemeente_code, year, indicator_id, theil_total, theil_between + theil_within from divide.measures "
        f"where theil_between is not null and abs(theil_total - theil_between - theil_within) > {IDENTITY_TOLERANCE}"
    )
    ratio = _query("select gemeente_code, year, indicator_id, ratio from divide.measures where ratio < 1 - 1e-12")
    negative = _query("select gemeente_code, year, indicator_id, theil_total from divide.measures "
                      "where theil_total < -1e-12 or theil_between < -1e-12 or theil_within < -1e-12")
    checked = _query("select count(*) from divide.measures where theil_between is not null")[0][0]
    return dg.AssetCheckResult(
        passed=not (theil or ratio or negative),
        metadata={"theil_rows_checked": checked, "theil_identity_violations": len(theil),
                  "ratio_below_1": len(ratio), "negative_theil": len(negative),
                  "examples": _md(["gemeente", "year", "indicator", "a", "b"], theil + ratio)},
    )


divide_checks = [divide_identities_hold]
