"""One settings object for the whole project, read from environment variables prefixed ``BWM_``.

Read at run time (``Settings.from_env()``), never at import, so tests can set variables per test.
Every variable is documented in the README's configuration table; ``tests/test_settings.py`` checks
that the table and this module name the same variables.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Years of the "Kerncijfers wijken en buurten" the monitor knows about.
KWB_YEARS = tuple(range(2013, 2025))

SOURCES = ("demo", "mirror", "live")
DEMO_SCALES = ("demo", "national")

_GM_CODE = re.compile(r"^GM\d{4}$")


class SettingsError(ValueError):
    """A BWM_ environment variable holds something the monitor cannot use; the message says which."""


@dataclass(frozen=True)
class Settings:
    """What a run needs to know; see the README's configuration table for each field."""

    source: str = "demo"
    mirror_dir: Path = PROJECT_ROOT / "data" / "mirror"
    warehouse_path: Path = PROJECT_ROOT / "data" / "warehouse" / "bwm.duckdb"
    municipalities: tuple[str, ...] = ()
    years: tuple[int, ...] = KWB_YEARS
    cbs_base_url: str = "https://opendata.cbs.nl"
    #: CBS's third-party catalogue, where RIVM publishes the health tables 50090NED and 50120NED.
    cbs_dataderden_url: str = "https://dataderden.cbs.nl"
    #: The health table (a registry row of kind health, data/reference/cbs_tables.csv). 50120NED (indeling 2022) is
    #: the default: every period, 2022 included, on one geography.
    health_table: str = "50120NED"
    http_timeout_s: float = 60.0
    http_retries: int = 4
    demo_scale: str = "demo"
    demo_seed: int = 20240101
    concentration_factor: float = 2.0
    municipal_dir: Path = PROJECT_ROOT / "data" / "municipal"
    #: The largest municipal data file read, in MB of 1 048 576 bytes; a larger one is rejected unread.
    municipal_max_mb: float = 50.0
    disclosure_min_count: float = 10.0
    disclosure_min_cases: float = 10.0
    export_dir: Path = PROJECT_ROOT / "data" / "exports"
    #: How the exports' CSV files are written (``bwm.export.writers.CSV_DIALECTS``): ``excel-nl`` (';', decimal
    #: comma), which Excel with Dutch regional settings opens by double-click, or ``international`` (',', point).
    export_csv_dialect: str = "excel-nl"
    site_dir: Path = PROJECT_ROOT / "data" / "site"
    geo_base_url: str = "https://api.pdok.nl/cbs"
    #: DuckDB's memory limit per process. Without one DuckDB takes up to 80% of RAM (9 GiB on the national
    #: benchmark) and the 4 GiB target is missed; it spills big sorts beyond the limit to disk at the same speed.
    #: 2 GB is too little: indicators.values runs out of memory at national scale (it needs ~2.5 GB).
    duckdb_memory: str = "3GB"
    #: When the nightly refresh looks for news (cron, in ``timezone``); read when the code location loads.
    refresh_cron: str = "0 2 * * *"
    timezone: str = "Europe/Amsterdam"
    #: A webhook (Slack, Mattermost, Teams or generic JSON) that hears of every failed refresh; empty: log only.
    alert_webhook: str = ""
    #: The site and exports count as stale (a warning in the Dagster UI) this long after their last rebuild.
    freshness_hours: float = 30.0
    #: Run history older than this is deleted by the purge_old_runs sensor.
    run_retention_days: int = 90
    #: Where the Dagster instance keeps run history and logs (dagster.yaml reads BWM_DAGSTER_STORAGE).
    dagster_storage: Path = PROJECT_ROOT / "data" / "dagster_home"

    @property
    def work_warehouse_path(self) -> Path:
        """The refresh's working copy of the warehouse (``bwm.warehouse``): the pipeline writes it, never readers."""
        return working_copy_of(self.warehouse_path)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def path(name: str, default: Path) -> Path:
            raw = env.get(name, "").strip()
            return Path(raw).expanduser().resolve() if raw else default

        source = env.get("BWM_SOURCE", "demo").strip().lower() or "demo"
        if source not in SOURCES:
            raise SettingsError(
                f"BWM_SOURCE={source!r} is not one of {', '.join(SOURCES)}. "
                "Use 'demo' for the synthetic demo, 'mirror' to read a downloaded mirror folder, "
                "'live' to download from CBS first."
            )
        scale = env.get("BWM_DEMO_SCALE", "demo").strip().lower() or "demo"
        if scale not in DEMO_SCALES:
            raise SettingsError(f"BWM_DEMO_SCALE={scale!r} is not one of {', '.join(DEMO_SCALES)}.")

        base = cls()
        default_mirror = base.mirror_dir / ("demo" if source == "demo" else "cbs")
        if source == "demo" and scale == "national":
            default_mirror = base.mirror_dir / "national"
        return cls(
            source=source,
            mirror_dir=path("BWM_MIRROR_DIR", default_mirror),
            warehouse_path=path("BWM_WAREHOUSE", base.warehouse_path),
            municipalities=parse_municipalities(env.get("BWM_MUNICIPALITIES", "")),
            years=parse_years(env.get("BWM_YEARS", "")),
            cbs_base_url=(env.get("BWM_CBS_BASE_URL", "").strip() or base.cbs_base_url).rstrip("/"),
            cbs_dataderden_url=(env.get("BWM_CBS_DATADERDEN_URL", "").strip() or base.cbs_dataderden_url).rstrip("/"),
            health_table=parse_health_table(env.get("BWM_HEALTH_TABLE", ""), base.health_table),
            http_timeout_s=_positive_float(env, "BWM_HTTP_TIMEOUT", base.http_timeout_s),
            http_retries=int(_positive_float(env, "BWM_HTTP_RETRIES", base.http_retries)),
            demo_scale=scale,
            demo_seed=int(_positive_float(env, "BWM_DEMO_SEED", base.demo_seed)),
            concentration_factor=_positive_float(env, "BWM_CONCENTRATION_FACTOR", base.concentration_factor),
            # The demo's synthetic municipal files live in their own subfolder, apart from an analyst's own.
            municipal_dir=path("BWM_MUNICIPAL_DIR",
                               base.municipal_dir / "demo" if source == "demo" else base.municipal_dir),
            municipal_max_mb=_positive_float(env, "BWM_MUNICIPAL_MAX_MB", base.municipal_max_mb),
            disclosure_min_count=_positive_float(env, "BWM_DISCLOSURE_MIN_COUNT", base.disclosure_min_count),
            disclosure_min_cases=_positive_float(env, "BWM_DISCLOSURE_MIN_CASES", base.disclosure_min_cases),
            export_dir=path("BWM_EXPORT_DIR", base.export_dir),
            export_csv_dialect=parse_csv_dialect(env.get("BWM_EXPORT_CSV_DIALECT", ""), base.export_csv_dialect),
            site_dir=path("BWM_SITE_DIR", base.site_dir),
            geo_base_url=(env.get("BWM_GEO_BASE_URL", "").strip() or base.geo_base_url).rstrip("/"),
            duckdb_memory=parse_memory(env.get("BWM_DUCKDB_MEMORY", ""), base.duckdb_memory),
            refresh_cron=parse_cron(env.get("BWM_REFRESH_CRON", ""), base.refresh_cron),
            timezone=env.get("BWM_TIMEZONE", "").strip() or base.timezone,
            alert_webhook=env.get("BWM_ALERT_WEBHOOK", "").strip(),
            freshness_hours=_positive_float(env, "BWM_FRESHNESS_HOURS", base.freshness_hours),
            run_retention_days=int(_positive_float(env, "BWM_RUN_RETENTION_DAYS", base.run_retention_days)),
            dagster_storage=path("BWM_DAGSTER_STORAGE", base.dagster_storage),
        )

    def to_env(self) -> dict[str, str]:
        """The ``BWM_`` variables that give exactly these settings (``Settings.from_env(s.to_env()) == s``)."""
        return {
            "BWM_SOURCE": self.source, "BWM_MIRROR_DIR": str(self.mirror_dir),
            "BWM_WAREHOUSE": str(self.warehouse_path),
            "BWM_MUNICIPALITIES": ",".join(self.municipalities),
            "BWM_YEARS": ",".join(str(y) for y in self.years), "BWM_CBS_BASE_URL": self.cbs_base_url,
            "BWM_CBS_DATADERDEN_URL": self.cbs_dataderden_url, "BWM_HEALTH_TABLE": self.health_table,
            "BWM_HTTP_TIMEOUT": repr(self.http_timeout_s), "BWM_HTTP_RETRIES": str(self.http_retries),
            "BWM_DEMO_SCALE": self.demo_scale, "BWM_DEMO_SEED": str(self.demo_seed),
            "BWM_CONCENTRATION_FACTOR": repr(self.concentration_factor), "BWM_MUNICIPAL_DIR": str(self.municipal_dir),
            "BWM_MUNICIPAL_MAX_MB": repr(self.municipal_max_mb),
            "BWM_DISCLOSURE_MIN_COUNT": repr(self.disclosure_min_count),
            "BWM_DISCLOSURE_MIN_CASES": repr(self.disclosure_min_cases), "BWM_EXPORT_DIR": str(self.export_dir),
            "BWM_EXPORT_CSV_DIALECT": self.export_csv_dialect,
            "BWM_SITE_DIR": str(self.site_dir), "BWM_GEO_BASE_URL": self.geo_base_url,
            "BWM_DUCKDB_MEMORY": self.duckdb_memory, "BWM_REFRESH_CRON": self.refresh_cron,
            "BWM_TIMEZONE": self.timezone, "BWM_ALERT_WEBHOOK": self.alert_webhook,
            "BWM_FRESHNESS_HOURS": repr(self.freshness_hours), "BWM_RUN_RETENTION_DAYS": str(self.run_retention_days),
            "BWM_DAGSTER_STORAGE": str(self.dagster_storage),
        }

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


def prepare_dagster_home(settings: Settings) -> None:
    """Point Dagster at the project's dagster.yaml and at ``settings.dagster_storage`` (which dagster.yaml reads
    as BWM_DAGSTER_STORAGE): Dagster's instance is configured through the environment, so this writes it."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.environ["BWM_DAGSTER_STORAGE"] = str(settings.dagster_storage)
    settings.dagster_storage.mkdir(parents=True, exist_ok=True)


def child_environment(overrides: dict[str, str] | None = None,
                      drop_prefixes: tuple[str, ...] = ("BWM_", "DAGSTER_")) -> dict[str, str]:
    """The environment for a child process (a benchmark scenario, a build of the demo): this process's, without
    variables starting with ``drop_prefixes`` (so a developer's own ``BWM_`` settings cannot leak into a
    measurement), plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}
    env.update(overrides or {})
    return env


def parse_cron(raw: str, default: str) -> str:
    """A five-field cron expression (``"0 2 * * *"``); empty means ``default``."""
    raw = " ".join(raw.split())
    if not raw:
        return default
    if len(raw.split(" ")) != 5:
        raise SettingsError(f"BWM_REFRESH_CRON={raw!r} is not a cron expression of five fields, e.g. '0 2 * * *' "
                            "(02:00 every night).")
    return raw


#: The refresh's working copy sits beside the published warehouse under a hidden name with this suffix.
WORKING_SUFFIX = ".refresh"


def working_copy_of(published: Path) -> Path:
    """``data/warehouse/bwm.duckdb`` -> ``data/warehouse/.bwm.duckdb.refresh``."""
    return published.with_name(f".{published.name}{WORKING_SUFFIX}")


def parse_health_table(raw: str, default: str) -> str:
    """``"50090ned"`` -> ``"50090NED"``; empty means ``default``; anything else is refused with the choices."""
    from bwm import registry  # here, not at import: the registry reads Settings itself

    table = raw.strip().upper() or default
    known = registry.tables("health")
    if table not in {t.table_id for t in known}:
        choices = "; ".join(f"{t.table_id}: {t.title}" for t in known)
        raise SettingsError(f"BWM_HEALTH_TABLE={raw.strip()!r} is not a health table the monitor reads; "
                            f"use one of: {choices}.")
    return table


#: The CSV dialects of the exports: name -> (column separator, decimal mark). Kept here beside the setting;
#: ``bwm.export.writers`` writes them.
CSV_DIALECTS = {"excel-nl": (";", ","), "international": (",", ".")}


def parse_csv_dialect(raw: str, default: str) -> str:
    """``"Excel-NL"`` -> ``"excel-nl"``; empty means ``default``; anything else is refused with the choices."""
    name = raw.strip().lower() or default
    if name not in CSV_DIALECTS:
        raise SettingsError(f"BWM_EXPORT_CSV_DIALECT={raw.strip()!r} is not a CSV dialect of the exports; use "
                            "'excel-nl' (';' between columns, decimal comma: what Excel with Dutch settings opens "
                            "by double-click) or 'international' (',' and a decimal point, for other tools).")
    return name


def parse_municipalities(raw: str) -> tuple[str, ...]:
    """``"GM0344, gm0518"`` -> ``("GM0344", "GM0518")``; empty means every municipality in the source."""
    codes = []
    for part in raw.replace(";", ",").split(","):
        code = part.strip().upper()
        if not code:
            continue
        if code.isdigit() and len(code) <= 4:
            code = f"GM{int(code):04d}"
        if not _GM_CODE.match(code):
            raise SettingsError(
                f"BWM_MUNICIPALITIES: {part.strip()!r} is not a gemeente code; expected codes like GM0344 "
                "(comma-separated)."
            )
        codes.append(code)
    return tuple(dict.fromkeys(codes))


_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def parse_memory(raw: str, default: str) -> str:
    """``"4GB"``, ``"512 MiB"``: a memory size as DuckDB's ``memory_limit`` takes it; empty means ``default``."""
    raw = raw.strip()
    if not raw:
        return default
    match = _MEMORY.match(raw)
    if not match or float(match.group(1)) <= 0:
        raise SettingsError(f"BWM_DUCKDB_MEMORY: {raw!r} is not a memory size; expected e.g. 2GB, 4GB or 512MB.")
    return f"{match.group(1)}{match.group(2)}"


def parse_years(raw: str) -> tuple[int, ...]:
    """``"2019-2024"`` or ``"2019,2021"``; empty means every KWB year 2013-2024."""
    raw = raw.strip()
    if not raw:
        return KWB_YEARS
    years: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(p) for p in part.split("-", 1))
                years.extend(range(lo, hi + 1))
            elif part:
                years.append(int(part))
        except ValueError:
            raise SettingsError(f"BWM_YEARS: {part!r} is not a year or a range like 2019-2024.") from None
    unknown = sorted(set(years) - set(KWB_YEARS))
    if unknown:
        raise SettingsError(
            f"BWM_YEARS: no KWB table is known for {unknown}; known years are {KWB_YEARS[0]}-{KWB_YEARS[-1]}."
        )
    return tuple(sorted(set(years)))


def _positive_float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number.") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} must not be negative.")
    return value
