"""Work split over a second process: the exports, the site and its link check use both cores this way.

The other parts run in fresh interpreters (``python -m <module> JOB``, the job as JSON, the result as JSON on
stdout), not through multiprocessing: spawning re-imports the caller's ``__main__`` (the Dagster process, a test
runner, a script), and forking would copy the caller's heap (the site holds every area of the country).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_alongside(module: str, jobs: list[dict], here: Callable[[], T], error: type[Exception],
                  what: str) -> tuple[T, list]:
    """Start ``python -m module JOB`` for every job, run ``here()`` in this process meanwhile, and wait for all.

    Returns ``here()``'s result and every worker's output (parsed JSON), in the order of ``jobs``. A worker that
    exits non-zero raises ``error`` with the end of its stderr; if ``here()`` raises, the workers are still
    waited for (they may be writing into a folder the caller removes) before the exception goes on.
    """
    children = [subprocess.Popen([sys.executable, "-m", module, json.dumps(job)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for job in jobs]
    try:
        mine = here()
    finally:
        results = [(child, *child.communicate()) for child in children]
    outputs = []
    for child, out, err in results:
        if child.returncode != 0:
            raise error(f"{what} failed (exit {child.returncode}): {err.strip()[-2000:]}")
        outputs.append(json.loads(out))
    return mine, outputs
