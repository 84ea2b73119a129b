"""Municipal declarations as rows of ``indicators.catalogue``, next to the CBS indicators from the YAML."""

from __future__ import annotations

import polars as pl

from bwm import catalogue
from bwm.municipal.declaration import FACTORS, LEVELS_UP

SOURCE = "municipal"
#: How a municipal figure aggregates to wijk and gemeente (the catalogue's ``aggregate``).
AGGREGATE = {"count": "sum", "rate": "ratio"}


def catalogue_rows(indicators: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """``municipal.indicators`` in the schema of ``like`` (the CBS catalogue frame); columns the
    declarations do not fill are null, so a column added to the CBS catalogue later needs no change here."""
    themes = catalogue.themes()
    rows = []
    for d in indicators.iter_rows(named=True):
        row = {
            "indicator_id": d["indicator_id"], "name_nl": d["name_nl"], "name_en": d["name_en"],
            "theme": d["theme"], "theme_nl": themes[d["theme"]]["name_nl"], "theme_en": themes[d["theme"]]["name_en"],
            "definition_nl": d["definition_nl"], "unit": d["unit"], "direction": d["direction"], "source": SOURCE,
            "source_label": d["source_label"], "method": "direct", "factor": FACTORS.get(d["unit"]),
            "aggregate": AGGREGATE[d["count_or_rate"]], "weight": "inhabitants",
            "levels": list(LEVELS_UP[d["level"]]), "years": list(d["years"]), "disclosure": SOURCE,
        }
        rows.append({col: row.get(col) for col in like.columns})
    return pl.DataFrame(rows, schema=like.schema)
