"""The baseline of issue 16: the compute core written again in plain pandas, producing the same output.

From the mirror (every KWB year's and the health table's ``TypedDataSet.json``) to ``indicators.values`` and
``divide.measures``, agreeing with the warehouse to 1e-9 on every row (tests/test_baseline_agrees.py), so its
time is a fair yardstick for the warehouse's compute core. ``compute.compute`` is the function,
``python -m benchmarks.baseline`` the command line (``run.py``), ``read.py`` the reading of the mirror.
"""
