"""The loss graphs fit(engine="tape") compiles: every step leads to a parameter (no per-batch data work)."""

from __future__ import annotations

from typing import Any

import pytest

import nn
from autograd import Value
from nn.tape_engine import TapeEngine

# (loss, output activation, outputs, first target): each named loss the tape compiles from its own formula.
CASES: list[tuple[Any, str, int, Any]] = [
    (nn.losses.hinge, "linear", 1, -1.0),
    (nn.losses.squared_error, "linear", 1, 0.25),
    (nn.losses.mse, "linear", 2, [0.25, -1.5]),
    (nn.losses.cross_entropy, "linear", 3, 2),
    (nn.losses.binary_cross_entropy, "sigmoid", 1, 1.0),
]


def _compiled(loss: Any, activation: str, outputs: int, y0: Any) -> Any:
    """The tape engine's compilation of MLP(2, [3, outputs]) and `loss` at target `y0`."""
    model = nn.MLP(2, [3, outputs], seed=1, output_activation=activation)
    return TapeEngine(backend="python")._compile(model, loss, [0.5, -0.25], y0)


@pytest.mark.parametrize("loss, activation, outputs, y0", CASES, ids=lambda c: getattr(c, "__name__", None))
def test_every_step_of_a_named_loss_leads_to_a_parameter(
    loss: Any, activation: str, outputs: int, y0: Any
) -> None:
    """A step computed from the data alone (hinge's -y once was) would run on every batch for nothing."""
    tape = _compiled(loss, activation, outputs, y0).tape
    data_only = [s.op for s in tape.steps if not tape.needs_grad[s.output]]
    assert data_only == []


@pytest.mark.parametrize("y", [-1.0, 1.0, -1, 1])
def test_hinge_target_enters_negated_and_gives_the_scalar_loss(y: float) -> None:
    """The hinge tape's target column is -y, and its loss and gradients are the scalar engine's."""
    model = nn.MLP(2, [3, 1], seed=2)
    engine = TapeEngine(backend="python")
    xs, ys = [[0.5, -0.25], [-1.0, 2.0]], [y, -y]
    compiled = engine._compile(model, nn.losses.hinge, xs[0], ys[0])
    assert compiled.encode(ys) == [[-float(y), float(y)]]
    model.zero_grad()
    mean, _ = engine(model, xs, ys, nn.losses.hinge, None)
    tape_grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    scalar = sum((nn.losses.hinge(model(x), t) for x, t in zip(xs, ys)), start=Value(0.0)) * 0.5
    scalar.backward()
    assert mean == pytest.approx(scalar.data, abs=1e-15)
    assert tape_grads == pytest.approx([p.grad for p in model.parameters()], abs=1e-15)
