"""The NumPy tape's backward plan: a row's first contribution is written, not added to a zero.

`tape_numpy._FirstWrites` decides at compile time which contributions may be written with `=`
and which rows must be zeroed before each pass. Whatever it decides, the gradients must be the
bits of the plain plan (zero every row, add every contribution), on graphs where rows are
reused, gathered, read whole or partly new, and for any batch size.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Tape, Value, compile, weighted_sum

np = pytest.importorskip("numpy")
tape_numpy = pytest.importorskip("autograd.tape_numpy")


def add_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain plan: no contribution is written, so every row read starts at zero."""
    original = tape_numpy._FirstWrites.claim

    def claim(self: Any, rows: Any, writable: bool) -> bool:
        return original(self, rows, False)

    monkeypatch.setattr(tape_numpy._FirstWrites, "claim", claim)


def mlp(rng: random.Random) -> tuple[Value, list[Value], list[Value]]:
    """A 2-5-5-1 tanh/relu network with a hinge loss: dense layers, the common case."""
    xs, y = [Value(0.0), Value(0.0)], Value(1.0)
    params: list[Value] = []
    a: list[Value] = xs
    for width, act in ((5, "tanh"), (5, "relu")):
        layer = []
        for _ in range(width):
            ws = [Value(rng.gauss(0, 1)) for _ in a]
            b = Value(rng.gauss(0, 0.3))
            params += [*ws, b]
            layer.append(getattr(weighted_sum(ws, a, b), act)())
        a = layer
    out = [Value(rng.gauss(0, 1)) for _ in a]
    params += out
    return (1.0 - y * weighted_sum(out, a)).relu(), [*xs, y], params


def reuse(rng: random.Random) -> tuple[Value, list[Value], list[Value]]:
    """Rows used twice by one step (a * a, h + h), by two groups, and a parameter read whole."""
    x, y = Value(0.0), Value(0.0)
    w, v = Value(rng.gauss(0, 1)), Value(rng.gauss(0, 1))
    h = (x * w).tanh()
    g = (y * v + h).sigmoid()
    root = h * h + (g + g) * h + (w * g).exp() + v
    return root, [x, y], [w, v]


def gathered(rng: random.Random) -> tuple[Value, list[Value], list[Value]]:
    """Neurons that read different inputs (no dense layer), shared weights, crossing operands."""
    xs = [Value(0.0) for _ in range(4)]
    ws = [Value(rng.gauss(0, 1)) for _ in range(3)]
    b = Value(0.1)
    h = [weighted_sum([ws[0], ws[1]], [xs[0], xs[2]], b).tanh(),
         weighted_sum([ws[1], ws[2]], [xs[3], xs[1]], b).tanh(),
         weighted_sum([ws[0], ws[0]], [xs[1], xs[1]]).tanh()]
    products = [h[2] * h[0], h[0] * h[1], h[1] * h[2]]  # each row read at two positions
    root = weighted_sum([ws[2], ws[1], ws[0]], products, b) + h[0] * xs[0]
    return root, xs, [*ws, b]


def weights_are_values(rng: random.Random) -> tuple[Value, list[Value], list[Value]]:
    """A weighted sum whose weights are computed (not parameters): rows gathered in both operands."""
    x0, x1 = Value(0.0), Value(0.0)
    a, b = Value(rng.gauss(0, 1)), Value(rng.gauss(0, 1))
    u, v = (x0 * a).tanh(), (x1 * b).sigmoid()
    root = weighted_sum([u, v], [v, x0], a) + weighted_sum([v, u], [u, u]) * b
    return root, [x0, x1], [a, b]


Matrix = list[list[Value]]


def two_dense_layers(rng: random.Random) -> tuple[Value, list[Value], Matrix, list[Value], Matrix]:
    """sum_i tanh(W[i] . x + b[i]) + sum_i sigmoid(V[i] . x), 5 neurons each on 6 inputs: the root,
    the inputs, W (a list per neuron), b and V."""
    xs = [Value(0.0) for _ in range(6)]
    w, v = ([[Value(rng.uniform(-1, 1)) for _ in xs] for _ in range(5)] for _ in range(2))
    b = [Value(rng.uniform(-1, 1)) for _ in range(5)]
    hidden = [weighted_sum(w[i], xs, b[i]).tanh() for i in range(5)]
    hidden += [weighted_sum(v[i], xs).sigmoid() for i in range(5)]
    return weighted_sum([Value(1.0)] * 10, hidden), xs, w, b, v


def input_major(rng: random.Random) -> tuple[Value, list[Value], list[Value]]:
    """Dense layers whose parameters are listed input by input: a weight gradient view whose
    entries are not adjacent (last stride 5 floats), which a matrix product sums in another order."""
    root, xs, w, b, v = two_dense_layers(rng)
    return root, xs, [m[i][j] for m in (w, v) for j in range(6) for i in range(5)] + b


def interleaved(rng: random.Random) -> tuple[Value, list[Value], list[Value]]:
    """Two dense layers' weights listed in turn (w00 v00 w01 v01 ...): a last stride of 2 floats."""
    root, xs, w, b, v = two_dense_layers(rng)
    return root, xs, [p for i in range(5) for j in range(6) for p in (w[i][j], v[i][j])] + b


GRAPHS: dict[str, Callable[[random.Random], tuple[Value, list[Value], list[Value]]]] = {
    "mlp": mlp, "reuse": reuse, "gathered": gathered, "weights_are_values": weights_are_values,
    "input_major": input_major, "interleaved": interleaved,
}


def outcomes(build: Callable[[random.Random], tuple[Value, list[Value], list[Value]]],
             sizes: list[int]) -> list[tuple[bytes, bytes]]:
    """Roots and gradients (as bytes) of one tape run on batches of these sizes, in turn."""
    root, inputs, params = build(random.Random(5))
    tape: Tape = compile(root, inputs, params, backend="numpy")
    results = []
    for k, size in enumerate(sizes):
        rng = np.random.default_rng(k)
        columns = [rng.normal(size=size) for _ in inputs]
        weights = rng.uniform(0.1, 1.0, size=size)
        roots = tape.run(columns)
        results.append((roots.tobytes(), tape.gradient(weights).tobytes()))
    return results


SIZES = [1, 7, 300, 7, 2]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_written_contributions_give_the_bits_of_adding_into_zeros(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same roots and gradients, bit for bit, at every batch size, B changing between runs."""
    got = outcomes(GRAPHS[name], SIZES)
    add_everything(monkeypatch)
    want = outcomes(GRAPHS[name], SIZES)
    assert got == want


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_plan_writes_most_rows_and_zeroes_only_what_it_must(name: str) -> None:
    """Every row read in backward is written before or zeroed; the MLP needs no zeroing at all."""
    root, inputs, params = GRAPHS[name](random.Random(5))
    engine = compile(root, inputs, params, backend="numpy")._engine  # private, inspected on purpose
    zeroed = set(engine.adj_zero.tolist())
    if name == "mlp":
        assert not zeroed and not len(engine.grad_zero)
        assert all(g.x_write and g.w_write for g in engine.groups if g.kind.weighted_sum and g.x_needs)
    written = {engine.row[engine.program.root_slot]}
    for g in reversed(engine.groups):
        if not g.needed:
            continue
        assert set(g.out_rows) <= written | zeroed, f"group {g.kind.name} reads adjoints nobody wrote"
        if not g.kind.weighted_sum:
            for rows, write, needs in zip(g.arg_rows, g.arg_writes, g.arg_needs):
                if write:  # written with `=`: no row of it may have a contribution already
                    assert not written & set(rows) and not zeroed & set(rows) and len(set(rows)) == len(rows)
                if needs:
                    written |= set(rows)
        else:
            written |= set(g.x_flat) | set(g.bias or []) | set(g.w_flat)


def test_a_gradient_of_zero_is_plus_zero() -> None:
    """Dead relus: products written (not added to 0.0) may be -0.0; the returned gradient never is."""
    x = Value(0.0)
    w, b = Value(-1.0), Value(-5.0)
    root = weighted_sum([w], [x], b).relu() * -1.0
    hidden = [weighted_sum([w], [x], b).relu(), weighted_sum([b], [x], w).relu()]
    two = weighted_sum([w, b], hidden).relu() * -1.0  # a dense layer, and non-dense weighted sums
    for graph in (root, two):
        tape = compile(graph, [x], [w, b], backend="numpy")
        for column in ([1.0], [1.0, 2.0, 3.0]):
            tape.run([column])
            grads = tape.gradient()
            assert grads.tolist() == [0.0, 0.0]
            assert not np.signbit(grads).any()



@pytest.mark.parametrize("name", ["input_major", "interleaved"])
def test_a_strided_weight_gradient_matches_the_python_tape(name: str) -> None:
    """Parameters listed input by input or interleaved: the NumPy tape's gradients are the
    pure-Python tape's to 1e-12 (the bits of the plain plan are checked above)."""
    root, inputs, params = GRAPHS[name](random.Random(5))
    columns = [np.random.default_rng(1).normal(size=64) for _ in inputs]
    fast, python = (compile(root, inputs, params, backend=b) for b in ("numpy", "python"))
    fast.run(columns)
    python.run([c.tolist() for c in columns])
    assert fast.gradient().tolist() == pytest.approx(python.gradient(), rel=1e-12, abs=1e-12)
