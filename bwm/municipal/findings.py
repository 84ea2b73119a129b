"""What validation found, located the way an analyst looks for it: file, sheet, row, column."""

from __future__ import annotations

from dataclasses import dataclass

#: The checks, by the code a finding carries (README, "How to add a municipal data file", lists them).
CHECKS = {
    "unsupported_file": "the file type is not CSV or XLSX",
    "empty_file": "the file (or sheet) holds no data",
    "encoding": "the text encoding is not UTF-8 (with or without BOM) or cp1252",
    "delimiter": "the columns are not separated by ',' or ';' (or a row has a different number of fields)",
    "header": "the header is missing key columns or repeats a column",
    "declaration": "the indicator declaration is missing or incomplete",
    "undeclared_indicator": "an indicator in the data is not declared",
    "unknown_year": "the year is not a year with CBS area codes in the warehouse",
    "unknown_area": "the area code does not exist in that year",
    "wrong_level": "the area code is of another level than the indicator declares",
    "other_municipality": "the area belongs to a municipality the declaration does not name",
    "not_numeric": "a value, year or number of cases is not a number",
    "negative_count": "a count or number of cases is negative",
    "not_whole_count": "a count or number of cases is not a whole number",
    "pct_out_of_range": "a percentage lies outside 0 to 100",
    "rate_out_of_range": "a rate per 1 000 lies outside 0 to 1 000",
    "missing_cases": "a rate comes without the number of cases it is based on",
    "duplicate_key": "two rows for the same area, year and indicator",
    "formula": "an XLSX cell holds a formula instead of a value",
    "hidden_sheet": "an XLSX sheet is hidden",
    "hidden_cells": "an XLSX row or column with values in it is hidden",
    "invisible_text": "an XLSX cell's text has the colour of its fill (white on white), or a format that shows nothing",
    "quoting": "a quote (\") opens a field that runs on over the next lines, so rows would be lost",
    "cases_on_count": "a count row has a number of cases (n_cases is for rates only)",
    "implausible_number": "a number is too large to compute with, or a count or number of cases exceeds the "
                          "area's inhabitants (or the cap where those are unknown)",
    "size_limit": "the file, a field, a sheet's used range or a declaration's aliases exceed the documented limits",
    "not_regular_file": "the entry in the drop folder is a symbolic link, a named pipe or another thing that is not "
                        "a regular file (it is not opened)",
    "target_year": "a target's year or base year is not a year from 2000 to 2100, or the target year is not after "
                   "the base year (targets files, ambities*.csv)",
    "check_failed": "checking the file stopped on an unexpected error (the file is rejected, the others go on)",
}


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    """One problem in a file. ``row`` is the row number as a spreadsheet shows it (the header is row 1)."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    check: str
    expected: str
    found: str

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}")

    @property
    def location(self) -> str:
        parts = [self.file]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    @property
    def message(self) -> str:
        """``file, sheet 's', row 12, column 'value': expected ...; found ...``."""
        return f"{self.location}: expected {self.expected}; found {self.found}"

    def __str__(self) -> str:
        return self.message


def shown(value) -> str:
    """A found value as the report quotes it (``''`` for an empty cell, numbers without quotes)."""
    if value is None:
        return "an empty cell"
    if isinstance(value, bool):
        return repr(str(value).upper())
    if isinstance(value, (int, float)):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return text if len(text) <= 80 else text[:77] + "..."
    text = str(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")
