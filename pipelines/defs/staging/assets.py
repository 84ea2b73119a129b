"""The staging layer: KWB harmonised over all years, the areas of each year, and the health table."""

import dagster as dg
import polars as pl

from bwm import registry, warehouse
from bwm.harmonise import keymap, views
from bwm.settings import KWB_YEARS, Settings

RAW_KWB = [dg.AssetKey(["raw", f"kwb_{year}"]) for year in KWB_YEARS]
RAW_META = [dg.AssetKey(["raw", "cbs_data_properties"]), dg.AssetKey(["raw", "cbs_dimensions"]),
            dg.AssetKey(["raw", "cbs_tables"])]
RESOLUTION = dg.AssetKey(["staging", "kwb_key_resolution"])
AREAS = dg.AssetKey(["staging", "areas"])


def _present_years(con, settings: Settings) -> list[tuple[int, str, str]]:
    """(year, table_id, region_dimension) of every configured KWB year whose raw table exists."""
    return [
        (t.year, t.table_id, t.region_dimension)
        for t in keymap.kwb_tables()
        if t.year in settings.years and warehouse.table_exists(con, "raw", f"kwb_{t.year}")
    ]


def _resolution_frame(con) -> pl.DataFrame:
    return con.execute("select * from staging.kwb_key_resolution").pl()


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=RESOLUTION, deps=RAW_META, group_name="staging", compute_kind="python")
def kwb_key_resolution(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """How each raw KWB key of each year maps to a canonical variable.

    Grain: one row per (year, raw_key) of each table's own DataProperties. `match` is the rule that
    resolved it (see `keymap.resolve`): 'exact' (the key is in data/reference/kwb_keymap.csv), 'alias'
    (a reviewed alias stem, data/reference/kwb_key_aliases.csv), 'stem' (suffix or case differs), 'title'
    (the table's own title and unit) or 'unmapped'. `action` is 'map', 'ignore', or 'quarantine' when the
    table's unit (`cbs_unit`) does not convert to the canonical `unit` (`expected_cbs_unit` is what the key
    map expects; `scale` is null and `note` says why). `scale` converts CBS's unit to the canonical `unit`.
    """
    settings = Settings.from_env()
    variables = keymap.variables()
    frames = []
    with warehouse.connect(settings.work_warehouse_path) as con:
        for year, table_id, _dim in _present_years(con, settings):
            props = con.execute(
                "select key as \"Key\", type as \"Type\", unit as \"Unit\", datatype as \"Datatype\", "
                "title as \"Title\" from raw.cbs_data_properties where table_id = ? order by ordinal",
                [table_id],
            ).pl().to_dicts()
            res = keymap.resolve(year, props).with_columns(
                pl.lit(year).alias("year"), pl.lit(table_id).alias("table_id")
            )
            frames.append(res)
        frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
        frame = frame.with_columns(
            pl.col("canonical").replace_strict(
                {k: v.kind for k, v in variables.items()}, default=None, return_dtype=pl.String
            ).alias("kind")
        ).select("year", "table_id", "raw_key", "canonical", "kind", "action", "match", "scale", "unit",
                 "cbs_unit", "expected_cbs_unit", "note")
        n = warehouse.replace_table_from_frame(con, "staging", "kwb_key_resolution", frame)
    counts = frame.group_by("match").len().sort("match").to_dicts()
    quarantined = frame.filter(pl.col("action") == "quarantine").height
    return dg.MaterializeResult(metadata={"rows": n, **{f"match_{c['match']}": c["len"] for c in counts},
                                          "quarantined": quarantined})


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=AREAS, deps=[*RAW_KWB, *RAW_META, RESOLUTION], group_name="staging", compute_kind="duckdb")
def areas(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every gemeente, wijk and buurt of each KWB year (and the national row).

    Grain: one row per (year, area_code). Columns: area_level (gemeente/wijk/buurt/land), area_name,
    gemeente_code/name, wijk_code (buurten), inhabitants (persons, 1 January), households (count),
    comparability_code (CBS Indelingswijziging against the year before: 1 unchanged, 2 recoded,
    3 boundaries changed), table_id, is_synthetic.
    """
    settings = Settings.from_env()
    with warehouse.connect(settings.work_warehouse_path) as con:
        views.create_kwb_views(con, _present_years(con, settings), _resolution_frame(con))
        n = warehouse.create_table_from_sql(
            con, "staging", "areas", params={"municipalities": list(settings.municipalities)}
        )
        per_level = con.execute(
            "select area_level, count(*) from staging.areas group by 1 order by 1").fetchall()
        preview = warehouse.preview_markdown(con, "select * from staging.areas where area_level = 'buurt'")
    return dg.MaterializeResult(
        metadata={"rows": n, **{f"rows_{lvl}": c for lvl, c in per_level},
                  "preview": dg.MetadataValue.md(preview)}
    )


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=["staging", "kwb"], deps=[*RAW_KWB, RESOLUTION, AREAS], group_name="staging", compute_kind="duckdb")
def kwb(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """KWB harmonised over 2013-2024, long.

    Grain: one row per (year, area_code, variable). `value` is in the canonical `unit` (euro, pct, count,
    km, ha, per_1000, ...); null with value_status `suppressed` (CBS left this area empty), `not_published_yet`
    (the whole column is empty in this release) or `quarantined` (unexpected unit; see kwb_key_resolution).
    """
    settings = Settings.from_env()
    with warehouse.connect(settings.work_warehouse_path) as con:
        views.create_kwb_views(con, _present_years(con, settings), _resolution_frame(con))
        n = warehouse.create_table_from_sql(con, "staging", "kwb")
        per_year = con.execute("select year, count(*) from staging.kwb group by 1 order by 1").fetchall()
        preview = warehouse.preview_markdown(
            con, "select * from staging.kwb where variable = 'inkomen_per_inwoner_eur' and value is not null")
    return dg.MaterializeResult(
        metadata={"rows": n, **{f"rows_{y}": c for y, c in per_year}, "preview": dg.MetadataValue.md(preview)}
    )


@dg.asset(pool=warehouse.WAREHOUSE_POOL, key=["staging", "health"], deps=[dg.AssetKey(["raw", "health"]), *RAW_META],
          group_name="staging", compute_kind="duckdb")
def health(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The health table (BWM_HEALTH_TABLE: 50120NED by default, or 50090NED) harmonised.

    Grain: one row per (year, area_code, age_group_code, variable). `value` in percent of residents of the
    age group, with the 95% interval (ci_lower, ci_upper) where the table has it; value_status `suppressed`
    (no figure for this area) or `not_measured` (no figure for any area in that period) when null.
    """
    settings = Settings.from_env()
    source = registry.health_table(settings)
    with warehouse.connect(settings.work_warehouse_path) as con:
        props = con.execute(
            "select key as \"Key\", type as \"Type\", unit as \"Unit\", datatype as \"Datatype\", "
            "title as \"Title\" from raw.cbs_data_properties where table_id = ? order by ordinal",
            [source.table_id]).pl().to_dicts()
        views.create_health_view(con, f"raw.{source.raw_table}", keymap.resolve_health(props, source.table_id))
        n = warehouse.create_table_from_sql(
            con, "staging", "health",
            params={"municipalities": list(settings.municipalities), "table_id": source.table_id},
        )
        per_year = con.execute("select year, count(*) from staging.health group by 1 order by 1").fetchall()
    return dg.MaterializeResult(metadata={"rows": n, "table_id": source.table_id,
                                          **{f"rows_{y}": c for y, c in per_year}})


staging_assets = [kwb_key_resolution, areas, kwb, health]
