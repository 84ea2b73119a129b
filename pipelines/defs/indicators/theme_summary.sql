-- indicators.theme_summary: one row per (year, area_code, theme): a transparent composite signal.
-- Per indicator, year and level, each area's value is standardised against all areas of that level in the
-- warehouse (z = (value - mean) / standard deviation), turned so that positive means better-off
-- (indicators with direction 'higher_is_worse' are negated; 'neutral' ones are left out), and averaged
-- over the theme's indicators that have a value. n_indicators says how many it covers, of n_possible.
-- It is a signal, not a verdict: it ranks areas against each other, and says nothing about whether a
-- level is good or bad in itself.
with

catalogue as (
    select
        indicator_id,
        theme,
        direction
    from indicators.catalogue
    where
        direction <> 'neutral'
        and unit <> 'count'  -- municipal counts grow with an area's size, so they say nothing as a z-score
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
    where area_level in ('gemeente', 'wijk', 'buurt')
),

standardised as (
    select
        indicator_values.*,
        catalogue.theme,
        (indicator_values.value - avg(indicator_values.value) over w)
        / nullif(stddev_pop(indicator_values.value) over w, 0)
        * case when catalogue.direction = 'higher_is_worse' then -1 else 1 end as z_better
    from indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
    window w as (partition by indicator_values.year, indicator_values.indicator_id, indicator_values.area_level)
)

select
    year,
    area_code,
    area_level,
    gemeente_code,
    theme,
    avg(z_better) as score,
    count(z_better) as n_indicators,
    count(*) as n_possible,
    'signaal, geen oordeel' as interpretation
from standardised
group by year, area_code, area_level, gemeente_code, theme
order by year, area_code, theme
