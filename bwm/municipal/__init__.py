"""Municipal data files: figures a municipality holds itself (debt counselling, bijstand per buurt, food bank
clients, buddy programmes), dropped as CSV or XLSX in ``data/municipal/`` (BWM_MUNICIPAL_DIR).

* ``read``: bytes -> sheets of cells (encoding, delimiter and quoting; XLSX streamed over its real cells,
  formulas, hidden sheets, rows and columns, text in the colour of its fill);
* ``limits``: the documented limits on a file, a field, a declaration and a workbook's used range;
* ``declaration``: the indicator declarations (sidecar YAML, or the ``indicatoren`` sheet of an XLSX);
* ``validate``: every row against its declaration and the warehouse's area codes;
* ``folder``: one pass over the drop folder (regular files only); a file with any finding is rejected whole;
* ``publish``: totals per wijk and gemeente, then disclosure control (``bwm.disclosure``);
* ``catalogue``: declarations as rows of ``indicators.catalogue``;
* ``store``: the ``municipal.*`` tables.
"""
