"""A learner's notebook run in a real Jupyter kernel: every display finishes, stays small and reads well.

The notebook is written here cell by cell (as a learner would type it) and executed by nbclient
in an ipykernel; each cell has a time limit, so a display that hangs fails the test instead of
hanging it. The display cells' limit is the display budget (dot's TIME_BUDGET) plus start-up slack.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs the dev extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the dev extra (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook test needs the dev extra (ipykernel)")
pytest.importorskip("matplotlib", reason="the plot cells need matplotlib: pip install 'axongrad[plots]'")

pytestmark = [
    pytest.mark.dot,
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

# Seconds a display cell may take (the display gives dot 4 s in all; the rest is slack for a
# loaded 2-core machine); other cells (imports, building a batch) get SETUP_SECONDS.
DISPLAY_SECONDS = 15
SETUP_SECONDS = 120
# No output may be larger than this (a saved notebook stays small; before: 3-4 MB per diagram).
# A Value's own display keeps to viz.display.MAX_SVG_BYTES (400 KB), checked below.
OUTPUT_BYTES = 1_000_000

SETUP = """\
import random
import nn, viz
from autograd import Value

X, W0, W1 = Value(1.5, label="X"), Value(0.8, label="W0"), Value(-0.4, label="W1")
Z0 = X * W0;       Z0.label = "Z0"
a0 = Z0.sigmoid(); a0.label = "a0"
Z1 = a0 * W1;      Z1.label = "Z1"
a1 = Z1.sigmoid(); a1.label = "a1"
E = 0.5 * (a1 - 0.9) ** 2
E.label = "E"
E.backward()

random.seed(0)
model = nn.MLP(2, [16, 16, 1])
xs = [[random.uniform(-2, 2), random.uniform(-2, 2)] for _ in range(100)]
ys = [random.choice([-1.0, 1.0]) for _ in range(100)]
"""

# (name, source): each is one display cell, its output checked below.
DISPLAYS = [
    ("small", "E"),
    ("mse60", "loss = nn.mse([model(x) for x in xs[:60]], ys[:60])\nloss"),
    ("sum100", "outs = [model(x) for x in xs]\ntotal = outs[0]\nfor o in outs[1:]:\n    total += o\ntotal"),
    ("grouped", 'viz.draw(loss, group="neuron")'),
    ("explain", "viz.explain(E, W0)"),
    ("plot", 'viz.plot_activation("tanh")'),
    ("steps", "viz.backward_steps(E)"),
]


def _notebook(cells: list[tuple[str, str]]) -> Any:
    """A notebook of one set-up cell and the given (name, source) cells, each tagged with its name."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(SETUP, metadata={"tags": ["setup"]}))
    for name, source in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [name]}))
    return nb


def _run(nb: Any, folder: Path) -> dict[str, dict[str, Any]]:
    """Execute `nb` in a fresh kernel in `folder`; the outputs of each named cell's last result."""

    def limit(cell: Any) -> int:
        return SETUP_SECONDS if "setup" in cell.metadata.get("tags", []) else DISPLAY_SECONDS

    client = nbclient.NotebookClient(
        nb,
        timeout=SETUP_SECONDS,
        timeout_func=limit,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    shown = {}
    for cell in nb.cells[1:]:
        results = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, (cell.source, errors)
        assert results, f"cell {cell.source!r} displayed nothing"
        shown[cell.metadata["tags"][0]] = dict(results[-1]["data"])
        for output in cell.outputs:
            size = len(json.dumps(output))
            assert size <= OUTPUT_BYTES, f"cell {cell.source!r} output is {size:,} bytes"
    return shown


@pytest.mark.slow
def test_a_learners_notebook_displays_everything_readably(tmp_path: Path) -> None:
    shown = _run(_notebook(DISPLAYS), tmp_path)
    # The README's five-operation network: a whole diagram, top-down (taller than wide).
    svg = shown["small"]["image/svg+xml"]
    assert "<svg" in svg and ">E<" in svg
    size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert size is not None and float(size.group(2)) > float(size.group(1))
    # Batches: a small diagram (the layer view, saying so) or a text summary, never a hang.
    for name in ("mse60", "sum100"):
        data = shown[name]
        if "image/svg+xml" in data:
            assert "grouped by layer" in data["image/svg+xml"]
        else:
            assert "Not drawn here" in data["text/plain"]
    assert "image/svg+xml" in shown["grouped"] or "not shown here" in shown["grouped"]["text/plain"]
    for name in ("small", "mse60", "sum100"):  # a Value's own display keeps to the smaller budget
        assert len(shown[name].get("image/svg+xml", "").encode()) <= 400_000
    # explain reads as the chain rule, not a dataclass repr.
    text = shown["explain"]["text/plain"]
    assert text.startswith("dE/dW0 = dE/da1") and "Factor(" not in text
    # A plot is an image in a fresh kernel with no %matplotlib magic.
    assert "image/png" in shown["plot"]
    # The backward steps play inline in an iframe, and their text says what they are.
    assert shown["steps"]["text/html"].startswith("<iframe srcdoc=")
    assert shown["steps"]["text/plain"].startswith("<8 backward steps of E")


@pytest.mark.slow
def test_a_history_displays_in_under_2000_characters(tmp_path: Path) -> None:
    cells = [
        (
            "history",
            "xor_model = nn.MLP(2, [4, 1], activation='sigmoid', output_activation='sigmoid', seed=0)\n"
            "hx, hy = nn.datasets.xor()\n"
            "history = nn.fit(xor_model, hx, hy, optimizer=nn.SGD(xor_model.parameters(), lr=5.0), "
            "epochs=500, progress=False)\nhistory",
        )
    ]
    shown = _run(_notebook(cells), tmp_path)
    assert len(shown["history"]["text/plain"]) < 2000
    assert shown["history"]["text/plain"].startswith("History(epochs=500")


@pytest.mark.slow
def test_fit_shows_progress_in_a_kernel(tmp_path: Path) -> None:
    nb = _notebook([])
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "m = nn.MLP(2, [4, 1], seed=0)\nhx, hy = nn.datasets.xor()\n"
            "h = nn.fit(m, hx, hy, epochs=50, progress=True)"
        )
    )
    client = nbclient.NotebookClient(nb, timeout=SETUP_SECONDS, kernel_name="python3")
    client.execute()
    outputs = nb.cells[-1].outputs
    shown = [o for o in outputs if o.output_type == "display_data"]  # one output, updated in place
    assert len(shown) == 1 and "50/50 epochs" in shown[0]["data"]["text/plain"]
