"""One export from the warehouse file to a folder: what ``bwm export`` and the publish asset call."""

from __future__ import annotations

import datetime as dt
import re
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
