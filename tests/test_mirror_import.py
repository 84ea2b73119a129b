"""`bwm mirror import`: folders written by cbsodata.download_data become mirror tables, or are refused.

The folders are real cbsodata output: cbsodata 1.3.5 itself downloads the two small fake tables of
test_replay.py from the replay server. Its ``typed`` flag is inverted: ``typed=False`` (the default)
writes TypedDataSet.json and ``typed=True`` writes UntypedDataSet.json, so both kinds are imported here.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import cbsodata
import pytest
from test_replay import (  # noqa: F401 - template_mirror is a fixture used by name
    HEALTH,
    HEALTH_MODIFIED,
    KWB,
    KWB_MODIFIED,
    KWB_ROWS,
    template_mirror,
)

from bwm.cbs import client, importer, mirror, replay
from pipelines import cli

AGAIN = "download the table again"
HEALTH_ROWS = 14


@pytest.fixture(scope="module")
def downloads(template_mirror, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """{(table id, data set written): folder} from cbsodata.download_data. Tests must not change them."""
    saved = (cbsodata.options.catalog_url, cbsodata.options.use_https, dict(cbsodata.options.requests))
    root = tmp_path_factory.mktemp("cbsodata")
    folders = {}
    try:
        with replay.serve(template_mirror) as server:
            client.configure(server.base_url, timeout_s=10)
            for table_id in (KWB, HEALTH):
                for typed, data_set in ((False, "TypedDataSet"), (True, "UntypedDataSet")):
                    folder = root / f"{table_id}-{data_set}"
                    cbsodata.download_data(table_id, dir=str(folder), typed=typed)
                    folders[table_id, data_set] = folder
    finally:
        cbsodata.options.catalog_url, cbsodata.options.use_https = saved[0], saved[1]
        cbsodata.options.requests.clear()
        cbsodata.options.requests.update(saved[2])
    return folders


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def copy_of(downloads, tmp_path: Path, table_id: str, data_set: str, name: str | None = None) -> Path:
    """A private copy of a download that a test may damage."""
    return Path(shutil.copytree(downloads[table_id, data_set], tmp_path / (name or f"{table_id}-{data_set}")))


def load(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, value) -> None:
    with open(path, "w") as handle:  # as cbsodata writes
        json.dump(value, handle, indent=2)


def refused(src: Path, mirror_dir: Path, **kwargs) -> str:
    with pytest.raises(mirror.MirrorError) as info:
        importer.import_folder(src, mirror_dir, **kwargs)
    return str(info.value)


# --- importing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data_set", ["TypedDataSet", "UntypedDataSet"])
@pytest.mark.parametrize("table_id", [KWB, HEALTH])
def test_import_reproduces_the_source_table(downloads, template_mirror, tmp_path, table_id, data_set):
    src = downloads[table_id, data_set]
    assert (src / f"{data_set}.json").is_file() and not (src / "manifest.json").exists()
    before = snapshot(src)

    path = importer.import_folder(src, tmp_path / "m")

    assert path == tmp_path / "m" / table_id
    manifest = mirror.verify_table(tmp_path / "m", table_id)
    source = mirror.read_manifest(template_mirror, table_id)
    assert manifest["row_count"] == source["row_count"] == (KWB_ROWS if table_id == KWB else HEALTH_ROWS)
    info = mirror.read_json(template_mirror, table_id, "TableInfos")[0]
    assert (manifest["source"], manifest["modified"], manifest["title"]) == ("cbs", info["Modified"], info["Title"])
    assert list(manifest["files"]) == list(source["files"])  # an UntypedDataSet is stored as TypedDataSet.json
    for name in source["files"]:  # numbers, nulls, padded codes and texts: all as in the source mirror
        assert mirror.read_json(tmp_path / "m", table_id, name) == mirror.read_json(template_mirror, table_id, name)
    assert snapshot(src) == before  # the download folder is only read


def test_untyped_values_become_numbers_and_nulls_texts_stay_as_sent(downloads, tmp_path):
    src = copy_of(downloads, tmp_path, KWB, "UntypedDataSet")
    rows = load(src / "UntypedDataSet.json")
    assert rows[1]["AantalInwoners_5"] == "     101" and rows[3]["AantalInwoners_5"] == "       ."
    rows[1]["GemiddeldeWOZWaardeVanWoningen_35"] = "  -1.5  "
    rows[2]["AantalInwoners_5"] = "   12.0"  # a Long written with a decimal point is still a whole number
    rows[4]["AantalInwoners_5"] = ""
    save(src / "UntypedDataSet.json", rows)

    importer.import_folder(src, tmp_path / "m")

    typed = mirror.read_json(tmp_path / "m", KWB, "TypedDataSet")
    assert typed[1]["AantalInwoners_5"] == 101 and isinstance(typed[1]["AantalInwoners_5"], int)
    assert typed[1]["GemiddeldeWOZWaardeVanWoningen_35"] == -1.5 and typed[2]["AantalInwoners_5"] == 12
    assert typed[3]["AantalInwoners_5"] is None and typed[4]["AantalInwoners_5"] is None
    assert typed[6]["GemiddeldeWOZWaardeVanWoningen_35"] == 150.6
    assert typed[1]["WijkenEnBuurten"] == "GM0344    " and typed[1]["Gemeentenaam_1"] == "Utrecht".ljust(40)


def test_import_in_place_inside_the_mirror(downloads, tmp_path):
    mirror_dir = tmp_path / "mirror"
    folder = Path(shutil.copytree(downloads[HEALTH, "UntypedDataSet"], mirror_dir / HEALTH))
    assert mirror.read_manifest(mirror_dir, HEALTH) is None

    assert importer.import_folder(folder, mirror_dir) == folder

    assert mirror.verify_table(mirror_dir, HEALTH)["row_count"] == HEALTH_ROWS
    assert sorted(p.name for p in mirror_dir.iterdir()) == [HEALTH]  # no temp or aside folder left
    assert "TypedDataSet.json" in snapshot(folder) and "UntypedDataSet.json" not in snapshot(folder)
    assert importer.missing_table_hint(mirror_dir, HEALTH) == ""
    assert importer.import_folder(folder, mirror_dir) == folder  # a complete table can be imported again
    assert mirror.verify_table(mirror_dir, HEALTH)["row_count"] == HEALTH_ROWS


def test_table_id_from_the_argument_when_tableinfos_has_none(downloads, tmp_path):
    src = copy_of(downloads, tmp_path, HEALTH, "TypedDataSet", name="download")
    infos = load(src / "TableInfos.json")
    del infos[0]["Identifier"]
    save(src / "TableInfos.json", infos)
    assert refused(src, tmp_path / "m") == (
        f"{src / 'TableInfos.json'} has no Identifier and the folder name 'download' is not a table id: pass the "
        "table id (`--table-id 84583NED`, or table_id=...)")
    assert importer.import_folder(src, tmp_path / "m", table_id=HEALTH) == tmp_path / "m" / HEALTH
    named = Path(shutil.copytree(src, tmp_path / "elsewhere" / HEALTH))  # or the folder name, if it is a table id
    assert importer.import_folder(named, tmp_path / "m2") == tmp_path / "m2" / HEALTH
    assert refused(downloads[KWB, "TypedDataSet"], tmp_path / "m", table_id=HEALTH) == (
        f"{downloads[KWB, 'TypedDataSet'] / 'TableInfos.json'} is table {KWB}, not {HEALTH}: check the folder, or "
        f"leave out the table id to import it as {KWB}")


# --- rejections --------------------------------------------------------------------------------


def test_truncated_json_is_refused(downloads, tmp_path):
    src = copy_of(downloads, tmp_path, HEALTH, "UntypedDataSet")
    (src / "DataProperties.json").write_text('[\n  {\n    "ID": 0,\n    "Type": "Dimension"')
    assert refused(src, tmp_path / "m") == (
        f"{src / 'DataProperties.json'} is cut off: its JSON ends at line 4 before it is complete (Expecting ',' "
        f"delimiter); the download or copy was interrupted: {AGAIN}")

    data = (downloads[HEALTH, "UntypedDataSet"] / "UntypedDataSet.json").read_bytes()
    shutil.copy(downloads[HEALTH, "UntypedDataSet"] / "DataProperties.json", src)
    (src / "UntypedDataSet.json").write_bytes(data[: len(data) // 2])  # cut anywhere, e.g. inside a string
    assert f"{src / 'UntypedDataSet.json'} is cut off: its JSON ends at line " in refused(src, tmp_path / "m")
    (src / "UntypedDataSet.json").write_bytes(b"")
    assert refused(src, tmp_path / "m") == (
        f"{src / 'UntypedDataSet.json'} is empty (0 bytes): the download or copy was interrupted; {AGAIN}")
    assert not (tmp_path / "m").exists()  # nothing was written


def test_missing_data_properties_is_refused(downloads, tmp_path):
    src = copy_of(downloads, tmp_path, HEALTH, "TypedDataSet")
    (src / "DataProperties.json").unlink()
    assert refused(src, tmp_path / "m") == (
        f"{src} has no DataProperties.json, which every folder cbsodata.download_data writes has (it describes the "
        f"table and its columns): the download or copy is incomplete; {AGAIN}")


def test_non_number_in_a_numeric_topic_is_refused_and_the_mirror_keeps_its_table(downloads, tmp_path):
    mirror_dir = tmp_path / "m"
    importer.import_folder(downloads[KWB, "TypedDataSet"], mirror_dir)
    before = snapshot(mirror_dir / KWB)
    src = copy_of(downloads, tmp_path, KWB, "UntypedDataSet")
    rows = load(src / "UntypedDataSet.json")
    rows[4]["AantalInwoners_5"] = "abc"
    save(src / "UntypedDataSet.json", rows)

    assert refused(src, mirror_dir) == (
        f"{src / 'UntypedDataSet.json'} row 5: Topic AantalInwoners_5 expected a number, found 'abc'; CBS sends "
        f"numbers as text here ('.' for a suppressed figure), so the file was changed or damaged: {AGAIN}")
    assert snapshot(mirror_dir / KWB) == before
    assert sorted(p.name for p in mirror_dir.iterdir()) == [KWB]


def _set_row(name: str, row: int, key: str, value):
    def damage(src: Path) -> None:
        rows = load(src / f"{name}.json")
        rows[row][key] = value
        save(src / f"{name}.json", rows)
    return damage


@pytest.mark.parametrize(
    ("table_id", "data_set", "damage", "message"),
    [
        (KWB, "UntypedDataSet", _set_row("UntypedDataSet", 0, "AantalInwoners_5", "  12.5"),
         "UntypedDataSet.json row 1: Topic AantalInwoners_5 (Long) expected a whole number, found '  12.5'"),
        (HEALTH, "TypedDataSet", _set_row("TypedDataSet", 2, "Eenzaam_28", "40.0"),
         "TypedDataSet.json row 3: Topic Eenzaam_28 expected a number or null, found '40.0'"),
        (HEALTH, "TypedDataSet", _set_row("TypedDataSet", 1, "WijkenEnBuurten", "GM0344"),
         "TypedDataSet.json row 2: WijkenEnBuurten 'GM0344' is not a Key in WijkenEnBuurten.json (codes are compared "
         "as sent, padding included)"),
        (HEALTH, "UntypedDataSet", _set_row("UntypedDataSet", 0, "Nieuw_99", 1),
         "UntypedDataSet.json row 1: column Nieuw_99 is not in DataProperties.json"),
        (HEALTH, "UntypedDataSet", _set_row("UntypedDataSet", 3, "ID", 0),
         "UntypedDataSet.json row 4: ID 0 occurs twice"),
        (HEALTH, "UntypedDataSet", lambda src: (src / "Perioden.json").unlink(),
         "has no Perioden.json, the file of the dimension Perioden that DataProperties.json lists"),
        (HEALTH, "UntypedDataSet", lambda src: (src / "UntypedDataSet.json").unlink(),
         "has no data set: neither TypedDataSet.json nor UntypedDataSet.json is there"),
        (HEALTH, "TypedDataSet", lambda src: save(src / "TableInfos.json", {"value": []}),
         "TableInfos.json holds a JSON dict, not the list of rows that cbsodata.download_data saves"),
        (HEALTH, "TypedDataSet", lambda src: (src / "TableInfos.json").write_text('[{"ID": 0,, }]'),
         "TableInfos.json is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 11)"),
        (HEALTH, "TypedDataSet", lambda src: (src / "Perioden (1).json").write_text("[]"),
         "'Perioden (1).json' is not a CBS resource name"),
    ],
    ids=["long-fraction", "typed-text", "unknown-code", "unknown-column", "duplicate-id", "no-dimension-file",
         "no-data-set", "not-a-list", "invalid-json", "odd-file-name"],
)
def test_other_rejections_name_file_and_problem(downloads, tmp_path, table_id, data_set, damage, message):
    src = copy_of(downloads, tmp_path, table_id, data_set)
    damage(src)
    text = refused(src, tmp_path / "m")
    assert message in text and text.startswith(str(src))
    assert AGAIN in text or text.endswith("remove or rename the file and import again")  # and what to do
    assert not (tmp_path / "m").exists()


def test_real_metadata_only_folder_is_refused_for_its_missing_data_set(cbs_real, tmp_path):
    folder = cbs_real / "odata" / "85984NED"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not there")
    text = refused(folder, tmp_path / "m")
    assert text.startswith(f"{folder} has no data set: neither TypedDataSet.json nor UntypedDataSet.json is there "
                           "(only CategoryGroups.json, DataProperties.json, TableInfos.json")
    assert f"{AGAIN} with `bwm mirror download 85984NED --mirror {tmp_path / 'm'}` where CBS is reachable" in text
    assert not (tmp_path / "m").exists()


# --- the hint for a folder without manifest ------------------------------------------------------


def test_missing_table_hint(downloads, tmp_path):
    mirror_dir = tmp_path / "mirror"
    assert importer.missing_table_hint(mirror_dir, HEALTH) == ""  # no mirror at all
    importer.import_folder(downloads[HEALTH, "TypedDataSet"], mirror_dir)
    assert importer.missing_table_hint(mirror_dir, HEALTH) == ""  # complete
    assert importer.missing_table_hint(mirror_dir, KWB) == ""  # absent

    folder = Path(shutil.copytree(downloads[KWB, "UntypedDataSet"], mirror_dir / KWB))
    command = f"bwm mirror import {shlex.quote(str(folder))} --mirror {shlex.quote(str(mirror_dir))}"
    assert importer.missing_table_hint(mirror_dir, KWB) == (
        f"The folder {folder} exists but has no manifest.json (it looks like a cbsodata.download_data folder): "
        f"run `{command}` to verify it and add the manifest.")

    (mirror_dir / "84583NED").mkdir()
    assert importer.missing_table_hint(mirror_dir, "84583NED") == (
        f"The folder {mirror_dir / '84583NED'} exists but has no manifest.json and none of the files "
        "cbsodata.download_data writes (TableInfos.json, DataProperties.json, TypedDataSet.json): it is an "
        "unfinished copy or download; remove it and download the table again.")


# --- the command line ----------------------------------------------------------------------------


def test_cli_imports_folders_and_prints_what(downloads, tmp_path, capsys, bwm_env):
    mirror_dir = tmp_path / "m"
    untyped, typed = downloads[KWB, "UntypedDataSet"], downloads[HEALTH, "TypedDataSet"]
    assert cli.main(["mirror", "import", str(untyped), str(typed), "--mirror", str(mirror_dir)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"[1/2] {untyped}",
        f"  imported {KWB}: {KWB_ROWS} rows, CBS modified {KWB_MODIFIED} (UntypedDataSet.json converted to typed "
        f"values), into {mirror_dir / KWB}",
        f"[2/2] {typed}",
        f"  imported {HEALTH}: {HEALTH_ROWS} rows, CBS modified {HEALTH_MODIFIED}, into {mirror_dir / HEALTH}",
        f"Mirror: {mirror_dir}",
    ]
    assert [m["table_id"] for m in mirror.list_tables(mirror_dir)] == [KWB, HEALTH]


def test_cli_reports_a_refused_folder_and_exits_1(downloads, tmp_path, capsys, bwm_env):
    mirror_dir = tmp_path / "m"
    bad = copy_of(downloads, tmp_path, HEALTH, "TypedDataSet")
    (bad / "DataProperties.json").unlink()
    good = downloads[KWB, "TypedDataSet"]
    assert cli.main(["mirror", "import", str(bad), str(good), "--mirror", str(mirror_dir)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"  FAILED: {bad} has no DataProperties.json, which every folder cbsodata.download_data writes has (it "
        f"describes the table and its columns): the download or copy is incomplete; {AGAIN}",
        "1 of 2 folder(s) NOT imported (see above); the mirror's copies of those tables, if any, are unchanged.",
    ]
    assert f"  imported {KWB}: {KWB_ROWS} rows" in captured.out
    assert [m["table_id"] for m in mirror.list_tables(mirror_dir)] == [KWB]


def test_cli_table_id_names_one_folder_only(downloads, tmp_path, capsys, bwm_env):
    args = ["mirror", "import", str(downloads[KWB, "TypedDataSet"]), str(downloads[HEALTH, "TypedDataSet"]),
            "--table-id", KWB, "--mirror", str(tmp_path / "m")]
    assert cli.main(args) == 2
    assert "--table-id names the table of one folder" in capsys.readouterr().err
    assert cli.main(["mirror", "import", str(tmp_path / "nowhere"), "--mirror", str(tmp_path / "m")]) == 1
    assert f"FAILED: {tmp_path / 'nowhere'} is not a folder" in capsys.readouterr().err
    parent = downloads[KWB, "TypedDataSet"].parent  # the folder above the downloads, not a table
    assert cli.main(["mirror", "import", str(parent), "--mirror", str(tmp_path / "m")]) == 1
    assert (f"FAILED: {parent} holds table folders ({KWB}-TypedDataSet, {KWB}-UntypedDataSet, {HEALTH}-TypedDataSet, "
            f"...), not the files of one table: name the table folders themselves, e.g. "
            f"{parent / f'{KWB}-TypedDataSet'}") in capsys.readouterr().err


def test_the_lacks_error_names_the_import_command_for_a_cbsodata_folder(tmp_path):
    """A folder cbsodata.download_data wrote is there but has no manifest: the error says so and what to run."""
    from bwm.settings import Settings
    from bwm.sources import SourceError, ensure_mirror

    folder = tmp_path / "mirror" / "84583NED"
    folder.mkdir(parents=True)
    (folder / "TableInfos.json").write_text('[{"Identifier": "84583NED", "Modified": "2020-10-01T02:00:00"}]')
    (folder / "DataProperties.json").write_text("[]")
    (folder / "TypedDataSet.json").write_text("[]")
    settings = Settings(source="mirror", mirror_dir=tmp_path / "mirror", years=(2019,))
    with pytest.raises(SourceError) as err:
        ensure_mirror(settings)
    message = str(err.value)
    assert "lacks 84583NED, 50120NED" in message
    assert f"{folder} exists but has no manifest.json" in message and "bwm mirror import" in message
