"""A Value takes a learner's own attributes, as micrograd's does (issue 24).

The training script and the drawing helper below are micrograd-style code, written once and run
unchanged on axongrad's Value and on micrograd 0.1.0's (the dev extra): an AdamW that keeps its
moments on each parameter (`p.m`, `p.v`) and a draw_dot that colours nodes through an attribute.
"""

from __future__ import annotations

import copy
import itertools
import math
import pickle
import random
import warnings
from typing import Any

import pytest

from autograd import StaleGradWarning, Value

# ---------------------------------------------------------------- micrograd-style code, unchanged


def tanh(x: Any) -> Any:
    """tanh the lecture's way: a node and its _backward closure."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = type(x)(t, (x,), "tanh")

    def _backward() -> None:
        x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def exp(x: Any) -> Any:
    """e ** x the lecture's way."""
    out = type(x)(math.exp(x.data), (x,), "exp")

    def _backward() -> None:
        x.grad += out.data * out.grad

    out._backward = _backward
    return out


def log(x: Any) -> Any:
    """Natural log the lecture's way."""
    out = type(x)(math.log(x.data), (x,), "log")

    def _backward() -> None:
        x.grad += (1 / x.data) * out.grad

    out._backward = _backward
    return out


class MLP:
    """A 2-8-3 tanh network on any micrograd-style Value class, its weights from one seed."""

    def __init__(self, value: Any, sizes: list[int], seed: int) -> None:
        rng = random.Random(seed)
        self.layers = [
            [([value(rng.uniform(-1, 1)) for _ in range(nin)], value(0.0)) for _ in range(nout)]
            for nin, nout in itertools.pairwise(sizes)
        ]

    def __call__(self, x: list[Any]) -> list[Any]:
        for i, layer in enumerate(self.layers):
            out = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = out if i == len(self.layers) - 1 else [tanh(o) for o in out]
        return x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for w, b in layer for p in [*w, b]]


def cross_entropy(logits: list[Any], target: int) -> Any:
    exps = [exp(z) for z in logits]
    total = sum(exps[1:], exps[0])
    return -log(exps[target] / total)


def train_adamw(value: Any, steps: int = 8) -> tuple[list[float], list[float]]:
    """A hand-written AdamW keeping p.m and p.v on each parameter; the losses and final weights."""
    rng = random.Random(3)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]
    ys = [(x[0] > 0) + (x[1] > 0) for x in xs]  # three classes
    model = MLP(value, [2, 8, 3], seed=7)
    params = model.parameters()
    for p in params:
        p.m = 0.0
        p.v = 0.0
    lr, b1, b2, eps, wd = 0.05, 0.9, 0.999, 1e-8, 0.01
    losses = []
    for t in range(1, steps + 1):
        loss = sum((cross_entropy(model([value(a), value(b)]), y) for (a, b), y in zip(xs, ys)), value(0.0))
        loss = loss * (1.0 / len(xs))
        for p in params:
            p.grad = 0
        loss.backward()
        for p in params:
            p.m = b1 * p.m + (1 - b1) * p.grad
            p.v = b2 * p.v + (1 - b2) * p.grad**2
            m_hat = p.m / (1 - b1**t)
            v_hat = p.v / (1 - b2**t)
            p.data -= lr * (m_hat / (v_hat**0.5 + eps) + wd * p.data)
        losses.append(loss.data)
    return losses, [p.data for p in params]


def trace(root: Any) -> tuple[set[Any], set[tuple[Any, Any]]]:
    """micrograd's trace: every node and edge under root, through `_prev`."""
    nodes: set[Any] = set()
    edges: set[tuple[Any, Any]] = set()

    def build(v: Any) -> None:
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def draw_dot(root: Any) -> Any:
    """micrograd's draw_dot, filling each node with the colour in its `_vis_color` attribute."""
    graphviz = pytest.importorskip("graphviz")
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label=f"{{ data {n.data:.4f} | grad {n.grad:.4f} }}", shape="record",
                 style="filled", fillcolor=getattr(n, "_vis_color", "white"))
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def colour_by_grad(root: Any) -> None:
    """The learner's colouring: a node's colour says the sign of its grad."""
    for n in trace(root)[0]:
        setattr(n, "_vis_color", "lightblue" if n.grad > 0 else "pink" if n.grad < 0 else "grey")  # noqa: B010


# ---------------------------------------------------------------- the tests


def test_adamw_with_moments_on_parameters_matches_micrograd() -> None:
    micrograd = pytest.importorskip("micrograd.engine", reason="micrograd 0.1.0 is in the dev extra")
    ours, our_weights = train_adamw(Value)
    theirs, their_weights = train_adamw(micrograd.Value)
    assert ours[-1] < ours[0] * 0.8  # it learns
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    assert our_weights == pytest.approx(their_weights, rel=1e-12, abs=1e-12)


def test_adamw_moments_are_the_learners_numbers() -> None:
    model = MLP(Value, [2, 8, 3], seed=7)
    p = model.parameters()[0]
    p.m = 0.25
    assert p.m == 0.25 and p.__dict__ == {"m": 0.25}
    assert p.grad == 0.0 and p.data == model.parameters()[0].data  # the engine's fields untouched


def test_draw_dot_colours_nodes_through_an_attribute() -> None:
    x, w = Value(-1.5), Value(2.0)
    y = tanh(x * w + 0.5)
    y.backward()
    colour_by_grad(y)
    source = draw_dot(y).source
    nodes = trace(y)[0]
    assert len(nodes) == 6  # x, w, x*w, the constant 0.5, the sum and tanh
    for n in nodes:
        expected = "lightblue" if n.grad > 0 else "pink" if n.grad < 0 else "grey"
        assert n._vis_color == expected
        assert f'[label="{{ data {n.data:.4f} | grad {n.grad:.4f} }}" fillcolor={expected} ' in source
    assert w._vis_color == "pink" and x._vis_color == "lightblue"  # dy/dw = x(1-t^2) < 0 < dy/dx


def test_draw_dot_gives_the_same_picture_on_micrograd() -> None:
    micrograd = pytest.importorskip("micrograd.engine", reason="micrograd 0.1.0 is in the dev extra")
    pictures = []
    for value in (Value, micrograd.Value):
        x, w = value(-1.5), value(2.0)
        y = tanh(x * w + 0.5)
        y.backward()
        colour_by_grad(y)
        source = draw_dot(y).source
        pictures.append(sorted(line.split("[", 1)[1] for line in source.splitlines() if "fillcolor" in line))
    assert pictures[0] == pictures[1]


def test_own_attributes_survive_pickle_copy_and_deepcopy() -> None:
    x = Value(2.0, "x")
    x.m, x._vis_color = 0.5, "red"
    y = (x * x).tanh()
    y.note = "output"
    for clone in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):  # noqa: S301 (our own bytes)
        assert clone.note == "output" and clone.data == y.data and clone.op == "tanh"
        leaf = clone.parents[0].parents[0]
        assert (leaf.m, leaf._vis_color, leaf.label) == (0.5, "red", "x")
        assert leaf is not x
    shallow = copy.copy(x)
    assert (shallow.m, shallow._vis_color, shallow.label, shallow.data) == (0.5, "red", "x", 2.0)
    shallow.m = 1.0
    assert x.m == 0.5  # its own dict


def test_engine_names_keep_their_checks() -> None:
    a = Value(1.0)
    b = a * 2.0
    with pytest.raises(TypeError, match=r"Value.label needs a str"):
        b.label = 3  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"Value.scope needs a str"):
        b.scope = None  # type: ignore[assignment]
    for name in ("op", "parents", "local_grads", "operation", "const", "is_constant", "_prev", "_op"):
        with pytest.raises(AttributeError):
            setattr(b, name, 1)
    with pytest.raises(AttributeError, match=r"^_backward can be set only on a node made as Value\("):
        b._backward = lambda: None
    assert b.__dict__ == {}  # none of the refused names landed in the dict
    b.backward()
    assert a.grad == 2.0


def test_reading_a_misspelt_attribute_names_it() -> None:
    v = Value(1.0)
    with pytest.raises(AttributeError, match=r"'Value' object has no attribute 'gard'"):
        v.gard  # type: ignore[attr-defined]  # noqa: B018


def test_a_typo_of_grad_is_named_by_the_forgotten_zero_grad_warning() -> None:
    w = Value(1.5, "w")
    (w * 2.0).backward()
    w.gard = 0  # type: ignore[attr-defined]  # meant w.grad = 0: the grad stays 2.0
    typo = r"a leaf has an attribute 'gard' of your own: a typo of 'grad'\?"
    with pytest.warns(StaleGradWarning, match=typo):
        (w * 3.0).backward()
    assert w.grad == 5.0


def test_own_attributes_close_to_no_engine_name_are_not_called_typos() -> None:
    w = Value(1.5, "w")
    w.m, w.v, w.velocity = 0.0, 0.0, 0.0
    (w * 2.0).backward()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        (w * 3.0).backward()
    assert len(seen) == 1 and "typo" not in str(seen[0].message)
