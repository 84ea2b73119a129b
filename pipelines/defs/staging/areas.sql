-- staging.areas: one row per (year, area_code) for every gemeente, wijk and buurt of each KWB year,
-- plus the national row (area_level 'land') where the table has one.
-- Reads the view staging.kwb_region_rows (views.py beside this file) and raw.cbs_dimensions / raw.cbs_tables.
-- Parameter $municipalities: a list of GM codes to keep (empty list keeps all).
with

region_rows as (
    select * from staging.kwb_region_rows
),

region_names as (
    select
        table_id,
        dimension,
        upper(trim(key)) as area_code,
        trim(title) as area_name
    from raw.cbs_dimensions
),

tables as (
    select
        table_id,
        source
    from raw.cbs_tables
),

coded as (
    select
        region_rows.year,
        region_rows.table_id,
        region_rows.region_dimension,
        upper(trim(region_rows.region_key)) as area_code,
        nullif(trim(region_rows.gemeentenaam), '') as gemeentenaam,
        try_cast(trim(region_rows.indelingswijziging) as integer) as comparability_code,
        region_rows.inwoners,
        region_rows.huishoudens
    from region_rows
),

leveled as (
    select
        *,
        case
            when area_code like 'GM%' then 'gemeente'
            when area_code like 'WK%' then 'wijk'
            when area_code like 'BU%' then 'buurt'
            when area_code like 'NL%' then 'land'
        end as area_level
    from coded
)

select
    leveled.year,
    leveled.area_code,
    leveled.area_level,
    coalesce(region_names.area_name, leveled.gemeentenaam, leveled.area_code) as area_name,
    case when leveled.area_level in ('gemeente', 'wijk', 'buurt') then 'GM' || substr(leveled.area_code, 3, 4) end
        as gemeente_code,
    leveled.gemeentenaam as gemeente_name,
    case when leveled.area_level = 'buurt' then 'WK' || substr(leveled.area_code, 3, 6) end as wijk_code,
    cast(leveled.inwoners as bigint) as inhabitants,
    cast(leveled.huishoudens as bigint) as households,
    leveled.comparability_code,
    leveled.table_id,
    tables.source = 'synthetic' as is_synthetic
from leveled
left join region_names
    on
        leveled.table_id = region_names.table_id
        and leveled.region_dimension = region_names.dimension
        and leveled.area_code = region_names.area_code
left join tables
    on leveled.table_id = tables.table_id
where
    leveled.area_level is not null
    and (
        len($municipalities) = 0
        or leveled.area_level = 'land'
        or list_contains($municipalities, 'GM' || substr(leveled.area_code, 3, 4))
    )
order by leveled.year, leveled.area_code
