-- publish.areas: the areas the pages are about. Grain: one row per (year, area_code) of staging.areas, every level
-- (land, gemeente, wijk, buurt), with what the pages show of an area: its level, name, gemeente and wijk, its
-- inhabitants and households, whether the figures are synthetic (the demo), and CBS's comparability code of the
-- year (2: same area under a new code; the site's search finds a recoded area by its former code).
-- The site reads it (names, parents, the years an area exists); the exports take their names from publish.values.
with

areas as (
    select * from staging.areas
)

select
    year,
    area_code,
    area_level,
    area_name,
    gemeente_code,
    wijk_code,
    inhabitants,
    households,
    is_synthetic,
    comparability_code
from areas
