"""Operations without the daemon: the refresh lock, dead-run recovery, alerts, and the nightly decision."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from bwm.cbs import replay
from bwm.ops import alerts
from bwm.ops.lock import RefreshLocked, refresh_lock
from bwm.settings import Settings
from pipelines.definitions import defs
from pipelines.defs.automation.schedules import stale_roots
from pipelines.ops.recover import fail_dead_runs
from pipelines.resources import BwmResource


def test_second_lock_is_refused_with_the_holder_named(tmp_path):
    wh = tmp_path / "bwm.duckdb"
    with refresh_lock(wh, owner="run A"):
        with pytest.raises(RefreshLocked, match=r"Another refresh is writing .*run A"):
            with refresh_lock(wh, owner="run B"):
                pass
    with refresh_lock(wh, owner="run C"):  # released when the holder is done
        pass


def test_lock_of_a_killed_process_is_released_by_the_os(tmp_path):
    wh = tmp_path / "bwm.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from bwm.ops.lock import refresh_lock\n"
         f"with refresh_lock(Path({str(wh)!r}), 'child'):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RefreshLocked):
        with refresh_lock(wh):
            pass
    holder.kill()
    holder.wait()
    with refresh_lock(wh):  # no stale lock to clear by hand
        pass


def test_runs_of_dead_processes_are_marked_failed():
    instance = dg.DagsterInstance.ephemeral()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = dead.stdout.strip()
    run = instance.create_run_for_job(defs.resolve_job_def("refresh"), tags={"bwm/pid": pid})
    instance.handle_run_event(run.run_id, dg.DagsterEvent(
        event_type_value="PIPELINE_START", job_name=run.job_name, message="start"))
    alive = instance.create_run_for_job(defs.resolve_job_def("refresh"), tags={"bwm/pid": str(os.getpid())})
    instance.handle_run_event(alive.run_id, dg.DagsterEvent(
        event_type_value="PIPELINE_START", job_name=alive.job_name, message="start"))
    assert fail_dead_runs(instance) == [run.run_id]
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_failure_alert_posts_to_the_webhook_and_survives_a_dead_one():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        assert alerts.notify_failure("refresh", "run-1", "CBS down", webhook=url) is True
        assert _Hook.received[-1]["run_id"] == "run-1" and "CBS down" in _Hook.received[-1]["text"]
    finally:
        server.shutdown()
    assert alerts.notify_failure("refresh", "run-2", "x", webhook=url, timeout_s=1) is False


def test_nightly_decision_runs_nothing_when_nothing_changed_and_the_changed_table_when_cbs_publishes(
        demo_warehouse, tmp_path):
    graph_keys = set(defs.resolve_asset_graph().get_all_asset_keys())
    with replay.serve(demo_warehouse["mirror"]) as server:
        env = {"BWM_SOURCE": "live", "BWM_CBS_BASE_URL": server.base_url, "BWM_CBS_DATADERDEN_URL": server.base_url,
               "BWM_MIRROR_DIR": str(demo_warehouse["mirror"]),  # the mirror equals what CBS serves
               "BWM_WAREHOUSE": str(demo_warehouse["warehouse"]), "BWM_MUNICIPAL_DIR": str(demo_warehouse["municipal"])}
        roots, reasons = stale_roots(Settings.from_env(env), graph_keys)
        assert (roots, reasons) == ([], [])
        assert not [r for r in server.requests if "DataSet" in str(r)]  # asked the catalogue only

        env["BWM_MIRROR_DIR"] = str(tmp_path / "empty-mirror")  # now the mirror lacks everything
        roots, reasons = stale_roots(Settings.from_env(env), graph_keys)
        assert dg.AssetKey(["mirror", "cbs"]) in roots and dg.AssetKey(["raw", "kwb_2024"]) in roots
        assert any("85984NED" in r for r in reasons)


def test_municipal_sensor_requests_the_municipal_assets_when_a_file_changes(tmp_path):
    from pipelines.defs.automation.sensors import municipal_files

    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.csv").write_text("area_code,year,indicator_id,value\n")
    bwm = BwmResource(environ={"BWM_MUNICIPAL_DIR": str(folder), "BWM_WAREHOUSE": str(tmp_path / "w.duckdb")})
    with dg.build_sensor_context(repository_def=defs.get_repository_def(), resources={"bwm": bwm}) as context:
        first = municipal_files(context)  # first look: remember the folder
        assert isinstance(first, dg.SkipReason)
        unchanged = municipal_files(context)
        assert isinstance(unchanged, dg.SkipReason)  # nothing changed, and it says what it looked at
        assert "(1 checked: a.csv)" in unchanged.skip_message
        (folder / "a.csv").write_text("area_code,year,indicator_id,value\nBU99010101,2024,x,1\n")
        (folder / "b.csv").write_text("area_code,year,indicator_id,value\n")
        request = municipal_files(context)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["bwm/changed_files"] == "a.csv, b.csv"  # a.csv changed, b.csv is new
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"municipal/file_status", "indicators/values", "publish/site", "publish/exports"} <= keys
    assert "raw/kwb_2024" not in keys  # CBS data is not touched by a municipal file


def test_the_failure_alert_sensor_names_the_step_and_its_cause(monkeypatch):
    from pipelines.defs.automation import sensors

    @dg.op
    def load_values():
        raise RuntimeError("DuckDB ran out of memory writing indicators.values")

    @dg.job
    def refresh():
        load_values()

    instance = dg.DagsterInstance.ephemeral()
    result = refresh.execute_in_process(instance=instance, raise_on_error=False)
    run_failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    sent = []
    monkeypatch.setattr(sensors, "notify_failure",
                        lambda job, run_id, message, webhook="": sent.append((job, run_id, message)))
    context = dg.build_run_status_sensor_context(sensor_name="refresh_failure_alert", dagster_instance=instance,
                                                 dagster_run=result.dagster_run, dagster_event=run_failure,
                                                 resources={"bwm": BwmResource(environ={})})
    sensors.refresh_failure_alert(context.for_run_failure())
    assert sent == [("refresh", result.run_id,
                     "load_values: RuntimeError: DuckDB ran out of memory writing indicators.values")]


def test_a_run_that_finished_with_a_failed_check_is_alerted_and_tagged(monkeypatch):
    """A rejected municipal file fails a non-blocking check: the run succeeds, but someone must hear of it."""
    from pipelines.defs.automation import sensors

    @dg.asset
    def file_status():
        return 1

    @dg.asset_check(asset=file_status)
    def municipal_files_accepted():
        return dg.AssetCheckResult(passed=False, metadata={"rejected": "bad.csv"})

    @dg.asset_check(asset=file_status)
    def only_a_warning():
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([file_status, municipal_files_accepted, only_a_warning], instance=instance)
    assert result.success
    success = next(e for e in result.all_events if e.event_type_value == "PIPELINE_SUCCESS")
    sent = []
    monkeypatch.setattr(sensors, "notify_failure",
                        lambda job, run_id, message, webhook="": sent.append((job, run_id, message)))
    context = dg.build_run_status_sensor_context(sensor_name="failed_check_alert", dagster_instance=instance,
                                                 dagster_run=result.dagster_run, dagster_event=success,
                                                 resources={"bwm": BwmResource(environ={})})
    sensors.failed_check_alert(context)
    assert sent == [(result.dagster_run.job_name, result.run_id,
                     "1 check(s) failed: municipal_files_accepted on file_status")]
    assert instance.get_run_by_id(result.run_id).tags["bwm/failed_checks"] == sent[0][2]


def test_the_schedule_and_the_sensor_target_the_named_refresh_job():
    assert defs.resolve_schedule_def("nightly_refresh").job_name == "refresh"
    assert defs.resolve_sensor_def("municipal_files").job_name == "refresh"
    assert "__anonymous" not in defs.resolve_schedule_def("nightly_refresh").job_name


def test_a_nightly_tick_says_what_it_compared_or_which_tables_and_files_changed(demo_warehouse, tmp_path):
    from pipelines.defs.automation.schedules import nightly_refresh

    def tick(env):
        bwm = BwmResource(environ=env)
        with dg.build_schedule_context(repository_def=defs.get_repository_def(), resources={"bwm": bwm},
                                       scheduled_execution_time=dt.datetime(2026, 12, 2, 2)) as context:
            return nightly_refresh(context)

    env = {"BWM_SOURCE": "demo", "BWM_MIRROR_DIR": str(demo_warehouse["mirror"]),
           "BWM_WAREHOUSE": str(demo_warehouse["warehouse"]), "BWM_MUNICIPAL_DIR": str(demo_warehouse["municipal"])}
    skipped = tick(env)
    assert isinstance(skipped, dg.SkipReason)
    assert "CBS tables checked (" in skipped.skip_message and "85984NED" in skipped.skip_message
    files = sorted(p.name for p in demo_warehouse["municipal"].iterdir() if p.suffix in (".csv", ".xlsx"))
    assert f"municipal files checked ({len(files)}): {', '.join(files)}" in skipped.skip_message

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "nieuw.csv").write_text("area_code,year,indicator_id,value\n")
    started = tick({**env, "BWM_MIRROR_DIR": str(tmp_path / "empty-mirror"), "BWM_MUNICIPAL_DIR": str(drop)})
    assert isinstance(started, dg.RunRequest)
    tables = started.tags["bwm/changed_tables"].split(", ")
    assert "85984NED" in tables and len(tables) == len(set(tables))
    # the demo's files are gone from this folder and nieuw.csv is new: all of them changed since the warehouse
    assert started.tags["bwm/changed_files"] == ", ".join(sorted(files + ["nieuw.csv"]))
    assert started.tags["bwm/trigger"] == "nightly"
