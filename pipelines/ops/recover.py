"""Recovery after a crash: runs whose process is gone are marked failed, so nothing waits on them."""

from __future__ import annotations

import os

import dagster as dg

from bwm.ops.lock import process_alive


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark started runs of `bwm run` processes that no longer exist as failed; returns their run ids.

    Only runs tagged with the pid of the `bwm run` that executed them are considered (runs launched by the
    Dagster daemon are watched by its run monitoring, see dagster.yaml). The concurrency slots the dead
    run held are freed too.
    """
    dead = []
    records = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED,
                                                               dg.DagsterRunStatus.STARTING]))
    for record in records:
        run = record.dagster_run
        pid = run.tags.get("bwm/pid")
        if pid and pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            instance.report_run_failed(run, message=f"The process (pid {pid}) that ran this refresh is gone.")
            # Its steps held slots of the "warehouse" pool; without this the next run would wait for them.
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            dead.append(run.run_id)
    return dead
