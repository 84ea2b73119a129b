"""Asset checks on staging: the promises the later layers rely on."""

import dagster as dg

from pipelines.metadata import md_table
from pipelines.resources import BwmResource

AREAS = dg.AssetKey(["staging", "areas"])
KWB = dg.AssetKey(["staging", "kwb"])
HEALTH = dg.AssetKey(["staging", "health"])
RESOLUTION = dg.AssetKey(["staging", "kwb_key_resolution"])

#: CBS rounds wijk/buurt counts at random to multiples of 5 (an error of at most 4 per buurt) and counts
#: residents without a known address in the gemeente but in no buurt; both make the sums differ slightly.
ROUNDING_PER_BUURT = 4
UNLOCATED_SHARE = 0.005


@dg.asset_check(asset=AREAS, description="Every year has gemeente, wijk and buurt rows.")
def areas_rows_per_year_and_level(bwm: BwmResource) -> dg.AssetCheckResult:
    rows = bwm.query(
        "select year, count(*) filter (area_level = 'gemeente'), count(*) filter (area_level = 'wijk'), "
        "count(*) filter (area_level = 'buurt') from staging.areas group by year order by year"
    )
    empty = [r for r in rows if min(r[1:]) == 0]
    return dg.AssetCheckResult(
        passed=bool(rows) and not empty,
        metadata={"years": len(rows), "years_missing_a_level": len(empty),
                  "counts": md_table(["year", "gemeenten", "wijken", "buurten"], rows)},
    )


@dg.asset_check(asset=AREAS, description="(year, area_code) is unique.")
def areas_unique_key(bwm: BwmResource) -> dg.AssetCheckResult:
    dupes = bwm.query("select year, area_code, count(*) from staging.areas group by 1, 2 having count(*) > 1")
    return dg.AssetCheckResult(passed=not dupes, metadata={"duplicates": len(dupes),
                               "examples": md_table(["year", "area_code", "n"], dupes)})


@dg.asset_check(asset=AREAS, description="Every buurt's wijk and every wijk's and buurt's gemeente exist that year.")
def areas_parents_exist(bwm: BwmResource) -> dg.AssetCheckResult:
    orphans = bwm.query(
        """
        select a.year, a.area_code, a.area_level, coalesce(a.wijk_code, a.gemeente_code) as missing_parent
        from staging.areas a
        left join staging.areas w on w.year = a.year and w.area_code = a.wijk_code
        left join staging.areas g on g.year = a.year and g.area_code = a.gemeente_code
        where (a.area_level = 'buurt' and w.area_code is null)
           or (a.area_level in ('wijk', 'buurt') and g.area_code is null)
        order by 1, 2
        """
    )
    return dg.AssetCheckResult(passed=not orphans, metadata={"orphans": len(orphans),
                               "examples": md_table(["year", "area_code", "level", "missing parent"], orphans)})


def inhabitants_mismatches(bwm: BwmResource) -> list[tuple]:
    """Gemeenten whose buurt inhabitants do not add up to the gemeente figure within CBS's rounding."""
    return bwm.query(
        f"""
        with sums as (
            select year, gemeente_code, sum(inhabitants) as buurt_sum, count(*) as n_buurten
            from staging.areas where area_level = 'buurt' and inhabitants is not null
            group by 1, 2
        )
        select g.year, g.area_code, g.inhabitants, s.buurt_sum, s.n_buurten,
               {ROUNDING_PER_BUURT} * s.n_buurten + {UNLOCATED_SHARE} * g.inhabitants as tolerance
        from staging.areas g
        join sums s on s.year = g.year and s.gemeente_code = g.area_code
        where g.area_level = 'gemeente'
          and abs(g.inhabitants - s.buurt_sum) > {ROUNDING_PER_BUURT} * s.n_buurten + {UNLOCATED_SHARE} * g.inhabitants
        order by 1, 2
        """
    )


@dg.asset_check(asset=AREAS, description="Buurt inhabitants add up to their gemeente within CBS's rounding.")
def areas_inhabitants_add_up(bwm: BwmResource) -> dg.AssetCheckResult:
    bad = inhabitants_mismatches(bwm)
    return dg.AssetCheckResult(
        passed=not bad,
        metadata={"mismatches": len(bad), "rule": f"|gemeente - sum(buurten)| <= {ROUNDING_PER_BUURT} x buurten "
                  f"+ {UNLOCATED_SHARE:.1%} of gemeente",
                  "examples": md_table(["year", "gemeente", "inhabitants", "buurt sum", "buurten", "tolerance"], bad)},
    )


@dg.asset_check(asset=KWB, description="(year, area_code, variable) is unique.")
def kwb_unique_key(bwm: BwmResource) -> dg.AssetCheckResult:
    dupes = bwm.query("select year, area_code, variable, count(*) from staging.kwb "
                      "group by 1, 2, 3 having count(*) > 1")
    return dg.AssetCheckResult(passed=not dupes, metadata={"duplicates": len(dupes),
                               "examples": md_table(["year", "area_code", "variable", "n"], dupes)})


@dg.asset_check(asset=KWB, description="Percentages lie within 0-100 and counts are not negative.")
def kwb_value_ranges(bwm: BwmResource) -> dg.AssetCheckResult:
    bad = bwm.query(
        "select year, area_code, variable, value from staging.kwb "
        "where (unit = 'pct' and (value < 0 or value > 100)) or (unit = 'count' and value < 0) order by 1, 2, 3"
    )
    return dg.AssetCheckResult(passed=not bad, metadata={"out_of_range": len(bad),
                               "examples": md_table(["year", "area_code", "variable", "value"], bad)})


@dg.asset_check(asset=HEALTH, description="(year, area_code, age group, variable) is unique; values within 0-100.")
def health_unique_and_in_range(bwm: BwmResource) -> dg.AssetCheckResult:
    dupes = bwm.query("select year, area_code, age_group_code, variable, count(*) from staging.health "
                   "group by 1, 2, 3, 4 having count(*) > 1")
    bad = bwm.query("select year, area_code, age_group_code, variable, value from staging.health "
                 "where value < 0 or value > 100")
    return dg.AssetCheckResult(passed=not dupes and not bad,
                               metadata={"duplicates": len(dupes), "out_of_range": len(bad)})


@dg.asset_check(asset=RESOLUTION,
                description="Every raw KWB key is mapped or explicitly ignored in data/reference/kwb_keymap.csv.")
def kwb_keys_all_resolved(bwm: BwmResource) -> dg.AssetCheckResult:
    unmapped = bwm.query("select year, table_id, raw_key from staging.kwb_key_resolution where match = 'unmapped' "
                      "order by 1, 3")
    shifted = bwm.query("select count(*) from staging.kwb_key_resolution where match = 'stem'")[0][0]
    return dg.AssetCheckResult(
        passed=not unmapped,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"unmapped": len(unmapped), "matched_by_stem": shifted,
                  "what_to_do": "add the keys to data/reference/kwb_keymap.csv (map or ignore), then rerun",
                  "examples": md_table(["year", "table", "raw key"], unmapped)},
    )


@dg.asset_check(asset=RESOLUTION,
                description="Every mapped KWB key has the unit the key map expects; a key that does not is "
                            "quarantined (its values left out, never mis-scaled).")
def units_as_expected(bwm: BwmResource) -> dg.AssetCheckResult:
    quarantined = bwm.query("select year, table_id, raw_key, canonical, expected_cbs_unit, cbs_unit "
                         "from staging.kwb_key_resolution where action = 'quarantine' order by 1, 3")
    return dg.AssetCheckResult(
        passed=not quarantined,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(f"{table} {key}: CBS unit {found!r}, expected {expected!r} (left out)"
                              for _, table, key, _, expected, found in quarantined) or None,
        metadata={"quarantined": len(quarantined),
                  "what_to_do": "check the unit in the table's DataProperties; if CBS changed it on purpose, add the "
                                "conversion to keymap.UNIT_SCALE or correct data/reference/kwb_keymap.csv, then rerun",
                  "keys": md_table(["year", "table", "raw key", "canonical", "expected unit", "found unit"],
                              [tuple("" if v is None else v for v in r) for r in quarantined],
                              limit=max(20, len(quarantined)))},  # every one of them, not the first 20
    )


staging_checks = [
    areas_rows_per_year_and_level,
    areas_unique_key,
    areas_parents_exist,
    areas_inhabitants_add_up,
    kwb_unique_key,
    kwb_value_ranges,
    health_unique_and_in_range,
    kwb_keys_all_resolved,
    units_as_expected,
]
