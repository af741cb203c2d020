"""The exercise widget in a real Jupyter kernel (nbclient): it displays, and answering through its
boxes and buttons gives `Exercise.answer`'s verdicts, right and named mistakes alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs the dev extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the dev extra (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook test needs the dev extra (ipykernel)")
pytest.importorskip("ipywidgets", reason="the widget needs ipywidgets: pip install 'axongrad[widgets]'")

pytestmark = [
    pytest.mark.dot,
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

TESTS = Path(__file__).resolve().parent
# The posts' smallest network (X = 1.5, W0 = 0.8, W1 = -0.4, target Y = 0.9), built by the tests' own helper.
SETUP = f"""\
import json, sys
sys.path.insert(0, {str(TESTS)!r})
import viz
from test_viz_exercise import posts
from viz.labels import fmt

ex = viz.exercise(posts()["E"])
view = ex.widget()
"""

# Each cell prints one JSON line the test reads.
CELLS = [
    ("display", "view"),
    ("itself", "ex"),
    (
        "right",
        "for q in ex.items:\n"
        "    view.answers[q.name].value = fmt(q.answer)   # as a learner types it, then Enter\n"
        "print(json.dumps({'verdicts': {n: w.value for n, w in view.verdicts.items()},\n"
        "                  'progress': view.progress.value}))",
    ),
    (
        "mistakes",
        "out = {}\n"
        "for name, text in [('d a0/d Z0', 'a0'), ('grad W0', '1.5'), ('grad W1', '0.08937'),\n"
        "                   ('d a1/d Z1', 'sigmoid(Z1)*(1 - sigmoid(Z1))'),\n"
        "                   ('grad W0', '__import__(\"os\")')]:\n"
        "    view.answers[name].value = text\n"
        "    view.checks[name].click()\n"
        "    out[name + ' <- ' + text] = [view.verdicts[name].value, ex.verdicts[name].message]\n"
        "view.reveals['grad W0'].click()\n"
        "out['progress'] = view.progress.value\n"
        "print(json.dumps(out))",
    ),
]


def _run(folder: Path) -> dict[str, Any]:
    """Run the notebook in a fresh kernel; per cell its display data or its printed JSON."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(SETUP, metadata={"tags": ["setup"]}))
    for name, source in CELLS:
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [name]}))
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    seen: dict[str, Any] = {}
    for cell in nb.cells[1:]:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, (cell.source, errors)
        tag = cell.metadata["tags"][0]
        streams = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        shown = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
        seen[tag] = json.loads(streams) if streams.strip() else dict(shown[-1]["data"])
    return seen


@pytest.mark.slow
def test_the_widget_answers_in_a_real_kernel(tmp_path: Path) -> None:
    seen = _run(tmp_path)
    # The widget and the exercise itself display as a widget view.
    for tag in ("display", "itself"):
        assert "application/vnd.jupyter.widget-view+json" in seen[tag], seen[tag].keys()
    right = seen["right"]
    assert len(right["verdicts"]) == 20
    for name, html in right["verdicts"].items():
        assert f'data-verdict="{name}"' in html and 'data-state="right"' in html, html
        assert "✓ Right: " in html
    assert right["progress"] == "<b>20 of 20 right</b>"
    mistakes = seen["mistakes"]
    html, message = mistakes["d a0/d Z0 <- a0"]
    assert 'data-mistake="sigmoid-value"' in html and "σ(x)(1 − σ(x))" in message
    html, message = mistakes["grad W0 <- 1.5"]
    assert 'data-mistake="forgot-upstream"' in html and "forgot to multiply by grad Z0" in message
    html, message = mistakes["grad W1 <- 0.08937"]
    assert 'data-mistake="sign"' in html and "wrong sign" in message
    html, _ = mistakes["d a1/d Z1 <- sigmoid(Z1)*(1 - sigmoid(Z1))"]
    assert 'data-state="right"' in html
    html, message = mistakes['grad W0 <- __import__("os")']
    assert 'data-state="unreadable"' in html and "only these functions" in message
    assert mistakes["progress"] == "<b>17 of 20 right, 1 revealed</b>"
