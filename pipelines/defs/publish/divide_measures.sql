-- publish.divide_measures: the divide measures the gemeente and indicator pages show. Grain: one row per
-- (gemeente_code, level, indicator_id, year) of divide.measures, every measure of how far apart the areas of a
-- gemeente are, and for each measure its interval (<measure>_ci_low, <measure>_ci_high from divide.intervals:
-- method 'monte_carlo_95' for health figures, 'rounding_range' for KWB figures, null otherwise). The site reads it.
-- indicator_id 'stapeling' is the derived measure stapeling_share_pct (bwm.stapeling), level buurt, % of residents.
with

measures as (
    select * from divide.measures
),

intervals as (
    select * from divide.intervals
),

interval_columns as (
    select
        gemeente_code,
        year,
        level,
        indicator_id,
        any_value(method) as interval_method,
        min(n_draws) as interval_n_draws,
        max(ci_low) filter (where measure = 'gap') as gap_ci_low,
        max(ci_high) filter (where measure = 'gap') as gap_ci_high,
        max(ci_low) filter (where measure = 'ratio') as ratio_ci_low,
        max(ci_high) filter (where measure = 'ratio') as ratio_ci_high,
        max(ci_low) filter (where measure = 'weighted_std') as weighted_std_ci_low,
        max(ci_high) filter (where measure = 'weighted_std') as weighted_std_ci_high,
        max(ci_low) filter (where measure = 'cv') as cv_ci_low,
        max(ci_high) filter (where measure = 'cv') as cv_ci_high,
        max(ci_low) filter (where measure = 'theil_total') as theil_total_ci_low,
        max(ci_high) filter (where measure = 'theil_total') as theil_total_ci_high,
        max(ci_low) filter (where measure = 'theil_between') as theil_between_ci_low,
        max(ci_high) filter (where measure = 'theil_between') as theil_between_ci_high,
        max(ci_low) filter (where measure = 'theil_within') as theil_within_ci_low,
        max(ci_high) filter (where measure = 'theil_within') as theil_within_ci_high,
        max(ci_low) filter (where measure = 'dissimilarity') as dissimilarity_ci_low,
        max(ci_high) filter (where measure = 'dissimilarity') as dissimilarity_ci_high,
        max(ci_low) filter (where measure = 'concentration_share_pct') as concentration_share_pct_ci_low,
        max(ci_high) filter (where measure = 'concentration_share_pct') as concentration_share_pct_ci_high,
        max(ci_low) filter (where measure = 'stapeling_share_pct') as stapeling_share_pct_ci_low,
        max(ci_high) filter (where measure = 'stapeling_share_pct') as stapeling_share_pct_ci_high
    from intervals
    group by gemeente_code, year, level, indicator_id
)

select
    measures.gemeente_code,
    measures.year,
    measures.level,
    measures.indicator_id,
    measures.direction,
    measures.n_areas,
    measures.n_dropped,
    measures.weight_total,
    measures.worst20_mean,
    measures.best20_mean,
    measures.gap,
    measures.ratio,
    measures.weighted_std,
    measures.cv,
    measures.theil_total,
    measures.theil_between,
    measures.theil_within,
    measures.theil_n_nonpositive,
    measures.dissimilarity,
    measures.concentration_share_pct,
    measures.stapeling_share_pct,
    measures.source_table,
    measures.concentration_threshold_pct,
    measures.concentration_basis,
    measures.territory_year,
    interval_columns.interval_method,
    interval_columns.interval_n_draws,
    interval_columns.gap_ci_low,
    interval_columns.gap_ci_high,
    interval_columns.ratio_ci_low,
    interval_columns.ratio_ci_high,
    interval_columns.weighted_std_ci_low,
    interval_columns.weighted_std_ci_high,
    interval_columns.cv_ci_low,
    interval_columns.cv_ci_high,
    interval_columns.theil_total_ci_low,
    interval_columns.theil_total_ci_high,
    interval_columns.theil_between_ci_low,
    interval_columns.theil_between_ci_high,
    interval_columns.theil_within_ci_low,
    interval_columns.theil_within_ci_high,
    interval_columns.dissimilarity_ci_low,
    interval_columns.dissimilarity_ci_high,
    interval_columns.concentration_share_pct_ci_low,
    interval_columns.concentration_share_pct_ci_high,
    interval_columns.stapeling_share_pct_ci_low,
    interval_columns.stapeling_share_pct_ci_high
from measures
left join interval_columns
    on
        measures.gemeente_code = interval_columns.gemeente_code
        and measures.year = interval_columns.year
        and measures.level = interval_columns.level
        and measures.indicator_id = interval_columns.indicator_id
