-- publish.targets: the targets (ambities) municipalities declared (municipal.targets), each with the figures that
-- say whether it is on course. Grain: one row per (area_code, indicator_id) of municipal.targets. Values in the
-- indicator's unit (unit): base_value is the figure of base_year (the declared one, else the first year with a
-- figure), latest_value that of latest_year (the last year with a figure after the base year), expected_value
-- what the straight line from (base_year, base_value) to (target_year, target_value) gives for latest_year (the
-- target itself from target_year on). status: 'op_koers' when latest_value is at least as far towards the
-- target as expected_value (for a target equal to its base: not past it in the wrong direction), 'niet_op_koers'
-- when it lags, 'onbekend' without a base or a later figure. progress_pct: how much of the way from base to
-- target the latest figure has come (100 = reached). The site and the exports read it.
with

targets as (
    select
        gemeente_code,
        area_code,
        area_level,
        indicator_id,
        base_year,
        target_year,
        target_value,
        file,
        row_number
    from municipal.targets
),

catalogue as (
    select
        indicator_id,
        name_nl,
        unit,
        direction
    from indicators.catalogue
),

figures as (
    select
        indicator_values.area_code,
        indicator_values.indicator_id,
        indicator_values.year,
        indicator_values.value
    from indicators.values as indicator_values
    inner join targets
        on
            indicator_values.area_code = targets.area_code
            and indicator_values.indicator_id = targets.indicator_id
    where indicator_values.value is not null
),

based as (
    select
        targets.*,
        coalesce(
            targets.base_year,
            (
                select min(figures.year) from figures
                where figures.area_code = targets.area_code and figures.indicator_id = targets.indicator_id
            )
        ) as start_year
    from targets
),

measured as (
    select
        based.*,
        (
            select any_value(figures.value) from figures
            where
                figures.area_code = based.area_code and figures.indicator_id = based.indicator_id
                and figures.year = based.start_year
        ) as base_value,
        (
            select max(figures.year) from figures
            where
                figures.area_code = based.area_code and figures.indicator_id = based.indicator_id
                and figures.year > based.start_year
        ) as latest_year
    from based
),

lined as (
    select
        measured.*,
        (
            select any_value(figures.value) from figures
            where
                figures.area_code = measured.area_code and figures.indicator_id = measured.indicator_id
                and figures.year = measured.latest_year
        ) as latest_value,
        measured.base_value + (measured.target_value - measured.base_value)
        * least(1.0, (measured.latest_year - measured.start_year) / (measured.target_year - measured.start_year))
            as expected_value
    from measured
)

select
    lined.gemeente_code,
    lined.area_code,
    lined.area_level,
    lined.indicator_id,
    catalogue.name_nl as indicator_name,
    catalogue.unit,
    lined.start_year as base_year,
    lined.base_value,
    lined.target_year,
    lined.target_value,
    lined.latest_year,
    lined.latest_value,
    lined.expected_value,
    case
        when lined.base_value is null or lined.latest_value is null then 'onbekend'
        when lined.target_value > lined.base_value
            then case when lined.latest_value >= lined.expected_value then 'op_koers' else 'niet_op_koers' end
        when lined.target_value < lined.base_value
            then case when lined.latest_value <= lined.expected_value then 'op_koers' else 'niet_op_koers' end
        when catalogue.direction = 'higher_is_worse'
            then case when lined.latest_value <= lined.target_value then 'op_koers' else 'niet_op_koers' end
        when catalogue.direction = 'higher_is_better'
            then case when lined.latest_value >= lined.target_value then 'op_koers' else 'niet_op_koers' end
        when lined.latest_value = lined.target_value then 'op_koers'
        else 'niet_op_koers'
    end as status,
    case
        when lined.target_value != lined.base_value and lined.latest_value is not null
            then 100.0 * (lined.latest_value - lined.base_value) / (lined.target_value - lined.base_value)
    end as progress_pct,
    lined.file,
    lined.row_number
from lined
left join catalogue on lined.indicator_id = catalogue.indicator_id
order by lined.gemeente_code, lined.area_code, lined.indicator_id
