"""fit(engine="tape") on arrays (nn.tape_fit): the scalar engine's numbers, Values current when looked at."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd import Value

pytest.importorskip("numpy")

TOL = 1e-12


def _data() -> tuple[list[list[float]], list[float]]:
    """23 moons (an odd count: the last batch of 5 is short)."""
    return nn.moons(23, noise=0.1, seed=11)


def _close(a: list[float], b: list[float]) -> bool:
    """Equal lengths and every entry within TOL (relative to its size)."""
    return len(a) == len(b) and all(abs(x - y) <= TOL * max(1.0, abs(y)) for x, y in zip(a, b))


def _weights(model: nn.MLP) -> list[float]:
    """Every parameter's .data, in order."""
    return [p.data for p in model.parameters()]


def _grads(model: nn.MLP) -> list[float]:
    """Every parameter's .grad, in order."""
    return [p.grad for p in model.parameters()]


OPTIMIZERS: dict[str, Callable[[list[Value]], nn.Optimizer]] = {
    "sgd": lambda ps: nn.SGD(ps, lr=0.2),
    "momentum": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
    "sgd-weight-decay": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.03),
    "adam": lambda ps: nn.Adam(ps, lr=0.05),
    "adam-weight-decay": lambda ps: nn.Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.01),
}


def _states(opt: nn.Optimizer) -> list[float]:
    """The optimizer's state as one list (and Adam's step count)."""
    numbers = [x for values in opt.states().values() for x in values]
    return [*numbers, float(getattr(opt, "t", 0))]


def _fit(engine: str, make_opt: Callable[[list[Value]], nn.Optimizer], **kwargs: Any) -> tuple[nn.MLP, Any]:
    """A fresh MLP(2, [6, 5, 1]) trained 3 epochs in shuffled batches of 6; the model and the result."""
    xs, ys = _data()
    model = nn.MLP(2, [6, 5, 1], activation="tanh", seed=3)
    opt = make_opt(model.parameters())
    args: dict[str, Any] = {"loss": "hinge", "epochs": 3, "batch_size": 6, "seed": 4, "progress": False}
    args.update(kwargs)
    history = nn.fit(model, xs, ys, optimizer=opt, engine=engine, **args)
    return model, (history, opt)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_array_fit_gives_the_scalar_engines_weights_grads_and_state(
    name: str, array_runs: list[bool]
) -> None:
    """SGD, momentum, weight decay and Adam over 12 steps: weights, grads, state, losses to 1e-12."""
    ref, (ref_history, ref_opt) = _fit("scalar", OPTIMIZERS[name])
    got, (history, opt) = _fit("tape", OPTIMIZERS[name])
    assert array_runs == [True]
    assert _weights(got) != _weights(nn.MLP(2, [6, 5, 1], activation="tanh", seed=3))  # it trained
    assert _close(_weights(got), _weights(ref))
    assert _close(_grads(got), _grads(ref))  # the last batch's gradient, as the scalar engine leaves it
    assert _close(_states(opt), _states(ref_opt))
    assert all(a == pytest.approx(b, rel=TOL) for a, b in zip(history.loss, ref_history.loss))
    assert history.accuracy == ref_history.accuracy


@pytest.mark.filterwarnings("ignore::autograd.StaleGradWarning")  # the scalar engine's, on the subset
@pytest.mark.parametrize("order", ["reversed", "subset"])
def test_an_optimizer_over_the_parameters_in_another_order_or_some_of_them(
    order: str, array_runs: list[bool]
) -> None:
    """Reversed: arrays, same numbers. A subset: only those move, and the others' grads sum over the
    batches (zero_grad clears only the optimizer's), as on the scalar engine: fit goes through the Values."""

    def pick(ps: list[Value]) -> nn.Optimizer:
        return nn.SGD(ps[::-1] if order == "reversed" else ps[::-2], lr=0.1, momentum=0.9)

    ref, (_, ref_opt) = _fit("scalar", pick)
    got, (_, opt) = _fit("tape", pick)
    assert array_runs == [order == "reversed"]
    if order == "subset":
        fixed = nn.MLP(2, [6, 5, 1], activation="tanh", seed=3).parameters()
        assert [p.data for p in got.parameters()[-2::-2]] == [p.data for p in fixed[-2::-2]]  # untouched
    assert _close(_weights(got), _weights(ref)) and _close(_grads(got), _grads(ref))
    assert _close(_states(opt), _states(ref_opt))


@pytest.mark.parametrize(
    ("loss", "make", "ys"),
    [
        ("cross_entropy", lambda: nn.MLP(2, [5, 3], seed=1), lambda y: int(y > 0) + int(y > 0.5)),
        ("mse", lambda: nn.MLP(2, [5, 3], seed=1), lambda y: [1.0 * (y < 0), 1.0 * (y > 0), 0.0]),
        ("binary_cross_entropy", lambda: nn.MLP(2, [5, 1], output_activation="sigmoid", seed=1),
         lambda y: 1.0 * (y > 0)),
    ],
)
def test_accuracy_on_arrays_counts_what_the_scalar_rules_count(
    loss: str, make: Callable[[], nn.MLP], ys: Callable[[float], Any], array_runs: list[bool]
) -> None:
    """Class index, one-hot and 0/1 targets (the sigmoid read from its logit): the same accuracies."""
    xs, labels = _data()
    targets = [ys(x[0] * y) for x, y in zip(xs, labels)]
    runs = []
    for engine in ("scalar", "tape"):
        model = make()
        opt = nn.SGD(model.parameters(), lr=0.3)
        history = nn.fit(model, xs, targets, loss=loss, optimizer=opt, epochs=4, batch_size=5, progress=False,
                         engine=engine)
        runs.append((history, _weights(model)))
    assert array_runs == [True]
    (ref, ref_w), (got, got_w) = runs
    assert got.accuracy == ref.accuracy and all(a is not None for a in got.accuracy)
    assert _close(got_w, ref_w)


# ---------------------------------------------------------------- the overflow undo


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_an_update_that_overflows_is_undone_with_the_scalar_engines_error(momentum: float) -> None:
    """lr * grad past the largest float: the same ValueError, and fit leaves the weights before it."""
    xs, ys = [[1.0, 2.0], [2.0, -1.0]], [100.0, -100.0]
    errors, after = [], []
    for engine in ("scalar", "tape"):
        model = nn.MLP(2, [3, 1], seed=0)
        before = _weights(model)
        opt = nn.SGD(model.parameters(), lr=1e308, momentum=momentum)
        with pytest.raises(ValueError, match=r"fit: epoch 1 of 5, batch 1 of 1: SGD\.step: params") as info:
            nn.fit(model, xs, ys, optimizer=opt, epochs=5, progress=False, engine=engine)
        assert _weights(model) == before
        assert opt.velocity == [0.0] * len(before)
        errors.append(str(info.value))
        after.append(_grads(model))
    # The same parameter, cause and hint; the numbers in it agree to rounding (printed in full).
    assert errors[0].split("(data=")[0] == errors[1].split("(data=")[0]
    assert errors[0].split("; the step was undone")[1] == errors[1].split("; the step was undone")[1]
    assert _close(after[1], after[0])  # the Values hold the gradient of the batch that failed


def test_adams_moment_overflow_is_undone_on_the_tape() -> None:
    """A 1e160 gradient: v overflows; the step, the moments and t are as before it."""
    model = nn.MLP(1, [1], seed=0)
    before = _weights(model)
    opt = nn.Adam(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"second moment v .* overflows a float") as info:
        nn.fit(model, [[1.0]], [1e160], loss=lambda p, y: p * y, optimizer=opt, epochs=3, progress=False,
               engine="tape")
    assert "epoch 1 of 3" in str(info.value) and "grad=1e+160" in str(info.value)
    assert _weights(model) == before and opt.t == 0 and opt.v == [0.0, 0.0] and opt.m == [0.0, 0.0]


def test_a_weight_gone_to_nan_by_hand_is_named_not_trained_on() -> None:
    """A callback that writes NaN into a weight: the next step refuses it, as the scalar step does."""
    messages = []
    for engine in ("scalar", "tape"):
        model = nn.MLP(2, [3, 1], seed=0)

        def poison(history: nn.History, frame: nn.Frame, model: nn.MLP = model) -> None:
            model.parameters()[4].data = math.nan

        with pytest.raises(ValueError, match=r"batch 1 of 1") as info:
            nn.fit(model, *nn.xor(), epochs=2, progress=False, engine=engine, record=1, on_frame=poison)
        messages.append(str(info.value))
    assert "nan" in messages[1]


# ---------------------------------------------------------------- the sync point


def _watch(engine: str, rounds: int, tmp_path: Path) -> tuple[nn.MLP, list[Any], Any]:
    """fit with record=1 and an on_frame that reads .data, calls the model and saves it each step."""
    xs, ys = _data()
    model = nn.MLP(2, [6, 5, 1], activation="tanh", seed=3)
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen: list[Any] = []

    def look(history: nn.History, frame: nn.Frame) -> None:
        path = tmp_path / f"{engine}-{frame.step}.json"
        model.save(path)
        seen.append(
            (
                frame.step,
                _weights(model),
                _grads(model),
                model(xs[0]).data,
                _weights(nn.load(path)),
                [w for layer in frame.layers for row in layer.weights for w in row],
                opt.velocity[:],
            )
        )

    nn.fit(model, xs, ys, loss="hinge", optimizer=opt, epochs=rounds, batch_size=6, seed=4, progress=False,
           engine=engine, record=1, on_frame=look)
    return model, seen, opt


def test_a_callback_sees_the_current_weights_through_data_the_model_and_save(
    tmp_path: Path, array_runs: list[bool]
) -> None:
    """Each step: .data, .grad, model(x), a saved file, the frame, the momentum buffer = the scalar run's."""
    ref_model, ref, _ = _watch("scalar", 2, tmp_path)
    model, got, _ = _watch("tape", 2, tmp_path)
    assert array_runs == [True]
    assert [s[0] for s in got] == [s[0] for s in ref] == list(range(8))
    moved = {tuple(s[1]) for s in got}
    assert len(moved) == 8  # the weights really change between the looks
    for a, b in zip(got, ref):
        for mine, theirs in zip(a[1:], b[1:]):
            if isinstance(mine, list):
                assert _close(mine, theirs)
            else:
                assert mine == pytest.approx(theirs, rel=TOL)
        assert a[4] == a[1]  # the file saved in the callback holds exactly the weights .data shows
    assert _close(_weights(model), _weights(ref_model))  # and after fit


def test_an_interrupt_from_a_callback_leaves_the_current_weights(array_runs: list[bool]) -> None:
    """KeyboardInterrupt raised in on_frame at step 5: the Values and the optimizer hold step 5's numbers."""
    results = []
    for engine in ("scalar", "tape"):
        xs, ys = _data()
        model = nn.MLP(2, [6, 5, 1], activation="tanh", seed=3)
        opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def stop(history: nn.History, frame: nn.Frame) -> None:
            if frame.step == 5:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            nn.fit(model, xs, ys, loss="hinge", optimizer=opt, epochs=3, batch_size=6, seed=4, progress=False,
                   engine=engine, record=1, on_frame=stop)
        results.append((_weights(model), _grads(model), opt.velocity[:]))
    assert array_runs == [True]
    (ref_w, ref_g, ref_v), (w, g, v) = results
    assert _close(w, ref_w) and _close(g, ref_g) and _close(v, ref_v)
    assert w != _weights(nn.MLP(2, [6, 5, 1], activation="tanh", seed=3))  # five steps were taken


def test_a_callback_that_changes_weights_or_lr_is_obeyed(array_runs: list[bool]) -> None:
    """on_frame halves every weight, sets a new lr, clears momentum: training goes on from there."""
    results = []
    for engine in ("scalar", "tape"):
        xs, ys = _data()
        model = nn.MLP(2, [6, 5, 1], activation="tanh", seed=3)
        opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def meddle(history: nn.History, frame: nn.Frame, model: nn.MLP = model, opt: nn.SGD = opt) -> None:
            if frame.step == 3:
                model.load_state_dict({k: v / 2 for k, v in model.state_dict().items()})
                opt.lr = 0.02
                opt.velocity[:] = [0.0] * len(opt.velocity)

        nn.fit(model, xs, ys, loss="hinge", optimizer=opt, epochs=2, batch_size=6, seed=4, progress=False,
               engine=engine, record=1, on_frame=meddle)
        results.append((_weights(model), opt.velocity[:]))
    assert array_runs == [True]
    assert _close(results[1][0], results[0][0]) and _close(results[1][1], results[0][1])


def test_a_custom_optimizer_trains_through_the_values(array_runs: list[bool]) -> None:
    """An optimizer of the learner's own (a subclass overriding step) is called as before."""
    calls = []

    class Halving(nn.SGD):
        """SGD with half the step, counting its calls."""

        def step(self) -> None:
            calls.append(1)
            for p in self.params:
                p.data -= 0.5 * self.lr * p.grad

    model = nn.MLP(2, [4, 1], seed=0)
    ref = nn.MLP(2, [4, 1], seed=0)
    nn.fit(model, *nn.xor(), optimizer=Halving(model.parameters(), lr=0.2), epochs=5, progress=False,
           engine="tape")
    nn.fit(ref, *nn.xor(), optimizer=nn.SGD(ref.parameters(), lr=0.1), epochs=5, progress=False)
    assert array_runs == [False] and len(calls) == 5
    assert _close(_weights(model), _weights(ref))


def test_two_threads_fit_two_models_on_the_shared_tape_engine(array_runs: list[bool]) -> None:
    """Each fit keeps its own compiled tape: two threads at once train like one after the other."""
    xs, ys = _data()

    def train_one(seed: int, out: dict[int, list[float]]) -> None:
        model = nn.MLP(2, [8, 1], seed=seed)
        nn.fit(model, xs, ys, loss="hinge", epochs=30, batch_size=5, progress=False, engine="tape")
        out[seed] = _weights(model)

    alone: dict[int, list[float]] = {}
    for seed in (1, 2):
        train_one(seed, alone)
    together: dict[int, list[float]] = {}
    threads = [threading.Thread(target=train_one, args=(seed, together)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone


# ---------------------------------------------------------------- the tape's inputs as one array


def test_tape_run_takes_one_2d_array_and_a_params_array() -> None:
    """A (inputs x samples) float64 array and params=array: the numbers of lists of columns and .data."""
    import numpy as np

    from autograd import compile

    model = nn.MLP(3, [4, 1], activation="tanh", seed=2)
    xs = [Value(0.0, label=f"x{i}") for i in range(3)]
    out = model(xs)
    assert isinstance(out, Value)
    tape = compile(out * out, xs, model.parameters(), backend="numpy")
    columns = [[0.5, -1.0, 2.0], [0.25, 0.0, -0.5], [1.0, 1.5, -2.0]]
    expected = tape.run(columns).tolist()
    block = np.asarray(columns, dtype=np.float64)
    assert tape.run(block).tolist() == expected
    assert tape.run(block.astype(np.int64) * 0 + 1).tolist() == tape.run([[1, 1, 1]] * 3).tolist()
    w = np.array([p.data for p in model.parameters()])
    assert tape.run(block, params=w).tolist() == expected
    assert tape.run(block, params=w * 0.0).tolist() != expected  # the array is read, not .data
    block[1, 2] = math.inf
    with pytest.raises(ValueError, match=r"tape\.run\(batch column 1\)\[2\]"):
        tape.run(block)


def test_a_callback_that_changes_the_models_structure_is_a_clear_error() -> None:
    """A neuron's activation swapped in on_frame: the tape no longer describes the model, and fit says so."""
    model = nn.MLP(2, [3, 1], seed=0)

    def swap(history: nn.History, frame: nn.Frame) -> None:
        model.layers[0].neurons[0].activation = "tanh"

    changed = r"structure or parameter Values changed during fit.*engine='scalar'"
    with pytest.raises(ValueError, match=changed):
        nn.fit(model, *nn.xor(), epochs=3, progress=False, engine="tape", record=1, on_frame=swap)
    assert all(math.isfinite(w) for w in _weights(model))


@pytest.mark.parametrize("numpy_errors", ["warn", "raise"])
def test_finite_losses_that_sum_past_a_float_are_named_under_any_errstate(
    numpy_errors: str, array_runs: list[bool]
) -> None:
    """Three finite sample losses whose sum overflows: fit's "the batch loss is inf", not numpy's warning
    or FloatingPointError, whatever np.errstate the learner set."""
    import warnings

    import numpy as np

    t = math.sqrt(1.79e308)  # 0.5 * (p - t)^2 is about 0.9e308: finite alone, inf when three are added
    model = nn.MLP(2, [1], seed=0)
    with warnings.catch_warnings(), np.errstate(all=numpy_errors):  # type: ignore[arg-type]
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"batch 1 of 1: the batch loss is inf"):
            nn.fit(model, [[0.0, 0.0]] * 3, [t] * 3, loss="squared_error", epochs=1, batch_size=3,
                   progress=False, engine="tape", accuracy=None)
    assert array_runs == [True]


def test_a_learners_activation_defined_again_is_recompiled_by_the_tape() -> None:
    """Re-running the cell that defines a learner's op (same name, new rule) between two fits: the
    tape compiles the new rule, as the scalar engine applies it (the compiled tape keyed on the name)."""
    from autograd import op
    from nn import activations

    saved = dict(activations.CUSTOM)

    @op(name="cell_act", rule="1")
    def first(x: float) -> tuple[float, float]:
        return x, 1.0

    @op(name="cell_act", rule="3")
    def again(x: float) -> tuple[float, float]:
        return 3 * x, 3.0

    def train(engine: str) -> list[float]:
        activations.register(first)
        model = nn.MLP(2, [3, 1], activation=first, seed=1)
        xs, ys = [[0.1, 0.2], [0.3, -0.1]], [1.0, -1.0]
        nn.fit(model, xs, ys, epochs=1, progress=False, engine=engine)
        activations.register(again)  # the learner re-runs the cell with another rule
        nn.fit(model, xs, ys, epochs=1, progress=False, engine=engine)
        return _weights(model)

    try:
        assert _close(train("tape"), train("scalar"))
    finally:
        activations.CUSTOM.clear()
        activations.CUSTOM.update(saved)
