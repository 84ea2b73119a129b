"""Indicator declarations of a municipal data file: a sidecar YAML, or a sheet ``indicatoren`` in an XLSX.

Every indicator in a file is declared with the fields the catalogue needs (README, "How to add a municipal
data file"). A CSV ``schuldhulp.csv`` is declared in ``schuldhulp.indicators.yaml`` next to it; an XLSX
holds a sheet ``indicatoren`` (one row per indicator, the same fields as columns), or a sidecar YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from bwm import catalogue
from bwm.municipal.findings import Finding, shown
from bwm.municipal.limits import YAML_MAX_ALIASES, YAML_MAX_EXPANDED_CHARS, number

SIDECAR_SUFFIX = ".indicators.yaml"
DECLARATION_SHEET = "indicatoren"
KINDS = ("count", "rate")
UNITS_BY_KIND = {"count": ("count",), "rate": ("pct", "per_1000")}
FACTORS = {"pct": 100.0, "per_1000": 1000.0}
LEVELS = ("buurt", "wijk", "gemeente")
#: Levels at which an indicator declared at a level has values: that level and the ones above it.
LEVELS_UP = {"buurt": ("gemeente", "wijk", "buurt"), "wijk": ("gemeente", "wijk"), "gemeente": ("gemeente",)}
REQUIRED = ("id", "name_nl", "name_en", "theme", "kind", "unit", "direction", "level", "definition_nl", "gemeente")
OPTIONAL = ("definition_en", "source", "stapeling_theme")
_ID = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
_GM = re.compile(r"^GM\d{4}$")


@dataclass(frozen=True)
class Declaration:
    """One declared municipal indicator."""

    id: str
    name_nl: str
    name_en: str
    theme: str
    kind: str  # count | rate
    unit: str  # count | pct | per_1000
    direction: str
    level: str  # the level of the rows in the file: buurt | wijk | gemeente
    definition_nl: str
    gemeenten: tuple[str, ...]
    source_label: str
    definition_en: str | None = None
    declared_in: str = ""
    #: The theme of the stapeling core set (data/reference/indicators.yaml, stapeling:) this indicator joins in its
    #: gemeenten (bwm.stapeling); None: it does not join. Rates with a direction only.
    stapeling_theme: str | None = None

    @property
    def factor(self) -> float | None:
        """Rates: 100 (percent) or 1000 (per 1 000); counts: None."""
        return FACTORS.get(self.unit)

    @property
    def levels(self) -> tuple[str, ...]:
        return LEVELS_UP[self.level]

    def differences(self, other: Declaration) -> list[str]:
        """Fields in which two declarations of the same id differ (the same indicator may span files)."""
        fields = ("name_nl", "name_en", "theme", "kind", "unit", "direction", "level", "definition_nl",
                  "stapeling_theme")
        return [f for f in fields if getattr(self, f) != getattr(other, f)]


def sidecar_name(data_file: str) -> str:
    """``schuldhulp.csv`` -> ``schuldhulp.indicators.yaml``."""
    stem = data_file.rsplit(".", 1)[0]
    return stem + SIDECAR_SUFFIX


def parse_yaml(file: str, text: str, reserved: frozenset[str]) -> tuple[list[Declaration], list[Finding]]:
    """Declarations from a sidecar YAML; ``reserved`` are ids taken by the CBS catalogue."""

    def bad(column, expected, found) -> Finding:
        return Finding(file, None, None, column, "declaration", expected, found)

    try:
        doc = load_yaml(text)
    except AliasLimit as exc:
        return [], [Finding(file, None, None, None, "size_limit",
                            f"a declaration with at most {YAML_MAX_ALIASES} aliases (*name) that, written out, holds "
                            f"at most {number(YAML_MAX_EXPANDED_CHARS)} characters", str(exc))]
    except yaml.YAMLError as exc:
        return [], [bad(None, "a YAML document (see README, 'How to add a municipal data file')",
                        f"a YAML syntax error{_where(exc)}: {_problem(exc)}")]
    except RecursionError:
        return [], [bad(None, "a YAML document (see README, 'How to add a municipal data file')",
                        "lists or mappings nested too deeply to read")]
    if not isinstance(doc, dict) or not isinstance(doc.get("indicators"), list) or not doc["indicators"]:
        return [], [bad("indicators", "a list 'indicators:' with one entry per indicator",
                        "no such list" if not isinstance(doc, dict) else shown(doc.get("indicators")))]
    defaults = {k: doc.get(k) for k in ("gemeente", "source") if doc.get(k) is not None}
    raws = []
    for i, entry in enumerate(doc["indicators"], 1):
        if not isinstance(entry, dict):
            return [], [bad(f"indicators[{i}]", "a mapping with id, name_nl, ...", shown(entry))]
        raws.append(({**defaults, **entry}, None, lambda field, _e=entry, _i=i: f"{_e.get('id') or f'#{_i}'}.{field}"))
    return _declare(file, None, raws, reserved, declared_in=file)


class AliasLimit(Exception):
    """A YAML document with more aliases, or more written out, than ``bwm.municipal.limits`` allows."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader counting the aliases it resolves: an alias is a reference, and a few nested ones
    write out to billions of values ("billion laughs": 724 bytes that take all memory once printed)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > YAML_MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise AliasLimit(f"alias number {self.aliases} at line {mark.line + 1}, column {mark.column + 1}")
        return super().compose_node(parent, index)


def load_yaml(text: str):
    """``yaml.safe_load`` with at most YAML_MAX_ALIASES aliases and YAML_MAX_EXPANDED_CHARS characters once every
    alias is written out (raises AliasLimit); an alias to the anchor it is inside of is refused too."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _written_out(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _written_out(root) -> int:
    """The characters of a composed document with every alias written out; AliasLimit beyond the limit."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            mark = node.start_mark
            raise AliasLimit("an alias inside the anchor it refers to "
                             f"(line {mark.line + 1}, column {mark.column + 1})")
        open_nodes.add(key)
        if isinstance(node, yaml.ScalarNode):
            total = len(node.value) + 1
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        else:
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(key)
        if total > YAML_MAX_EXPANDED_CHARS:
            raise AliasLimit(f"more than {number(YAML_MAX_EXPANDED_CHARS)} characters once the aliases are written "
                             f"out (the anchors from line {node.start_mark.line + 1} on)")
        sizes[key] = total
        return total

    return size(root)


def _problem(exc) -> str:
    if getattr(exc, "problem", None):
        return exc.problem
    if isinstance(exc, yaml.reader.ReaderError):
        return f"a character YAML does not allow ({exc.character!r})"
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _where(exc) -> str:
    """' at line 3, column 5' for a YAML error that knows where it is."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return f" at line {mark.line + 1}, column {mark.column + 1}"
    if getattr(exc, "position", None) is not None:  # a ReaderError: a character YAML does not allow
        return f" at character {exc.position + 1}"
    return ""


def parse_sheet(file: str, sheet: str, header: list[str], rows: list[tuple[int, list]],
                reserved: frozenset[str]) -> tuple[list[Declaration], list[Finding]]:
    """Declarations from the ``indicatoren`` sheet of an XLSX: a header row of field names, one row per indicator."""
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    missing = [f for f in REQUIRED if f not in names]
    if missing:
        return [], [Finding(file, sheet, 1, None, "declaration",
                            f"a header row with the fields {', '.join(REQUIRED)} "
                            f"(and optionally {', '.join(OPTIONAL)})",
                            f"no column {', '.join(repr(m) for m in missing)}")]
    raws = []
    for row_number, cells in rows:
        entry = {name: cells[j] for j, name in enumerate(names) if name and j < len(cells) and cells[j] is not None}
        if entry:
            raws.append((entry, row_number, lambda field: field))
    if not raws:
        return [], [Finding(file, sheet, None, None, "declaration", "one row per indicator below the header",
                            "no rows")]
    return _declare(file, sheet, raws, reserved, declared_in=f"{file}, sheet {sheet!r}")


def _declare(file, sheet, raws, reserved, declared_in) -> tuple[list[Declaration], list[Finding]]:
    findings: list[Finding] = []
    out: list[Declaration] = []
    seen: set[str] = set()
    for raw, row, column in raws:
        def bad(field, expected, found, row=row, column=column):
            findings.append(Finding(file, sheet, row, column(field), "declaration", expected, found))

        values = {k: (str(v).strip() if v is not None else "") for k, v in raw.items() if k != "gemeente"}
        for field in REQUIRED:
            if field == "unit" and values.get("kind") == "count" and not values.get("unit"):
                values["unit"] = "count"
            if field != "gemeente" and not values.get(field):
                bad(field, f"the field {field!r}", "nothing")
        ident = values.get("id", "")
        if ident and not _ID.match(ident):
            bad("id", "an id in lower case letters, digits and '_', starting with a letter (at most 60)", shown(ident))
        elif ident in reserved:
            bad("id", "an id that is not already a CBS indicator in data/reference/indicators.yaml", shown(ident))
        elif ident in seen:
            bad("id", "each indicator declared once in a file", f"{ident!r} a second time")
        seen.add(ident)
        for field, allowed in (("theme", catalogue.THEMES), ("kind", KINDS), ("direction", catalogue.DIRECTIONS),
                               ("level", LEVELS)):
            if values.get(field) and values[field] not in allowed:
                bad(field, f"one of {', '.join(allowed)}", shown(values[field]))
        kind, unit = values.get("kind"), values.get("unit")
        if kind in KINDS and unit and unit not in UNITS_BY_KIND[kind]:
            bad("unit", f"for kind {kind}: {' or '.join(UNITS_BY_KIND[kind])}", shown(unit))
        stapeling_theme = values.get("stapeling_theme") or None
        if stapeling_theme is not None:
            themes = catalogue.stapeling().theme_names
            if stapeling_theme not in themes:
                bad("stapeling_theme", f"one of the stapeling themes {', '.join(themes)} "
                    "(data/reference/indicators.yaml, stapeling:), or leave the field out", shown(stapeling_theme))
            elif kind != "rate" or values.get("direction") == "neutral":
                bad("stapeling_theme", "a rate (kind rate) with direction higher_is_better or higher_is_worse: a "
                    "count grows with a buurt's size and a neutral figure has no worse side, so neither can join "
                    "the stapeling core set", f"kind {kind!r}, direction {values.get('direction')!r}")
        gemeenten = _gemeenten(raw.get("gemeente"))
        if gemeenten is None:
            bad("gemeente", "one or more gemeente codes like GM0344 (a list, or separated by commas)",
                shown(raw.get("gemeente")) if raw.get("gemeente") is not None else "nothing")
        if findings:
            continue
        out.append(Declaration(
            id=ident, name_nl=values["name_nl"], name_en=values["name_en"], theme=values["theme"], kind=kind,
            unit=unit, direction=values["direction"], level=values["level"],
            definition_nl=" ".join(values["definition_nl"].split()), gemeenten=gemeenten,
            source_label=values.get("source") or f"Gemeentelijke registratie ({file})",
            definition_en=" ".join(values["definition_en"].split()) if values.get("definition_en") else None,
            declared_in=declared_in, stapeling_theme=stapeling_theme,
        ))
    return (out if not findings else []), findings


def _gemeenten(raw) -> tuple[str, ...] | None:
    if raw is None:
        return None
    parts = raw if isinstance(raw, list) else str(raw).replace(";", ",").split(",")
    codes = []
    for part in parts:
        code = str(part).strip().upper()
        if not code:
            continue
        if code.isdigit() and len(code) <= 4:
            code = f"GM{int(code):04d}"
        if not _GM.match(code):
            return None
        codes.append(code)
    return tuple(dict.fromkeys(codes)) or None
