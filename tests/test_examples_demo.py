"""The README's demo: it runs, checks its own claims, and writes every picture it promises."""

from __future__ import annotations

import re
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
    # The close-up is a neuron gradient flows through, and the dead ones are named with why.
    found = re.search(r"close-up \(moons_neuron_closeup\.png\): (L2\.n\d+), .* δ = (\S+) \(z = (\S+)\)",
                      result.stdout)
    assert found is not None, result.stdout
    assert float(found.group(2)) != 0.0 and float(found.group(3)) > 0.0
    assert "second-layer neurons are dead on this point" in result.stdout
    assert found.group(1) not in result.stdout.split("dead on this point (")[1].split(")")[0].split(", ")


def test_the_close_up_is_a_live_neuron_and_the_dead_ones_are_those_with_no_gradient() -> None:
    if str(ROOT / "examples") not in sys.path:
        sys.path.insert(0, str(ROOT / "examples"))
    import demo

    import nn

    model = nn.MLP(2, [2, 3, 1], seed=0)
    hidden = model.layers[1].neurons
    for neuron, bias in zip(hidden, (-50.0, 0.5, 2.0)):  # n0 off (z < 0), n1 and n2 on
        neuron.b.data = bias  # type: ignore[union-attr]
        for w in neuron.w:
            w.data = abs(w.data)
    model.layers[2].neurons[0].w[1].data, model.layers[2].neurons[0].w[2].data = 0.1, 3.0
    loss = nn.squared_error(model([1.0, 1.0]), 10.0)
    loss.backward()
    live, dead = demo.closeup_neuron(loss, ["L2.n0", "L2.n1", "L2.n2"])
    # By hand: n2's delta is its output weight (3.0) times the same upstream grad as n1's (0.1).
    assert live == "L2.n2" and dead == ["L2.n0"]
    assert all(w.grad == 0.0 for w in hidden[0].w) and any(w.grad != 0.0 for w in hidden[2].w)
