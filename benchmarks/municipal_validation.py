"""How long the validation of one municipal data file at the size limit takes (the target: under 60 s).

    python -m benchmarks.municipal_validation [--mb 50] [--only valid,duplicates] [--keep]

Generates, in a temporary folder, a CSV just under ``--mb`` MB (default 50, BWM_MUNICIPAL_MAX_MB's default; MB
of 1 048 576 bytes) with its declaration, and validates it the way the refresh does (``scan_folder``, then the
status table with every report: ``municipal.file_status``), in two variants:

* ``valid``: distinct rows (10,000 buurten of one gemeente, 2013-2024, 8 counts and 8 rates), every one accepted;
* ``duplicates``: the same row again and again, so every row after the first is a duplicate-key finding (the
  report was quadratic in the number of findings: a 1 MB file of duplicate rows took 41 s, 4 MB over 300 s).

Each variant runs in a process of its own, so its peak memory (``ru_maxrss``) is its own. Prints the seconds
(generating the file not included), rows per second and peak memory of each.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ("valid", "duplicates")
YEARS = tuple(range(2013, 2025))
WIJKEN, BUURTEN = 100, 100  # per wijk: buurt codes BU0001wwbb
COUNTS = tuple(f"count_{i:02d}" for i in range(1, 9))
RATES = tuple(f"rate_{i:02d}" for i in range(1, 9))
TARGET_SECONDS = 60.0


def log(msg: str = "") -> None:
    print(msg, flush=True)


def geography():
    from bwm.municipal.geography import Geography

    rows = []
    rng = random.Random(1)
    for year in YEARS:
        rows.append((year, "GM0001", "gemeente", "GM0001", None, "Benchmark", 2_000_000))
        for w in range(WIJKEN):
            wijk = f"WK0001{w:02d}"
            rows.append((year, wijk, "wijk", "GM0001", None, f"Wijk {w}", 200_000))
            for b in range(BUURTEN):
                rows.append((year, f"BU0001{w:02d}{b:02d}", "buurt", "GM0001", wijk, f"Buurt {w}.{b}",
                             rng.randint(500, 5000)))
    return Geography.from_rows(rows)


def declaration() -> str:
    lines = ["gemeente: GM0001", "source: Benchmark", "indicators:"]
    for ident in COUNTS + RATES:
        rate = ident in RATES
        lines += [f"  - id: {ident}", f"    name_nl: {ident}", f"    name_en: {ident}", "    theme: welzijn",
                  f"    kind: {'rate' if rate else 'count'}", f"    unit: {'pct' if rate else 'count'}",
                  "    direction: neutral", "    level: buurt", f"    definition_nl: {ident}."]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, variant: str, max_bytes: int) -> tuple[int, int]:
    """Writes the file just under ``max_bytes``; returns (data rows, bytes)."""
    header = "area_code,year,indicator_id,value,n_cases\n"
    rng = random.Random(2)
    size, rows = len(header), 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        if variant == "duplicates":
            line = "BU00010101,2024,count_01,12,\n"
            n = (max_bytes - size) // len(line)
            block = line * 10_000
            for _ in range(n // 10_000):
                out.write(block)
            out.write(line * (n % 10_000))
            return n, size + n * len(line)
        chunk: list[str] = []
        for ident in COUNTS + RATES:
            rate = ident in RATES
            for year in YEARS:
                for w in range(WIJKEN):
                    for b in range(BUURTEN):
                        if rate:
                            line = (f"BU0001{w:02d}{b:02d},{year},{ident},"
                                    f"{rng.randint(0, 1000) / 10},{rng.randint(1, 400)}\n")
                        else:
                            line = f"BU0001{w:02d}{b:02d},{year},{ident},{rng.randint(0, 400)},\n"
                        if size + len(line) > max_bytes:
                            out.write("".join(chunk))
                            return rows, size
                        chunk.append(line)
                        size += len(line)
                        rows += 1
                        if len(chunk) == 100_000:
                            out.write("".join(chunk))
                            chunk = []
        out.write("".join(chunk))
    return rows, size


def one(variant: str, folder: Path, mb: float) -> dict:
    """Runs in the child process: validate the folder as the refresh does; the figures as a dict."""
    import datetime as dt

    from bwm.municipal.folder import scan_folder

    geo = geography()
    started = time.perf_counter()
    result = scan_folder(folder, geo, frozenset(), max_mb=mb)
    scanned = time.perf_counter()
    status = result.status_frame(dt.datetime.now(dt.UTC))
    values = result.values_frame()
    done = time.perf_counter()
    (f,) = result.files
    return {
        "variant": variant, "status": f.status, "rows": sum(s.n_rows for s in f.sheets),
        "findings": len(f.findings), "loaded": values.height, "report_chars": len(status["report"][0]),
        "scan_s": scanned - started, "report_s": done - scanned, "seconds": done - started,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "first_lines": status["report"][0].splitlines()[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=None,
                        help="the file size and BWM_MUNICIPAL_MAX_MB (default: BWM_MUNICIPAL_MAX_MB's default, 50)")
    parser.add_argument("--only", default=",".join(VARIANTS), help="variants, comma-separated: valid,duplicates")
    parser.add_argument("--keep", action="store_true", help="keep the generated folders (their paths are printed)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from bwm.municipal.limits import DEFAULT_MAX_MB, Limits

    mb = args.mb if args.mb is not None else DEFAULT_MAX_MB
    if args.child:
        print(json.dumps(one(args.child[0], Path(args.child[1]), mb)))
        return 0
    max_bytes = Limits(mb).max_bytes - 1024  # just under the limit
    results = []
    for variant in [v.strip() for v in args.only.split(",") if v.strip()]:
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
        folder = Path(tempfile.mkdtemp(prefix=f"bwm-municipal-{variant}-"))
        try:
            t = time.perf_counter()
            rows, size = write_csv(folder / "benchmark.csv", variant, max_bytes)
            (folder / "benchmark.indicators.yaml").write_text(declaration())
            log(f"{variant}: generated {folder / 'benchmark.csv'}: {size / 1024 / 1024:.1f} MB, {rows:,} data rows "
                f"({time.perf_counter() - t:.1f} s)")
            wall = time.perf_counter()
            child = subprocess.run([sys.executable, "-m", "benchmarks.municipal_validation", "--mb", str(mb),
                                    "--child", variant, str(folder)], capture_output=True, text=True)
            wall = time.perf_counter() - wall
            if child.returncode != 0:
                log(child.stdout + child.stderr)
                return 1
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            figures.update(mb=size / 1024 / 1024, wall_s=wall)
            results.append(figures)
            log(f"{variant}: {figures['status']}, {figures['rows']:,} rows, {figures['findings']:,} findings, "
                f"{figures['loaded']:,} figures loaded")
            log(f"  validate {figures['scan_s']:.1f} s + reports {figures['report_s']:.1f} s = "
                f"{figures['seconds']:.1f} s ({figures['rows'] / figures['seconds']:,.0f} rows/s); "
                f"peak memory {figures['peak_rss_mib']:,.0f} MiB; process {wall:.1f} s with start-up")
            for line in figures["first_lines"]:
                log(f"  | {line[:160]}")
        finally:
            if args.keep:
                log(f"  kept {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
    log("")
    log(f"| variant | file | rows | findings | seconds | rows/s | peak memory | target {TARGET_SECONDS:.0f} s |")
    log("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        verdict = "met" if r["seconds"] < TARGET_SECONDS else "**missed**"
        log(f"| {r['variant']} | {r['mb']:.1f} MB | {r['rows']:,} | {r['findings']:,} | {r['seconds']:.1f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {r['peak_rss_mib']:,.0f} MiB | {verdict} |")
    return 0 if all(r["seconds"] < TARGET_SECONDS for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
