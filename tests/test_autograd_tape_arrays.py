"""A training step on arrays: Tape.gradient, parameter_data and set_parameters, and the buffers they reuse."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest

from autograd import Tape, Value, compile, weighted_sum


def mlp_tape(
    backend: str, sizes: tuple[int, ...] = (2, 3, 3, 1), order: str = "neuron", seed: int = 0
) -> Tape:
    """An MLP's hinge loss relu(1 - y * mlp(x)) compiled; `order` lays the parameters out as nn does
    ("neuron": w0..wK-1, b per neuron), all weights then all biases ("split"), or shuffled."""
    rng = random.Random(seed)
    layers = [
        [([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(rng.uniform(-0.5, 0.5)))
         for _ in range(nout)]
        for nin, nout in itertools.pairwise(sizes)
    ]
    xs = [Value(0.0) for _ in range(sizes[0])]
    y = Value(1.0)
    a: list[Value] = xs
    for k, layer in enumerate(layers):
        z = [weighted_sum(ws, a, b) for ws, b in layer]
        a = z if k == len(layers) - 1 else [v.relu() for v in z]
    root = (1 + -y * a[0]).relu()
    if order == "neuron":
        params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    elif order == "split":
        weights = [w for layer in layers for ws, _ in layer for w in ws]
        params = weights + [b for layer in layers for _, b in layer]
    else:
        params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
        rng.shuffle(params)
    return compile(root, [*xs, y], params, backend=backend)


def batch(n: int, n_in: int = 2, seed: int = 1) -> list[list[float]]:
    """n samples of n_in features in [-2, 2] and a +-1 label, as columns."""
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(n)] for _ in range(n_in)] + [
        [rng.choice((-1.0, 1.0)) for _ in range(n)]
    ]


def close(a: float, b: float) -> bool:
    """Equal to 1e-12 relative (or 1e-15 absolute near zero)."""
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b)) + 1e-15


def test_gradient_equals_what_backward_adds_and_touches_no_grad(backend: str) -> None:
    """gradient() returns the numbers backward() adds to .grad, and leaves every .grad alone."""
    tape = mlp_tape(backend)
    columns = batch(7)
    tape.run(columns)
    for p in tape.params:
        p.grad = 0.25
    got = list(tape.gradient([1 / 7] * 7))
    assert all(p.grad == 0.25 for p in tape.params)
    tape.backward([1 / 7] * 7)
    assert len(got) == len(tape.params)
    assert all(close(p.grad - 0.25, g) for p, g in zip(tape.params, got))
    assert any(g != 0.0 for g in got)


@pytest.mark.parametrize("order", ["neuron", "split", "shuffled"])
def test_numpy_gradient_equals_python_for_any_parameter_layout(order: str) -> None:
    """Weights read as strided views (nn's layout, all-weights-first) or gathered (shuffled) agree."""
    pytest.importorskip("numpy")
    columns = batch(9, n_in=3)
    results = []
    for backend in ("python", "numpy"):
        tape = mlp_tape(backend, sizes=(3, 4, 5, 1), order=order)
        losses = list(tape.run(columns))
        results.append((losses, list(tape.gradient())))
    (want_l, want_g), (got_l, got_g) = results
    assert all(close(a, b) for a, b in zip(want_l, got_l))
    assert all(close(a, b) for a, b in zip(want_g, got_g))


def test_a_training_step_on_arrays_equals_the_loop(backend: str) -> None:
    """gradient + parameter_data + set_parameters gives the .data and .grad of the Python-loop step."""
    np = pytest.importorskip("numpy")
    columns = batch(6)
    lr, l2 = 0.1, 2e-4
    loop, arrays = mlp_tape(backend, seed=3), mlp_tape(backend, seed=3)
    for _ in range(3):
        for p in loop.params:
            p.grad = 0.0
        loop.run(columns)
        loop.backward([1 / 6] * 6)
        for p in loop.params:
            p.grad += l2 * p.data
            p.data -= lr * p.grad

        arrays.run(columns)
        grad = np.asarray(arrays.gradient([1 / 6] * 6))
        w = arrays.parameter_data()
        grad += l2 * w
        arrays.set_parameters(w - lr * grad, grad)
    for p, q in zip(loop.params, arrays.params):
        assert close(p.data, q.data) and close(p.grad, q.grad)
        assert type(q.data) is float and type(q.grad) is float


def test_a_value_changed_by_hand_is_seen_by_the_next_step(backend: str) -> None:
    """Parameters are read from .data at every run and by parameter_data, after set_parameters too."""
    pytest.importorskip("numpy")
    tape = mlp_tape(backend)
    columns = batch(5)
    before = list(tape.run(columns))
    tape.set_parameters([p.data * 0.5 for p in tape.params])
    halved = list(tape.run(columns))
    assert halved != before
    p0 = tape.params[0]
    p0.data = 3.0  # by hand, between steps
    assert tape.parameter_data()[0] == 3.0
    reference = mlp_tape("python")
    for p, q in zip(reference.params, tape.params):
        p.data = q.data
    assert list(tape.run(columns)) == pytest.approx(list(reference.run(columns)), rel=1e-12)
    assert list(tape.gradient()) == pytest.approx(list(reference.gradient()), rel=1e-12)


def test_set_parameters_writes_data_and_grads_in_order(backend: str) -> None:
    """Entry i goes to params[i]; without grads only .data changes; ints and NumPy arrays are accepted."""
    np = pytest.importorskip("numpy")
    tape = mlp_tape(backend)
    n = len(tape.params)
    for p in tape.params:
        p.grad = 7.0
    tape.set_parameters(list(range(n)))
    assert [p.data for p in tape.params] == [float(i) for i in range(n)]
    assert all(p.grad == 7.0 for p in tape.params)
    tape.set_parameters(np.arange(n, dtype=np.float32) * 0.5, np.ones(n))
    assert [p.data for p in tape.params] == [i * 0.5 for i in range(n)]
    assert all(p.grad == 1.0 and type(p.grad) is float for p in tape.params)
    assert tape.parameter_data().tolist() == [i * 0.5 for i in range(n)]


DATA, GRADS = r"^tape\.set_parameters\(data\)", r"^tape\.set_parameters\(grads\)"
LIST25, FINITE = " needs a list or 1-D array of 25 numbers, got ", " needs a finite number, got "


@pytest.mark.parametrize(
    ("data", "grads", "error", "match"),
    [
        ("short", None, ValueError, DATA + LIST25 + "list of 24$"),
        ("long", None, ValueError, DATA + LIST25 + "list of 26$"),
        ("2d", None, TypeError, DATA + r"\[0\]" + FINITE + r"ndarray array\(\[1\.\]\)$"),
        ("bools", None, TypeError, DATA + r"\[0\]" + FINITE + "bool True$"),
        ("text", None, TypeError, DATA + LIST25 + "str '"),
        ("nan", None, ValueError, DATA + r"\[4\]" + FINITE + r"nan \(params\[4\], label[^)]*\); no"),
        ("inf-array", None, ValueError, DATA + r"\[4\]" + FINITE + r"inf \(params\[4\]"),
        ("ok", "nan", ValueError, GRADS + r"\[4\]" + FINITE + r"nan \(params\[4\]"),
        ("ok", "short", ValueError, GRADS + LIST25 + "list of 24$"),
        ("huge-int", None, ValueError, r"needs a finite number, got a 401-digit integer, beyond float range"),
    ],
)
def test_set_parameters_refuses_bad_numbers_and_changes_nothing(
    data: str, grads: str | None, error: type[Exception], match: str
) -> None:
    """Wrong lengths, shapes, types and non-finite entries are named; no Value is changed."""
    np = pytest.importorskip("numpy")
    tape = mlp_tape("numpy")
    n = len(tape.params)
    before = [(p.data, p.grad) for p in tape.params]

    def make(kind: str) -> Any:
        good = [0.5] * n
        return {
            "ok": good,
            "short": good[:-1],
            "long": [*good, 0.5],
            "2d": np.ones((n, 1)),
            "bools": [True] * n,
            "text": "x" * n,
            "nan": [*good[:4], math.nan, *good[5:]],
            "inf-array": np.array([*good[:4], math.inf, *good[5:]]),
            "huge-int": [10 ** 400, *good[1:]],
        }[kind]

    with pytest.raises(error, match=match):
        tape.set_parameters(make(data), None if grads is None else make(grads))
    assert [(p.data, p.grad) for p in tape.params] == before


def test_gradient_needs_a_run_and_one_weight_per_sample(backend: str) -> None:
    """The errors name tape.gradient, as backward's name backward."""
    tape = mlp_tape(backend)
    with pytest.raises(RuntimeError, match=r"tape.gradient\(\) needs tape.run"):
        tape.gradient()
    tape.run(batch(3))
    with pytest.raises(ValueError, match=r"tape.gradient\(weights\) needs one weight per sample: 3, got 2"):
        tape.gradient([1.0, 1.0])
    with pytest.raises(ValueError, match=r"^tape\.gradient\(weights\)\[1\] needs a finite number, got inf$"):
        tape.gradient([1.0, math.inf, 1.0])


def test_gradient_overflow_is_an_error(backend: str) -> None:
    """An overflowing batch gradient is named, as in backward; no .grad changes."""
    x, w = Value(0.0), Value(1e-200, label="w")
    tape = compile(w * x * 1e200, [x], [w], backend=backend)
    tape.run([[1e200, 1.0]])  # forward: 1e200 at most; d/dw = 1e400 for sample 0
    with pytest.raises(ValueError, match=r"tape.gradient: the gradient at params\[0\] \(label 'w'\) over"):
        tape.gradient()
    assert w.grad == 0.0


def test_batch_size_changes_between_runs(backend: str) -> None:
    """Buffers kept for one batch size are rebuilt for another: every size gives its own answers."""
    tape = mlp_tape(backend)
    reference = mlp_tape("python")
    for n in (5, 2, 5, 1, 0, 3):
        columns = batch(n, seed=n)
        got, want = list(tape.run(columns)), list(reference.run(columns))
        assert got == pytest.approx(want, rel=1e-12)
        assert list(tape.gradient()) == pytest.approx(list(reference.gradient()), rel=1e-12, abs=1e-15)
        root = tape.root
        assert [row[0] for row in tape.values([root])] == pytest.approx(want, rel=1e-12)


def test_a_failed_run_leaves_nothing_to_read_and_the_next_run_works(backend: str) -> None:
    """A non-finite input column is named; the tape then refuses gradient until a good run."""
    tape = mlp_tape(backend)
    columns = batch(4)
    tape.run(columns)
    bad = [list(c) for c in columns]
    bad[1][2] = math.nan
    with pytest.raises(ValueError, match=r"^tape\.run\(batch column 1\)\[2\]" + FINITE + "nan$"):
        tape.run(bad)
    with pytest.raises(RuntimeError, match=r"needs tape\.run"):
        tape.gradient()
    assert list(tape.run(columns)) == pytest.approx(list(mlp_tape("python").run(columns)), rel=1e-12)


def test_a_parameter_used_twice_in_one_layer() -> None:
    """Repeated weights in a dense layer (no strided view to add into) still sum both uses."""
    pytest.importorskip("numpy")
    results = []
    for backend in ("python", "numpy"):
        w, b = Value(0.7), Value(-0.2)
        xs = [Value(0.0), Value(0.0)]
        hidden = [weighted_sum([w, w], xs, b).tanh(), weighted_sum([w, Value(0.3)], xs, b).tanh()]
        root = weighted_sum([w, w], hidden, b)
        tape = compile(root, xs, [w, b], backend=backend)
        results.append((list(tape.run([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])), list(tape.gradient())))
    (l1, g1), (l2, g2) = results
    assert l2 == pytest.approx(l1, rel=1e-12) and g2 == pytest.approx(g1, rel=1e-12)
