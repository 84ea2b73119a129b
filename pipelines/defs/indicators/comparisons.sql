-- indicators.comparisons: one row per (year, area_code, indicator_id) with a value: the area against its
-- gemeente and against the Netherlands (where CBS publishes a national figure, area_level 'land'), and
-- its rank and quartile among the areas of the same level within its gemeente and in the whole warehouse
-- ("national" when the warehouse holds every municipality).
-- Rank 1 and quartile 1 are the best-off (for direction 'neutral': the highest value).
with

catalogue as (
    select
        indicator_id,
        direction
    from indicators.catalogue
),

indicator_values as (
    select
        year,
        area_code,
        area_level,
        gemeente_code,
        indicator_id,
        value
    from indicators.values
    where value is not null
),

gemeente_values as (
    select
        year,
        area_code as gemeente_code,
        indicator_id,
        value as gemeente_value
    from indicator_values
    where area_level = 'gemeente'
),

national_values as (
    select
        year,
        indicator_id,
        value as nl_value
    from indicator_values
    where area_level = 'land'
),

scored as (
    select
        indicator_values.*,
        case when catalogue.direction = 'higher_is_worse' then -indicator_values.value else indicator_values.value end
            as goodness
    from indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
    where indicator_values.area_level in ('gemeente', 'wijk', 'buurt')
),

ranked as (
    select
        *,
        case
            when area_level <> 'gemeente'
                then
                    rank() over (partition by year, indicator_id, area_level, gemeente_code order by goodness desc)
        end as rank_in_gemeente,
        case
            when area_level <> 'gemeente'
                then
                    count(*) over (partition by year, indicator_id, area_level, gemeente_code)
        end as n_in_gemeente,
        rank() over (partition by year, indicator_id, area_level order by goodness desc) as rank_national,
        count(*) over (partition by year, indicator_id, area_level) as n_national
    from scored
)

select
    ranked.year,
    ranked.area_code,
    ranked.area_level,
    ranked.gemeente_code,
    ranked.indicator_id,
    ranked.value,
    gemeente_values.gemeente_value,
    ranked.value - gemeente_values.gemeente_value as diff_gemeente,
    national_values.nl_value,
    ranked.value - national_values.nl_value as diff_nl,
    ranked.rank_in_gemeente,
    ranked.n_in_gemeente,
    cast(1 + floor(4 * (ranked.rank_in_gemeente - 1) / ranked.n_in_gemeente) as integer) as quartile_in_gemeente,
    ranked.rank_national,
    ranked.n_national,
    cast(1 + floor(4 * (ranked.rank_national - 1) / ranked.n_national) as integer) as quartile_national
from ranked
left join gemeente_values
    on
        ranked.year = gemeente_values.year
        and ranked.gemeente_code = gemeente_values.gemeente_code
        and ranked.indicator_id = gemeente_values.indicator_id
left join national_values
    on
        ranked.year = national_values.year
        and ranked.indicator_id = national_values.indicator_id
order by ranked.year, ranked.area_code, ranked.indicator_id
