-- publish.divide_trends: the trend findings the gemeente and indicator pages state. Grain: one row per
-- (gemeente_code, level, indicator_id, measure) of divide.trends: its label, slope and changes over the years,
-- the interval of the change (change_low .. change_previous_high, interval_method) and why the label was given
-- (label_reason: a change whose interval includes zero is 'no clear change').
-- The site reads it.
with

trends as (
    select * from divide.trends
)

select
    gemeente_code,
    level,
    indicator_id,
    measure,
    label,
    slope_per_year,
    change_since_first,
    change_since_previous,
    relative_change,
    n_years,
    first_year,
    last_year,
    first_value,
    last_value,
    label_reason,
    change_low,
    change_high,
    change_previous_low,
    change_previous_high,
    interval_method,
    territory_year
from trends
