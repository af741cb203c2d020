"""The NumPy tape folds a dense layer's bias into its matrix product: same numbers, same errors.

A ones row after a dense layer's inputs folds its bias into the product (`tape_numpy._BiasFold`):
[W | b] @ [x; 1]. Folded or not, a tape's values and gradients are the scalar engine's (1e-12);
every error names the step, sample and operands the unfolded engine names; and the ones rows
are never seen by a learner (`tape.values`, `tape.value_rows`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Tape, Value, accumulating, compile, op, weighted_sum

np = pytest.importorskip("numpy")
tape_numpy = pytest.importorskip("autograd.tape_numpy")

Build = Callable[[list[Value], Value], Value]


def network(
    nin: int, widths: list[int], bias: bool, order: str = "neuron", seed: int = 0
) -> tuple[Build, list[Value]]:
    """A tanh MLP nin -> widths (linear last layer) with a squared-error loss against a target y:
    a function building its graph on given inputs, and its parameters listed neuron by neuron
    (w0..wK-1, b: nn's order) or, with order="input", input by input and then the biases."""
    rng = random.Random(seed)
    layers: list[tuple[list[list[Value]], list[Value] | None]] = []
    fan_in = nin
    for width in widths:
        w = [[Value(rng.uniform(-1.0, 1.0)) for _ in range(fan_in)] for _ in range(width)]
        b = [Value(rng.uniform(-0.5, 0.5)) for _ in range(width)] if bias else None
        layers.append((w, b))
        fan_in = width
    params: list[Value] = []
    for w, b in layers:
        if order == "neuron":
            for n, ws in enumerate(w):
                params += ws if b is None else [*ws, b[n]]
        else:
            params += [w[n][i] for i in range(len(w[0])) for n in range(len(w))]
            params += b or []

    def build(xs: list[Value], y: Value) -> Value:
        a = xs
        for k, (w, b) in enumerate(layers):
            sums = [weighted_sum(ws, a, None if b is None else b[n]) for n, ws in enumerate(w)]
            a = sums if k == len(layers) - 1 else [s.tanh() for s in sums]
        loss = (a[0] - y) * (a[0] - y)
        for o in a[1:]:
            loss = loss + (o - y) * (o - y)
        return loss

    return build, params


def placeholders(nin: int) -> tuple[list[Value], Value]:
    """The inputs x0..x{nin-1} and the target y (listed after them: a ones row goes between)."""
    return [Value(0.0, label=f"x{i}") for i in range(nin)], Value(0.0, label="y")


def columns(nin: int, size: int, seed: int) -> list[list[float]]:
    """nin input columns and a target column of `size` samples."""
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 2.0) for _ in range(size)] for _ in range(nin + 1)]


def unfolded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compile without the fold: every dense layer adds its bias and sums its gradient apart."""
    monkeypatch.setattr(tape_numpy, "_bias_fold", lambda *args: None)


def compiled(build: Build, params: list[Value], nin: int) -> tuple[Tape, list[Value]]:
    """The network's tape on NumPy, and its inputs (x0.., y)."""
    xs, y = placeholders(nin)
    return compile(build(xs, y), [*xs, y], params, backend="numpy"), [*xs, y]


def folds(tape: Tape) -> list[bool]:
    """For each weighted-sum group of the tape's engine (private, inspected on purpose): folded?"""
    return [g.fold is not None for g in tape._engine.groups if g.kind.weighted_sum]  # type: ignore[attr-defined]


def scalar_engine(
    build: Build, params: list[Value], cols: list[list[float]]
) -> tuple[list[float], list[float], list[float]]:
    """B scalar passes: each sample's root, the batch sum of each parameter's gradient, and the
    sum of their absolute values (the scale the 1e-12 tolerance is relative to)."""
    roots, grads, scale = [], [0.0] * len(params), [0.0] * len(params)
    for i in range(len(cols[0])):
        for p in params:
            p.grad = 0.0
        root = build([Value(c[i]) for c in cols[:-1]], Value(cols[-1][i]))
        with accumulating():
            root.backward()
        roots.append(root.data)
        grads = [g + p.grad for g, p in zip(grads, params)]
        scale = [s + abs(p.grad) for s, p in zip(scale, params)]
    for p in params:
        p.grad = 0.0
    return roots, grads, scale


def assert_scalar_numbers(tape: Tape, build: Build, params: list[Value], cols: Any) -> None:
    """The tape's roots and batch-summed gradients equal the scalar engine's to 1e-12."""
    want_roots, want_grads, scale = scalar_engine(build, params, [list(map(float, c)) for c in cols])
    roots = tape.run(cols).tolist()
    grads = tape.gradient().tolist()
    for k, (got, want) in enumerate(zip(roots, want_roots)):
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300), f"sample {k}: {got!r} != {want!r}"
    for k, (got, want, s) in enumerate(zip(grads, want_grads, scale)):
        assert abs(got - want) <= 1e-12 * s + 1e-300, f"d/dp{k}: {got!r} != {want!r}"


@pytest.mark.parametrize("order", ["neuron", "input"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("width", [1, 3, 16])
@pytest.mark.parametrize("nin", [1, 2, 5])
def test_folded_and_unfolded_layers_give_the_scalar_engines_numbers(
    nin: int, width: int, bias: bool, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layer folds exactly when each neuron's bias comes right after its weights (nn's order, or
    one neuron listed input by input); folded or not, the roots and gradients are B scalar passes'."""
    build, params = network(nin, [width, width, 2], bias, order, seed=nin * 100 + width)
    cols = columns(nin, 7, seed=width)
    tape, _ = compiled(build, params, nin)
    assert folds(tape) == [bias and (order == "neuron" or n == 1) for n in (width, width, 2)]
    assert_scalar_numbers(tape, build, params, cols)
    unfolded(monkeypatch)
    plain, _ = compiled(build, params, nin)
    assert folds(plain) == [False] * 3
    assert_scalar_numbers(plain, build, params, cols)


def test_batch_sizes_change_under_one_folded_tape() -> None:
    """B = 1, 7, 100 and 7 again, as columns and as one 2-D array (fit's form): the scalar numbers."""
    build, params = network(2, [16, 16, 1], True)
    tape, _ = compiled(build, params, 2)
    assert all(folds(tape))
    for seed, size in enumerate([1, 7, 100, 7]):
        cols = columns(2, size, seed)
        assert_scalar_numbers(tape, build, params, cols)
        assert_scalar_numbers(tape, build, params, np.asarray(cols))


def test_the_ones_rows_never_show_in_the_values_a_learner_reads() -> None:
    """tape.values / value_rows of every node are the scalar engine's values; the inputs come back as
    given although a ones row sits among their rows."""
    build, params = network(3, [4, 1], True)
    xs, y = placeholders(3)
    root = build(xs, y)
    tape = compile(root, [*xs, y], params, backend="numpy")
    engine = tape._engine  # type: ignore[attr-defined]
    assert engine.ones_rows and len(engine.input_pieces) == 2  # x0..x2, a ones row, then y
    cols = columns(3, 5, seed=1)
    tape.run(cols)
    nodes = [v for v in _graph(root) if v.parents or any(v is x for x in [*xs, y])]
    rows = tape.value_rows(nodes)
    listed = tape.values(nodes)
    for i in range(5):
        made = _evaluate(root, {id(x): c[i] for x, c in zip([*xs, y], cols)})
        for k, v in enumerate(nodes):
            assert math.isclose(rows[k, i], made[id(v)], rel_tol=1e-12, abs_tol=1e-300), (k, i)
            assert listed[i][k] == rows[k, i]
    assert tape.value_rows([*xs, y]).tolist() == cols  # x0..x2 and y, no ones row between them


def _graph(root: Value) -> list[Value]:
    """Every node of root's graph, each once, parents first."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((p, False) for p in v.parents)
    return order


def _evaluate(root: Value, leaves: dict[int, float]) -> dict[int, float]:
    """Each node's value with these leaf values (others keep theirs), computed by its row on floats."""
    made: dict[int, float] = {}
    for v in _graph(root):
        if not v.parents:
            made[id(v)] = leaves.get(id(v), v.data)
        else:
            assert v.operation is not None
            args = [made[id(p)] for p in v.parents]
            made[id(v)] = v.operation.evaluate(args, v.const)[0]
    return made


def both(build: Build, params: list[Value], nin: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Tape, Tape]:
    """The network's tape with the fold (in its first layer at least) and without it."""
    folded, _ = compiled(build, params, nin)
    assert folds(folded)[0]
    with monkeypatch.context() as patch:
        unfolded(patch)
        plain, _ = compiled(build, params, nin)
    return folded, plain


def same_error(tapes: tuple[Tape, Tape], cols: Any, kind: type[Exception], pattern: str) -> None:
    """Both tapes raise `kind` with the same message, which matches `pattern`; both work again after."""
    messages = []
    for tape in tapes:
        with pytest.raises(kind, match=pattern) as info:
            tape.run(cols)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("column", [0, 2])
def test_a_non_finite_input_is_named_as_before(column: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """inf in an input column before the ones row (x0) or after it (the target y): the same message."""
    build, params = network(2, [3, 1], True)
    cols = columns(2, 5, seed=2)
    cols[column][3] = math.inf
    same_error(both(build, params, 2, monkeypatch), cols, ValueError,
               rf"^tape\.run\(batch column {column}\)\[3\] needs a finite number")


def test_an_overflow_in_a_folded_layer_is_named_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """A weighted sum of a folded layer that overflows on sample 2: its step, sample and operands."""
    build, params = network(2, [3, 1], True)
    cols = columns(2, 5, seed=3)
    cols[1][2] = 1e308
    params[1].data = 1e10  # neuron 0's weight on x1
    same_error(both(build, params, 2, monkeypatch), cols, ValueError, r"'wsum'.*sample 2.*overflows")


@op(rule="1")
def capped(x: float) -> tuple[float, float]:
    """x for x <= 2, an error above (a learner's per-sample op that refuses some numbers)."""
    if x > 2.0:
        raise ValueError(f"capped(x) needs x <= 2, got x={x!r}")
    return x, 1.0


def test_a_learners_op_on_a_folded_layer_fails_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """capped() of a folded layer's sums raises for sample 4: named with its operand, as before."""
    rng = random.Random(4)
    ws = [[Value(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(3)]
    bs = [Value(0.1 * n) for n in range(3)]
    params = [p for n in range(3) for p in [*ws[n], bs[n]]]

    def build(xs: list[Value], y: Value) -> Value:
        hidden = [capped(weighted_sum(ws[n], xs, bs[n])) for n in range(3)]
        return weighted_sum([Value(1.0)] * 3, hidden) * y

    cols = [[0.1, 0.2, 0.3, 0.4, 50.0], [0.0] * 5, [1.0] * 5]
    cols[1][4] = 50.0 if ws[0][0].data + ws[0][1].data > 0 else -50.0
    cols[0][4] = cols[1][4]
    same_error(both(build, params, 2, monkeypatch), cols, ValueError,
               r"'capped'.*sample 4: capped\(x\) needs x <= 2, got x=")


def test_a_domain_error_after_a_folded_layer_names_its_operand(monkeypatch: pytest.MonkeyPatch) -> None:
    """log() of a folded layer's sum that is negative on sample 1: the row's message, as before."""
    w, b = [Value(1.0), Value(1.0)], Value(1.0)

    def build(xs: list[Value], y: Value) -> Value:
        return weighted_sum(w, xs, b).log() * y

    cols = [[1.0, -1.0, 2.0], [1.0, -0.5, 2.0], [1.0, 1.0, 1.0]]
    same_error(both(build, [*w, b], 2, monkeypatch), cols, ValueError,
               r"sample 1: log\(x\) needs x > 0, got x=-0\.5$")


def test_layers_that_do_not_fold_keep_the_plain_path() -> None:
    """A bias shared by neurons, a bias that is a constant, and neurons that read their inputs in
    another order than they are listed: no fold there, the scalar engine's numbers everywhere."""
    rng = random.Random(5)
    w = [[Value(rng.uniform(-1, 1)) for _ in range(3)] for _ in range(4)]
    shared, b = Value(0.3), [Value(rng.uniform(-1, 1)) for _ in range(4)]
    out = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    params = [*[p for ws in w for p in ws], shared, *b, *out]

    def build(xs: list[Value], y: Value) -> Value:
        first = [weighted_sum(w[n], xs, shared).tanh() for n in range(4)]  # one bias, four neurons
        second = [weighted_sum(w[n][:2], xs[:2], Value(0.2)).tanh() for n in range(4)]  # constant bias
        third = [weighted_sum(w[n], xs[::-1], b[n]).tanh() for n in range(4)]  # x2, x1, x0
        return (weighted_sum(out, first) + weighted_sum(out, second) + weighted_sum(out, third) - y).tanh()

    tape, _ = compiled(build, params, 3)
    assert not any(folds(tape))
    assert_scalar_numbers(tape, build, params, columns(3, 6, seed=5))


def test_parameters_shared_by_two_folded_layers_add_their_gradients() -> None:
    """Two dense layers with the same [W | b] (tied weights) on different inputs: both fold; the second's
    gradient is added to the first's, not written over it."""
    rng = random.Random(6)
    w = [[Value(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(2)]
    b = [Value(rng.uniform(-1, 1)) for _ in range(2)]
    params = [p for n in range(2) for p in [*w[n], b[n]]]

    def build(xs: list[Value], y: Value) -> Value:
        h = [weighted_sum(w[n], xs, b[n]).tanh() for n in range(2)]
        z = [weighted_sum(w[n], h, b[n]) for n in range(2)]
        return (z[0] * z[1] - y) * (z[0] * z[1] - y)

    tape, _ = compiled(build, params, 2)
    assert folds(tape) == [True, True]
    writes = [g.fold.write for g in tape._engine.groups if g.kind.weighted_sum]  # type: ignore[attr-defined]
    assert sorted(writes) == [False, True]
    assert_scalar_numbers(tape, build, params, columns(2, 9, seed=6))


def test_layers_reading_overlapping_inputs_fold_where_the_rows_allow() -> None:
    """One layer reads x0, x1 and another x0, x1, x2: a ones row after x1 folds the first; the second's
    rows are then no longer one slice, so it keeps the plain path. Both give the scalar numbers."""
    rng = random.Random(7)
    w = [[[Value(rng.uniform(-1, 1)) for _ in range(k + 2)] for _ in range(3)] for k in range(2)]
    b = [[Value(rng.uniform(-1, 1)) for _ in range(3)] for _ in range(2)]
    params = [p for k in range(2) for n in range(3) for p in [*w[k][n], b[k][n]]]

    def build(xs: list[Value], y: Value) -> Value:
        first = [weighted_sum(w[0][n], xs[0:2], b[0][n]).tanh() for n in range(3)]
        second = [weighted_sum(w[1][n], xs, b[1][n]).tanh() for n in range(3)]
        total = first[0] * second[0] + first[1] * second[1] + first[2] * second[2]
        return (total - y) * (total - y)

    tape, _ = compiled(build, params, 3)
    assert sorted(folds(tape)) == [False, True]
    assert len(tape._engine.input_pieces) == 3  # type: ignore[attr-defined]  # x0 x1 | x2 | y
    assert_scalar_numbers(tape, build, params, columns(3, 6, seed=7))


def test_one_sample_at_a_relus_kink_gives_the_scalar_engines_zero_gradient() -> None:
    """w x + b = 0.1 * 10 - 1 is exactly 0 when rounded twice (the scalar engine) and 5.6e-17 when
    rounded once (a fused multiply-add in BLAS's matrix-vector kernel): the relu's kink. With one
    sample the folded layer adds its bias after the product, as the scalar engine does."""

    def graph(x: Value) -> tuple[Value, list[Value]]:
        ws, bs = [Value(0.1), Value(0.1)], [Value(-1.0), Value(-1.0)]
        h = [weighted_sum([w], [x], b).relu() for w, b in zip(ws, bs)]
        return h[0] + h[1], [ws[0], bs[0], ws[1], bs[1]]

    x = Value(0.0, "x")
    root, params = graph(x)
    tape = compile(root, [x], params, backend="numpy")
    assert any(g.fold is not None for g in tape._engine.groups if g.kind.weighted_sum)  # the case under test
    scalar, scalar_params = graph(Value(10.0))
    scalar.backward()
    assert tape.run([[10.0]]).tolist() == [scalar.data] == [0.0]
    assert tape.gradient().tolist() == [p.grad for p in scalar_params] == [0.0, 0.0, 0.0, 0.0]
