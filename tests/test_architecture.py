"""The layout's rules, enforced: what each top-level folder may import, and who reads the environment.

docs/architecture.md explains the rules; this module is where they are checked, on every Python file.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Top-level folder -> the project packages its modules may import. `bwm` is the Dagster-free library;
#: `pipelines` is the Dagster code location built on it; `benchmarks` and `tests` use both; nothing imports
#: `tests` or `benchmarks` except themselves.
MAY_IMPORT = {
    "bwm": {"bwm"},
    "pipelines": {"bwm", "pipelines"},
    "benchmarks": {"bwm", "pipelines", "benchmarks"},
    "tests": {"bwm", "pipelines", "benchmarks", "tests"},
}
PROJECT_PACKAGES = {"bwm", "pipelines", "benchmarks", "tests"}
#: Third-party packages only the code location (and tests, benchmarks) may use.
DAGSTER_ONLY = {"dagster", "dagster_webserver", "dagster_shared"}
#: Folders whose code must get its configuration from `bwm.settings` (the one module that reads the environment).
NO_ENVIRONMENT = ("bwm", "pipelines", "benchmarks")
ENVIRONMENT_READER = ROOT / "bwm" / "settings.py"


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


def imported_roots(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports, anywhere in the file (functions included)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_each_folder_imports_only_what_the_layout_allows(folder):
    wrong = []
    for path in python_files(folder):
        roots = imported_roots(path)
        for root in sorted((roots & PROJECT_PACKAGES) - MAY_IMPORT[folder]):
            wrong.append(f"{path.relative_to(ROOT)} imports {root}")
        if folder == "bwm":
            wrong += [f"{path.relative_to(ROOT)} imports {root}" for root in sorted(roots & DAGSTER_ONLY)]
    assert not wrong, "imports the layout forbids (docs/architecture.md):\n" + "\n".join(wrong)


def test_a_layer_folder_does_not_import_another_layer():
    """pipelines/defs/<layer>/ reads other layers through the warehouse (asset keys), never through their code."""
    wrong = []
    for path in python_files("pipelines/defs"):
        layer = path.relative_to(ROOT / "pipelines" / "defs").parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipelines.defs."):
                other = node.module.split(".")[2]
                if other != layer:
                    wrong.append(f"{path.relative_to(ROOT)} imports {node.module}")
    assert not wrong, "\n".join(wrong)


def test_importing_every_module_of_bwm_never_imports_dagster():
    code = (
        "import importlib, pkgutil, sys\n"
        "import bwm\n"
        "for info in pkgutil.walk_packages(bwm.__path__, 'bwm.'):\n"
        "    importlib.import_module(info.name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'pipelines'))\n"
        "print(len([m for m in sys.modules if m.startswith('bwm.')]), loaded[:5])\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"importing bwm loaded Dagster or the code location: {done.stdout}{done.stderr}"
    assert int(done.stdout.split()[0]) > 30  # every module of the library was imported


def _environment_reads(path: Path) -> list[int]:
    """Line numbers where ``path`` touches ``os.environ``, ``os.getenv`` or ``os.putenv`` (or imports them)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "environb")
                and isinstance(node.value, ast.Name) and node.value.id == "os"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "getenv", "putenv", "environb") for a in node.names):
            lines.append(node.lineno)
    return lines


def test_no_module_outside_settings_reads_the_environment():
    found = [f"{path.relative_to(ROOT)}:{line}" for folder in NO_ENVIRONMENT for path in python_files(folder)
             if path != ENVIRONMENT_READER for line in _environment_reads(path)]
    assert not found, ("configuration must come from bwm.settings.Settings (a field per BWM_ variable), not the "
                       "environment:\n" + "\n".join(found))
    assert _environment_reads(ENVIRONMENT_READER)  # the rule is not vacuous: the reader itself is found


def test_every_sql_file_of_a_layer_is_an_asset_with_the_deps_it_reads():
    from pipelines.definitions import defs
    from pipelines.sql import sql_files

    graph = defs.resolve_asset_graph()
    files = [sql for folder in sorted((ROOT / "pipelines" / "defs").iterdir()) if folder.is_dir()
             for sql in sql_files(folder)]
    assert len(files) >= 10
    for sql in files:
        node = graph.get(sql.key)
        assert node.group_name == sql.schema
        assert set(sql.reads) == set(node.parent_keys), sql.path
        assert all(graph.has(key) for key in sql.reads), f"{sql.path} reads a relation no asset makes"
