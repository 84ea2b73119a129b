"""`bwm dev` (`make dev`) stops cleanly on SIGTERM within 10 s, as a systemd stop expects, children included.

In the fault suite (`make test-faults`, in CI): starting the Dagster UI and daemon takes about a minute.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ui_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_bwm_dev_stops_on_sigterm_within_10_seconds_with_its_children(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BWM_DAGSTER_STORAGE": str(tmp_path / "dagster"),
           "BWM_WAREHOUSE": str(tmp_path / "bwm.duckdb")}
    log = (tmp_path / "dev.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "dev", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while not _ui_answers(port):  # the webserver is up: dagster dev, its code server, webserver and daemon run
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the Dagster UI did not answer within 180 s"
            time.sleep(1)
        children = _descendants(proc.pid)
        assert len(children) >= 3  # dagster dev, its webserver and daemon (and a code server)

        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        took = time.monotonic() - start
        assert took <= 10
        assert proc.returncode == 0
        time.sleep(0.5)  # the kernel reaps reparented children shortly after their group is killed
        left = [pid for pid in children if _alive(pid)]
        assert left == [], f"still running after bwm dev exited: {left}"
        assert not _ui_answers(port)
        assert "Stopping the Dagster UI (SIGTERM)" in (tmp_path / "dev.log").read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in children:  # only if the test failed: nothing of what it started may outlive it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
