-- indicators.theme_summary: one row per (year, area_code, theme): a transparent composite signal.
-- Per indicator, year and level, each area's value is standardised against all areas of that level in the
-- warehouse (z = (value - mean) / standard deviation, in standard deviations), turned so that positive means
-- better-off (indicators with direction 'higher_is_worse' are negated; 'neutral' ones are left out).
-- For a reporting year, each indicator counts with the area's latest value within a window of window_years
-- years ending in that year (so a nearly empty latest year does not reduce a theme to one indicator), and the
-- score is the mean over the theme's indicators that have one. n_indicators says how many it covers, of
-- n_possible: the theme's indicators with a value for any area of the level in the window. coverage_met says
-- whether it covers at least min_indicators and at least min_share of n_possible; below that the pages show
-- no signal. oldest_year is the oldest value year the score uses.
-- It is a signal, not a verdict: it ranks areas against each other, and says nothing about whether a
-- level is good or bad in itself.
with

rules as (
    select
        3 as window_years,
        2 as min_indicators,
        0.5 as min_share
),

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

area_years as (
    select distinct
        indicator_values.year,
        indicator_values.area_code,
        indicator_values.area_level,
        indicator_values.gemeente_code
    from indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
),

standardised as (
    select
        indicator_values.year,
        indicator_values.area_code,
        indicator_values.area_level,
        indicator_values.indicator_id,
        catalogue.theme,
        (indicator_values.value - avg(indicator_values.value) over w)
        / nullif(stddev_pop(indicator_values.value) over w, 0)
        * case when catalogue.direction = 'higher_is_worse' then -1 else 1 end as z_better
    from indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
    where indicator_values.value is not null
    window w as (partition by indicator_values.year, indicator_values.indicator_id, indicator_values.area_level)
),

scored as (
    select * from standardised
    where z_better is not null
),

level_years as (
    select distinct
        year,
        area_level
    from area_years
),

possible as (
    select
        level_years.year,
        level_years.area_level,
        standardised.theme,
        count(distinct standardised.indicator_id) as n_possible
    from level_years
    cross join rules
    inner join standardised
        on
            level_years.area_level = standardised.area_level
            and standardised.year between level_years.year - rules.window_years + 1 and level_years.year
    group by level_years.year, level_years.area_level, standardised.theme
),

latest_in_window as (
    select
        area_years.year,
        area_years.area_code,
        scored.theme,
        scored.indicator_id,
        scored.year as value_year,
        scored.z_better
    from area_years
    cross join rules
    inner join scored
        on
            area_years.area_code = scored.area_code
            and area_years.area_level = scored.area_level
            and scored.year between area_years.year - rules.window_years + 1 and area_years.year
    qualify row_number() over (
        partition by area_years.year, area_years.area_code, scored.indicator_id order by scored.year desc
    ) = 1
),

per_theme as (
    select
        year,
        area_code,
        theme,
        avg(z_better) as score,
        count(*) as n_indicators,
        min(value_year) as oldest_year
    from latest_in_window
    group by year, area_code, theme
)

select
    area_years.year,
    area_years.area_code,
    area_years.area_level,
    area_years.gemeente_code,
    possible.theme,
    per_theme.score,
    coalesce(per_theme.n_indicators, 0) as n_indicators,
    possible.n_possible,
    coalesce(
        per_theme.n_indicators >= rules.min_indicators
        and per_theme.n_indicators >= rules.min_share * possible.n_possible,
        false
    ) as coverage_met,
    per_theme.oldest_year,
    rules.window_years,
    rules.min_indicators,
    rules.min_share,
    'signaal, geen oordeel' as interpretation
from area_years
cross join rules
inner join possible
    on area_years.year = possible.year and area_years.area_level = possible.area_level
left join per_theme
    on
        area_years.year = per_theme.year
        and area_years.area_code = per_theme.area_code
        and possible.theme = per_theme.theme
order by area_years.year, area_years.area_code, possible.theme
