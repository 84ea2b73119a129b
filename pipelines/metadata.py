"""Evidence that assets and checks attach to what they report (Dagster metadata), in one shape."""

from __future__ import annotations

import dagster as dg

from bwm import markdown


def md_table(header: list[str], rows: list[tuple], limit: int = 20) -> dg.MetadataValue:
    """A markdown table (``bwm.markdown.table``, at most ``limit`` rows) as Dagster metadata."""
    return dg.MetadataValue.md(markdown.table(header, rows, limit=limit))
