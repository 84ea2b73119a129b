"""Reading a municipal data file into sheets of cells: CSV with encoding and delimiter detection, XLSX.

Nothing here judges the figures (``bwm.municipal.validate`` does); it reports what keeps a file from being
read at all: an empty file, an encoding other than UTF-8 / UTF-8 with BOM / cp1252 (what Excel writes as
"CSV (gescheiden door lijstscheidingsteken)" on a Dutch Windows), a delimiter that is not ',' or ';' (or
tab), rows with another number of fields than the header, formulas and hidden sheets in a workbook.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from bwm.municipal.findings import Finding, shown

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}
NOTES_SHEETS = ("toelichting", "notes")  # free-text sheets in a workbook, not read as data


@dataclass
class Sheet:
    """The cells of one table: a header and the data rows, each with its row number as a spreadsheet shows it."""

    file: str
    sheet: str | None
    header: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)
    #: CSV only: the delimiter; a decimal comma is accepted when it is not ','.
    delimiter: str | None = None
    #: How it was read, for the report ("UTF-8 with BOM, delimiter ';'").
    how: str = ""


def read_csv(file: str, data: bytes) -> tuple[Sheet | None, list[Finding]]:
    """Decode and split a CSV; returns the sheet, or None and the findings that stopped it."""

    def stop(check, expected, found, row=None) -> tuple[None, list[Finding]]:
        return None, [Finding(file, None, row, None, check, expected, found)]

    if not data:
        return stop("empty_file", "a header row and at least one data row", "an empty file (0 bytes)")
    if data[:4] == b"PK\x03\x04":
        return stop("encoding", "a text file (CSV)",
                    "a zip archive: probably an Excel workbook with the extension .csv; save it as .xlsx or as CSV")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return stop("encoding", "UTF-8 (with or without BOM) or cp1252 text",
                    f"UTF-16 (byte order mark {data[:2].hex(' ').upper()}, Excel's 'Unicode text'); "
                    "save as 'CSV UTF-8' instead")
    if b"\x00" in data[:4096]:
        return stop("encoding", "UTF-8 (with or without BOM) or cp1252 text",
                    "NUL bytes: UTF-16 or a binary file")
    text, how = _decode(data)
    if text is None:
        return stop("encoding", "UTF-8 (with or without BOM) or cp1252 text", how)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return stop("empty_file", "a header row and at least one data row", "only blank lines")
    header_line = lines[first]
    counts = {d: len(next(csv.reader([header_line], delimiter=d))) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    if counts[delimiter] < 2:
        other = sorted({c for c in header_line if c in "|:^~ "} - {" "})
        hint = f"; it looks separated by {other[0]!r}" if other else ""
        return stop("delimiter", "columns separated by ',' or ';' (or tab)",
                    f"a single column {shown(header_line)}{hint}", row=first + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    findings: list[Finding] = []
    header: list[str] | None = None
    rows: list[tuple[int, list]] = []
    for row_number, cells in enumerate(reader, 1):
        # csv counts physical lines; a quoted field with a line break spans two, which is fine.
        row_number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(cells) != len(header):
            hint = ""
            if delimiter == "," and len(cells) > len(header):
                hint = " (a decimal comma in a comma-separated file? use ';' as delimiter, or decimal points)"
            findings.append(Finding(file, None, row_number, None, "delimiter",
                                    f"{len(header)} fields separated by {_DELIMITER_NAMES[delimiter]}, as in the header",
                                    f"{len(cells)} fields{hint}"))
            continue
        rows.append((row_number, [c.strip() or None for c in cells]))
    if not rows and not findings:
        return stop("empty_file", "at least one data row below the header", "a header but no data rows")
    sheet = Sheet(file, None, header or [], rows, delimiter, f"{how}, delimiter {_DELIMITER_NAMES[delimiter]}")
    return sheet, findings


def _decode(data: bytes) -> tuple[str | None, str]:
    """Text and how it was decoded; or None and what was found instead."""
    if data[:3] == b"\xef\xbb\xbf":
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            return None, f"a UTF-8 byte order mark, but byte 0x{data[3 + exc.start]:02X} at offset {3 + exc.start} is not UTF-8"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252 (Windows-1252)"
    except UnicodeDecodeError as exc:
        return None, f"byte 0x{data[exc.start]:02X} at offset {exc.start}, which is neither UTF-8 nor cp1252"


def read_xlsx(file: str, data: bytes) -> tuple[list[Sheet], list[Finding]]:
    """Every visible sheet of a workbook as a Sheet (the ``indicatoren`` sheet included; the caller splits).

    Hidden sheets and formulas are findings: a hidden sheet holds figures nobody reviews before they are
    published, and a formula's result is whatever Excel last computed (or nothing, for a file written by
    a script), so values must be pasted as values.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    if not data:
        return [], [Finding(file, None, None, None, "empty_file", "an Excel workbook with a data sheet",
                            "an empty file (0 bytes)")]
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file; all mean the same
        return [], [Finding(file, None, None, None, "unsupported_file", "an Excel workbook (.xlsx)",
                            f"a file that cannot be opened as one ({type(exc).__name__}: {exc})")]
    findings: list[Finding] = []
    sheets: list[Sheet] = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            findings.append(Finding(file, ws.title, None, None, "hidden_sheet",
                                    "only visible sheets (a hidden sheet holds figures nobody reviews)",
                                    f"a {ws.sheet_state} sheet; unhide it or delete it"))
            continue
        if ws.title.strip().lower() in NOTES_SHEETS:
            continue
        grid = [list(r) for r in ws.iter_rows()]
        header_cells = grid[0] if grid else []
        header = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
        rows = []
        for cells in grid:
            for c in cells:
                if c.data_type == "f":
                    text = getattr(c.value, "text", c.value)
                    column = header[c.column - 1] if c.column - 1 < len(header) and c.row > 1 else get_column_letter(c.column)
                    findings.append(Finding(file, ws.title, c.row, column or get_column_letter(c.column), "formula",
                                            "a value (copy the column and paste it as values)",
                                            f"the formula {shown(str(text))} in cell {c.coordinate}"))
        for cells in grid[1:]:
            # A formula is reported once, as a formula; its text is not judged as a value as well.
            values = [None if c.data_type == "f" else _cell(c.value) for c in cells]
            if any(v is not None for v in values):
                rows.append((cells[0].row, values))
        if not any(header) or not rows:
            findings.append(Finding(file, ws.title, None, None, "empty_file",
                                    "a header in row 1 and at least one data row below it",
                                    "an empty sheet" if not any(header) else "a header but no data rows"))
            continue
        sheets.append(Sheet(file, ws.title, header, rows, None, "XLSX"))
    if not wb.worksheets:
        findings.append(Finding(file, None, None, None, "empty_file", "a data sheet", "no sheets"))
    return sheets, findings


def _cell(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
