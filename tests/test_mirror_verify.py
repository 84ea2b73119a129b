"""The mirror is verified against its manifest before a table is loaded, hashing each file version once."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from bwm.cbs import load, mirror


def _table(mirror_dir):
    rows = [{"ID": i, "WijkenEnBuurten": f"GM{i:04d}    ", "AantalInwoners_5": 94077 + i} for i in range(3)]
    props = [{"Key": "WijkenEnBuurten", "Type": "GeoDetail"},
             {"Key": "AantalInwoners_5", "Type": "Topic", "Datatype": "Long", "Unit": "aantal"}]
    mirror.write_table(mirror_dir, "T1", {"TableInfos": [{"Identifier": "T1", "Modified": "2024-01-01"}],
                                          "DataProperties": props, "TypedDataSet": rows},
                       title="T1", modified="2024-01-01", source="cbs")
    return mirror_dir / "T1" / "TypedDataSet.json"


def _flip_digit(path):
    """One digit changed, size kept: 94077 -> 14077, as a bit rot or a careless edit would."""
    data = path.read_bytes()
    assert b"94077" in data
    path.write_bytes(data.replace(b"94077", b"14077", 1))


def test_a_flipped_digit_stops_that_tables_load_with_a_clear_message(tmp_path):
    data = _table(tmp_path)
    _flip_digit(data)
    con = duckdb.connect()
    con.execute("create schema raw")
    with pytest.raises(load.RawLoadError) as err:
        load.load_typed_dataset(con, tmp_path, "T1", "raw", "t1")
    message = str(err.value)
    assert str(data) in message and "does not match manifest.json" in message
    assert "bwm mirror download T1 --force" in message
    assert con.execute("select count(*) from information_schema.tables where table_name = 't1'").fetchone()[0] == 0


def test_each_file_version_is_hashed_once(tmp_path, monkeypatch):
    data = _table(tmp_path)
    mirror.verify_table(tmp_path, "T1", cached=True)
    cache = json.loads((tmp_path / mirror.VERIFIED_CACHE).read_text())
    assert set(cache) == {"T1/TableInfos.json", "T1/DataProperties.json", "T1/TypedDataSet.json"}

    opened = []
    real_open = type(data).open

    def counting_open(self, *args, **kwargs):
        if not self.name.startswith((mirror.MANIFEST, mirror.VERIFIED_CACHE)):  # data files, not bookkeeping
            opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(type(data), "open", counting_open)
    mirror.verify_table(tmp_path, "T1", cached=True)
    assert opened == []  # nothing read: every file's size and mtime are those already verified

    _flip_digit(data)
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    opened.clear()
    with pytest.raises(mirror.MirrorError, match="changed or damaged"):
        mirror.verify_table(tmp_path, "T1", cached=True)
    assert opened == ["TypedDataSet.json"]


def test_a_read_only_mirror_still_verifies(tmp_path, monkeypatch):
    _table(tmp_path)
    monkeypatch.setattr(mirror, "_write_cache", lambda path, cache: None)  # as if the share were read-only
    assert mirror.verify_table(tmp_path, "T1", cached=True)["table_id"] == "T1"
