-- publish.samenhang: do the disadvantages coincide in the same buurten? Grain: one row per (year, gemeente_code,
-- indicator_a, indicator_b) of indicators.samenhang: rho, the residents-weighted Spearman correlation (-1..1;
-- positive: where one is worse, the other tends to be worse too), n_buurten, status (computed, too_few_buurten,
-- no_variation; rho null unless computed). The gemeente page shows it as a heat map and a table.
with

samenhang as (
    select * from indicators.samenhang
)

select
    year,
    gemeente_code,
    indicator_a,
    indicator_b,
    n_buurten,
    min_buurten,
    rho,
    status
from samenhang
