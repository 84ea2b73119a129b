-- publish.theme_scores: the theme scores the area pages show. Grain: one row per (year, area_code, theme) of
-- indicators.theme_summary (gemeente, wijk, buurt). score is the mean of the theme's indicators in standard
-- deviations from the level's mean (positive is better-off), each indicator at the area's latest year within
-- window_years years up to year; n_indicators of n_possible say how many it covers, coverage_met whether that
-- reaches min_indicators and min_share of n_possible (below it the pages show no signal), oldest_year the
-- oldest value year it uses. The site reads it.
with

summary as (
    select * from indicators.theme_summary
)

select
    year,
    area_code,
    area_level,
    gemeente_code,
    theme,
    score,
    n_indicators,
    n_possible,
    coverage_met,
    oldest_year,
    window_years,
    min_indicators,
    min_share
from summary
