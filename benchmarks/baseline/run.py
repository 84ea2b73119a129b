"""The baseline's command line: ``python -m benchmarks.baseline --mirror DIR --out DIR``.

Runs :func:`benchmarks.baseline.compute.compute` (the mirror to ``indicators.values`` and ``divide.measures``
in plain pandas) and writes ``<out>/values.parquet`` and ``<out>/measures.parquet`` (the warehouse's columns),
plus ``<out>/measures.csv`` (the measures at buurt level, which the harness compares with the warehouse).
The last line it prints is ``BENCH {json}`` with the time of each part.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.baseline.compute import compute


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", required=True, help="the mirror folder (one folder per CBS table)")
    parser.add_argument("--out", required=True, help="where to write values.parquet and measures.parquet")
    parser.add_argument("--health-table", default="50120NED", help="as BWM_HEALTH_TABLE (default 50120NED)")
    parser.add_argument("--municipalities", default="", help="as BWM_MUNICIPALITIES: GM codes, comma-separated")
    parser.add_argument("--years", default="", help="as BWM_YEARS: KWB years, comma-separated")
    parser.add_argument("--concentration-factor", type=float, default=2.0, help="as BWM_CONCENTRATION_FACTOR")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    values, measures = compute(
        args.mirror, health_table=args.health_table.strip().upper(),
        municipalities=[c.strip().upper() for c in args.municipalities.split(",") if c.strip()],
        years=[int(y) for y in args.years.split(",") if y.strip()], concentration_factor=args.concentration_factor)
    computed = time.perf_counter()
    values.to_parquet(out / "values.parquet", index=False)
    measures.to_parquet(out / "measures.parquet", index=False)
    measures[measures["level"] == "buurt"].to_csv(out / "measures.csv", index=False)
    print("BENCH " + json.dumps({"values": len(values), "measures": len(measures),
                                 "compute_seconds": round(computed - started, 2),
                                 "write_seconds": round(time.perf_counter() - computed, 2)}), flush=True)
    return 0
