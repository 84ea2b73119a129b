-- staging.kwb: KWB harmonised over all years, long: one row per (year, area_code, variable).
-- value is in the canonical unit (CBS's "x 1 000 euro" multiplied by 1 000, etc.). value_status says why a
-- value is null:
--   suppressed         CBS left this area empty ('.') in a column it filled for other areas of the release
--   not_published_yet  the whole column is empty in this release (a partial release: CBS fills income,
--                      housing and care figures months after the first release of a KWB year)
--   quarantined        the table's unit for this key is not the one the key map expects, so the value is
--                      not converted (never mis-scaled); staging.kwb_key_resolution and a WARN check say why
-- A variable absent from a year's table has no row at all.
with

unpivoted as (
    select * from staging.kwb_unpivoted
),

-- Over every row of the raw table (the national row and all areas, before the municipality filter), so a
-- column is "not published yet" only when CBS filled it for no region at all.
filled_columns as (
    select
        year,
        raw_key,
        count(value) > 0 as is_filled
    from unpivoted
    group by year, raw_key
),

-- Each region row of each year's table, by its row id: the unpivoted rows are matched to their area on
-- (year, row_id), integers, instead of on the trimmed region code of each of their ~20 million rows.
region_rows as (
    select
        year,
        row_id,
        upper(trim(region_key)) as area_code
    from staging.kwb_region_rows
),

resolution as (
    select
        year,
        raw_key,
        canonical,
        scale,
        unit,
        match,
        action
    from staging.kwb_key_resolution
    where action in ('map', 'quarantine') and canonical is not null
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
        on
            region_rows.year = staging_areas.year
            and region_rows.area_code = staging_areas.area_code
)

select
    unpivoted.year,
    areas.area_code,
    areas.area_level,
    areas.gemeente_code,
    resolution.canonical as variable,
    case when resolution.action = 'map' then unpivoted.value * resolution.scale end as value,
    resolution.unit,
    case
        when resolution.action = 'quarantine' then 'quarantined'
        when unpivoted.value is not null then 'published'
        when filled_columns.is_filled then 'suppressed'
        else 'not_published_yet'
    end as value_status,
    unpivoted.table_id,
    unpivoted.raw_key,
    resolution.match as key_match
from unpivoted
inner join resolution
    on
        unpivoted.year = resolution.year
        and unpivoted.raw_key = resolution.raw_key
inner join areas
    on
        unpivoted.year = areas.year
        and unpivoted.row_id = areas.row_id
inner join filled_columns
    on
        unpivoted.year = filled_columns.year
        and unpivoted.raw_key = filled_columns.raw_key
order by unpivoted.year, areas.area_code, resolution.canonical
