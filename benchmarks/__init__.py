"""Benchmarks of the Brede Welvaart Monitor at national scale (issue 7); see benchmarks/README.md.

    python -m benchmarks            national synthetic mirror, every scenario, the baseline; ~15 minutes
    python -m benchmarks --quick    demo scale (3 municipalities), every scenario; about a minute (CI)

Each scenario runs in a fresh subprocess (``benchmarks.scenarios``) with its own ``BWM_*`` environment; the
harness (``benchmarks.harness``) records wall time and peak memory (the largest resident set of any process
in the child's tree, from ``wait4``), prints a table and writes ``benchmarks/results/<scale>.json``.
These are measurements, not tests: nothing fails on time, only on a scenario that does not run.
"""
