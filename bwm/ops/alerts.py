"""Tell someone when a refresh fails: a log line always, and a JSON POST to BWM_ALERT_WEBHOOK if set."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import requests

log = logging.getLogger("bwm.alerts")


def failed_checks(evaluations: Iterable) -> list:
    """The asset check evaluations (Dagster's ``AssetCheckEvaluation``) that failed; a WARN is not a failure."""
    return [e for e in evaluations if not e.passed and e.severity.value != "WARN"]


def failed_checks_message(failed: list) -> str:
    """Failed evaluations -> "2 check(s) failed: municipal_files_accepted on municipal/file_status, ..."."""
    return f"{len(failed)} check(s) failed: " + ", ".join(
        f"{e.check_name} on {e.asset_key.to_user_string()}" for e in failed)


def notify_failure(job: str, run_id: str, message: str, webhook: str = "", timeout_s: float = 10.0) -> bool:
    """Log the failure and post it to the webhook; returns whether a webhook accepted it.

    The payload works for generic webhooks and for Slack/Mattermost/Teams-style incoming webhooks
    (they read ``text``). A webhook that is down never raises: the failure is already logged.
    """
    text = f"Brede Welvaart Monitor: run {run_id} of job '{job}' failed: {message}"
    log.error(text)
    url = webhook.strip()  # Settings.alert_webhook (BWM_ALERT_WEBHOOK)
    if not url:
        return False
    try:
        response = requests.post(url, json={"text": text, "job": job, "run_id": run_id, "message": message},
                                 timeout=timeout_s)
        response.raise_for_status()
        return True
    except requests.RequestException as exc:
        log.error("could not post the failure to BWM_ALERT_WEBHOOK: %s", exc)
        return False
