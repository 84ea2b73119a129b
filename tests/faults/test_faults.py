"""The fault suite: real refreshes in subprocesses, killed, run twice at once, fed CBS faults, out of disk.

Each test says what it tried; together they show what survives: the warehouse stays readable and
consistent, the previous site stays in place, and the next run recovers without a manual step.
Marked `faults`: `make test-faults` runs them (CI runs them after the default suite).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from bwm.cbs import replay

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
BWM = [sys.executable, "-m", "pipelines.cli"]


def base_env(tmp: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWM_")}
    env.update({
        "BWM_SOURCE": "demo",
        "BWM_WAREHOUSE": str(tmp / "warehouse" / "bwm.duckdb"),
        "BWM_MIRROR_DIR": str(tmp / "mirror"),
        "BWM_SITE_DIR": str(tmp / "site"),
        "BWM_EXPORT_DIR": str(tmp / "exports"),
        "BWM_DAGSTER_STORAGE": str(tmp / "dagster"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_bwm(env: dict, args=("run",), kill_on: str | None = None, timeout: float = 300) -> tuple[int, str]:
    """Run `bwm <args>`; with kill_on, SIGKILL it as soon as a line containing that text appears."""
    proc = subprocess.Popen([*BWM, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line)
        if kill_on and kill_on in line:
            proc.send_signal(signal.SIGKILL)
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out:\n" + "".join(lines[-30:]))
    proc.wait(timeout=60)
    rest = proc.stdout.read() if proc.stdout else ""
    return proc.returncode, "".join(lines) + rest


def tables_readable(warehouse: Path) -> dict[str, int]:
    """Open the warehouse read-only and count every table; raises if anything is unreadable."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute("select table_schema || '.' || table_name from information_schema.tables "
                            "where table_type = 'BASE TABLE' order by 1").fetchall()
        return {n: con.execute(f"select count(*) from {n}").fetchone()[0] for (n,) in names}


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digest_tree(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A completed refresh: the 'last good' warehouse and site every fault test starts from."""
    tmp = tmp_path_factory.mktemp("good")
    env = base_env(tmp)
    code, out = run_bwm(env)
    assert code == 0, out[-3000:]
    return tmp


def copy_of(good: Path, tmp: Path) -> Path:
    target = tmp / "state"
    shutil.copytree(good, target, symlinks=True)
    lock = target / "warehouse" / "bwm.duckdb.lock"
    lock.unlink(missing_ok=True)
    return target


KILL_POINTS = ["done  raw/kwb_2016", "done  staging/kwb ", "done  indicators/values", "done  divide/trends",
               "done  publish/exports", "done  publish/site"]


@pytest.mark.parametrize("kill_on", KILL_POINTS)
def test_sigkill_leaves_consistent_warehouse_and_last_good_site(good, tmp_path, kill_on):
    state = copy_of(good, tmp_path)
    env = base_env(state)
    site_before = digest_tree(state / "site")
    published_before = file_digest(state / "warehouse" / "bwm.duckdb")
    code, out = run_bwm(env, kill_on=kill_on)
    assert code == -signal.SIGKILL, f"the run was not killed at {kill_on!r}:\n{out[-2000:]}"
    # What survived: the warehouse readers open is the previous one, byte for byte (even when the kill came
    # after the new site was swapped in: publish/warehouse had not run); the previous site too.
    assert file_digest(state / "warehouse" / "bwm.duckdb") == published_before
    counts = tables_readable(state / "warehouse" / "bwm.duckdb")
    assert counts["indicators.values"] > 0 and counts["staging.areas"] > 0
    if kill_on == "done  publish/site":  # the new site was complete and swapped in; no half-built folder is left
        assert (state / "site" / "index.html").is_file()
    else:
        assert digest_tree(state / "site") == site_before
    # The next run recovers without a manual step.
    code, out = run_bwm(env)
    assert code == 0, out[-3000:]
    assert "marked run" in out  # the killed run was found and marked failed
    assert (state / "site" / "index.html").is_file()


def test_two_refreshes_at_once_one_is_refused_clearly(good, tmp_path):
    state = copy_of(good, tmp_path)
    env = base_env(state)
    first = subprocess.Popen([*BWM, "run"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    for line in first.stdout:  # wait until the first run is really working
        if "done  " in line:
            break
    code, out = run_bwm(env)
    assert code != 0
    assert "Refresh NOT started: Another refresh is writing" in out
    rest = first.communicate(timeout=300)[0]
    assert first.returncode == 0, rest[-3000:]
    tables_readable(state / "warehouse" / "bwm.duckdb")


@pytest.fixture(scope="module")
def live_good(good, tmp_path_factory):
    """A completed live refresh of one municipality through the replay server serving a copy of the demo mirror."""
    tmp = tmp_path_factory.mktemp("live")
    served = tmp / "served"
    shutil.copytree(good / "mirror", served)
    with replay.serve_catalogs(served) as servers:  # KWB on the opendata host, 50120NED on dataderden
        env = base_env(tmp / "state", BWM_SOURCE="live", **replay.catalog_env(servers),
                       BWM_MUNICIPALITIES="GM9903", BWM_HTTP_TIMEOUT=2, BWM_HTTP_RETRIES=2)
        code, out = run_bwm(env)
        assert code == 0, out[-3000:]
        yield {"server": servers["opendata"], "served": served, "state": tmp / "state", "env": env}


def bump_modified(served: Path, table_id: str, stamp: str) -> None:
    """CBS publishes a new version of a table: change its Modified in the served TableInfos."""
    import json

    path = served / table_id / "TableInfos.json"
    info = json.loads(path.read_text())
    info[0]["Modified"] = stamp
    path.write_text(json.dumps(info))
    manifest_path = served / table_id / "manifest.json"  # the replay server reloads a table when this changes
    manifest = json.loads(manifest_path.read_text())
    manifest["modified"] = stamp
    data = path.read_bytes()
    manifest["files"]["TableInfos.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("kind", ["error", "delay", "truncate", "drop"])
def test_cbs_faults_fail_clearly_and_keep_old_data_and_pages(live_good, kind):
    server, state = live_good["server"], live_good["state"]
    before_tables = tables_readable(state / "warehouse" / "bwm.duckdb")
    before_site = digest_tree(state / "site")
    bump_modified(live_good["served"], "85984NED", f"2026-11-2{len(kind)}T02:00:00")
    server.faults.clear()
    server.faults.add(kind, path_contains="85984NED/TypedDataSet", times=None, delay_s=5)
    try:
        code, out = run_bwm(live_good["env"])
    finally:
        server.faults.clear()
    assert code != 0
    assert "85984NED" in out and "TypedDataSet" in out, out[:6000]
    assert "Traceback" not in out
    assert tables_readable(state / "warehouse" / "bwm.duckdb") == before_tables
    assert digest_tree(state / "site") == before_site


def _unshare_available() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _unshare_available(),
                                  reason="needs `unshare -m` and mount (root) to make a real full or read-only disk")


@needs_mounts
def test_full_disk_gives_a_clear_error_and_keeps_the_warehouse(good, tmp_path):
    state = copy_of(good, tmp_path)
    env = base_env(state)
    wh = state / "warehouse"
    size_mb = int(sum(p.stat().st_size for p in wh.iterdir()) / 1e6) + 2
    script = (f"cp -a {wh} {tmp_path}/wh-copy && mount -t tmpfs -o size={size_mb}m tmpfs {wh} && "
              f"cp -a {tmp_path}/wh-copy/. {wh}/ && "
              f"{sys.executable} -m pipelines.cli run; echo EXIT=$?; "
              f"{sys.executable} -c \"import duckdb; c = duckdb.connect('{wh}/bwm.duckdb', read_only=True); "
              f"print('READABLE', c.execute('select count(*) from indicators.values').fetchone()[0])\"")
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    text = out.stdout + out.stderr
    assert "EXIT=0" not in text, text[-3000:]
    assert "No space left on device" in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert "READABLE" in text, text[-3000:]


@needs_mounts
def test_read_only_site_folder_gives_a_clear_error_and_keeps_the_site(good, tmp_path):
    state = copy_of(good, tmp_path)
    public = state / "public"
    public.mkdir()
    shutil.move(str(state / "site"), public / "site")
    env = base_env(state, BWM_SITE_DIR=public / "site")
    before = digest_tree(public / "site")
    script = (f"mount --bind {public} {public} && mount -o remount,bind,ro {public} && "
              f"{sys.executable} -m pipelines.cli run; echo EXIT=$?")
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    text = out.stdout + out.stderr
    assert "EXIT=0" not in text, text[-3000:]
    assert "Read-only file system" in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert digest_tree(public / "site") == before


# --- readers, a tampered mirror, and the checks that guard publication (issue: nothing lost, nobody blocked) ----


READER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("OPEN", con.execute("select sum(value) from indicators.values").fetchone()[0], flush=True)
for line in sys.stdin:  # one query per line the test sends, through the whole refresh
    print("SUM", con.execute("select sum(value) from indicators.values").fetchone()[0], flush=True)
"""


def test_a_reader_never_blocks_the_refresh_and_keeps_its_snapshot(good, tmp_path):
    """An analyst's notebook holds a read-only connection through a whole refresh that changes every figure."""
    state = copy_of(good, tmp_path)
    published = state / "warehouse" / "bwm.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        first = reader.stdout.readline().split()
        assert first[0] == "OPEN", first
        env = base_env(state, BWM_DISCLOSURE_MIN_COUNT=25)  # stricter disclosure: published values change
        proc = subprocess.Popen([*BWM, "run"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        seen = []
        for line in proc.stdout:  # query the old warehouse after every step of the refresh
            seen.append(line)
            if line.startswith("[") and "done" in line:
                reader.stdin.write("?\n")
                reader.stdin.flush()
                assert reader.stdout.readline().split() == ["SUM", first[1]]  # the same snapshot throughout
        assert proc.wait(timeout=60) == 0, "".join(seen)[-3000:]
        out = "".join(seen)
        assert "Could not set lock" not in out and "publish/warehouse" in out
        reader.stdin.write("?\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == ["SUM", first[1]]  # still its snapshot after the swap
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    with duckdb.connect(str(published), read_only=True) as con:  # a new connection sees the new warehouse
        assert str(con.execute("select sum(value) from indicators.values").fetchone()[0]) != first[1]


def test_a_tampered_mirror_stops_the_load_and_publishes_nothing(good, tmp_path):
    """One digit flipped in a mirror file: no table is loaded from it, nothing is published, the run says why."""
    state = copy_of(good, tmp_path)
    data = state / "mirror" / "85984NED" / "TypedDataSet.json"
    text = data.read_bytes()
    at = text.index(b'"AantalInwoners_5": ') + len(b'"AantalInwoners_5": ')
    flipped = b"1" if text[at:at + 1] != b"1" else b"2"
    data.write_bytes(text[:at] + flipped + text[at + 1:])  # same size: only the sha256 can tell
    published_before = file_digest(state / "warehouse" / "bwm.duckdb")
    site_before = digest_tree(state / "site")
    code, out = run_bwm(base_env(state))
    assert code != 0
    assert "mirror_verified" in out and "85984NED" in out
    assert "Refresh FAILED" in out and "Traceback" not in out
    assert file_digest(state / "warehouse" / "bwm.duckdb") == published_before
    assert digest_tree(state / "site") == site_before


def test_a_failing_blocking_check_fails_the_run_alerts_and_keeps_site_and_warehouse(good, tmp_path):
    """A divide measure that is not finite must never reach a page: the check blocks, the run fails, the webhook
    hears it, and the previous site and warehouse stay."""
    import http.server
    import json
    import threading

    state = copy_of(good, tmp_path)
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    published_before = file_digest(state / "warehouse" / "bwm.duckdb")
    site_before = digest_tree(state / "site")
    # A fault in the maths, injected through the only door a test has: a sitecustomize that makes
    # divide.measures write an infinite gap for one gemeente.
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import bwm.divide.build as b\n"
        "_orig = b.compute_measures\n"
        "import polars as pl\n"
        "def _broken(*a, **k):\n"
        "    frame = _orig(*a, **k)\n"
        "    return frame.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(float('inf'))"
        ".otherwise(pl.col('gap')).alias('gap'))\n"
        "b.compute_measures = _broken\n")
    try:
        env = base_env(state, BWM_ALERT_WEBHOOK=f"http://127.0.0.1:{hook.server_address[1]}/hook",
                       PYTHONPATH=str(inject))
        code, out = run_bwm(env)
    finally:
        hook.shutdown()
    assert code != 0, out[-3000:]
    assert "divide_measures_are_finite" in out
    assert "skip  publish__site" in out or "skip  publish/site" in out, out[-3000:]
    assert received and "divide_measures_are_finite" in received[0]["message"]
    assert file_digest(state / "warehouse" / "bwm.duckdb") == published_before
    assert digest_tree(state / "site") == site_before
