"""Every gradient the demo and the examples draw equals a fresh backward of the graph the picture shows.

Each example that calls `viz.draw` runs with `viz.draw` wrapped: at every call the wrapper notes the
grads the diagram is drawn from, then sets every grad of that graph to 0, runs `backward()` from its
root, draws it again and puts the old grads back (so the example goes on unchanged). Grads left on
shared parameters by training, or a second backward without zeroing, make the two disagree.
"""

from __future__ import annotations

import importlib
import math
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib", reason="the examples draw with matplotlib (pip install 'axongrad[plots]')")

import autograd
import viz
from autograd import Value, topological_order

pytestmark = pytest.mark.filterwarnings("error")  # the examples run without a warning
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def drawing_examples() -> list[str]:
    """The examples (helpers, named _*.py, left out) whose code calls viz.draw."""
    return sorted(
        p.stem for p in EXAMPLES.glob("*.py")
        if not p.name.startswith("_") and "viz.draw(" in p.read_text(encoding="utf-8")
    )


@dataclass
class Drawn:
    """One viz.draw call after backward: the grads and DOT text drawn, and those of a fresh backward."""

    labels: list[str]
    drawn: list[float]
    fresh: list[float]
    source: str
    fresh_source: str


def fresh_backward(root: Value) -> list[float]:
    """Every grad of root's graph after zeroing them all and one backward (leaves first)."""
    order = topological_order(root)
    for v in order:
        v.grad = 0.0
    root.backward()
    return [v.grad for v in order]


def recording(real_draw: Callable[..., Any], calls: list[Drawn]) -> Callable[..., Any]:
    """A stand-in for viz.draw that records each diagram drawn after backward (see module docstring)."""

    def draw(root: Any, **kwargs: Any) -> Any:
        diagram = real_draw(root, **kwargs)
        value = root if isinstance(root, Value) else root.root
        order = topological_order(value)
        if value.grad == 0.0:  # drawn before backward: the diagram shows no gradients
            return diagram
        saved = [v.grad for v in order]
        fresh = fresh_backward(value)
        again = real_draw(root, **kwargs)
        for v, g in zip(order, saved):
            v.grad = g
        calls.append(Drawn([v.label for v in order], saved, fresh, diagram.source, again.source))
        return diagram

    return draw


def load(name: str) -> Any:
    """Import examples/<name>.py (the examples folder is not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def run_recorded(name: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> list[Drawn]:
    """Run the example (the demo with 3 training steps, the others --fast); its recorded diagrams."""
    calls: list[Drawn] = []
    monkeypatch.setattr(viz, "draw", recording(viz.draw, calls))
    argv = ["--steps", "3"] if name == "demo" else ["--fast"]
    load(name).main([*argv, "--out", str(out)])
    return calls


def mismatches(call: Drawn) -> list[str]:
    """The nodes whose drawn grad differs from the fresh backward's, as readable lines."""
    return [
        f"{label or '(unlabelled)'}: drawn {d!r}, fresh backward {f!r}"
        for label, d, f in zip(call.labels, call.drawn, call.fresh)
        if not math.isclose(d, f, rel_tol=1e-9, abs_tol=1e-12)
    ]


def test_the_examples_that_draw_are_found() -> None:
    names = drawing_examples()
    assert {"demo", "moons", "smallest_ann", "multiply_with_neurons", "threshold_to_bias"} <= set(names)


@pytest.mark.parametrize("name", drawing_examples())
def test_every_drawn_gradient_equals_a_fresh_backward(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name == "demo" and shutil.which("dot") is None:
        pytest.skip("the demo renders its diagrams with Graphviz's dot, which is not on PATH")
    calls = run_recorded(name, tmp_path, monkeypatch)
    assert calls, f"{name} drew no diagram after backward"
    for k, call in enumerate(calls):
        wrong = mismatches(call)
        assert not wrong, f"{name}, diagram {k}: " + "; ".join(wrong[:5])
        assert call.source == call.fresh_source, f"{name}, diagram {k}: the DOT text differs"


def test_the_check_catches_grads_left_by_an_earlier_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checker that cannot fail proves nothing: a leaf used by two losses keeps the first's grad."""
    calls: list[Drawn] = []
    monkeypatch.setattr(viz, "draw", recording(viz.draw, calls))
    w = Value(3.0, label="w")
    (w * 2.0).backward()  # leaves accumulate: w.grad = 2
    loss = w * w
    with pytest.warns(autograd.StaleGradWarning):
        loss.backward()  # w.grad = 2 + 6 without zeroing first
    viz.draw(loss)
    assert len(calls) == 1
    assert mismatches(calls[0]) == ["w: drawn 8.0, fresh backward 6.0"]
    assert calls[0].source != calls[0].fresh_source
    assert w.grad == 8.0  # the wrapper put the example's grads back


def test_diagrams_before_backward_are_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Drawn] = []
    monkeypatch.setattr(viz, "draw", recording(viz.draw, calls))
    x = Value(2.0, label="x")
    viz.draw(x * x)
    assert calls == [] and x.grad == 0.0
