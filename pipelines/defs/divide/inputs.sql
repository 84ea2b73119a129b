-- materialize: view
-- divide.inputs: the input rows of the divide measures (a view; divide.measures reads it, bwm.divide.build):
-- one row per (year, gemeente, level, indicator, neighbourhood) on that year's geography, with the
-- neighbourhood's value, its residents as weight, its wijk (for the Theil decomposition), and for the
-- low-income indicator the estimated numbers of low-income and other households (for dissimilarity); the
-- 95% bounds of a health figure and the counts of a ratio (the intervals of divide.intervals, bwm.divide.uncertainty).
-- Across mergers (indicators.territory): a predecessor's neighbourhoods count for its own series and also for
-- today's gemeente's, flagged with territory_year ("op het grondgebied van <jaar>"); the health table is on one
-- (recent) geography for all periods, so its rows are left as they are.
with

catalogue as (
    select
        indicator_id,
        source,
        direction
    from indicators.catalogue
    where unit <> 'count'  -- municipal counts grow with an area's size: their spread is not a divide
),

indicator_values as (
    select
        year,
        area_code,
        area_level,
        gemeente_code,
        indicator_id,
        value,
        ci_lower,
        ci_upper,
        numerator,
        denominator,
        source_table
    from indicators.values
    where area_level in ('buurt', 'wijk')
),

territory as (
    select
        year,
        source_code,
        gemeente_code,
        territory_year
    from indicators.territory
),

weights as (
    select
        source,
        year,
        area_code,
        inhabitants,
        households
    from indicators.weights
)

select
    indicator_values.year,
    coalesce(territory.gemeente_code, indicator_values.gemeente_code) as gemeente_code,
    indicator_values.area_level as level,
    indicator_values.indicator_id,
    catalogue.direction,
    indicator_values.area_code,
    -- A buurt's wijk; a wijk is its own. Without one the Theil index leaves the row out, so wijk-level Theil
    -- indexes were never filled, though the measure is defined at both levels.
    case
        when indicator_values.area_level = 'buurt' then 'WK' || substr(indicator_values.area_code, 3, 6)
        when indicator_values.area_level = 'wijk' then indicator_values.area_code
    end as wijk_code,
    indicator_values.value,
    cast(weights.inhabitants as double) as inhabitants,
    case
        when indicator_values.indicator_id = 'huishoudens_laag_inkomen'
            then indicator_values.value / 100 * weights.households
    end as low_income_households,
    case
        when indicator_values.indicator_id = 'huishoudens_laag_inkomen'
            then (1 - indicator_values.value / 100) * weights.households
    end as other_households,
    indicator_values.source_table,
    indicator_values.ci_lower,
    indicator_values.ci_upper,
    indicator_values.numerator,
    indicator_values.denominator,
    territory.territory_year
from indicator_values
inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
left join territory
    on
        territory.year = case when catalogue.source = 'health' then -1 else indicator_values.year end
        and indicator_values.gemeente_code = territory.source_code
left join weights
    on
        catalogue.source = weights.source
        and indicator_values.year = weights.year
        and indicator_values.area_code = weights.area_code
