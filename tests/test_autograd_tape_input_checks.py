"""The NumPy tape names an inf or NaN input column, whether it checks the inputs before the steps
(a learner's op or a domain check in the tape) or after them (built-in rows only)."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import pytest

import autograd
from autograd import Value, compile, weighted_sum

np = pytest.importorskip("numpy")


def _builtin(x: Value, y: Value, w: Value) -> Value:
    """Built-in rows without a domain: the inputs are checked after the steps."""
    return (w * x + y).relu() * 2.0


def _domain(x: Value, y: Value, w: Value) -> Value:
    """log has a domain check: the inputs are checked first."""
    return (w * x * x + 3.0).log() + y


@autograd.op(rule="1")
def _ident(a: float) -> tuple[float, float]:
    """A learner's op: the inputs are checked first."""
    return a, 1.0


def _learner(x: Value, y: Value, w: Value) -> Value:
    return _ident(w * x) + y


@pytest.mark.parametrize("build", [_builtin, _domain, _learner], ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("column", [0, 1])
def test_an_inf_or_nan_input_is_named_by_column_and_sample(
    build: Callable[[Value, Value, Value], Value], bad: float, column: int
) -> None:
    x, y, w = Value(1.0, "x"), Value(2.0, "y"), Value(0.5, "w")
    tape = compile(build(x, y, w), [x, y], [w], backend="numpy")
    batch = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    batch[column, 2] = bad
    message = rf"^tape\.run\(batch column {column}\)\[2\] needs a finite number, got {bad!r}$"
    with pytest.raises(ValueError, match=message):
        tape.run(batch)
    assert tape.run(np.ones((2, 3))).tolist() == compile(build(x, y, w), [x, y], [w]).run([[1.0] * 3] * 2)


def test_built_in_rows_check_the_inputs_after_the_steps_and_the_others_before() -> None:
    """Which tapes check first: the learner's op may loop on inf, a domain check would blame its step."""
    x, y, w = Value(1.0, "x"), Value(2.0, "y"), Value(0.5, "w")
    first = {b.__name__: compile(b(x, y, w), [x, y], [w], backend="numpy")._engine.checks_inputs_first
             for b in (_builtin, _domain, _learner)}
    assert first == {"_builtin": False, "_domain": True, "_learner": True}


def test_a_finite_batch_whose_sum_overflows_is_not_an_error() -> None:
    """The checks sum the numbers: a sum past a float sends them to the exact scan, which passes."""
    x, y, w = Value(1.0, "x"), Value(2.0, "y"), Value(1.0, "w")
    tape = compile((w * x + y).relu(), [x, y], [w], backend="numpy")
    big = 1e308
    assert tape.run(np.array([[big, big], [-big, -big]])).tolist() == [0.0, 0.0]


# ------------------------------------------------------------ a parameter set to inf or NaN by hand

TAPE_BACKENDS = ["python", "numpy"] + (["torch"] if importlib.util.find_spec("torch") else [])

# Rows that can turn a parameter's inf or NaN into a finite value and slope (tanh(inf) = 1, its
# slope 0): the check after the forward pass, which sums values and slopes, cannot see it there.
HIDING: dict[str, Callable[[Value], Value]] = {
    "tanh": lambda w: w.tanh(),
    "sigmoid": lambda w: w.sigmoid(),
    "step": lambda w: w.step(),
    "sign": lambda w: w.sign(),
    "relu": lambda w: w.relu(),
    "exp": lambda w: w.exp(),
    "divide": lambda w: 1.0 / w,
}


@pytest.mark.parametrize("backend", TAPE_BACKENDS)
@pytest.mark.parametrize("row", HIDING)
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_parameter_set_to_inf_by_hand_is_named_where_a_row_would_hide_it(
    backend: str, row: str, bad: float
) -> None:
    """w feeds only `row`: an inf or NaN in its .data, or in the numbers given to run, is a ValueError
    naming it, as the scalar engine raises for it (never a silent finite number)."""
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    tape = compile(HIDING[row](w) * x, [x], [w], backend=backend)
    batch = [[0.1, 0.2]]
    assert len(list(tape.run(batch))) == 2  # finite: it runs
    named = rf"params\[0\] \(label 'w'\) is {bad!r}, which is not a finite number"
    for given in ([bad], (bad,), np.array([bad])):
        with pytest.raises(ValueError, match=rf"^tape\.run\(batch, params\): {named}$"):
            tape.run(batch, given)
    w.data = bad
    by_hand = rf" \(a Value's \.data set to {bad!r} by hand\?\)$"
    with pytest.raises(ValueError, match=rf"^tape\.run: {named}{by_hand}"):
        tape.run(batch)
    with pytest.raises(ValueError, match=rf"not a finite number{by_hand}"):
        HIDING[row](w) * x  # the scalar engine, for reference


@pytest.mark.parametrize("backend", TAPE_BACKENDS)
def test_a_parameter_in_a_weighted_sum_is_caught_by_the_sums_value(backend: str) -> None:
    """Every weight and bias in a weighted sum (nn's layers) is not checked apart, and needs not be:
    inf * x is inf or NaN in the sum's value, which the check after the forward pass names."""
    xs = [Value(0.5, label="x0"), Value(0.0, label="x1")]
    ws = [Value(0.3, label="w0"), Value(-0.7, label="w1")]
    b = Value(0.1, label="b")
    tape = compile(weighted_sum(ws, xs, b).tanh(), xs, [*ws, b], backend=backend)
    assert not tape._checks_params
    for k in range(3):
        numbers = [0.3, -0.7, 0.1]
        numbers[k] = math.inf  # w1 multiplies x1 = 0: inf * 0 is NaN, still seen
        with pytest.raises(ValueError, match=r"^tape step 'wsum' \(slot \d+\) on sample 0: "):
            tape.run([[0.5], [0.0]], np.array(numbers))


def test_the_python_back_end_takes_the_parameters_as_an_array() -> None:
    """tape.run(batch, params) with a float64 array, as fit keeps its weights: the numbers of a list
    (the Python back end added the array to its constants' list instead)."""
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    tape = compile((w * x + 3.0).tanh() * w, [x], [w], backend="python")
    by_list = tape.run([[1.0, -2.0]], [1.5])
    assert by_list == [math.tanh(4.5) * 1.5, math.tanh(0.0) * 1.5]
    assert tape.run([[1.0, -2.0]], np.array([1.5])) == tape.run([[1.0, -2.0]], (1.5,)) == by_list
