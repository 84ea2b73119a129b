-- staging.kwb: KWB harmonised over all years, long: one row per (year, area_code, variable).
-- value is in the canonical unit (CBS's "x 1 000 euro" multiplied by 1 000, etc.); a null value means
-- CBS published the variable for that year but suppressed or did not fill it for this area
-- (value_status 'missing'). A variable absent from a year's table has no row at all.
with

unpivoted as (
    select * from kwb_unpivoted
),

-- Each region row of each year's table, by its row id: the unpivoted rows are matched to their area on
-- (year, row_id), integers, instead of on the trimmed region code of each of their ~20 million rows.
region_rows as (
    select
        year,
        row_id,
        upper(trim(region_key)) as area_code
    from kwb_region_rows
),

resolution as (
    select
        year,
        raw_key,
        canonical,
        scale,
        unit,
        match
    from staging.kwb_key_resolution
    where action = 'map' and canonical is not null
),

areas as (
    select
        region_rows.year,
        region_rows.row_id,
        staging_areas.area_code,
        staging_areas.area_level,
        staging_areas.gemeente_code
    from region_rows
    inner join staging.areas as staging_areas
        on region_rows.year = staging_areas.year
        and region_rows.area_code = staging_areas.area_code
)

select
    unpivoted.year,
    areas.area_code,
    areas.area_level,
    areas.gemeente_code,
    resolution.canonical as variable,
    unpivoted.value * resolution.scale as value,
    resolution.unit,
    case when unpivoted.value is null then 'missing' else 'published' end as value_status,
    unpivoted.table_id,
    unpivoted.raw_key,
    resolution.match as key_match
from unpivoted
inner join resolution
    on unpivoted.year = resolution.year
    and unpivoted.raw_key = resolution.raw_key
inner join areas
    on unpivoted.year = areas.year
    and unpivoted.row_id = areas.row_id
order by unpivoted.year, areas.area_code, resolution.canonical
