"""The `bwm` command line: downloading into a mirror through the replay server, listing it, and errors."""

import pytest

from bwm.cbs import mirror, replay
from pipelines import cli


@pytest.fixture
def feed(demo_warehouse, monkeypatch, bwm_env):
    with replay.serve(demo_warehouse["mirror"]) as server:
        monkeypatch.setenv("BWM_CBS_BASE_URL", server.base_url)
        monkeypatch.setenv("BWM_CBS_DATADERDEN_URL", server.base_url)
        monkeypatch.setenv("BWM_HTTP_TIMEOUT", "10")
        yield server


def test_mirror_download_then_skip_then_list(feed, tmp_path, capsys):
    target = tmp_path / "cbs"
    args = ["mirror", "download", "--kwb-years", "2024", "--health", "--municipalities", "GM9901",
            "--mirror", str(target)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "[1/2] 85984NED" in out and "[2/2] 50120NED" in out
    assert out.count("downloaded:") == 2
    manifest = mirror.read_manifest(target, "85984NED")
    assert manifest["region_filter"] == ["NL", "GM9901"]

    assert cli.main(args) == 0
    assert capsys.readouterr().out.count("skipped:") == 2

    assert cli.main(["mirror", "list", "--mirror", str(target)]) == 0
    listing = capsys.readouterr().out
    assert "85984NED" in listing and "50120NED" in listing


def test_download_failure_is_reported_and_exit_code_nonzero(feed, tmp_path, capsys):
    feed.faults.add("error", path_contains="TypedDataSet", times=None)
    assert cli.main(["mirror", "download", "85984NED", "--mirror", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and "85984NED" in err and "HTTP 500" in err
    assert mirror.read_manifest(tmp_path / "m", "85984NED") is None


def test_configuration_errors_say_what_is_allowed(monkeypatch, capsys):
    monkeypatch.setenv("BWM_SOURCE", "cloud")
    assert cli.main(["run"]) == 2
    assert "BWM_SOURCE='cloud' is not one of demo, mirror, live" in capsys.readouterr().err


def test_no_tables_named_is_a_usage_error(capsys, bwm_env):
    assert cli.main(["mirror", "download"]) == 2
    assert "--kwb-years" in capsys.readouterr().err


def test_mirror_serve_takes_faults_and_a_catalogue(demo_warehouse, tmp_path):
    """`bwm mirror serve --fault ... --catalog ...` as `python -m bwm.cbs.replay` does: one host's tables, faults."""
    import socket
    import subprocess
    import sys
    import time

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "mirror", "serve",
                             "--mirror", str(demo_warehouse["mirror"]), "--port", str(port), "--catalog", "dataderden",
                             "--fault", "error,path=TableInfos,times=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/ODataFeed/odata"
        for _ in range(100):
            try:
                requests.get(f"{base}/50120NED/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert requests.get(f"{base}/50120NED/TableInfos?$format=json", timeout=5).status_code == 500  # the fault
        assert requests.get(f"{base}/50120NED/TableInfos?$format=json", timeout=5).status_code == 200  # once only
        assert requests.get(f"{base}/85984NED/TableInfos?$format=json", timeout=5).status_code == 404  # other host's
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert "50120NED" in out and "85984NED" not in out
