"""The walkthrough notebook runs top to bottom, so it cannot rot."""
import nbformat
from nbclient import NotebookClient

from .conftest import ROOT


def test_walkthrough_notebook_runs():
    notebook = nbformat.read(ROOT / "notebooks" / "walkthrough.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for o in cell.get("outputs", []))
    assert "macro F1 on unseen sites:" in outputs and "---- cleaned ----" in outputs
