-- publish.divide_measures: the divide measures the gemeente and indicator pages show. Grain: one row per
-- (gemeente_code, level, indicator_id, year) of divide.measures, every measure of how far apart the areas of a
-- gemeente are. The site reads it.
with

measures as (
    select * from divide.measures
)

select
    gemeente_code,
    year,
    level,
    indicator_id,
    direction,
    n_areas,
    n_dropped,
    weight_total,
    worst20_mean,
    best20_mean,
    gap,
    ratio,
    weighted_std,
    cv,
    theil_total,
    theil_between,
    theil_within,
    theil_n_nonpositive,
    dissimilarity,
    concentration_share_pct,
    source_table,
    concentration_threshold_pct,
    concentration_basis,
    territory_year
from measures
