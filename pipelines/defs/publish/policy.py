"""How fresh what is published must be: the UI flags the site and exports when the nightly refresh is late."""

import datetime as dt

import dagster as dg

from bwm.settings import Settings


def freshness_policy(hours: float | None = None) -> dg.FreshnessPolicy:
    """Rebuilt within ``hours`` (default: BWM_FRESHNESS_HOURS, 30; read when the code location loads).

    30 hours leaves a nightly refresh room to be late or to retry once before the output counts as stale.
    """
    hours = Settings.from_env().freshness_hours if hours is None else hours
    return dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=hours),
                                          warn_window=dt.timedelta(hours=hours * 0.8))
