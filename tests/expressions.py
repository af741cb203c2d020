"""One table of expressions written once and evaluated on floats, on Values and on torch tensors.

Each expression is a function `fn(ns, *xs)` written against a tiny namespace `ns` (`ns.exp`,
`ns.tanh`, ...): `FLOATS` maps the names to `math` and plain-float formulas, `VALUES` to the
`Value` methods (tests/test_autograd_torch.py builds the torch namespace). Arithmetic operators
(+ - * / **, unary minus, abs) work on all three as they are.

The same module holds the random expression DAGs used by the hypothesis and PyTorch tests: a DAG
is a list of steps over a small pool of shared leaves, so subexpressions are reused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from autograd import Value, weighted_sum

# ---------------------------------------------------------------- namespaces


def _float_sigmoid(x: float) -> float:
    """Reference logistic function, the posts' 1/(1+e^-x) (callers keep |x| moderate)."""
    return 1.0 / (1.0 + math.exp(-x))


class FLOATS:
    """Plain-float counterparts of every Value operation (the independent forward reference)."""

    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    sigmoid = staticmethod(_float_sigmoid)
    relu = staticmethod(lambda x: max(0.0, x))
    step = staticmethod(lambda x: 1.0 if x >= 0 else 0.0)
    sign = staticmethod(lambda x: 1.0 if x >= 0 else -1.0)
    abs = staticmethod(abs)

    @staticmethod
    def wsum(ws: Sequence[Any], xs: Sequence[Any], b: Any = None) -> Any:
        """sum w_i x_i (+ b)."""
        total = sum(w * x for w, x in zip(ws, xs))
        return total if b is None else total + b


class VALUES:
    """The same names mapped to Value methods and `autograd.weighted_sum`."""

    exp = staticmethod(lambda v: v.exp())
    log = staticmethod(lambda v: v.log())
    sqrt = staticmethod(lambda v: v.sqrt())
    tanh = staticmethod(lambda v: v.tanh())
    sigmoid = staticmethod(lambda v: v.sigmoid())
    relu = staticmethod(lambda v: v.relu())
    step = staticmethod(lambda v: v.step())
    sign = staticmethod(lambda v: v.sign())
    abs = staticmethod(lambda v: v.abs())
    wsum = staticmethod(weighted_sum)


# ---------------------------------------------------------------- the expression table


@dataclass(frozen=True)
class Expr:
    """An expression `fn(ns, *xs)` and points (away from kinks and domain edges) to test it at."""

    name: str
    fn: Callable[..., Any]
    points: tuple[tuple[float, ...], ...]


EXPRESSIONS: list[Expr] = [
    Expr("add", lambda ns, x, y: x + y, ((1.5, -2.0), (0.0, 0.0), (-3.25, 7.0))),
    Expr("sub", lambda ns, x, y: x - y, ((1.5, -2.0), (0.0, 0.0), (-3.25, 7.0))),
    Expr("mul", lambda ns, x, y: x * y, ((1.5, -2.0), (0.0, 3.0), (-3.25, 7.0))),
    Expr("div", lambda ns, x, y: x / y, ((1.5, -2.0), (0.0, 3.0), (-3.25, 0.5))),
    Expr("neg", lambda ns, x: -x, ((1.5,), (0.0,), (-3.0,))),
    Expr("pow2", lambda ns, x: x**2, ((1.5,), (0.0,), (-3.0,))),
    Expr("pow3", lambda ns, x: x**3, ((1.5,), (0.0,), (-3.0,))),
    Expr("pow-1", lambda ns, x: x**-1, ((1.5,), (-0.25,), (-3.0,))),
    Expr("pow0.5", lambda ns, x: x**0.5, ((1.5,), (0.01,), (9.0,))),
    Expr("pow0", lambda ns, x: x**0 + x, ((1.5,), (0.0,), (-3.0,))),
    Expr("pow_value", lambda ns, x, y: x**y, ((1.5, 2.0), (0.3, -1.5), (4.0, 0.5))),
    Expr("radd", lambda ns, x: 1 + x, ((1.5,), (0.0,), (-3.0,))),
    Expr("rsub", lambda ns, x: 2 - x, ((1.5,), (0.0,), (-3.0,))),
    Expr("rmul", lambda ns, x: 3 * x, ((1.5,), (0.0,), (-3.0,))),
    Expr("rdiv", lambda ns, x: 2 / x, ((1.5,), (-0.25,), (-3.0,))),
    Expr("rpow", lambda ns, x: 2**x, ((1.5,), (0.0,), (-3.0,))),
    Expr("exp", lambda ns, x: ns.exp(x), ((1.5,), (0.0,), (-30.0,), (700.0,))),
    Expr("log", lambda ns, x: ns.log(x), ((1.5,), (1e-3,), (1e6,))),
    Expr("sqrt", lambda ns, x: ns.sqrt(x), ((1.5,), (1e-2,), (1e6,))),
    Expr("tanh", lambda ns, x: ns.tanh(x), ((0.5,), (0.0,), (-2.0,), (20.0,), (-20.0,))),
    Expr("sigmoid", lambda ns, x: ns.sigmoid(x), ((0.5,), (0.0,), (-2.0,), (50.0,), (-50.0,))),
    Expr("relu", lambda ns, x: ns.relu(x), ((0.5,), (-2.0,), (1e-3,), (-1e-3,))),
    Expr("step", lambda ns, x: ns.step(x), ((0.5,), (-2.0,), (1e-3,), (-1e-3,))),
    Expr("sign", lambda ns, x: ns.sign(x), ((0.5,), (-2.0,), (1e-3,), (-1e-3,))),
    Expr("abs", lambda ns, x: ns.abs(x), ((0.5,), (-2.0,), (1e-3,), (-1e-3,))),
    Expr("builtin_abs", lambda ns, x: abs(x), ((0.5,), (-2.0,))),
    Expr("wsum", lambda ns, w0, x0, w1, x1: ns.wsum([w0, w1], [x0, x1]), ((0.5, -1.0, 2.0, 3.0),)),
    Expr(
        "wsum_bias",
        lambda ns, w0, x0, w1, x1, b: ns.wsum([w0, w1], [x0, x1], b),
        ((0.5, -1.0, 2.0, 3.0, -0.75), (0.0, 0.0, 0.0, 0.0, 0.0)),
    ),
    Expr("wsum_numbers", lambda ns, w0, w1, b: ns.wsum([w0, w1], [2.0, -3], b), ((0.5, -1.0, 0.25),)),
    # Composite expressions: shared subexpressions, the chain rule through several ops.
    Expr("square_by_mul", lambda ns, x: x * x, ((1.5,), (-3.0,))),
    Expr("double_by_add", lambda ns, x: x + x, ((1.5,), (-3.0,))),
    Expr(
        "neuron_tanh",
        lambda ns, x1, x2, w1, w2, b: ns.tanh(x1 * w1 + x2 * w2 + b),
        ((2.0, 0.0, -3.0, 1.0, 6.8813735870195432),),
    ),
    Expr(
        "diamond",
        lambda ns, x, y: (lambda s: ns.sigmoid(s) * ns.exp(s) - s / (1 + s * s))(x * y + x),
        ((0.5, -1.25), (-1.5, 0.75)),
    ),
    Expr(
        "micrograd_more_ops",
        lambda ns, a, b: _micrograd_more_ops(ns, a, b),
        ((-4.0, 2.0),),
    ),
    Expr(
        "log_sqrt_mix",
        lambda ns, x, y: ns.log(x * x + 1) * ns.sqrt(y * y + 2) + (x * x + 1) ** y,
        ((0.5, -1.25), (2.0, 0.3)),
    ),
    Expr(
        "posts_error",
        lambda ns, x, w0, w1, target: 0.5 * (ns.sigmoid(w1 * ns.sigmoid(w0 * x)) - target) ** 2,
        ((1.0, 0.5, -0.3, 1.0), (-2.0, 1.5, 2.0, 0.0)),
    ),
]


def _micrograd_more_ops(ns: Any, a: Any, b: Any) -> Any:
    """micrograd's test_more_ops expression (relu replaced by ns.relu; operands reused a lot)."""
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + ns.relu(b + a)
    d = d + 3 * d + ns.relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


# ---------------------------------------------------------------- random DAGs


@dataclass(frozen=True)
class Op:
    """One DAG step: `fn(ns, *operands)`; `kink` means its first operand must stay away from 0."""

    name: str
    arity: int
    fn: Callable[..., Any]
    kink: bool = False


# Every form is safe on the whole real line (log/sqrt of 1 + x*x, division by 1 + x*x, a Value
# exponent on a base >= 1); magnitudes are bounded by rejecting draws, not by the forms.
DAG_OPS: list[Op] = [
    Op("add", 2, lambda ns, a, b: a + b),
    Op("sub", 2, lambda ns, a, b: a - b),
    Op("mul", 2, lambda ns, a, b: a * b),
    Op("div", 2, lambda ns, a, b: a / (1 + b * b)),
    Op("rdiv", 1, lambda ns, a: 2 / (1 + a * a)),
    Op("pow_value", 2, lambda ns, a, b: (1 + a * a) ** b),
    Op("rpow", 1, lambda ns, a: 2**a),
    Op("pow2", 1, lambda ns, a: a**2),
    Op("pow3", 1, lambda ns, a: a**3),
    Op("pow-0.5", 1, lambda ns, a: (1 + a * a) ** -0.5),
    Op("rsub", 1, lambda ns, a: 2 - a),
    Op("rmul", 1, lambda ns, a: 3 * a),
    Op("neg", 1, lambda ns, a: -a),
    Op("exp", 1, lambda ns, a: ns.exp(a)),
    Op("log", 1, lambda ns, a: ns.log(a * a + 1)),
    Op("sqrt", 1, lambda ns, a: ns.sqrt(a * a + 1)),
    Op("tanh", 1, lambda ns, a: ns.tanh(a)),
    Op("sigmoid", 1, lambda ns, a: ns.sigmoid(a)),
    Op("relu", 1, lambda ns, a: ns.relu(a), kink=True),
    Op("abs", 1, lambda ns, a: ns.abs(a), kink=True),
    Op("step", 1, lambda ns, a: ns.step(a) * a, kink=True),
    Op("sign", 1, lambda ns, a: ns.sign(a) + a, kink=True),
    Op("wsum", 3, lambda ns, a, b, c: ns.wsum([a, b], [b, 1.5], c)),
]
OPS_BY_NAME = {op.name: op for op in DAG_OPS}

# A step: (op name, operand indices into leaves + earlier results).
Step = tuple[str, tuple[int, ...]]


@dataclass(frozen=True)
class Dag:
    """Leaf values and the steps built on them; the output is the sum of every step's result."""

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]

    def evaluate(self, ns: Any, leaves: Sequence[Any]) -> tuple[Any, list[Any]]:
        """(output, every node) with `leaves` as the inputs, on floats, Values or tensors."""
        nodes = list(leaves)
        for name, idx in self.steps:
            nodes.append(OPS_BY_NAME[name].fn(ns, *(nodes[i] for i in idx)))
        out = nodes[len(leaves)]
        for node in nodes[len(leaves) + 1 :]:
            out = out + node
        return out, nodes

    def is_safe(self, limit: float = 30.0, kink_gap: float = 1e-2) -> bool:
        """True when every node stays within `limit` and no kinked op is fed a value near 0."""
        nodes = list(self.leaves)
        for name, idx in self.steps:
            op = OPS_BY_NAME[name]
            args = [nodes[i] for i in idx]
            if op.kink and abs(args[0]) < kink_gap:
                return False
            try:
                value = op.fn(FLOATS, *args)
            except (OverflowError, ValueError, ZeroDivisionError):
                return False
            if not abs(value) <= limit:
                return False
            nodes.append(value)
        return True


@st.composite
def dags(draw: st.DrawFn, max_leaves: int = 3, max_steps: int = 7) -> Dag:
    """A random DAG over 1..max_leaves shared leaves in [-2, 2] with 1..max_steps steps."""
    n = draw(st.integers(1, max_leaves))
    leaves = tuple(
        draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3)))
        for _ in range(n)
    )
    steps: list[Step] = []
    for k in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(DAG_OPS))
        idx = tuple(draw(st.integers(0, n + k - 1)) for _ in range(op.arity))
        steps.append((op.name, idx))
    return Dag(leaves, tuple(steps))


def value_grads(dag: Dag) -> tuple[float, list[float]]:
    """Forward value and d out / d leaf_i by one backward pass through Values."""
    leaves = [Value(x) for x in dag.leaves]
    out, _ = dag.evaluate(VALUES, leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]
