-- publish.divide_trends: the trend findings the gemeente and indicator pages state. Grain: one row per
-- (gemeente_code, level, indicator_id, measure) of divide.trends: its label, slope and changes over the years.
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
    territory_year
from trends
