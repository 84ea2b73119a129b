-- publish.theme_scores: the theme scores the area pages show. Grain: one row per (year, area_code, theme) of
-- indicators.theme_summary (gemeente, wijk, buurt), with the number of indicators the score covers of those it
-- could. The site reads it.
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
    n_possible
from summary
