"""The PyTorch tape back end (`compile(..., backend="torch")`) gives the scalar engine's gradients.

Runs where the `torch` extra is installed (CI installs it); skipped otherwise. The tests shared by
every back end (bad batches, domain errors, values(), ...) run it too through conftest's `backend`.
"""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from engines import RTOL, close, disagreements, run_engines
from expressions import EXPRESSIONS, VALUES, Expr

import autograd
import nn
from autograd import FLOATS, Value, compile, mathspace
from autograd.tape_torch import TorchMath

torch = pytest.importorskip("torch", reason="needs torch: pip install 'axongrad[torch]'")


def scalar_sums(expr: Expr, points: list[tuple[float, ...]]) -> tuple[list[float], list[float]]:
    """Roots and batch-summed d(root)/d(s_i) of expr(s_i * x_i), one scalar graph per sample."""
    scales = [Value(1.0) for _ in points[0]]
    roots = []
    for point in points:
        root = expr.fn(VALUES, *(s * x for s, x in zip(scales, point)))
        roots.append(root.data)
        with autograd.accumulating():  # the samples' gradients summed on the scales, on purpose
            root.backward()
    return roots, [s.grad for s in scales]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[e.name for e in EXPRESSIONS])
def test_expression_table_batched_on_torch_equals_the_scalar_engine(expr: Expr) -> None:
    """Every expression of the table, all its points as one batch: roots and grads equal to 1e-12.

    The expression reads s_i * x_i: the x_i are the batch's inputs and the scales s_i = 1 the
    parameters, so d/ds_i summed over the batch is the sum of x_i * d(root)/d(x_i).
    """
    points = list(expr.points)
    want_roots, want_grads = scalar_sums(expr, points)
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(points[0])]
    scales = [Value(1.0, label=f"s{i}") for i in range(len(xs))]
    root = expr.fn(VALUES, *(s * x for s, x in zip(scales, xs)))
    tape = compile(root, xs, scales, backend="torch")
    columns = [[p[i] for p in points] for i in range(len(xs))]
    got_roots = tape.run(columns)
    got_grads = tape.gradient()
    assert isinstance(got_roots, torch.Tensor) and got_roots.dtype == torch.float64
    assert isinstance(got_grads, torch.Tensor) and got_grads.dtype == torch.float64
    for got, want in zip(got_roots.tolist() + got_grads.tolist(), want_roots + want_grads):
        assert close(got, want, atol=1e-300) or got == want, (got, want)


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[e.name for e in EXPRESSIONS])
def test_expression_table_per_point_agrees_with_every_engine(expr: Expr) -> None:
    """Each point alone, leaves as parameters: the torch tape agrees with the scalar engine."""
    assert "torch" in run_engines(lambda v: expr.fn(VALUES, *v), list(expr.points[0]))
    for point in expr.points:
        assert disagreements(run_engines(lambda v: expr.fn(VALUES, *v), list(point))) == []


def test_an_mlp_batch_gives_the_scalar_engines_gradients() -> None:
    """A 3-8-8-2 tanh/relu network with a squared error over 64 samples: grads equal to 1e-12."""
    model = nn.MLP(3, [8, 8, 2], seed=3)
    params = model.parameters()
    xs = [[math.sin(i + k) for k in range(3)] for i in range(64)]
    ts = [[math.cos(i), 0.5 * math.sin(2 * i)] for i in range(64)]
    placeholders = [Value(0.0) for _ in range(3)]
    targets = [Value(0.0) for _ in range(2)]
    outs = model(placeholders)
    root = sum(((o - t) ** 2 for o, t in zip(outs, targets)), Value(0.0))
    tape = compile(root, [*placeholders, *targets], params, backend="torch")
    columns = [[x[k] for x in xs] for k in range(3)] + [[t[k] for t in ts] for k in range(2)]
    tape.run(columns)
    got = tape.gradient([1.0 / 64] * 64).tolist()
    model.zero_grad()
    with autograd.accumulating():
        for x, t in zip(xs, ts):
            loss = sum(((o - tk) ** 2 for o, tk in zip(model(x), t)), Value(0.0)) * (1.0 / 64)
            loss.backward()
    want = [p.grad for p in params]
    assert max(abs(g - w) / max(1.0, abs(w)) for g, w in zip(got, want)) <= RTOL


def test_torch_math_has_every_name_of_the_float_namespace() -> None:
    """A rule may use any name of autograd.mathspace; the torch namespace has each, and agrees."""
    m = TorchMath(torch, torch.device("cpu"))
    x = torch.tensor([0.25, 1.5], dtype=torch.float64)
    for name in mathspace.__all__:
        assert hasattr(m, name), name
    assert m.where(x > 1.0, 1.0, 0.0).dtype == torch.float64  # numbers are never float32
    assert m.maximum(x, 1.0).tolist() == [1.0, 1.5]
    assert m.minimum(0.5, x).tolist() == [0.25, 0.5]
    assert m.power(x, 2.0).tolist() == [0.0625, 2.25]
    assert (m.e, m.pi) == (math.e, math.pi)
    for name in ("exp", "log", "log1p", "sqrt", "tanh", "sin", "cos", "abs"):
        got = getattr(m, name)(x).tolist()
        want = [getattr(math, "fabs" if name == "abs" else name)(v) for v in (0.25, 1.5)]
        assert all(close(g, w) for g, w in zip(got, want)), name


@autograd.op(rule="σ(x)", name="torch_softplus_m")
def softplus_m(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """softplus(x) = log(1 + e^x) written over m; d/dx = σ(x)."""
    e = m.exp(-m.abs(x))
    return m.maximum(x, 0.0) + m.log1p(e), m.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


@autograd.op(rule="σ(x)", name="torch_softplus_floats")
def softplus_floats(x: float) -> tuple[float, float]:
    """softplus on floats only: the torch tape runs it per sample."""
    e = math.exp(-abs(x))
    return max(x, 0.0) + math.log1p(e), (1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e))


@autograd.op(rule="e^x", name="torch_exp_by_math")
def exp_by_math(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """e^x through math.exp instead of m.exp: works on floats and numbers only."""
    e = math.exp(x)
    return e, e


@pytest.mark.parametrize("row", [softplus_m, softplus_floats], ids=["m-rule", "float-rule"])
def test_learner_ops_run_on_torch(row: Any) -> None:
    """A learner's op written over m runs on tensors, a float-only one per sample: scalar grads."""
    xs = [-3.0, -0.5, 0.0, 0.75, 40.0]
    w = Value(0.8)
    x = Value(0.1)
    tape = compile(row(w * x) * w, [x], [w], backend="torch")
    values = tape.run([xs]).tolist()
    grad = float(tape.gradient())
    w.grad = 0.0
    with autograd.accumulating():
        for i, xi in enumerate(xs):
            root = row(w * xi) * w
            assert close(values[i], root.data)
            root.backward()
    assert close(grad, w.grad)


def test_a_rule_that_cannot_take_tensors_is_a_clear_error() -> None:
    """A rule that calls math.exp instead of m.exp fails naming the op, m and the NumPy fallback."""
    x, w = Value(0.0), Value(1.0)
    tape = compile(exp_by_math(w * x), [x], [w], backend="torch")
    with pytest.raises(TypeError, match=r"op 'torch_exp_by_math'.*PyTorch tensors.*m\.exp"):
        tape.run([[0.5, 1.0]])


def test_results_are_tensors_on_the_engines_device_and_not_its_buffers() -> None:
    """run() and gradient() return new tensors: the next run does not overwrite a kept result."""
    x, w = Value(0.0), Value(2.0)
    tape = compile((w * x).tanh(), [x], [w], backend="torch")
    first = tape.run([[0.1, 0.2, 0.3]])
    kept, grad = first.clone(), tape.gradient()
    kept_grad = grad.clone()
    tape.run([[5.0, -5.0]])
    tape.gradient()
    tape.run([[0.7, 0.8, 0.9]])  # the same batch size again: same buffers
    tape.gradient()
    assert torch.equal(first, kept) and torch.equal(grad, kept_grad)
    assert first.device == tape._engine.device  # type: ignore[attr-defined]


def test_columns_may_be_tensors_or_numpy_arrays() -> None:
    """A float or int tensor column is accepted; a 2-D, bool or complex one is named."""
    np = pytest.importorskip("numpy")
    x, w = Value(0.0), Value(3.0)
    tape = compile(w * x, [x], [w], backend="torch")
    assert tape.run([torch.tensor([1, 2])]).tolist() == [3.0, 6.0]
    assert tape.run([np.asarray([0.5, 1.0])]).tolist() == [1.5, 3.0]
    for bad in (torch.ones(2, 2), torch.tensor([True]), torch.tensor([1j])):
        with pytest.raises(TypeError, match=r"tape\.run\(batch column 0\) needs a list or 1-D tensor"):
            tape.run([bad])
    with pytest.raises(ValueError, match=r"batch column 0\)\[1\] needs a finite number, got inf"):
        tape.run([torch.tensor([1.0, math.inf])])


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without torch the PyTorch back end says which extra to install."""
    monkeypatch.setitem(sys.modules, "torch", None)
    x = Value(1.0)
    with pytest.raises(ImportError, match=r"pip install 'axongrad\[torch\]'"):
        compile(x * 2.0, [x], [], backend="torch")


def test_importing_autograd_does_not_import_torch() -> None:
    """The torch back end is optional: `import autograd` leaves torch unimported."""
    code = "import sys, autograd, nn; sys.exit('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_with_engine_tape_torch_trains_like_the_scalar_engine(optimizer: str) -> None:
    """nn.fit(engine="tape-torch"): the same weights and losses as engine="scalar", to 1e-12."""
    xs, ys = nn.moons(24, noise=0.1, seed=5)
    results = []
    for engine in ("scalar", "tape-torch"):
        model = nn.MLP(2, [6, 6, 1], seed=2)
        opt = (
            nn.SGD(model.parameters(), lr=0.05, momentum=0.5)
            if optimizer == "sgd"
            else nn.Adam(model.parameters(), lr=0.01)
        )
        history = nn.fit(model, xs, ys, loss="hinge", optimizer=opt, epochs=3, batch_size=8,
                         progress=False, seed=1, engine=engine)
        results.append(([p.data for p in model.parameters()], history.loss, history.accuracy))
    (want, want_loss, want_acc), (got, got_loss, got_acc) = results
    assert all(close(g, w) for g, w in zip(got, want))
    assert all(close(g, w) for g, w in zip(got_loss, want_loss))
    assert got_acc == want_acc


@autograd.op(rule="0.3 if x > 0 else 0.1", name="torch_leaky_step")
def leaky(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """0.3x for x > 0, else 0.1x: its slope is a comparison times a number (float32 in torch by default)."""
    positive = x > 0.0
    slope = positive * 0.2 + 0.1
    return x * slope, slope


def test_a_comparison_times_a_number_in_a_rule_keeps_float64_digits() -> None:
    """`(x > 0) * 0.2 + 0.1` is float32 under torch's default dtype; the tape computes it in float64."""
    x, w = Value(0.5), Value(1.0)
    tape = compile(leaky(w * x), [x], [w], backend="torch")
    assert tape.run([[2.0, -4.0]]).tolist() == [leaky(2.0), leaky(-4.0)]
    assert float(tape.gradient()) == 2.0 * (0.2 + 0.1) + -4.0 * 0.1  # the float64 sums, exactly
    assert torch.get_default_dtype() == torch.float32  # the learner's setting is back
