"""Municipal data files: figures a municipality holds itself (debt counselling, bijstand per buurt, food bank
clients, buddy programmes), dropped as CSV or XLSX in ``data/municipal/`` (BWM_MUNICIPAL_DIR).

* ``read``: bytes -> sheets of cells (encoding and delimiter detection, XLSX formulas and hidden sheets);
* ``declaration``: the indicator declarations (sidecar YAML, or the ``indicatoren`` sheet of an XLSX);
* ``validate``: every row against its declaration and the warehouse's area codes;
* ``folder``: one pass over the drop folder; a file with any finding is rejected whole;
* ``publish``: totals per wijk and gemeente, then disclosure control (``bwm.disclosure``);
* ``catalogue``: declarations as rows of ``indicators.catalogue``;
* ``store``: the ``municipal.*`` tables.
"""
