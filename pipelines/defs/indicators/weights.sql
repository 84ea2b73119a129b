-- indicators.weights: one row per (source, year, area_code): the residents and households used to weight
-- an area's value in aggregates, quintiles and divide measures.
--   kwb:    the KWB figures of the same year.
--   health: the health table has one geography for all its periods, so an area's weight comes from the
--           KWB year nearest to the health period in which that area code exists (weight_year says which).
--   municipal: the KWB figures of the year whose area codes the municipal file was read on
--           (municipal.published.geography_year: the same year, or the newest KWB year for a later one).
with

kwb_areas as (
    select
        year,
        area_code,
        inhabitants,
        households
    from staging.areas
    where area_level in ('gemeente', 'wijk', 'buurt', 'land')
),

health_areas as (
    select distinct
        year,
        area_code
    from staging.health
),

health_candidates as (
    select
        health_areas.year,
        health_areas.area_code,
        kwb_areas.year as weight_year,
        kwb_areas.inhabitants,
        kwb_areas.households,
        row_number() over (
            partition by health_areas.year, health_areas.area_code
            order by abs(kwb_areas.year - health_areas.year), kwb_areas.year
        ) as nearest
    from health_areas
    inner join kwb_areas on health_areas.area_code = kwb_areas.area_code
),

municipal_areas as (
    select distinct
        year,
        area_code,
        geography_year
    from municipal.published
)

select
    'kwb' as source,
    year,
    area_code,
    year as weight_year,
    inhabitants,
    households
from kwb_areas
union all
select
    'health' as source,
    year,
    area_code,
    weight_year,
    inhabitants,
    households
from health_candidates
where nearest = 1
union all
select
    'municipal' as source,
    municipal_areas.year,
    municipal_areas.area_code,
    municipal_areas.geography_year as weight_year,
    kwb_areas.inhabitants,
    kwb_areas.households
from municipal_areas
inner join kwb_areas
    on
        municipal_areas.geography_year = kwb_areas.year
        and municipal_areas.area_code = kwb_areas.area_code
