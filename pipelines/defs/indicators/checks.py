"""Asset checks on the indicators layer."""

import dagster as dg

from bwm import catalogue
from pipelines.metadata import md_table
from pipelines.resources import BwmResource

VALUES = dg.AssetKey(["indicators", "values"])
AGGREGATED = dg.AssetKey(["indicators", "aggregated"])

#: A gemeente figure and our aggregate of its buurten may differ by CBS's rounding and by residents
#: without a known address; beyond this relative difference the check fails. Real data: Den Haag 2019
#: Wmo clients per 1 000 differ by 3.2% (CBS 71.0, buurten 68.7), so 3% was too tight.
AGGREGATE_TOLERANCE = 0.05
#: Compare only where the buurten with a known value hold this share of the weight. Ratios of counts need
#: every buurt: CBS suppresses small counts, so the known buurten are a biased part of the gemeente.
MIN_COVERAGE = {"weighted_mean": 0.95, "ratio": 0.999}
#: CBS publishes rounded figures (distances to 0.1 km, some percentages to whole numbers, incomes to
#: 100 euro), so small values also get one unit of the last published digit as absolute tolerance.
ROUNDING_UNIT = {"km": 0.1, "pct": 1.0, "eur": 100.0, "per_1000": 1.0, "persons": 0.1}
#: CBS rounds counts per buurt to tens (benefits, households), so the numerator of a ratio summed over n buurten
#: is off by up to n x 5: in a small gemeente that is more than 5% (synthetic national data: 67 WW benefits over 4
#: buurten sum to 60, 15.4 instead of 17.2 per 1 000). Ratios also get that much tolerance, capped at four
#: standard deviations of the sum of n independent roundings (4 x 10 / sqrt(12) x sqrt(n)) for large gemeenten.
COUNT_ROUNDING_HALF = 5
COUNT_ROUNDING_SIGMAS = 4 * 10 / 12 ** 0.5
RATIO_SCALE = {"per_1000": 1000, "pct": 100}
#: Health figures are small-area estimates per period, weighted here by the residents of the nearest KWB year
#: (indicators.weights). Weights from a KWB year further than this from the health period say little about the
#: period's own population mix, so such aggregates are not compared. Real data: with KWB 2020 as the only year,
#: 50090NED's 2016 and 2020 aggregates lie within 4.7% of CBS's gemeente figures, 2012's (8 years away) up to 15%.
MAX_WEIGHT_YEAR_DISTANCE = 2


@dg.asset_check(asset=VALUES, description="Percentages lie within 0-100; rates and distances are not negative.")
def values_within_unit_ranges(bwm: BwmResource) -> dg.AssetCheckResult:
    # Euros are not checked for sign: median household wealth is negative in some real buurten.
    bad = bwm.query(
        "select year, area_code, indicator_id, unit, value from indicators.values "
        "where (unit = 'pct' and (value < 0 or value > 100)) or (unit in ('per_1000', 'km') and value < 0) "
        "order by 1, 2, 3"
    )
    return dg.AssetCheckResult(passed=not bad, metadata={"out_of_range": len(bad),
                               "examples": md_table(["year", "area", "indicator", "unit", "value"], bad)})


#: Reasons for a missing figure that lie with the source, not with the pipeline: a value is expected later
#: (a partial release), the topic does not exist in that period or table, or the table in the mirror has no
#: such column at all (a StatLine export of a few columns; a key the key map could not resolve shows in
#: kwb_keys_all_resolved as well).
SOURCE_GAPS = ("not_published_yet", "not_measured", "unit_quarantined", "not_published")


@dg.asset_check(asset=VALUES, description="Every catalogue indicator has values; a null always has a reason. "
                "WARN naming each indicator-year CBS has not published yet (or did not measure).")
def values_cover_catalogue(bwm: BwmResource) -> dg.AssetCheckResult:
    counts = dict(bwm.query("select indicator_id, count(value) from indicators.values group by 1"))
    # (indicator, year, reason) where no area has a value and every null carries one source-gap reason.
    gaps = bwm.query(
        f"""
        select indicator_id, year, any_value(source_table), any_value(missing_reason)
        from indicators.values
        group by indicator_id, year
        having count(value) = 0 and count(distinct missing_reason) = 1
           and any_value(missing_reason) in ({", ".join(f"'{r}'" for r in SOURCE_GAPS)})
        order by 1, 2
        """
    )
    explained = {ind for ind, *_ in gaps}
    empty = [ind.id for ind in catalogue.indicators() if counts.get(ind.id, 0) == 0]
    unexplained_empty = [ind for ind in empty if ind not in explained]
    unexplained = bwm.query("select count(*) from indicators.values "
                            "where value is null and missing_reason is null")[0][0]
    failed = bool(unexplained_empty) or unexplained > 0
    by_reason: dict[str, list[str]] = {}
    for ind, year, table, reason in gaps:
        by_reason.setdefault(reason, []).append(f"{ind} {year} ({table})")
    return dg.AssetCheckResult(
        passed=not failed and not gaps,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        description=("; ".join(f"{reason}: {', '.join(items)}" for reason, items in by_reason.items())
                     or None) if not failed else None,
        metadata={"indicators": len(catalogue.indicators()),
                  "without_values": ", ".join(unexplained_empty) or "none",
                  "nulls_without_reason": unexplained,
                  **{reason: ", ".join(items) for reason, items in by_reason.items()}},
    )


# The gemeente's own weight row tells which KWB year weighted its buurten (the same year for KWB indicators).
_WEIGHTS_JOIN = ("join indicators.catalogue cat on cat.indicator_id = v.indicator_id "
                 "left join indicators.weights w on w.source = cat.source and w.year = v.year "
                 "and w.area_code = v.area_code")
_WEIGHTS_NEAR = f"coalesce(abs(w.weight_year - v.year), 0) <= {MAX_WEIGHT_YEAR_DISTANCE}"


@dg.asset_check(asset=AGGREGATED, description="CBS's gemeente figures agree with our aggregate of their buurten.")
def gemeente_totals_match_buurten(bwm: BwmResource) -> dg.AssetCheckResult:
    rows = bwm.query(
        f"""
        select v.year, v.area_code, v.indicator_id, round(v.value, 3), round(a.value, 3), round(a.coverage, 3)
        from indicators.values v
        join indicators.aggregated a
          on a.year = v.year and a.area_code = v.area_code and a.indicator_id = v.indicator_id
        {_WEIGHTS_JOIN}
        where v.area_level = 'gemeente' and v.value is not null and a.value is not null
          and {_WEIGHTS_NEAR}
          and a.coverage >= case a.method when 'ratio' then {MIN_COVERAGE["ratio"]}
                                          else {MIN_COVERAGE["weighted_mean"]} end
          and abs(v.value - a.value) > greatest({AGGREGATE_TOLERANCE} * abs(v.value),
              case v.unit {" ".join(f"when '{u}' then {t}" for u, t in ROUNDING_UNIT.items())} else 0 end,
              case when a.method = 'ratio' and v.denominator > 0 then
                  least(a.n_buurten_with_value * {COUNT_ROUNDING_HALF},
                        {COUNT_ROUNDING_SIGMAS:.4f} * sqrt(a.n_buurten_with_value)) / v.denominator
                  * case v.unit {" ".join(f"when '{u}' then {k}" for u, k in RATIO_SCALE.items())} else 0 end
              else 0 end)
        order by 1, 2, 3
        """
    )
    compared, far = bwm.query(
        f"select count(*) filter (where {_WEIGHTS_NEAR}), count(*) filter (where not ({_WEIGHTS_NEAR})) "
        f"from indicators.aggregated a join indicators.values v "
        f"on a.year = v.year and a.area_code = v.area_code and a.indicator_id = v.indicator_id {_WEIGHTS_JOIN} "
        f"where a.area_level = 'gemeente' and v.value is not null and a.value is not null and a.coverage >= "
        f"case a.method when 'ratio' then {MIN_COVERAGE['ratio']} else {MIN_COVERAGE['weighted_mean']} end"
    )[0]
    return dg.AssetCheckResult(
        passed=not rows,
        metadata={"compared": compared, "mismatches": len(rows),
                  "not_compared_weights_far": far,
                  "rule": f"difference <= {AGGREGATE_TOLERANCE:.0%}, one rounding unit {ROUNDING_UNIT}, or for ratios "
                          f"what rounding each buurt's count to tens can add up to; where buurt coverage >= "
                          f"{MIN_COVERAGE['weighted_mean']:.0%} (weighted means) or {MIN_COVERAGE['ratio']:.1%} "
                          f"(ratios); health only where the weights' KWB year is within "
                          f"{MAX_WEIGHT_YEAR_DISTANCE} years",
                  "examples": md_table(["year", "gemeente", "indicator", "CBS", "aggregate", "coverage"], rows)},
    )


@dg.asset_check(asset=VALUES, blocking=True,
                description="No value, numerator or denominator is infinite or NaN (a null carries its reason).")
def values_are_finite(bwm: BwmResource) -> dg.AssetCheckResult:
    bad = bwm.query(
        "select year, area_code, indicator_id, value, numerator, denominator from indicators.values "
        "where not isfinite(value) or not isfinite(numerator) or not isfinite(denominator) order by 1, 2, 3")
    return dg.AssetCheckResult(passed=not bad, metadata={"non_finite": len(bad), "examples": md_table(
        ["year", "area", "indicator", "value", "numerator", "denominator"], bad)})


indicator_checks = [values_are_finite, values_within_unit_ranges, values_cover_catalogue, gemeente_totals_match_buurten]
