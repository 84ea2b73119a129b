"""Writing an export's tables: CSV, Parquet and XLSX, deterministic, with formula injection neutralised.

* CSV: UTF-8 with BOM (so Excel reads the accents), CRLF line ends, ',' between columns and a decimal point;
  or ';' with a decimal comma, which is what Excel with Dutch regional settings opens directly.
* Parquet: typed columns (data_wide has numbers only, missing is null; the long table carries the reasons).
* XLSX: one sheet per table; data_wide shows the marker of a missing figure in its cell.

Text cells that start with '=', '+', '-' or '@' (and tab or carriage return) would run as a formula when a
spreadsheet opens the file, so CSV and XLSX get a leading apostrophe there (OWASP's advice). Parquet is
typed data that no spreadsheet opens directly; it keeps the text as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import polars as pl

from bwm.export import xlsx
from bwm.export.tables import TABLE_NAMES, ExportError, ExportTables

FORMATS = ("csv", "parquet", "xlsx")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576


def neutralise(text: str) -> str:
    """``'=1+1'`` -> ``"'=1+1"``: a spreadsheet shows the text instead of running it."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _number(value: float, decimal_comma: bool) -> str:
    if value != value:  # NaN never comes from the warehouse, but must not become 'nan'
        return ""
    text = str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    return text.replace(".", ",") if decimal_comma else text


def _csv_cell(value, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value, decimal_comma)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return neutralise(str(value))


def csv_bytes(frame: pl.DataFrame, delimiter: str = ",", markers: pl.DataFrame | None = None) -> bytes:
    """The frame as CSV bytes (UTF-8 with BOM); ``markers`` fills the frame's null cells (data_wide).

    Every distinct value of a column is formatted once in Python (``_csv_cell``, quoted as ``csv.writer`` quotes),
    and the lines are put together by polars: the same bytes as writing cell by cell, many times faster on the
    tens of thousands of rows of an export.
    """
    if delimiter not in (",", ";"):
        raise ExportError(f"CSV delimiter must be ',' or ';', not {delimiter!r}")
    decimal_comma = delimiter == ";"
    quote = _csv_quoter(delimiter)
    header = delimiter.join(quote(neutralise(c)) for c in frame.columns) + "\r\n"
    if frame.height == 0:
        return header.encode("utf-8-sig")
    fields = []
    for i, name in enumerate(frame.columns):
        field = _per_value(frame.get_column(name), lambda v: quote(_csv_cell(v, decimal_comma)))
        if markers is not None and frame.get_column(name).null_count():
            mark = _per_value(markers.to_series(i), lambda m: quote(neutralise(m)) if m is not None else None)
            field = pl.when(pl.col(name).is_null() & mark.is_not_null()).then(mark).otherwise(field)
        fields.append(field)
    lines = frame.select(pl.concat_str(fields, separator=delimiter).alias("line"))
    body = "\r\n".join(lines.get_column("line").to_list())
    return (header + body + "\r\n").encode("utf-8-sig")


def _per_value(column: pl.Series, fmt) -> pl.Expr:
    """``fmt`` applied to every value of ``column``, computed once per distinct value, as an expression of the
    column's rows (a literal series of the same length); a null value gives ``fmt(None)``."""
    distinct = column.drop_nulls().unique(maintain_order=True)
    texts = [fmt(v) for v in distinct.to_list()]
    mapped = column.replace_strict(distinct, pl.Series(texts, dtype=pl.String), default=None,
                                   return_dtype=pl.String) if distinct.len() else \
        pl.Series(column.name, [None] * column.len(), dtype=pl.String)
    null_text = fmt(None)
    if null_text is not None and column.null_count():
        mapped = mapped.set(column.is_null(), null_text)
    return pl.lit(mapped)


def _csv_quoter(delimiter: str):
    """The text of one field as ``csv.writer`` (QUOTE_MINIMAL, CRLF) writes it in a row of several fields."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

    def quote(text: str) -> str:
        if text == "":
            return ""
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([text])
        return buffer.getvalue()[:-2]

    return quote


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def xlsx_bytes(tables: ExportTables) -> bytes:
    """The export as one workbook: a sheet per table; data_wide shows the marker of a missing figure in its cell."""
    sheets = []
    for name, frame in tables.named().items():
        if frame.height + 1 > XLSX_MAX_ROWS:
            raise ExportError(f"table {name} has {frame.height:,} rows, more than an Excel sheet holds "
                              f"({XLSX_MAX_ROWS - 1:,}); narrow the selection or export CSV or Parquet")
        widths = [10 if c in NARROW else 40 if c in WIDE else 20 for c in frame.columns]
        tails = []
        for i, column in enumerate(frame.columns):
            tail = _per_value(frame.get_column(column), lambda v: xlsx._cell_tail(_xlsx_cell(v)))
            if name == "data_wide" and frame.get_column(column).null_count():
                mark = _per_value(tables.wide_markers.to_series(i),
                                  lambda m: xlsx._cell_tail(_xlsx_cell(m)) if m is not None else None)
                tail = pl.when(frame.get_column(column).is_null() & mark.is_not_null()).then(mark).otherwise(tail)
            tails.append(tail)
        sheets.append((name, xlsx.sheet_xml_from_tails([neutralise(c) for c in frame.columns], tails, frame.height,
                                                        widths)))
    title = f"Brede Welvaart Monitor: {tables.selection.describe()}"
    return xlsx.write_sheets(sheets, tables.generated_at, title=title)


NARROW = ("year", "value", "marker", "unit", "numerator", "denominator", "area_level", "series_break")
WIDE = ("definition_nl", "nl", "en", "title")


def _xlsx_cell(value):
    if isinstance(value, str):
        return neutralise(value)
    return value


def paths(folder: Path, name: str, formats=FORMATS) -> list[Path]:
    """The files ``write`` writes into ``folder`` for ``name`` and ``formats``, sorted."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    folder = Path(folder)
    names = [f"{name}_{table}.{ext}" for table in TABLE_NAMES for ext in ("csv", "parquet") if ext in formats]
    return sorted(folder / n for n in names + ([f"{name}.xlsx"] if "xlsx" in formats else []))


def write(tables: ExportTables, folder: Path, name: str, formats=FORMATS, csv_delimiter: str = ",") -> list[Path]:
    """Write the export into ``folder`` as ``<name>_<table>.csv|parquet`` and ``<name>.xlsx``; returns the paths
    (``paths(folder, name, formats)``). Each file is written to a temporary name and renamed over the old one."""
    expected = paths(folder, name, formats)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[Path, bytes] = {}
    for table, frame in tables.named().items():
        if "csv" in formats:
            markers = tables.wide_markers if table == "data_wide" else None
            files[folder / f"{name}_{table}.csv"] = csv_bytes(frame, csv_delimiter, markers)
        if "parquet" in formats:
            files[folder / f"{name}_{table}.parquet"] = parquet_bytes(frame)
    if "xlsx" in formats:
        files[folder / f"{name}.xlsx"] = xlsx_bytes(tables)
    assert sorted(files) == expected, "paths() must name the files write() writes (incremental exports check them)"
    for path, data in files.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return expected
