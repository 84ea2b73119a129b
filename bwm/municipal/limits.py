"""The documented limits on what a municipal data file may be (README, "How to add a municipal data file", 3.).

Every limit keeps one file from taking the memory or the time of the whole refresh: a file beyond one is
rejected with a finding that names the limit, and the other files go on.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024
#: BWM_MUNICIPAL_MAX_MB's default: the largest data file (CSV or XLSX) read, in MB of 1 048 576 bytes.
DEFAULT_MAX_MB = 50.0
#: A CSV field (one cell) at most this many characters; an area name or a figure needs far less.
MAX_FIELD_CHARS = 10_000
#: A declaration YAML at most this many bytes (a declaration of 50 indicators is ~30 KB).
MAX_DECLARATION_BYTES = 1 * MB
#: A YAML declaration may refer back (``*name``) to an anchor (``&name``) at most this many times ...
YAML_MAX_ALIASES = 20
#: ... and, with every alias written out, hold at most this many characters (a "billion laughs" holds 10^9).
YAML_MAX_EXPANDED_CHARS = 1_000_000
#: An XLSX unpacks (the zip's declared sizes) to at most this many times BWM_MUNICIPAL_MAX_MB.
XLSX_UNPACKED_FACTOR = 4
#: The columns of a sheet's used range: A to ALL.
XLSX_MAX_COLUMNS = 1_000
#: The cells of a workbook's used ranges, last row times last column of every sheet with values, summed.
XLSX_MAX_CELLS = 10_000_000
#: A count or number of cases where the area's inhabitants are unknown: more than the Netherlands has.
MAX_COUNT = 20_000_000
#: CBS rounds the inhabitants of wijken and buurten to fives (a buurt shown with 0 may house 2 people), so a
#: count may exceed the published inhabitants by this much before it is implausible.
INHABITANTS_ROUNDING = 5


@dataclass(frozen=True)
class Limits:
    """The limits of one scan of the drop folder."""

    max_mb: float = DEFAULT_MAX_MB

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * MB)

    @property
    def max_unpacked_bytes(self) -> int:
        return self.max_bytes * XLSX_UNPACKED_FACTOR

    @classmethod
    def from_settings(cls, max_mb: float | None = None) -> Limits:
        """The limits with ``max_mb`` (``Settings.municipal_max_mb``, BWM_MUNICIPAL_MAX_MB), or its default."""
        if max_mb is None:
            from bwm.settings import Settings

            max_mb = Settings.municipal_max_mb
        return cls(max_mb=float(max_mb))


def number(n: float) -> str:
    """1234567 -> '1 234 567' (the report's way of writing a large number)."""
    return f"{n:,.0f}".replace(",", " ")


def megabytes(n_bytes: int) -> str:
    """52428800 -> '50 MB'; 1500000 -> '1.4 MB'."""
    mb = n_bytes / MB
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"
