"""Build the demo with two versions of the code and compare what they publish, apart from timestamps.

    python tests/output_identity.py REF [OTHER]      REF, OTHER: git revisions (OTHER: the working tree)

A restructuring must not change a single published byte. This script builds the demo (``bwm demo``:
synthetic mirror -> warehouse -> site and exports) once with the code of ``REF`` (checked out in a
temporary git worktree) and once with the working tree, each into its own folder, and compares:

- **the warehouse**: every table and view of every schema, its column names and types, and its rows as a
  sorted list, floating-point values equal to a relative 1e-12 (or within 1e-12 of each other: a figure near zero
  that comes out of a cancellation, such as a theme score averaging z-scores, carries the parallel sums' jitter
  in absolute terms);
- **the site**: every file, byte for byte;
- **the exports**: every CSV byte for byte, every Parquet file by schema and rows, every XLSX file by
  the bytes of each part of its zip.

What is allowed to differ is named here and nowhere else. Two builds of the *same* commit differ in exactly
these ways (measured on 1 December 2026), so nothing stricter can hold:

- the order of rows in a table whose SQL has no ``order by`` (e.g. ``indicators.weights``), and the last bits
  of floating-point sums and means, which DuckDB and polars add up in parallel in no fixed order
  (``divide.measures`` cv 0.07896493234169269 vs 0.0789649323416927);

- timestamps: columns of a TIMESTAMP type, ISO 8601 date-times in text (``2026-12-01T21:58:39+00:00``),
  Dutch build times on pages ("1 december 2026 om 21:58") and the XLSX document properties' dates;
- bookkeeping that is not output: the incremental state files (``.publish-state.json``, and those of earlier
  versions: ``build-state.json``, ``.export-state.json``, ``.fingerprint``), the run metadata schema ``ops``, and
  the refresh lock.

Relations that only the new build has and whose name starts with one of ``ADDED`` (the publish model) are
reported as added, not as differences.

``tests/test_output_identity.py`` runs this against the revision whose output the tree must reproduce.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from bwm.settings import child_environment

REPO = Path(__file__).resolve().parent.parent

#: ISO date-times and Dutch date-times as the pages and exports write them.
_TIMESTAMPS = [
    re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
    re.compile(rb"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)"
               rb" \d{4},? (om )?\d{1,2}[:.]\d{2}"),
]
#: Files that record how a build went rather than what it published.
_BOOKKEEPING = {".publish-state.json", "build-state.json", ".export-state.json", ".fingerprint", ".verified.json"}
#: Warehouse relations (``schema.table``) a new build may add on purpose: the tables of the publish model, the
#: harmonisation views that were temporary views before, and the divide measures' input rows, now a view.
ADDED = ("publish.", "staging.kwb_unpivoted", "staging.kwb_region_rows", "staging.health_unpivoted", "divide.inputs")
#: Relative tolerance of floating-point warehouse values (parallel sums of one commit differ from ~1e-16 on).
FLOAT_TOLERANCE = 1e-12
#: Absolute tolerance beside it: a value near zero made by cancellation (a theme score of 0.00059 averaging
#: z-scores of order 1) differs between two runs of one commit by ~4e-15, a relative 7e-12. Nothing published shows
#: a figure to 12 decimals.
FLOAT_ABS_TOLERANCE = 1e-12
#: Warehouse schemas that hold run bookkeeping, not published figures.
_BOOKKEEPING_SCHEMAS = {"ops"}


def mask(data: bytes) -> bytes:
    for pattern in _TIMESTAMPS:
        data = pattern.sub(b"<time>", data)
    return data


def build_demo(code_root: Path, out: Path) -> Path:
    """Run ``bwm demo`` with the code in ``code_root``, writing everything under ``out``; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    env = child_environment({
        "PYTHONPATH": str(code_root),
        "BWM_SOURCE": "demo",
        "BWM_MIRROR_DIR": str(out / "mirror"),
        "BWM_WAREHOUSE": str(out / "warehouse" / "bwm.duckdb"),
        "BWM_SITE_DIR": str(out / "site"),
        "BWM_EXPORT_DIR": str(out / "exports"),
        "BWM_DAGSTER_STORAGE": str(out / "dagster"),
        "DAGSTER_HOME": str(code_root),
    })
    # The command line's entry point as that version of the code declares it (it may move between versions).
    entry = tomllib.loads((code_root / "pyproject.toml").read_text())["project"]["scripts"]["bwm"]
    module, func = entry.split(":")
    code = f"import sys; from {module} import {func}; sys.exit({func}(['demo']))"
    log = out / "demo.log"
    with log.open("w") as fh:
        done = subprocess.run([sys.executable, "-c", code], cwd=code_root, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"bwm demo with the code in {code_root} failed (exit {done.returncode}); see {log}:\n"
                           + log.read_text()[-3000:])
    return out


def snapshot(out: Path) -> dict[str, bytes | Rows]:
    """Everything the demo published under ``out``, as ``{name: comparable bytes}``."""
    parts: dict[str, bytes] = {}
    parts.update(_warehouse(out / "warehouse" / "bwm.duckdb"))
    for folder in ("site", "exports"):
        root = out / folder
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.name in _BOOKKEEPING:
                continue
            name = f"{folder}/{path.relative_to(root).as_posix()}"
            if path.suffix == ".parquet":
                parts[name] = _parquet(path)
            elif path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as zf:
                    for member in sorted(zf.namelist()):
                        parts[f"{name}!{member}"] = mask(zf.read(member))
            else:
                parts[name] = mask(path.read_bytes())
    return parts


class Rows:
    """A relation's columns and rows as a comparable value: rows sorted by their exact parts (every column that is
    not a float; floats to 6 significant digits only to break ties), floats then compared with a relative tolerance
    of ``FLOAT_TOLERANCE``. Rounding every float instead would flip now and then at a rounding boundary."""

    def __init__(self, rel):
        types = [str(t) for t in rel.types]
        self.header = repr(list(zip(rel.columns, types)))
        timestamp = [t.startswith("TIMESTAMP") for t in types]
        rows = [tuple(_comparable(v, ts) for v, ts in zip(row, timestamp, strict=True)) for row in rel.fetchall()]
        self.rows = sorted(rows, key=_sort_key)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Rows) and self.header == other.header and len(self.rows) == len(other.rows)
                and all(_same_row(a, b) for a, b in zip(self.rows, other.rows, strict=True)))

    def splitlines(self) -> list[bytes]:
        """The header and each row as a line, for saying where two relations differ."""
        lines = [self.header] + [repr(row) for row in self.rows]
        return [mask(line.encode()) for line in lines]

    def first_difference(self, other: Rows) -> int:
        if self.header != other.header:
            return 0
        pairs = zip(self.rows, other.rows, strict=False)
        return 1 + next((i for i, (a, b) in enumerate(pairs) if not _same_row(a, b)),
                        min(len(self.rows), len(other.rows)))


def _comparable(value, is_timestamp: bool):
    if value is None:
        return None
    if is_timestamp:
        return "<time>"
    if isinstance(value, str):
        return mask(value.encode()).decode()
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple((0, "") if v is None else (1, f"{v:.6g}") if isinstance(v, float) else (2, repr(v)) for v in row)


def _same_row(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))


def _same_value(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=FLOAT_TOLERANCE,
                                                                     abs_tol=FLOAT_ABS_TOLERANCE)
    return x == y


def _warehouse(path: Path) -> dict[str, bytes]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by all").fetchall()
        return {f"warehouse/{schema}.{table}": Rows(con.sql(f'select * from "{schema}"."{table}"'))
                for schema, table in tables if schema not in _BOOKKEEPING_SCHEMAS}
    finally:
        con.close()


def _parquet(path: Path) -> bytes:
    import duckdb

    con = duckdb.connect()
    try:
        return Rows(con.sql(f"select * from read_parquet('{path.as_posix()}')"))
    finally:
        con.close()


def added(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """The warehouse relations only the new build has that ``ADDED`` allows."""
    return [n for n in sorted(after.keys() - before.keys()) if n.startswith("warehouse/")
            and n.removeprefix("warehouse/").startswith(ADDED)]


def compare(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Human-readable differences; empty when the two builds published the same (relations ``ADDED`` allows that
    only the new build has are no difference: see :func:`added`)."""
    allowed = set(added(before, after))
    problems = [f"only in the reference build: {n}" for n in sorted(before.keys() - after.keys())]
    problems += [f"only in the new build: {n}" for n in sorted(after.keys() - before.keys()) if n not in allowed]
    for name in sorted(before.keys() & after.keys()):
        if before[name] != after[name]:
            a, b = before[name].splitlines(), after[name].splitlines()
            if isinstance(before[name], Rows) and isinstance(after[name], Rows):
                first = before[name].first_difference(after[name])
            else:
                first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            problems.append(f"{name} differs from line {first + 1}:\n    reference: {_line(a, first)}\n"
                            f"    new:       {_line(b, first)}")
    return problems


def _line(lines: list[bytes], index: int) -> str:
    return lines[index][:300].decode(errors="replace") if index < len(lines) else "<end>"


def worktree(rev: str, into: Path) -> Path:
    """A detached git worktree of ``rev`` in ``into`` (removed by :func:`remove_worktree`), with this checkout's
    node_modules."""
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(into), rev],
                   check=True, capture_output=True, text=True)
    # the site copies plotly.js from node_modules (npm ci, not in git): the worktree uses this checkout's
    if (REPO / "node_modules").is_dir() and not (into / "node_modules").exists():
        (into / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    return into


def remove_worktree(path: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], capture_output=True)


def identity(ref: str, other: str | None = None, work: Path | None = None) -> list[str]:
    """Build the demo at ``ref`` and at ``other`` (None: the working tree) and return the differences."""
    with tempfile.TemporaryDirectory(prefix="bwm-identity-", dir=work) as tmp:
        tmp = Path(tmp)
        trees = []
        try:
            ref_root = worktree(ref, tmp / "ref-code")
            trees.append(ref_root)
            new_root = REPO if other is None else worktree(other, tmp / "new-code")
            if other is not None:
                trees.append(new_root)
            print(f"building the demo at {ref} ...", flush=True)
            before = snapshot(build_demo(ref_root, tmp / "ref-out"))
            print(f"building the demo at {other or 'the working tree'} ...", flush=True)
            after = snapshot(build_demo(new_root, tmp / "new-out"))
        finally:
            for tree in trees:
                remove_worktree(tree)
        print(f"compared {len(before)} parts of the reference build with {len(after)} of the new one", flush=True)
        for name in added(before, after):
            print(f"added: {name}", flush=True)
        return compare(before, after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the git revision whose output is the reference")
    parser.add_argument("other", nargs="?", help="the git revision to compare (default: the working tree)")
    args = parser.parse_args(argv)
    problems = identity(args.ref, args.other)
    for problem in problems:
        print(problem)
    print("identical" if not problems else f"{len(problems)} differences")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
