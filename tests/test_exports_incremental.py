"""The export asset's incremental path (`update_per_municipality`): a municipality keeps its files when nothing they
are made from changed, and every file it keeps has the bytes a fresh export of the warehouse would write."""

import datetime as dt

import dagster as dg
import pytest
from test_exports import GENERATED, build_export_model, wh  # noqa: F401 - the warehouse fixture of the export tests

from bwm import incremental, warehouse, workers
from bwm.export import writers
from bwm.export.run import export, fingerprints, recorded, update_per_municipality
from bwm.export.tables import Selection
from pipelines.defs.publish.exports import publish_exports
from pipelines.resources import BwmResource

CODES = ["GM0001", "GM0002"]
LATER = dt.datetime(2025, 4, 1, 8, 0, 0, tzinfo=dt.UTC)


def _stamps(folder):
    """Inode and mtime of every file under ``folder``: a rewrite (temporary file renamed over it) changes the inode."""
    return {p.relative_to(folder): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def _fresh(wh, code, folder, generated_at):  # noqa: F811
    """What a fresh single export of ``code`` writes: {file name: bytes}."""
    paths = export(wh, Selection(municipalities=(code,)), folder / code, name=code, generated_at=generated_at)
    return {p.name: p.read_bytes() for p in paths}


def _files(folder, code):
    """The export files in ``folder/code`` (not the state): {file name: bytes}."""
    return {p.name: p.read_bytes() for p in sorted((folder / code).iterdir()) if p.name != incremental.STATE}


def _change(wh, sql):  # noqa: F811
    """Change the warehouse, and write the publish model again (as a refresh does downstream of a change)."""
    with warehouse.connect(wh) as con:
        con.execute(sql)
        build_export_model(con)


def test_an_unchanged_warehouse_rewrites_nothing(wh, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    first = update_per_municipality(wh, CODES, out, generated_at=GENERATED)
    assert (first.written, first.reused) == (CODES, [])
    stamps = _stamps(out)
    assert len(stamps) == 2 * 22  # per municipality 21 files (10 tables as CSV and Parquet, the XLSX) and the state
    second = update_per_municipality(wh, CODES, out, generated_at=LATER)
    assert (second.written, second.reused) == ([], CODES)
    assert second.files == first.files
    assert _stamps(out) == stamps, "no file touched, the records included"
    for code in CODES:
        assert _files(out, code) == _fresh(wh, code, tmp_path / "fresh", GENERATED)


@pytest.mark.parametrize(("change", "rewritten"), [
    pytest.param("update indicators.values set value = 28001 where area_code = 'GM0002'", ["GM0002"], id="value"),
    pytest.param("insert into indicators.values select * from indicators.values where area_code = 'GM0002'",
                 ["GM0002"], id="duplicated-row"),
    pytest.param("update staging.areas set area_name = 'Noord' where area_code = 'BU00010101'", ["GM0001"],
                 id="buurt-name"),
    pytest.param("update staging.areas set area_name = 'Twee' where area_code = 'GM0002' and year = 2024", ["GM0002"],
                 id="gemeente-name"),
    pytest.param("update raw.cbs_tables set title = 'KWB 2023 (herzien)' where table_id = 'T2023'", ["GM0001"],
                 id="cbs-table-only-gm0001-cites"),
    pytest.param("update municipal.file_status set checked_at = checked_at + interval 1 day", ["GM0001"],
                 id="municipal-file-checked"),
    pytest.param("update municipal.indicators set source_label = 'Gemeente (nieuw)'", ["GM0001"],
                 id="municipal-declaration"),
    pytest.param("update indicators.catalogue set definition_nl = 'Nieuw.' where indicator_id = 'clients'",
                 ["GM0001"], id="catalogue-indicator-of-one"),
    pytest.param("update indicators.catalogue set unit = 'eur_2024' where indicator_id = 'inkomen'", CODES,
                 id="catalogue-unit-of-all"),
    pytest.param("update indicators.catalogue set definition_nl = 'Nieuw.' where indicator_id = 'inkomen'", CODES,
                 id="catalogue-definition-of-all"),
    # the catalogue's row order is the column order of data_wide: GM0002 has one indicator, so its order stays
    pytest.param("create or replace table indicators.catalogue as select * from indicators.catalogue "
                 "order by indicator_id desc", ["GM0001"], id="catalogue-order"),
    pytest.param("update municipal.disclosure_rule set min_count = 11", CODES, id="disclosure-rule"),
])
def test_a_change_rewrites_exactly_the_municipalities_it_reaches(wh, tmp_path, change, rewritten):  # noqa: F811
    out = tmp_path / "out"
    update_per_municipality(wh, CODES, out, generated_at=GENERATED)
    stamps = _stamps(out)
    _change(wh, change)
    result = update_per_municipality(wh, CODES, out, generated_at=LATER)
    assert (result.written, result.reused) == (rewritten, [c for c in CODES if c not in rewritten])
    for code in CODES:
        # written: a fresh export now; kept: the bytes a fresh export of the changed warehouse writes at GENERATED
        when = LATER if code in rewritten else GENERATED
        assert _files(out, code) == _fresh(wh, code, tmp_path / f"fresh-{when:%m}", when), code
        same = {p: s for p, s in _stamps(out).items() if p.parts[0] == code} == \
            {p: s for p, s in stamps.items() if p.parts[0] == code}
        assert same == (code not in rewritten), code
    with warehouse.connect(wh, read_only=True) as con:
        prints = fingerprints(con, CODES, writers.FORMATS)
    assert {c: recorded(out / c, c) for c in CODES} == prints


def test_a_missing_file_is_written_again(wh, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    update_per_municipality(wh, CODES, out, generated_at=GENERATED)
    (out / "GM0001" / "GM0001_sources.parquet").unlink()
    result = update_per_municipality(wh, CODES, out, generated_at=LATER)
    assert (result.written, result.reused) == (["GM0001"], ["GM0002"])
    assert _files(out, "GM0001") == _fresh(wh, "GM0001", tmp_path / "fresh", LATER)


def test_a_run_that_stops_halfway_leaves_no_record_for_what_it_replaced(wh, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "out"
    update_per_municipality(wh, CODES, out, generated_at=GENERATED)
    _change(wh, "update indicators.values set value = value + 1 where value is not null")
    write = writers.write

    def write_then_fail(tables, folder, name, *args):
        if name == "GM0002":
            raise OSError("disk full")
        return write(tables, folder, name, *args)

    monkeypatch.setattr(writers, "write", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        update_per_municipality(wh, CODES, out, generated_at=LATER, workers=1)
    monkeypatch.setattr(writers, "write", write)
    # GM0001 now holds files of the changed warehouse; back to the warehouse its old record was made from
    _change(wh, "update indicators.values set value = value - 1 where value is not null")
    result = update_per_municipality(wh, CODES, out, generated_at=LATER)
    assert result.written == CODES
    for code in CODES:
        assert _files(out, code) == _fresh(wh, code, tmp_path / "fresh", LATER)


@pytest.mark.parametrize("record", [None, "", "not a fingerprint", b"\xff\xfe\x00"])
def test_a_missing_or_unreadable_record_means_writing_again(wh, tmp_path, record):  # noqa: F811
    out = tmp_path / "out"
    update_per_municipality(wh, CODES, out, generated_at=GENERATED)
    for code in CODES:
        path = out / code / incremental.STATE
        if record is None:
            path.unlink()
        elif isinstance(record, bytes):
            path.write_bytes(record)
        else:
            path.write_text(record, encoding="utf-8")
    result = update_per_municipality(wh, CODES, out, generated_at=LATER)
    assert (result.written, result.reused) == (CODES, [])
    assert update_per_municipality(wh, CODES, out, generated_at=LATER).reused == CODES


def test_other_formats_rewrite_everything_and_gone_codes_are_left_alone(wh, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    update_per_municipality(wh, CODES, out, generated_at=GENERATED)
    assert update_per_municipality(wh, CODES, out, formats=("parquet",), generated_at=LATER).written == CODES
    assert update_per_municipality(wh, CODES, out, formats=("parquet",), csv_delimiter=",",
                                   generated_at=LATER).written == CODES  # the other CSV dialect
    gone = _stamps(out / "GM0002")
    result = update_per_municipality(wh, ["GM0001"], out, formats=("parquet",), csv_delimiter=",",
                                     generated_at=LATER)
    assert (result.written, result.reused) == ([], ["GM0001"])
    assert result.files == writers.paths(out / "GM0001", "GM0001", ("parquet",))
    assert _stamps(out / "GM0002") == gone, "a municipality no longer exported keeps its folder as it was"


def test_worker_processes_only_for_what_is_written(wh, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "out"
    update_per_municipality(wh, CODES, out, generated_at=GENERATED, workers=2)
    _change(wh, "update indicators.values set value = value + 1 where value is not null")
    assert update_per_municipality(wh, CODES, out, generated_at=LATER, workers=2).written == CODES
    for code in CODES:
        assert _files(out, code) == _fresh(wh, code, tmp_path / "fresh", LATER)

    def no_worker(*args, **kwargs):
        raise AssertionError("a worker process started for fewer than two municipalities to write")

    monkeypatch.setattr(workers.subprocess, "Popen", no_worker)
    _change(wh, "update indicators.values set value = 1 where area_code = 'GM0002'")
    assert update_per_municipality(wh, CODES, out, generated_at=LATER, workers=2).written == ["GM0002"]
    assert update_per_municipality(wh, CODES, out, generated_at=LATER, workers=2).written == []


def test_the_asset_reports_written_and_reused(wh, tmp_path):  # noqa: F811
    bwm = BwmResource(environ={"BWM_WAREHOUSE": str(wh), "BWM_EXPORT_DIR": str(tmp_path / "exports")})
    instance = dg.DagsterInstance.ephemeral()
    runs = [dg.materialize([publish_exports], instance=instance, resources={"bwm": bwm}) for _ in range(2)]
    metadata = [r.asset_materializations_for_node("publish__exports")[0].metadata for r in runs]
    assert [(m["written"].value, m["reused"].value, m["files"].value) for m in metadata] == [(2, 0, 42), (0, 2, 42)]
    logs = [e.user_message for e in instance.all_logs(runs[1].run_id) if e.user_message.startswith("exports:")]
    assert logs == ["exports: 0 municipalities written, 2 reused (unchanged)"]
