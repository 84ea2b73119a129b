"""Running the refresh job inside a test process (shared by conftest and the test modules)."""

import os


def run_refresh_in_process(env: dict, asset_selection=None, raise_on_error: bool = True):
    """Run the refresh job in this process with exactly the given BWM_* variables, then restore the old ones."""
    import dagster as dg

    from pipelines.definitions import defs

    saved = {k: v for k, v in os.environ.items() if k.startswith("BWM_")}
    for k in saved:
        del os.environ[k]
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        return defs.resolve_job_def("refresh").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=raise_on_error, asset_selection=asset_selection,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    finally:
        for k in env:
            os.environ.pop(k, None)
        os.environ.update(saved)
