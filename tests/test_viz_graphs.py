"""Graphs the viz tests draw (the posts' smallest network, an MLP built from scopes), checked here first."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

import pytest

from autograd import Value, gradcheck, scope, weighted_sum

HOSTILE = [
    'say "hi"',
    "<b>bold</b>",
    "a & b",
    "{record|field}",
    "back\\slash \\n \\l",
    "two\nlines",
    "<script>alert(1)</script>",
    '"]; evil [label="x',
    "'single'",
    "]>",
    "&lt;already&gt;",
    "<img src=x onerror=alert(2)>",
]


def smallest(x: float = 1.5, w0: float = 0.8, w1: float = -0.4, y: float = 1.0) -> dict[str, Value]:
    """The posts' smallest network: Z0 = X*W0, a0 = s(Z0), Z1 = a0*W1, a1 = s(Z1), E = 1/2 (a1 - Y)^2."""
    X, W0, W1, Y = Value(x, "X"), Value(w0, "W0"), Value(w1, "W1"), Value(y, "Y")
    Z0 = X * W0
    Z0.label = "Z0"
    a0 = Z0.sigmoid()
    a0.label = "a0"
    Z1 = a0 * W1
    Z1.label = "Z1"
    a1 = Z1.sigmoid()
    a1.label = "a1"
    E = 0.5 * (a1 - Y) ** 2
    E.label = "E"
    return {"X": X, "W0": W0, "W1": W1, "Y": Y, "Z0": Z0, "a0": a0, "Z1": Z1, "a1": a1, "E": E}


def smallest_closed_form(
    x: float = 1.5, w0: float = 0.8, w1: float = -0.4, y: float = 1.0
) -> tuple[float, float]:
    """dE/dW0 and dE/dW1 as the post writes them: (a1 - Y) a1 (1 - a1) W1 a0 (1 - a0) X, ... a0."""

    def s(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    a0 = s(x * w0)
    a1 = s(a0 * w1)
    d1 = (a1 - y) * a1 * (1 - a1)
    return d1 * w1 * a0 * (1 - a0) * x, d1 * a0


def mlp(sizes: Sequence[int], x: Sequence[float | Value], seed: int = 0) -> tuple[list[Value], list[Value]]:
    """An MLP built the way nn builds one: scopes "L1.n0", weights "w0".., bias "b", inputs "x0"..."""
    rng = random.Random(seed)
    h = [v if isinstance(v, Value) else Value(v, label=f"x{i}") for i, v in enumerate(x)]
    params: list[Value] = []
    for li, (nin, nout) in enumerate(itertools.pairwise(sizes), 1):
        out = []
        for j in range(nout):
            with scope(f"L{li}"), scope(f"n{j}"):
                w = [Value(rng.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
                b = Value(rng.uniform(-0.5, 0.5), label="b")
                z = weighted_sum(w, h, b)
                a = z.tanh() if li < len(sizes) - 1 else z
                a.label = f"L{li}.n{j}"
            params += [*w, b]
            out.append(a)
        h = out
    return h, params


def mlp_loss(
    sizes: Sequence[int] = (2, 3, 3, 1), x: Sequence[float] = (0.5, -1.2)
) -> tuple[Value, list[Value]]:
    """Squared error of `mlp` against the target 1."""
    (y,), params = mlp(sizes, x)
    loss = (y - 1.0) ** 2
    loss.label = "loss"
    return loss, params


def test_smallest_network_grads_match_the_posts_closed_form() -> None:
    g = smallest()
    g["E"].backward()
    dw0, dw1 = smallest_closed_form()
    assert g["W0"].grad == pytest.approx(dw0, rel=1e-12)
    assert g["W1"].grad == pytest.approx(dw1, rel=1e-12)


def test_mlp_fixture_grads_match_central_differences() -> None:
    def f(vs: list[Value]) -> Value:
        (y,), _ = mlp((2, 3, 1), vs)
        return y

    assert gradcheck(f, [0.5, -1.2])
