"""Which CBS tables a run needs, and making sure the mirror holds them (demo, mirror or live source)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bwm import registry
from bwm.cbs import importer
from bwm.cbs import mirror as mirror_mod
from bwm.settings import Settings

#: Bump when the synthetic generator's output changes, so existing demo mirrors are regenerated.
DEMO_GENERATOR_VERSION = 4
DEMO_MARKER = "demo.json"

Progress = Callable[[str], None]


class SourceError(RuntimeError):
    """The configured source cannot provide the tables; the message says what to do."""


def expected_tables(settings: Settings) -> list[registry.CbsTable]:
    """The KWB table of every configured year, plus the configured health table (``BWM_HEALTH_TABLE``)."""
    tables = [t for t in registry.tables("kwb") if t.year in settings.years]
    tables.append(registry.health_table(settings))
    return tables


def ensure_mirror(settings: Settings, progress: Progress | None = None) -> list[dict]:
    """Make the mirror hold every expected table; returns one status dict per table.

    * demo: generate the synthetic mirror when it is missing or was made with another scale/seed;
    * mirror: only check that each table is there (nothing is downloaded);
    * live: download each table from CBS, skipping tables whose CBS ``Modified`` is unchanged.
    """
    say = progress or (lambda _msg: None)
    tables = expected_tables(settings)
    mirror_dir = settings.mirror_dir
    if settings.source == "demo":
        return _ensure_demo(settings, tables, say)
    if settings.source == "mirror":
        missing = [t.table_id for t in tables if mirror_mod.read_manifest(mirror_dir, t.table_id) is None]
        if missing:
            hints = " ".join(h for h in (importer.missing_table_hint(mirror_dir, t) for t in missing) if h)
            raise SourceError(
                f"The mirror {mirror_dir} lacks {', '.join(missing)}. " + (hints + " Otherwise download" if hints
                else "Download") + " them where CBS is reachable with "
                f"`bwm mirror download {' '.join(missing)} --mirror {mirror_dir}`, copy the folder here, or run "
                "with BWM_SOURCE=live."
            )
        return [_status(mirror_dir, t, "present") for t in tables]
    from bwm.cbs import client  # imported here: the live path is the only one that needs the network stack

    statuses = []
    for i, t in enumerate(tables, 1):
        say(f"[{i}/{len(tables)}] {t.table_id} ({t.kind} {t.year or ''}) from {registry.catalog_label(t.catalog)}")
        result = client.download_table(
            t.table_id, mirror_dir, municipalities=settings.municipalities, settings=settings, progress=say
        )
        statuses.append(_status(mirror_dir, t, result.status))
    return statuses


def _ensure_demo(settings: Settings, tables: list[registry.CbsTable], say: Progress) -> list[dict]:
    from bwm.synth.writer import generate_mirror

    mirror_dir = settings.mirror_dir
    wanted = {"scale": settings.demo_scale, "seed": settings.demo_seed, "generator_version": DEMO_GENERATOR_VERSION}
    marker = mirror_dir / DEMO_MARKER
    current = json.loads(marker.read_text()) if marker.exists() else None
    complete = all(mirror_mod.read_manifest(mirror_dir, t.table_id) is not None for t in tables)
    if current == wanted and complete:
        say(f"demo mirror {mirror_dir} is up to date ({settings.demo_scale}, seed {settings.demo_seed})")
        return [_status(mirror_dir, t, "present") for t in tables]
    say(f"generating the synthetic {settings.demo_scale} mirror in {mirror_dir} (seed {settings.demo_seed})")
    mirror_dir.mkdir(parents=True, exist_ok=True)
    generate_mirror(mirror_dir, scale=settings.demo_scale, seed=settings.demo_seed, progress=say)
    marker.write_text(json.dumps(wanted, indent=2) + "\n")
    return [_status(mirror_dir, t, "generated") for t in tables]


def _status(mirror_dir: Path, table: registry.CbsTable, status: str) -> dict:
    manifest = mirror_mod.read_manifest(mirror_dir, table.table_id) or {}
    return {
        "table_id": table.table_id,
        "kind": table.kind,
        "year": table.year,
        "status": status,
        "modified": manifest.get("modified"),
        "row_count": manifest.get("row_count"),
    }
