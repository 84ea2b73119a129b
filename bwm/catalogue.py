"""The indicator catalogue (data/reference/indicators.yaml): loading, validation, and a table form for SQL."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

from bwm.divide import registry
from bwm.settings import PROJECT_ROOT

CATALOGUE_PATH = PROJECT_ROOT / "data" / "reference" / "indicators.yaml"

THEMES = ("materiele_welvaart", "arbeid_en_vrije_tijd", "gezondheid", "welzijn", "samenleving")
DIRECTIONS = ("higher_is_better", "higher_is_worse", "neutral")
UNITS = ("pct", "eur", "per_1000", "km", "persons")
SOURCES = ("kwb", "health")
METHODS = ("direct", "ratio")
AGGREGATES = ("ratio", "weighted_mean", "none")
WEIGHTS = ("inhabitants", "households")
LEVELS = ("gemeente", "wijk", "buurt")
SOURCE_LABELS = {
    "kwb": "CBS, Kerncijfers wijken en buurten",
    "health": "GGD'en, CBS en RIVM, Gezondheidsmonitor (Gezondheid per wijk en buurt)",
    "municipal": "Gemeentelijke registratie (aangeleverd databestand)",
}
#: The warehouse's indicators.catalogue also holds the indicators declared by municipal data files
#: (bwm.municipal.catalogue; never in the YAML, which stays the single source for CBS indicators): source
#: 'municipal', unit 'count' for counts (rates are 'pct' or 'per_1000'), aggregate 'sum' for counts.
TABLE_SOURCES = SOURCES + ("municipal",)
TABLE_UNITS = UNITS + ("count",)
TABLE_AGGREGATES = AGGREGATES + ("sum",)


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the indicator and field."""


@dataclass(frozen=True)
class Indicator:
    id: str
    name_nl: str
    name_en: str
    theme: str
    definition_nl: str
    unit: str
    direction: str
    source: str
    method: str
    aggregate: str
    weight: str
    years: tuple[int, ...]
    levels: tuple[str, ...] = LEVELS
    variable: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    factor: float | None = None
    min_denominator: float | None = None
    age_group: str | None = None
    disclosure: str = "cbs"
    #: The divide measures (bwm.divide.registry) computed over this indicator's buurten and wijken.
    divide_measures: tuple[str, ...] = registry.DEFAULT_MEASURES

    @property
    def variables(self) -> tuple[str, ...]:
        """The canonical staging variables this indicator reads."""
        return tuple(v for v in (self.variable, self.numerator, self.denominator) if v)


def _years(raw, ident: str) -> tuple[int, ...]:
    if isinstance(raw, str) and "-" in raw:
        lo, hi = (int(p) for p in raw.split("-", 1))
        return tuple(range(lo, hi + 1))
    if isinstance(raw, list) and all(isinstance(y, int) for y in raw):
        return tuple(sorted(raw))
    raise CatalogueError(f"indicator {ident}: years must be a range like 2013-2024 or a list of years, got {raw!r}")


def _check_choice(ident: str, field: str, value, allowed) -> None:
    if value not in allowed:
        raise CatalogueError(f"indicator {ident}: {field} is {value!r}; expected one of {', '.join(allowed)}")


def _divide_measures(raw, ident: str) -> tuple[str, ...]:
    """The ``divide_measures`` of one entry: a list of registry measure names, default when absent."""
    if raw is None:
        return registry.DEFAULT_MEASURES
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        raise CatalogueError(f"indicator {ident}: divide_measures must be a list of measure names, got {raw!r}")
    unknown = [m for m in raw if m not in registry.COMPUTED]
    if unknown:
        raise CatalogueError(f"indicator {ident}: divide_measures has unknown {', '.join(map(repr, unknown))}; "
                             f"expected names from {', '.join(registry.COMPUTED)} (a derived measure such as "
                             "stapeling_share_pct is not listed by an indicator)")
    if len(set(raw)) != len(raw):
        raise CatalogueError(f"indicator {ident}: divide_measures lists a measure twice: {raw}")
    return tuple(raw)


def _check_single_indicator_measures(indicators: list[Indicator]) -> None:
    """A measure whose inputs exist for one indicator only (registry ``single_indicator``) is listed at most once."""
    for measure in (m for m in registry.MEASURES.values() if m.single_indicator):
        listing = [ind.id for ind in indicators if measure.name in ind.divide_measures]
        if len(listing) > 1:
            raise CatalogueError(f"divide measure {measure.name} can apply to one indicator only; listed by "
                                 f"{', '.join(listing)}")


def parse(doc: dict) -> tuple[dict, list[Indicator]]:
    """Validate a parsed catalogue document; returns (themes, indicators)."""
    themes = doc.get("themes") or {}
    if tuple(themes) != THEMES:
        raise CatalogueError(f"themes must be exactly {', '.join(THEMES)} in that order")
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(doc.get("indicators") or [], 1):
        ident = raw.get("id") or f"#{i}"
        for field in ("id", "name_nl", "name_en", "theme", "definition_nl", "unit", "direction", "source",
                      "method", "aggregate", "weight", "years"):
            if not raw.get(field):
                raise CatalogueError(f"indicator {ident}: field {field!r} is missing")
        if ident in seen:
            raise CatalogueError(f"indicator {ident} appears twice")
        seen.add(ident)
        for field, allowed in (("theme", THEMES), ("direction", DIRECTIONS), ("unit", UNITS),
                               ("source", SOURCES), ("method", METHODS), ("aggregate", AGGREGATES),
                               ("weight", WEIGHTS)):
            _check_choice(ident, field, raw[field], allowed)
        if raw["method"] == "direct" and not raw.get("variable"):
            raise CatalogueError(f"indicator {ident}: method direct needs a variable")
        if raw["method"] == "ratio" and not (raw.get("numerator") and raw.get("denominator") and raw.get("factor")):
            raise CatalogueError(f"indicator {ident}: method ratio needs numerator, denominator and factor")
        if raw["source"] == "health" and not raw.get("age_group"):
            raise CatalogueError(f"indicator {ident}: health indicators need an age_group (e.g. '20300')")
        levels = tuple(raw.get("levels") or LEVELS)
        for level in levels:
            _check_choice(ident, "levels", level, LEVELS)
        out.append(
            Indicator(
                id=ident, name_nl=raw["name_nl"], name_en=raw["name_en"], theme=raw["theme"],
                definition_nl=" ".join(raw["definition_nl"].split()), unit=raw["unit"],
                direction=raw["direction"], source=raw["source"], method=raw["method"],
                aggregate=raw["aggregate"], weight=raw["weight"], years=_years(raw["years"], ident),
                levels=levels, variable=raw.get("variable"), numerator=raw.get("numerator"),
                denominator=raw.get("denominator"),
                factor=float(raw["factor"]) if raw.get("factor") is not None else None,
                min_denominator=float(raw["min_denominator"]) if raw.get("min_denominator") is not None else None,
                age_group=str(raw["age_group"]) if raw.get("age_group") is not None else None,
                disclosure=raw.get("disclosure", "cbs"),
                divide_measures=_divide_measures(raw.get("divide_measures"), ident),
            )
        )
    _check_single_indicator_measures(out)
    return themes, out


@dataclass(frozen=True)
class StapelingTheme:
    id: str
    name_nl: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class StapelingRule:
    """The ``stapeling:`` section of the catalogue: the fixed core set per theme and the thresholds (bwm.stapeling)."""

    themes: tuple[StapelingTheme, ...]
    min_coverage_pct: float
    min_buurten: int
    min_themes: int
    samenhang: tuple[str, ...]

    @property
    def theme_of(self) -> dict[str, str]:
        """Core indicator -> its stapeling theme."""
        return {iid: t.id for t in self.themes for iid in t.indicators}

    @property
    def theme_names(self) -> dict[str, str]:
        return {t.id: t.name_nl for t in self.themes}


def parse_stapeling(raw, indicators: list[Indicator] | tuple[Indicator, ...]) -> StapelingRule:
    """Validate the ``stapeling:`` section against the indicators: each core indicator exists, has a direction
    (never 'neutral'), appears in one theme only; the thresholds are in range."""
    if not isinstance(raw, dict):
        raise CatalogueError("the catalogue needs a 'stapeling:' section (themes, min_coverage_pct, min_buurten, "
                             "min_themes, samenhang); see the comment above it in data/reference/indicators.yaml")
    known = {ind.id: ind for ind in indicators}
    themes, seen = [], {}
    for tid, body in (raw.get("themes") or {}).items():
        if not isinstance(body, dict) or not body.get("name_nl") or not isinstance(body.get("indicators"), list) \
                or not body["indicators"]:
            raise CatalogueError(f"stapeling theme {tid}: needs name_nl and a non-empty list of indicators")
        for iid in body["indicators"]:
            if iid not in known:
                raise CatalogueError(f"stapeling theme {tid}: {iid!r} is not an indicator of the catalogue")
            if known[iid].direction == "neutral":
                raise CatalogueError(f"stapeling theme {tid}: {iid} has direction neutral; a core indicator must say "
                                     "which way is worse (higher_is_better or higher_is_worse)")
            if iid in seen:
                raise CatalogueError(f"stapeling: {iid} is in theme {seen[iid]} and in theme {tid}; one theme each")
            seen[iid] = tid
        themes.append(StapelingTheme(tid, str(body["name_nl"]), tuple(body["indicators"])))
    if len(themes) < 2:
        raise CatalogueError("stapeling: at least two themes are needed to speak of disadvantages piling up")
    try:
        coverage, min_buurten, min_themes = (float(raw["min_coverage_pct"]), int(raw["min_buurten"]),
                                             int(raw["min_themes"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogueError("stapeling: min_coverage_pct, min_buurten and min_themes must be numbers "
                             f"({exc})") from exc
    if not 0 < coverage <= 100:
        raise CatalogueError(f"stapeling: min_coverage_pct is {coverage}; expected a percentage above 0, at most 100")
    if min_buurten < 3:
        raise CatalogueError(f"stapeling: min_buurten is {min_buurten}; a rank correlation needs at least 3 buurten")
    if not 1 <= min_themes <= len(themes):
        raise CatalogueError(f"stapeling: min_themes is {min_themes}; expected 1 to {len(themes)} (the themes)")
    samenhang = tuple(raw.get("samenhang") or ())
    outside = [iid for iid in samenhang if iid not in seen]
    if len(samenhang) < 2 or outside:
        raise CatalogueError("stapeling: samenhang must list at least two core indicators"
                             + (f"; not in the core set: {', '.join(outside)}" if outside else ""))
    return StapelingRule(tuple(themes), coverage, min_buurten, min_themes, samenhang)


@lru_cache(maxsize=1)
def stapeling(path: Path = CATALOGUE_PATH) -> StapelingRule:
    """The stapeling rule of the catalogue file (validated against its indicators)."""
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    _, inds = parse(doc)
    return parse_stapeling(doc.get("stapeling"), inds)


@lru_cache(maxsize=1)
def load(path: Path = CATALOGUE_PATH) -> tuple[dict, tuple[Indicator, ...]]:
    with open(path, encoding="utf-8") as fh:
        themes, indicators = parse(yaml.safe_load(fh))
    return themes, tuple(indicators)


def indicators() -> tuple[Indicator, ...]:
    return load()[1]


def themes() -> dict:
    return load()[0]


def by_id() -> dict[str, Indicator]:
    return {ind.id: ind for ind in indicators()}


def catalogue_frame(parsed: tuple[dict, list[Indicator]] | None = None) -> pl.DataFrame:
    """One row per indicator, for the warehouse table indicators.catalogue (default: the repository's).

    ``divide_measures`` is left out on purpose: the divide code reads it from the catalogue itself, and the
    published table keeps its columns.
    """
    theme_names, inds = parsed if parsed is not None else load()
    rows = []
    for ind in inds:
        rows.append(
            {
                "indicator_id": ind.id,
                "name_nl": ind.name_nl,
                "name_en": ind.name_en,
                "theme": ind.theme,
                "theme_nl": theme_names[ind.theme]["name_nl"],
                "theme_en": theme_names[ind.theme]["name_en"],
                "definition_nl": ind.definition_nl,
                "unit": ind.unit,
                "direction": ind.direction,
                "source": ind.source,
                "source_label": SOURCE_LABELS[ind.source],
                "method": ind.method,
                "variable": ind.variable,
                "numerator": ind.numerator,
                "denominator": ind.denominator,
                "factor": ind.factor,
                "min_denominator": ind.min_denominator,
                "aggregate": ind.aggregate,
                "weight": ind.weight,
                "age_group": ind.age_group,
                "levels": list(ind.levels),
                "years": list(ind.years),
                "disclosure": ind.disclosure,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"factor": pl.Float64, "min_denominator": pl.Float64,
                                                 "levels": pl.List(pl.String), "years": pl.List(pl.Int64)})
