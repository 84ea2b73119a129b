"""The mirror on disk and the live download path, run against the replay server on 127.0.0.1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cbsodata
import pytest
from test_replay import (  # noqa: F401 - fixtures are used by name
    HEALTH,
    HEALTH_MODIFIED,
    KWB,
    KWB_MODIFIED,
    KWB_ROWS,
    cbs_options,
    health_files,
    served,
    template_mirror,
)

from bwm.cbs import client, mirror
from bwm.settings import Settings

FAST = {"retry_base_delay_s": 0.01}
DEAD_PROXY = "http://10.255.255.1:9"


def settings_for(server, timeout_s: float = 5.0, retries: int = 3) -> Settings:
    return Settings(cbs_base_url=server.base_url, cbs_dataderden_url=server.base_url, http_timeout_s=timeout_s,
                    http_retries=retries)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def small_files(n: int = 3, name: str = "Súdwest-Fryslân") -> dict:
    rows = [{"ID": i, "WijkenEnBuurten": f"GM{i:04d}    ", "Naam_1": name, "Waarde_2": None if i == 1 else i}
            for i in range(n)]
    return {"TableInfos": [{"Identifier": "T1", "Modified": "2024-01-01T00:00:00"}], "TypedDataSet": rows,
            "WijkenEnBuurten.json": [{"Key": r["WijkenEnBuurten"], "Title": name} for r in rows]}


def write_small(root: Path, **kwargs) -> Path:
    return mirror.write_table(root, "T1", kwargs.pop("files", small_files()), title="Test",
                              modified="2024-01-01T00:00:00", source="synthetic", **kwargs)


# --- mirror ------------------------------------------------------------------------------------


def test_write_table_round_trip_and_manifest(tmp_path):
    folder = write_small(tmp_path, base_url="https://opendata.cbs.nl", region_filter=["GM0344"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "TableInfos.json", "TypedDataSet.json", "WijkenEnBuurten.json", "manifest.json"]
    manifest = mirror.read_manifest(tmp_path, "T1")
    assert {k: manifest[k]
            for k in ("table_id", "title", "modified", "row_count", "source", "base_url", "region_filter")} == {
        "table_id": "T1", "title": "Test", "modified": "2024-01-01T00:00:00", "row_count": 3, "source": "synthetic",
        "base_url": "https://opendata.cbs.nl", "region_filter": ["GM0344"]}
    assert manifest["retrieved_at"].endswith("+00:00")
    assert manifest["files"]["TypedDataSet.json"]["bytes"] == (folder / "TypedDataSet.json").stat().st_size
    assert mirror.read_json(tmp_path, "T1", "TypedDataSet") == small_files()["TypedDataSet"]
    raw = (folder / "TypedDataSet.json").read_bytes()
    assert "Súdwest-Fryslân".encode() in raw and b"\\u" not in raw and b'"GM0001    "' in raw and b"null" in raw
    assert mirror.verify_table(tmp_path, "T1") == manifest

    before = snapshot(folder)
    write_small(tmp_path, base_url="https://opendata.cbs.nl", region_filter=["GM0344"])  # same input, same bytes
    after = snapshot(folder)
    assert ({k: v for k, v in after.items() if k != "manifest.json"}
            == {k: v for k, v in before.items() if k != "manifest.json"})


def test_readers_ignore_incomplete_and_temp_folders(tmp_path):
    write_small(tmp_path)
    (tmp_path / "HALF").mkdir()
    (tmp_path / "HALF" / "TypedDataSet.json").write_text("[]")
    (tmp_path / ".tmp-T2-dead").mkdir()
    assert [m["table_id"] for m in mirror.list_tables(tmp_path)] == ["T1"]
    assert mirror.read_manifest(tmp_path, "HALF") is None
    with pytest.raises(mirror.MirrorError, match="HALF is not in the mirror"):
        mirror.read_json(tmp_path, "HALF", "TypedDataSet")
    with pytest.raises(mirror.MirrorError, match="has no Perioden.json"):
        mirror.read_json(tmp_path, "T1", "Perioden")
    assert mirror.clean(tmp_path) == [tmp_path / ".tmp-T2-dead"]


def test_verify_table_names_the_damaged_file(tmp_path):
    folder = write_small(tmp_path)
    data = (folder / "TypedDataSet.json").read_bytes()
    (folder / "TypedDataSet.json").write_bytes(data.replace(b"null", b"0   "))  # same size, other content
    with pytest.raises(mirror.MirrorError, match=r"TypedDataSet\.json does not match manifest\.json"):
        mirror.verify_table(tmp_path, "T1")
    (folder / "TypedDataSet.json").unlink()
    with pytest.raises(mirror.MirrorError, match=r"TypedDataSet\.json is listed in manifest\.json but missing"):
        mirror.verify_table(tmp_path, "T1")


def test_failure_mid_write_keeps_the_old_folder(tmp_path, monkeypatch):
    folder = write_small(tmp_path)
    before = snapshot(folder)
    real_write = mirror._write_file

    def failing_write(path, data):
        if path.name == "WijkenEnBuurten.json":
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(mirror, "_write_file", failing_write)
    with pytest.raises(OSError, match="No space left"):
        write_small(tmp_path, files=small_files(n=5))
    assert snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T1"]  # the temp folder was removed


def test_failed_swap_puts_the_old_folder_back_and_the_next_write_cleans_up(tmp_path, monkeypatch):
    folder = write_small(tmp_path)
    before = snapshot(folder)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src).name.startswith(".tmp-"):
            raise OSError("simulated failure while moving the new folder in")
        return real_rename(src, dst)

    monkeypatch.setattr(mirror.os, "rename", rename)
    with pytest.raises(OSError, match="simulated"):
        write_small(tmp_path, files=small_files(n=5))
    assert snapshot(folder) == before
    assert any(p.name.startswith(".tmp-T1-") for p in tmp_path.iterdir())  # a stray, complete temp folder
    monkeypatch.setattr(mirror.os, "rename", real_rename)
    write_small(tmp_path, files=small_files(n=5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T1"]
    assert mirror.read_manifest(tmp_path, "T1")["row_count"] == 5


def test_crash_between_the_two_renames_is_recovered(tmp_path):
    folder = write_small(tmp_path)
    before = snapshot(folder)
    os.rename(folder, tmp_path / ".old-T1-0badc0de")  # the state a crash after "move the old one aside" leaves
    assert mirror.list_tables(tmp_path) == []
    mirror.clean(tmp_path)
    assert snapshot(folder) == before and sorted(p.name for p in tmp_path.iterdir()) == ["T1"]


# --- configure -----------------------------------------------------------------------------------


def test_configure_sets_cbsodata_options(cbs_options, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client.configure("https://opendata.cbs.nl/", timeout_s=7)
    assert (cbs_options.catalog_url, cbs_options.use_https) == ("opendata.cbs.nl", True)
    assert cbs_options.requests["timeout"] == 7.0
    assert cbs_options.requests["proxies"] == {"https": "http://proxy.example:3128"}  # proxies still apply to CBS
    monkeypatch.setenv("NO_PROXY", "opendata.cbs.nl")
    client.configure("https://opendata.cbs.nl", timeout_s=7)
    assert cbs_options.requests["proxies"] == {}

    monkeypatch.delenv("NO_PROXY")
    client.configure("http://localhost:8765", timeout_s=2)
    assert (cbs_options.catalog_url, cbs_options.use_https, cbs_options.requests["proxies"]) == (
        "localhost:8765", False, {})
    with pytest.raises(ValueError, match="BWM_CBS_BASE_URL"):
        client.configure("opendata.cbs.nl", timeout_s=2)


def test_region_filter_uses_startswith_per_level():
    assert client.region_filter("WijkenEnBuurten", ("GM0344",)) == (
        "startswith(WijkenEnBuurten,'NL') or "
        "(startswith(WijkenEnBuurten,'GM0344') or startswith(WijkenEnBuurten,'WK0344') "
        "or startswith(WijkenEnBuurten,'BU0344'))"
    )
    assert client.region_filter("RegioS", ("GM0518", "GM0344")).count(" or ") == 6
    with pytest.raises(ValueError, match="gemeente code"):
        client.region_filter("RegioS", ("0344",))


# --- download_table -------------------------------------------------------------------------------


def test_download_table_mirrors_the_served_table(served, cbs_options, tmp_path):
    messages: list[str] = []
    result = client.download_table(KWB, tmp_path, settings=settings_for(served), progress=messages.append, **FAST)
    assert (result.table_id, result.status, result.row_count, result.modified) == (
        KWB, "downloaded", KWB_ROWS, KWB_MODIFIED)
    assert result.path == tmp_path / KWB
    served_manifest = mirror.read_manifest(served.mirror_dir, KWB)
    local = mirror.verify_table(tmp_path, KWB)
    assert sorted(local["files"]) == sorted(served_manifest["files"])
    for name in served_manifest["files"]:
        assert mirror.read_json(tmp_path, KWB, name) == mirror.read_json(served.mirror_dir, KWB, name), name
    rows = mirror.read_json(tmp_path, KWB, "TypedDataSet")
    assert rows[1]["WijkenEnBuurten"] == "GM0344    " and rows[3]["AantalInwoners_5"] is None
    assert (local["source"], local["base_url"], local["region_filter"], local["row_count"]) == (
        "cbs", served.base_url, None, KWB_ROWS)
    assert f"{KWB} TypedDataSet: page 2, {KWB_ROWS} rows" in messages
    assert len(served.requests_for("TypedDataSet")) == 2


def test_municipality_filter_keeps_only_that_municipality(served, cbs_options, tmp_path):
    result = client.download_table(KWB, tmp_path, municipalities=("GM0344",), settings=settings_for(served), **FAST)
    rows = mirror.read_json(tmp_path, KWB, "TypedDataSet")
    codes = [row["WijkenEnBuurten"] for row in rows]
    assert result.row_count == len(rows) == 1 + 1 + 10 + 200  # NL, GM, its 10 wijken and 200 buurten
    assert codes[0].strip() == "NL01"  # the national row always comes along: comparisons need it
    assert all(code[:6] in ("GM0344", "WK0344", "BU0344") for code in codes[1:])
    assert "WK103440  " not in codes and "BU10344001" not in codes  # GM1034's codes contain '0344' too
    assert [d["Key"] for d in mirror.read_json(tmp_path, KWB, "WijkenEnBuurten")] == codes
    sent = served.requests_for("TypedDataSet")[0]["query"]["$filter"]
    assert sent == client.region_filter("WijkenEnBuurten", ("GM0344",)) and "substringof" not in sent
    assert mirror.read_manifest(tmp_path, KWB)["region_filter"] == ["NL", "GM0344"]

    health = client.download_table(HEALTH, tmp_path, municipalities=("GM1034", "gm0344"),
                                   settings=settings_for(served), **FAST)
    assert health.row_count == 14  # 2 age groups x (NL01 + (GM, WK, BU) x 2 municipalities)
    assert len(mirror.read_json(tmp_path, HEALTH, "Leeftijd")) == 2  # other dimensions stay whole


def test_unchanged_table_is_skipped_without_requesting_data(served, cbs_options, tmp_path):
    settings = settings_for(served)
    client.download_table(HEALTH, tmp_path, settings=settings, **FAST)
    before = snapshot(tmp_path / HEALTH)
    served.clear_requests()
    result = client.download_table(HEALTH, tmp_path, settings=settings, **FAST)
    assert (result.status, result.row_count, result.modified) == ("skipped", 14, HEALTH_MODIFIED)
    assert [entry["resource"] for entry in served.requests] == ["TableInfos"]
    assert snapshot(tmp_path / HEALTH) == before

    assert client.download_table(HEALTH, tmp_path, settings=settings, force=True, **FAST).status == "downloaded"
    assert len(served.requests_for("TypedDataSet")) == 1
    other_filter = client.download_table(HEALTH, tmp_path, municipalities=("GM0344",), settings=settings, **FAST)
    assert other_filter.status == "downloaded" and other_filter.row_count == 6 + 2  # and NL01 per age group


def test_changed_modified_triggers_a_download(served, cbs_options, tmp_path):
    settings = settings_for(served)
    client.download_table(HEALTH, tmp_path, settings=settings, **FAST)
    files = health_files(modified="2024-09-30T02:00:00")
    files["TypedDataSet"] = files["TypedDataSet"][:5]
    mirror.write_table(served.mirror_dir, HEALTH, files, title="t", modified="2024-09-30T02:00:00", source="synthetic")
    assert client.table_modified(HEALTH, settings=settings, **FAST) == "2024-09-30T02:00:00"
    result = client.download_table(HEALTH, tmp_path, settings=settings, **FAST)
    assert (result.status, result.row_count, result.modified) == ("downloaded", 5, "2024-09-30T02:00:00")
    assert mirror.read_manifest(tmp_path, HEALTH)["modified"] == "2024-09-30T02:00:00"


def test_table_modified_reads_the_catalog(served, cbs_options):
    assert client.table_modified(KWB, settings=settings_for(served), **FAST) == KWB_MODIFIED
    assert served.requests[-1]["resource"] == "ODataCatalog/Tables"
    assert served.requests[-1]["query"]["$filter"] == f"Identifier eq '{KWB}'"
    with pytest.raises(client.CbsDownloadError, match="00000XXX"):
        client.table_modified("00000XXX", settings=settings_for(served), **FAST)


def test_table_modified_falls_back_to_table_infos_on_a_host_without_a_catalogue(served, cbs_options):
    """A third-party catalogue host (dataderden) that has no ODataCatalog still tells a table's Modified."""
    served.faults.add("error", path_contains="ODataCatalog", times=None, status=404)
    try:
        assert client.table_modified(HEALTH, settings=settings_for(served), **FAST) == HEALTH_MODIFIED
    finally:
        served.faults.clear()
    assert [r["resource"] for r in served.requests[-2:]] == ["ODataCatalog/Tables", "TableInfos"]


@pytest.mark.parametrize(
    ("kind", "options"),
    [("error", {"times": 2}), ("delay", {"delay_s": 3}), ("truncate", {}), ("drop", {})],
)
def test_transient_faults_are_retried(served, cbs_options, tmp_path, kind, options):
    # The fault hits page 2 of the data set: only that page is fetched again.
    served.faults.add(kind, path_contains="TypedDataSet?$format=json&$skip=10000", **options)
    messages: list[str] = []
    result = client.download_table(KWB, tmp_path, settings=settings_for(served, timeout_s=0.5),
                                   progress=messages.append, **FAST)
    assert result.status == "downloaded" and result.row_count == KWB_ROWS
    assert mirror.read_json(tmp_path, KWB, "TypedDataSet") == mirror.read_json(served.mirror_dir, KWB, "TypedDataSet")
    pages = served.requests_for("TypedDataSet")
    assert [entry["fault"] for entry in pages] == [None] + [kind] * options.get("times", 1) + [None]
    assert any("retry 1 of 3" in message for message in messages)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("error", "HTTP 500"), ("delay", "timed out after 0.5 s"), ("truncate", "truncated JSON"),
     ("drop", "connection dropped")],
)
def test_persistent_faults_raise_a_clear_error_and_keep_the_mirror(served, cbs_options, tmp_path, kind, expected):
    settings = settings_for(served, timeout_s=0.5, retries=2)
    client.download_table(HEALTH, tmp_path, settings=settings, **FAST)
    before = snapshot(tmp_path / HEALTH)
    served.clear_requests()
    served.faults.add(kind, path_contains="TypedDataSet", times=None, delay_s=3)
    with pytest.raises(client.CbsDownloadError) as failure:
        client.download_table(HEALTH, tmp_path, settings=settings, force=True, **FAST)
    message = str(failure.value)
    for part in (HEALTH, "TypedDataSet", expected, "after 3 tries", "BWM_CBS_BASE_URL", "BWM_SOURCE=mirror",
                 f"{served.base_url}/ODataFeed/odata/{HEALTH}/TypedDataSet?$format=json"):
        assert part in message
    assert snapshot(tmp_path / HEALTH) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [HEALTH]
    assert len(served.requests_for("TypedDataSet")) == 3


def test_a_response_slower_than_the_total_limit_is_abandoned(served, cbs_options, tmp_path, monkeypatch):
    monkeypatch.setattr(client, "TOTAL_TIMEOUT_FACTOR", 0)  # every response is over its limit after one read
    with pytest.raises(client.CbsDownloadError, match=r"downloading TableInfos failed after 2 tries: too slow"):
        client.download_table(HEALTH, tmp_path, settings=settings_for(served, retries=1), **FAST)
    assert not tmp_path.joinpath(HEALTH).exists()


def test_unknown_table_is_a_404_that_is_not_retried(served, cbs_options, tmp_path):
    with pytest.raises(client.CbsDownloadError) as failure:
        client.download_table("00000XXX", tmp_path, settings=settings_for(served), **FAST)
    message = str(failure.value)
    assert "00000XXX" in message and "HTTP 404" in message and "check the table id" in message
    assert len(served.requests) == 1 and not tmp_path.joinpath("00000XXX").exists()


def test_proxy_environment_does_not_break_loopback(served, cbs_options, tmp_path, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, DEAD_PROXY)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    cbs_options.requests["proxies"] = {"http": DEAD_PROXY, "https": DEAD_PROXY}  # as cbsodata captures at import

    result = client.download_table(HEALTH, tmp_path, settings=settings_for(served, timeout_s=2, retries=0), **FAST)
    assert result.status == "downloaded" and cbs_options.requests["proxies"] == {}
    assert len(cbsodata.get_data(HEALTH)) == 14  # cbsodata itself, through configure()
    assert json.loads((tmp_path / HEALTH / "manifest.json").read_text())["base_url"] == served.base_url
