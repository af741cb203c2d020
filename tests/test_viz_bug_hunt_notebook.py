"""The bug hunt in a real Jupyter kernel: the hunt shows its current diagram, a check shows its verdict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("nbformat", reason="the notebook test needs the dev extra (nbformat)")
pytest.importorskip("nbclient", reason="the notebook test needs the dev extra (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook test needs the dev extra (ipykernel)")
pytest.importorskip("matplotlib", reason="the set-up cell needs matplotlib (axongrad[plots])")

from test_viz_notebook import _notebook, _run

pytestmark = [
    pytest.mark.dot,
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]


@pytest.mark.slow
def test_a_hunt_in_a_kernel(tmp_path: Path) -> None:
    cells = [
        ("fresh", "hunt = viz.bug_hunt(E, seed=1)\nhunt"),
        ("check", 'hunt.check("Z0")'),
        ("after", 'hunt.check("a1")\nhunt'),
    ]
    shown = _run(_notebook(cells), tmp_path)
    fresh = shown["fresh"]["image/svg+xml"]
    assert "Bug hunt (seed 1)" in fresh and "✓" not in fresh.split("checked 0 of 7")[1]
    assert shown["check"]["text/plain"].startswith("Z0: ✗ a local derivative disagrees")
    after = shown["after"]["image/svg+xml"]
    assert "✗ Z0" in after and "✓ a1" in after
    assert '#fecaca' in after and '#bbf7d0' in after  # red-ish and green-ish fills
    assert shown["after"]["text/plain"] == "<bug hunt, seed 1: checked 2 of 7 operations: ✗ Z0, ✓ a1>"
