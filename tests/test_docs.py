"""The docs a newcomer reads: the notebook runs, and the API reference builds from the docstrings."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API_MODULES = ["seqart.api", "seqart.clip", "seqart.sample", "seqart.export"]


@pytest.mark.slow
def test_the_notebook_runs_and_shows_pictures(tmp_path):
    """Executed as a person would open it: from docs/, beside the project's datasets/."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "notebook.ipynb", tmp_path / "docs")
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    nb = nbformat.read(tmp_path / "docs" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path / "docs")}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    shown = {mime for o in outputs for mime in o.get("data", {})}
    assert {"image/svg+xml", "image/png", "image/gif"} <= shown
    assert not [o for o in outputs if o.output_type == "error"]
    assert (tmp_path / "docs" / "sheep.svg").exists() and (tmp_path / "docs" / "tune.mid").exists()


def test_the_api_reference_builds(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pdoc", *API_MODULES, "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr[-2000:]
    page = (tmp_path / "seqart" / "api.html").read_text()
    for name in ("load", "read", "save", "perform", "Model.sample", "Model.sampler"):
        assert f'id="{name}"' in page
    assert "Warn" not in done.stderr
