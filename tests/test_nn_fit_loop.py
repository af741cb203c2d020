"""fit's loop around the tape: errors name the batch, callbacks are trained on, the rules agree.

The per-step work of fit(engine="tape") outside the tape's kernels (nn.train's loop, nn.tape_fit,
nn.array_optim, Tape.gradient(mean=True), Tape.value_rows) is kept small; these tests pin what it
must still do: the same numbers and messages as the scalar engine.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import nn
from autograd import Value, compile
from nn import train

np = pytest.importorskip("numpy")

from test_nn_tape_fit import _close, _grads, _weights  # noqa: E402 (after the skip without numpy)

# ---------------------------------------------------------------- accuracy: one rule, two forms


def _outputs_and_targets(rule: Any, rng: Any) -> tuple[Any, list[Any]]:
    """A (3 outputs x 40 samples) array with ties, zeros and 0.5s, and targets of the rule's kind."""
    out = rng.choice([-1.0, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0], size=(3, 40))
    out[:, 0] = 0.5  # a three-way tie
    out[1, 1], out[2, 1] = 1.0, 1.0  # a tie of the last two
    classes = rng.integers(0, 3, size=40).tolist()
    targets: dict[Any, list[Any]] = {
        train._class_index_accuracy: classes,
        train._one_hot_accuracy: [[1.0 * (k == c) for k in range(3)] for c in classes],
        train._sign_accuracy: rng.choice([-1.0, 1.0], size=40).tolist(),
        train._threshold_accuracy: rng.choice([0, 1, 0.0, 1.0], size=40).tolist(),
    }
    return out, targets[rule]


@pytest.mark.parametrize("rule", list(train.BATCH_RULES), ids=lambda r: r.__name__)
def test_every_batch_rule_counts_what_its_rule_on_values_counts(rule: Any) -> None:
    """Each of fit's accuracy rules on an array of outputs gives, sample by sample, its verdict on Values."""
    predict, label = train.BATCH_RULES[rule]
    out, targets = _outputs_and_targets(rule, np.random.default_rng(7))
    on_array = predict(out) == np.asarray([label(y) for y in targets])
    one_output = rule in (train._sign_accuracy, train._threshold_accuracy)
    on_values = []
    for column, y in zip(out.T.tolist(), targets):
        pred: Any = Value(column[0]) if one_output else [Value(v) for v in column]
        on_values.append(rule(pred, y))
    assert on_array.tolist() == on_values
    assert 0 < sum(on_values) < len(on_values)  # both verdicts occur: the comparison can fail


def test_auto_picks_only_rules_that_have_a_batch_form() -> None:
    """Every rule "auto" can pick is in BATCH_RULES, so fit(engine="tape") counts it on arrays."""
    one, many = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 3])
    picked = {
        train.auto_accuracy(one, [-1.0, 1.0]),
        train.auto_accuracy(one, [0.0, 1.0]),
        train.auto_accuracy(many, [0, 2]),
        train.auto_accuracy(many, [[0, 1, 0], [1, 0, 0]]),
    }
    assert picked == set(train.BATCH_RULES)


# ---------------------------------------------------------------- errors name the batch


@pytest.mark.parametrize("engine", ["scalar", "tape"])
def test_a_batch_that_overflows_later_is_named_by_epoch_and_batch(
    engine: str, array_runs: list[bool]
) -> None:
    """A forward pass that overflows at epoch 3, batch 2 of 3: the message names both, as before."""
    model = nn.MLP(1, [1], seed=0)
    xs = [[1.0], [2.0], [3.0]]
    ys = [1.0, 2.0, 3.0]
    calls = {"n": 0}

    def blow_up(history: nn.History, frame: nn.Frame) -> None:
        calls["n"] += 1
        if calls["n"] == 7:  # frames come at steps 0..: the 7th is before epoch 3's second batch
            model.parameters()[0].data = 1e300

    def quartic(p: Any, y: Any) -> Any:
        d = p - y
        return (d * d) * (d * d)

    with pytest.raises(ValueError) as info:
        nn.fit(model, xs, ys, loss=quartic, optimizer=nn.SGD(model.parameters(), lr=1e-4), epochs=5,
               batch_size=1, progress=False, engine=engine, record=1, on_frame=blow_up, seed=0)
    assert str(info.value).startswith("fit: epoch 3 of 5, batch 2 of 3: ")
    assert array_runs == ([True] if engine == "tape" else [])


def test_a_custom_optimizer_that_makes_a_weight_nan_is_named_with_the_batch() -> None:
    """An optimizer without nn.optim's check (the Values path): the step's result is checked and named."""

    class Poison(nn.SGD):
        def step(self) -> None:
            super().step()
            self.params[2].data = math.nan

    model = nn.MLP(2, [2, 1], seed=0)
    xs, ys = nn.xor()
    with pytest.raises(ValueError, match=r"^fit: epoch 1 of 3, batch 1 of 1: the optimizer step made "
                       r"layers\.0\.neurons\.0\.b .* nan .*try a smaller learning rate$"):
        nn.fit(model, xs, ys, optimizer=Poison(model.parameters(), lr=0.1), epochs=3, progress=False,
               engine="tape")


def test_a_first_batch_that_fails_leaves_weights_and_grads_as_they_were(array_runs: list[bool]) -> None:
    """No batch ran on arrays: the Values keep their own .data and .grad (nothing stale is written)."""
    model = nn.MLP(1, [2, 1], seed=0)
    for k, p in enumerate(model.parameters()):
        p.grad = 0.25 * k
    before, grads = _weights(model), _grads(model)
    with pytest.raises(ValueError, match=r"^fit: epoch 1 of 2, batch 1 of 1: "):
        nn.fit(model, [[2.0], [1e300]], [1.0, 2.0], loss=lambda p, y: (p * p) * (p * p) * (p * p) * y,
               epochs=2, progress=False, engine="tape")
    assert array_runs == [True]
    assert _weights(model) == before and _grads(model) == grads


# ---------------------------------------------------------------- what on_frame changes is trained on


def _fit_with(engine: str, on_frame: Any, momentum: float = 0.0) -> tuple[nn.MLP, nn.SGD, nn.History]:
    """MLP(2, [4, 1]) on 12 moons, batches of 4, 3 epochs, a frame every step."""
    xs, ys = nn.moons(12, noise=0.1, seed=5)
    model = nn.MLP(2, [4, 1], seed=2)
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=momentum)
    history = nn.fit(model, xs, ys, loss="hinge", optimizer=opt, epochs=3, batch_size=4, seed=1,
                     progress=False, engine=engine, record=1, on_frame=lambda h, f: on_frame(model, opt, f))
    return model, opt, history


def test_grads_zeroed_in_on_frame_are_what_the_next_step_uses(array_runs: list[bool]) -> None:
    """A callback that zeroes every .grad at step 4: the update after it moves nothing, on both engines."""
    seen: dict[str, list[list[float]]] = {"scalar": [], "tape": []}
    for engine in seen:

        def zero(model: nn.MLP, opt: nn.SGD, frame: nn.Frame, engine: str = engine) -> None:
            seen[engine].append(_weights(model))
            if frame.step == 4:
                model.zero_grad()

        _fit_with(engine, zero)
    assert array_runs == [True]
    assert seen["tape"][4] == seen["tape"][5]  # the zeroed step moved nothing
    assert seen["tape"][5] != seen["tape"][6]  # the next batch's gradient moves them again
    assert all(_close(a, b) for a, b in zip(seen["tape"], seen["scalar"]))


def test_momentum_turned_on_in_on_frame_is_trained_with(array_runs: list[bool]) -> None:
    """Plain SGD keeps no state on arrays; momentum switched on mid-fit uses the buffer, as on Values."""
    results = {}
    for engine in ("scalar", "tape"):

        def switch(model: nn.MLP, opt: nn.SGD, frame: nn.Frame) -> None:
            if frame.step == 3:
                opt.momentum = 0.9

        model, opt, history = _fit_with(engine, switch)
        results[engine] = (_weights(model), opt.velocity[:], history.loss)
    assert array_runs == [True]
    (w0, v0, l0), (w1, v1, l1) = results["scalar"], results["tape"]
    assert any(v != 0.0 for v in v1)  # the buffer was used and published
    assert _close(w1, w0) and _close(v1, v0) and _close(l1, l0)


# ---------------------------------------------------------------- the tape's methods fit uses


def _tape(backend: str) -> tuple[Any, list[Value]]:
    """tanh(x * a)^2 + a: a tape over one input with the parameter a, and its nodes h, a and the root."""
    x, a = Value(1.0, label="x"), Value(2.0, label="a")
    h = (x * a).tanh()
    root = h * h + a
    return compile(root, [x], [a], backend=backend), [h, a, root]


def test_gradient_mean_seeds_each_sample_with_one_over_b(backend: str) -> None:
    """mean=True is weights of 1/B (the gradient of the batch's mean), in backward and gradient alike
    (`backend`: each back end, from conftest.py)."""
    tape, _ = _tape(backend)
    for batch in ([[0.5, 1.0, -2.0]], [[0.25]], [[0.1, 0.2, 0.3, 0.4]]):
        size = len(batch[0])
        tape.run(batch)
        mean = [float(g) for g in tape.gradient(mean=True)]
        assert mean == [float(g) for g in tape.gradient([1.0 / size] * size)]
        a = tape.params[0]
        a.grad = 0.0
        tape.backward(mean=True)
        assert a.grad == mean[0]
    with pytest.raises(ValueError, match=r"tape\.gradient\(weights, mean=True\): give the weights or"):
        tape.gradient([1.0], mean=True)


def test_value_rows_are_the_values_of_the_last_run_a_row_per_node(backend: str) -> None:
    """value_rows(nodes) is values(nodes) transposed, a parameter's row its number for every sample."""
    tape, nodes = _tape(backend)
    with pytest.raises(RuntimeError, match=r"value_rows\(nodes\) needs tape\.run"):
        tape.value_rows(nodes)
    tape.run([[0.5, 1.0, -2.0]])
    rows = tape.value_rows(nodes)
    assert rows.shape == (3, 3) and rows.dtype == np.float64
    assert rows.T.tolist() == tape.values(nodes)
    assert rows[1].tolist() == [2.0, 2.0, 2.0]
    assert rows[0].tolist() == [math.tanh(0.5 * 2.0), math.tanh(2.0), math.tanh(-4.0)]
    first = rows.copy()
    tape.run([[3.0, 3.0, 3.0]])
    assert tape.value_rows(nodes).tolist() != first.tolist() and rows.tolist() == first.tolist()  # a copy
    assert tape.value_rows([]).shape == (0, 3)


def _sgd_runs(toggles: dict[int, float], steps: int = 5) -> tuple[list[Any], list[Any]]:
    """(weights, momentum buffer) after `steps` SGD steps with grad 1, momentum set to toggles[k]
    before step k: on Values with `SGD.step`, and on arrays with nn.array_optim, no sync between."""
    from nn.array_optim import array_optimizer

    results = []
    for on_arrays in (False, True):
        params = [Value(1.0), Value(-2.0)]
        opt = nn.SGD(params, lr=0.1, momentum=0.9)
        stepper = array_optimizer(opt, None, np) if on_arrays else None
        w, g = np.array([1.0, -2.0]), np.ones(2)
        for k in range(steps):
            opt.momentum = toggles.get(k, opt.momentum)
            if stepper is not None:
                w = stepper.step(w, g)
            else:
                for p in params:
                    p.grad = 1.0
                opt.step()
        if stepper is not None:
            stepper.publish()
            results.append((w.tolist(), list(opt.velocity)))
        else:
            results.append(([p.data for p in params], list(opt.velocity)))
    return results[0], results[1]


def test_momentum_switched_off_and_on_between_syncs_keeps_its_buffer_as_sgd_does() -> None:
    on_values, on_arrays = _sgd_runs({2: 0.0, 3: 0.9})
    assert on_arrays == on_values  # bit for bit: the buffer survives the step without momentum
    assert on_values[1] == pytest.approx([3.439, 3.439])


def test_a_nan_in_an_unused_momentum_buffer_does_not_stop_plain_sgd() -> None:
    from nn.array_optim import array_optimizer

    params = [Value(1.0), Value(-2.0)]
    opt = nn.SGD(params, lr=0.1, momentum=0.0)
    opt.velocity[1] = math.nan  # SGD.step checks only the states it uses: none without momentum
    stepper = array_optimizer(opt, None, np)
    assert stepper is not None
    assert stepper.step(np.array([1.0, -2.0]), np.ones(2)).tolist() == [0.9, -2.1]
