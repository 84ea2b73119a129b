"""Everything the pages show, read once from the warehouse (read-only) into plain Python structures.

The site reads the publish model (pipelines/defs/publish/*.sql), the tables the exports read too: publish.areas
(names, levels, parents), publish.indicators (the catalogue), publish.values (figures with missing_reason, series
flags, ranks and the health figures' intervals), publish.theme_scores, publish.divide_measures,
publish.divide_trends, and the gap over buurten of publish.divide_contributions and publish.divide_decomposition
(where the divide grows); and, for the about and status pages, the metadata of the sources (raw.cbs_tables,
municipal.file_status, staging.kwb_key_resolution). It never computes a statistic of its own beyond minima and
maxima for the spread chart, so a page cannot disagree with the warehouse.

Sizes: the demo has ~23,000 value rows, a national warehouse 4.3 million. What every page needs (areas, the
catalogue, national figures) is held for the whole build; the figures per area are held for a few gemeenten at
a time (``load_scope``), as tuples grouped by area, which is what page building needs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bwm import warehouse
from bwm.catalogue import THEMES


@dataclass(frozen=True)
class Point:
    """One value of one indicator for one area and year (value None = missing, with the reason)."""

    year: int
    value: float | None
    missing_reason: str | None
    source_table: str | None
    series_id: str | None
    series_break: bool
    break_reason: str | None
    ci_lower: float | None = None  # the published 95% interval of a health figure (None for other sources)
    ci_upper: float | None = None
    #: 'cbs', 'municipal', or 'aggregated_predecessors': computed by the monitor from the predecessors'
    #: figures (``derived_from``, their names) on the territory of ``territory_year`` (publish.values).
    value_source: str | None = None
    territory_year: int | None = None
    derived_from: str | None = None


@dataclass(frozen=True)
class ThemeScore:
    """One row of publish.theme_scores for an area and theme: the score (standard deviations from the level's
    mean, positive is better-off), how many indicators it covers of those possible, whether that meets the
    minimum coverage, and the oldest value year it uses (each indicator at its latest year in the window)."""

    year: int
    score: float | None
    n_indicators: int
    n_possible: int
    coverage_met: bool
    oldest_year: int | None


@dataclass
class Area:
    code: str
    level: str  # gemeente, wijk, buurt
    name: str
    gemeente_code: str
    wijk_code: str | None
    years: list[int] = field(default_factory=list)
    inhabitants: int | None = None  # in the latest year the area exists
    households: int | None = None
    former_names: list[str] = field(default_factory=list)  # names of earlier years, oldest first
    recoded_in: int | None = None  # the year CBS gave the area this code (comparability code 2), if it did

    @property
    def first_year(self) -> int | None:
        return self.years[0] if self.years else None

    @property
    def last_year(self) -> int | None:
        return self.years[-1] if self.years else None


@dataclass
class SiteData:
    catalogue: list[dict]
    theme_names: dict[str, str]
    areas: dict[str, Area]
    values: dict[str, dict[str, list[Point]]]  # area_code -> indicator_id -> points by year
    national: dict[str, dict[int, float]]  # indicator_id -> year -> value (area_level 'land')
    national_name: str
    ranks: dict[tuple[str, str, int], tuple[int, int]]  # (area_code, indicator_id, year) -> (rank, n)
    themes: dict[str, dict[str, list[ThemeScore]]]  # area -> theme -> scores by year
    measures: dict[tuple[str, str, str], list[dict]]  # (gemeente, level, indicator) -> rows by year
    trends: dict[tuple[str, str, str, str], dict]  # (gemeente, level, indicator, measure) -> row
    tables: list[dict]  # raw.cbs_tables rows
    synthetic: bool
    latest_kwb_year: int | None
    mirror_dir: Path | None = None
    municipal_files: list[dict] = field(default_factory=list)  # municipal.file_status, when the warehouse has it
    concentration_basis: str | None = None  # publish.divide_measures: what the concentration threshold is based on
    quarantined: list[dict] = field(default_factory=list)  # staging.kwb_key_resolution rows with action 'quarantine'
    #: (gemeente, indicator) -> the buurten's rows of publish.divide_contributions for the gap, by area and year
    contributions: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    #: (gemeente, indicator) -> the row of publish.divide_decomposition for the gap over buurten
    decomposition: dict[tuple[str, str], dict] = field(default_factory=dict)
    #: (gemeente, indicator) -> {measure: row of publish.divide_decomposition over buurten}, every measure that applies
    decomposition_by_measure: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    #: area_code -> the rows of publish.targets (the municipality's ambities) of that area
    targets: dict[str, list[dict]] = field(default_factory=dict)
    #: publish.stapeling / samenhang / divide_stapeling of the loaded scope (bwm.site.stapeling.load)
    stapeling: dict[str, dict] = field(default_factory=dict)

    # Indexes built once on first use: page functions ask "the buurten of this gemeente" tens of thousands of
    # times, and a scan of every area each time made the national site quadratic (hours instead of minutes).
    _members: dict | None = field(default=None, init=False, repr=False, compare=False)
    _indicators_for: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _index(self) -> dict:
        if self._members is None:
            members: dict = defaultdict(list)
            for a in self.areas.values():  # insertion order (area_code), so every list keeps the scans' order
                members[(a.level, "gemeente_code", a.gemeente_code)].append(a)
                members[(a.level, "wijk_code", a.wijk_code)].append(a)
                members[("any", "gemeente_code", a.gemeente_code)].append(a)
            first = [a.first_year for a in self.areas.values() if a.first_year]
            self._members = {"members": dict(members), "first_year": min(first) if first else None}
        return self._members

    def in_gemeente(self, gemeente_code: str, level: str = "any") -> list[Area]:
        """The areas of a gemeente at ``level`` (gemeente, wijk, buurt or 'any'), in area-code order."""
        return self._index()["members"].get((level, "gemeente_code", gemeente_code), [])

    @property
    def first_year(self) -> int | None:
        """The earliest year any area exists."""
        return self._index()["first_year"]

    @property
    def indicators(self) -> dict[str, dict]:
        return {c["indicator_id"]: c for c in self.catalogue}

    def gemeenten(self) -> list[Area]:
        return sorted((a for a in self.areas.values() if a.level == "gemeente"), key=lambda a: a.name.lower())

    def children(self, code: str, level: str) -> list[Area]:
        """Wijken of a gemeente, or buurten of a wijk (current ones first, then former codes), by name."""
        parent_attr = "gemeente_code" if level == "wijk" else "wijk_code"
        kids = self._index()["members"].get((level, parent_attr, code), [])
        return sorted(kids, key=lambda a: (a.last_year != self.latest_kwb_year, a.name.lower(), a.code))

    def indicators_for(self, gemeente_code: str) -> list[dict]:
        """The catalogue entries a gemeente's pages show: every CBS indicator, and the indicators of municipal
        data files only where that gemeente delivered figures (another gemeente's file is not its business)."""
        if gemeente_code in self._indicators_for:
            return self._indicators_for[gemeente_code]
        codes = [a.code for a in self.in_gemeente(gemeente_code)]
        out = []
        for c in self.catalogue:
            if c["source"] in ("kwb", "health") or any(
                    p.value is not None or p.missing_reason
                    for code in codes for p in self.series(code, c["indicator_id"])):
                out.append(c)
        self._indicators_for[gemeente_code] = out
        return out

    def series(self, code: str, indicator_id: str) -> list[Point]:
        return self.values.get(code, {}).get(indicator_id, [])

    def table_titles(self) -> dict[str, str]:
        return {t["table_id"]: t["title"] for t in self.tables}


def _catalogue(con) -> list[dict]:
    rows = con.execute(
        "select indicator_id, name_nl, name_en, theme, theme_nl, definition_nl, unit, direction, source, "
        "source_label, years, levels from publish.indicators order by catalogue_order").fetchall()
    cols = ["indicator_id", "name_nl", "name_en", "theme", "theme_nl", "definition_nl", "unit", "direction",
            "source", "source_label", "years", "levels"]
    out = [dict(zip(cols, r)) for r in rows]
    order = {t: i for i, t in enumerate(THEMES)}
    # keep the catalogue's order within a theme
    return sorted(out, key=lambda c: order.get(c["theme"], 99))


def load(warehouse_path: Path, mirror_dir: Path | None = None) -> SiteData:
    """Read the whole warehouse into a :class:`SiteData` (read-only; a refresh may not be writing it)."""
    with warehouse.connect(warehouse_path, read_only=True) as con:
        data = load_base(con, mirror_dir)
        load_scope(con, data, [g.code for g in data.gemeenten()])
    return data


def _quarantined(con) -> list[dict]:
    """KWB keys left out because CBS published them in an unexpected unit (empty when the warehouse's
    staging.kwb_key_resolution predates those columns)."""
    if not warehouse.table_exists(con, "staging", "kwb_key_resolution"):
        return []
    have = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'staging' and table_name = 'kwb_key_resolution'").fetchall()}
    if not {"action", "cbs_unit", "expected_cbs_unit"} <= have:
        return []
    cur = con.execute("select year, table_id, raw_key, canonical, cbs_unit, expected_cbs_unit "
                      "from staging.kwb_key_resolution where action = 'quarantine' order by year, table_id, raw_key")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def load_base(con, mirror_dir: Path | None = None) -> SiteData:
    """What every page may need: the catalogue, every area, the national figures and the CBS tables. The figures
    per gemeente (values, ranks, theme scores, divide measures and trends) come later, a few gemeenten at a time
    (:func:`load_scope`): held all at once, a national warehouse takes 4 GiB of Python objects."""
    catalogue = _catalogue(con)
    theme_names = {c["theme"]: c["theme_nl"] for c in catalogue}

    areas: dict[str, Area] = {}
    national_name = "Nederland"
    synthetic = False
    kwb_years = set()
    for (year, code, level, name, gm, wijk, inh, hh, synth, comparability) in con.execute(
        "select year, area_code, area_level, area_name, gemeente_code, wijk_code, inhabitants, households, "
        "is_synthetic, comparability_code from publish.areas order by area_code, year"
    ).fetchall():
        synthetic = synthetic or bool(synth)
        kwb_years.add(year)
        if level == "land":
            national_name = name or national_name
            continue
        area = areas.get(code)
        if area is None:
            area = areas[code] = Area(code=code, level=level, name=name or code, gemeente_code=gm, wijk_code=wijk)
        if area.years and name and name != area.name and area.name not in area.former_names:
            area.former_names.append(area.name)
        if comparability == 2 and area.recoded_in is None:
            area.recoded_in = int(year)
        area.years.append(int(year))
        area.name = name or area.name  # the latest year's name wins
        area.wijk_code = wijk or area.wijk_code
        area.inhabitants, area.households = inh, hh
    first_kwb = min(kwb_years) if kwb_years else None
    for area in areas.values():  # in the first year every area is as CBS delivered it: no recoding to speak of
        if area.recoded_in == first_kwb:
            area.recoded_in = None

    national: dict[str, dict[int, float]] = defaultdict(dict)
    for ind, year, value in con.execute(
        "select indicator_id, year, value from publish.values where area_level = 'land' and value is not null "
        "order by area_code, indicator_id, year"
    ).fetchall():
        national[ind][int(year)] = value

    # The about page names the basis of the concentration threshold: that of the first measure that has one.
    basis = con.execute(
        "select concentration_basis from publish.divide_measures where concentration_threshold_pct is not null "
        "order by gemeente_code, level, indicator_id, year limit 1").fetchone()

    cur = con.execute("select * from raw.cbs_tables order by table_id")
    cols = [d[0] for d in cur.description]
    tables = [dict(zip(cols, row)) for row in cur.fetchall()]
    synthetic = synthetic or any(t.get("source") == "synthetic" for t in tables)

    municipal_files = []
    if warehouse.table_exists(con, "municipal", "file_status"):
        cur = con.execute("select file, sheet, status, n_rows, n_indicators, report, checked_at "
                          "from municipal.file_status order by file, sheet")
        cols = [d[0] for d in cur.description]
        municipal_files = [dict(zip(cols, row)) for row in cur.fetchall()]

    return SiteData(
        catalogue=catalogue, theme_names=theme_names, areas=areas, values={}, national=dict(national),
        national_name=national_name, ranks={}, themes={}, measures={}, trends={}, tables=tables,
        synthetic=synthetic, latest_kwb_year=max(kwb_years) if kwb_years else None,
        mirror_dir=Path(mirror_dir) if mirror_dir else None, municipal_files=municipal_files,
        concentration_basis=basis[0] if basis else None, quarantined=_quarantined(con),
    )


def _names(data: SiteData, codes: str | None) -> str | None:
    """``"GM9904;GM9905"`` as the gemeenten's names: ``"Beekwolde en Zandhorst"``."""
    if not codes:
        return None
    names = [data.areas[c].name if c in data.areas else c for c in codes.split(";")]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} en {names[-1]}"


def load_scope(con, data: SiteData, gemeente_codes: list[str]) -> None:
    """Replace the figures held per gemeente by those of ``gemeente_codes`` (and their wijken and buurten):
    pages of other gemeenten cannot be built until their scope is loaded."""
    codes = list(gemeente_codes)
    scope = "gemeente_code in (select unnest(?::varchar[]))"
    values: dict[str, dict[str, list[Point]]] = defaultdict(lambda: defaultdict(list))
    for (code, ind, year, value, reason, table, sid, brk, why, lo, hi, origin, territory, before) in con.execute(
        "select area_code, indicator_id, year, value, missing_reason, source_table, series_id, series_break, "
        "break_reason, ci_lower, ci_upper, value_source, territory_year, predecessor_codes from publish.values "
        f"where area_level <> 'land' and {scope} order by area_code, indicator_id, year", [codes]
    ).fetchall():
        values[code][ind].append(Point(int(year), value, reason, table, sid, bool(brk), why, lo, hi, origin,
                                       territory, _names(data, before)))

    ranks = {
        (code, ind, int(year)): (int(rank), int(n))
        for code, ind, year, rank, n in con.execute(
            "select area_code, indicator_id, year, rank_in_gemeente, n_in_gemeente from publish.values "
            f"where rank_in_gemeente is not null and {scope}", [codes]).fetchall()
    }

    themes: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for code, theme, year, score, n, of, met, oldest in con.execute(
        "select area_code, theme, year, score, n_indicators, n_possible, coverage_met, oldest_year "
        "from publish.theme_scores "
        f"where {scope} order by area_code, theme, year", [codes]
    ).fetchall():
        themes[code][theme].append(ThemeScore(int(year), score, int(n), int(of), bool(met),
                                                   None if oldest is None else int(oldest)))

    measures: dict[tuple, list[dict]] = defaultdict(list)
    cur = con.execute(f"select * from publish.divide_measures where {scope} "
                      "order by gemeente_code, level, indicator_id, year", [codes])
    cols = [d[0] for d in cur.description]
    for row in cur.fetchall():
        r = dict(zip(cols, row))
        measures[(r["gemeente_code"], r["level"], r["indicator_id"])].append(r)

    cur = con.execute(f"select * from publish.divide_trends where {scope}", [codes])
    cols = [d[0] for d in cur.description]
    trends = {}
    for row in cur.fetchall():
        r = dict(zip(cols, row))
        trends[(r["gemeente_code"], r["level"], r["indicator_id"], r["measure"])] = r

    contributions: dict[tuple, list[dict]] = defaultdict(list)
    decomposition = {}
    by_measure: dict[tuple, dict[str, dict]] = defaultdict(dict)
    if warehouse.table_exists(con, "publish", "divide_contributions"):
        # the gap over buurten only: what the pages show of where the divide grows (the exports have every measure)
        cur = con.execute(
            "select gemeente_code, indicator_id, base_year, year, area_code, status, value, value_base, contribution, "
            "value_change, gemeente_value_change, change_vs_gemeente, entered_worst20, left_worst20 "
            f"from publish.divide_contributions where level = 'buurt' and measure = 'gap' and {scope} "
            "order by gemeente_code, indicator_id, area_code, year", [codes])
        cols = [d[0] for d in cur.description]
        for row in cur.fetchall():
            r = dict(zip(cols, row))
            contributions[(r["gemeente_code"], r["indicator_id"])].append(r)
    if warehouse.table_exists(con, "publish", "divide_decomposition"):
        cur = con.execute(f"select * from publish.divide_decomposition where level = 'buurt' and {scope}", [codes])
        cols = [d[0] for d in cur.description]
        for row in cur.fetchall():
            r = dict(zip(cols, row))
            by_measure[(r["gemeente_code"], r["indicator_id"])][r["measure"]] = r
            if r["measure"] == "gap":
                decomposition[(r["gemeente_code"], r["indicator_id"])] = r

    targets: dict[str, list[dict]] = defaultdict(list)
    if warehouse.table_exists(con, "publish", "targets"):
        cur = con.execute(f"select * from publish.targets where {scope} order by area_code, indicator_id", [codes])
        cols = [d[0] for d in cur.description]
        for row in cur.fetchall():
            r = dict(zip(cols, row))
            targets[r["area_code"]].append(r)
    data.targets = dict(targets)

    data.values = {k: dict(v) for k, v in values.items()}
    data.ranks, data.themes = ranks, {k: dict(v) for k, v in themes.items()}
    data.measures, data.trends = dict(measures), trends
    data.contributions, data.decomposition = dict(contributions), decomposition
    data.decomposition_by_measure = dict(by_measure)
    data._indicators_for.clear()
    from bwm.site import stapeling as stapeling_pages  # it imports this module

    stapeling_pages.load(con, data, codes)
