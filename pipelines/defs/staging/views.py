"""The SQL of staging's harmonisation views, written per year from the key resolution.

Each KWB year is its own raw table with its own keys. Staging's SQL files (``areas.sql``, ``kwb.sql``,
``health.sql`` beside this module) read views declared from here, so they never name a year-specific key:

* ``staging.kwb_unpivoted``: one row per (year, region row, mapped numeric raw key) with the raw value, nulls kept;
* ``staging.kwb_region_rows``: one row per (year, region row) with the descriptors staging.areas needs;
* ``staging.health_unpivoted``: the health table's mapped topics, long, with their canonical names and units.
"""

from __future__ import annotations

import polars as pl

#: Canonical descriptors and counts that staging.areas takes from each year's table.
AREA_FIELDS = {
    "gemeentenaam": "varchar",
    "soort_regio": "varchar",
    "codering": "varchar",
    "indelingswijziging": "varchar",
    "inwoners": "double",
    "huishoudens": "double",
}


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def unpivot_sql(year: int, table_id: str, region_dim: str, resolution: pl.DataFrame) -> str | None:
    """The select for one year's mapped numeric keys, or None when the year maps none."""
    # Quarantined keys (unexpected unit) are unpivoted too: staging.kwb keeps their rows, value null, so the
    # variable shows up as missing with its reason instead of vanishing.
    rows = resolution.filter(
        pl.col("action").is_in(["map", "quarantine"]) & pl.col("canonical").is_not_null() & (pl.col("kind") != "meta")
    )
    if rows.is_empty():
        return None
    keys = rows["raw_key"].to_list()
    # try_cast: a few numeric concepts (MateVanStedelijkheid) are typed String in some years.
    casts = ", ".join(f"try_cast(trim(cast({_q(k)} as varchar)) as double) as {_q(k)}" for k in keys)
    names = ", ".join(_q(k) for k in keys)
    return (
        f"select {year} as year, '{table_id}' as table_id, row_id, region_key, raw_key, value from ("
        f"select ID as row_id, {_q(region_dim)} as region_key, {casts} from raw.kwb_{year}"
        f") unpivot include nulls (value for raw_key in ({names}))"
    )


def region_rows_sql(year: int, table_id: str, region_dim: str, resolution: pl.DataFrame) -> str:
    """The select for one year's region descriptors; a field the year lacks is null."""
    by_canonical = {
        r["canonical"]: r["raw_key"]
        for r in resolution.filter(pl.col("canonical").is_in(list(AREA_FIELDS)) & (pl.col("action") == "map"))
        .iter_rows(named=True)
    }
    fields = []
    for field, sql_type in AREA_FIELDS.items():
        key = by_canonical.get(field)
        if key is None:
            fields.append(f"null::{sql_type} as {field}")
        elif sql_type == "double":
            fields.append(f"try_cast(trim(cast({_q(key)} as varchar)) as double) as {field}")
        else:
            fields.append(f"cast({_q(key)} as varchar) as {field}")
    return (
        f"select {year} as year, '{table_id}' as table_id, '{region_dim}' as region_dimension, "
        f"ID as row_id, {_q(region_dim)} as region_key, {', '.join(fields)} from raw.kwb_{year}"
    )


def kwb_view_sql(years: list[tuple[int, str, str]], resolution: pl.DataFrame) -> tuple[str, str]:
    """The selects of the views ``kwb_unpivoted`` and ``kwb_region_rows`` over the given years.

    ``years`` holds (year, table_id, region_dimension) for every raw KWB table present.
    """
    unpivots, regions = [], []
    for year, table_id, region_dim in years:
        res = resolution.filter(pl.col("year") == year)
        sql = unpivot_sql(year, table_id, region_dim, res)
        if sql:
            unpivots.append(sql)
        regions.append(region_rows_sql(year, table_id, region_dim, res))
    if not regions:
        raise ValueError("no raw KWB tables to harmonise")
    empty_unpivot = (
        "select null::integer as year, null::varchar as table_id, null::bigint as row_id, "
        "null::varchar as region_key, null::varchar as raw_key, null::double as value where false"
    )
    return "\nunion all\n".join(unpivots) or empty_unpivot, "\nunion all\n".join(regions)


def health_view_sql(table: str, resolution: pl.DataFrame) -> str:
    """The select of the view ``health_unpivoted`` over raw ``table`` (the health table as delivered).

    ``resolution`` holds raw_key, canonical and unit for every mapped health topic of that table.
    """
    mapped = resolution.filter((pl.col("action") == "map") & pl.col("canonical").is_not_null())
    if mapped.is_empty():
        raise ValueError(f"no health topic of {table} is mapped; "
                         "check its key map (data/reference/cbs_tables.csv names it)")
    keys = mapped["raw_key"].to_list()
    casts = ", ".join(f"try_cast(trim(cast({_q(k)} as varchar)) as double) as {_q(k)}" for k in keys)
    names = ", ".join(_q(k) for k in keys)
    values = ", ".join(
        "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in (r["raw_key"], r["canonical"], r["unit"])) + ")"
        for r in mapped.iter_rows(named=True)
    )
    return (
        "select u.leeftijd, u.marges, u.region_key, u.periode, u.raw_key, u.value, r.variable, r.unit from ("
        f"select leeftijd, marges, region_key, periode, raw_key, value from ("
        f"select Leeftijd as leeftijd, Marges as marges, WijkenEnBuurten as region_key, Perioden as periode, {casts} "
        f"from {table}) unpivot include nulls (value for raw_key in ({names}))"
        f") u inner join (values {values}) r(raw_key, variable, unit) using (raw_key)"
    )
