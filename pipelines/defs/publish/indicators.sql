-- publish.indicators: the indicators as pages and exports describe them. Grain: one row per indicator_id of
-- indicators.catalogue, with catalogue_order, the catalogue's own row order (CBS indicators as in the YAML, then
-- the municipal ones by id): the order of the indicators on the pages within a theme and of the columns of an
-- export's data_wide and rows of its definitions. Both the site and the exports read it.
with

catalogue as (
    select
        rowid as catalogue_order,
        *
    from indicators.catalogue
)

select
    indicator_id,
    catalogue_order,
    name_nl,
    name_en,
    theme,
    theme_nl,
    definition_nl,
    unit,
    direction,
    source,
    source_label,
    method,
    aggregate,
    levels,
    years,
    disclosure
from catalogue
