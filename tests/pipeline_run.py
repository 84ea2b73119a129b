"""Running the refresh job inside a test process (shared by conftest and the test modules)."""


def run_refresh_in_process(env: dict, asset_selection=None, raise_on_error: bool = True):
    """Run the refresh job in this process configured by exactly the given BWM_* variables.

    The variables reach the run as its resource (``BwmResource(environ=...)``), as ``bwm run`` passes its
    settings; the process environment is neither read nor changed.
    """
    import dagster as dg

    from pipelines.definitions import definitions
    from pipelines.resources import BwmResource

    defs = definitions(BwmResource(environ={k: str(v) for k, v in env.items()}))
    return defs.resolve_job_def("refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=raise_on_error, asset_selection=asset_selection,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
