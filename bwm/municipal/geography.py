"""The area codes a municipal file may use: the KWB geography of each year in the warehouse (staging.areas)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Municipal figures come before CBS's: a year up to this many years after the newest KWB year is read on
#: the newest KWB area codes (buurten are rarely re-coded between two years; a re-coded one is reported).
YEARS_AHEAD = 2
LEVEL_PATTERNS = {"buurt": ("BU", 10), "wijk": ("WK", 8), "gemeente": ("GM", 6)}


@dataclass(frozen=True)
class Area:
    code: str
    level: str
    gemeente_code: str
    wijk_code: str | None
    name: str | None = None
    #: Inhabitants in that year (KWB), when known: a count in the area is at most this many.
    inhabitants: int | None = None


@dataclass
class Geography:
    """Per year, the gemeenten, wijken and buurten (``staging.areas``; the national row is not an area here)."""

    areas: dict[int, dict[str, Area]] = field(default_factory=dict)
    gemeente_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows) -> Geography:
        """Rows of (year, area_code, area_level, gemeente_code, wijk_code, area_name[, inhabitants])."""
        geo = cls()
        for year, code, level, gm, wk, name, *more in rows:
            if level not in LEVEL_PATTERNS:
                continue
            inhabitants = more[0] if more and more[0] is not None and more[0] >= 0 else None
            geo.areas.setdefault(int(year), {})[code] = Area(code, level, gm, wk, name,
                                                              int(inhabitants) if inhabitants is not None else None)
            if level == "gemeente" and name:
                geo.gemeente_names[code] = name
        return geo

    @classmethod
    def from_warehouse(cls, con) -> Geography:
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'staging' and table_name = 'areas'").fetchall()}
        inhabitants = "inhabitants" if "inhabitants" in columns else "null"
        return cls.from_rows(con.execute(
            f"select year, area_code, area_level, gemeente_code, wijk_code, area_name, {inhabitants} "
            "from staging.areas where area_level in ('gemeente', 'wijk', 'buurt') order by year, area_code").fetchall())

    def inhabitants(self, year: int, code: str) -> int | None:
        """The inhabitants of an area in a KWB year, or None when unknown."""
        area = self.areas.get(year, {}).get(code)
        return area.inhabitants if area is not None else None

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self.areas))

    def year_range(self) -> tuple[int, int] | None:
        return (self.years[0], self.years[-1] + YEARS_AHEAD) if self.areas else None

    def geography_year(self, year: int) -> int | None:
        """The KWB year whose area codes hold for ``year``: itself, or the newest for up to YEARS_AHEAD later."""
        if year in self.areas:
            return year
        if self.areas and self.years[-1] < year <= self.years[-1] + YEARS_AHEAD:
            return self.years[-1]
        return None

    def years_of(self, code: str) -> list[int]:
        return [y for y in self.years if code in self.areas[y]]

    def children(self, year: int, gemeenten: tuple[str, ...], levels: tuple[str, ...]) -> list[Area]:
        """Every area of these gemeenten and levels in a year, by code."""
        return sorted((a for a in self.areas.get(year, {}).values()
                       if a.gemeente_code in gemeenten and a.level in levels), key=lambda a: a.code)


def level_of_code(code: str) -> str | None:
    """'buurt' for BU + 8 digits, 'wijk' for WK + 6, 'gemeente' for GM + 4; None otherwise."""
    for level, (prefix, length) in LEVEL_PATTERNS.items():
        if code.startswith(prefix) and len(code) == length and code[2:].isdigit():
            return level
    return None


def describe_years(years: list[int]) -> str:
    """[2013, 2014, 2015, 2018] -> '2013-2015, 2018'."""
    spans: list[list[int]] = []
    for y in years:
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
