-- indicators.area_series: one row per (year, area_code) of the KWB geography, saying whether the area's
-- series may be joined to the year before. A series is cut (series_break, and a new series_id) when
--   boundary_changed  CBS's comparability code is 3 (the area's boundaries changed),
--   recoded           the code is 2 (same area, new code: the old code cannot be linked automatically),
--   new_area          the code did not exist in the previous KWB year in the warehouse.
-- The first KWB year in the warehouse starts every series without a break.
with

areas as (
    select
        year,
        area_code,
        area_level,
        comparability_code
    from staging.areas
),

table_years as (
    select
        year,
        lag(year) over (order by year) as previous_table_year
    from (select distinct year from areas) as distinct_years
),

with_previous as (
    select
        areas.*,
        table_years.previous_table_year,
        lag(areas.year) over (partition by areas.area_code order by areas.year) as previous_year_present
    from areas
    inner join table_years on areas.year = table_years.year
),

flagged as (
    select
        *,
        case
            when previous_table_year is null then null
            when comparability_code = 3 then 'boundary_changed'
            when comparability_code = 2 then 'recoded'
            when previous_year_present is null or previous_year_present <> previous_table_year then 'new_area'
        end as break_reason
    from with_previous
),

segmented as (
    select
        *,
        max(case when previous_table_year is null or break_reason is not null then year end)
            over (partition by area_code order by year rows between unbounded preceding and current row)
            as series_start
    from flagged
)

select
    year,
    area_code,
    area_level,
    comparability_code,
    break_reason is not null as series_break,
    break_reason,
    area_code || '@' || cast(series_start as varchar) as series_id,
    series_start
from segmented
order by area_code, year
