"""Municipal mergers (gemeentelijke herindelingen): the reviewed reference file and its rows per code.

``data/reference/gemeente_herindelingen.csv`` has one row per change: the effective date, the new code (a merger
into an existing gemeente keeps that code, which is then one of the old codes), the old codes that went into it
whole, the codes of which only a part went into it (``partial_codes``: a split gemeente), the kind
(samenvoeging, toevoeging, splitsing, naamswijziging), whether the row is the synthetic demo's (``synthetic``)
and its source. The real and the synthetic rows go through the same code: ``code_rows`` gives one row per
(change, old code), and ``indicators.territory`` maps each year's gemeenten to today's from it.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl

PATH = Path(__file__).resolve().parents[1] / "data" / "reference" / "gemeente_herindelingen.csv"
COLUMNS = ("effective_date", "new_code", "new_name", "old_codes", "old_names", "partial_codes", "kind",
           "synthetic", "source", "note")
KINDS = ("samenvoeging", "toevoeging", "splitsing", "naamswijziging")


def _codes(cell: str) -> list[str]:
    return [c.strip().upper() for c in (cell or "").split(";") if c.strip()]


def first_kwb_year(effective: dt.date) -> int:
    """The first KWB year that shows a change: KWB describes the indeling of 1 January of its year."""
    return effective.year if (effective.month, effective.day) == (1, 1) else effective.year + 1


def read(path: Path = PATH) -> list[dict]:
    """The file's rows, validated (columns, dates, GMxxxx codes, kinds, a source on every row)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path.name}: columns must be {', '.join(COLUMNS)}")
        rows = list(reader)
    out = []
    for i, row in enumerate(rows, 2):
        codes = [row["new_code"], *_codes(row["old_codes"]), *_codes(row["partial_codes"])]
        bad = [c for c in codes if not (len(c) == 6 and c.startswith("GM") and c[2:].isdigit())]
        if bad or row["kind"] not in KINDS or not row["source"].strip():
            raise ValueError(f"{path.name} line {i}: bad codes {bad}, kind {row['kind']!r} or no source")
        out.append({
            **row,
            "effective_date": dt.date.fromisoformat(row["effective_date"]),
            "old_codes": _codes(row["old_codes"]),
            "partial_codes": _codes(row["partial_codes"]),
            "synthetic": row["synthetic"].strip().lower() == "true",
        })
    return out


def code_rows(rows: list[dict] | None = None) -> pl.DataFrame:
    """One row per (change, old code): the code, where it went, whether whole, and whether the whole change
    consists of whole gemeenten (``complete``: only then does today's gemeente get a series on its territory)."""
    rows = read() if rows is None else rows
    records = []
    for n, row in enumerate(rows):
        complete = not row["partial_codes"]
        for code, whole in [(c, True) for c in row["old_codes"]] + [(c, False) for c in row["partial_codes"]]:
            records.append({
                "change_id": n, "effective_date": row["effective_date"],
                "first_year": first_kwb_year(row["effective_date"]), "old_code": code,
                "new_code": row["new_code"], "new_name": row["new_name"], "kind": row["kind"], "whole": whole,
                "complete": complete, "synthetic": row["synthetic"], "source": row["source"],
            })
    schema = {"change_id": pl.Int64, "effective_date": pl.Date, "first_year": pl.Int64, "old_code": pl.Utf8,
              "new_code": pl.Utf8, "new_name": pl.Utf8, "kind": pl.Utf8, "whole": pl.Boolean,
              "complete": pl.Boolean, "synthetic": pl.Boolean, "source": pl.Utf8}
    return pl.DataFrame(records, schema=schema)
