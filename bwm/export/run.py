"""One export from the warehouse file to a folder: what ``bwm export`` and the publish asset call."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from bwm import warehouse
from bwm.export import tables as export_tables
from bwm.export import writers


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
           formats=writers.FORMATS, csv_delimiter: str = ",", generated_at: dt.datetime | None = None) -> list[Path]:
    """Read the selection from the warehouse (read-only) and write it; returns the files written.

    ``generated_at`` defaults to now (UTC, whole seconds); it is the only thing that differs between two
    exports of the same warehouse.
    """
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with warehouse.connect(warehouse_path, read_only=True) as con:
        built = export_tables.build(con, selection, generated_at)
    return writers.write(built, folder, name or default_name(selection), formats, csv_delimiter)


#: Municipalities per worker process from which exporting in two processes pays for starting them (~1 s each).
PARALLEL_FROM = 20


def export_per_municipality(warehouse_path: Path, codes: list[str], folder: Path, formats=writers.FORMATS,
                            generated_at: dt.datetime | None = None, workers: int | None = None) -> list[Path]:
    """One export per municipality into ``folder/<code>/<code>_*``: the same files as ``export`` with
    ``Selection(municipalities=(code,))`` for each code, read in batches (``tables.build_per_municipality``).

    Writing is pure Python and polars on one core (about half a second per municipality), so with many
    municipalities the codes are split over ``workers`` processes (default: the cores, at most 2), each with its
    own read-only connection; the files do not depend on it.
    """
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    codes = list(codes)
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1, len(codes) // PARALLEL_FROM))
    if workers <= 1:
        return _export_codes(warehouse_path, codes, folder, formats, generated_at)
    # The other parts go to fresh interpreters (`python -m bwm.export.run`), not multiprocessing: spawning
    # through multiprocessing re-imports the caller's __main__ (the Dagster process, a test runner, a script).
    parts = [codes[i::workers] for i in range(workers)]
    children = []
    for part in parts[1:]:
        job = {"warehouse": str(warehouse_path), "codes": part, "folder": str(folder), "formats": list(formats),
               "generated_at": generated_at.isoformat()}
        children.append(subprocess.Popen([sys.executable, "-m", "bwm.export.run", json.dumps(job)],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        written = _export_codes(warehouse_path, parts[0], folder, formats, generated_at)
    finally:
        results = [(child, *child.communicate(), child.returncode) for child in children]
    for child, out, err, code in results:
        if code != 0:
            raise export_tables.ExportError(f"an export worker failed (exit {code}): {err.strip()[-2000:]}")
        written += [Path(p) for p in json.loads(out)]
    return sorted(written)


def _export_codes(warehouse_path: Path, codes: list[str], folder: Path, formats, generated_at: dt.datetime) -> list[Path]:
    written: list[Path] = []
    with warehouse.connect(warehouse_path, read_only=True) as con:
        for code, built in export_tables.build_per_municipality(con, codes, generated_at):
            written += writers.write(built, Path(folder) / code, code, formats)
    return written


def _worker() -> None:
    """``python -m bwm.export.run JOB``: one part of ``export_per_municipality``, the job as JSON."""
    job = json.loads(sys.argv[1])
    paths = _export_codes(Path(job["warehouse"]), job["codes"], Path(job["folder"]), tuple(job["formats"]),
                          dt.datetime.fromisoformat(job["generated_at"]))
    print(json.dumps([str(p) for p in paths]))


if __name__ == "__main__":
    _worker()
