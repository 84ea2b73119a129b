-- indicators.aggregated: one row per (year, parent area, indicator): the value we compute ourselves from the
-- buurten, by the catalogue's method, to check CBS's wijk and gemeente figures and to aggregate sources
-- CBS does not publish at higher levels.
--   ratio:         sum of numerators / sum of denominators x factor
--   weighted_mean: sum(value x weight) / sum(weight), weight = inhabitants or households per the catalogue
--   none:          not aggregated (medians)
-- coverage is the share of the parent's buurt weight whose value is known: a low coverage means the
-- aggregate rests on part of the area only (CBS suppressed the rest).
-- Municipal indicators are left out: their wijk and gemeente totals are formed before disclosure control
-- (municipal.published), and re-adding the published buurten would only give partial sums.
with

catalogue as (
    select * from indicators.catalogue
    where aggregate <> 'none' and source <> 'municipal'
),

buurt_values as (
    select
        indicator_values.year,
        indicator_values.area_code,
        indicator_values.gemeente_code,
        'WK' || substr(indicator_values.area_code, 3, 6) as wijk_code,
        indicator_values.indicator_id,
        indicator_values.value,
        indicator_values.numerator,
        indicator_values.denominator,
        case when catalogue.weight = 'households' then weights.households else weights.inhabitants end as weight,
        catalogue.aggregate,
        catalogue.factor
    from indicators.values as indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
    left join indicators.weights as weights
        on
            catalogue.source = weights.source
            and indicator_values.year = weights.year
            and indicator_values.area_code = weights.area_code
    where indicator_values.area_level = 'buurt'
),

parents as (
    select
        *,
        wijk_code as parent_code,
        'wijk' as parent_level
    from buurt_values
    union all
    select
        *,
        gemeente_code as parent_code,
        'gemeente' as parent_level
    from buurt_values
)

select
    year,
    parent_code as area_code,
    parent_level as area_level,
    indicator_id,
    any_value(aggregate) as method,
    case any_value(aggregate)
        when
            'ratio'
            then sum(numerator) / nullif(sum(denominator) filter (numerator is not null), 0) * any_value(factor)
        when 'weighted_mean' then
            sum(value * weight) filter (value is not null and weight > 0)
            / nullif(sum(weight) filter (value is not null and weight > 0), 0)
    end as value,
    count(*) as n_buurten,
    count(value) as n_buurten_with_value,
    coalesce(sum(weight) filter (value is not null) / nullif(sum(weight), 0), 0) as coverage
from parents
group by year, parent_code, parent_level, indicator_id
order by year, area_code, indicator_id
