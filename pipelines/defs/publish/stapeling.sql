-- publish.stapeling: where disadvantages pile up, per buurt, as the gemeente and buurt pages and the exports show it.
-- Grain: one row per (year, area_code, scope) of indicators.stapeling (scope 'gemeente': among the worst-off 20% of
-- the gemeente's residents; 'warehouse': of all buurten in the warehouse), with the buurt's name. Counts are null
-- where score_reason says why there is no score (coverage_below_threshold, no_residents). A signal, not a verdict.
with

stapeling as (
    select * from indicators.stapeling
),

areas as (
    select
        year,
        area_code,
        area_name
    from publish.areas
)

select
    stapeling.year,
    stapeling.gemeente_code,
    stapeling.area_code,
    areas.area_name,
    stapeling.scope,
    stapeling.inhabitants,
    stapeling.n_core,
    stapeling.n_with_value,
    stapeling.coverage_pct,
    stapeling.min_coverage_pct,
    stapeling.n_themes,
    stapeling.n_themes_covered,
    stapeling.n_indicators_worst20,
    stapeling.n_themes_worst20,
    stapeling.themes_worst20,
    stapeling.indicators_worst20,
    stapeling.score_reason
from stapeling
left join areas
    on
        stapeling.year = areas.year
        and stapeling.area_code = areas.area_code
