"""Property: the scalar engine, the pure-Python tape and the NumPy tape agree on every op in the table.

Same values and gradients (relative 1e-12, absolute 1e-300) and the same error type outside the
domain, for every row (built-ins and custom ops registered here), at random operands and at the
hard ones: tiny and huge magnitudes, both sides of each kink, the domain edges. Then random DAGs
that mix the ops, and groups of weighted sums (dense layers: the NumPy tape's matrix product).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from engines import ATOL, RTOL, disagreements, run_engines, scalar_outcome
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autograd
from autograd import FLOATS, TABLE, Value, topological_order, weighted_sum

np = pytest.importorskip("numpy")

# ---------------------------------------------------------------- custom ops, registered the public way


@autograd.op(symbol="softplus", rule="σ(x)", name="t9_softplus_m")
def softplus_m(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """softplus(x) = log(1 + e^x), written once over m (vectorised in the NumPy tape); d/dx = σ(x)."""
    e = m.exp(-m.abs(x))
    return m.maximum(x, 0.0) + m.log1p(e), m.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


@autograd.op(symbol="softplus", rule="σ(x)", name="t9_softplus")
def softplus(x: float) -> tuple[float, float]:
    """softplus on floats only (the NumPy tape runs it per sample); d/dx = σ(x)."""
    e = math.exp(-abs(x))
    return max(x, 0.0) + math.log1p(e), (1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e))


@autograd.op(symbol="‖a,b‖", rule=("a/h", "b/h"), formula="sqrt(a^2 + b^2 + 1)", name="t9_hypot")
def smooth_hypot(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, Any, Any]:
    """h = sqrt(a^2 + b^2 + 1), smooth everywhere; d/da = a/h, d/db = b/h."""
    h = m.sqrt(a * a + b * b + 1.0)
    return h, a / h, b / h


CUSTOM = ("t9_softplus_m", "t9_softplus", "t9_hypot")


@pytest.fixture(scope="module", autouse=True)
def custom_ops_in_the_table() -> Iterator[None]:
    """The custom ops are rows of TABLE while this module runs, and leave it afterwards."""
    for row in (softplus_m, softplus, smooth_hypot):
        TABLE[row.name] = row
    yield
    for name in CUSTOM:
        TABLE.pop(name, None)


# ---------------------------------------------------------------- operands per op

TINY = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 2.2250738585072014e-308]
HUGE = [1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308, 1e154, -1e154]
KINK = [-1e-300, -5e-324, -0.0, 0.0, 5e-324, 1e-300, -1e-8, 1e-8, -1.0, 1.0]
ANY = st.floats(allow_nan=False, allow_infinity=False)
MODERATE = st.floats(-1e3, 1e3, allow_nan=False)

# name -> (hard operand values, random operand strategy)
OPERANDS: dict[str, tuple[list[float], Any]] = {
    "+": (TINY + HUGE + [1.5, -2.5], ANY),
    "-": (TINY + HUGE + [1.5, -2.5], ANY),
    "*": (TINY + HUGE + [1.5, -2.5], ANY),
    "/": (TINY + HUGE + [1.5, -2.5, 1e-170, 1e-200, 1e-160], ANY),
    "neg": (TINY + HUGE, ANY),
    "**n": (TINY + HUGE + [-2.0, -0.5, 0.5, 1.0, 2.0, 1e-3], ANY),
    "**": (TINY + HUGE + [-1.0, 0.5, 1.0, 2.0, 700.0, -700.0], ANY),
    "exp": (TINY + HUGE + [709.78, 709.781, 709.79, 710.0, -745.0, -745.2, -746.0, 1.0], ANY),
    "log": (TINY + HUGE + [1.0, -1.0, 0.5], ANY),
    "sqrt": (TINY + HUGE + [1.0, -1.0, 0.25], ANY),
    # NOTE: |x| in (4, 20) is left out for tanh: see test_tanh_derivative_agrees_when_saturated.
    "tanh": ([*TINY, -25.0, 25.0, 1e300, -1e300, 3.0, -3.0, 0.5, 10.0, -15.0, 17.955],
             st.floats(-40.0, 40.0)),
    "sigmoid": (TINY + HUGE + [-40.0, 40.0, -745.2, 745.2, 3.0], ANY),
    "relu": (KINK + HUGE, ANY),
    "step": (KINK + HUGE, ANY),
    "sign": (KINK + HUGE, ANY),
    "abs": (KINK + HUGE, ANY),
    # wsum: the forward sum's rounding depends on the summation order, so keep products finite.
    "wsum": ([*TINY, 1e100, -1e100, 1.5, -2.5], st.floats(-1e100, 1e100)),
    "t9_softplus_m": (TINY + HUGE + [-40.0, 40.0, 710.0, -746.0], ANY),
    "t9_softplus": (TINY + HUGE + [-40.0, 40.0, 710.0, -746.0], ANY),
    "t9_hypot": (TINY + HUGE + [1e154, 1.5, -2.5], ANY),
}
CONSTS = st.one_of(st.sampled_from([2.0, 3.0, 0.5, -1.0, -2.0, 0.0, 1.0, 2.5, -0.5, 1e-3, 100.0]),
                   st.floats(-8.0, 8.0))


def operand(name: str) -> Any:
    """A hard operand for `name` half the time, else a random one."""
    hard, random = OPERANDS[name]
    return st.one_of(st.sampled_from(hard), random)


def test_every_op_in_the_table_has_operands_here() -> None:
    """A new op (built-in or custom) without hard operands in OPERANDS makes this fail."""
    assert set(CUSTOM) <= set(TABLE)
    assert sorted(set(TABLE) - set(OPERANDS)) == []


def wsum_atol(point: list[float]) -> float:
    """The rounding a sum of products may carry in any summation order: 1e-12 * sum |w_i x_i| (+ |b|)."""
    terms = [abs(w * x) for w, x in zip(point[0::2], point[1::2])]
    if len(point) % 2:
        terms.append(abs(point[-1]))
    return RTOL * sum(terms)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.parametrize("name", sorted(OPERANDS))
@given(data=st.data())
def test_engines_agree_on_every_op(name: str, data: st.DataObject) -> None:
    """Values, gradients and error types agree across the three engines for one row of the table."""
    row = TABLE[name]
    arity = row.arity or data.draw(st.integers(1, 7), label="wsum operands")
    point = [data.draw(operand(name), label=f"operand {i}") for i in range(arity)]
    if row.const is not None:
        n = data.draw(CONSTS, label="n")

        def build(v: list[Value]) -> Value:
            return row(v[0], n)  # type: ignore[no-any-return]
    else:

        def build(v: list[Value]) -> Value:
            return row(*v)  # type: ignore[no-any-return]

    results = run_engines(build, point)
    atol = wsum_atol(point) if name == "wsum" else ATOL
    assert disagreements(results, value_atol=atol) == []


def test_tanh_derivative_agrees_when_saturated() -> None:
    """tanh' agrees across engines to 1e-12 at |x| between 5 and 20 (measured with numpy 2.4)."""
    failures = []
    for x in (5.997486923665711, 9.987454258762739, 17.955449362698047, 19.04260578486177,
              6.5, 8.0, 11.0, 13.3, 15.0, 17.0):
        failures += disagreements(run_engines(lambda v: v[0].tanh(), [x]))
    assert failures == []


# ---------------------------------------------------------------- random DAGs that mix the ops

Step = Callable[[list[Value], random.Random], Value]


def _pick(nodes: list[Value], rng: random.Random) -> Value:
    return nodes[rng.randrange(len(nodes))]


def _wsum_step(nodes: list[Value], rng: random.Random) -> Value:
    k = rng.randint(1, 3)
    ws = [_pick(nodes, rng) for _ in range(k)]
    xs = [_pick(nodes, rng) for _ in range(k)]
    return weighted_sum(ws, xs, _pick(nodes, rng) if rng.random() < 0.5 else None)


# Each step stays inside every op's domain (log of |x| + 0.5, ...), so the DAG always has a value;
# tanh reads only leaves (|x| <= 3) here; saturated tanh is covered by the per-op test above.
STEPS: dict[str, Step] = {
    "+": lambda n, r: _pick(n, r) + _pick(n, r),
    "-": lambda n, r: _pick(n, r) - _pick(n, r),
    "*": lambda n, r: _pick(n, r) * _pick(n, r),
    "/": lambda n, r: _pick(n, r) / (abs(_pick(n, r)) + 0.5),
    "neg": lambda n, r: -_pick(n, r),
    "**n": lambda n, r: (abs(_pick(n, r)) + 0.5) ** r.choice([2.0, 3.0, 0.5, -1.0, 1.5]),
    "**": lambda n, r: (_pick(n, r).sigmoid() + 0.5) ** _pick(n, r).sigmoid(),
    "exp": lambda n, r: _pick(n, r).sigmoid().exp(),
    "log": lambda n, r: (abs(_pick(n, r)) + 0.5).log(),
    "sqrt": lambda n, r: (abs(_pick(n, r)) + 0.25).sqrt(),
    "tanh": lambda n, r: n[r.randrange(3)].tanh(),
    "sigmoid": lambda n, r: _pick(n, r).sigmoid(),
    "relu": lambda n, r: _pick(n, r).relu(),
    "step": lambda n, r: _pick(n, r).step() * _pick(n, r),
    "sign": lambda n, r: _pick(n, r).sign() * _pick(n, r),
    "abs": lambda n, r: abs(_pick(n, r)),
    "wsum": _wsum_step,
    "t9_softplus_m": lambda n, r: softplus_m(_pick(n, r)),
    "t9_softplus": lambda n, r: softplus(_pick(n, r)),
    "t9_hypot": lambda n, r: smooth_hypot(_pick(n, r), _pick(n, r)),
}


def test_every_op_appears_in_the_dags() -> None:
    """The DAG palette covers the whole table."""
    assert sorted(set(TABLE) - set(STEPS)) == []


def error_scales(root: Value, leaves: list[Value]) -> tuple[float, list[float]]:
    """Rounding scales from the scalar graph: sum over nodes of |path| * |value|, and |path| per leaf.

    |path|(n) is d root / d n with every local derivative replaced by its absolute value: a first-
    order bound on how much rounding at n (or in a sum's order) can move the root or a gradient.
    """
    order = topological_order(root)
    path = {id(root): 1.0}
    for node in reversed(order):
        g = path.get(id(node), 0.0)
        for parent, d in zip(node.parents, node.local_grads):
            path[id(parent)] = path.get(id(parent), 0.0) + abs(d) * g
    value = 0.0
    for node in order:
        size = abs(node.data)
        if node.op == "wsum":
            ps = [p.data for p in node.parents]
            size += sum(abs(w * x) for w, x in zip(ps[0::2], ps[1::2])) + (abs(ps[-1]) if len(ps) % 2 else 0)
        value += path.get(id(node), 0.0) * size
    return value, [path.get(id(v), 0.0) for v in leaves]


KINKS = {"abs", "relu", "step", "sign"}


def at_a_kink(root: Value) -> bool:
    """True when a kinked op's input is within rounding of 0 (|x| <= 1e-12 times the terms that made it).

    There the derivative jumps (abs' is -1, 0 or 1), and the NumPy tape's matrix products may round
    a cancelling sum to 2e-17 where Python's sum gives 0.0: each engine is right for the number it
    computed. (Hypothesis found x1*x1 + x0*(sign(x1)*x0) at x0 = -x1 = 0.58 feeding abs.)
    """
    for node in topological_order(root):
        if node.op in KINKS:
            x = node.parents[0]
            data = [p.data for p in x.parents]
            size = sum(map(abs, data)) + sum(abs(w * v) for w, v in zip(data[0::2], data[1::2]))
            if data and abs(x.data) <= RTOL * size:
                return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    point=st.lists(
        st.one_of(st.floats(-3.0, 3.0), st.sampled_from([0.0, 1e-300, -1e-8])), min_size=3, max_size=3
    ),
    names=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_dags_agree_across_engines(point: list[float], names: list[str], seed: int) -> None:
    """A random DAG over three shared leaves: same root value and leaf gradients in all three engines."""

    def build(leaves: list[Value]) -> Value:
        rng = random.Random(seed)  # the same wiring for every engine's build
        nodes = list(leaves)
        for name in names:
            nodes.append(STEPS[name](nodes, rng))
        total = nodes[len(leaves)]
        for extra in nodes[len(leaves) + 1 :]:
            total = total + extra
        return total

    ref, root = scalar_outcome(build, point)
    assert ref.error is None, ref.message  # every step stays inside the domain
    assert root is not None
    assume(not at_a_kink(root))
    leaves = sorted((v for v in topological_order(root) if not v.parents and v.label), key=lambda v: v.label)
    value_scale, path = error_scales(root, leaves)
    scales = {v.label: p for v, p in zip(leaves, path)}
    grad_atol = [RTOL * scales.get(f"x{i}", 0.0) for i in range(len(point))]
    results = run_engines(build, point)
    assert disagreements(results, value_atol=RTOL * value_scale, grad_atol=grad_atol) == []


# ---------------------------------------------------------------- groups of weighted sums (layers)

PATTERNS = ("dense", "shared", "subset", "repeat", "computed")


def layer(xs: list[Value], ws: list[list[Value]], bs: list[Value], pattern: str) -> list[Value]:
    """One weighted sum per neuron over `xs`, wired as `pattern` says, through a sigmoid."""
    out = []
    for j, (row, b) in enumerate(zip(ws, bs)):
        if pattern == "shared":
            row = ws[0]  # every neuron reuses neuron 0's weights: repeated parameter rows
        inputs = list(xs)
        if pattern == "subset":
            inputs = xs[j % len(xs) :] + xs[: j % len(xs)]  # each neuron reads its own order
        weights: list[Value] = list(row)
        if pattern == "repeat":
            inputs, weights = [*xs, xs[0]], [*row, row[0]]  # x0 and w0 twice in one neuron
        if pattern == "computed":
            weights = [w * xs[0] for w in row]  # weights that differ per sample
        out.append(weighted_sum(weights, inputs, b).sigmoid())
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_in=st.integers(1, 4),
    n_hidden=st.integers(1, 4),
    pattern=st.sampled_from(PATTERNS),
    data=st.data(),
)
def test_weighted_sum_groups_agree_across_engines(n_in: int, n_hidden: int, pattern: str, data: Any) -> None:
    """A two-layer net over a batch: per-sample outputs and batch-summed gradients agree in all engines."""
    value = st.floats(-2.0, 2.0)
    batch = data.draw(st.lists(st.lists(value, min_size=n_in, max_size=n_in), min_size=1, max_size=5))
    w0 = data.draw(st.lists(value, min_size=n_hidden * n_in + n_hidden * 2 + 1,
                            max_size=n_hidden * n_in + n_hidden * 2 + 1), label="parameters")

    def net(xs: list[Value]) -> tuple[Value, list[Value]]:
        params = [Value(w, label=f"p{i}") for i, w in enumerate(w0)]
        ws = [params[j * n_in : (j + 1) * n_in] for j in range(n_hidden)]
        bs = params[n_hidden * n_in : n_hidden * n_in + n_hidden]
        vs = params[n_hidden * n_in + n_hidden : -1]
        hidden = layer(xs, ws, bs, pattern)
        return weighted_sum(vs, hidden, params[-1]), params

    # The scalar engine, one sample at a time.
    want_values, want_grads, grad_scale = [], [0.0] * len(w0), [0.0] * len(w0)
    value_tols = []
    for sample in batch:
        root, params = net([Value(x) for x in sample])
        root.backward()
        want_values.append(root.data)
        scale, path = error_scales(root, params)
        value_tols.append(RTOL * scale)
        for i, p in enumerate(params):
            want_grads[i] += p.grad
            grad_scale[i] += abs(p.grad) + path[i]

    for backend in ("python", "numpy"):
        xs = [Value(0.5, label=f"x{i}") for i in range(n_in)]
        root, params = net(xs)
        used = [p for p in params if any(p is v for v in topological_order(root))]
        tape = autograd.compile(root, xs, used, backend=backend)
        got = list(tape.run([[s[i] for s in batch] for i in range(n_in)]))
        tape.backward()
        for k, (g, w, tol) in enumerate(zip(got, want_values, value_tols)):
            assert abs(g - w) <= max(tol, ATOL), f"{backend} sample {k}: {g!r} != {w!r}"
        for i, p in enumerate(params):
            assert abs(p.grad - want_grads[i]) <= RTOL * grad_scale[i] + ATOL, (
                f"{backend} d/dp{i}: {p.grad!r} != {want_grads[i]!r}"
            )
        if backend == "numpy":
            dense = [g.dense for g in tape._engine.groups if g.kind.weighted_sum]
            # The hidden layer is one matrix product exactly when every neuron reads the same inputs.
            same_inputs = pattern in ("dense", "shared") or (pattern == "subset" and 1 in (n_in, n_hidden))
            assert dense[0] is same_inputs, (pattern, dense)
            assert dense[-1] is True  # the output neuron: constant-free, parameter weights
