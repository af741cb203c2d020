"""Training frames: what `fit(..., record=k)` keeps every k steps, for viz to replay (FRAMES.md).

A frame is taken after a step's backward and before its update, so its weights are the ones the
batch was computed with and its grads their gradients of that batch's mean loss. It holds plain
Python numbers only (`Frame.as_dict()` is json.dumps-able): viz reads frames through `as_dict()`.

What one frame costs (none of it records a graph except the sample's, which uses its own copies
of the weights, so no parameter's grad changes):
- weights and grads: one read of every parameter;
- accuracy: free with one full batch (the batch just measured it), else one forward pass per
  training sample (under `no_grad`);
- boundary (models with exactly 2 inputs): BOUNDARY_SIZE**2 = 625 forward passes under `no_grad`;
- sample: one forward and backward of one sample.
The boundary dominates: for an MLP(2, [16, 16, 1]) on 100 points a frame costs about three
full-batch steps, so `record=10` makes such a fit about a quarter slower and `record=1` about four
times slower; record less often on bigger models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from autograd import Value, no_grad, weighted_sum
from nn.activations import activate
from nn.layers import MLP, Input, Output

BOUNDARY_SIZE = 25
"""Grid points per side of a frame's decision boundary."""

BOUNDARY_PAD = 0.1
"""The boundary's box is the data's bounding box grown by this fraction of its size on each side."""


@dataclass
class LayerFrame:
    """One layer at a frame: weights (neuron x input), biases and their gradients (0.0 without a bias)."""

    name: str
    weights: list[list[float]]
    biases: list[float]
    weight_grads: list[list[float]]
    bias_grads: list[float]


@dataclass
class Boundary:
    """The model's first output on a size x size grid over the data's padded bounding box.

    Row i is y = y_min + i*(y_max-y_min)/(size-1), column j likewise x.
    """

    x_min: float
    x_max: float
    y_min: float
    y_max: float
    size: int
    values: list[list[float]]


@dataclass
class SampleFrame:
    """One training sample's pass: inputs, target, outputs and per neuron z, a and delta = dE/dz."""

    index: int
    inputs: list[float]
    target: Any
    outputs: list[float]
    neurons: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Frame:
    """The model at one optimizer step (FRAMES.md): step, epoch, loss, accuracy, layers, boundary, sample."""

    step: int
    epoch: int
    loss: float
    accuracy: float | None
    layers: list[LayerFrame]
    boundary: Boundary | None = None
    sample: SampleFrame | None = None

    def as_dict(self) -> dict[str, Any]:
        """The whole frame as nested dicts and lists of float, int, str and None (json.dumps-able, a copy)."""
        return asdict(self)


def _floats(x: Sequence[Input]) -> list[float]:
    """A sample's inputs as floats (Values give their data)."""
    return [v.data if isinstance(v, Value) else float(v) for v in x]


def plain(target: Any) -> Any:
    """A target as JSON-able data: numbers stay int or float, sequences become lists, Values their data."""
    if isinstance(target, Value):
        return target.data
    if isinstance(target, (int, float, str)) or target is None:  # bool is an int: True stays True
        return target
    if hasattr(target, "tolist"):
        return target.tolist()
    if isinstance(target, Sequence):
        return [plain(t) for t in target]
    return repr(target)


def layer_frames(model: MLP) -> list[LayerFrame]:
    """Every layer's weights, biases and their current grads, named L1, L2, ... as nn's scope tags."""
    frames = []
    for k, layer in enumerate(model.layers):
        neurons = layer.neurons
        frames.append(
            LayerFrame(
                name=f"L{k + 1}",
                weights=[[w.data for w in n.w] for n in neurons],
                biases=[0.0 if n.b is None else n.b.data for n in neurons],
                weight_grads=[[w.grad for w in n.w] for n in neurons],
                bias_grads=[0.0 if n.b is None else n.b.grad for n in neurons],
            )
        )
    return frames


def boundary_box(xs: Sequence[Sequence[Input]]) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max): the 2-D data's bounding box, each side padded by BOUNDARY_PAD."""
    points = [_floats(x) for x in xs]
    box = []
    for axis in (0, 1):
        low = min(p[axis] for p in points)
        high = max(p[axis] for p in points)
        pad = BOUNDARY_PAD * (high - low) if high > low else 1.0  # one point per axis: a unit margin
        box += [low - pad, high + pad]
    return box[0], box[1], box[2], box[3]


def boundary(model: MLP, box: tuple[float, float, float, float], size: int = BOUNDARY_SIZE) -> Boundary:
    """The model's first output over the grid of `box`, computed without recording a graph."""
    x_min, x_max, y_min, y_max = box
    xs = [x_min + j * (x_max - x_min) / (size - 1) for j in range(size)]
    ys = [y_min + i * (y_max - y_min) / (size - 1) for i in range(size)]
    with no_grad():
        values = [[model.outputs([x, y])[0].data for x in xs] for y in ys]
    return Boundary(x_min, x_max, y_min, y_max, size, values)


def sample_frame(
    model: MLP, index: int, x: Sequence[Input], target: Any, loss: Callable[[Output, Any], Value]
) -> SampleFrame:
    """One sample's z, a and delta = dE/dz per neuron (E = loss of this sample alone).

    The forward pass runs on fresh copies of the weights, so the parameters' grads (the batch's,
    which the frame records) are left as they are.
    """
    inputs = _floats(x)
    h = [Value(v) for v in inputs]
    nodes: dict[str, tuple[Value, Value]] = {}
    for layer in model.layers:
        out = []
        for n in layer.neurons:
            z = weighted_sum([Value(w.data) for w in n.w], h, None if n.b is None else Value(n.b.data))
            a = activate(n.activation, z)
            nodes[n.name] = (z, a)
            out.append(a)
        h = out
    pred: Output = h[0] if len(h) == 1 else h
    error = loss(pred, target)
    error.backward()
    return SampleFrame(
        index=index,
        inputs=inputs,
        target=plain(target),
        outputs=[v.data for v in h],
        neurons={name: {"z": z.data, "a": a.data, "delta": z.grad} for name, (z, a) in nodes.items()},
    )


def accuracy_of(
    model: MLP, xs: Sequence[Sequence[Input]], ys: Sequence[Any], rule: Callable[[Output, Any], bool]
) -> float:
    """The fraction of samples `rule` counts right, computed without recording a graph."""
    with no_grad():
        return sum(1 for x, y in zip(xs, ys) if rule(model(x), y)) / len(xs)
