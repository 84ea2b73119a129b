"""Which municipalities' exports must be written again: a fingerprint of everything a municipality's files are
made from, recorded next to its files (``<folder>/<code>/.fingerprint``) when they are written.

A municipality's fingerprint is a SHA-256 over

* its data: every warehouse row of its long table as the export's own query reads it (``tables.long_query``:
  indicators.values at the exported levels, joined to the catalogue's theme, name, unit and source and to the
  area and gemeente names of staging.areas), as ``count(*)`` and ``sum(hash(row)::hugeint)`` in DuckDB: the sum
  does not depend on row order, and a duplicated row counts twice (an xor would cancel it);
* its definitions and sources tables, made by the export's own code: the catalogue rows of the indicators it has,
  in catalogue order (``indicators.catalogue``), and the metadata of the source tables it uses (``raw.cbs_tables``;
  a municipal file's last check in ``municipal.file_status``; the labels and years ``municipal.indicators`` gives
  a file);
* what every export shares: the notes table (``municipal.disclosure_rule``, the markers), the levels, the formats,
  the CSV delimiter, ``FORMAT_VERSION`` and the polars version (which writes the bytes).

It leaves out ``generated_at`` on purpose: that is the one thing that differs between two exports of the same
warehouse. A municipal file's last check (``checked_at``) is in the sources table, so every refresh that scans
the drop folder rewrites the municipalities whose exports cite a municipal file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import polars as pl

from bwm import disclosure
from bwm.export import tables

#: Bump this when the code writes different files for the same warehouse (a column, a note, a writer): the files
#: of the old code are then rewritten instead of reused.
FORMAT_VERSION = 1
#: The record in a municipality's export folder: the fingerprint of the files next to it (one line of hex).
RECORD = ".fingerprint"
_NO_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # the notes table without its generated_at


def fingerprints(con, codes: list[str], formats, csv_delimiter: str = ",",
                 levels: tuple[str, ...] = tables.DEFAULT_LEVELS) -> dict[str, str]:
    """``{code: fingerprint}`` of the export of each code (``Selection(municipalities=(code,), levels=levels)``)
    in ``formats``; a code without values has none (its export fails: nothing to export)."""
    sql, params = tables.long_query(tables.Selection(municipalities=tuple(codes), levels=levels))
    rows = con.execute(
        f"""
        select
            gemeente_code,
            count(*) as n_rows,
            -- hash() takes -0.0 for 0.0, the Parquet and XLSX files do not
            sum(hash(q, signbit(value), signbit(numerator), signbit(denominator))::hugeint) as rows_hash,
            list(distinct indicator_id) as indicators,
            list(distinct [source, source_table]) filter (where source is not null and source_table is not null)
                as sources
        from ({sql}) as q
        group by gemeente_code
        """,
        params,
    ).fetchall()
    data = {code: (n, h, set(ids), {tuple(p) for p in pairs or []}) for code, n, h, ids, pairs in rows}
    national = data.pop(None, (0, 0, set(), set()))  # level 'land' (no gemeente): in every municipality's export
    catalogue, lookup = tables.read_catalogue(con), tables.SourceLookup.read(con)
    shared = (FORMAT_VERSION, sorted(formats), csv_delimiter, list(levels), pl.__version__, disclosure.UNKNOWN_MARKER,
              national[:2], tables.notes(con, tables.Selection(municipalities=("-",), levels=levels), _NO_TIME).rows())
    prints = {}
    for code in codes:
        n, h, ids, pairs = data.get(code, (0, 0, set(), set()))
        if n + national[0] == 0:
            continue
        definitions = tables.definitions(catalogue, tables.indicator_order(catalogue, ids | national[2]))
        used = pl.DataFrame(sorted(pairs | national[3]), schema={"source": pl.String, "source_table": pl.String},
                            orient="row")
        sources = lookup.sources(used)
        parts = (shared, code, n, h, definitions.columns, definitions.rows(), sources.columns, sources.rows())
        prints[code] = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
    return prints


def recorded(folder: Path) -> str | None:
    """The fingerprint recorded in a municipality's export folder; None when there is none or it is unreadable
    (then the municipality is written again)."""
    try:
        text = (Path(folder) / RECORD).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    return text or None


def record(folder: Path, fingerprint: str) -> None:
    """Record ``fingerprint`` in the folder atomically (a temporary file renamed over the old record)."""
    tmp = Path(folder) / f"{RECORD}.tmp"
    tmp.write_text(fingerprint + "\n", encoding="ascii")
    os.replace(tmp, Path(folder) / RECORD)


def forget(folder: Path) -> None:
    """Remove the folder's record: done before its files are replaced, so a run that stops halfway leaves no record
    vouching for a mix of old and new files."""
    (Path(folder) / RECORD).unlink(missing_ok=True)
