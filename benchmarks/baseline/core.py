"""What the baseline is timed against: the warehouse's compute core, ``python -m benchmarks.baseline.core``.

Runs the ``refresh`` job in this process over ``divide/measures`` and everything upstream of it (the mirror
check, raw, staging, the municipal files, indicators.values and weights, divide.inputs and .measures) with their
asset checks, on the warehouse and mirror of the ``BWM_*`` settings (``BWM_SOURCE=mirror``), on a throwaway
Dagster instance; prints ``BENCH {json}`` with the time of each step. Start it in a fresh process with an empty
warehouse, as the harness does, and compare its wall time with ``python -m benchmarks.baseline``'s.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    import dagster as dg

    from pipelines.definitions import defs

    started = time.perf_counter()
    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.assets(dg.AssetKey(["divide", "measures"])).upstream() \
        .required_multi_asset_neighbors().resolve(graph)
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh").execute_in_process(instance=instance, asset_selection=list(keys))
    steps = {s.step_key: round(s.end_time - s.start_time, 2) for s in instance.get_run_step_stats(result.run_id)
             if s.start_time and s.end_time}
    print("BENCH " + json.dumps({"assets": len(keys), "run_seconds": round(time.perf_counter() - started, 2),
                                 "steps": steps}), flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
