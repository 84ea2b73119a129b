"""Asset checks on the municipal layer: rejected files, and disclosure control that holds on the published table."""

import dagster as dg

from pipelines.defs.municipal.assets import FILE_STATUS, PUBLISHED
from pipelines.metadata import md_table
from pipelines.resources import BwmResource


@dg.asset_check(asset=FILE_STATUS, description="Every file in the drop folder was accepted; on failure the metadata "
                "'report' says per rejected file what to fix (file, sheet, row, column, expected, found).")
def municipal_files_accepted(bwm: BwmResource) -> dg.AssetCheckResult:
    rows = bwm.query("select file, sheet, status, report from municipal.file_status order by file, sheet")
    rejected = [r for r in rows if r[2] == "rejected"]
    reports = "\n\n".join(r[3] for r in rejected)
    files = sorted({r[0] for r in rejected})
    return dg.AssetCheckResult(
        passed=not rejected,
        metadata={"files": len({r[0] for r in rows}), "rejected_files": len(files),
                  "rejected": ", ".join(files) or "none",
                  "report": dg.MetadataValue.md(f"```\n{reports}\n```" if reports else "All files accepted.")},
    )


@dg.asset_check(asset=PUBLISHED, blocking=True,
                description="No published municipal count below the threshold, no rate whose "
                "numerator or complement (cases minus numerator) is below it, and no total with exactly one "
                "suppressed part (which subtraction would reveal).")
def municipal_disclosure_holds(bwm: BwmResource) -> dg.AssetCheckResult:
    small = bwm.query(
        """
        select p.year, p.area_code, p.indicator_id, p.value, p.denominator
        from municipal.published p, municipal.disclosure_rule r
        where p.value is not null and (
            (p.count_or_rate = 'count' and p.value < r.min_count)
            or (p.count_or_rate = 'rate' and (
                coalesce(p.denominator, 0) < r.min_cases
                -- a rate's numerator and its complement are each counts of people (small rounding slack)
                or coalesce(p.numerator, 0) < r.min_cases - 1e-6
                or coalesce(p.denominator, 0) - coalesce(p.numerator, 0) < r.min_cases - 1e-6)))
        order by 1, 2, 3
        """)
    lone = bwm.query(
        """
        with cells as (
            select year, indicator_id, area_code, area_level, gemeente_code,
                   case area_level when 'buurt' then 'WK' || substr(area_code, 3, 6)
                                   when 'wijk' then gemeente_code end as parent_code,
                   missing_reason like 'suppressed%' as hidden
            from municipal.published
            where missing_reason is distinct from 'not_published'
        ),
        groups as (
            select c.year, c.indicator_id, c.parent_code,
                   count(*) filter (c.hidden) + any_value(p.hidden)::int as n_hidden
            from cells c
            join cells p on p.year = c.year and p.indicator_id = c.indicator_id and p.area_code = c.parent_code
            group by all
        )
        select year, indicator_id, parent_code, n_hidden from groups where n_hidden = 1 order by 1, 2, 3
        """)
    return dg.AssetCheckResult(
        passed=not small and not lone,
        metadata={"published_below_threshold": len(small), "totals_with_one_suppressed_part": len(lone),
                  "examples": md_table(["year", "area", "indicator", "value", "cases"], small)
                  if small else md_table(["year", "indicator", "total", "suppressed"], lone)},
    )


municipal_checks = [municipal_files_accepted, municipal_disclosure_holds]
