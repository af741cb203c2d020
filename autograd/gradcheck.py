"""Numerical gradients by central differences, and `gradcheck` comparing backprop to them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from autograd.context import no_grad
from autograd.value import Value


def _as_float(result: object, where: str) -> float:
    """A function's result as a finite float (a Value gives its .data)."""
    value = result.data if isinstance(result, Value) else result
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where}: f must return a number or a Value, got {type(result).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: f returned a non-finite value {value!r}")
    return float(value)


def numerical_grad(
    f: Callable[[list[float]], float | Value], xs: Sequence[float], eps: float = 1e-6
) -> list[float]:
    """Central differences (f(x+h) - f(x-h)) / 2h for each input, with h = eps * max(1, |x|)."""
    if not eps > 0:  # also rejects nan
        raise ValueError(f"numerical_grad needs eps > 0, got eps={eps!r}")
    point = [float(x) for x in xs]
    grads = []
    for i, x in enumerate(point):
        h = eps * max(1.0, abs(x))
        point[i] = x + h
        up = _as_float(f(list(point)), "numerical_grad")
        point[i] = x - h
        down = _as_float(f(list(point)), "numerical_grad")
        point[i] = x
        grads.append((up - down) / (2.0 * h))
    return grads


def backprop_grad(f: Callable[[list[Value]], Value], xs: Sequence[float]) -> list[float]:
    """d f / d x_i for each input by one backward pass through fresh leaf Values."""
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = f(leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    return [leaf.grad for leaf in leaves]


def gradcheck(
    f: Callable[[list[Value]], Value],
    xs: Sequence[float],
    atol: float = 1e-6,
    rtol: float = 1e-4,
    eps: float = 1e-6,
) -> bool:
    """True when backprop through `f` matches central differences at `xs` for every input.

    Raises AssertionError with a per-input table otherwise (|backprop - numeric| > atol + rtol*|numeric|).
    """
    analytic = backprop_grad(f, xs)

    def on_floats(point: list[float]) -> Value:
        with no_grad():
            return f([Value(x) for x in point])

    numeric = numerical_grad(on_floats, xs, eps=eps)
    rows = [
        (i, float(x), a, n)
        for i, (x, a, n) in enumerate(zip(xs, analytic, numeric))
        if abs(a - n) > atol + rtol * abs(n)
    ]
    if rows:
        table = "\n".join(
            f"  x{i:<4} {x:>14.6g} {a:>16.9g} {n:>16.9g} {abs(a - n):>12.3g}" for i, x, a, n in rows
        )
        header = f"  {'input':<5} {'value':>14} {'backprop':>16} {'numerical':>16} {'|diff|':>12}"
        raise AssertionError(
            f"gradcheck: {len(rows)} of {len(analytic)} gradients disagree "
            f"(atol={atol}, rtol={rtol}):\n{header}\n{table}"
        )
    return True
