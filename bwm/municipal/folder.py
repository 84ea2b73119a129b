"""One pass over the drop folder: every file read, declared, validated, and accepted or rejected whole.

A file with any finding is rejected as a whole (none of its rows land) and the others go on. Files are
taken in name order; a key or an indicator declared differently in an earlier accepted file counts
against the later one. The folder is read again at every refresh, so the warehouse always reflects
what is in the folder now (a file removed, or replaced by a rejected version, is gone).

Only regular files are read: a symbolic link, a named pipe, a socket or a device in the folder is rejected
from its ``lstat`` without being opened (a link's target is never read, so nothing of it reaches a report), and
a file is opened with O_NOFOLLOW and checked again on the open descriptor. A file beyond the size limit is
rejected unread. Whatever goes wrong while one file is checked (a bug, memory) becomes that file's rejection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from bwm.municipal import targets as targets_
from bwm.municipal.declaration import (
    DECLARATION_SHEET,
    SIDECAR_SUFFIX,
    Declaration,
    parse_sheet,
    parse_yaml,
    sidecar_name,
)
from bwm.municipal.findings import CHECKS, Finding
from bwm.municipal.geography import Geography, describe_years
from bwm.municipal.limits import MAX_DECLARATION_BYTES, Limits, megabytes
from bwm.municipal.read import Sheet, exception_text, read_csv, read_xlsx, workbook_unread
from bwm.municipal.validate import CASES_SUFFIX, Row, layout_of, validate_sheet

DATA_SUFFIXES = (".csv", ".xlsx")
#: How many problems a report lists in full; the rest are counted per check.
REPORT_LIMIT = 50


@dataclass
class SheetStatus:
    sheet: str | None
    n_rows: int
    n_indicators: int
    how: str = ""


@dataclass
class FileResult:
    """What became of one file in the drop folder."""

    file: str
    sha256: str | None
    findings: list[Finding] = field(default_factory=list)
    sheets: list[SheetStatus] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    targets: list[targets_.Target] = field(default_factory=list)
    declared_in: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "rejected"

    def report(self, sheet: str | None = None) -> str:
        """The validation report for the file, or for one sheet of a workbook (plus the file-wide problems)."""
        # One pass (a file of a million duplicate rows has a million findings): the sheet's own, and a count of
        # the rest.
        mine = self.findings if sheet is None else [
            f for f in self.findings if f.sheet is None or f.sheet == sheet or f.sheet == DECLARATION_SHEET]
        others = len(self.findings) - len(mine)
        title = self.file if sheet is None else f"{self.file}, sheet {sheet!r}"
        lines: list[str] = []
        if self.accepted:
            lines.append(f"{title}: accepted.")
        else:
            lines.append(f"{title}: REJECTED; nothing of this file was loaded. "
                         f"{len(mine)} problem{'s' if len(mine) != 1 else ''}{' here' if sheet else ''}:")
            for f in heapq.nsmallest(REPORT_LIMIT, mine, key=_order):
                lines.append(f"- {f.message}")
            if len(mine) > REPORT_LIMIT:
                per_check = Counter(f.check for f in mine)
                lines.append(f"- ... {len(mine) - REPORT_LIMIT} more; in all: "
                             + ", ".join(f"{n} x {CHECKS[c]}" for c, n in sorted(per_check.items())))
            if others:
                lines.append(f"Other sheets of this workbook have {others} more problem(s) (see their rows); "
                             "the whole workbook is rejected.")
        for s in self.sheets:
            if sheet is None or s.sheet == sheet:
                if s.how:
                    lines.append(f"Read {('sheet ' + repr(s.sheet) + ' ') if s.sheet else ''}as {s.how}; "
                                 f"{s.n_rows} data rows.")
        if self.declared_in and self.declarations:
            lines.append(f"Declared in {self.declared_in}: " + "; ".join(
                f"{d.id} ({d.kind}{', ' + d.unit if d.kind == 'rate' else ''}, {d.level}, {', '.join(d.gemeenten)})"
                for d in self.declarations) + ".")
        elif self.declared_in:
            lines.append(f"Declared in {self.declared_in}: nothing could be read (see the problems above).")
        lines += self.notes
        if not self.accepted:
            lines.append("Fix the file (or its declaration) and run the refresh again.")
        return "\n".join(lines)


def _order(f: Finding):
    return (f.sheet or "", f.row or 0, f.column or "", f.check)


@dataclass
class FolderResult:
    folder: Path
    files: list[FileResult]

    @property
    def accepted(self) -> list[FileResult]:
        return [f for f in self.files if f.accepted]

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if not f.accepted]

    def report(self) -> str:
        if not self.files:
            return f"No data files in {self.folder}."
        return "\n\n".join(f.report() for f in self.files)

    def status_frame(self, checked_at: dt.datetime) -> pl.DataFrame:
        """``municipal.file_status``: one row per file and sheet (the contract with the site's data-status page)."""
        rows = []
        for f in self.files:
            for s in (f.sheets or [SheetStatus(None, 0, 0)]):
                rows.append({"file": f.file, "sheet": s.sheet, "status": f.status, "n_rows": s.n_rows,
                             "n_indicators": s.n_indicators, "report": f.report(s.sheet),
                             "checked_at": checked_at, "sha256": f.sha256})
        return pl.DataFrame(rows, schema=STATUS_SCHEMA)

    def targets_frame(self) -> pl.DataFrame:
        """``municipal.targets``: the targets of the accepted targets files (``bwm.municipal.targets``)."""
        return targets_.frame([t for f in self.accepted for t in f.targets])

    def values_frame(self) -> pl.DataFrame:
        """``municipal.values``: the accepted figures as delivered (not aggregated, not yet disclosure-controlled)."""
        rows = [r for f in self.accepted for r in f.rows]
        columns = {name: [getattr(r, name) for r in rows] for name in VALUES_SCHEMA}
        return pl.DataFrame(columns, schema=VALUES_SCHEMA).sort("indicator_id", "year", "area_code")

    def indicators_frame(self) -> pl.DataFrame:
        """``municipal.indicators``: one row per declared indicator of the accepted files."""
        merged: dict[str, dict] = {}
        for f in self.accepted:
            years = {}
            for r in f.rows:
                years.setdefault(r.indicator_id, set()).add(r.year)
            for d in f.declarations:
                entry = merged.setdefault(d.id, {
                    "indicator_id": d.id, "name_nl": d.name_nl, "name_en": d.name_en, "theme": d.theme,
                    "count_or_rate": d.kind, "unit": d.unit, "direction": d.direction, "level": d.level,
                    "definition_nl": d.definition_nl, "definition_en": d.definition_en,
                    "source_label": d.source_label, "gemeenten": [], "years": [], "files": [],
                    "stapeling_theme": d.stapeling_theme})
                entry["gemeenten"] = sorted(set(entry["gemeenten"]) | set(d.gemeenten))
                entry["years"] = sorted(set(entry["years"]) | years.get(d.id, set()))
                entry["files"] = sorted(set(entry["files"]) | {f.file})
        return pl.DataFrame([merged[k] for k in sorted(merged)], schema=INDICATORS_SCHEMA)


STATUS_SCHEMA = {"file": pl.String, "sheet": pl.String, "status": pl.String, "n_rows": pl.Int64,
                 "n_indicators": pl.Int64, "report": pl.String, "checked_at": pl.Datetime("us", "UTC"),
                 "sha256": pl.String}
VALUES_SCHEMA = {"year": pl.Int64, "area_code": pl.String, "area_level": pl.String, "gemeente_code": pl.String,
                 "indicator_id": pl.String, "count_or_rate": pl.String, "value": pl.Float64,
                 "n_cases": pl.Float64, "geography_year": pl.Int64, "file": pl.String, "sheet": pl.String,
                 "row_number": pl.Int64}
INDICATORS_SCHEMA = {"indicator_id": pl.String, "name_nl": pl.String, "name_en": pl.String, "theme": pl.String,
                     "count_or_rate": pl.String, "unit": pl.String, "direction": pl.String, "level": pl.String,
                     "definition_nl": pl.String, "definition_en": pl.String, "source_label": pl.String,
                     "gemeenten": pl.List(pl.String), "years": pl.List(pl.Int64), "files": pl.List(pl.String),
                     "stapeling_theme": pl.String}


def _ignored(name: str) -> bool:
    return name.startswith((".", "~$")) or name.lower().startswith("readme")


def entry_kind(mode: int) -> str | None:
    """What a directory entry is when it is not a regular file (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _not_regular(name: str, kind: str) -> Finding:
    return Finding(name, None, None, None, "not_regular_file", _REGULAR,
                   f"{kind}; it was not opened (copy the file itself into the folder)")


class _Unread(Exception):
    """A file that is not read: not a regular file after all, or beyond the size limit."""

    def __init__(self, finding_args: tuple):
        super().__init__(finding_args[-1])
        self.finding_args = finding_args


def read_regular(path: Path, max_bytes: int, what: str = "a file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; raises _Unread otherwise (nothing of it read).

    Opened with O_NOFOLLOW (a link swapped in since the folder was listed fails to open) and O_NONBLOCK (a pipe
    swapped in does not block), then checked on the descriptor before a byte is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if path.is_symlink():
            raise _Unread(("not_regular_file", _REGULAR, "a symbolic link; it was not opened")) from None
        raise _Unread(("check_failed", "a file the refresh can read",
                       f"a file that cannot be opened ({exc.strerror or type(exc).__name__})")) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        kind = entry_kind(info.st_mode)
        if kind is not None:
            raise _Unread(("not_regular_file", _REGULAR, f"{kind}; it was not read"))
        if info.st_size > max_bytes:
            raise _Unread(_too_big(info.st_size, max_bytes, what))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since it was checked
        raise _Unread(_too_big(len(data), max_bytes, what))
    return data


_REGULAR = "a regular file in the folder (no link, pipe or device)"


def _too_big(size: int, max_bytes: int, what: str) -> tuple:
    limit = "" if what != "a file" else " (BWM_MUNICIPAL_MAX_MB)"
    return ("size_limit", f"{what} of at most {megabytes(max_bytes)}{limit}", f"{megabytes(size)}; it was not read")


def listing(folder: Path) -> dict[str, int]:
    """{name: st_mode} of the folder's entries (lstat: a link is a link), without the ignored ones and folders."""
    entries: dict[str, int] = {}
    with os.scandir(folder) as it:
        for entry in it:
            if _ignored(entry.name):
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue  # gone since the folder was listed
            if stat.S_ISDIR(mode):
                continue  # subfolders are not read (the demo's files live in one)
            entries[entry.name] = mode
    return dict(sorted(entries.items()))


def _check_failed(folder: Path, name: str, limits: Limits, exc: Exception) -> FileResult:
    """The result of a file whose checks stopped on an error: rejected with that error, the other files go on."""
    return FileResult(name, _sha256(folder / name, limits.max_bytes), [Finding(
        name, None, None, None, "check_failed", "a file the checks can read to the end",
        f"the checks stopped on {exception_text(exc)}; the file is rejected, the other files are checked as usual")])


def scan_folder(folder: Path, geo: Geography, reserved: frozenset[str], max_mb: float | None = None,
                units: dict[str, str] | None = None) -> FolderResult:
    """Read, declare and validate every file in ``folder`` (not its subfolders).

    ``reserved``: indicator ids of the CBS catalogue, which a municipal file may not reuse. ``max_mb``: the
    largest file read, in MB (default: BWM_MUNICIPAL_MAX_MB). Targets files (``ambities*``,
    ``bwm.municipal.targets``) are checked after the data files, against ``units`` (CBS indicator id -> unit;
    default: the reserved ids without a unit) and the indicators the accepted data files declare.
    """
    folder = Path(folder)
    limits = Limits.from_settings(max_mb)
    entries = listing(folder) if folder.is_dir() else {}
    data_stems = {n.rsplit(".", 1)[0] for n in entries if n.lower().endswith(DATA_SUFFIXES)}
    results: list[FileResult] = []
    seen_keys: dict[tuple[int, str, str], Row] = {}
    declared: dict[str, Declaration] = {}
    for name, mode in entries.items():
        lower = name.lower()
        kind = entry_kind(mode)
        if kind is not None:
            results.append(FileResult(name, None, [_not_regular(name, kind)]))
            continue
        if lower.endswith(SIDECAR_SUFFIX):
            stem = name[: -len(SIDECAR_SUFFIX)]
            if stem not in data_stems:
                results.append(FileResult(name, _sha256(folder / name), [Finding(
                    name, None, None, None, "declaration",
                    f"a data file {stem}.csv or {stem}.xlsx next to this declaration", "no such file")]))
            continue
        if not lower.endswith(DATA_SUFFIXES):
            suffix = Path(name).suffix or "(no extension)"
            hint = " (an old Excel format; save it as .xlsx)" if lower.endswith((".xls", ".xlsm", ".xlsb")) else ""
            results.append(FileResult(name, _sha256(folder / name), [Finding(
                name, None, None, None, "unsupported_file",
                "a .csv or .xlsx file with its declaration (README, 'How to add a municipal data file')",
                f"a {suffix} file{hint}")]))
            continue
        if targets_.is_targets_file(name):
            continue  # after the data files: a target may name an indicator any of them declares
        keys = dict(seen_keys)
        try:
            result = check_file(folder, name, geo, reserved, declared, keys, limits, entries)
        except Exception as exc:  # noqa: BLE001 - whatever stops one file's checks rejects that file, not the refresh
            result = _check_failed(folder, name, limits, exc)
        results.append(result)
        if result.accepted:
            seen_keys = keys
            for d in result.declarations:
                declared.setdefault(d.id, d)
    known = {**{i: "" for i in reserved}, **(units or {}), **{i: d.unit for i, d in declared.items()}}
    earlier: dict[tuple[str, str], str] = {}
    for name, mode in entries.items():
        if entry_kind(mode) is None and targets_.is_targets_file(name):
            try:
                result = check_targets_file(folder, name, geo, known, earlier, limits)
            except Exception as exc:  # noqa: BLE001 - as for a data file: this file is rejected, not the refresh
                result = _check_failed(folder, name, limits, exc)
            results.append(result)
            if result.accepted:
                earlier.update({(t.area_code, t.indicator_id): f"{t.file}, row {t.row_number}" for t in result.targets})
    results.sort(key=lambda r: r.file)
    return FolderResult(folder, results)


def check_targets_file(folder: Path, name: str, geo: Geography, indicators: dict[str, str],
                       earlier: dict[tuple[str, str], str], limits: Limits) -> FileResult:
    """One targets file (``bwm.municipal.targets``): read like a data file, every sheet validated."""
    try:
        data = read_regular(folder / name, limits.max_bytes)
    except _Unread as unread:
        return FileResult(name, None, [Finding(name, None, None, None, *unread.finding_args)])
    result = FileResult(name, hashlib.sha256(data).hexdigest())
    if name.lower().endswith(".xlsx"):
        sheets, findings = read_xlsx(name, data, limits)
    else:
        sheet, findings = read_csv(name, data)
        sheets = [sheet] if sheet is not None else []
    result.findings += findings
    for sheet in sheets:
        found_targets, found = targets_.validate_targets(sheet, indicators, geo, earlier)
        result.sheets.append(SheetStatus(sheet.sheet, len(sheet.rows), len({t.indicator_id for t in found_targets}),
                                         f"{sheet.how}, targets"))
        result.targets += found_targets
        result.findings += found
    if result.findings:
        result.targets = []
    else:
        result.notes.append(f"Loaded {len(result.targets)} targets.")
    return result


def check_file(folder: Path, name: str, geo: Geography, reserved: frozenset[str],
               declared: dict[str, Declaration], seen_keys: dict, limits: Limits | None = None,
               entries: dict[str, int] | None = None) -> FileResult:
    """One data file: its declaration, its sheets, every check. ``seen_keys`` is updated with its keys.

    ``entries``: the folder's listing ({name: st_mode}); read from the folder when not given."""
    limits = limits or Limits()
    if entries is None:
        entries = listing(folder)
    path = folder / name
    try:
        data = read_regular(path, limits.max_bytes)
    except _Unread as unread:
        return FileResult(name, None, [Finding(name, None, None, None, *unread.finding_args)])
    result = FileResult(name, hashlib.sha256(data).hexdigest())
    is_xlsx = name.lower().endswith(".xlsx")
    if is_xlsx:
        sheets, findings = read_xlsx(name, data, limits)
    else:
        sheet, findings = read_csv(name, data)
        sheets = [sheet] if sheet is not None else []
    del data
    result.findings += findings
    unopened = is_xlsx and workbook_unread(findings)
    decl_sheets = [s for s in sheets if s.sheet is not None and s.sheet.strip().lower() == DECLARATION_SHEET]
    data_sheets = [s for s in sheets if all(s is not d for d in decl_sheets)]
    sidecar_name_ = sidecar_name(name)
    sidecar = folder / sidecar_name_
    sidecar_mode = entries.get(sidecar_name_)
    declarations: list[Declaration] = []
    if unopened:
        pass  # a workbook that cannot be opened: its declaration sheet cannot be looked for either
    elif sidecar_mode is not None and entry_kind(sidecar_mode) is not None:
        result.findings.append(Finding(name, None, None, None, "declaration",
                                       f"a declaration {sidecar_name_} that is a regular file",
                                       f"{entry_kind(sidecar_mode)}; it was not opened"))
    elif sidecar_mode is not None and decl_sheets:
        result.findings.append(Finding(name, None, None, None, "declaration",
                                       f"one declaration: the sheet {DECLARATION_SHEET!r} or {sidecar_name_}",
                                       "both"))
    elif sidecar_mode is not None:
        try:
            raw = read_regular(sidecar, MAX_DECLARATION_BYTES, "a declaration")
        except _Unread as unread:
            result.findings.append(Finding(sidecar_name_, None, None, None, *unread.finding_args))
            raw = None
        try:
            text = raw.decode("utf-8-sig") if raw is not None else None
        except UnicodeDecodeError:
            result.findings.append(Finding(sidecar_name_, None, None, None, "encoding", "a UTF-8 YAML file",
                                           "bytes that are not UTF-8"))
        else:
            if text is not None:
                declarations, found = parse_yaml(sidecar_name_, text, reserved)
                result.findings += found
                result.declared_in = sidecar_name_
    elif decl_sheets:
        s = decl_sheets[0]
        declarations, found = parse_sheet(name, s.sheet, s.header, s.rows, reserved)
        result.findings += found
        result.declared_in = f"{name}, sheet {s.sheet!r}"
    else:
        where = f"a sheet {DECLARATION_SHEET!r} or " if is_xlsx else ""
        result.findings.append(Finding(name, None, None, None, "declaration",
                                       f"{where}a declaration {sidecar_name_} next to the file", "none"))
    for d in declarations:
        other = declared.get(d.id)
        if other is not None and d.differences(other):
            result.findings.append(Finding(
                d.declared_in.split(",")[0], None, None, d.id, "declaration",
                f"the same declaration of {d.id} as in {other.declared_in}",
                "a different " + ", ".join(d.differences(other))))
    result.declarations = declarations
    if is_xlsx and not data_sheets and not unopened and not any(f.check == "empty_file" for f in findings):
        result.findings.append(Finding(name, None, None, None, "empty_file", "a data sheet besides "
                                       f"{DECLARATION_SHEET!r}", "none"))
    by_id = {d.id: d for d in declarations}
    for sheet in data_sheets:
        n_indicators = _indicators_in(sheet, by_id)
        result.sheets.append(SheetStatus(sheet.sheet, len(sheet.rows), n_indicators,
                                         f"{sheet.how}, {layout_of(sheet) or 'unknown'} layout"))
        if not declarations:
            continue
        rows, found, _layout = validate_sheet(sheet, by_id, result.declared_in or name, geo, seen_keys)
        result.rows += rows
        result.findings += found
    for hidden in sorted({f.sheet for f in result.findings if f.check == "hidden_sheet"}):
        result.sheets.append(SheetStatus(hidden, 0, 0))
    if result.findings:
        result.rows = []
    else:
        ahead = sorted({(r.year, r.geography_year) for r in result.rows if r.year != r.geography_year})
        for year, geo_year in ahead:
            result.notes.append(f"{year} is later than the newest KWB year in the warehouse: its area codes are "
                                f"those of {geo_year}.")
        years = sorted({r.year for r in result.rows})
        if years:
            result.notes.append(f"Loaded {len(result.rows)} figures for {describe_years(years)}.")
    return result


def _indicators_in(sheet: Sheet, by_id: dict[str, Declaration]) -> int:
    names = [h.strip().lower() for h in sheet.header]
    if "indicator_id" in names:
        i = names.index("indicator_id")
        return len({str(c[i]).strip() for _, c in sheet.rows if i < len(c) and c[i] is not None})
    return len([n for n in names if n and n not in ("area_code", "year", "area_name") and not n.endswith(CASES_SUFFIX)])


def _sha256(path: Path, max_bytes: int = MAX_DECLARATION_BYTES) -> str | None:
    """The sha256 of a regular file of at most ``max_bytes``; None for anything else (it is not read)."""
    try:
        return hashlib.sha256(read_regular(path, max_bytes)).hexdigest()
    except (_Unread, OSError):
        return None
