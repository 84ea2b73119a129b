"""Reading a municipal data file into sheets of cells: CSV with encoding and delimiter detection, XLSX.

Nothing here judges the figures (``bwm.municipal.validate`` does); it reports what keeps a file from being
read at all, or read whole: an empty file, an encoding other than UTF-8 / UTF-8 with BOM / cp1252 (what Excel
writes as "CSV (gescheiden door lijstscheidingsteken)" on a Dutch Windows), a delimiter that is not ',' or ';'
(or tab), rows with another number of fields than the header, a quote that runs a field on over the next lines
(rows would be lost without a word), fields beyond the size limit; in a workbook formulas, hidden sheets, rows
and columns, text in the colour of its fill, and a used range beyond the limits (``bwm.municipal.limits``).

A workbook is read over its real cells (openpyxl's read-only mode, the sheet's XML streamed cell by cell), never
over the range its ``<dimension>`` claims: one cell at XFD1048576 is one cell, and a sheet beyond the limits
stops with a finding before it takes the memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from bwm.municipal.findings import Finding, shown
from bwm.municipal.limits import (
    MAX_FIELD_CHARS,
    XLSX_MAX_CELLS,
    XLSX_MAX_COLUMNS,
    XLSX_UNPACKED_FACTOR,
    Limits,
    megabytes,
    number,
)

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


def exception_text(exc: BaseException, limit: int = 200) -> str:
    """``BadZipFile: File is not a zip file``, cut to ``limit`` characters."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- CSV -------------------------------------------------------------------------------------------------------


def read_csv(file: str, data: bytes, max_field: int = MAX_FIELD_CHARS) -> tuple[Sheet | None, list[Finding]]:
    """Decode and split a CSV; returns the sheet, or None and the findings that stopped it.

    Every row must be on a line of its own: the rows read (blank ones included) must be as many as the file's
    lines. A quote that opens a field and is not closed on that line makes Python's csv module read the lines
    after it into that field; such a row is a finding (naming the row where the quoting breaks) and is not
    passed on to the checks of the figures.
    """

    def stop(check, expected, found, row=None, column=None) -> tuple[None, list[Finding]]:
        return None, [Finding(file, None, row, column, check, expected, found)]

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
    del data
    first, header_line = None, ""
    for number_, line in enumerate(io.StringIO(text, newline=""), 1):
        if line.strip():
            first, header_line = number_, line.rstrip("\r\n")
            break
    if first is None:
        return stop("empty_file", "a header row and at least one data row", "only blank lines")
    long = _long_field(header_line, DELIMITERS, max_field)
    if long is not None:
        return stop("size_limit", f"a header whose names have at most {number(max_field)} characters",
                    f"a field of {number(long[1])} characters", row=first, column=f"field {long[0] + 1}")
    counts = {d: len(next(csv.reader([header_line], delimiter=d))) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    if counts[delimiter] < 2:
        other = sorted({c for c in header_line if c in "|:^~ "} - {" "})
        hint = f"; it looks separated by {other[0]!r}" if other else ""
        return stop("delimiter", "columns separated by ',' or ';' (or tab)",
                    f"a single column {shown(header_line)}{hint}", row=first)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    findings: list[Finding] = []
    header: list[str] | None = None
    rows: list[tuple[int, list]] = []
    run_ons: list[tuple[int, int, list[str] | None]] = []  # (first line, last line, cells) of rows over lines
    records = 0  # rows read, blank ones included: one per line when the quoting is sound
    data_rows = 0  # rows read below the header, blank ones not included
    previous = 0  # the last line read
    n_fields = 0
    same = {}.setdefault  # one string object per distinct cell text: a year or an id repeats on most rows
    try:
        for cells in reader:
            start, end = previous + 1, reader.line_num
            previous = end
            records += 1
            joined = "".join(cells)
            if not joined.strip():
                continue
            if header is not None:
                data_rows += 1
            if end > start:  # a quote ran this row on over the lines after it: reported below, not judged
                run_ons.append((start, end, cells))
                if header is None:
                    header = [c.strip() for c in cells]
                    n_fields = len(header)
                continue
            if len(joined) > max_field:
                too_long = next((i for i, c in enumerate(cells) if len(c) > max_field), None)
                if too_long is not None:
                    findings.append(Finding(file, None, end, _field_name(header, too_long), "size_limit",
                                            f"a field of at most {number(max_field)} characters",
                                            f"{number(len(cells[too_long]))} characters"))
                    if header is None:
                        return None, findings
                    continue
            if header is None:
                header = [c.strip() for c in cells]
                n_fields = len(header)
                continue
            if len(cells) != n_fields:
                hint = ""
                if delimiter == "," and len(cells) > n_fields:
                    hint = " (a decimal comma in a comma-separated file? use ';' as delimiter, or decimal points)"
                findings.append(Finding(file, None, end, None, "delimiter",
                                        f"{n_fields} fields separated by {_DELIMITER_NAMES[delimiter]}, "
                                        "as in the header",
                                        f"{len(cells)} fields{hint}"))
                continue
            rows.append((end, [same(c, c) or None for c in map(str.strip, cells)]))
    except csv.Error as exc:
        start = previous + 1
        if header is not None:
            data_rows += 1
        if reader.line_num > start:  # a field run on over the lines after it, until csv's own limit stopped it
            run_ons.append((start, reader.line_num, None))
        elif "field larger than field limit" in str(exc):
            long = _long_field(_line(text, start), (delimiter,), max_field)
            findings.append(Finding(file, None, start, _field_name(header, long[0]) if long else None, "size_limit",
                                    f"a field of at most {number(max_field)} characters",
                                    f"{number(long[1])} characters" if long else str(exc)))
        else:
            findings.append(Finding(file, None, start, None, "quoting", "a row that Python's csv module can read",
                                    str(exc)))
        _report_run_ons(findings, file, header, delimiter, text, run_ons, data_rows)
        return None, findings
    if run_ons:
        _report_run_ons(findings, file, header, delimiter, text, run_ons, data_rows)
    elif records != _count_lines(text):  # cannot happen when no row runs over lines; a guard, not a check
        findings.append(Finding(file, None, None, None, "quoting",
                                f"as many rows as lines in the file ({number(_count_lines(text))})",
                                f"{number(records)} rows read"))
    if not rows and not findings:
        return stop("empty_file", "at least one data row below the header", "a header but no data rows")
    sheet = Sheet(file, None, header or [], rows, delimiter, f"{how}, delimiter {_DELIMITER_NAMES[delimiter]}")
    return sheet, findings


def _report_run_ons(findings, file, header, delimiter, text, run_ons, data_rows) -> None:
    """A finding per row that a quote ran on over the lines after it; the first says how many rows were read."""
    if not run_ons:
        return
    lines = _count_lines(text)
    data_lines = max(sum(1 for line in io.StringIO(text, newline="") if line.strip()) - 1, 0)
    for i, (start, end, cells) in enumerate(run_ons):
        findings.append(_run_on(file, header, delimiter, text, start, end, lines,
                                None if i else (data_rows, data_lines), cells))


def _field_name(header: list[str] | None, index: int) -> str:
    if header and index < len(header) and header[index]:
        return header[index]
    return f"field {index + 1}"


def _run_on(file, header, delimiter, text, start, end, lines, counts, cells=None) -> Finding:
    """The finding for a row that a quote ran on from line ``start`` to line ``end``."""
    index = None
    if cells is not None:
        index = next((i for i, c in enumerate(cells) if "\n" in c or "\r" in c), None)
    if index is None:
        index = _open_quote(_line(text, start), delimiter)
    column = _field_name(header, index) if index is not None and start > 1 else None
    span = f"lines {start} to {end}" + (" (the end of the file)" if end >= lines else "")
    found = f"a quote that is not closed on that line, so {span} are read as one row"
    if counts is not None:
        read, data_lines = counts
        found += f": {number(read)} data row{'s' if read != 1 else ''} read from {number(data_lines)} lines of data"
    return Finding(file, None, start, column, "quoting",
                   "each row on its own line (a quote \" that opens a field closes it on the same line)", found)


def _line(text: str, wanted: int) -> str:
    """Line ``wanted`` (1 = the first) of ``text``, without its line break; '' past the end."""
    for i, line in enumerate(io.StringIO(text, newline=""), 1):
        if i == wanted:
            return line.rstrip("\r\n")
    return ""


def _count_lines(text: str) -> int:
    """Lines as csv and io count them: ended by \\r\\n, \\r or \\n (a last line without a break counts too)."""
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks + (1 if text and text[-1] not in "\r\n" else 0)


def _open_quote(line: str, delimiter: str) -> int | None:
    """The index of the field whose quote is still open at the end of ``line``, or None."""
    index, quoted, at_start = 0, False, True
    i = 0
    while i < len(line):
        c = line[i]
        if quoted:
            if c == '"':
                if i + 1 < len(line) and line[i + 1] == '"':
                    i += 1
                else:
                    quoted = False
        elif c == delimiter:
            index, at_start = index + 1, True
            i += 1
            continue
        elif c == '"' and at_start:
            quoted = True
        at_start = False
        i += 1
    return index if quoted else None


def _long_field(line: str, delimiters, limit: int) -> tuple[int, int] | None:
    """(index, length) of the first field longer than ``limit``, split on the delimiter that gives most fields."""
    if len(line) <= limit:
        return None
    parts = max((line.split(d) for d in delimiters), key=len)
    return next(((i, len(p)) for i, p in enumerate(parts) if len(p) > limit), None)


def _decode(data: bytes) -> tuple[str | None, str]:
    """Text and how it was decoded; or None and what was found instead."""
    if data[:3] == b"\xef\xbb\xbf":
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            return None, (f"a UTF-8 byte order mark, but byte 0x{data[3 + exc.start]:02X} at offset {3 + exc.start} "
                          "is not UTF-8")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252 (Windows-1252)"
    except UnicodeDecodeError as exc:
        return None, f"byte 0x{data[exc.start]:02X} at offset {exc.start}, which is neither UTF-8 nor cp1252"


# --- XLSX ------------------------------------------------------------------------------------------------------


#: The start of what a finding expects when a limit stopped the reading of a workbook (the rest is unread).
WORKBOOK_LIMITS = ("a used range of at most", "a workbook that unpacks to at most")


def workbook_unread(findings: list[Finding]) -> bool:
    """Whether a workbook could not be opened, or a limit stopped its reading (its declaration is not looked for)."""
    return any(f.check == "unsupported_file" or (f.check == "size_limit" and f.expected.startswith(WORKBOOK_LIMITS))
               for f in findings)


def read_xlsx(file: str, data: bytes, limits: Limits | None = None) -> tuple[list[Sheet], list[Finding]]:
    """Every visible sheet of a workbook as a Sheet (the ``indicatoren`` sheet included; the caller splits).

    Hidden sheets, hidden rows and columns with values, text in the colour of its fill and formulas are
    findings: a hidden sheet, row or column, or a white figure on a white cell, holds figures nobody reviews
    before they are published, and a formula's result is whatever Excel last computed (or nothing, for a file
    written by a script), so values must be pasted as values.
    """
    import openpyxl

    limits = limits or Limits()

    def unopenable(exc: BaseException) -> tuple[list[Sheet], list[Finding]]:
        return [], [Finding(file, None, None, None, "unsupported_file", "an Excel workbook (.xlsx)",
                            f"a file that cannot be opened as XLSX: {exception_text(exc)}")]

    if not data:
        return [], [Finding(file, None, None, None, "empty_file", "an Excel workbook with a data sheet",
                            "an empty file (0 bytes)")]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # noqa: BLE001 - a broken zip raises many kinds; all mean the same
        return unopenable(exc)
    if unpacked > limits.max_unpacked_bytes:
        return [], [Finding(file, None, None, None, "size_limit",
                            f"a workbook that unpacks to at most {megabytes(limits.max_unpacked_bytes)} "
                            f"({XLSX_UNPACKED_FACTOR} times BWM_MUNICIPAL_MAX_MB)",
                            f"{megabytes(unpacked)} unpacked")]
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file; all mean the same
        return unopenable(exc)
    try:
        return _read_workbook(file, wb)
    except Exception as exc:  # noqa: BLE001 - a sheet's XML that openpyxl opened but cannot parse
        return unopenable(exc)
    finally:
        wb.close()


def _read_workbook(file: str, wb) -> tuple[list[Sheet], list[Finding]]:
    findings: list[Finding] = []
    sheets: list[Sheet] = []
    budget = [XLSX_MAX_CELLS]
    styles = _Styles(wb)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            findings.append(Finding(file, ws.title, None, None, "hidden_sheet",
                                    "only visible sheets (a hidden sheet holds figures nobody reviews)",
                                    f"a {ws.sheet_state} sheet; unhide it or delete it"))
            continue
        if ws.title.strip().lower() in NOTES_SHEETS:
            continue
        sheet, found, stopped = _read_sheet(file, wb, ws, styles, budget)
        findings += found
        if stopped:
            break
        if sheet is not None:
            sheets.append(sheet)
    if not wb.worksheets:
        findings.append(Finding(file, None, None, None, "empty_file", "a data sheet", "no sheets"))
    return sheets, findings


def _read_sheet(file, wb, ws, styles: _Styles, budget: list[int]) -> tuple[Sheet | None, list[Finding], bool]:
    """One sheet streamed cell by cell: (the sheet or None, findings, whether a limit stopped the reading)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import CELL_TAG, COL_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    title = ws.title
    findings: list[Finding] = []
    parser = WorkSheetParser(None, ws._shared_strings, data_only=False, epoch=wb.epoch,
                             date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
    hidden_columns: list[tuple[int, int]] = []
    reported_rows: set[int] = set()
    reported_columns: set[int] = set()
    header: list[str] = []
    rows: list[tuple[int, list]] = []
    row_cells: dict[int, object] = {}
    row_number = 0
    row_hidden = False
    last_row = last_column = 0
    stack: list = []
    in_cell = 0

    def column_name(row: int, column: int) -> str:
        if row > 1 and column - 1 < len(header) and header[column - 1]:
            return header[column - 1]
        return get_column_letter(column)

    def beyond(row: int, column: int, coordinate: str, what: str) -> tuple[None, list[Finding], bool]:
        findings.append(Finding(file, title, row, get_column_letter(column), "size_limit",
                                f"a used range of at most {number(XLSX_MAX_COLUMNS)} columns (A to "
                                f"{get_column_letter(XLSX_MAX_COLUMNS)}) and {number(XLSX_MAX_CELLS)} cells in the "
                                "workbook", f"a value in cell {coordinate}{what}"))
        return None, findings, True

    with ws._get_source() as source:
        for event, el in iterparse(source, events=("start", "end")):
            tag = el.tag
            if event == "start":
                stack.append(el)
                if tag == CELL_TAG:
                    in_cell += 1
                elif tag == ROW_TAG:
                    r = el.get("r")
                    parser.row_counter = int(float(r)) if r else parser.row_counter + 1
                    parser.col_counter = 0
                    row_number = parser.row_counter
                    row_hidden = _true(el.get("hidden")) or _zero(el.get("ht"))
                    row_cells = {}
                continue
            stack.pop()
            if tag == CELL_TAG:
                in_cell -= 1
                try:
                    cell = parser.parse_cell(el)
                except Exception as exc:  # noqa: BLE001 - e.g. an integer of more than 4300 digits
                    coordinate = el.get("r") or f"row {row_number}"
                    numeric = el.get("t", "n") == "n"
                    findings.append(Finding(file, title, row_number, None,
                                            "implausible_number" if numeric else "unsupported_file",
                                            "a number of a plausible size" if numeric else "a cell value Excel writes",
                                            f"a value in cell {coordinate} that cannot be read "
                                            f"({exception_text(exc)})"))
                    _drop(stack, el)
                    continue
                _drop(stack, el)
                value, column, row = cell["value"], cell["column"], cell["row"]
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                coordinate = f"{get_column_letter(column) if column <= 18278 else column}{row}"
                if column > XLSX_MAX_COLUMNS:
                    return beyond(row, column, coordinate, f" (column {number(column)})")
                grow = max(row, last_row) * max(column, last_column) - last_row * last_column
                if grow > budget[0]:
                    used = XLSX_MAX_CELLS - budget[0] + grow
                    return beyond(row, column, coordinate, f", which makes the used ranges {number(used)} cells")
                budget[0] -= grow
                last_row, last_column = max(row, last_row), max(column, last_column)
                if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                    findings.append(Finding(file, title, row, column_name(row, column), "size_limit",
                                            f"a cell of at most {number(MAX_FIELD_CHARS)} characters",
                                            f"{number(len(value))} characters in cell {coordinate}"))
                    continue
                if row_hidden and row not in reported_rows:
                    reported_rows.add(row)
                    findings.append(Finding(file, title, row, None, "hidden_cells",
                                            "only visible rows and columns (a hidden row or column holds figures "
                                            "nobody reviews)",
                                            f"row {row} hidden, with a value in cell {coordinate}; unhide it or "
                                            "delete it"))
                if column not in reported_columns and any(lo <= column <= hi for lo, hi in hidden_columns):
                    reported_columns.add(column)
                    findings.append(Finding(file, title, row, column_name(row, column), "hidden_cells",
                                            "only visible rows and columns (a hidden row or column holds figures "
                                            "nobody reviews)",
                                            f"column {get_column_letter(column)} hidden, with a value in cell "
                                            f"{coordinate}; unhide it or delete it"))
                invisible = styles.invisible(cell["style_id"])
                if invisible:
                    findings.append(Finding(file, title, row, column_name(row, column), "invisible_text",
                                            "text that can be read (a font colour other than the cell's fill, and a "
                                            "number format that shows the value)",
                                            f"{invisible} in {coordinate} (value {shown(_text(value))})"))
                if cell["data_type"] == "f":
                    text = getattr(value, "text", value)
                    findings.append(Finding(file, title, row, column_name(row, column), "formula",
                                            "a value (copy the column and paste it as values)",
                                            f"the formula {shown(str(text))} in cell {coordinate}"))
                    row_cells[column] = None  # a formula is reported once, not judged as a value as well
                else:
                    row_cells[column] = _cell(value)
            elif in_cell:
                continue  # the value, formula or text of a cell: read when the cell ends
            elif tag == ROW_TAG:
                _drop(stack, el)
                if row_cells:
                    values = [None] * max(row_cells)
                    for column, value in row_cells.items():
                        values[column - 1] = value
                    if row_number == 1:
                        header = [str(v).strip() if v is not None else "" for v in values]
                    elif any(v is not None for v in values):
                        rows.append((row_number, values))
                row_cells = {}
            elif tag == COL_TAG:
                lo, hi = int(el.get("min", 0) or 0), int(el.get("max", 0) or 0)
                if _true(el.get("hidden")) or _zero(el.get("width")):
                    hidden_columns.append((lo, hi))
                _drop(stack, el)
            else:
                _drop(stack, el)
    if not any(header) or not rows:
        findings.append(Finding(file, title, None, None, "empty_file",
                                "a header in row 1 and at least one data row below it",
                                "an empty sheet" if not any(header) else "a header but no data rows"))
        return None, findings, False
    return Sheet(file, title, header, rows, None, "XLSX"), findings, False


def _drop(stack: list, el) -> None:
    """Forget an element that was read (and its children): the sheet's XML is never held whole."""
    el.clear()
    if stack:
        try:
            stack[-1].remove(el)
        except ValueError:
            pass


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true")


def _zero(value: str | None) -> bool:
    try:
        return value is not None and float(value) == 0
    except ValueError:
        return False


def _text(value):
    return getattr(value, "text", value)


class _Styles:
    """Per style of a workbook, whether it hides its text: a font in the colour of its fill, white text on no fill,
    or a number format that shows nothing (';;;')."""

    def __init__(self, wb):
        self.wb = wb
        self.cache: dict[int, str | None] = {}

    def invisible(self, style_id) -> str | None:
        style_id = style_id or 0
        if style_id not in self.cache:
            try:
                self.cache[style_id] = self._judge(style_id)
            except (IndexError, AttributeError, TypeError, KeyError):
                self.cache[style_id] = None
        return self.cache[style_id]

    def _judge(self, style_id: int) -> str | None:
        from openpyxl.styles.fills import PatternFill
        from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

        wb = self.wb
        style = wb._cell_styles[style_id]
        fmt_id = style.numFmtId
        fmt = (BUILTIN_FORMATS.get(fmt_id, "General") if fmt_id < BUILTIN_FORMATS_MAX_SIZE
               else wb._number_formats[fmt_id - BUILTIN_FORMATS_MAX_SIZE])
        if fmt and ";" in fmt and not re.sub(r"\[[^\]]*\]|;", "", fmt).strip():
            return f"the number format {fmt!r}, which shows nothing"
        font = wb._fonts[style.fontId]
        fill = wb._fills[style.fillId]
        text = _colour(getattr(font, "color", None)) or "000000"  # automatic: black
        if isinstance(fill, PatternFill):
            if fill.patternType in (None, "none"):
                background = "FFFFFF"  # no fill: the sheet's white
            elif fill.patternType == "solid":
                background = _colour(fill.fgColor)
            else:
                return None  # a pattern of two colours: not judged
        else:
            return None  # a gradient: not judged
        if background is None or text != background:
            return None
        if text == "FFFFFF":
            return "white text on a white cell" if fill.patternType in (None, "none") else "white text on a white fill"
        return f"text in the colour of its fill ({_colour_name(text)})"


def _colour(color) -> str | tuple | None:
    """A colour as 'RRGGBB', or a theme colour with a tint as a tuple; None for automatic."""
    from openpyxl.styles.colors import COLOR_INDEX

    if color is None:
        return None
    kind = getattr(color, "type", None)
    if kind == "rgb":
        rgb = color.rgb
        return rgb[-6:].upper() if isinstance(rgb, str) and len(rgb) >= 6 else None
    if kind == "indexed":
        index = color.indexed
        if index is not None and 0 <= index < len(COLOR_INDEX):
            return COLOR_INDEX[index][-6:].upper()
        return {64: "000000", 65: "FFFFFF"}.get(index)  # the system's text and background colours
    if kind == "theme":
        tint = round(color.tint or 0.0, 4)
        if tint == 0 and color.theme in (0, 1):
            return "FFFFFF" if color.theme == 0 else "000000"  # 'Background 1' and 'Text 1'
        return ("theme", color.theme, tint)
    return None


def _colour_name(colour) -> str:
    if isinstance(colour, tuple):
        return f"theme colour {colour[1]}" + (f", tint {colour[2]}" if colour[2] else "")
    return {"FFFFFF": "white", "000000": "black"}.get(colour, f"#{colour}")


def _cell(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
