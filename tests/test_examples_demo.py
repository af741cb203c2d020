"""The README's demo: it runs, checks its own claims, and writes every picture it promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "smallest_forward.svg",
    "smallest_forward.png",
    "smallest_backward.svg",
    "smallest_backward.png",
    "smallest_chain_rule.txt",
    "smallest_backward_steps.html",
    "smallest_exercise.html",
    "moons_history.png",
    "moons_decision_boundary.png",
    "moons_mlp_grouped.svg",
    "moons_mlp_grouped.png",
    "moons_neuron_closeup.png",
    "moons_training.html",
}

pytestmark = pytest.mark.skipif(
    shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"
)


def test_demo_writes_its_pictures_and_reaches_micrograds_result(tmp_path: Path) -> None:
    """The demo script run as the README runs it: exit 0, every file written, numbers printed."""
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-W", "error", str(ROOT / "examples" / "demo.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == EXPECTED
    assert all((out / name).stat().st_size > 0 for name in EXPECTED)
    assert "training accuracy 100%" in result.stdout
    assert str(out) in result.stdout
    # The diagram after backward carries the gradients the text reports.
    svg = (out / "smallest_backward.svg").read_text(encoding="utf-8")
    ET.fromstring(svg)  # noqa: S314 (dot's own output, parsed to prove it is well-formed)
    assert "0.01241" in svg and "&#45;0.08937" in svg  # dot writes '-' as &#45;
    chain = (out / "smallest_chain_rule.txt").read_text(encoding="utf-8")
    assert chain.startswith("dE/dW0 = dE/dY'") and "= 0.01241" in chain
    # The exercise page asks for what the diagram shows after backward; the replay has its frames.
    exercise = (out / "smallest_exercise.html").read_text(encoding="utf-8")
    assert 'data-answer="grad W0"' in exercise and 'data-verdict="grad W0"' in exercise
    assert "nn.fit replay: 13 frames" in result.stdout
