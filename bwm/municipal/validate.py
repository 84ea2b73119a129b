"""Checking the rows of a municipal data sheet against its declarations and the warehouse's area codes.

Two layouts, told apart by the header:

* long: ``area_code, year, indicator_id, value`` (+ ``n_cases`` for rates, optional ``area_name``), one
  row per area, year and indicator;
* wide: ``area_code, year`` (optional ``area_name``) and one column per declared indicator, named by its
  id, plus ``<id>_n_cases`` for each rate.

An empty value cell means "no figure" (the area is shown as not available), not zero.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from bwm.municipal.declaration import Declaration
from bwm.municipal.findings import Finding, shown
from bwm.municipal.geography import Geography, describe_years, level_of_code
from bwm.municipal.limits import INHABITANTS_ROUNDING, MAX_COUNT, number
from bwm.municipal.read import Sheet

LONG_COLUMNS = ("area_code", "year", "indicator_id", "value")
OPTIONAL_COLUMNS = ("area_name",)
CASES_COLUMN = "n_cases"
CASES_SUFFIX = "_n_cases"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_LEVEL_TEXT = {"buurt": "a buurt code (BU + 8 digits)", "wijk": "a wijk code (WK + 6 digits)",
               "gemeente": "a gemeente code (GM + 4 digits)"}


@dataclass(frozen=True, slots=True)
class Row:
    """One accepted figure, with where it came from."""

    year: int
    area_code: str
    area_level: str
    gemeente_code: str
    indicator_id: str
    count_or_rate: str
    value: float
    n_cases: float | None
    geography_year: int
    file: str
    sheet: str | None
    row_number: int


class NotANumber(ValueError):
    pass


class NotFinite(NotANumber):
    """A number too large to compute with: infinite as a float (beyond about 1.8e308), or not a number."""


def parse_number(value, decimal_comma: bool) -> float:
    """A cell as a number: ints and floats as they are; text with a decimal point (or a decimal comma when
    the file's delimiter is not ','). No thousands separators: '1.234' is 1.234, '1.234,5' is not a number.
    Raises NotFinite for a number too large to compute with (400 digits, an XLSX cell 1E400, inf, nan)."""
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise NotANumber(value)
    if isinstance(value, (int, float)):
        try:
            number_ = float(value)
        except OverflowError:
            raise NotFinite(value) from None
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if decimal_comma and "," in text and "." not in text:
            text = text.replace(",", ".")
        if not _NUMBER.match(text):
            raise NotANumber(value)
        number_ = float(text)
    if not math.isfinite(number_):
        raise NotFinite(value)
    return number_


def layout_of(sheet: Sheet) -> str | None:
    names = [h.strip().lower() for h in sheet.header]
    if "indicator_id" in names:
        return "long"
    if "area_code" in names and "year" in names:
        return "wide"
    return None


def validate_sheet(sheet: Sheet, declarations: dict[str, Declaration], declared_in: str, geo: Geography,
                   seen: dict[tuple[int, str, str], Row]) -> tuple[list[Row], list[Finding], str | None]:
    """Rows of one sheet that pass every check, every finding, and the layout ('long'/'wide', None if unknown).

    ``seen`` maps (year, area_code, indicator_id) to the Row where that key was first seen (this refresh, any
    file) and is updated, so a key repeated in another file is a duplicate too.
    """
    v = _SheetValidator(sheet, declarations, declared_in, geo, seen)
    layout = layout_of(sheet)
    if layout is None:
        v.add(1, None, "header",
              "a header with area_code and year, plus indicator_id and value (long layout) or one column per "
              "indicator (wide layout)", f"the columns {', '.join(repr(h) for h in sheet.header)}")
        return [], v.findings, None
    v.check_header(layout)
    if v.findings:
        return [], v.findings, layout
    for row_number, cells in sheet.rows:
        v.check_row(layout, row_number, cells)
    return v.rows, v.findings, layout


class _SheetValidator:
    def __init__(self, sheet, declarations, declared_in, geo, seen):
        self.sheet = sheet
        self.declarations = declarations
        self.declared_in = declared_in
        self.geo = geo
        self.seen = seen
        self.names = [h.strip().lower() for h in sheet.header]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.decimal_comma = sheet.delimiter != ","
        self.findings: list[Finding] = []
        self.rows: list[Row] = []
        self._reported: set[tuple] = set()
        # Outcomes of the checks of a year and an area code, and the level of a code: most rows repeat them.
        self._years: dict = {}
        self._codes: dict = {}
        self._levels: dict = {}
        self._capture: list | None = None

    def _memo(self, cache: dict, key, r, compute):
        """``compute()``'s result and findings, computed once per ``key`` and the findings replayed on row ``r``."""
        try:
            hit = cache.get(key, _MISS)
        except TypeError:  # an unhashable cell value: not cached
            return compute()
        if hit is _MISS:
            outer, self._capture = self._capture, []
            try:
                hit = (compute(), self._capture)
            finally:
                self._capture = outer
            cache[key] = hit
        result, found = hit
        for args in found:
            self.add(r, *args)
        return result

    def add(self, row, column, check, expected, found) -> None:
        if self._capture is not None:
            self._capture.append((column, check, expected, found))
            return
        key = (row, column, check)
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append(Finding(self.sheet.file, self.sheet.sheet, row, column, check, expected, found))

    def _declared_text(self) -> str:
        return f"an indicator declared in {self.declared_in} ({', '.join(sorted(self.declarations))})"

    # --- header ------------------------------------------------------------------------------------
    def check_header(self, layout: str) -> None:
        for i, name in enumerate(self.names):
            if not name:
                self.add(1, None, "header", "a name for every column in the header", f"column {i + 1} without a name")
            elif self.names.index(name) != i:
                self.add(1, name, "header", "each column name once", f"{name!r} a second time")
        if layout == "long":
            missing = [c for c in LONG_COLUMNS if c not in self.index]
            if missing:
                self.add(1, None, "header", f"the columns {', '.join(LONG_COLUMNS)} (long layout)",
                         f"no column {', '.join(repr(m) for m in missing)}")
            known = (*LONG_COLUMNS, CASES_COLUMN, *OPTIONAL_COLUMNS)
            for name in self.names:
                if name and name not in known:
                    self.add(1, name, "header", f"only the columns {', '.join(known)} (long layout)",
                             f"an extra column {name!r}")
            if CASES_COLUMN not in self.index and any(d.kind == "rate" for d in self.declarations.values()):
                rates = sorted(d.id for d in self.declarations.values() if d.kind == "rate")
                self.add(1, None, "missing_cases",
                         f"a column {CASES_COLUMN!r} with the number of cases of each rate ({', '.join(rates)})",
                         "no such column")
            return
        for name in self.names:
            if not name or name in ("area_code", "year", *OPTIONAL_COLUMNS):
                continue
            if name.endswith(CASES_SUFFIX):
                base = name[: -len(CASES_SUFFIX)]
                if base not in self.declarations or self.declarations[base].kind != "rate":
                    self.add(1, name, "undeclared_indicator",
                             f"'<id>{CASES_SUFFIX}' columns only for rates declared in {self.declared_in}",
                             f"{name!r}, but {base!r} is not a declared rate")
            elif name not in self.declarations:
                self.add(1, name, "undeclared_indicator", self._declared_text(), shown(name))
        for name in self.names:
            decl = self.declarations.get(name)
            if decl is not None and decl.kind == "rate" and name + CASES_SUFFIX not in self.index:
                self.add(1, name, "missing_cases", f"a column {name + CASES_SUFFIX!r} with the number of cases "
                         f"of the rate {name!r}", "no such column")

    # --- rows --------------------------------------------------------------------------------------
    def cell(self, cells, name):
        i = self.index.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    def check_row(self, layout: str, r: int, cells: list) -> None:
        raw_year = self.cell(cells, "year")
        year = self._memo(self._years, (type(raw_year), raw_year), r, lambda: self._year(r, raw_year))
        code = self.cell(cells, "area_code")
        if code is not None:
            code = self._memo(self._codes, (type(code), code), r, lambda: str(code).strip().upper())
        if code is None:
            self.add(r, "area_code", "unknown_area", "an area code", "an empty cell")
        if layout == "long":
            ident = self.cell(cells, "indicator_id")
            ident = str(ident).strip() if ident is not None else None
            decl = self.declarations.get(ident) if ident else None
            if decl is None:
                self.add(r, "indicator_id", "undeclared_indicator", self._declared_text(), shown(ident))
            items = [(decl, "value", CASES_COLUMN)] if decl is not None else []
        else:
            items = [(self.declarations[n], n, n + CASES_SUFFIX) for n in self.names if n in self.declarations]
        for decl, value_column, cases_column in items:
            raw = self.cell(cells, value_column)
            if raw is None:
                continue  # no figure for this area: shown as not available, never as zero
            value = self._value(r, value_column, raw, decl)
            if decl.kind == "rate":
                n_cases = self._cases(r, cases_column, self.cell(cells, cases_column))
            else:
                n_cases = None
                if layout == "long" and self.cell(cells, CASES_COLUMN) is not None:
                    self.add(r, CASES_COLUMN, "cases_on_count",
                             f"an empty cell ({CASES_COLUMN} is for rates only, and {decl.id} is a count)",
                             shown(self.cell(cells, CASES_COLUMN)))
                    continue
            area = self._area(r, code, year, decl) if code is not None and year is not None else None
            if value is None or area is None or (decl.kind == "rate" and n_cases is None):
                continue
            geo_year, level, gemeente = area
            if decl.kind == "count" and not self._plausible(r, value_column, raw, value, code, year, geo_year,
                                                            "a count"):
                continue
            if n_cases is not None and not self._plausible(r, cases_column, self.cell(cells, cases_column), n_cases,
                                                           code, year, geo_year, "a number of cases"):
                continue
            key = (year, code, decl.id)
            first = self.seen.get(key)
            if first is not None:
                column = "indicator_id" if layout == "long" else decl.id
                self.add(r, column, "duplicate_key", "one row per area_code, year and indicator",
                         f"a second figure for {code}, {year}, {decl.id} (the first is in {_where(first)})")
                continue
            row = Row(year, code, level, gemeente, decl.id, decl.kind, value, n_cases, geo_year,
                      self.sheet.file, self.sheet.sheet, r)
            self.seen[key] = row
            self.rows.append(row)

    def _year(self, r, raw) -> int | None:
        try:
            year = parse_number(raw, False) if raw is not None else None
        except NotANumber:
            year = None
        if year is None or year != int(year) or not 1000 <= year <= 9999:
            self.add(r, "year", "not_numeric", "a year like 2024", shown(raw))
            return None
        year = int(year)
        if self.geo.geography_year(year) is None:
            span = self.geo.year_range()
            expected = (f"a year from {span[0]} to {span[1]} (the KWB years in the warehouse, and up to two years "
                        "later on the newest area codes)") if span else "a year with CBS area codes in the warehouse"
            self.add(r, "year", "unknown_year", expected, str(year))
            return None
        return year

    def _value(self, r, column, raw, decl: Declaration) -> float | None:
        try:
            value = parse_number(raw, self.decimal_comma)
        except NotFinite:
            self.add(r, column, "implausible_number", "a number of a plausible size", _too_large(raw))
            return None
        except NotANumber:
            comma = " or decimal comma" if self.decimal_comma else ""
            self.add(r, column, "not_numeric", f"a number (decimal point{comma}, no thousands separator)", shown(raw))
            return None
        if decl.kind == "count":
            if value < 0:
                self.add(r, column, "negative_count", "a count of 0 or more", shown(raw))
                return None
            if value != int(value):
                self.add(r, column, "not_whole_count", "a whole number (a count)", shown(raw))
                return None
        elif decl.unit == "pct" and not 0 <= value <= 100:
            self.add(r, column, "pct_out_of_range", "a percentage from 0 to 100", shown(raw))
            return None
        elif decl.unit == "per_1000" and not 0 <= value <= 1000:
            self.add(r, column, "rate_out_of_range", "a rate per 1 000 from 0 to 1000", shown(raw))
            return None
        return value

    def _cases(self, r, column, raw) -> float | None:
        if raw is None:
            self.add(r, column, "missing_cases", "the number of cases the rate is based on", "an empty cell")
            return None
        try:
            n = parse_number(raw, self.decimal_comma)
        except NotFinite:
            self.add(r, column, "implausible_number", "a number of cases of a plausible size", _too_large(raw))
            return None
        except NotANumber:
            self.add(r, column, "not_numeric", "a number of cases (a whole number)", shown(raw))
            return None
        if n < 0:
            self.add(r, column, "negative_count", "a number of cases of 0 or more", shown(raw))
            return None
        if n != int(n):
            self.add(r, column, "not_whole_count", "a whole number of cases", shown(raw))
            return None
        return n

    def _plausible(self, r, column, raw, value: float, code: str, year: int, geo_year: int, what: str) -> bool:
        """A count or number of cases is at most the area's inhabitants, or MAX_COUNT where those are unknown.

        The inhabitants are CBS's for that year, which CBS rounds to fives in wijken and buurten, so the bound
        allows ``INHABITANTS_ROUNDING`` more. Figures for a year after the newest KWB year are held against
        MAX_COUNT only: the buurt may have grown since (a new housing estate starts at 0 inhabitants).
        """
        inhabitants = self.geo.inhabitants(geo_year, code) if geo_year == year else None
        if inhabitants is not None:
            if value <= inhabitants + INHABITANTS_ROUNDING:
                return True
            expected = (f"{what} of at most {number(inhabitants + INHABITANTS_ROUNDING)} (the inhabitants of {code} "
                        f"in {geo_year}, {number(inhabitants)}, plus CBS's rounding)")
        else:
            if value <= MAX_COUNT:
                return True
            expected = f"{what} of at most {number(MAX_COUNT)} (the cap where an area's inhabitants are unknown)"
        self.add(r, column, "implausible_number", expected, shown(raw))
        return False

    def _area(self, r, code: str, year: int, decl: Declaration) -> tuple[int, str, str] | None:
        geo_year = self.geo.geography_year(year)
        level = self._levels.get(code, _MISS)
        if level is _MISS:
            level = self._levels[code] = level_of_code(code)
        if level is None:
            self.add(r, "area_code", "unknown_area", _LEVEL_TEXT[decl.level] + f" that exists in {geo_year}",
                     f"{code!r}, which is not a CBS area code")
            return None
        if level != decl.level:
            self.add(r, "area_code", "wrong_level", f"{_LEVEL_TEXT[decl.level]}, as declared for {decl.id}",
                     f"{code!r}, a {level} code")
            return None
        area = self.geo.areas[geo_year].get(code)
        if area is None:
            other = self.geo.years_of(code)
            basis = f" (the newest area codes in the warehouse, used for {year})" if geo_year != year else ""
            found = (f"{code!r}, which exists only in {describe_years(other)}" if other
                     else f"{code!r}, which is not an area code in any year in the warehouse")
            self.add(r, "area_code", "unknown_area", f"an area code that exists in {geo_year}{basis}", found)
            return None
        if area.gemeente_code not in decl.gemeenten:
            name = self.geo.gemeente_names.get(area.gemeente_code)
            self.add(r, "area_code", "other_municipality",
                     f"an area of {', '.join(decl.gemeenten)}, as declared for {decl.id}",
                     f"{code!r}, an area of {area.gemeente_code}" + (f" ({name})" if name else ""))
            return None
        return geo_year, level, area.gemeente_code


_MISS = object()


def _where(row: Row) -> str:
    """Where a figure came from: ``bad.csv, row 2`` or ``bad.xlsx, sheet 'data', row 2``."""
    if row.sheet is None:
        return f"{row.file}, row {row.row_number}"
    return f"{row.file}, sheet {row.sheet!r}, row {row.row_number}"


def _too_large(raw) -> str:
    return f"{shown(raw)}, too large to compute with"
