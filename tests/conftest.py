"""Shared fixtures: the real CBS files in ../shared (skipped when absent) and a demo warehouse built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pipeline_run import run_refresh_in_process

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("BWM_SHARED_DIR", ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def cbs_real() -> Path:
    """../shared/cbs-real, or skip the test cleanly when it is not there."""
    path = shared_dir() / "cbs-real"
    if not path.is_dir():
        pytest.skip(f"real CBS data not available at {path}")
    return path


@pytest.fixture
def bwm_env(tmp_path, monkeypatch):
    """BWM_* settings pointing at a temporary warehouse; returns a dict of the paths."""
    for name in list(os.environ):
        if name.startswith("BWM_"):
            monkeypatch.delenv(name)
    paths = {"warehouse": tmp_path / "wh" / "bwm.duckdb", "mirror": tmp_path / "mirror"}
    monkeypatch.setenv("BWM_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("BWM_MIRROR_DIR", str(paths["mirror"]))
    monkeypatch.setenv("BWM_DAGSTER_STORAGE", str(tmp_path / "dagster"))
    monkeypatch.setenv("BWM_SITE_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("BWM_EXPORT_DIR", str(tmp_path / "exports"))
    return paths


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> dict:
    """The refresh job run once on the demo scale into a temporary warehouse; returns paths and the result.

    Session-scoped because it takes half a minute; tests must only read the warehouse it builds.
    """
    base = tmp_path_factory.mktemp("demo")
    env = {
        "BWM_SOURCE": "demo",
        "BWM_WAREHOUSE": str(base / "bwm.duckdb"),
        "BWM_MIRROR_DIR": str(base / "mirror"),
        "BWM_SITE_DIR": str(base / "site"),
        "BWM_EXPORT_DIR": str(base / "exports"),
    }
    result = run_refresh_in_process(env)
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    return {"warehouse": base / "bwm.duckdb", "mirror": base / "mirror", "site": base / "site",
            "exports": base / "exports", "municipal": ROOT / "data" / "municipal" / "demo",
            "result": result, "checks": checks}
