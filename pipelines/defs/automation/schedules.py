"""The nightly refresh: ask CBS what changed, look at the municipal files, then refresh only what is stale.

Why a schedule that decides, rather than declarative automation: what makes the warehouse stale lives
outside Dagster (a table's `Modified` date at CBS, the bytes of a file in a folder). The schedule asks
for exactly those facts each night (a few small catalogue requests, no data) and requests a run of the
raw assets of the changed tables plus everything downstream of them; when nothing changed it skips with
a reason that the Dagster UI shows on the schedule's tick.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import dagster as dg

from bwm.settings import Settings
from pipelines.resources import BwmResource

MIRROR = dg.AssetKey(["mirror", "cbs"])
#: The outputs of the municipal multi-asset (file status, values, declared indicators): refreshed together.
MUNICIPAL_ROOTS = [dg.AssetKey(["municipal", n]) for n in ("file_status", "values", "indicators", "targets")]


#: When the schedule ticks is part of its definition, so it is read when the code location loads
#: (BWM_REFRESH_CRON, default 02:00 every night; BWM_TIMEZONE, default Europe/Amsterdam).
_LOADED = Settings.from_env()


#: The job the schedule and the municipal sensor start (defined in pipelines/definitions.py over every asset), so
#: the Dagster UI shows their target as "refresh" instead of an anonymous asset job.
JOB_NAME = "refresh"


def stale_roots(settings: Settings, graph_keys: set[dg.AssetKey]) -> tuple[list[dg.AssetKey], list[str]]:
    """The assets to refresh from (their downstream follows), and a line per reason."""
    roots, reasons, _tables, _files = _what_changed(settings, graph_keys)
    return roots, reasons


def _what_changed(settings: Settings, graph_keys: set[dg.AssetKey]):
    """``stale_roots`` and what it looked at: (roots, reasons, changed CBS table ids, changed municipal files)."""
    from bwm.ops.changes import changed_cbs_tables, municipal_changes

    roots: list[dg.AssetKey] = []
    reasons: list[str] = []
    changes = changed_cbs_tables(settings)
    if changes:
        roots.append(MIRROR)
        for change in changes:
            roots.append(dg.AssetKey(["raw", change.table.raw_table]))
            reasons.append(f"{change.table.table_id}: {change.reason}")
        roots.append(dg.AssetKey(["raw", "cbs_tables"]))
    files = municipal_changes(settings)
    if files:
        roots += [k for k in MUNICIPAL_ROOTS if k in graph_keys]
        reasons += [f"municipal file {f}" for f in files]
    tables = [c.table.table_id for c in changes]
    return [k for k in dict.fromkeys(roots) if k in graph_keys], reasons, tables, files


def listed(names: list[str], limit: int = 1000) -> str:
    """``a, b, c`` within ``limit`` characters (a Dagster tag value must stay short); "none" for no names."""
    text = ", ".join(names) or "none"
    return text if len(text) <= limit else text[:limit - 5] + ", ..."


def _checked(settings: Settings) -> str:
    """What the schedule compared, for a tick that found nothing: the CBS tables and the municipal files."""
    from bwm.ops.changes import current_files
    from bwm.sources import expected_tables

    tables = [t.table_id for t in expected_tables(settings)]
    files = sorted(current_files(settings.municipal_dir, max_mb=settings.municipal_max_mb))
    return (f"CBS tables checked ({len(tables)}): {listed(tables, 400)}; "
            f"municipal files checked ({len(files)}): {listed(files, 400)}")


@dg.schedule(
    name="nightly_refresh",
    cron_schedule=_LOADED.refresh_cron,
    execution_timezone=_LOADED.timezone,
    job_name=JOB_NAME,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night: refresh what CBS or the municipality changed since the last run, nothing else.",
)
def nightly_refresh(context: dg.ScheduleEvaluationContext, bwm: BwmResource):
    """A skipped tick names what was compared and found unchanged; a run request names, in its tags, the CBS tables
    (``bwm/changed_tables``) and municipal files (``bwm/changed_files``) that changed, and why (``bwm/reasons``)."""
    settings = bwm.settings
    graph = context.repository_def.asset_graph
    try:
        roots, reasons, tables, files = _what_changed(settings, set(graph.get_all_asset_keys()))
    except Exception as exc:  # CBS unreachable: say so on the tick; tomorrow is another night
        return dg.SkipReason(f"Could not find out what changed: {exc}")
    if not roots:
        return dg.SkipReason("Nothing new at CBS and no new or changed municipal files; nothing to do. "
                             + _checked(settings) + ".")
    selection = dg.AssetSelection.assets(*roots).downstream().resolve(graph)
    fingerprint = hashlib.sha256("\n".join(sorted(reasons)).encode()).hexdigest()[:12]
    day = (context.scheduled_execution_time or dt.datetime.now()).strftime("%Y-%m-%d")
    context.log.info("refreshing because: " + "; ".join(reasons))
    return dg.RunRequest(
        run_key=f"nightly-{day}-{fingerprint}",
        asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
        tags={"bwm/trigger": "nightly", "bwm/reasons": "; ".join(reasons)[:1000],
              "bwm/changed_tables": listed(tables), "bwm/changed_files": listed(files)},
    )
