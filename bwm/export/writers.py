"""Writing an export's tables: CSV, Parquet and XLSX, deterministic, with formula injection neutralised.

* CSV, in one of two dialects (``BWM_EXPORT_CSV_DIALECT``, ``CSV_DIALECTS``): ``excel-nl`` (the default) writes
  ';' between columns and a decimal comma, because Excel with Dutch regional settings splits a double-clicked
  CSV on the list separator of Windows' region (';' in the Netherlands, where ',' is the decimal mark) and reads
  numbers with a decimal comma; a ','-separated file lands in column A there. ``international`` writes ',' and a
  decimal point, for tools (and Excel in English). Both are UTF-8 with a BOM (without it Excel reads the file as
  Windows-1252 and 'Café' becomes 'CafÃ©') and CRLF line ends.
* Parquet: typed columns (data_wide has numbers only, missing is null; the long table carries the reasons).
* XLSX: one sheet per table with Dutch headers and units (``headers``), the identifying columns and the header
  frozen, an autofilter; data_wide shows numbers rounded as on the site (the cell holds the full value; the long
  sheet shows it in full) and a marker in every empty cell, explained under the definitions sheet's table.

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

from bwm.export import headers, xlsx
from bwm.export.tables import NO_FIGURE_MARKER, NO_FIGURE_NL, TABLE_NAMES, WIDE_SHAPE_NL, ExportError, ExportTables
from bwm.settings import CSV_DIALECTS
from bwm.site.format import UNIT_DECIMALS

FORMATS = ("csv", "parquet", "xlsx")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576


def dialect_delimiter(dialect: str) -> str:
    """The column separator of a CSV dialect (``CSV_DIALECTS``); the decimal mark follows from it."""
    if dialect not in CSV_DIALECTS:
        raise ExportError(f"unknown CSV dialect {dialect!r}; choose from {', '.join(CSV_DIALECTS)}")
    return CSV_DIALECTS[dialect][0]


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


def csv_bytes(frame: pl.DataFrame, delimiter: str = ";", markers: pl.DataFrame | None = None) -> bytes:
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
        column = frame.get_column(name)
        if column.dtype.is_float():
            field = _csv_numbers(column, decimal_comma)
        elif column.dtype.is_integer():
            field = pl.lit(column.cast(pl.String).fill_null(""))
        else:
            field = _per_value(column, lambda v: quote(_csv_cell(v, decimal_comma)))
        if markers is not None and frame.get_column(name).null_count():
            mark = _per_value(markers.to_series(i), lambda m: quote(neutralise(m)) if m is not None else None)
            field = pl.when(pl.col(name).is_null() & mark.is_not_null()).then(mark).otherwise(field)
        fields.append(field)
    lines = frame.select(pl.concat_str(fields, separator=delimiter).alias("line"))
    body = "\r\n".join(lines.get_column("line").to_list())
    return (header + body + "\r\n").encode("utf-8-sig")


def _csv_numbers(column: pl.Series, decimal_comma: bool) -> pl.Expr:
    """``_number`` of every value, vectorised: whole numbers below 1e15 without decimals, others in the shortest
    text that reads back as the same double (polars, as ``repr``); NaN, infinite and null as an empty field."""
    whole = (column == column.round(0)) & (column.abs() < 1e15)
    text = pl.select(pl.when(pl.lit(column).is_nan() | pl.lit(column).is_infinite()).then(pl.lit(""))
                     .when(pl.lit(whole)).then(pl.lit(column).cast(pl.Int64, strict=False).cast(pl.String))
                     .otherwise(pl.lit(column).cast(pl.String)).fill_null("").alias("t")).to_series()
    if decimal_comma:  # a number never holds a ';' or quote, so it needs no quoting in either dialect
        text = text.str.replace(".", ",", literal=True)
    return pl.lit(text)


def _xlsx_numbers(column: pl.Series, style: pl.Series | str = "") -> pl.Expr:
    """``xlsx._cell_tail`` of every value of a numeric column, vectorised; ``style`` is one ``' s="N"'`` or one per
    row. NaN, infinite and null give "" (no cell)."""
    finite = column.is_not_null() & (column.is_finite() if column.dtype.is_float() else True)
    style_expr = pl.lit(style) if isinstance(style, pl.Series) else pl.lit(style, pl.String)
    text = column.cast(pl.String)
    return pl.when(pl.lit(finite)).then(pl.concat_str([style_expr, pl.lit("><v>"), pl.lit(text), pl.lit("</v></c>")])) \
        .otherwise(pl.lit(""))


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
    """The export as one workbook: a sheet per table (``xlsx_sheet``), the definitions sheet with the legend of the
    wide sheet's markers under its table."""
    sheets, filters = [], {}
    for name, frame in tables.named().items():
        if frame.height + 1 > XLSX_MAX_ROWS:
            raise ExportError(f"table {name} has {frame.height:,} rows, more than an Excel sheet holds "
                              f"({XLSX_MAX_ROWS - 1:,}); narrow the selection or export CSV or Parquet")
        markers = tables.wide_markers if name == "data_wide" else None
        extra = _legend() if name == "definitions" else None
        sheets.append((name, xlsx_sheet(name, frame, markers, extra)))
        filters[name] = xlsx.filter_range(frame.width, frame.height)
    title = f"Brede Welvaart Monitor: {tables.selection.describe()}"
    return xlsx.write_sheets(sheets, tables.generated_at, title=title, filters=filters)


def _legend() -> list[list]:
    """The rows under the definitions sheet's table: how data_wide is laid out and what each marker in it means."""
    from bwm import disclosure

    rows: list[list] = [["Vorm van data_wide"], [WIDE_SHAPE_NL], ["Tekens in lege cellen van data_wide"],
                        ["Teken", "Betekenis"]]
    rows += [[mark, nl] for mark, nl, _en in disclosure.MISSING_REASONS.values()]
    rows.append([NO_FIGURE_MARKER, NO_FIGURE_NL])
    rows.append([disclosure.UNKNOWN_MARKER, "Ontbreekt om een reden die deze versie van de monitor niet kent."])
    return [[_xlsx_cell(v) for v in row] for row in rows]


def xlsx_sheet(name: str, frame: pl.DataFrame, markers: pl.DataFrame | None = None,
               extra_rows: list[list] | None = None) -> bytes:
    """One table as a sheet: Dutch headers, the identifying columns frozen, an autofilter; in data_wide the year
    columns and latest_value shown with the decimals of the row's unit as on the site, and ``markers`` in the empty
    cells. Every other number is shown in full (General)."""
    styles = None
    if name == "data_wide" and frame.height:
        decimals = frame.get_column("unit").replace_strict(UNIT_DECIMALS, default=1, return_dtype=pl.Int64)
        styles = decimals.clip(0, 4).replace_strict({d: f' s="{s}"' for d, s in xlsx.DECIMAL_STYLES.items()},
                                                    return_dtype=pl.String)
    tails = []
    for i, column in enumerate(frame.columns):
        series = frame.get_column(column)
        if series.dtype.is_float() or (series.dtype.is_integer()):
            rounded = styles is not None and (column.isdigit() or column == "latest_value")
            tail = _xlsx_numbers(series, styles if rounded else "")
        else:
            tail = _per_value(series, lambda v: xlsx._cell_tail(_xlsx_cell(v)))
        if markers is not None and series.null_count():
            mark = _per_value(markers.to_series(i),
                              lambda m: xlsx._cell_tail(_xlsx_cell(m)) if m is not None else None)
            tail = pl.when(pl.lit(series.is_null()) & mark.is_not_null()).then(mark).otherwise(tail)
        tails.append(tail)
    header = [neutralise(headers.header(name, c)) for c in frame.columns]
    widths = [headers.width(c) for c in frame.columns]
    return xlsx.sheet_xml_from_tails(header, tails, frame.height, widths, frozen=headers.FROZEN.get(name, 0),
                                     extra_rows=extra_rows)


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


def write(tables: ExportTables, folder: Path, name: str, formats=FORMATS, csv_delimiter: str = ";") -> list[Path]:
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
