"""The scenarios the harness measures, each run as ``python -m benchmarks.scenarios NAME`` in a fresh process.

The harness sets every ``BWM_*`` variable (mirror, warehouse, site, exports, Dagster storage, drop folder); a
scenario reads them through ``Settings.from_env()`` like the pipeline does. Each prints, as its last line,
``BENCH {json}`` with what it wants recorded besides time and memory (which the harness measures from outside).

* ``floor``: DuckDB reading the raw mirror into staging and nothing else: the raw and staging asset functions
  called directly (no Dagster run, no event log), the least any refresh must do;
* ``core``: the compute core, mirror -> ``divide.measures`` (every asset upstream of it and it, with their checks,
  in one in-process run on an empty warehouse of its own): what the pandas baseline is compared with;
* ``refresh``: ``bwm run`` (the ``refresh`` job in-process, every asset and check);
* ``nightly``: the ``nightly_refresh`` schedule's decision (``evaluate_tick``, as the daemon calls it) and the
  run it requests, if any, executed in-process;
* ``municipal``: what the ``municipal_files`` sensor requests after a file in the drop folder changed, made
  complete (see ``municipal_selection``) and executed in-process;
* ``site``: ``bwm site build``;
* ``exports``: every indicator of every municipality to Parquet and XLSX (what the export asset runs, without CSV);
* ``baseline``: the compute core again in plain pandas (``benchmarks/baseline``): the mirror to the same
  ``indicators.values`` and ``divide.measures`` (tests/test_baseline_agrees.py), written to ``out``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path


def _emit(**fields) -> None:
    print("BENCH " + json.dumps(fields, default=str), flush=True)


def _dagster_env() -> None:
    from bwm.settings import Settings, prepare_dagster_home

    prepare_dagster_home(Settings.from_env())


def floor() -> int:
    """The raw and staging layers alone (their assets in graph order, in this process); the time of each step."""
    import dagster as dg

    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name in ("raw", "staging")]
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh").execute_in_process(instance=instance, asset_selection=keys)
    steps = {s.step_key: round(s.end_time - s.start_time, 2) for s in instance.get_run_step_stats(result.run_id)
             if s.start_time and s.end_time}
    _emit(steps=steps)
    return 0


def core() -> int:
    """Every asset up to ``divide.measures`` (and their checks) in one in-process run; the run's own seconds."""
    _dagster_env()
    import dagster as dg

    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    # a multi-asset runs whole (municipal_files: its file_status too)
    keys = dg.AssetSelection.assets(dg.AssetKey(["divide", "measures"])).upstream() \
        .required_multi_asset_neighbors().resolve(graph)
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = defs.resolve_job_def("refresh").execute_in_process(instance=instance, asset_selection=list(keys),
                                                               raise_on_error=False)
    seconds = time.perf_counter() - started
    steps = {s.step_key: round(s.end_time - s.start_time, 2) for s in instance.get_run_step_stats(result.run_id)
             if s.start_time and s.end_time}
    _emit(compute_seconds=round(seconds, 2), assets=len(keys), steps=dict(sorted(steps.items(), key=lambda kv: -kv[1])))
    return 0 if result.success else 1


def refresh() -> int:
    from pipelines.cli import main

    return main(["run"])


def _run_selection(keys, trigger: str) -> tuple[bool, float]:
    """Execute the refresh job over ``keys`` in this process, holding the refresh lock like ``bwm run``."""
    import dagster as dg

    from bwm.ops.lock import refresh_lock
    from bwm.settings import Settings
    from pipelines.definitions import defs
    from pipelines.ops.recover import fail_dead_runs

    started = time.perf_counter()
    job = defs.resolve_job_def("refresh")
    instance = dg.DagsterInstance.get()
    with refresh_lock(Settings.from_env().warehouse_path, owner=f"benchmark (pid {os.getpid()})"):
        # As `bwm run` does: a run killed earlier (e.g. a scenario stopped by --timeout) still holds a slot of the
        # "warehouse" pool, and this run would wait for it forever.
        fail_dead_runs(instance)
        result = job.execute_in_process(instance=instance, asset_selection=list(keys), raise_on_error=False,
                                        tags={"bwm/trigger": trigger, "bwm/pid": str(os.getpid())},
                                        run_config={"loggers": {"progress": {}}})
    return result.success, time.perf_counter() - started


def nightly() -> int:
    _dagster_env()
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.defs.automation.schedules import nightly_refresh
    from pipelines.resources import BwmResource

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    # As the daemon does: the schedule receives the code location's resource (the BWM_ variables of the process).
    context = dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def(),
                                        scheduled_execution_time=dt.datetime.now(dt.UTC),
                                        resources={"bwm": BwmResource()})
    data = nightly_refresh.evaluate_tick(context)
    decided = time.perf_counter() - started
    requests = list(data.run_requests or [])
    ok, run_seconds, selected = True, 0.0, []
    for request in requests:
        selected += [k.to_user_string() for k in request.asset_selection or []]
        success, seconds = _run_selection(request.asset_selection, "nightly")
        ok, run_seconds = ok and success, run_seconds + seconds
    _emit(decision="run" if requests else "skip", skip_message=data.skip_message, decide_seconds=round(decided, 2),
          run_seconds=round(run_seconds, 2), selected=selected)
    return 0 if ok else 1


def municipal_selection(repo, requested) -> list:
    """The sensor's requested keys, plus the other outputs of a multi-asset that cannot run in part, plus all
    that is downstream of those: what a run started by the sensor actually rebuilds and must rebuild.

    (Dagster runs a non-subsettable multi-asset whole, so its other outputs change too, and what reads them is
    stale unless it is part of the run.)
    """
    import dagster as dg

    keys = set(requested)
    for key in requested:
        assets_def = repo.assets_defs_by_key.get(key)
        if assets_def is not None and not assets_def.can_subset:
            keys |= set(assets_def.keys)
    graph = repo.asset_graph
    return sorted(dg.AssetSelection.assets(*keys).downstream().resolve(graph), key=lambda k: k.to_user_string())


def municipal(cursor_file: str) -> int:
    _dagster_env()
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.defs.automation.sensors import municipal_files
    from pipelines.resources import BwmResource

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    repo = defs.get_repository_def()
    cursor = Path(cursor_file).read_text(encoding="utf-8")
    data = municipal_files.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                                 repository_def=repo,
                                                                 resources={"bwm": BwmResource()}))
    requests = list(data.run_requests or [])
    if not requests:
        _emit(error=f"the sensor requested no run: {data.skip_message}")
        return 1
    requested = [k for r in requests for k in (r.asset_selection or [])]
    keys = municipal_selection(repo, requested)
    decided = time.perf_counter() - started
    ok, seconds = _run_selection(keys, "municipal_files")
    _emit(sensor_selected=[k.to_user_string() for k in requested], executed=[k.to_user_string() for k in keys],
          decide_seconds=round(decided, 2), run_seconds=round(seconds, 2))
    return 0 if ok else 1


def site() -> int:
    from bwm.settings import Settings
    from bwm.site.build import build_site

    settings = Settings.from_env()
    # reuse=False: every page rendered (the site of (a) is there, and would otherwise be taken over unchanged)
    result = build_site(settings.warehouse_path, settings.site_dir, mirror_dir=settings.mirror_dir, reuse=False)
    _emit(pages=result.pages, seconds=round(result.seconds, 2), rendered=result.rendered, reused=result.reused,
          largest={k: list(v) for k, v in result.largest.items()})
    return 0


def exports(out: str) -> int:
    from bwm import warehouse
    from bwm.export.run import export_per_municipality
    from bwm.settings import Settings

    settings = Settings.from_env()
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        codes = [r[0] for r in con.execute(
            "select distinct gemeente_code from indicators.values where area_level = 'gemeente' order by 1").fetchall()]
    shutil.rmtree(out, ignore_errors=True)  # an empty folder: every municipality written (exports are incremental)
    files = export_per_municipality(settings.warehouse_path, codes, Path(out), formats=("parquet", "xlsx"),
                                    generated_at=generated_at)
    _emit(municipalities=len(codes), files=len(files), bytes=sum(p.stat().st_size for p in files))
    return 0


def baseline(out: str) -> int:
    """The pandas baseline on the settings' mirror, with the settings' health table, selection and factor."""
    from benchmarks.baseline.run import main
    from bwm.settings import Settings

    s = Settings.from_env()
    return main(["--mirror", str(s.mirror_dir), "--out", out, "--health-table", s.health_table,
                 "--municipalities", ",".join(s.municipalities), "--years", ",".join(map(str, s.years)),
                 "--concentration-factor", repr(s.concentration_factor)])


SCENARIOS = {"floor": floor, "core": core, "refresh": refresh, "nightly": nightly, "municipal": municipal,
             "site": site, "exports": exports, "baseline": baseline}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SCENARIOS:
        print(f"usage: python -m benchmarks.scenarios {{{','.join(SCENARIOS)}}} [args]", file=sys.stderr)
        return 2
    return SCENARIOS[argv[0]](*argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
