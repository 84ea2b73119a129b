-- indicators.values: one row per (year, area_code, indicator_id) for every year the catalogue claims and
-- every area of that year's source geography. value is null exactly when missing_reason says why:
--   suppressed_by_cbs  CBS published the variable but left this area empty (privacy or too few cases)
--   not_published_yet  CBS has not filled the variable in this release of the table for any area (a partial
--                      release; a later release of the same table will have it)
--   not_measured       a health topic that has no figure for any area in that period (not asked then), or
--                      that the configured health table does not have at all
--   unit_quarantined   the CBS table gives the variable in a unit the key map does not expect, so it is
--                      left out rather than mis-scaled (staging.kwb_key_resolution says which)
--   not_published      the variable is not in that year's CBS table, or not for this area
--   no_denominator     a ratio whose denominator is 0 or missing
--   denominator_too_small  a ratio whose denominator is below the catalogue's min_denominator: CBS rounds
--                      small counts at random to multiples of 5, so such a ratio says little
--   inconsistent_counts    a percentage whose rounded numerator exceeds its rounded denominator
-- Municipal data files (source 'municipal') come from municipal.published, aggregated to wijk and gemeente
-- and disclosure-controlled already (bwm.municipal.publish, bwm.disclosure), so every table downstream is
-- safe by construction; their nulls carry
--   suppressed_small_count  our own disclosure control, distinct from CBS's, one reason for all of it: a count
--                           below BWM_DISCLOSURE_MIN_COUNT, a rate whose numerator or complement is below
--                           BWM_DISCLOSURE_MIN_CASES, or a cell hidden so that no such cell can be computed
--                           or narrowly bounded from the totals (which of these is deliberately not said)
--   not_published           the file has no figure for this area
-- numerator/denominator are filled for ratio indicators (method 'ratio'); ci_lower/ci_upper, the bounds of the
-- 95% interval of a health figure (a survey-based small-area estimate; Marges MOG0095/MBG0095), where the health
-- table has them.
-- series_id / series_break / break_reason come from indicators.area_series (KWB geography); the health
-- table has one geography for all its periods, so its series are never cut.
with

catalogue as (
    select * from indicators.catalogue
),

indicator_years as (
    select
        indicator_id,
        source,
        method,
        variable,
        numerator as numerator_variable,
        denominator as denominator_variable,
        factor,
        min_denominator,
        age_group,
        unnest(years) as year
    from catalogue
),

kwb_areas as (
    select
        year,
        area_code,
        area_level,
        gemeente_code,
        table_id
    from staging.areas
),

health_areas as (
    select distinct
        year,
        area_code,
        area_level,
        gemeente_code,
        age_group_code
    from staging.health
),

used_variables as (
    select variable from catalogue
    where variable is not null
    union
    select numerator from catalogue
    where numerator is not null
    union
    select denominator from catalogue
    where denominator is not null
),

kwb as (
    select
        year,
        area_code,
        variable,
        value,
        value_status,
        table_id
    from staging.kwb
    where variable in (select variable from used_variables)
),

health as (
    select
        year,
        area_code,
        age_group_code,
        variable,
        value,
        ci_lower,
        ci_upper,
        value_status,
        table_id
    from staging.health
),

health_table as (
    select any_value(table_id) as table_id from staging.health
),

kwb_targets as (
    select
        indicator_years.*,
        kwb_areas.area_code,
        kwb_areas.area_level,
        kwb_areas.gemeente_code,
        kwb_areas.table_id as area_table_id
    from indicator_years
    inner join kwb_areas on indicator_years.year = kwb_areas.year
    where indicator_years.source = 'kwb'
),

-- Direct and ratio indicators are joined separately: a join condition that also tests t.method would
-- turn DuckDB's hash join into a nested loop (minutes instead of seconds at national scale).
kwb_direct as (
    select
        t.year,
        t.area_code,
        t.area_level,
        t.gemeente_code,
        t.indicator_id,
        direct.value,
        null::double as numerator,
        null::double as denominator,
        null::double as ci_lower,
        null::double as ci_upper,
        coalesce(direct.table_id, t.area_table_id) as source_table,
        case
            when direct.variable is null then 'not_published'
            when direct.value is null then case direct.value_status
                when 'not_published_yet' then 'not_published_yet'
                when 'quarantined' then 'unit_quarantined'
                else 'suppressed_by_cbs'
            end
        end as missing_reason
    from (
        select * from kwb_targets
        where method = 'direct'
    ) as t
    left join kwb as direct
        on t.year = direct.year and t.area_code = direct.area_code and t.variable = direct.variable
),

kwb_ratio as (
    select
        t.year,
        t.area_code,
        t.area_level,
        t.gemeente_code,
        t.indicator_id,
        case
            when
                den.value > 0 and den.value >= coalesce(t.min_denominator, 0)
                and not (t.factor = 100 and num.value > den.value)
                then num.value / den.value * t.factor
        end as value,
        num.value as numerator,
        den.value as denominator,
        null::double as ci_lower,
        null::double as ci_upper,
        coalesce(num.table_id, t.area_table_id) as source_table,
        case
            when num.variable is null or den.variable is null then 'not_published'
            when 'quarantined' in (num.value_status, den.value_status) then 'unit_quarantined'
            when 'not_published_yet' in (num.value_status, den.value_status) then 'not_published_yet'
            when num.value is null then 'suppressed_by_cbs'
            when den.value is null or den.value <= 0 then 'no_denominator'
            when den.value < t.min_denominator then 'denominator_too_small'
            when t.factor = 100 and num.value > den.value then 'inconsistent_counts'
        end as missing_reason
    from (
        select * from kwb_targets
        where method = 'ratio'
    ) as t
    left join kwb as num
        on t.year = num.year and t.area_code = num.area_code and t.numerator_variable = num.variable
    left join kwb as den
        on t.year = den.year and t.area_code = den.area_code and t.denominator_variable = den.variable
),

kwb_values as (
    select * from kwb_direct
    union all
    select * from kwb_ratio
),

health_values as (
    select
        t.year,
        a.area_code,
        a.area_level,
        a.gemeente_code,
        t.indicator_id,
        h.value,
        null::double as numerator,
        null::double as denominator,
        h.ci_lower,
        h.ci_upper,
        coalesce(h.table_id, health_table.table_id) as source_table,
        case
            when h.variable is null then 'not_measured'
            when h.value is null and h.value_status = 'not_measured' then 'not_measured'
            when h.value is null then 'suppressed_by_cbs'
        end as missing_reason
    from indicator_years as t
    inner join health_areas as a
        on t.year = a.year and t.age_group = a.age_group_code
    left join health as h
        on
            t.year = h.year and a.area_code = h.area_code and t.age_group = h.age_group_code
            and t.variable = h.variable
    cross join health_table
    where t.source = 'health'
),

municipal_values as (
    select
        year,
        area_code,
        area_level,
        gemeente_code,
        indicator_id,
        value,
        numerator,
        denominator,
        null::double as ci_lower,
        null::double as ci_upper,
        source_table,
        missing_reason
    from municipal.published
),

all_values as (
    select * from kwb_values
    union all
    select * from health_values
    union all
    select * from municipal_values
)

select
    all_values.year,
    all_values.area_code,
    all_values.area_level,
    all_values.gemeente_code,
    all_values.indicator_id,
    catalogue.theme,
    catalogue.unit,
    all_values.value,
    all_values.numerator,
    all_values.denominator,
    all_values.ci_lower,
    all_values.ci_upper,
    all_values.source_table,
    cast(all_values.year as varchar) as period,
    all_values.missing_reason,
    coalesce(
        case when catalogue.source in ('kwb', 'municipal') then area_series.series_id end,
        all_values.area_code || '@' || catalogue.source
    ) as series_id,
    coalesce(case when catalogue.source in ('kwb', 'municipal') then area_series.series_break end, false)
        as series_break,
    case when catalogue.source in ('kwb', 'municipal') then area_series.break_reason end as break_reason
from all_values
inner join catalogue on all_values.indicator_id = catalogue.indicator_id
-- Joined on the key alone, and only the KWB-geography sources take the series (the case expressions above):
-- a test of catalogue.source inside this outer join's condition made DuckDB run it as a nested loop (minutes
-- at national scale instead of seconds). indicators.area_series has one row per (year, area_code).
left join indicators.area_series as area_series
    on
        all_values.year = area_series.year
        and all_values.area_code = area_series.area_code
order by all_values.year, all_values.area_code, all_values.indicator_id
