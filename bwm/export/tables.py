"""The tables of one export, read from the warehouse: data (long and wide), definitions, sources and notes, and
where the divide grows (its decomposition, each buurt's contribution, and what their columns mean).

The data and definitions come from the publish model (``publish.values``, ``publish.indicators``), the same tables
the site reads; the sources and notes from the metadata of the source tables and the disclosure rule; the divide
tables from ``publish.divide_decomposition`` and ``publish.divide_contributions`` (empty when the warehouse has
none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from bwm import catalogue, disclosure, warehouse

LEVELS = ("land", "gemeente", "wijk", "buurt")
DEFAULT_LEVELS = ("gemeente", "wijk", "buurt")
#: Column order of the long data table (fixed, so the bytes of an export do not depend on the query plan).
LONG_COLUMNS = ["year", "gemeente_code", "gemeente_name", "area_level", "area_code", "area_name", "theme",
                "indicator_id", "indicator_name", "unit", "value", "marker", "missing_reason", "numerator",
                "denominator", "source", "source_table", "series_break", "value_source", "territory_year",
                "predecessor_codes"]
#: The identifying columns of data_wide: one row per area and indicator (names as in the area's latest year), then
#: a column per year of the selection holding the value in the indicator's unit, then the latest year with a value
#: and that value. So KWB and health figures of different years sit side by side in one row instead of on rows of
#: their own years (a row per area and year left most cells empty). ``WIDE_LATEST`` follow the year columns.
WIDE_KEYS = ["gemeente_code", "gemeente_name", "area_level", "area_code", "area_name", "theme", "indicator_id",
             "indicator_name", "unit"]
WIDE_LATEST = ["latest_year", "latest_value"]
#: The marker of an empty cell of data_wide that no missing reason explains: the area has no row for the indicator
#: in that year (the source has no figure for that year, or the area did not exist then); in latest_year and
#: latest_value: no year has a figure. Not '-', which a spreadsheet would read as the start of a formula.
NO_FIGURE_MARKER = "\u2014"
NO_FIGURE_NL = ("Geen cijfer: voor dit gebied en deze indicator is er in dit jaar niets gepubliceerd (de bron heeft de "
                "indicator dat jaar niet, of het gebied bestond toen niet). In de kolommen laatste jaar en laatste "
                "waarde: geen enkel jaar heeft een cijfer.")
NO_FIGURE_EN = ("No figure: nothing is published for this area and indicator in this year (the source lacks the "
                "indicator that year, or the area did not exist then). In latest_year and latest_value: no year has a "
                "figure.")
WIDE_SHAPE_NL = ("data_wide heeft één rij per gebied en indicator (namen zoals in het laatste jaar van het "
                 "gebied), een kolom per jaar met de waarde in de eenheid van de indicator (kolom unit), en dan het "
                 "laatste jaar met een cijfer (latest_year) en dat cijfer (latest_value). Zo staan KWB- en "
                 "gezondheidscijfers van verschillende jaren naast elkaar. Een lege cel heeft altijd een teken (zie "
                 "marker en \u2014).")
WIDE_SHAPE_EN = ("data_wide has one row per area and indicator (names as in the area's latest year), a column per "
                 "year with the value in the indicator's unit (column unit), then the latest year with a figure "
                 "(latest_year) and that figure (latest_value). KWB and health figures of different years thus sit "
                 "side by side. An empty cell always carries a marker (see marker and \u2014).")
DEFINITION_COLUMNS = ["indicator_id", "name_nl", "name_en", "theme", "theme_nl", "unit", "direction",
                      "definition_nl", "source", "source_label", "method", "aggregate", "levels", "years",
                      "disclosure"]
SOURCE_COLUMNS = ["source_table", "title", "period", "modified", "retrieved_at", "attribution"]
NOTE_COLUMNS = ["section", "item", "value", "nl", "en"]
#: The divide tables of an export: publish table -> (column, unit, Dutch description, English description), in order.
DIVIDE_COLUMNS: dict[str, list[tuple[str, str, str, str]]] = {
    "divide_decomposition": [
        ("gemeente_code", "", "Code van de gemeente.", "Municipality code."),
        ("level", "", "Niveau van de gebieden waarover de kloof is gemeten (buurt).",
         "Level of the areas the divide is measured over (buurt)."),
        ("indicator_id", "", "De indicator (zie definitions).", "The indicator (see definitions)."),
        ("measure", "", "De maat van de kloof: gap (kloof tussen de 20% slechtst en best scorende inwoners), ratio, "
         "weighted_std (standaardafwijking), cv (variatiecoëfficiënt), theil_total/theil_between/theil_within "
         "(Theil-index, tussen en binnen wijken), dissimilarity (segregatie-index), concentration_share_pct "
         "(aandeel inwoners in concentratiebuurten).",
         "The divide measure: gap, ratio, weighted_std, cv, theil_total/between/within, dissimilarity, "
         "concentration_share_pct."),
        ("base_year", "jaar", "Het beginjaar van de vergelijking (het eerste jaar van de reeks).",
         "The base year of the comparison (the first year of the series)."),
        ("latest_year", "jaar", "Het laatste jaar van de reeks.", "The latest year of the series."),
        ("base_value", "maat", "De maat in het beginjaar, over alle buurten.", "The measure in the base year."),
        ("latest_value", "maat", "De maat in het laatste jaar, over alle buurten.", "The measure in the latest year."),
        ("total_change", "maat", "Verandering van de maat: laatste jaar min beginjaar. Gelijk aan value_effect + "
         "population_effect + boundary_effect.",
         "Change of the measure, latest minus base year; equals the sum of the three effects."),
        ("value_effect", "maat", "Deel van de verandering doordat de waarden van de buurten veranderden (inwoners "
         "gelijk gehouden), over de buurten die in beide jaren meetellen (Shapley).",
         "Part of the change due to the buurten's values changing, residents held (Shapley, common buurten)."),
        ("population_effect", "maat", "Deel van de verandering doordat het aantal inwoners per buurt veranderde "
         "(waarden gelijk gehouden); bij dissimilarity het aantal huishoudens.",
         "Part of the change due to residents per buurt changing, values held (households for dissimilarity)."),
        ("boundary_effect", "maat", "Deel van de verandering door buurten die maar in één van beide jaren "
         "meetellen: nieuwe of vervallen buurten, grenswijzigingen (reeksbreuk) of een ontbrekende waarde.",
         "Part of the change due to buurten in only one of the two years (new, removed, series break, missing)."),
        ("common_base_value", "maat", "De maat in het beginjaar over de buurten die in beide jaren meetellen.",
         "The measure in the base year over the buurten in both years."),
        ("common_latest_value", "maat", "De maat in het laatste jaar over de buurten die in beide jaren meetellen.",
         "The measure in the latest year over the buurten in both years."),
        ("boundary_contribution", "maat", "Som van de bijdragen (divide_contributions) van de buurten die niet in "
         "beide jaren meetellen; alleen voor maten die een som over buurten zijn.",
         "Sum of the contributions of the buurten not in both years (additive measures only)."),
        ("n_common", "aantal", "Buurten die in beide jaren meetellen, zonder reeksbreuk.",
         "Buurten in both years, without a series break."),
        ("n_appeared", "aantal", "Buurten die alleen in het laatste jaar meetellen.",
         "Buurten in the latest year only."),
        ("n_disappeared", "aantal", "Buurten die alleen in het beginjaar meetellen.", "Buurten in the base year only."),
    ],
    "divide_contributions": [
        ("gemeente_code", "", "Code van de gemeente.", "Municipality code."),
        ("level", "", "Niveau van de gebieden (buurt).", "Level of the areas (buurt)."),
        ("indicator_id", "", "De indicator (zie definitions).", "The indicator (see definitions)."),
        ("measure", "", "De maat van de kloof die een som over buurten is: gap, theil_total, theil_between, "
         "theil_within, dissimilarity, concentration_share_pct.",
         "The additive divide measure: gap, theil_*, dissimilarity, concentration_share_pct."),
        ("base_year", "jaar", "Het beginjaar van de vergelijking.", "The base year of the comparison."),
        ("year", "jaar", "Het jaar waarvan de bijdrage tot de verandering sinds het beginjaar is berekend.",
         "The year whose change since the base year is split over the buurten."),
        ("area_code", "", "Code van de buurt.", "Buurt code."),
        ("status", "", "common: in beide jaren; appeared: alleen in dit jaar; disappeared: alleen in het beginjaar; "
         "series_break: in beide jaren, maar de reeks is onderbroken (bijvoorbeeld andere grenzen).",
         "common, appeared, disappeared or series_break (present in both years, but the series broke)."),
        ("value", "eenheid", "Waarde van de buurt in dit jaar, in de eenheid van de indicator.",
         "The buurt's value this year, in the indicator's unit."),
        ("weight", "inwoners", "Inwoners van de buurt in dit jaar (het gewicht).", "The buurt's residents this year."),
        ("value_base", "eenheid", "Waarde van de buurt in het beginjaar.", "The buurt's value in the base year."),
        ("weight_base", "inwoners", "Inwoners van de buurt in het beginjaar.",
         "The buurt's residents in the base year."),
        ("worst20_share", "fractie", "Deel (0 tot 1) van de inwoners van de buurt dat in dit jaar tot de 20% "
         "slechtst scorende inwoners van de gemeente hoort.",
         "Fraction (0..1) of the buurt's residents among the worst-off 20% of the municipality's residents."),
        ("best20_share", "fractie", "Deel (0 tot 1) van de inwoners van de buurt dat tot de 20% best scorende "
         "inwoners hoort.", "Fraction (0..1) of the buurt's residents among the best-off 20%."),
        ("entered_worst20", "", "Waar: de buurt hoorde vorig jaar van de reeks niet bij de 20% slechtst scorenden "
         "en nu (deels) wel; leeg als de buurt vorig jaar niet meetelde of de reeks is onderbroken.",
         "True: not among the worst-off 20% in the previous year, (partly) now; empty when not comparable."),
        ("left_worst20", "", "Waar: de buurt hoorde vorig jaar (deels) bij de 20% slechtst scorenden en nu niet meer.",
         "True: (partly) among the worst-off 20% in the previous year, not now."),
        ("entered_best20", "", "Waar: de buurt is dit jaar bij de 20% best scorenden gekomen.",
         "True: entered the best-off 20% this year."),
        ("left_best20", "", "Waar: de buurt hoort dit jaar niet meer bij de 20% best scorenden.",
         "True: left the best-off 20% this year."),
        ("term_base", "maat", "Aandeel van de buurt in de maat in het beginjaar; de aandelen van alle buurten tellen "
         "op tot de maat. Bij gap: het aandeel in het gemiddelde van de best (of slechtst) scorende 20% min het "
         "aandeel in dat van de andere 20%.",
         "The buurt's term of the measure in the base year; the terms of all buurten sum to the measure."),
        ("term", "maat", "Aandeel van de buurt in de maat in dit jaar.", "The buurt's term of the measure this year."),
        ("contribution", "maat", "Bijdrage van de buurt aan de verandering van de maat sinds het beginjaar: term min "
         "term_base (een ontbrekend aandeel telt als 0). Alle bijdragen samen zijn de verandering van de maat.",
         "The buurt's contribution to the change since the base year: term minus term_base; they sum to the change."),
        ("value_change", "eenheid", "Verandering van de waarde van de buurt sinds het beginjaar (alleen zonder "
         "reeksbreuk).", "Change of the buurt's value since the base year (unbroken series only)."),
        ("gemeente_value_change", "eenheid", "Verandering van de waarde van de gemeente als geheel in dezelfde "
         "jaren.", "Change of the municipality's own value over the same years."),
        ("change_vs_gemeente", "eenheid", "value_change min gemeente_value_change: hoeveel de buurt meer (of minder) "
         "veranderde dan de gemeente.", "value_change minus gemeente_value_change."),
    ],
    "divide_stapeling": [
        ("gemeente_code", "", "Code van de gemeente.", "Municipality code."),
        ("level", "", "Niveau van de gebieden waarover gemeten is (buurt).", "Level of the areas (buurt)."),
        ("indicator_id", "", "stapeling: de maat rust op de vaste kernset van indicatoren per thema (zie notes en de "
         "pagina Over), niet op één indicator.", "stapeling: the measure rests on the fixed core set per theme."),
        ("measure", "", "stapeling_share_pct: het percentage inwoners (van de buurten met een score) dat woont in een "
         "buurt die binnen de gemeente bij de 20% slechtst scorende inwoners hoort op ten minste 3 thema's "
         "(armoede en inkomen, werk en uitkeringen, gezondheid, eenzaamheid en stress). Een signaal, geen oordeel.",
         "stapeling_share_pct: % of residents (of scored buurten) living in a buurt among the municipality's "
         "worst-off 20% on at least 3 themes."),
        ("year", "jaar", "Het jaar (de jaren van de gezondheidsmonitor, met de KWB-cijfers van hetzelfde jaar).",
         "The year (the health periods, with KWB figures of the same year)."),
        ("value", "%", "De maat.", "The measure."),
        ("ci_low", "%", "Ondergrens van de 95%-marge (Monte Carlo over de marges van de gezondheidscijfers en de "
         "afronding van de KWB-cijfers).", "Lower bound of the 95% interval (Monte Carlo)."),
        ("ci_high", "%", "Bovengrens van de 95%-marge.", "Upper bound of the 95% interval."),
        ("n_areas", "aantal", "Buurten met een score.", "Buurten with a score."),
        ("n_dropped", "aantal", "Buurten zonder score (te weinig cijfers of geen inwoners).",
         "Buurten without a score (too few figures, or no residents)."),
        ("trend_label", "", "widening (groter geworden), narrowing (kleiner geworden), no clear change of too few "
         "years; alleen groter of kleiner als de marge van de verandering nul uitsluit.",
         "The trend label; widening/narrowing only when the change's interval excludes zero."),
        ("label_reason", "", "Waarom dat label (bijvoorbeeld interval_includes_zero).", "Why that label."),
        ("change_since_first", "%-punt", "Verandering sinds het eerste jaar.", "Change since the first year."),
        ("change_low", "%-punt", "Ondergrens van de marge van die verandering.", "Lower bound of the change."),
        ("change_high", "%-punt", "Bovengrens van de marge van die verandering.", "Upper bound of the change."),
        ("source_table", "", "De CBS-tabellen waar de cijfers van dat jaar uit komen.", "The CBS tables used."),
    ],
}
DIVIDE_DEFINITION_COLUMNS = ["table", "column", "unit", "nl", "en"]
#: The targets table (publish.targets, the municipality's ambities): one row per area and indicator with a target;
#: values in the indicator's unit, status op_koers / niet_op_koers / onbekend (rule: bwm.municipal.targets).
TARGET_COLUMNS = ["gemeente_code", "area_code", "area_level", "indicator_id", "indicator_name", "unit", "base_year",
                  "base_value", "target_year", "target_value", "latest_year", "latest_value", "expected_value",
                  "status", "progress_pct", "file"]
#: The tables of an export, in the order files and sheets are written (``ExportTables.named``).
TABLE_NAMES = ("data_long", "data_wide", "definitions", "sources", "notes", "divide_decomposition",
               "divide_contributions", "divide_stapeling", "divide_definitions", "targets")
#: Row order of the divide tables.
DIVIDE_ORDER = {"divide_decomposition": ["gemeente_code", "level", "indicator_id", "measure", "base_year"],
                "divide_contributions": ["gemeente_code", "level", "indicator_id", "measure", "base_year", "year",
                                         "area_code"],
                "divide_stapeling": ["gemeente_code", "level", "indicator_id", "measure", "year"]}
#: The year columns a year selection filters, per divide table.
DIVIDE_YEARS = {"divide_decomposition": ["base_year", "latest_year"], "divide_contributions": ["year", "base_year"],
                "divide_stapeling": ["year"]}
ATTRIBUTION = {
    "kwb": "Bron: CBS (CC BY 4.0)",
    "health": "Bron: GGD'en, CBS en RIVM, Gezondheidsmonitor (CC BY 4.0)",
    "municipal": "Bron: gemeente (aangeleverd databestand)",
}


class ExportError(ValueError):
    """The selection cannot be exported as asked; the message says what to change."""


@dataclass(frozen=True)
class Selection:
    """What to export; an empty tuple means everything in the warehouse."""

    municipalities: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    levels: tuple[str, ...] = DEFAULT_LEVELS

    def __post_init__(self) -> None:
        for theme in self.themes:
            if theme not in catalogue.THEMES:
                raise ExportError(f"unknown theme {theme!r}; choose from {', '.join(catalogue.THEMES)}")
        for level in self.levels:
            if level not in LEVELS:
                raise ExportError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
        if not self.levels:
            raise ExportError("choose at least one level")

    def describe(self) -> str:
        def part(name, values):
            return f"{name}: {', '.join(str(v) for v in values) if values else 'all'}"
        return "; ".join([part("municipalities", self.municipalities), part("themes", self.themes),
                          part("years", self.years), part("levels", self.levels)])


@dataclass
class ExportTables:
    data_long: pl.DataFrame
    data_wide: pl.DataFrame  # numbers, null where missing
    wide_markers: pl.DataFrame  # same shape: the marker where data_wide is null
    definitions: pl.DataFrame
    sources: pl.DataFrame
    notes: pl.DataFrame
    generated_at: dt.datetime
    selection: Selection = field(default_factory=Selection)
    divide_decomposition: pl.DataFrame = field(default_factory=lambda: _empty_divide("divide_decomposition"))
    divide_contributions: pl.DataFrame = field(default_factory=lambda: _empty_divide("divide_contributions"))
    divide_stapeling: pl.DataFrame = field(default_factory=lambda: _empty_divide("divide_stapeling"))
    divide_definitions: pl.DataFrame = field(default_factory=lambda: divide_definitions())
    targets: pl.DataFrame = field(default_factory=lambda: _empty_targets())

    def named(self) -> dict[str, pl.DataFrame]:
        """Table name -> frame, in the order files and sheets are written."""
        return dict(zip(TABLE_NAMES, (self.data_long, self.data_wide, self.definitions, self.sources, self.notes,
                                      self.divide_decomposition, self.divide_contributions, self.divide_stapeling,
                                      self.divide_definitions, self.targets),
                        strict=True))


def build(con, selection: Selection, generated_at: dt.datetime) -> ExportTables:
    """Read the export's tables from an open warehouse connection."""
    built = _assemble(con, _data_long(con, selection), selection, generated_at)
    catalogue = read_catalogue(con)
    for name in DIVIDE_ORDER:
        setattr(built, name, divide_table(con, name, selection, catalogue))
    built.targets = targets_table(con, selection, catalogue)
    return built


def build_per_municipality(con, codes: list[str], generated_at: dt.datetime, levels: tuple[str, ...] = DEFAULT_LEVELS,
                           batch: int = 40):
    """``(code, build(con, Selection(municipalities=(code,), levels=levels), generated_at))`` for every code, the
    same tables, but the data of ``batch`` municipalities read in one query: the query reads the whole values table
    whatever it selects, so one per municipality costs seconds per municipality at national scale. The catalogue
    and the sources' metadata are read once."""
    catalogue, lookup = read_catalogue(con), SourceLookup.read(con)
    for first in range(0, len(codes), batch):
        chunk = list(codes[first:first + batch])
        long = _data_long(con, Selection(municipalities=tuple(chunk), levels=levels))
        national = long.filter(pl.col("gemeente_code").is_null())  # area_level 'land', when levels has it
        parts = long.filter(pl.col("gemeente_code").is_not_null()).partition_by("gemeente_code", as_dict=True)
        batch_selection = Selection(municipalities=tuple(chunk), levels=levels)
        divide = {name: divide_table(con, name, batch_selection, catalogue).partition_by("gemeente_code", as_dict=True)
                  for name in DIVIDE_ORDER}
        targets = targets_table(con, batch_selection, catalogue).partition_by("gemeente_code", as_dict=True)
        for code in chunk:
            part = pl.concat([national, parts.get((code,), long.clear())])
            built = _assemble(con, _sorted(part), Selection(municipalities=(code,), levels=levels), generated_at,
                              catalogue, lookup)
            for name, frames in divide.items():
                setattr(built, name, frames.get((code,), _empty_divide(name)))
            built.targets = targets.get((code,), _empty_targets())
            yield code, built


def _assemble(con, long: pl.DataFrame, selection: Selection, generated_at: dt.datetime,
              catalogue: pl.DataFrame | None = None, lookup: SourceLookup | None = None) -> ExportTables:
    if long.is_empty():
        raise ExportError(f"nothing to export for {selection.describe()}: no such values in the warehouse")
    catalogue = read_catalogue(con) if catalogue is None else catalogue
    lookup = SourceLookup.read(con) if lookup is None else lookup
    order = indicator_order(catalogue, long["indicator_id"].unique().to_list())
    wide, markers = _wide(long, order)
    return ExportTables(long, wide, markers, definitions(catalogue, order), lookup.sources(long),
                        notes(con, selection, generated_at), generated_at, selection)


def _data_long(con, s: Selection) -> pl.DataFrame:
    sql, params = long_query(s)
    frame = con.execute(sql, params).pl()
    reasons = frame.get_column("missing_reason").drop_nulls().unique().to_list()
    frame = frame.with_columns(  # the marker of each distinct reason (a handful), not a Python call per row
        pl.col("missing_reason").replace_strict({r: disclosure.marker(r) for r in reasons}, default=None,
                                                return_dtype=pl.String).alias("marker"),
    )
    return _sorted(frame.select(LONG_COLUMNS))


def long_query(s: Selection) -> tuple[str, dict]:
    """The query (and its parameters) of the rows of ``publish.values`` the long table is made from: every column of
    it but ``marker``, which follows from ``missing_reason``; in no particular order."""
    where, params = ["area_level in (select unnest($levels))"], {"levels": list(s.levels)}
    if s.municipalities:
        where.append("(gemeente_code in (select unnest($gm)) or area_level = 'land')")
        params["gm"] = list(s.municipalities)
    if s.themes:
        where.append("theme in (select unnest($themes))")
        params["themes"] = list(s.themes)
    if s.years:
        where.append("year in (select unnest($years))")
        params["years"] = list(s.years)
    columns = ", ".join(c for c in LONG_COLUMNS if c != "marker")
    return f"select {columns} from publish.values where {' and '.join(where)}", params


def _sorted(long: pl.DataFrame) -> pl.DataFrame:
    """The long table in its fixed row order: year, gemeente, level (land first), area, indicator."""
    level_rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    return long.with_columns(pl.col("area_level").replace_strict(level_rank, return_dtype=pl.Int64).alias("_level")) \
        .sort(["year", "gemeente_code", "_level", "area_code", "indicator_id"], nulls_last=False).select(LONG_COLUMNS)


def _empty_divide(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=[c for c, *_ in DIVIDE_COLUMNS[name]])


def _empty_targets() -> pl.DataFrame:
    return pl.DataFrame(schema=TARGET_COLUMNS)


def targets_table(con, s: Selection, catalogue: pl.DataFrame) -> pl.DataFrame:
    """The targets of the selection (publish.targets): its municipalities, the indicators of its themes, its levels;
    empty (with its columns) when the warehouse has none. Years do not narrow it: a target spans years."""
    if not warehouse.table_exists(con, "publish", "targets"):
        return _empty_targets()
    where, params = ["area_level in (select unnest($levels))"], {"levels": list(s.levels)}
    if s.municipalities:
        where.append("gemeente_code in (select unnest($gm))")
        params["gm"] = list(s.municipalities)
    if s.themes:
        ids = catalogue.filter(pl.col("theme").is_in(list(s.themes))).get_column("indicator_id").to_list()
        where.append("indicator_id in (select unnest($ids))")
        params["ids"] = ids or [""]
    return con.execute(f"select {', '.join(TARGET_COLUMNS)} from publish.targets where {' and '.join(where)} "
                       "order by gemeente_code, area_code, indicator_id", params).pl().select(TARGET_COLUMNS)


def divide_tables_present(con) -> list[str]:
    """The divide publish tables (``publish.<name>``) the warehouse has; an older warehouse may have none."""
    return [f"publish.{name}" for name in DIVIDE_ORDER if warehouse.table_exists(con, "publish", name)]


def divide_table(con, name: str, s: Selection, catalogue: pl.DataFrame) -> pl.DataFrame:
    """One divide table of the selection, in its fixed column and row order: its municipalities, the indicators of
    its themes, the years of its years (both ends, for the decomposition) and only when its levels have the level;
    empty (with its columns) when the warehouse has no such table."""
    columns = [c for c, *_ in DIVIDE_COLUMNS[name]]
    if not warehouse.table_exists(con, "publish", name):
        return _empty_divide(name)
    where, params = ["level in (select unnest($levels))"], {"levels": list(s.levels)}
    if s.municipalities:
        where.append("gemeente_code in (select unnest($gm))")
        params["gm"] = list(s.municipalities)
    if s.themes:  # the stapeling measure spans every theme: it is left out of an export of some themes
        ids = catalogue.filter(pl.col("theme").is_in(list(s.themes))).get_column("indicator_id").to_list()
        where.append("indicator_id in (select unnest($ids))")
        params["ids"] = ids or [""]
    if s.years:
        where += [f"{y} in (select unnest($years))" for y in DIVIDE_YEARS[name]]
        params["years"] = list(s.years)
    sql = f"select {', '.join(columns)} from publish.{name} where {' and '.join(where)} order by " \
          f"{', '.join(DIVIDE_ORDER[name])}"
    return con.execute(sql, params).pl().select(columns)


def divide_definitions() -> pl.DataFrame:
    """What every column of the divide tables means, in Dutch and English, with its unit ('maat': the measure's
    unit; 'eenheid': the indicator's)."""
    rows = [[table, *entry] for table, entries in DIVIDE_COLUMNS.items() for entry in entries]
    return pl.DataFrame(rows, schema={c: pl.String for c in DIVIDE_DEFINITION_COLUMNS}, orient="row")


def read_catalogue(con) -> pl.DataFrame:
    """``publish.indicators`` in catalogue order (the columns of the definitions table)."""
    return con.execute(f"select {', '.join(DEFINITION_COLUMNS)} from publish.indicators order by catalogue_order").pl()


def indicator_order(catalogue: pl.DataFrame, present) -> list[str]:
    """Catalogue order (CBS indicators as in the YAML, then municipal ones by id), restricted to ``present``."""
    present = set(present)
    return [i for i in catalogue.get_column("indicator_id").to_list() if i in present]


def _wide(long: pl.DataFrame, order: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """data_wide (``WIDE_KEYS``, a Float64 column per year as text ``"2019"``, ``WIDE_LATEST``) and a frame of the
    same shape with the marker of every empty cell: the missing reason's marker, else ``NO_FIGURE_MARKER``."""
    years = sorted(long.get_column("year").unique().to_list())
    year_columns = [str(y) for y in years]
    key = ["area_level", "area_code", "indicator_id"]
    level_rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    indicator_rank = {i: n for n, i in enumerate(order)}
    names = long.sort("year").group_by(key, maintain_order=True).agg(
        [pl.col(c).last() for c in WIDE_KEYS if c not in key])
    cells = long.select(*key, pl.col("year").cast(pl.String), "value",
                        pl.when(pl.col("value").is_null()).then(pl.col("marker").fill_null(NO_FIGURE_MARKER))
                        .otherwise(pl.lit("")).alias("mark"))
    values = cells.pivot(on="year", index=key, values="value", aggregate_function="first")
    marks = cells.pivot(on="year", index=key, values="mark", aggregate_function="first")
    latest = long.filter(pl.col("value").is_not_null()).sort("year").group_by(key).agg(
        pl.col("year").last().cast(pl.Int64).alias("latest_year"), pl.col("value").last().alias("latest_value"))
    rows = names.join(latest, on=key, how="left", nulls_equal=True).with_columns(
        pl.col("area_level").replace_strict(level_rank, return_dtype=pl.Int64).alias("_level"),
        pl.col("indicator_id").replace_strict(indicator_rank, default=len(order), return_dtype=pl.Int64).alias("_i"),
    ).sort(["gemeente_code", "_level", "area_code", "_i"], nulls_last=False)
    wide = rows.join(values, on=key, how="left", nulls_equal=True, maintain_order="left")
    marked = rows.select(key).join(marks, on=key, how="left", nulls_equal=True, maintain_order="left")
    wide = wide.select(WIDE_KEYS + [pl.col(y).cast(pl.Float64) if y in wide.columns else pl.lit(None, pl.Float64)
                                    .alias(y) for y in year_columns] + WIDE_LATEST)
    no_figure = pl.lit(NO_FIGURE_MARKER)
    markers = pl.DataFrame({c: wide.get_column(c).is_null() for c in wide.columns}).select(
        [pl.when(pl.col(c)).then(no_figure).otherwise(None).alias(c) for c in WIDE_KEYS + WIDE_LATEST])
    year_marks = marked.select([(pl.col(y).replace("", None).fill_null(NO_FIGURE_MARKER) if y in marked.columns
                                 else no_figure).alias(y) for y in year_columns]) if wide.height else \
        pl.DataFrame(schema={y: pl.String for y in year_columns})
    markers = pl.concat([markers.select(WIDE_KEYS), year_marks, markers.select(WIDE_LATEST)], how="horizontal_extend")
    markers = markers.with_columns([pl.when(wide.get_column(c).is_null()).then(pl.col(c)).otherwise(None).alias(c)
                                    for c in year_columns])
    return wide, markers


def definitions(catalogue: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """The definitions table: the catalogue rows of the indicators in ``order``, in that order."""
    frame = catalogue.filter(pl.col("indicator_id").is_in(order)).with_columns(
        pl.col("levels").list.join(", "),
        pl.col("years").cast(pl.List(pl.String)).list.join(", "),
    )
    rank = {i: n for n, i in enumerate(order)}
    return frame.with_columns(pl.col("indicator_id").replace_strict(rank, return_dtype=pl.Int64).alias("_o")) \
        .sort("_o").select(DEFINITION_COLUMNS)


@dataclass(frozen=True)
class SourceLookup:
    """What the sources table says about each source table: CBS table metadata (``raw.cbs_tables``), when each
    municipal file was last checked (``municipal.file_status``) and what was declared in it
    (``municipal.indicators``). Read once, used for every municipality."""

    cbs: dict[str, tuple]
    checked: dict[str, dt.datetime]
    municipal: dict[str, tuple[set, set]]

    @classmethod
    def read(cls, con) -> SourceLookup:
        cbs = {r[0]: r for r in con.execute(
            "select table_id, title, period, modified, retrieved_at from raw.cbs_tables").fetchall()} \
            if warehouse.table_exists(con, "raw", "cbs_tables") else {}
        checked = {}
        if warehouse.table_exists(con, "municipal", "file_status"):
            checked = dict(con.execute(
                "select file, max(checked_at) from municipal.file_status group by file").fetchall())
        municipal: dict[str, tuple[set, set]] = {}
        if warehouse.table_exists(con, "municipal", "indicators"):
            for label, years, file_list in con.execute(
                    "select source_label, years, files from municipal.indicators order by indicator_id").fetchall():
                for f in file_list:
                    entry = municipal.setdefault(f, (set(), set()))
                    entry[0].add(label)
                    entry[1].update(years)
        return cls(cbs, checked, municipal)

    def sources(self, used: pl.DataFrame) -> pl.DataFrame:
        """The sources table of the (source, source_table) pairs of ``used`` (the long table, or those columns)."""
        used = used.select("source", "source_table").drop_nulls().unique(maintain_order=True)
        tables: dict[str, str] = {}
        for source, table in used.iter_rows():
            for t in str(table).split(", "):
                tables.setdefault(t, source)
        rows = []
        for table in sorted(tables):
            source = tables[table]
            if table in self.cbs:
                _, title, period, modified, retrieved = self.cbs[table]
                rows.append([table, title, period, modified, retrieved, ATTRIBUTION.get(source)])
            else:
                labels, years = self.municipal.get(table, (set(), set()))
                checked = self.checked.get(table)
                rows.append([table, "; ".join(sorted(labels)) or None, ", ".join(str(y) for y in sorted(years)) or None,
                             None, checked.isoformat() if checked is not None else None, ATTRIBUTION.get(source)])
        return pl.DataFrame(rows, schema={c: pl.String for c in SOURCE_COLUMNS}, orient="row")


def notes(con, s: Selection, generated_at: dt.datetime) -> pl.DataFrame:
    """The notes table: when and what was exported, the markers, the disclosure rule, how to read the columns."""
    rows = [["export", "generated_at", generated_at.isoformat(), "Gemaakt op", "Generated at"],
            ["export", "selection", s.describe(), "Selectie", "Selection"]]
    for reason, (mark, nl, en) in disclosure.MISSING_REASONS.items():
        rows.append(["marker", reason, mark, nl, en])
    rule = None
    if warehouse.table_exists(con, "municipal", "disclosure_rule"):
        rule = con.execute("select min_count, min_cases from municipal.disclosure_rule").fetchone()
    if rule is not None:
        rows += [
            ["disclosure", "min_count", f"{rule[0]:g}",
             "Gemeentelijke aantallen kleiner dan dit getal zijn afgeschermd (x); ook een aantal van 0.",
             "Municipal counts below this number are suppressed (x), zero included."],
            ["disclosure", "min_cases", f"{rule[1]:g}",
             "Gemeentelijke percentages en verhoudingen zijn afgeschermd (x) als de teller (de personen met het "
             "kenmerk) of de rest (noemer min teller) kleiner is dan dit getal; teller en noemer ook.",
             "Municipal rates are suppressed (x) when the numerator (the people with the characteristic) or the "
             "remainder (denominator minus numerator) is below this number; numerator and denominator too."],
            ["disclosure", "totals", "x",
             "Een totaal (wijk, gemeente) is de som van zijn delen. Daarom zijn ook andere cijfers afgeschermd, "
             "zodat geen afgeschermd cijfer uit de totalen te berekenen is of nauwer te begrenzen dan de drempel. "
             "Alle afgeschermde cijfers hebben hetzelfde teken (x). Verschillen tussen jaren zijn niet "
             "beschermd. CBS-cijfers zijn door het CBS zelf beveiligd (.).",
             "A total (wijk, gemeente) is the sum of its parts, so further figures are suppressed too: no "
             "suppressed figure can be computed from the totals, or bounded more narrowly than the threshold. "
             "Every suppressed figure has the same marker (x). Differences between years are not protected. "
             "CBS figures are protected by CBS itself (.)."],
        ]
    rows += [
        ["columns", "data_wide", "", WIDE_SHAPE_NL, WIDE_SHAPE_EN],
        ["columns", "targets", "",
         "De ambities van de gemeente (bestand ambities*.csv in de map van de gemeente): per gebied en indicator het "
         "doel (target_value in de eenheid, target_year) en het beginjaar met zijn cijfer. Op koers (op_koers) als "
         "het laatste cijfer minstens zo ver richting het doel is als de rechte lijn van het beginjaar naar het doel "
         "voor dat jaar verwacht (expected_value); anders niet_op_koers; onbekend zonder begin- of later cijfer.",
         "The municipality's targets (file ambities*.csv): per area and indicator the target and its year, and the "
         "base year with its figure. op_koers when the latest figure is at least as far towards the target as the "
         "straight line from the base year to the target expects for that year (expected_value); else niet_op_koers; "
         "onbekend without a base or later figure."],
        ["marker", "no_figure", NO_FIGURE_MARKER, NO_FIGURE_NL, NO_FIGURE_EN],
        ["columns", "value", "", "Waarde in de eenheid van de indicator (kolom unit); leeg als het cijfer ontbreekt.",
         "Value in the indicator's unit (column unit); empty when the figure is missing."],
        ["columns", "marker", "", "Teken voor een ontbrekend cijfer; in data_wide staat het teken in de cel.",
         "Marker of a missing figure; in data_wide the marker is in the cell."],
        ["columns", "series_break", "", "Waar: de grenzen van het gebied zijn dit jaar veranderd (reeksbreuk).",
         "True: the area's boundaries changed this year (series break)."],
        ["columns", "value_source", "",
         "Wie het cijfer maakte: cbs (zoals gepubliceerd in de CBS-tabel), municipal (uit het databestand van de "
         "gemeente) of aggregated_predecessors (berekend door de monitor uit de gemeentecijfers van de gemeenten "
         "waaruit de gemeente door herindeling is ontstaan, kolom predecessor_codes, op het grondgebied van het jaar "
         "in territory_year, met de regel van de indicator: verhoudingen als som van de tellers gedeeld door de som "
         "van de noemers, gemiddelden gewogen naar inwoners of huishoudens, aantallen opgeteld; medianen niet).",
         "Who made the figure: cbs (as published in the CBS table), municipal (from the municipality's data file) "
         "or aggregated_predecessors (computed by the monitor from the municipal figures of the municipalities it "
         "was formed from by a merger, column predecessor_codes, on the territory of the year in territory_year, by "
         "the indicator's rule: ratios as the sum of numerators over the sum of denominators, means weighted by "
         "inhabitants or households, counts summed; medians not)."],
        ["columns", "territory_year", "jaar",
         "Bij value_source aggregated_predecessors: het jaar van het grondgebied waarop het cijfer is berekend.",
         "With value_source aggregated_predecessors: the year of the territory the figure is computed on."],
        ["columns", "predecessor_codes", "",
         "Bij value_source aggregated_predecessors: de codes van de gemeenten waaruit het cijfer is berekend "
         "(gescheiden door ;).",
         "With value_source aggregated_predecessors: the codes of the municipalities it was computed from."],
        ["text", "formulas", "'",
         "Tekst die met =, +, - of @ begint, krijgt een ' ervoor, zodat een spreadsheet hem niet als formule uitvoert.",
         "Text starting with =, +, - or @ gets a leading ' so that a spreadsheet does not run it as a formula."],
    ]
    return pl.DataFrame(rows, schema={c: pl.String for c in NOTE_COLUMNS}, orient="row")
