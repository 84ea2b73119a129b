-- indicators.territory: which gemeente each year's gemeente counts towards, on today's territory. Grain: one row
-- per (year, source_code, gemeente_code): source_code is a gemeente code of that KWB year (staging.areas),
-- gemeente_code the series it belongs to. Today is the latest KWB year in the warehouse (territory_year).
--   A gemeente untouched by a merger since: one row, gemeente_code = source_code, territory_year null.
--   A predecessor of today's gemeente T (merged into it later, staging.herindelingen, followed through chains
--   such as Molenwaard -> Molenlanden): two rows, its own series (territory_year null) up to the merger, and T's
--   series on the territory of territory_year.
--   Today's gemeente T in a year before it absorbed others (Groningen before 2019): one row, T on the territory
--   of territory_year (its own smaller figure is not kept as T's series).
-- Only complete changes count (every old gemeente whole): a gemeente split over several others
-- (partial_codes, e.g. Winsum 2019) cannot be assigned without a buurt key, so its successors' series start at
-- the change, as CBS's do.
with recursive

gemeenten as (
    select distinct
        year,
        area_code as gemeente_code
    from staging.areas
    where area_level = 'gemeente'
),

latest as (
    select max(year) as territory_year from gemeenten
),

edges as (
    select distinct
        old_code,
        new_code,
        first_year
    from staging.herindelingen
    where complete and whole and old_code <> new_code
),

paths as (
    select
        year,
        gemeente_code as source_code,
        gemeente_code as target_code,
        year as hop_year,
        0 as depth
    from gemeenten
    union all
    select
        paths.year,
        paths.source_code,
        edges.new_code as target_code,
        edges.first_year as hop_year,
        paths.depth + 1 as depth
    from paths
    inner join edges on paths.target_code = edges.old_code
    where edges.first_year > paths.hop_year and paths.depth < 20
),

resolved as (
    select
        year,
        source_code,
        arg_max(target_code, depth) as today_code
    from paths
    group by year, source_code
),

current_codes as (
    select gemeenten.gemeente_code
    from gemeenten
    inner join latest on gemeenten.year = latest.territory_year
),

mapped as (
    select
        resolved.year,
        resolved.source_code,
        case
            when resolved.today_code in (select current_codes.gemeente_code from current_codes)
                then resolved.today_code
            else resolved.source_code
        end as today_code
    from resolved
),

assembled as (
    select
        *,
        count(*) over (partition by year, today_code) as n_codes
    from mapped
),

rows as (
    select
        assembled.year,
        assembled.source_code,
        assembled.today_code as gemeente_code,
        case when assembled.n_codes > 1 or assembled.source_code <> assembled.today_code then latest.territory_year end
            as territory_year
    from assembled
    cross join latest
    union all
    select
        year,
        source_code,
        source_code as gemeente_code,
        null::integer as territory_year
    from assembled
    where source_code <> today_code
)

select
    year,
    source_code,
    gemeente_code,
    territory_year
from rows
order by year, gemeente_code, source_code
