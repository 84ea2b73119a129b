"""The registry of the CBS tables the monitor reads: ``data/reference/cbs_tables.csv``, one row per table.

Everything that needs to know about a CBS table (the client and the mirror, the replay server, the
schedule, staging, the labels on pages) asks here instead of writing a table id out. Adding a CBS table
is one row in that file plus its key map (``keymap`` names the file in ``data/reference/``).

Columns: ``table_id``; ``kind`` (``kwb`` or ``health``); ``year`` (the KWB year; empty for health);
``periods`` (the years the table holds, space-separated); ``boundary_year`` (the area codes it uses:
a KWB table its own year, a health table one geography for all its periods); ``catalog`` (the CBS
catalogue host: ``opendata`` for opendata.cbs.nl, ``dataderden`` for CBS's third-party catalogue
dataderden.cbs.nl, where RIVM publishes the health tables); ``region_dimension``; ``keymap``;
``title``; ``key_list_status`` and ``sources`` (the evidence, see docs/kwb-keys.md).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from bwm.settings import PROJECT_ROOT, Settings

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
REGISTRY_FILE = REFERENCE_DIR / "cbs_tables.csv"

KINDS = ("kwb", "health")
#: Catalogue name -> the Settings field holding its base address.
CATALOGS = {"opendata": "cbs_base_url", "dataderden": "cbs_dataderden_url"}


class RegistryError(ValueError):
    """The registry file is inconsistent, or a table id is not in it; the message says which."""


@dataclass(frozen=True)
class CbsTable:
    table_id: str
    kind: str
    year: int | None
    periods: tuple[int, ...]
    boundary_year: int
    catalog: str
    region_dimension: str
    keymap: str
    title: str
    key_list_status: str
    sources: str

    @property
    def raw_table(self) -> str:
        """The raw warehouse table it is loaded into (``raw.kwb_2019``, ``raw.health``)."""
        return f"kwb_{self.year}" if self.kind == "kwb" else "health"


@lru_cache(maxsize=1)
def _tables() -> tuple[CbsTable, ...]:
    with REGISTRY_FILE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tables = []
    for line, r in enumerate(rows, 2):
        if r["kind"] not in KINDS or r["catalog"] not in CATALOGS:
            raise RegistryError(
                f"{REGISTRY_FILE.name}, line {line}: kind {r['kind']!r} must be one of {KINDS} and catalog "
                f"{r['catalog']!r} one of {tuple(CATALOGS)}"
            )
        if not (REFERENCE_DIR / r["keymap"]).is_file():
            raise RegistryError(f"{REGISTRY_FILE.name}, line {line}: key map {r['keymap']} is not in {REFERENCE_DIR}")
        tables.append(CbsTable(
            table_id=r["table_id"], kind=r["kind"], year=int(r["year"]) if r["year"] else None,
            periods=tuple(int(p) for p in r["periods"].split()), boundary_year=int(r["boundary_year"]),
            catalog=r["catalog"], region_dimension=r["region_dimension"], keymap=r["keymap"], title=r["title"],
            key_list_status=r["key_list_status"], sources=r["sources"],
        ))
    ids = [t.table_id for t in tables]
    if len(set(ids)) != len(ids):
        raise RegistryError(f"{REGISTRY_FILE.name} lists a table id twice")
    return tuple(tables)


def tables(kind: str | None = None) -> list[CbsTable]:
    """Every registered table (of one kind), KWB oldest first, in file order otherwise."""
    found = [t for t in _tables() if kind is None or t.kind == kind]
    return sorted(found, key=lambda t: (KINDS.index(t.kind), t.year or 0))


def table(table_id: str) -> CbsTable:
    wanted = table_id.strip().upper()
    for t in _tables():
        if t.table_id.upper() == wanted:
            return t
    known = ", ".join(t.table_id for t in _tables())
    raise RegistryError(f"{table_id!r} is not a CBS table this monitor reads (known: {known})")


def find(table_id: str) -> CbsTable | None:
    """The registered table, or None for an id the registry does not hold."""
    try:
        return table(table_id)
    except RegistryError:
        return None


def health_table(settings: Settings) -> CbsTable:
    """The configured health table (``BWM_HEALTH_TABLE``)."""
    return table(settings.health_table)


def catalog_of(table_id: str) -> str:
    """The catalogue a table is published in; tables the registry does not hold count as opendata."""
    found = find(table_id)
    return found.catalog if found else "opendata"


def base_url(table_id: str, settings: Settings) -> str:
    """The base address to ask for ``table_id``: its catalogue's (``BWM_CBS_BASE_URL``/``BWM_CBS_DATADERDEN_URL``)."""
    return getattr(settings, CATALOGS[catalog_of(table_id)])


def catalog_label(catalog: str) -> str:
    return {"opendata": "opendata.cbs.nl", "dataderden": "dataderden.cbs.nl"}[catalog]
