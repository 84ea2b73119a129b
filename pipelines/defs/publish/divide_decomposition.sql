-- publish.divide_decomposition: why each divide measure changed, for the exports. Grain: one row per
-- (gemeente_code, level, indicator_id, measure, base_year, latest_year) of divide.decomposition: the total change
-- from the base year to the latest year split into a value effect, a population effect and a boundary effect
-- (the measure's unit), the counts of buurten in both years, appeared and disappeared.
with

decomposition as (
    select * from divide.decomposition
)

select
    gemeente_code,
    level,
    indicator_id,
    measure,
    base_year,
    latest_year,
    base_value,
    latest_value,
    total_change,
    value_effect,
    population_effect,
    boundary_effect,
    common_base_value,
    common_latest_value,
    boundary_contribution,
    n_common,
    n_appeared,
    n_disappeared
from decomposition
