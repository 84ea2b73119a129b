"""The Dagster code location loads, and its asset keys are the ones the docs and SQL name."""

from pipelines.definitions import defs

EXPECTED = {
    "mirror/cbs",
    "raw/cbs_tables", "raw/cbs_data_properties", "raw/cbs_dimensions", "raw/health",
    *{f"raw/kwb_{year}" for year in range(2013, 2025)},
    "staging/kwb_key_resolution", "staging/kwb_unpivoted", "staging/kwb_region_rows", "staging/health_unpivoted",
    "staging/areas", "staging/kwb", "staging/health", "staging/herindelingen", "indicators/territory",
    "indicators/territory_values",
    "indicators/catalogue", "indicators/area_series", "indicators/weights", "indicators/values",
    "indicators/comparisons", "indicators/theme_summary", "indicators/aggregated",
    "indicators/stapeling_inputs", "indicators/stapeling", "indicators/samenhang",
    "divide/inputs", "divide/measures", "divide/trends", "divide/intervals", "divide/change_intervals",
    "divide/contributions", "divide/decomposition",
    "mirror/geo", "publish/site", "publish/warehouse",
    "municipal/file_status", "municipal/values", "municipal/indicators", "municipal/targets", "municipal/published",
    "publish/exports",
    *{f"publish/{name}" for name in ("areas", "indicators", "values", "theme_scores", "divide_measures",
                                     "divide_trends", "divide_decomposition", "divide_contributions", "targets",
                                     "stapeling", "samenhang", "divide_stapeling")},
}


def test_definitions_load_with_every_asset():
    keys = {"/".join(k.path) for k in defs.resolve_all_asset_keys()}
    assert keys == EXPECTED


def test_every_asset_is_in_the_group_of_its_layer():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).group_name == key.path[0], key


def test_refresh_job_selects_everything():
    job = defs.resolve_job_def("refresh")
    assert {"/".join(k.path) for k in job.asset_layer.executable_asset_keys} == EXPECTED
