"""The compiled tape replays a graph over a batch with the scalar engine's values and gradients."""

from __future__ import annotations

import itertools
import math
import random
import subprocess
import sys
from collections.abc import Callable, Sequence

import pytest

import autograd
from autograd import Tape, Value, compile, numerical_grad, weighted_sum

Build = Callable[[list[Value]], Value]


def scalar_passes(
    build: Build,
    params: Sequence[Value],
    columns: Sequence[Sequence[float]],
    weights: Sequence[float] | None = None,
) -> tuple[list[float], list[float]]:
    """The reference: B separate scalar forward + backward passes, grads accumulated on params."""
    for p in params:
        p.grad = 0.0
    outs = []
    for i in range(len(columns[0])):
        root = build([Value(c[i]) for c in columns])
        outs.append(root.data)
        with autograd.accumulating():  # the B passes' grads summed on params, on purpose
            (root if weights is None else root * weights[i]).backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return outs, grads


def tape_passes(
    build: Build,
    params: Sequence[Value],
    columns: Sequence[Sequence[float]],
    backend: str,
    placeholders: Sequence[float] | None = None,
    weights: Sequence[float] | None = None,
) -> tuple[list[float], list[float]]:
    """Compile once from placeholder inputs, run the batch, backward; returns outputs and grads."""
    xs = [Value(0.5 if placeholders is None else placeholders[i]) for i in range(len(columns))]
    tape = compile(build(xs), xs, list(params), backend=backend)
    for p in params:
        p.grad = 0.0
    outs = [float(o) for o in tape.run(columns)]
    tape.backward(weights)
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return outs, grads


def assert_close(got: Sequence[float], want: Sequence[float], what: str) -> None:
    """Equal to 1e-9 (relative to the size of the value when it is larger than 1)."""
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert abs(g - w) <= 1e-9 * max(1.0, abs(w)), f"{what}[{i}]: tape {g!r} != scalar {w!r}"


def check(
    build: Build, params: Sequence[Value], columns: Sequence[Sequence[float]], backend: str, **kw: object
) -> None:
    """Tape and scalar engine agree on every output and every parameter gradient."""
    weights = kw.get("weights")
    want_out, want_grad = scalar_passes(build, params, columns, weights)  # type: ignore[arg-type]
    got_out, got_grad = tape_passes(build, params, columns, backend, **kw)  # type: ignore[arg-type]
    assert_close(got_out, want_out, "output")
    assert_close(got_grad, want_grad, "grad")


# ---------------------------------------------------------------- random MLPs and losses


class MLP:
    """A plain MLP written with weighted_sum, so the test does not depend on nn."""

    def __init__(self, sizes: list[int], activation: str, rng: random.Random) -> None:
        """Random weights and biases for each layer."""
        self.layers = [
            [
                ([Value(rng.gauss(0, 0.8)) for _ in range(n_in)], Value(rng.gauss(0, 0.3)))
                for _ in range(n_out)
            ]
            for n_in, n_out in itertools.pairwise(sizes)
        ]
        self.activation = activation

    def params(self) -> list[Value]:
        """Every weight and bias."""
        return [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def __call__(self, xs: Sequence[Value]) -> list[Value]:
        """Hidden layers use the activation, the last layer is linear."""
        a: list[Value] = list(xs)
        for k, layer in enumerate(self.layers):
            z = [weighted_sum(ws, a, b) for ws, b in layer]
            a = [getattr(v, self.activation)() for v in z] if k < len(self.layers) - 1 else z
        return a


def random_columns(rng: random.Random, n: int, size: int) -> list[list[float]]:
    """`n` columns of `size` samples each."""
    return [[rng.uniform(-2, 2) for _ in range(size)] for _ in range(n)]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_squared_error_matches_scalar_passes(backend: str, activation: str) -> None:
    """E = 1/2 (Y' - Y)^2 on a random 3-5-4-1 MLP, for a batch of 20."""
    rng = random.Random(1)
    net = MLP([3, 5, 4, 1], activation, rng)
    columns = random_columns(rng, 4, 20)  # three features and the target

    def build(xs: list[Value]) -> Value:
        return 0.5 * (net(xs[:3])[0] - xs[3]) ** 2

    check(build, net.params(), columns, backend)


def test_hinge_loss_re_evaluates_relu_per_sample(backend: str) -> None:
    """(1 + -y*s).relu(): some samples have zero loss and zero gradient, others not."""
    rng = random.Random(2)
    net = MLP([2, 8, 8, 1], "relu", rng)
    columns = random_columns(rng, 2, 40)
    columns.append([1.0 if a * b > 0 else -1.0 for a, b in zip(*columns)])

    def build(xs: list[Value]) -> Value:
        return (1 + -xs[2] * net(xs[:2])[0]).relu()

    outs, _ = scalar_passes(build, net.params(), columns)
    assert any(o == 0.0 for o in outs) and any(o > 0.0 for o in outs)
    check(build, net.params(), columns, backend)
    check(build, net.params(), columns, backend, weights=[1 / 40] * 40)  # the mean loss


def test_softmax_cross_entropy_with_one_hot_targets(backend: str) -> None:
    """-sum_k t_k log softmax(z)_k over 3 classes, the target given as 3 one-hot input columns."""
    rng = random.Random(3)
    net = MLP([4, 6, 3], "tanh", rng)
    size = 25
    columns = random_columns(rng, 4, size)
    labels = [rng.randrange(3) for _ in range(size)]
    columns += [[1.0 if y == k else 0.0 for y in labels] for k in range(3)]

    def build(xs: list[Value]) -> Value:
        z = net(xs[:4])
        e = [v.exp() for v in z]
        total = e[0] + e[1] + e[2]
        return -sum((t * (ek / total).log() for t, ek in zip(xs[4:], e)), Value(0.0))

    check(build, net.params(), columns, backend)


def test_numpy_and_python_back_ends_agree() -> None:
    """Same tape, two back ends, same outputs and gradients; NumPy arrays work as columns."""
    np = pytest.importorskip("numpy")
    rng = random.Random(4)
    net = MLP([3, 7, 2], "sigmoid", rng)
    columns = np.asarray(random_columns(rng, 3, 30))
    xs = [Value(0.0) for _ in range(3)]
    out = net(xs)
    root = out[0] * out[1] + out[0].tanh()
    results = []
    for name in ("python", "numpy"):
        tape = compile(root, xs, net.params(), backend=name)
        values = tape.run(list(columns))
        tape.backward()
        results.append(([float(v) for v in values], [p.grad for p in net.params()]))
        for p in net.params():
            p.grad = 0.0
    assert isinstance(values, np.ndarray) and values.dtype == np.float64
    assert_close(results[1][0], results[0][0], "output")
    assert_close(results[1][1], results[0][1], "grad")


# ---------------------------------------------------------------- every operation


def _ops_table() -> list[tuple[str, Build, list[float]]]:
    """(name, f(x, y) -> Value using params P, Q, R, placeholder values) for every op."""
    H = [0.5, 0.5]  # the placeholder values the graph is built from
    return [
        ("+", lambda v: v[0] + P + 2.0 + v[1], H),
        ("-", lambda v: 3.0 - v[0] * P - Q - v[1], H),
        ("*", lambda v: v[0] * P * v[1] * Q, H),
        ("/", lambda v: P / (v[0] * v[0] + 1.0) + v[1] / Q + 2.0 / R, H),
        ("neg", lambda v: -(v[0] * P) + -v[1], H),
        ("**2 **3 **-1", lambda v: (v[0] * P) ** 2 + (v[1] + Q) ** 3 + (v[0] * v[0] + R) ** -1, H),
        ("**(1/3) **0.5", lambda v: (v[0] * v[0] * P + 1.0) ** (1 / 3) + (v[1] * v[1] + R) ** 0.5, H),
        ("** Value", lambda v: R ** v[0] + (v[1] * v[1] + 1.0) ** P + 2.0 ** (v[0] * Q), H),
        ("exp log sqrt", lambda v: (v[0] * P).exp() + (v[1] * v[1] + R).log() + (v[0] * v[0] + R).sqrt(), H),
        ("tanh sigmoid", lambda v: (v[0] * P).tanh() * (v[1] * Q * 20.0).sigmoid(), H),
        ("relu", lambda v: (v[0] * P).relu() + (v[1] - Q).relu() * R, H),
        ("step sign", lambda v: (v[0] * P).step() * Q + (v[1] + Q).sign() * R * v[0], H),
        ("abs", lambda v: (v[0] * P - Q).abs() + abs(v[1]) * R, H),
        ("wsum", lambda v: weighted_sum([P, Q, R], [v[0], 3.0, v[1]], Q) * weighted_sum([R], [v[0]]), H),
        ("wsum shared", lambda v: weighted_sum([P, P, Q], [v[0], v[0], v[1] * R]) + v[0] * v[0] * P, H),
        ("wsum Value weights", lambda v: weighted_sum([v[0], P * v[1]], [Q, R], P), H),
    ]


P, Q, R = Value(0.7, label="P"), Value(-1.3, label="Q"), Value(1.9, label="R")


@pytest.mark.parametrize("name", [row[0] for row in _ops_table()])
def test_every_operation_matches_scalar_passes(backend: str, name: str) -> None:
    """Each op on both branches of every kink (x < 0, x = 0, x > 0), with params and constants."""
    build, placeholders = {row[0]: (row[1], row[2]) for row in _ops_table()}[name]
    columns = [[-2.0, -0.5, 0.0, 0.5, 1.3, 2.0, -1.1], [1.0, -0.25, 1.3, 0.0, -2.0, 0.75, 1.3]]
    if name == "** Value":  # needs positive bases: 2 ** (x Q) is fine, R ** x too
        columns = [[0.1, 0.5, 1.0, 2.0], [0.3, -1.0, 0.0, 2.0]]
    if name == "step sign":  # x P and y + Q hit exactly 0
        columns = [[-1.0, 0.0, 1.0, 2.0], [1.3, 2.0, -1.0, 1.0]]
    graph = {id(v) for v in autograd.topological_order(build([Value(x) for x in placeholders]))}
    used = [p for p in (P, Q, R) if id(p) in graph]  # compile rejects a param the root ignores
    check(build, used, columns, backend, placeholders=placeholders)


def test_number_exponent_is_exact() -> None:
    """x ** (1/3) is recorded with every digit of its exponent, and the tape replays it exactly."""
    x = Value(2.0)
    tape = compile(x ** (1 / 3), [x], [])
    assert tape.steps[0].op == "**" + repr(1 / 3)
    assert tape.steps[0].const == 1 / 3
    assert tape.steps[0].kind is autograd.ops.power
    assert tape.run([[5.0]]) == [5.0 ** (1 / 3)]


def test_params_are_read_at_each_run(backend: str) -> None:
    """An optimizer step between runs changes the next run's outputs."""
    x = Value(0.0)
    w = Value(2.0)
    tape = compile(x * w, [x], [w], backend=backend)
    assert [float(v) for v in tape.run([[1.0, 3.0]])] == [2.0, 6.0]
    w.data = -1.0
    assert [float(v) for v in tape.run([[1.0, 3.0]])] == [-1.0, -3.0]
    tape.backward()
    tape.backward()  # accumulates twice, like two scalar backward calls
    assert w.grad == 8.0


def test_tape_records_the_graph() -> None:
    """steps are (op, input slots, output slot) in topological order; root is the original Value."""
    x, w, b = Value(0.0, "x"), Value(1.0, "w"), Value(0.0, "b")
    root = weighted_sum([w], [x], b).tanh()
    tape = compile(root, [x], [w, b])
    assert isinstance(tape, Tape) and tape.root is root
    assert [s.op for s in tape.steps] == ["wsum", "tanh"]
    first, second = tape.steps
    assert tape.nodes[first.inputs[0]] is w and tape.nodes[first.inputs[1]] is x
    assert second.inputs == (first.output,) and tape.nodes[second.output] is root
    assert "steps=2" in repr(tape)


def test_gradient_matches_central_differences(backend: str) -> None:
    """d(sum of the batch's losses)/d(param) from the tape equals central differences."""
    rng = random.Random(5)
    net = MLP([2, 3, 1], "tanh", rng)
    params = net.params()
    columns = random_columns(rng, 3, 6)
    xs = [Value(0.0) for _ in range(3)]
    tape = compile((net(xs[:2])[0] - xs[2]) ** 2, xs, params, backend=backend)

    def total(point: list[float]) -> float:
        for p, value in zip(params, point):
            p.data = value
        return float(sum(tape.run(columns)))

    start = [p.data for p in params]
    numeric = numerical_grad(total, start)
    for p, value in zip(params, start):
        p.data = value
        p.grad = 0.0
    tape.run(columns)
    tape.backward()
    for p, n in zip(params, numeric):
        assert abs(p.grad - n) <= 1e-6 + 1e-4 * abs(n), (p.grad, n)


def test_empty_batch(backend: str) -> None:
    """B = 0 gives no outputs and no gradient."""
    x, w = Value(0.0), Value(2.0)
    tape = compile(x * w, [x], [w], backend=backend)
    assert len(tape.run([[]])) == 0
    tape.backward()
    assert w.grad == 0.0


# ---------------------------------------------------------------- errors


def test_inputs_and_params_must_be_leaves_of_the_graph() -> None:
    """Non-leaves, Values the root does not depend on, and repeats are named."""
    x, w = Value(1.0, "x"), Value(2.0, "w")
    h = x * w
    root = h.tanh()
    with pytest.raises(ValueError, match=r"inputs\[0\].*not a leaf"):
        compile(root, [h], [w])
    with pytest.raises(ValueError, match=r"params\[0\].*not a leaf"):
        compile(root, [x], [h])
    with pytest.raises(ValueError, match=r"params\[1\].*'stray'.*not a leaf of the graph"):
        compile(root, [x], [w, Value(0.0, "stray")])
    with pytest.raises(ValueError, match="listed twice"):
        compile(root, [x], [w, w])
    with pytest.raises(ValueError, match="both an input and a parameter"):
        compile(root, [x], [x, w])
    with pytest.raises(ValueError, match="at least one input"):
        compile(root, [], [w])
    with pytest.raises(TypeError, match="needs a list of Values"):
        compile(root, x, [w])  # type: ignore[arg-type]


def test_closure_node_is_refused() -> None:
    """A node whose slopes came from a _backward closure cannot be replayed: compile says so."""
    x = Value(1.0)
    node = Value(2.0 * x.data, (x,), "gelu")

    def _backward() -> None:
        x.grad += 2.0 * node.grad

    node._backward = _backward
    with pytest.raises(ValueError, match=r"'gelu'.*closure.*@autograd.op"):
        compile(node, [x], [])


def test_unknown_backend() -> None:
    """backend must be a name in autograd.BACKENDS (python, numpy or torch)."""
    x = Value(1.0)
    with pytest.raises(ValueError, match="one of 'python', 'numpy', 'torch', got 'cuda'"):
        compile(x * 2.0, [x], [], backend="cuda")


def test_bad_batches_are_named(backend: str) -> None:
    """Wrong column count, unequal lengths, non-numbers, non-finite values, bad weights."""
    x, y, w = Value(0.0), Value(0.0), Value(1.0)
    tape = compile(x * w + y, [x, y], [w], backend=backend)
    with pytest.raises(RuntimeError, match="run"):
        tape.backward()
    with pytest.raises(ValueError, match="2 columns, got 1"):
        tape.run([[1.0]])
    with pytest.raises(ValueError, match=r"equal lengths, got lengths \[2, 3\]"):
        tape.run([[1.0, 2.0], [1.0, 2.0, 3.0]])
    column, finite = r"^tape\.run\(batch column ", r" needs a finite number, got "
    with pytest.raises(TypeError, match=column + r"1\)\[1\]" + finite + "str '2'$"):
        tape.run([[1.0, 2.0], [1.0, "2"]])
    with pytest.raises(TypeError, match=column + r"0\)\[0\]" + finite + "bool True$"):
        tape.run([[True, False], [1.0, 2.0]])
    with pytest.raises(TypeError, match=column + r"0\)\[0\]" + finite + r"Value\("):
        tape.run([[Value(1.0)], [1.0]])
    with pytest.raises(ValueError, match=column + r"1\)\[1\]" + finite + "nan$"):
        tape.run([[1.0, 2.0], [1.0, float("nan")]])
    with pytest.raises(TypeError, match=r"^tape\.run\(batch\) needs a sequence of columns, got 3\.0$"):
        tape.run(3.0)  # type: ignore[arg-type]
    tape.run([[1, 2], [3, 4]])  # ints are fine
    with pytest.raises(ValueError, match="one weight per sample: 2, got 3"):
        tape.backward([1.0, 1.0, 1.0])


def test_domain_errors_name_the_step_and_sample(backend: str) -> None:
    """log of a negative sample, division by zero and overflow fail like the scalar engine."""
    x = Value(1.0)
    tape = compile(x.log(), [x], [], backend=backend)
    with pytest.raises(ValueError, match=r"'log'.*sample 2.*log\(x\) needs x > 0, got x=-1.0"):
        tape.run([[1.0, 2.0, -1.0]])
    tape = compile(1.0 / x, [x], [], backend=backend)
    with pytest.raises(ZeroDivisionError, match="sample 1"):
        tape.run([[1.0, 0.0]])
    tape = compile(x.sqrt(), [x], [], backend=backend)
    with pytest.raises(ValueError, match=r"sample 0.*infinite derivative"):
        tape.run([[0.0]])
    tape = compile(x.exp(), [x], [], backend=backend)
    with pytest.raises(ValueError, match=r"sample 0.*overflows"):
        tape.run([[1000.0]])
    tape = compile(x * x * x, [x], [], backend=backend)
    with pytest.raises(ValueError, match=r"sample 1.*a=1e\+200, b=1e\+200 overflows"):
        tape.run([[1.0, 1e200]])


def test_missing_numpy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without numpy the NumPy back end says which extra to install."""
    monkeypatch.setitem(sys.modules, "numpy", None)
    x = Value(1.0)
    with pytest.raises(ImportError, match=r"pip install 'axongrad\[numpy\]'"):
        compile(x * 2.0, [x], [], backend="numpy")


def test_importing_autograd_does_not_import_numpy() -> None:
    """The NumPy back end is optional: `import autograd` stays dependency-free."""
    code = "import sys, autograd; sys.exit('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    assert autograd.compile is compile


def test_values_reads_any_node_per_sample(backend: str) -> None:
    """tape.values(nodes) gives each sample's value of interior nodes, as separate scalar passes do."""
    x, w = Value(0.0), Value(1.5)
    hidden = (x * w).tanh()
    root = hidden * hidden + x
    tape = compile(root, [x], [w], backend=backend)
    with pytest.raises(RuntimeError, match="run"):
        tape.values([hidden])
    xs = [-1.0, 0.25, 2.0]
    tape.run([xs])
    rows = tape.values([hidden, root])
    for x_i, (h, r) in zip(xs, rows):
        assert h == pytest.approx(math.tanh(1.5 * x_i), abs=1e-15)
        assert r == pytest.approx(math.tanh(1.5 * x_i) ** 2 + x_i, abs=1e-15)
    with pytest.raises(ValueError, match="not a node of this tape"):
        tape.values([Value(3.0)])


def test_each_engine_gives_value_rows_as_its_rows_transposed(backend: str) -> None:
    """Every back end answers value_rows(slots) itself (Tape.value_rows only asks it): a new (slots, B)
    float64 array whose columns are rows(slots), a parameter's row its number for every sample."""
    np = pytest.importorskip("numpy")
    x, w = Value(0.0), Value(1.5)
    hidden = (x * w).tanh()
    root = hidden * hidden + x
    tape = compile(root, [x], [w], backend=backend)
    tape.run([[-1.0, 0.25, 2.0]])
    engine = tape._engine  # private, inspected on purpose: the interface each back end provides
    slots = [tape.slot_of(v) for v in (hidden, w, x, root)]
    rows = engine.value_rows(slots)
    assert isinstance(rows, np.ndarray) and rows.dtype == np.float64 and rows.shape == (4, 3)
    assert rows.T.tolist() == engine.rows(slots) == tape.values([hidden, w, x, root])
    assert rows[1].tolist() == [1.5, 1.5, 1.5] and rows[2].tolist() == [-1.0, 0.25, 2.0]
    tanhs = [math.tanh(-1.5), math.tanh(0.375), math.tanh(3.0)]
    assert engine.value_rows(slots[:1])[0].tolist() == pytest.approx(tanhs, rel=1e-15)
    assert tape.value_rows([hidden, w, x, root]).tolist() == rows.tolist()
    rows[:] = 0.0  # a copy: the engine's own numbers stay
    assert engine.value_rows(slots)[2].tolist() == [-1.0, 0.25, 2.0]
    assert engine.value_rows([]).shape == (0, 3) and tape.value_rows([]).shape == (0, 3)


def test_gradient_overflow_is_an_error(backend: str) -> None:
    """A batch-summed gradient past float range raises, as the scalar backward does; grads untouched."""
    x, w = Value(0.0), Value(1e-200, label="w")
    tape = compile(w * x * 1e200, [x], [w], backend=backend)
    tape.run([[1e200]])  # forward: 1e-200 * 1e200 * 1e200 = 1e200; d/dw = 1e400
    with pytest.raises(ValueError, match=r"params\[0\] \(label 'w'\) overflows"):
        tape.backward()
    assert w.grad == 0.0


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_values_of_parameters_and_constants_hold_for_every_sample(backend: str) -> None:
    """The NumPy tape keeps a parameter read only by matrix products in column 0: values() still
    gives it for every sample, and gradients match the scalar engine."""
    x0, x1 = Value(0.0, "x0"), Value(0.0, "x1")
    ws = [Value(0.5, "w0"), Value(-1.5, "w1")]
    b = Value(0.25, "b")
    z = weighted_sum(ws, [x0, x1], b)
    root = (z * 3.0).tanh()
    tape = compile(root, [x0, x1], [*ws, b], backend=backend)
    tape.run([[1.0, 2.0, -1.0], [0.5, 0.0, 4.0]])
    constant = root.parents[0].parents[1]
    assert tape.values([ws[0], ws[1], b, constant]) == [[0.5, -1.5, 0.25, 3.0]] * 3
    tape.backward()
    by_tape = [p.grad for p in (*ws, b)]
    for p in (*ws, b):
        p.grad = 0.0
    for a, c in ((1.0, 0.5), (2.0, 0.0), (-1.0, 4.0)):
        x0.data, x1.data = a, c
        with autograd.accumulating():  # the three passes summed on purpose
            (weighted_sum(ws, [x0, x1], b) * 3.0).tanh().backward()
    assert all(math.isclose(t, s, rel_tol=1e-12) for t, s in zip(by_tape, [p.grad for p in (*ws, b)]))
