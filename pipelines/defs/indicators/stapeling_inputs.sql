-- materialize: view
-- indicators.stapeling_inputs: the figures the stapeling tables are computed from (a view; bwm.stapeling reads
-- it): one row per (year, buurt, indicator) with a direction (neutral ones and municipal counts left out), the
-- value (null when missing, with its missing_reason), its 95% interval (health) or its counts (KWB ratios), the
-- buurt's residents (the KWB figure of the same year, else the health table's weight: the nearest KWB year) and,
-- for a municipal indicator, the stapeling theme its declaration names (null: not in the core set).
with

catalogue as (
    select
        indicator_id,
        source,
        direction,
        factor
    from indicators.catalogue
    where
        direction <> 'neutral'
        and unit <> 'count'
),

declared as (
    select
        indicator_id,
        stapeling_theme
    from municipal.indicators
),

buurt_values as (
    select
        year,
        area_code,
        gemeente_code,
        indicator_id,
        value,
        missing_reason,
        ci_lower,
        ci_upper,
        numerator,
        denominator,
        source_table
    from indicators.values
    where area_level = 'buurt'
),

weights as (
    select
        source,
        year,
        area_code,
        inhabitants
    from indicators.weights
)

select
    buurt_values.year,
    buurt_values.area_code,
    buurt_values.gemeente_code,
    buurt_values.indicator_id,
    catalogue.direction,
    catalogue.source,
    catalogue.factor,
    buurt_values.value,
    buurt_values.missing_reason,
    buurt_values.ci_lower,
    buurt_values.ci_upper,
    buurt_values.numerator,
    buurt_values.denominator,
    buurt_values.source_table,
    declared.stapeling_theme,
    cast(coalesce(kwb_weights.inhabitants, own_weights.inhabitants) as double) as inhabitants
from buurt_values
inner join catalogue on buurt_values.indicator_id = catalogue.indicator_id
left join declared on buurt_values.indicator_id = declared.indicator_id
left join weights as kwb_weights
    on
        kwb_weights.source = 'kwb'
        and buurt_values.year = kwb_weights.year
        and buurt_values.area_code = kwb_weights.area_code
left join weights as own_weights
    on
        catalogue.source = own_weights.source
        and buurt_values.year = own_weights.year
        and buurt_values.area_code = own_weights.area_code
