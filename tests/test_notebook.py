"""The walkthrough notebook runs top to bottom, so it cannot rot."""
import nbformat
from nbclient import NotebookClient

from .conftest import ROOT


def test_walkthrough_notebook_runs_and_shows_its_plot():
    notebook = nbformat.read(ROOT / "notebooks" / "walkthrough.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = "".join(o.get("text", "") for cell in code for o in cell.get("outputs", []))
    assert "macro F1 on unseen sites:" in outputs and "---- cleaned ----" in outputs
    plot = next(cell for cell in code if "ConfusionMatrixDisplay(" in cell.source)
    assert any("image/png" in o.get("data", {}) for o in plot.outputs)  # a non-interactive backend shows nothing
