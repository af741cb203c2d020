"""fit's progress in a real Jupyter kernel: one output updated in place, one line in the saved file.

A text tqdm bar on a kernel's stderr is saved as every redraw (41 lines for 100 epochs, a red block
in exported HTML). The notebook here is run by nbclient, written to disk with nbformat and read
back, as a learner's saved file would be; once with ipywidgets hidden from the kernel, once with it
when it is installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs the dev extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the dev extra (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook test needs the dev extra (ipykernel)")

HIDE_IPYWIDGETS = "import sys\nsys.modules['ipywidgets'] = None  # `import ipywidgets` now fails\n"
FIT_EPOCHS = (
    "import nn\n"
    "xs, ys = nn.xor()\n"
    "model = nn.MLP(2, [4, 1], activation='sigmoid', output_activation='sigmoid', seed=0)\n"
    "history = nn.fit(model, xs, ys, optimizer=nn.SGD(model.parameters(), lr=5.0), epochs=300)\n"
)
FIT_BATCHES = (
    "batched = nn.fit(nn.MLP(2, [3, 1], seed=0), *nn.moons(40, seed=0), loss='hinge', epochs=5, "
    "batch_size=8)\n"
)


def _saved(tmp_path: Path, first: str) -> list[Any]:
    """Run [first, FIT_EPOCHS, FIT_BATCHES, a check] in a kernel, save, read back: each cell's outputs."""
    nb = nbformat.v4.new_notebook()
    check = "import importlib.util\nprint(importlib.util.find_spec('ipywidgets') is not None)"
    for source in (first, FIT_EPOCHS, FIT_BATCHES, check):
        nb.cells.append(nbformat.v4.new_code_cell(source))
    nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)
    return [cell.outputs for cell in saved.cells]


def _progress_line(outputs: list[Any]) -> tuple[str, str]:
    """The cell's one progress output: (its text, its HTML); no stderr wall, no widget.

    fit may add one line of its own after it (the loss still falling, the doctor's findings).
    """
    kinds = [o.output_type for o in outputs]
    assert kinds in (["display_data"], ["display_data", "stream"]), outputs
    if len(outputs) == 2:
        note = outputs[1]["text"]
        assert note.startswith("fit: ") and note.count("\n") == 1, note
    data = outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" not in data
    text = data["text/plain"]
    assert "\n" not in text and "\r" not in text, text
    return text, data["text/html"]


def _check(outputs: list[list[Any]], widgets_visible: bool) -> None:
    """What a saved notebook shows for both fit cells."""
    text, page = _progress_line(outputs[1])
    assert text.startswith("fit: 300/300 epochs, epoch=300, loss=")
    assert '<progress value="300" max="300"' in page and "fit: 300/300 epochs" in page
    text, page = _progress_line(outputs[2])
    assert text.startswith("fit: 25/25 batches, epoch=5, loss=")  # 5 epochs of 5 batches of 8
    assert outputs[3][0]["text"].strip() == str(widgets_visible)


@pytest.mark.slow
def test_progress_is_one_line_in_a_saved_notebook_without_ipywidgets(tmp_path: Path) -> None:
    _check(_saved(tmp_path, HIDE_IPYWIDGETS), widgets_visible=False)


@pytest.mark.slow
def test_progress_is_one_line_in_a_saved_notebook_with_ipywidgets(tmp_path: Path) -> None:
    if importlib.util.find_spec("ipywidgets") is None:
        pytest.skip("ipywidgets is not installed (pip install 'axongrad[widgets]')")
    _check(_saved(tmp_path, "import ipywidgets"), widgets_visible=True)
