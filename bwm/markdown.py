"""Markdown tables: the one formatter behind asset previews, check evidence and status tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value) -> str:
    """A value as a table cell: empty for None; a pipe cannot end the cell early."""
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence], limit: int | None = None) -> str:
    """``header`` and ``rows`` as a markdown table; beyond ``limit`` rows one line says how many were left out."""
    rows = list(rows)
    shown = rows if limit is None else rows[:limit]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown]
    if len(rows) > len(shown):
        lines.append(f"| … {len(rows) - len(shown)} more | " + " | " * (len(header) - 1))
    return "\n".join(lines)
