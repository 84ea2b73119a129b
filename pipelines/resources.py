"""The one resource every asset, check, schedule and sensor receives: the run's settings and its warehouse.

Configuration reaches the pipeline only through here. ``BwmResource()`` reads the ``BWM_`` variables of the
process (through ``bwm.settings``, the one module that reads the environment) when a step first asks;
``BwmResource.of(settings)`` or ``BwmResource(environ={...})`` configures a run explicitly (the command line's
``bwm demo``, the tests), with the same validation and defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from bwm import warehouse
from bwm.settings import Settings


class BwmResource(dg.ConfigurableResource):
    """The settings of a run (``bwm.settings.Settings``) and ``connect()`` to its working warehouse."""

    #: ``BWM_`` variables to use instead of the process environment; None (the default): the environment.
    environ: dict[str, str] | None = None

    @classmethod
    def of(cls, settings: Settings) -> BwmResource:
        """A resource that carries exactly ``settings`` (as the variables that produce it)."""
        return cls(environ=settings.to_env())

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.environ)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The refresh's working copy of the warehouse (readers open the published one; bwm.warehouse)."""
        settings = self.settings
        with warehouse.connect(settings.work_warehouse_path, read_only=read_only,
                               memory_limit=settings.duckdb_memory) as con:
            yield con

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        """The rows of one read-only query on the working warehouse (for checks)."""
        with self.connect(read_only=True) as con:
            return con.execute(sql, params or []).fetchall()
