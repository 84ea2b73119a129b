-- publish.divide_stapeling: the divide measure of accumulated disadvantage, as the gemeente page and the exports show
-- it. Grain: one row per (gemeente_code, level, indicator_id, measure, year): level 'buurt', indicator_id
-- 'stapeling', measure 'stapeling_share_pct' (the % of residents of scored buurten living in a buurt that is among
-- the gemeente's worst-off 20% on at least min_themes themes; bwm.stapeling), its 95% interval (ci_low, ci_high,
-- Monte Carlo over the health intervals and the KWB rounding), and the trend of the series (divide.trends: label,
-- label_reason, change since the first year and its interval).
with

measures as (
    select
        gemeente_code,
        year,
        level,
        indicator_id,
        n_areas,
        n_dropped,
        weight_total,
        stapeling_share_pct,
        source_table
    from divide.measures
    where indicator_id = 'stapeling'
),

intervals as (
    select
        gemeente_code,
        year,
        level,
        indicator_id,
        ci_low,
        ci_high,
        method,
        n_draws
    from divide.intervals
    where measure = 'stapeling_share_pct'
),

trends as (
    select
        gemeente_code,
        level,
        indicator_id,
        label,
        label_reason,
        first_year,
        last_year,
        change_since_first,
        change_low,
        change_high
    from divide.trends
    where measure = 'stapeling_share_pct'
)

select
    measures.gemeente_code,
    measures.level,
    measures.indicator_id,
    'stapeling_share_pct' as measure,
    measures.year,
    measures.stapeling_share_pct as value,
    intervals.ci_low,
    intervals.ci_high,
    intervals.method as interval_method,
    intervals.n_draws,
    measures.n_areas,
    measures.n_dropped,
    measures.weight_total,
    measures.source_table,
    trends.label as trend_label,
    trends.label_reason,
    trends.first_year,
    trends.last_year,
    trends.change_since_first,
    trends.change_low,
    trends.change_high
from measures
left join intervals
    on
        measures.gemeente_code = intervals.gemeente_code
        and measures.year = intervals.year
        and measures.level = intervals.level
        and measures.indicator_id = intervals.indicator_id
left join trends
    on
        measures.gemeente_code = trends.gemeente_code
        and measures.level = trends.level
        and measures.indicator_id = trends.indicator_id
