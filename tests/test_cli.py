"""The `bwm` command line: downloading into a mirror through the replay server, listing it, and errors."""

import pytest

from bwm import cli
from bwm.cbs import mirror, replay


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
