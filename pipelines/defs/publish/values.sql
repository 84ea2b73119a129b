-- publish.values: the figures the pages and the exports show. Grain: one row per (year, area_code, indicator_id)
-- of indicators.values at every level (land, gemeente, wijk, buurt), for the indicators of the catalogue.
-- Each row carries what a reader needs beside the number: the area's and its gemeente's name (that year's name,
-- else the latest the area had), the catalogue's theme, name, unit and source, the source table, the series
-- flags, the bounds of the published 95% interval of a health figure (ci_lower, ci_upper; null for other sources),
-- and the area's rank within its gemeente (indicators.comparisons; null without a value).
-- value_source says who made the figure: 'cbs' (a CBS table: KWB or the health table, as published), 'municipal'
-- (a municipal data file) or 'aggregated_predecessors' (computed by the monitor from the gemeente figures of
-- today's gemeente's predecessors, on the territory of territory_year: indicators.territory_values, with the
-- predecessors in predecessor_codes). Such a row takes the place of indicators.values' row with the same key,
-- which is there only for a gemeente that absorbed others under its own code (Groningen before 2019: its own,
-- smaller figure).
-- The site reads the areas' figures, ranks and national figures from it; the exports their data tables.
with

indicator_values as (
    select
        year,
        area_code,
        area_level,
        gemeente_code,
        indicator_id,
        value,
        missing_reason,
        numerator,
        denominator,
        ci_lower,
        ci_upper,
        source_table,
        series_id,
        series_break,
        break_reason
    from indicators.values
),

territory_values as (
    select
        year,
        area_code,
        area_level,
        gemeente_code,
        indicator_id,
        value,
        missing_reason,
        numerator,
        denominator,
        null::double as ci_lower,  -- an aggregate of KWB figures: no sampling interval
        null::double as ci_upper,
        source_table,
        series_id,
        series_break,
        break_reason,
        value_source,
        territory_year,
        predecessor_codes
    from indicators.territory_values
),

catalogue as (
    select
        indicator_id,
        theme,
        name_nl,
        unit,
        source
    from indicators.catalogue
),

comparisons as (
    select
        year,
        area_code,
        indicator_id,
        rank_in_gemeente,
        n_in_gemeente
    from indicators.comparisons
),

names as (
    select
        area_code,
        year,
        area_name
    from staging.areas
),

latest_names as (
    select
        area_code,
        arg_max(area_name, year) as area_name
    from staging.areas
    group by area_code
),

figures as (
    select
        indicator_values.*,
        case when catalogue.source = 'municipal' then 'municipal' else 'cbs' end as value_source,
        null::integer as territory_year,
        null::varchar as predecessor_codes
    from indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
    left join territory_values as replaced
        on
            indicator_values.year = replaced.year
            and indicator_values.area_code = replaced.area_code
            and indicator_values.indicator_id = replaced.indicator_id
    where replaced.area_code is null
    union all
    select * from territory_values
)

select
    cast(f.year as bigint) as year,
    f.gemeente_code,
    coalesce(gn.area_name, gl.area_name) as gemeente_name,
    f.area_level,
    f.area_code,
    coalesce(n.area_name, l.area_name) as area_name,
    c.theme,
    f.indicator_id,
    c.name_nl as indicator_name,
    c.unit,
    c.source,
    f.value,
    f.missing_reason,
    f.numerator,
    f.denominator,
    f.ci_lower,
    f.ci_upper,
    f.source_table,
    f.series_id,
    f.series_break,
    f.break_reason,
    f.value_source,
    f.territory_year,
    f.predecessor_codes,
    r.rank_in_gemeente,
    r.n_in_gemeente
from figures as f
inner join catalogue as c on f.indicator_id = c.indicator_id
left join comparisons as r on f.year = r.year and f.area_code = r.area_code and f.indicator_id = r.indicator_id
left join names as n on f.area_code = n.area_code and f.year = n.year
left join latest_names as l on f.area_code = l.area_code
left join names as gn on f.gemeente_code = gn.area_code and f.year = gn.year
left join latest_names as gl on f.gemeente_code = gl.area_code
