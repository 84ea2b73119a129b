-- staging.health: the configured health table ($table_id: 50120NED or 50090NED, "Gezondheid per wijk en
-- buurt", RIVM), long: one row per (year, area_code, age_group_code, variable), with the lower and upper
-- bound of the 95% interval (Marges MOG0095/MBG0095) where the table has them.
-- Values are percentages of residents in the age group. value_status says why a value is null:
--   suppressed    the topic was measured in that period, but this area has no figure (too few respondents)
--   not_measured  the topic has no figure for any area in that period (not asked in that survey round)
with

unpivoted as (
    select * from staging.health_unpivoted
),

age_groups as (
    select
        trim(key) as age_group_code,
        trim(title) as age_group
    from raw.cbs_dimensions
    where table_id = $table_id and dimension = 'Leeftijd'
),

pivoted as (
    select
        cast(substr(trim(periode), 1, 4) as integer) as year,
        upper(trim(region_key)) as area_code,
        trim(leeftijd) as age_group_code,
        variable,
        unit,
        raw_key,
        max(case when trim(marges) = 'MW00000' then value end) as value,
        max(case when trim(marges) = 'MOG0095' then value end) as ci_lower,
        max(case when trim(marges) = 'MBG0095' then value end) as ci_upper
    from unpivoted
    group by all
),

-- Over every row of the raw table (national row included, before the municipality filter).
measured as (
    select
        year,
        variable,
        count(value) > 0 as is_measured
    from pivoted
    group by year, variable
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
    from pivoted
)

select
    leveled.year,
    leveled.area_code,
    leveled.area_level,
    case when leveled.area_level in ('gemeente', 'wijk', 'buurt') then 'GM' || substr(leveled.area_code, 3, 4) end
        as gemeente_code,
    leveled.age_group_code,
    age_groups.age_group,
    leveled.variable,
    leveled.value,
    leveled.ci_lower,
    leveled.ci_upper,
    leveled.unit,
    case
        when leveled.value is not null then 'published'
        when measured.is_measured then 'suppressed'
        else 'not_measured'
    end as value_status,
    $table_id as table_id,
    leveled.raw_key
from leveled
left join age_groups
    on leveled.age_group_code = age_groups.age_group_code
inner join measured
    on
        leveled.year = measured.year
        and leveled.variable = measured.variable
where
    leveled.area_level is not null
    and (
        len($municipalities) = 0
        or leveled.area_level = 'land'
        or list_contains($municipalities, 'GM' || substr(leveled.area_code, 3, 4))
    )
order by leveled.year, leveled.area_code, leveled.age_group_code, leveled.variable
