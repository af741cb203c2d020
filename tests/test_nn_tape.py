"""fit(engine="tape"): the compiled tape trains exactly like the scalar engine, on both back ends."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from typing import Any

import pytest

import nn
from autograd import Value
from nn.tape_engine import TapeEngine, default_backend
from nn.train import ENGINES

BACKENDS = ["tape-python", "tape-numpy"]


def _blobs(n: int, nin: int, classes: int, seed: int) -> tuple[list[list[float]], list[int]]:
    """A small digits-like problem: noisy copies of one random 0..1 pattern per class, plus a zero row."""
    rng = random.Random(seed)
    centres = [[rng.random() for _ in range(nin)] for _ in range(classes)]
    xs, ys = [[0.0] * nin], [0]  # an all-zero input: every logit is the bias, 0 at init (ties in max)
    for i in range(n - 1):
        c = i % classes
        xs.append([min(1.0, max(0.0, v + rng.gauss(0.0, 0.2))) for v in centres[c]])
        ys.append(c)
    return xs, ys


def _train(
    engine: str, make: Callable[[], nn.MLP], xs: Any, ys: Any, **kwargs: Any
) -> tuple[list[float], nn.History]:
    """One fit from a fresh model; the parameters after it and the history."""
    model = make()
    optimizer = kwargs.pop("optimizer", "sgd")
    opt = (
        nn.SGD(model.parameters(), lr=0.1, momentum=0.5)
        if optimizer == "sgd"
        else nn.Adam(model.parameters(), lr=0.02)
    )
    args: dict[str, Any] = {"epochs": 1, "batch_size": 5, "progress": False, "seed": 1, **kwargs}
    history = nn.fit(model, xs, ys, optimizer=opt, engine=engine, **args)
    return [p.data for p in model.parameters()], history


def _moons01() -> tuple[list[list[float]], list[float]]:
    """micrograd's moons with 0/1 labels."""
    xs, ys = nn.moons(30, noise=0.1, seed=2)
    return xs, [1.0 if y > 0 else 0.0 for y in ys]


CASES: dict[str, Callable[[], tuple[Callable[[], nn.MLP], Any, Any, dict[str, Any]]]] = {
    "squared_error-sigmoid": lambda: (
        lambda: nn.MLP(2, [6, 1], activation="sigmoid", output_activation="sigmoid", seed=4),
        *_moons01(),
        {"loss": "squared_error"},
    ),
    "hinge-relu": lambda: (
        lambda: nn.MLP(2, [8, 8, 1], seed=5),
        *nn.moons(30, noise=0.1, seed=3),
        {"loss": "hinge"},
    ),
    "cross_entropy-blobs": lambda: (
        lambda: nn.MLP(16, [12, 4], seed=6),
        *_blobs(30, 16, 4, seed=0),
        {"loss": "cross_entropy", "optimizer": "adam"},
    ),
    # xor's (0, 0) row makes the output logit exactly 0 at init: the softplus kink must not show.
    "bce-xor-z0": lambda: (
        lambda: nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=7),
        *nn.xor(),
        {"loss": "binary_cross_entropy", "epochs": 3, "batch_size": 2},
    ),
    "mse-two-outputs-leaky": lambda: (
        lambda: nn.MLP(2, [5, 2], activation="leaky_relu", seed=8),
        nn.moons(20, seed=4)[0],
        [[x[0] * x[1], x[0] - x[1]] for x in nn.moons(20, seed=4)[0]],
        {"loss": "mse", "batch_size": 20},
    ),
    "custom-loss-and-accuracy": lambda: (
        lambda: nn.MLP(2, [4, 1], activation="tanh", seed=9),
        *nn.moons(20, seed=5),
        {"loss": lambda p, y: (p - y) ** 2 * 0.25, "accuracy": lambda p, y: (p.data > 0.0) == (y > 0.0)},
    ),
}


@pytest.mark.parametrize("engine", BACKENDS)
@pytest.mark.parametrize("case", list(CASES))
def test_tape_fit_matches_scalar_fit(case: str, engine: str) -> None:
    """Same seed, weights and batches: parameters, losses and accuracies agree to 1e-9."""
    make, xs, ys, kwargs = CASES[case]()
    ref, ref_history = _train("scalar", make, xs, ys, **dict(kwargs))
    got, history = _train(engine, make, xs, ys, **dict(kwargs))
    assert max(abs(a - b) for a, b in zip(ref, got)) < 1e-9
    assert history.epochs == ref_history.epochs
    for a, b in zip(ref_history.loss, history.loss):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12)
    assert history.accuracy == ref_history.accuracy


@pytest.mark.parametrize("engine", BACKENDS)
def test_tape_fit_matches_scalar_on_digits(engine: str) -> None:
    """The 8x8 digits (first 80) with MLP(64, [16, 10]): one epoch, same parameters to 1e-9."""
    pytest.importorskip("sklearn")
    xs, ys = nn.digits()
    xs, ys = xs[:80], ys[:80]
    make = lambda: nn.MLP(64, [16, 10], seed=0)  # noqa: E731
    ref, ref_history = _train("scalar", make, xs, ys, loss="cross_entropy", batch_size=16)
    got, history = _train(engine, make, xs, ys, loss="cross_entropy", batch_size=16)
    assert max(abs(a - b) for a, b in zip(ref, got)) < 1e-9
    assert history.loss[0] == pytest.approx(ref_history.loss[0], rel=1e-12)
    assert history.accuracy == ref_history.accuracy


def _softmax_xent(z: list[float], t: int) -> tuple[float, list[float]]:
    """Closed form: loss log sum e^z - z_t and d/dz_k = softmax_k - [k == t], shifted by max z."""
    top = max(z)
    total = sum(math.exp(v - top) for v in z)
    return math.log(total) - (z[t] - top), [math.exp(v - top) / total - (k == t) for k, v in enumerate(z)]


@pytest.mark.parametrize("engine", BACKENDS)
def test_cross_entropy_with_large_logits_per_sample(engine: str) -> None:
    """Logits near +-1000 whose largest entry changes from sample to sample: loss and grads exact.

    A shift compiled as a constant (the placeholder sample's max) would overflow exp or lose every
    digit here; the tape computes the max per sample. Reference: the closed form for a linear layer
    (z = W x + b, so dL/db_k = softmax_k - t_k and dL/dW_kj = (softmax_k - t_k) x_j).
    """
    model = nn.MLP(3, [3], seed=0)  # one linear layer: 3 logits
    weights = [[900.0, -50.0, 3.0], [-700.0, 1000.0, 0.5], [20.0, 30.0, -990.0]]
    for neuron, row in zip(model.layers[0].neurons, weights):
        for w, value in zip(neuron.w, row):
            w.data = value
    xs = [[1.0, 0.2, 0.0], [0.0, 1.0, 0.1], [0.1, 0.0, -1.0], [-1.0, -1.0, 1.0]]
    ys = [1, 0, 2, 1]
    loss, correct = ENGINES[engine](model, xs, ys, nn.cross_entropy, None)
    expected_loss = 0.0
    grad_b = [0.0] * 3
    grad_w = [[0.0] * 3 for _ in range(3)]
    for x, y in zip(xs, ys):
        z = [sum(w * v for w, v in zip(row, x)) for row in weights]
        value, dz = _softmax_xent(z, y)
        expected_loss += value / len(xs)
        for k in range(3):
            grad_b[k] += dz[k] / len(xs)
            for j in range(3):
                grad_w[k][j] += dz[k] * x[j] / len(xs)
    assert correct is None
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert expected_loss > 100.0  # the logits really are large and far apart
    for k, neuron in enumerate(model.layers[0].neurons):
        assert neuron.b is not None
        assert neuron.b.grad == pytest.approx(grad_b[k], abs=1e-12)
        for j, w in enumerate(neuron.w):
            assert w.grad == pytest.approx(grad_w[k][j], abs=1e-12)


@pytest.mark.parametrize("engine", BACKENDS)
def test_bce_at_large_logits_and_at_zero(engine: str) -> None:
    """binary_cross_entropy from the logit: exact softplus for z = -800, 0 and 800 (slope sigmoid(z) - t)."""
    model = nn.MLP(1, [1], output_activation="sigmoid", seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0
    xs, ys = [[-800.0], [0.0], [800.0], [0.0]], [1.0, 1.0, 0.0, 0.0]
    loss, _ = ENGINES[engine](model, xs, ys, nn.binary_cross_entropy, None)
    assert loss == pytest.approx((800.0 + math.log(2.0) + 800.0 + math.log(2.0)) / 4, rel=1e-14)
    bias = model.layers[0].neurons[0].b
    assert bias is not None
    # dL/dz = sigmoid(z) - t: (0 - 1) + (0.5 - 1) + (1 - 0) + (0.5 - 0), averaged
    assert bias.grad == pytest.approx((-1.0 - 0.5 + 1.0 + 0.5) / 4, abs=1e-15)


def test_compiled_tape_is_reused_and_follows_model_and_weights() -> None:
    """One compile per model; a second model or new weights are picked up, as the scalar engine would."""
    engine = TapeEngine("python")
    xs, ys = _blobs(10, 4, 3, seed=1)
    first, second = nn.MLP(4, [5, 3], seed=1), nn.MLP(4, [5, 3], seed=2)
    engine(first, xs, ys, nn.cross_entropy, None)
    tape = engine._compiled
    engine(first, xs[:3], ys[:3], nn.cross_entropy, None)
    assert engine._compiled is tape
    for model in (second, first):
        model.load_state_dict({k: v * 0.5 for k, v in model.state_dict().items()})
        model.zero_grad()
        loss, _ = engine(model, xs, ys, nn.cross_entropy, None)
        got = [p.grad for p in model.parameters()]
        model.zero_grad()
        ref_loss, _ = ENGINES["scalar"](model, xs, ys, nn.cross_entropy, None)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        assert max(abs(a - p.grad) for a, p in zip(got, model.parameters())) < 1e-12


def test_inputs_as_values_and_bare_numbers() -> None:
    """Samples given as Values or (for one input) as bare numbers train like the scalar engine."""
    make = lambda: nn.MLP(1, [3, 1], activation="tanh", seed=3)  # noqa: E731
    xs: list[Any] = [0.5, Value(-1.0), [0.25], [Value(2.0)]]
    ys = [1.0, -1.0, 1.0, -1.0]
    ref, _ = _train("scalar", make, xs, ys, batch_size=2)
    got, _ = _train("tape", make, xs, ys, batch_size=2)
    assert max(abs(a - b) for a, b in zip(ref, got)) < 1e-12


def test_a_value_anywhere_in_a_row_is_read_as_its_number() -> None:
    """Rows mixing numbers and Values (the Value last, or a Value subclass) train like the scalar engine."""

    class Tagged(Value):
        """A Value subclass, as a user might pass."""

    make = lambda: nn.MLP(3, [4, 1], activation="tanh", seed=5)  # noqa: E731
    xs: list[Any] = [[0.5, 0.25, Value(-1.0)], [1.0, -0.5, 2.0], [Tagged(0.75), 0.0, -0.25]]
    ys = [1.0, -1.0, 1.0]
    ref, _ = _train("scalar", make, xs, ys, batch_size=3)
    got, _ = _train("tape", make, xs, ys, batch_size=3)
    assert max(abs(a - b) for a, b in zip(ref, got)) < 1e-12


def test_default_backend_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "tape" falls back to the pure-Python back end when numpy cannot be imported."""
    monkeypatch.setitem(sys.modules, "numpy", None)
    assert default_backend() == "python"
    engine = TapeEngine()
    xs, ys = nn.and_gate(signed=True)
    engine(nn.MLP(2, [1], seed=0), xs, ys, nn.hinge, None)
    assert engine._compiled is not None and engine._compiled.tape.backend == "python"


def _fit(**kwargs: Any) -> nn.History:
    """fit on the AND gate with a one-neuron model, overridden by kwargs."""
    xs, ys = nn.and_gate()
    args: dict[str, Any] = {"xs": xs, "ys": ys, "epochs": 1, "progress": False, **kwargs}
    model = args.pop("model", nn.MLP(2, [1], seed=0))
    return nn.fit(model, **args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"engine": "tape-gpu"},
            ValueError,
            "unknown engine 'tape-gpu'; valid engines: scalar, tape, tape-python",
        ),
        (
            {"engine": "tape", "loss": "binary_cross_entropy"},
            ValueError,
            r"binary_cross_entropy only for a sigmoid output.*engine='scalar'",
        ),
        (
            {"engine": "tape", "loss": lambda p, y: p - float(y)},
            ValueError,
            r"cannot compile loss '<lambda>'.*TypeError.*engine='scalar'",
        ),
        (
            {"engine": "tape", "loss": lambda p, y: 1.0},
            ValueError,
            r"returned float, not a Value.*engine='scalar'",
        ),
        (
            {"engine": "tape", "loss": "cross_entropy", "model": nn.MLP(2, [2], seed=0), "ys": [0, 1, 1, 2]},
            ValueError,
            r"cross_entropy\(target_index\) needs an int in 0..1, got 2$",
        ),
        ({"engine": "tape", "loss": "hinge"}, ValueError, "hinge needs a target of -1 or"),
        (
            {"engine": "tape", "xs": [[0.0, 1.0, 2.0]] * 4},
            ValueError,
            r"batch 1 of 1: MLP needs a list of 2 numbers or Values, got list of 3$",
        ),
    ],
)
def test_tape_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    """Unknown engines, losses the tape cannot compile and bad targets are clear errors."""
    with pytest.raises(error, match=match):
        _fit(**kwargs)


def test_bad_backend_name() -> None:
    """TapeEngine(backend) names the valid back ends."""
    wanted = r"^TapeEngine\(backend\) needs python, numpy, torch or None, got str 'cuda'$"
    with pytest.raises(ValueError, match=wanted):
        TapeEngine("cuda")
