-- publish.divide_contributions: where the divide grows, for the exports. Grain: one row per (gemeente_code, level,
-- indicator_id, measure, base_year, year, area_code) of divide.contributions: each buurt's membership of the
-- worst-off and best-off 20%, its term of the measure and its contribution to the change since the base year.
with

contributions as (
    select * from divide.contributions
)

select
    gemeente_code,
    level,
    indicator_id,
    measure,
    base_year,
    year,
    area_code,
    status,
    value,
    weight,
    value_base,
    weight_base,
    worst20_share,
    best20_share,
    entered_worst20,
    left_worst20,
    entered_best20,
    left_best20,
    term_base,
    term,
    contribution,
    value_change,
    gemeente_value_change,
    change_vs_gemeente
from contributions
