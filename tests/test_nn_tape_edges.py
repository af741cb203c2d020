"""fit(engine="tape") at its edges: bad targets get the scalar engine's words; a step is all or nothing."""

from __future__ import annotations

import copy
import importlib.util
import math
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

import pytest
from interrupts import interrupt_at_line

import nn
from autograd import Value

ENGINES = ["tape", "tape-python"] + (["tape-torch"] if importlib.util.find_spec("torch") else [])

# (loss, hidden-and-output sizes, output activation): every named loss on the outputs it is used with.
MODELS: dict[str, tuple[str, list[int], str]] = {
    "hinge": ("hinge", [3, 1], "linear"),
    "mse-1": ("mse", [3, 1], "linear"),
    "mse-2": ("mse", [3, 2], "linear"),
    "squared_error-1": ("squared_error", [3, 1], "linear"),
    "squared_error-2": ("squared_error", [3, 2], "linear"),
    "binary_cross_entropy": ("binary_cross_entropy", [3, 1], "sigmoid"),
    "binary_cross_entropy-linear": ("binary_cross_entropy", [3, 1], "linear"),
    "cross_entropy": ("cross_entropy", [3, 3], "linear"),
}

# Targets some named loss refuses: the wrong type, not finite, out of range, the wrong length.
BAD_TARGETS: list[Any] = [
    True, False, math.nan, math.inf, -math.inf, "1", None, 1 + 2j, [True], [math.nan],
    [1.0, 2.0, 3.0], [1.0, "x"], 2.0, -1.0, 3, 1.5, [0.5], (1.0,), Value(1.0), [Value(0.5)],
]

XS = [[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]]


def _model(sizes: list[int], activation: str) -> nn.MLP:
    """A fresh small model (each fit starts from the same weights)."""
    return nn.MLP(2, sizes, seed=1, output_activation=activation)


def _outcome(engine: str, case: str, ys: list[Any], batch_size: int | None = None) -> tuple[str, str]:
    """`_outcome_of` on a fresh model of `case` (its loss, sizes and output activation)."""
    loss, sizes, activation = MODELS[case]
    return _outcome_of(_model(sizes, activation), engine, ys, loss, batch_size)


def _outcome_of(
    model: nn.MLP, engine: str, ys: list[Any], loss: str = "mse", batch_size: int | None = None
) -> tuple[str, str]:
    """("ok", "") when one epoch of fit on XS trains `model`, else the error's type name and message."""
    try:
        nn.fit(model, XS, ys, loss=loss, epochs=1, batch_size=batch_size, progress=False, engine=engine)
    except (TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return "ok", ""


def _agrees(scalar: tuple[str, str], tape: tuple[str, str]) -> bool:
    """The tape refuses what the scalar engine refuses in its words; it suggests the scalar engine only
    for what that engine accepts."""
    if scalar[0] != "ok":
        return tape == scalar
    return tape[0] == "ok" or "engine='scalar'" in tape[1]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", MODELS)
@pytest.mark.parametrize("where", [0, 2])
def test_a_bad_target_gets_the_scalar_engines_error(engine: str, case: str, where: int) -> None:
    """Each bad target, first or last of the batch (and in a later batch): the same type and words."""
    for bad in BAD_TARGETS:
        good = {"cross_entropy": 1, "binary_cross_entropy": 1.0, "mse-2": [0.5, -0.5],
                "squared_error-2": [0.5, -0.5]}.get(case.split("-linear")[0], 1.0)
        ys = [good] * len(XS)
        for batch_size in (None, 2):
            ys[where] = copy.deepcopy(bad)  # a Value target: fresh, no grad left by the last fit
            scalar = _outcome("scalar", case, ys, batch_size)
            tape = _outcome(engine, case, ys, batch_size)
            assert _agrees(scalar, tape), (bad, batch_size, scalar, tape)


def test_every_named_loss_is_checked() -> None:
    """A loss added to fit's names gets its cases above."""
    from nn.train import LOSSES

    assert {loss for loss, _, _ in MODELS.values()} == set(LOSSES)


def test_the_repro_bool_hinge_target() -> None:
    """The issue's repro: a bool label gets the scalar engine's TypeError, not a suggestion to use it."""
    for engine in ENGINES:
        with pytest.raises(TypeError, match=r"^hinge\(target\[0\]\) needs a finite number, got bool True$"):
            nn.fit(nn.MLP(2, [3, 1], seed=1), XS[:2], [True, False], loss="hinge", epochs=1, progress=False,
                   engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_targets_shape_may_change_between_fits_and_within_one(engine: str) -> None:
    """mse on one output takes 0.5 and [0.5] alike (the scalar engine does): a fit with one shape does not
    leave the tape refusing the other, and one fit may mix them; the gradients are the scalar engine's."""
    shapes: list[list[Any]] = [[[0.5], [1.0], [-1.0]], [0.5, 1.0, -1.0], [[0.5], 1.0, (-1.0,)]]
    for ys in shapes:
        grads = {}
        for name in ("scalar", engine):
            model = _model([3, 1], "linear")
            nn.fit(model, XS, ys, loss="mse", epochs=1, progress=False, engine=name)
            grads[name] = [p.grad for p in model.parameters()]  # the one batch's, before its step
        assert grads[engine] == pytest.approx(grads["scalar"], rel=1e-12, abs=1e-15)


def test_a_custom_loss_keeps_its_target_shape_per_compilation() -> None:
    """A custom loss is compiled for the first target's shape: a later fit with the other shape compiles
    again instead of refusing it."""

    def loss(pred: Any, target: Any) -> Any:
        """Squared error written by a learner, for a number or a one-entry list."""
        t = target[0] if isinstance(target, list) else target
        return (pred - t) ** 2

    model = _model([3, 1], "linear")
    for ys in ([[0.5], [1.0], [-1.0]], [0.5, 1.0, -1.0]):
        nn.fit(model, XS, ys, loss=loss, epochs=1, progress=False, engine="tape")


CUSTOM_TARGETS: list[tuple[Callable[[Any, Any], Any], list[Any]]] = [
    (lambda p, y: (p - len(y)) ** 2, ["ab", "c", "de"]),  # the scalar engine takes any target the loss reads
]


@pytest.mark.parametrize("loss, ys", CUSTOM_TARGETS)
def test_the_scalar_engine_is_suggested_only_where_it_accepts(loss: Any, ys: list[Any]) -> None:
    """A custom loss on str targets: the scalar engine trains it, so the tape's refusal suggests it."""
    model = _model([3, 1], "linear")
    nn.fit(model, XS, ys, loss=loss, epochs=1, progress=False, engine="scalar")
    with pytest.raises(TypeError, match=r"engine='scalar'"):
        nn.fit(model, XS, ys, loss=loss, epochs=1, progress=False, engine="tape")


# ------------------------------------------------------------ an interrupt and the optimizer's commit

TRACED = {"array_optim.py", "optim.py", "tape_fit.py"}
"""The files whose every line a KeyboardInterrupt is raised before, in turn (the array steps' code)."""


def _in_traced(code: CodeType) -> bool:
    """Code of one of the TRACED files."""
    return code.co_filename.rsplit("/", 1)[-1] in TRACED


OPTIMIZERS: dict[str, Callable[[list[Value]], nn.Optimizer]] = {
    "momentum": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: nn.Adam(ps, lr=0.05, weight_decay=0.01),
    "adam-reordered": lambda ps: nn.Adam(ps[::-1], lr=0.05),  # steps the weights array's entries by index
}


def _published(model: nn.MLP, opt: nn.Optimizer) -> tuple[list[float], list[float], int]:
    """What the learner sees: every weight, the optimizer's state lists and Adam's step count."""
    state = [x for values in opt.states().values() for x in values]
    return [p.data for p in model.parameters()], state, getattr(opt, "t", 0)


def _training(name: str, epochs: int, interrupt_at: int | None = None) -> tuple[Any, bool]:
    """(what is published, whether an interrupt landed) after fit on a fresh model, a full batch an epoch."""
    model = _model([4, 1], "tanh")
    opt = OPTIMIZERS[name](model.parameters())
    landed = False
    try:
        seen = interrupt_at_line(interrupt_at, _in_traced) if interrupt_at is not None else [0]
        nn.fit(model, XS, [0.5, -0.5, 1.0], optimizer=opt, epochs=epochs, progress=False, engine="tape")
    except KeyboardInterrupt:
        landed = True
    finally:
        sys.settrace(None)
    assert interrupt_at is None or landed or seen[0] < interrupt_at
    return _published(model, opt), landed


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_interrupt_anywhere_in_a_step_publishes_all_or_none(name: str, array_runs: list[bool]) -> None:
    """A KeyboardInterrupt before any line of the array steps' code (the batch, the update rule, the
    commit): the weights, the state and t fit publishes are those after 0, 1 or 2 whole steps."""
    whole = [_training(name, epochs)[0] for epochs in (1, 2)]
    model = _model([4, 1], "tanh")
    start = _published(model, OPTIMIZERS[name](model.parameters()))
    snapshots = [start, *whole]
    assert snapshots[0] != snapshots[1] != snapshots[2]
    k, landed = 0, True
    while landed:
        k += 1
        published, landed = _training(name, 2, interrupt_at=k)
        assert published in snapshots, f"interrupted before line event {k}: a step split"
    assert k > 40 and all(array_runs)  # every line of the steps was visited, on arrays


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_weight_set_to_inf_by_hand_gets_the_scalar_engines_error(engine: str, bad: float) -> None:
    """Every weight of nn's layers is in a weighted sum, whose value shows it: fit on a tape says what
    the scalar engine says (the tape's own check of the parameters is not needed there)."""
    outcomes = []
    for name in ("scalar", engine):
        model = _model([3, 1], "sigmoid")
        model.layers[0].neurons[1].w[0].data = bad
        outcomes.append(_outcome_of(model, name, [0.5, -0.5, 1.0]))
    assert outcomes[0][0] == "ValueError" and outcomes[1] == outcomes[0]
    assert outcomes[0][1].endswith(f"not a finite number (a Value's .data set to {bad!r} by hand?)")



class _StopError(Exception):
    """A callback's own way to end fit early."""


def _stopped_by_a_callback(engine: str, optimizer: Callable[[list[Value]], nn.Optimizer]) -> list[Any]:
    """What a callback that puts its own weights and optimizer state in place, then raises, leaves."""
    model = nn.MLP(2, [3, 1], seed=3)
    opt = optimizer(model.parameters())

    def on_frame(history: Any, frame: Any) -> None:
        if frame.step == 3:
            for p in model.parameters():
                p.data = 0.123  # the best weights, put back
            for values in opt.states().values():
                values[:] = [0.0] * len(values)
            if isinstance(opt, nn.Adam):
                opt.t = 0
            raise _StopError

    with pytest.raises(_StopError):
        nn.fit(model, XS, [0.5, -0.5, 1.0], optimizer=opt, epochs=10, progress=False, engine=engine,
               record=1, on_frame=on_frame, accuracy=None)
    return [[p.data for p in model.parameters()], opt.states(), getattr(opt, "t", None)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "optimizer",
    [lambda ps: nn.Adam(ps, lr=0.05), lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9)],
    ids=["adam", "sgd-momentum"],
)
def test_what_a_callback_set_before_it_raised_is_kept(engine: str, optimizer: Any) -> None:
    kept = _stopped_by_a_callback(engine, optimizer)
    assert kept == _stopped_by_a_callback("scalar", optimizer)
    assert set(kept[0]) == {0.123}


class _AdamListingVFirst(nn.Adam):
    """A learner's Adam whose `states()` lists v before m."""

    def states(self) -> dict[str, list[float]]:
        """v, then m."""
        return {"v": self.v, "m": self.m}


@pytest.mark.parametrize("engine", ENGINES)
def test_an_adam_subclass_that_lists_its_states_otherwise_keeps_m_and_v_apart(engine: str) -> None:
    runs = []
    for name in ("scalar", engine):
        model = nn.MLP(2, [3, 1], seed=3)
        opt = _AdamListingVFirst(model.parameters(), lr=0.05)
        nn.fit(model, XS, [0.5, -0.5, 1.0], optimizer=opt, epochs=3, progress=False, engine=name)
        runs.append((opt.m, opt.v, opt.t))
    (m, v, t), (tape_m, tape_v, tape_t) = runs
    assert min(v) >= 0.0 and t == tape_t == 3
    assert tape_m == pytest.approx(m, rel=1e-12, abs=1e-15)
    assert tape_v == pytest.approx(v, rel=1e-12, abs=1e-15)
