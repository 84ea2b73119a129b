"""Sensors: the municipal drop folder, failure alerts, freshness of what is published, and run retention."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from bwm.ops.alerts import failed_checks, failed_checks_message, notify_failure
from bwm.ops.changes import current_files
from pipelines.defs.automation.schedules import JOB_NAME, MUNICIPAL_ROOTS, listed
from pipelines.ops.progress import failure_text
from pipelines.resources import BwmResource


@dg.sensor(
    name="municipal_files",
    minimum_interval_seconds=300,
    job_name=JOB_NAME,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 5 minutes: when a file in the municipal drop folder is added, changed or removed, "
    "validate it and rebuild what depends on it.",
)
def municipal_files(context: dg.SensorEvaluationContext, bwm: BwmResource):
    settings = bwm.settings
    folder = settings.municipal_dir
    files = current_files(folder, max_mb=settings.municipal_max_mb)
    fingerprint = ",".join(f"{name}={digest}" for name, digest in sorted(files.items()))
    if context.cursor is None:
        # First evaluation after the sensor is switched on: remember the folder; the nightly refresh covers it.
        context.update_cursor(fingerprint)
        return dg.SkipReason(f"Watching {folder} ({len(files)} files).")
    if fingerprint == context.cursor:
        return dg.SkipReason(f"No new or changed municipal files in {folder} "
                             f"({len(files)} checked: {listed(sorted(files), 400)}).")
    changed = _changed_files(context.cursor, files)
    graph = context.repository_def.asset_graph
    roots = [k for k in MUNICIPAL_ROOTS if k in graph.get_all_asset_keys()]
    context.update_cursor(fingerprint)
    if not roots:
        return dg.SkipReason("The municipal assets are not part of this code location.")
    selection = dg.AssetSelection.assets(*roots).downstream().resolve(graph)
    return dg.RunRequest(run_key=f"municipal-{abs(hash(fingerprint))}",
                         asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
                         tags={"bwm/trigger": "municipal_files", "bwm/changed_files": listed(changed)})


def _changed_files(cursor: str, files: dict[str, str | None]) -> list[str]:
    """The files added, changed or removed since the cursor (``name=sha256,...`` as the sensor writes it), sorted."""
    before: dict[str, str] = {}
    for item in cursor.split(",") if cursor else []:
        name, _, digest = item.rpartition("=")
        if name:
            before[name] = digest
    now = {name: str(digest) for name, digest in files.items()}
    return sorted(n for n in set(before) | set(now) if before.get(n) != now.get(n))


@dg.run_failure_sensor(name="refresh_failure_alert", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Log every failed run and post it to BWM_ALERT_WEBHOOK when that is set.")
def refresh_failure_alert(context: dg.RunFailureSensorContext, bwm: BwmResource):
    steps = context.get_step_failure_events()
    if steps:  # what went wrong, not only "Steps failed: [...]"
        message = f"{steps[0].step_key}: {failure_text(steps[0].event_specific_data.error)}"
    else:
        message = context.failure_event.message if context.failure_event else "unknown error"
    notify_failure(context.dagster_run.job_name, context.dagster_run.run_id, message,
                   webhook=bwm.settings.alert_webhook)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="failed_check_alert",
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="A run that finished with failed checks (a rejected municipal file, a CBS total "
                       "that does not add up) is alerted like a failed run, and tagged bwm/failed_checks.")
def failed_check_alert(context: dg.RunStatusSensorContext, bwm: BwmResource):
    records = context.instance.get_records_for_run(
        context.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    failed = failed_checks(r.event_log_entry.dagster_event.event_specific_data for r in records)
    if not failed:
        return dg.SkipReason("No failed checks.")
    message = failed_checks_message(failed)
    context.instance.add_run_tags(context.dagster_run.run_id, {"bwm/failed_checks": message[:4000]})
    notify_failure(context.dagster_run.job_name, context.dagster_run.run_id, message,
                   webhook=bwm.settings.alert_webhook)
    return dg.SkipReason(f"Alerted: {message}")


@dg.sensor(name="purge_old_runs", minimum_interval_seconds=24 * 3600,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Once a day: delete run history older than BWM_RUN_RETENTION_DAYS (default 90).")
def purge_old_runs(context: dg.SensorEvaluationContext, bwm: BwmResource):
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=bwm.settings.run_retention_days)
    old = context.instance.get_run_records(dg.RunsFilter(created_before=cutoff), limit=500)
    for record in old:
        context.instance.delete_run(record.dagster_run.run_id)
    return dg.SkipReason(f"Deleted {len(old)} runs created before {cutoff:%Y-%m-%d}.")
