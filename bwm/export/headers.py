"""What the XLSX sheets show: Dutch column headers with their units, which columns identify a row (frozen), and
how numbers are shown (rounded as on the site, ``bwm.site.format.UNIT_DECIMALS``).

CSV and Parquet keep the column names (``year``, ``area_code``, ...): tools read them by name. The XLSX sheets are
for people with Dutch Excel, so their header row is Dutch and says the unit; the definitions and notes sheets
explain every column under its name, which the header keeps in brackets where the Dutch word differs.
"""

from __future__ import annotations

from bwm.export import tables as export_tables

#: Column name -> Dutch header (with the unit where a column has one). Columns of several tables share a header.
HEADERS_NL: dict[str, str] = {
    # data_long and data_wide
    "year": "Jaar", "gemeente_code": "Gemeentecode", "gemeente_name": "Gemeente", "area_level": "Niveau",
    "area_code": "Gebiedscode", "area_name": "Gebied", "theme": "Thema", "indicator_id": "Indicator (code)",
    "indicator_name": "Indicator", "unit": "Eenheid", "value": "Waarde (in de eenheid)",
    "marker": "Teken (ontbrekend cijfer)", "missing_reason": "Reden ontbrekend", "numerator": "Teller (aantal)",
    "denominator": "Noemer (aantal)", "source": "Bron", "source_table": "Brontabel",
    "series_break": "Reeksbreuk (waar/onwaar)", "value_source": "Gemaakt door",
    "territory_year": "Grondgebied van (jaar)", "predecessor_codes": "Voorgangers (codes)",
    "latest_year": "Laatste jaar met cijfer", "latest_value": "Laatste cijfer (in de eenheid)",
    # definitions
    "name_nl": "Naam", "name_en": "Naam (Engels)", "theme_nl": "Thema (naam)", "direction": "Richting",
    "definition_nl": "Definitie", "source_label": "Bron (naam)", "method": "Methode", "aggregate": "Optellen als",
    "levels": "Niveaus", "years": "Jaren", "disclosure": "Afscherming",
    # sources
    "title": "Titel", "period": "Periode", "modified": "Gewijzigd (CBS)", "retrieved_at": "Opgehaald",
    "attribution": "Bronvermelding",
    # notes and divide_definitions
    "section": "Onderdeel", "item": "Onderwerp", "nl": "Uitleg", "en": "Uitleg (Engels)", "table": "Tabel",
    "column": "Kolom",
    # targets
    "target_year": "Doeljaar", "target_value": "Doel (in de eenheid)", "base_year": "Beginjaar",
    "base_value": "Beginwaarde (in de eenheid)", "expected_value": "Verwacht volgens de lijn (in de eenheid)",
    "status": "Status", "progress_pct": "Voortgang naar de ambitie (%)", "file": "Bestand",
}
#: The divide tables' own columns: their header from DIVIDE_COLUMNS' unit ('maat': the measure's unit).
_DIVIDE_NL = {
    "level": "Niveau", "measure": "Maat", "latest_year": "Laatste jaar",
    "total_change": "Verandering", "value_effect": "Deel door waarden",
    "population_effect": "Deel door inwoners", "boundary_effect": "Deel door buurtindeling",
    "common_base_value": "Beginwaarde (zelfde buurten)", "common_latest_value": "Laatste waarde (zelfde buurten)",
    "boundary_contribution": "Bijdrage gewijzigde buurten", "n_common": "Buurten in beide jaren",
    "n_appeared": "Nieuwe buurten", "n_disappeared": "Vervallen buurten", "weight": "Inwoners",
    "value_base": "Waarde beginjaar", "weight_base": "Inwoners beginjaar", "worst20_share": "Deel in slechtste 20%",
    "best20_share": "Deel in beste 20%", "entered_worst20": "In slechtste 20% gekomen",
    "left_worst20": "Uit slechtste 20% gegaan", "entered_best20": "In beste 20% gekomen",
    "left_best20": "Uit beste 20% gegaan", "term_base": "Aandeel beginjaar", "term": "Aandeel",
    "contribution": "Bijdrage", "value_change": "Verandering waarde",
    "gemeente_value_change": "Verandering gemeente", "change_vs_gemeente": "Verschil met gemeente",
    "base_value": "Beginwaarde", "status": "Status", "value": "Waarde", "year": "Jaar",
    # divide_stapeling
    "ci_low": "Ondergrens 95%-marge", "ci_high": "Bovengrens 95%-marge", "n_areas": "Buurten met een score",
    "n_dropped": "Buurten zonder score", "trend_label": "Trend", "label_reason": "Reden trend",
    "change_since_first": "Verandering sinds eerste jaar", "change_low": "Ondergrens verandering",
    "change_high": "Bovengrens verandering",
}
_DIVIDE_UNITS = {"%": "%", "%-punt": "%-punt", "maat": "in de maat", "eenheid": "in de eenheid", "jaar": "",
                 "aantal": "aantal", "inwoners": "aantal", "fractie": "fractie 0-1"}

#: Per table: how many leading columns identify a row (frozen beside the scroll, with the header row).
FROZEN: dict[str, int] = {"data_long": 9, "data_wide": 9, "definitions": 2, "sources": 1, "notes": 2,
                          "divide_decomposition": 4, "divide_contributions": 7, "divide_stapeling": 5,
                          "divide_definitions": 2,
                          "targets": 6}
NARROW = ("year", "marker", "unit", "area_level", "series_break", "gemeente_code", "level", "latest_year",
          "target_year", "base_year")
WIDE = ("definition_nl", "nl", "en", "title", "indicator_name", "area_name")


def header(table: str, column: str) -> str:
    """The Dutch header of ``column`` in ``table``'s sheet; a year column of data_wide is its year."""
    if table in export_tables.DIVIDE_COLUMNS:
        units = {c: u for c, u, *_ in export_tables.DIVIDE_COLUMNS[table]}
        label = _DIVIDE_NL.get(column) or HEADERS_NL.get(column, column)
        unit = _DIVIDE_UNITS.get(units.get(column, ""), "")
        return f"{label} ({unit})" if unit and "(" not in label else label
    if column.isdigit():
        return column
    return HEADERS_NL.get(column, column)


def width(column: str) -> float:
    if column.isdigit():
        return 10
    return 9 if column in NARROW else 40 if column in WIDE else 16
