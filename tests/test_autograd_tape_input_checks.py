"""The NumPy tape names an inf or NaN input column, whether it checks the inputs before the steps
(a learner's op or a domain check in the tape) or after them (built-in rows only)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

import autograd
from autograd import Value, compile

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
