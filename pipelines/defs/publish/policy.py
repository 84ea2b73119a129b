"""How fresh what is published must be: the UI flags the site and exports when the nightly refresh is late."""

import datetime as dt
import os

import dagster as dg


def freshness_policy() -> dg.FreshnessPolicy:
    """Rebuilt within BWM_FRESHNESS_HOURS (default 30; read when the code location loads).

    30 hours leaves a nightly refresh room to be late or to retry once before the output counts as stale.
    """
    hours = float(os.environ.get("BWM_FRESHNESS_HOURS", "").strip() or 30)
    return dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=hours),
                                          warn_window=dt.timedelta(hours=hours * 0.8))
