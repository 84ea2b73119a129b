"""The divide measures the monitor knows: one entry per measure, read by the maths, the catalogue and the site.

Every place that needs to know the measures derives from :data:`COLUMNS` here: the columns (and their order)
of ``divide.measures`` (:mod:`bwm.divide.frame`), the series of ``divide.trends`` (:mod:`bwm.divide.build`),
the names an indicator may list under ``divide_measures:`` in ``data/reference/indicators.yaml``
(:mod:`bwm.catalogue`) and the Dutch names on the site (:mod:`bwm.site`). Which measures apply to which
indicator is not decided here but in the catalogue; a measure only says at which levels it is defined.

Two kinds of entry, in the order of the table's columns:

* :class:`DivideMeasure`: a divide measure an indicator can list (``gap``, ``theil_total``, ...);
* :class:`Detail`: a column reported alongside a measure (the two group means behind ``gap``, the number of
  neighbourhoods the Theil index left out); it is filled exactly where its measure is.

Before them every row carries :data:`BASIS_COLUMNS`: how many neighbourhoods and residents went in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How a number reads (and is formatted): ``difference`` and ``level`` are in the indicator's own unit (a
#: difference of two values, or a value), ``ratio`` is "x times", ``index`` a Theil index (0 = equal),
#: ``fraction`` a unit-free number around 0..1, ``share_pct`` a percentage of residents, ``count`` a whole
#: number (of neighbourhoods), ``residents`` a number of residents (weights may be fractional).
Kind = Literal["difference", "level", "ratio", "index", "fraction", "share_pct", "count", "residents"]
KINDS: tuple[str, ...] = ("difference", "level", "ratio", "index", "fraction", "share_pct", "count", "residents")

#: The levels whose neighbourhoods a divide is measured over: buurten, or wijken.
LEVELS: tuple[str, ...] = ("buurt", "wijk")

#: Columns of every divide row, before the measures: neighbourhoods used / left out, residents used.
BASIS_COLUMNS: dict[str, Kind] = {"n_areas": "count", "n_dropped": "count", "weight_total": "residents"}


@dataclass(frozen=True)
class DivideMeasure:
    """One divide measure: a column of ``divide.measures`` and, when ``trended``, a series of ``divide.trends``.

    ``larger_is_wider``: a larger value means a wider divide, so a rise is labelled 'widening'.
    ``levels``: the levels at which it is defined (null elsewhere). ``default``: it applies to an indicator
    that does not list its ``divide_measures`` (e.g. one declared by a municipal data file).
    ``single_indicator``: its inputs exist for one indicator only, so at most one may list it.
    ``derived``: not computed from one indicator's neighbourhood values by bwm.divide.measures but from a table of
    its own (``stapeling_share_pct``: from indicators.stapeling, bwm.stapeling), in divide.measures under a
    pseudo-indicator of its own (:data:`DERIVED_INDICATORS`); no catalogue indicator may list it.
    """

    name: str
    label_nl: str
    kind: Kind
    larger_is_wider: bool = True
    trended: bool = True
    levels: tuple[str, ...] = LEVELS
    default: bool = False
    single_indicator: bool = False
    derived: bool = False


@dataclass(frozen=True)
class Detail:
    """A column reported with measure ``part_of`` and filled exactly where that measure is."""

    name: str
    label_nl: str
    kind: Kind
    part_of: str


#: Every measure and detail column of ``divide.measures``, in table order.
COLUMNS: tuple[DivideMeasure | Detail, ...] = (
    Detail("worst20_mean", "gemiddelde van de 20% slechtst scorende inwoners", "level", part_of="gap"),
    Detail("best20_mean", "gemiddelde van de 20% best scorende inwoners", "level", part_of="gap"),
    DivideMeasure("gap", "kloof tussen de 20% slechtst en best scorende inwoners", "difference", default=True),
    DivideMeasure("ratio", "verhouding tussen de 20% slechtst en best scorende inwoners", "ratio", default=True),
    DivideMeasure("weighted_std", "standaardafwijking", "difference", default=True),
    DivideMeasure("cv", "variatiecoëfficiënt", "fraction", default=True),
    DivideMeasure("theil_total", "Theil-index", "index"),
    # The split needs each neighbourhood's wijk, which only buurten have.
    DivideMeasure("theil_between", "Theil-index tussen wijken", "index", levels=("buurt",)),
    DivideMeasure("theil_within", "Theil-index binnen wijken", "index", levels=("buurt",)),
    Detail("theil_n_nonpositive", "buurten of wijken buiten de Theil-index (waarde 0 of lager)", "count",
           part_of="theil_total"),
    # Household counts per buurt are estimated for one indicator only (the divide layer's inputs.sql).
    DivideMeasure("dissimilarity", "segregatie-index (dissimilariteit)", "fraction", levels=("buurt",),
                  single_indicator=True),
    # The threshold is a multiple of one indicator's national share (pipelines/defs/divide/assets.py).
    DivideMeasure("concentration_share_pct", "aandeel inwoners in concentratiebuurten", "share_pct",
                  single_indicator=True),
    # Residents in buurten worst-off on at least `min_themes` themes (data/reference/indicators.yaml, stapeling:).
    DivideMeasure("stapeling_share_pct", "aandeel inwoners in buurten waar nadelen zich opstapelen", "share_pct",
                  levels=("buurt",), derived=True),
)

#: The divide measures by name, in table order.
MEASURES: dict[str, DivideMeasure] = {c.name: c for c in COLUMNS if isinstance(c, DivideMeasure)}
#: Every measure name (the columns of divide.measures, the series of divide.trends).
NAMES: tuple[str, ...] = tuple(MEASURES)
#: The measures computed from one indicator's values (bwm.divide.measures); the names an indicator may list under
#: ``divide_measures:``.
COMPUTED: tuple[str, ...] = tuple(m.name for m in MEASURES.values() if not m.derived)
#: The pseudo-indicator of divide.measures under which each derived measure's rows are: measure -> indicator_id.
DERIVED_INDICATORS: dict[str, str] = {"stapeling_share_pct": "stapeling"}
#: The measures of an indicator that does not list its own.
DEFAULT_MEASURES: tuple[str, ...] = tuple(m.name for m in MEASURES.values() if m.default)
#: The measures followed over the years in ``divide.trends``.
TRENDED: tuple[str, ...] = tuple(m.name for m in MEASURES.values() if m.trended)


def columns_of(measure: str) -> tuple[str, ...]:
    """The columns that are filled where ``measure`` applies: the measure itself and its details."""
    if measure not in MEASURES:
        raise KeyError(f"unknown divide measure {measure!r}; known: {', '.join(NAMES)}")
    return tuple(c.name for c in COLUMNS if c.name == measure or (isinstance(c, Detail) and c.part_of == measure))


def label_nl(measure: str, *, capitalised: bool = False) -> str:
    """The plain Dutch name of a measure (or detail column), as on the site; optionally with a capital."""
    labels = {c.name: c.label_nl for c in COLUMNS}
    if measure not in labels:
        raise KeyError(f"unknown divide column {measure!r}; known: {', '.join(labels)}")
    label = labels[measure]
    return f"{label[:1].upper()}{label[1:]}" if capitalised else label


def _check() -> None:
    """The registry is consistent: unique names, known kinds and levels, details of a known measure."""
    names = [*BASIS_COLUMNS, *(c.name for c in COLUMNS)]
    if len(set(names)) != len(names):
        raise ValueError(f"divide column names repeat: {names}")
    for column in COLUMNS:
        if column.kind not in KINDS:
            raise ValueError(f"divide column {column.name}: kind {column.kind!r} is not one of {KINDS}")
        if isinstance(column, Detail) and column.part_of not in MEASURES:
            raise ValueError(f"divide column {column.name}: part_of {column.part_of!r} is not a measure")
        if isinstance(column, DivideMeasure) and not set(column.levels) <= set(LEVELS):
            raise ValueError(f"divide measure {column.name}: levels {column.levels} not within {LEVELS}")


_check()
