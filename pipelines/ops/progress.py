"""Progress lines for a refresh run in a terminal: one line per asset, check and failure, as they happen.

Dagster's own console logger prints every engine event; an analyst wants to see which step is running,
what finished, and what failed. This logger turns Dagster's event records into such lines.
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream or sys.stdout
        self.started: dict[str, float] = {}
        self.t0 = time.monotonic()

    def _say(self, text: str) -> None:
        self.stream.write(f"[{time.monotonic() - self.t0:6.1f}s] {text}\n")
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            message = str(meta.get("orig_message") or record.getMessage())
            if message.startswith("Dependencies for step"):
                self._say(f"skip  {step} (an upstream step did not succeed)")
            elif record.levelno >= logging.INFO and step:
                self._say(f"      {step}: {message}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
        elif kind == "ASSET_MATERIALIZATION":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            self._say(f"done  {event.asset_key.to_user_string()} ({took:.1f} s)")
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            status = "ok  " if data.passed else ("WARN" if data.severity.value == "WARN" else "FAIL")
            why = f": {data.description}" if not data.passed and getattr(data, "description", None) else ""
            self._say(f"{status}  check {data.check_name} on {data.asset_key.to_user_string()}{why}")
        elif kind == "STEP_FAILURE":
            self._say(f"ERROR {step}: {failure_text(event.event_specific_data.error).splitlines()[0]}")


def failure_text(error) -> str:
    """What went wrong in a failed step: the message of the innermost cause (Dagster wraps the asset's own
    exception in "Error occurred while executing op ..."), without the exception's module path."""
    root = error
    while root is not None and getattr(root, "cause", None) is not None:
        root = root.cause
    text = (root.message if root is not None else "").strip()
    if not text:
        return "unknown error"
    head, sep, rest = text.partition(": ")
    if sep and "." in head and " " not in head:  # "bwm.warehouse.WarehouseError: ..." -> "WarehouseError: ..."
        text = f"{head.rsplit('.', 1)[-1].lstrip('_')}: {rest}"
    return text


@dg.logger(description="Compact progress lines for terminals (bwm run / bwm demo).")
def progress_logger(init_context) -> logging.Logger:
    logger = logging.getLogger("bwm.progress")
    logger.setLevel(logging.DEBUG)  # Dagster sends its step events at DEBUG; the handler picks what to show
    logger.handlers = [ProgressHandler()]
    logger.propagate = False
    return logger
