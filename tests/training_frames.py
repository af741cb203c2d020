"""Training frames in the FRAMES.md format, recorded by a hand loop (independent of nn.fit's recorder).

The page and live-view tests replay these. Each frame is computed here from Values, as a learner
would by hand: the sample's z, a and δ = dE/dz from its own graph (the neuron's weighted-sum node
and its output, found by the scope tags nn sets), the batch's weights and gradients after backward
and before the update, and the model's first output on a 25 x 25 grid over the padded data box.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nn
from autograd import Value, no_grad, topological_order


@dataclass
class HandFrame:
    """A frame as FRAMES.md describes it; `as_dict()` returns a copy of the plain data."""

    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


@dataclass
class HandHistory:
    """What fit's History carries for the pages: per-epoch loss and accuracy, and the frames."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    frames: list[HandFrame] = field(default_factory=list)


def neuron_values(model: nn.MLP, x: list[float], y: float) -> tuple[list[float], dict[str, dict[str, float]]]:
    """The sample's outputs and each neuron's z, a and δ = dE/dz for E = squared error of this sample."""
    outs = model.outputs(x)
    error = nn.squared_error(outs[0] if len(outs) == 1 else outs, y)
    error.backward()
    neurons: dict[str, dict[str, float]] = {}
    for v in topological_order(error):
        if v.op == "wsum" and v.scope:  # z of the neuron tagged v.scope ("L1.n0")
            neurons.setdefault(v.scope, {})["z"] = v.data
            neurons[v.scope]["delta"] = v.grad
        if v.scope and v.label == v.scope:  # the neuron's output a (labelled with its name)
            neurons.setdefault(v.scope, {})["a"] = v.data
    model.zero_grad()
    return [o.data for o in outs], neurons


def boundary(model: nn.MLP, xs: list[list[float]], size: int = 25) -> dict[str, Any]:
    """The model's first output on a size x size grid over the data box padded by 10%."""
    lo0, hi0 = min(p[0] for p in xs), max(p[0] for p in xs)
    lo1, hi1 = min(p[1] for p in xs), max(p[1] for p in xs)
    pad0, pad1 = 0.1 * (hi0 - lo0), 0.1 * (hi1 - lo1)
    box = {"x_min": lo0 - pad0, "x_max": hi0 + pad0, "y_min": lo1 - pad1, "y_max": hi1 + pad1}
    with no_grad():
        values = [
            [
                model.outputs([
                    box["x_min"] + j * (box["x_max"] - box["x_min"]) / (size - 1),
                    box["y_min"] + i * (box["y_max"] - box["y_min"]) / (size - 1),
                ])[0].data
                for j in range(size)
            ]
            for i in range(size)
        ]
    return {**box, "size": size, "values": values}


def layers(model: nn.MLP) -> list[dict[str, Any]]:
    """Every layer's weights, biases and their grads, named as nn's scope tags ("L1", "L2", ...)."""
    return [
        {
            "name": f"L{k + 1}",
            "weights": [[w.data for w in n.w] for n in layer.neurons],
            "biases": [n.b.data if n.b is not None else 0.0 for n in layer.neurons],
            "weight_grads": [[w.grad for w in n.w] for n in layer.neurons],
            "bias_grads": [n.b.grad if n.b is not None else 0.0 for n in layer.neurons],
        }
        for k, layer in enumerate(model.layers)
    ]


def hand_history(
    steps: int = 24, record: int = 4, lr: float = 0.2, n: int = 40, sample: int = 0, seed: int = 0,
    hidden: tuple[int, ...] = (8,), activation: str = "tanh",
    on_frame: Callable[[HandHistory, HandFrame], None] | None = None,
) -> tuple[HandHistory, list[list[float]], list[float]]:
    """Full-batch gradient descent on moons, a frame every `record` steps and at the last step.

    `on_frame(history, frame)` is called right after each frame is appended, as fit's is.
    """
    xs, ys = nn.moons(n, seed=seed)
    model = nn.MLP(2, [*hidden, 1], activation=activation, seed=seed)
    history = HandHistory()
    params = model.parameters()
    for step in range(steps + 1):  # step `steps` is measured but not updated: the last frame
        model.zero_grad()
        recording = step % record == 0 or step == steps
        if recording:
            outputs, neurons = neuron_values(model, xs[sample], ys[sample])
        preds = [model(x) for x in xs]
        total: Value = sum((nn.squared_error(p, y) for p, y in zip(preds, ys)), Value(0.0))
        mean = total * (1.0 / n)
        mean.backward()
        correct = sum(1 for p, y in zip(preds, ys) if (p.data > 0) == (y > 0))  # type: ignore[union-attr]
        history.loss.append(mean.data)
        history.accuracy.append(correct / n)
        if recording:
            history.frames.append(HandFrame({
                "step": step,
                "epoch": step + 1,
                "loss": mean.data,
                "accuracy": correct / n,
                "layers": layers(model),
                "boundary": boundary(model, xs),
                "sample": {
                    "index": sample, "inputs": list(xs[sample]), "target": ys[sample],
                    "outputs": outputs, "neurons": neurons,
                },
            }))
            if on_frame is not None:
                on_frame(history, history.frames[-1])
        if step < steps:
            for p in params:
                p.data -= lr * p.grad
    assert all(math.isfinite(x) for x in history.loss)
    return history, xs, ys
