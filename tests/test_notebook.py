"""The analyst's notebook runs top to bottom against the demo warehouse (executed, not just parsed)."""

import os

import nbformat
from nbclient import NotebookClient

from bwm.settings import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "divide.ipynb"


def test_notebook_runs_on_the_demo_warehouse(demo_warehouse, monkeypatch, tmp_path):
    monkeypatch.setenv("BWM_WAREHOUSE", str(demo_warehouse["warehouse"]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "buurten with a value" in text
    assert "widening" in text  # the demo's income gap widens, and the trend table says so
    assert os.environ["BWM_WAREHOUSE"] == str(demo_warehouse["warehouse"])
