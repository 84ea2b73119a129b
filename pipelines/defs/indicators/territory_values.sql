-- indicators.territory_values: gemeente figures of today's gemeente for the years before a merger, on today's
-- territory, computed by the monitor from its predecessors' gemeente figures (CBS publishes each year on that
-- year's gemeenten only). Grain: one row per (year, area_code, indicator_id), area_level 'gemeente', area_code
-- today's gemeente, for every year in which indicators.territory maps other gemeenten (or more than one) into it
-- (territory_year not null): GM9906 2013-2018 from GM9904 and GM9905; Groningen GM0014 2013-2018 from
-- Groningen, Haren and Ten Boer. Only complete changes count (indicators.territory), and only the KWB source:
-- the health table is on one recent geography already, and municipal files are delivered and
-- disclosure-controlled on their own geography. The catalogue's aggregate rule, over the predecessors'
-- gemeente rows of indicators.values:
--   ratio          sum of the numerators / sum of the denominators x factor, with the same min_denominator
--                  and consistency tests as a published ratio
--   weighted_mean  sum(value x weight) / sum(weight), weight = the predecessor's inhabitants or households
--                  that year (indicators.weights, per the catalogue's weight)
--   sum            sum of the values (counts)
--   none           a median: not aggregated (not_aggregable), unless there is one predecessor only (a code
--                  change of the same territory, whose figure is carried over)
-- A rule needs every predecessor's inputs: when one lacks them the value is missing, with the predecessors'
-- own reason when they all share it, else predecessor_missing; never 0.
-- value_source is 'aggregated_predecessors'; predecessor_codes lists the gemeenten it was computed from
-- (';'-separated), territory_year the year of the territory. series_id is that of today's gemeente's own
-- first series after the merger, so the line on the pages runs on across the merger (same territory).
-- publish.values shows these rows in place of any indicators.values row with the same key (Groningen's own,
-- smaller figure before 2019); indicators.values, comparisons and theme_summary do not read them (no area
-- counts twice among the gemeenten of a year).
with

catalogue as (
    select
        indicator_id,
        theme,
        unit,
        source,
        aggregate,
        weight,
        factor,
        min_denominator
    from indicators.catalogue
    where source = 'kwb'
),

territory as (
    select
        year,
        source_code,
        gemeente_code,
        territory_year
    from indicators.territory
    where territory_year is not null
),

figures as (
    select
        year,
        area_code,
        indicator_id,
        value,
        numerator,
        denominator,
        missing_reason,
        source_table
    from indicators.values
    where area_level = 'gemeente'
),

weights as (
    select
        year,
        area_code,
        inhabitants,
        households
    from indicators.weights
    where source = 'kwb'
),

area_series as (
    select
        year,
        area_code,
        series_id
    from indicators.area_series
    where area_level = 'gemeente'
),

predecessors as (
    select
        territory.year,
        territory.gemeente_code,
        any_value(territory.territory_year) as territory_year,
        count(*) as n_predecessors,
        string_agg(territory.source_code, ';' order by territory.source_code) as predecessor_codes
    from territory
    group by territory.year, territory.gemeente_code
),

inputs as (
    select
        territory.year,
        territory.gemeente_code,
        figures.indicator_id,
        figures.value,
        figures.numerator,
        figures.denominator,
        figures.missing_reason,
        figures.source_table,
        case when catalogue.weight = 'households' then weights.households else weights.inhabitants end as weight,
        catalogue.aggregate,
        catalogue.factor,
        catalogue.min_denominator
    from territory
    inner join figures
        on
            territory.year = figures.year
            and territory.source_code = figures.area_code
    inner join catalogue on figures.indicator_id = catalogue.indicator_id
    left join weights
        on
            territory.year = weights.year
            and territory.source_code = weights.area_code
),

summed as (
    select
        year,
        gemeente_code,
        indicator_id,
        any_value(aggregate) as aggregate,
        any_value(factor) as factor,
        any_value(min_denominator) as min_denominator,
        count(*) as n_rows,
        count(value) as n_values,
        count(*) filter (numerator is not null and denominator is not null) as n_ratio_inputs,
        count(*) filter (value is not null and weight > 0) as n_weighted_inputs,
        count(distinct missing_reason) as n_reasons,
        any_value(missing_reason) as any_reason,
        any_value(value) as only_value,
        sum(value) as sum_value,
        sum(numerator) as sum_numerator,
        sum(denominator) as sum_denominator,
        sum(value * weight) as sum_weighted,
        sum(weight) as sum_weight,
        string_agg(distinct source_table, ';' order by source_table) as source_table
    from inputs
    group by year, gemeente_code, indicator_id
),

assessed as (
    select
        summed.*,
        predecessors.territory_year,
        predecessors.predecessor_codes,
        predecessors.n_predecessors,
        case
            when summed.aggregate = 'none' then predecessors.n_predecessors = 1 and summed.n_values = 1
            when summed.n_rows < predecessors.n_predecessors then false
            when summed.aggregate = 'ratio' then summed.n_ratio_inputs = summed.n_rows
            when summed.aggregate = 'weighted_mean' then summed.n_weighted_inputs = summed.n_rows
            when summed.aggregate = 'sum' then summed.n_values = summed.n_rows
            else false
        end as inputs_complete
    from summed
    inner join predecessors
        on
            summed.year = predecessors.year
            and summed.gemeente_code = predecessors.gemeente_code
),

computed as (
    select
        year,
        gemeente_code,
        indicator_id,
        territory_year,
        predecessor_codes,
        source_table,
        case when aggregate = 'ratio' and inputs_complete then sum_numerator end as numerator,
        case when aggregate = 'ratio' and inputs_complete then sum_denominator end as denominator,
        case
            when not inputs_complete then null
            when aggregate = 'none' then only_value
            when aggregate = 'sum' then sum_value
            when aggregate = 'weighted_mean' then sum_weighted / sum_weight
            when
                aggregate = 'ratio' and sum_denominator > 0 and sum_denominator >= coalesce(min_denominator, 0)
                and not (factor = 100 and sum_numerator > sum_denominator)
                then sum_numerator / sum_denominator * factor
        end as value,
        case
            when aggregate = 'none' and n_predecessors > 1 then 'not_aggregable'
            when not inputs_complete and n_values = 0 and n_reasons = 1 and n_rows = n_predecessors then any_reason
            when not inputs_complete then 'predecessor_missing'
            when aggregate = 'ratio' and sum_denominator <= 0 then 'no_denominator'
            when aggregate = 'ratio' and sum_denominator < min_denominator then 'denominator_too_small'
            when aggregate = 'ratio' and factor = 100 and sum_numerator > sum_denominator then 'inconsistent_counts'
        end as missing_reason
    from assessed
),

merged as (
    select
        gemeente_code,
        max(year) as last_year
    from predecessors
    group by gemeente_code
),

successor_series as (
    select
        area_series.area_code,
        arg_min(area_series.series_id, area_series.year) as series_id
    from area_series
    inner join merged on area_series.area_code = merged.gemeente_code
    where area_series.year > merged.last_year
    group by area_series.area_code
)

select
    computed.year,
    computed.gemeente_code as area_code,
    'gemeente' as area_level,
    computed.gemeente_code,
    computed.indicator_id,
    catalogue.theme,
    catalogue.unit,
    computed.value,
    computed.numerator,
    computed.denominator,
    null::double as ci_lower,
    null::double as ci_upper,
    computed.source_table,
    cast(computed.year as varchar) as period,
    computed.missing_reason,
    coalesce(successor_series.series_id, computed.gemeente_code || '@territory') as series_id,
    false as series_break,
    null::varchar as break_reason,
    'aggregated_predecessors' as value_source,
    computed.territory_year,
    computed.predecessor_codes
from computed
inner join catalogue on computed.indicator_id = catalogue.indicator_id
left join successor_series on computed.gemeente_code = successor_series.area_code
order by computed.year, computed.gemeente_code, computed.indicator_id
