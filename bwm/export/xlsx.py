"""Writing XLSX files that are the same bytes every time: fixed document dates and fixed zip entry times.

openpyxl stamps ``docProps/core.xml`` with the current time on every save and zips each part with the
current time, so two saves of the same workbook differ. Here the workbook is saved to memory, the core
properties get the given timestamp, and the parts are zipped again in the same order with a fixed time.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

#: The zip entry time of every part (the earliest a zip can hold); the real time lives in the workbook.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(created|modified)>)")


def workbook_bytes(wb, timestamp: dt.datetime) -> bytes:
    """The workbook as XLSX bytes, with ``timestamp`` as created and modified date and fixed zip times."""
    stamp = timestamp.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0) if timestamp.tzinfo else \
        timestamp.replace(microsecond=0)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "Brede Welvaart Monitor"
    wb.properties.lastModifiedBy = None
    raw = io.BytesIO()
    wb.save(raw)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(lambda m: m.group(1) + iso + m.group(3), data)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def save(wb, path: Path, timestamp: dt.datetime) -> None:
    """Write the workbook to ``path`` deterministically (see ``workbook_bytes``), atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(workbook_bytes(wb, timestamp))
    tmp.replace(path)


# --- a small, fast XLSX writer for exports ---------------------------------------------------------------
#
# openpyxl writes about 100 000 cells a second; an export of one municipality has a quarter of a million, and
# the national scale has 345 municipalities. Exports need little of the format (values, a bold header, a
# frozen first row, column widths), so they are written here as plain SpreadsheetML: inline strings (never
# formulas), numbers, booleans. Every part is generated from the data and the timestamp only.

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/styles.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
       '<Override PartName="/docProps/core.xml" '
       'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
       '<Override PartName="/docProps/app.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
       '{sheets}</Types>')
_ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'officeDocument" Target="xl/workbook.xml"/>'
              '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
              'core-properties" Target="docProps/core.xml"/>'
              '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'extended-properties" Target="docProps/app.xml"/></Relationships>')
#: Cell styles (index = the ``s`` attribute): 0 plain, 1 the bold header, then numbers with 0..4 decimals and a
#: thousands separator (Excel shows them with the reader's own separators: 1.234,5 in Dutch Excel).
_NUMBER_FORMATS = {164: "#,##0.0", 165: "#,##0.00", 166: "#,##0.000", 167: "#,##0.0000"}
DECIMAL_STYLES = {0: 2, 1: 3, 2: 4, 3: 5, 4: 6}
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f'<numFmts count="{len(_NUMBER_FORMATS)}">'
           + "".join(f'<numFmt numFmtId="{i}" formatCode="{f}"/>' for i, f in _NUMBER_FORMATS.items()) +
           '</numFmts>'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           + "".join(f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
                     for i in _NUMBER_FORMATS) +
           '</cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def _esc(text: str) -> str:
    text = _XML_ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _col(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _cell(ref: str, value, style: str = "") -> str:
    tail = _cell_tail(value, style)
    return f'<c r="{ref}"{tail}' if tail else ""


def _cell_tail(value, style: str = "") -> str:
    """A cell's XML after its reference (``<c r="A2"`` + this); "" for no cell (None, NaN, infinite)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f"{style}><v>{value}</v></c>"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return f"{style}><v>{repr(value)}</v></c>"
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    text = _esc(str(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _head(header: list[str], widths: list[float], frozen: int = 0) -> list[str]:
    """The sheet up to its first data row: the header row frozen, and the first ``frozen`` columns beside it."""
    cols = [_col(i) for i in range(len(header))]
    frozen = min(frozen, len(header))
    if frozen:
        pane = (f'<pane xSplit="{frozen}" ySplit="1" topLeftCell="{_col(frozen)}2" activePane="bottomRight" '
                'state="frozen"/><selection pane="bottomRight"/>')
    else:
        pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
             '<sheetFormatPr defaultRowHeight="15"/><cols>']
    parts += [f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths)]
    parts.append('</cols><sheetData><row r="1">')
    parts += [_cell(f"{c}1", h, ' s="1"') for c, h in zip(cols, header)]
    parts.append("</row>")
    return parts


def filter_range(n_columns: int, n_rows: int) -> str:
    """The autofilter's range: the header row and the table's rows (``A1:H121``)."""
    return f"A1:{_col(max(n_columns, 1) - 1)}{n_rows + 1}"


def _tail(n_columns: int, n_rows: int, autofilter: bool) -> str:
    return "</sheetData>" + (f'<autoFilter ref="{filter_range(n_columns, n_rows)}"/>' if autofilter else "") + \
        "</worksheet>"


def sheet_xml(header: list[str], rows, widths: list[float], frozen: int = 0, autofilter: bool = True) -> bytes:
    """One worksheet: a bold, frozen header row (and ``frozen`` columns), an autofilter, and the rows (lists of
    None/bool/int/float/str/date)."""
    cols = [_col(i) for i in range(len(header))]
    parts = _head(header, widths, frozen)
    n = 1
    for n, row in enumerate(rows, 2):
        parts.append(f'<row r="{n}">')
        parts += [_cell(f"{c}{n}", v) for c, v in zip(cols, row)]
        parts.append("</row>")
    parts.append(_tail(len(header), n - 1, autofilter))
    return "".join(parts).encode("utf-8")


def sheet_xml_from_tails(header: list[str], tails, n_rows: int, widths: list[float], frozen: int = 0,
                         autofilter: bool = True, extra_rows: list[list] | None = None) -> bytes:
    """``sheet_xml`` for rows given column-wise: ``tails`` holds per column a polars string expression of every row's
    ``_cell_tail`` ("" for no cell). The rows are put together by polars instead of cell by cell in Python.
    ``extra_rows`` (plain values) follow the table after one empty row, outside the autofilter: a legend."""
    import polars as pl

    parts = _head(header, widths, frozen)
    if n_rows:
        row = pl.int_range(2, n_rows + 2, eager=False).cast(pl.String)
        cells = [pl.when(tail == "").then(pl.lit("")).otherwise(pl.concat_str([pl.lit(f'<c r="{_col(i)}'), row,
                                                                              pl.lit('"'), tail]))
                 for i, tail in enumerate(tails)]
        lines = pl.select(pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")])
                          .alias("row")).get_column("row")
        parts += lines.to_list()
    for n, values in enumerate(extra_rows or [], n_rows + 3):
        parts.append(f'<row r="{n}">')
        bold = ' s="1"' if len(values) == 1 else ""  # a row of one cell is a title
        parts += [_cell(f"{_col(i)}{n}", v, bold) for i, v in enumerate(values)]
        parts.append("</row>")
    parts.append(_tail(len(header), n_rows, autofilter))
    return "".join(parts).encode("utf-8")


#: zlib level of the XLSX parts: 1 is ~4x faster than the default 6 on the exports' XML, for files ~20% larger.
COMPRESS_LEVEL = 1


def write_sheets(sheets: list[tuple[str, bytes]], timestamp: dt.datetime, title: str = "",
                 filters: dict[str, str] | None = None) -> bytes:
    """A workbook of ready sheet XML parts, ``[(sheet name, sheet_xml(...)), ...]``, as XLSX bytes; ``filters``
    (sheet name -> ``filter_range``) names each sheet's autofilter range, as Excel itself records it."""
    stamp = (timestamp.astimezone(dt.UTC) if timestamp.tzinfo else timestamp).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = [_esc(n[:31]) for n, _ in sheets]
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
                + "</sheets>" + _defined_names([n for n, _ in sheets], filters or {}) + "</workbook>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/styles" Target="styles.xml"/></Relationships>')
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{_esc(title)}</dc:title><dc:creator>Brede Welvaart Monitor</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')
    app = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           '<Application>Brede Welvaart Monitor</Application></Properties>')
    parts = [("[Content_Types].xml", _CT.format(sheets=overrides).encode()), ("_rels/.rels", _ROOT_RELS.encode()),
             ("docProps/core.xml", core.encode()), ("docProps/app.xml", app.encode()),
             ("xl/workbook.xml", workbook.encode()), ("xl/_rels/workbook.xml.rels", rels.encode()),
             ("xl/styles.xml", _STYLES.encode())]
    parts += [(f"xl/worksheets/sheet{i}.xml", xml) for i, (_, xml) in enumerate(sheets, 1)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as dst:
        for name, data in parts:
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data, compresslevel=COMPRESS_LEVEL)
    return out.getvalue()


def _defined_names(names: list[str], filters: dict[str, str]) -> str:
    entries = []
    for i, name in enumerate(names):
        if name in filters:
            first, last = filters[name].split(":")
            ref = "$" + re.sub(r"(\d+)", r"$\1", first) + ":$" + re.sub(r"(\d+)", r"$\1", last)
            quoted = _esc(name[:31]).replace("'", "''")
            entries.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                           f"'{quoted}'!{ref}</definedName>")
    return f"<definedNames>{''.join(entries)}</definedNames>" if entries else ""
