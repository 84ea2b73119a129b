"""One export from the warehouse file to a folder: what ``bwm export`` and the publish asset call."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from bwm import disclosure, incremental, warehouse
from bwm import workers as workers_
from bwm.export import tables as export_tables
from bwm.export import writers
from bwm.site import format as site_format


def default_name(selection: export_tables.Selection) -> str:
    """``GM9901_GM9902`` for those municipalities, ``alle_gemeenten`` without; themes and years appended."""
    parts = ["_".join(selection.municipalities) or "alle_gemeenten"]
    if selection.themes:
        parts.append("_".join(selection.themes))
    if selection.years:
        years = sorted(selection.years)
        parts.append(str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(parts))


def export(warehouse_path: Path, selection: export_tables.Selection, folder: Path, name: str | None = None,
           formats=writers.FORMATS, csv_delimiter: str = ";", generated_at: dt.datetime | None = None) -> list[Path]:
    """Read the selection from the warehouse (read-only) and write it; returns the files written.

    ``generated_at`` defaults to now (UTC, whole seconds); it is the only thing that differs between two
    exports of the same warehouse.
    """
    generated_at = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    with warehouse.connect(warehouse_path, read_only=True) as con:
        built = export_tables.build(con, selection, generated_at)
    return writers.write(built, folder, name or default_name(selection), formats, csv_delimiter)


#: Municipalities per worker process from which exporting in two processes pays for starting them (~1 s each).
PARALLEL_FROM = 20


@dataclass
class MunicipalExports:
    """What ``update_per_municipality`` did: every file of every municipality (sorted), and which municipalities were
    written now and which kept the files of an earlier export."""

    files: list[Path]
    written: list[str]
    reused: list[str]


def export_per_municipality(warehouse_path: Path, codes: list[str], folder: Path, formats=writers.FORMATS,
                            generated_at: dt.datetime | None = None, workers: int | None = None,
                            csv_delimiter: str = ";") -> list[Path]:
    """``update_per_municipality(...).files``: the files of every municipality, written now or kept.

    It is incremental: into a folder that holds an earlier export, it writes only what changed since. To time or
    force a full export, export into an empty folder (or delete the ``<folder>/<code>/.publish-state.json`` states).
    """
    return update_per_municipality(warehouse_path, codes, folder, formats, generated_at, workers, csv_delimiter).files


def update_per_municipality(warehouse_path: Path, codes: list[str], folder: Path, formats=writers.FORMATS,
                            generated_at: dt.datetime | None = None, workers: int | None = None,
                            csv_delimiter: str = ";") -> MunicipalExports:
    """One export per municipality into ``folder/<code>/<code>_*``: the same files as ``export`` with
    ``Selection(municipalities=(code,))`` for each code, read in batches (``tables.build_per_municipality``), but
    only for the municipalities whose files are missing or out of date.

    A municipality keeps its files when its fingerprint (:func:`fingerprints`: everything its files are made from,
    and the formats) is the one recorded in its folder's state (``bwm.incremental``) and all of its files are there.
    Kept files keep their ``generated_at``, which says truly when those bytes were made; apart from it they are
    the bytes a fresh export would write. The state of a municipality to write is removed first and written
    (atomically) once every file of the run is written, so a run that stops halfway leaves no state vouching for
    files it was replacing. A missing or unreadable state means writing that municipality. Folders of codes not in
    ``codes`` (a municipality that merged away) are left as they are, state included: this never deletes files.

    The fingerprints are read through a read-only connection that stays open until every file is written, so no
    writer can open the warehouse in between (DuckDB's file lock) and the records match the files.

    Writing is pure Python and polars on one core (about half a second per municipality), so with many
    municipalities to write they are split over ``workers`` processes (default: the cores, at most 2), each with
    its own read-only connection; the files do not depend on it.
    """
    generated_at = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    codes, folder = list(dict.fromkeys(codes)), Path(folder)
    with warehouse.connect(warehouse_path, read_only=True) as con:
        prints = fingerprints(con, codes, formats, csv_delimiter)
        reused = {c for c in codes if c in prints and recorded(folder / c, c) == prints[c]
                  and all(p.is_file() for p in writers.paths(folder / c, c, formats))}
        todo = [c for c in codes if c not in reused]
        for code in todo:
            incremental.forget(folder / code)
        written = _export_in_parts(con, warehouse_path, todo, folder, formats, csv_delimiter, generated_at, workers)
    for code in todo:  # every code to write has a fingerprint: a code without values failed above (nothing to export)
        files = {p.name: [p.suffix.lstrip("."), p.stat().st_size] for p in writers.paths(folder / code, code, formats)}
        incremental.write_state(folder / code, {code: incremental.Entry(prints[code], files)})
    kept = [c for c in codes if c in reused]
    files = written + [p for c in kept for p in writers.paths(folder / c, c, formats)]
    return MunicipalExports(sorted(files), todo, kept)


#: The code that shapes an export's bytes: a change to any of it writes every municipality again.
_CODE = [Path(__file__).parent, Path(disclosure.__file__), Path(site_format.__file__)]
_LIBRARIES = ("polars",)
_NO_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the notes table without its generated_at


def code_version() -> str:
    """The version of the code that writes the exports, derived from its files (``incremental.code_version``)."""
    return incremental.code_version(_CODE, _LIBRARIES)


def fingerprints(con, codes: list[str], formats, csv_delimiter: str = ";",
                 levels: tuple[str, ...] = export_tables.DEFAULT_LEVELS) -> dict[str, str]:
    """``{code: fingerprint}`` of the export of each code (``Selection(municipalities=(code,), levels=levels)``)
    in ``formats``; a code without values has none (its export fails: nothing to export).

    The fingerprint (``incremental.fingerprints``) is over the municipality's rows of ``publish.values`` and of the
    divide tables ``publish.divide_decomposition`` and ``publish.divide_contributions`` (exactly: the files hold
    every digit); the definitions and sources tables the export's own code makes for it (the
    catalogue rows of its indicators in catalogue order, ``publish.indicators``; the metadata of the source tables
    it cites, ``raw.cbs_tables``, a municipal file's last check in ``municipal.file_status`` and what
    ``municipal.indicators`` declares of it); what every export shares (the notes, ``municipal.disclosure_rule``
    and the markers; the levels, the formats, the CSV delimiter; the national rows when ``levels`` has 'land'); and
    the code version. It leaves out ``generated_at`` on purpose: that is the one thing that differs between two
    exports of the same warehouse. A municipal file's last check is in the sources table, so every refresh that
    scans the drop folder rewrites the municipalities whose exports cite a municipal file.
    """
    sql, params = export_tables.long_query(export_tables.Selection(municipalities=tuple(codes), levels=levels))
    used = {code: (set(ids), {tuple(p) for p in pairs or []}, n, h) for code, ids, pairs, n, h in con.execute(
        f"""
        select
            gemeente_code,
            list(distinct indicator_id) as indicators,
            list(distinct [source, source_table]) filter (where source is not null and source_table is not null)
                as sources,
            count(*) as n_rows,
            -- the national rows' hash (a gemeente's rows are hashed by incremental.fingerprints); hash() takes
            -- -0.0 for 0.0, the Parquet and XLSX files do not
            sum(hash(q, signbit(value), signbit(numerator), signbit(denominator))::hugeint)
                filter (where gemeente_code is null) as rows_hash
        from ({sql}) as q
        group by gemeente_code
        """,
        params,
    ).fetchall()}
    # level 'land' (no gemeente, so not in the scoped rows): in every municipality's export when levels has it
    national_ids, national_pairs, *national = used.pop(None, (set(), set(), 0, 0))
    catalogue, lookup = export_tables.read_catalogue(con), export_tables.SourceLookup.read(con)
    shared = (sorted(formats), csv_delimiter, list(levels), disclosure.UNKNOWN_MARKER, national,
              export_tables.notes(con, export_tables.Selection(municipalities=("-",), levels=levels), _NO_TIME).rows())
    extra = {}
    for code in codes:
        if code not in used and national[0] == 0:
            continue
        ids, pairs, *_ = used.get(code, (set(), set()))
        definitions = export_tables.definitions(catalogue, export_tables.indicator_order(catalogue, ids | national_ids))
        cited = pl.DataFrame(sorted(pairs | national_pairs), schema={"source": pl.String, "source_table": pl.String},
                             orient="row")
        sources = lookup.sources(cited)
        extra[code] = (definitions.columns, definitions.rows(), sources.columns, sources.rows())
    tables = ["publish.values", *export_tables.divide_tables_present(con)]
    if warehouse.table_exists(con, "publish", "targets"):
        tables.append("publish.targets")
    prints = incremental.fingerprints(con, code_version(), shared, tables=tables, extra=extra)
    return {code: prints[code] for code in codes if code in extra}


def recorded(folder: Path, code: str) -> str | None:
    """The fingerprint a municipality's export folder records for it; None when there is none or it is unreadable
    (then the municipality is written again)."""
    entry = incremental.read_state(folder).get(code)
    return entry.fingerprint if entry is not None else None


def _export_in_parts(con, warehouse_path: Path, codes: list[str], folder: Path, formats, csv_delimiter: str,
                     generated_at: dt.datetime, workers: int | None) -> list[Path]:
    """Export ``codes``: this process through ``con``, and with ``workers`` > 1 the other parts in worker processes."""
    if not codes:
        return []
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1, len(codes) // PARALLEL_FROM))
    if workers <= 1 or len(codes) < 2:
        return _export_codes(con, codes, folder, formats, csv_delimiter, generated_at)
    parts = [codes[i::workers] for i in range(workers)]
    jobs = [{"warehouse": str(warehouse_path), "codes": part, "folder": str(folder), "formats": list(formats),
             "csv_delimiter": csv_delimiter, "generated_at": generated_at.isoformat()} for part in parts[1:]]
    written, others = workers_.run_alongside(
        "bwm.export.run", jobs, lambda: _export_codes(con, parts[0], folder, formats, csv_delimiter, generated_at),
        export_tables.ExportError, "an export worker")
    written += [Path(p) for paths in others for p in paths]
    return sorted(written)


def _export_codes(con, codes: list[str], folder: Path, formats, csv_delimiter: str,
                  generated_at: dt.datetime) -> list[Path]:
    written: list[Path] = []
    for code, built in export_tables.build_per_municipality(con, codes, generated_at):
        written += writers.write(built, Path(folder) / code, code, formats, csv_delimiter)
    return written


def _worker() -> None:
    """``python -m bwm.export.run JOB``: one part of ``update_per_municipality``, the job as JSON."""
    job = json.loads(sys.argv[1])
    with warehouse.connect(Path(job["warehouse"]), read_only=True) as con:
        paths = _export_codes(con, job["codes"], Path(job["folder"]), tuple(job["formats"]), job["csv_delimiter"],
                              dt.datetime.fromisoformat(job["generated_at"]))
    print(json.dumps([str(p) for p in paths]))


if __name__ == "__main__":
    _worker()
