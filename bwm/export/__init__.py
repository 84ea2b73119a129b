"""Exports of indicator tables for evaluators: CSV, Parquet and XLSX, with definitions, sources and notes.

* ``tables``: the tables of one export, read from the warehouse for a selection (municipalities, themes,
  years, levels): data (long and wide), definitions, sources, notes;
* ``writers``: CSV (UTF-8 with BOM; ',' or ';' with decimal commas), Parquet, XLSX; text cells that a
  spreadsheet would run as a formula are neutralised;
* ``xlsx``: deterministic XLSX bytes (fixed document dates and zip times);
* ``run``: one export (``bwm export``), or one per municipality (the publish asset), incrementally: a fingerprint
  per municipality of what its export is made from (``bwm.incremental``), so the publish asset rewrites only the
  municipalities whose files would change.

Everything exported comes from ``publish.values`` (the publish model, over ``indicators.values``), where municipal
figures are disclosure-controlled already, so an export cannot hold a suppressed figure. The same warehouse gives
the same bytes, apart from the one ``generated_at`` field (notes table; XLSX document properties).
"""
