"""The NumPy tape finds every non-finite value or slope, wherever it sits, with the scalar engine's error.

The tape checks all computed values and slopes with one matrix-vector product per run and looks
for the first bad step only when the total is not finite. These tests put an inf or NaN in each
place that check must see: a value that a later step hides (step(inf) = 1, tanh(inf) = 1), a
slope that is infinite while its value is finite, a learner's op, the first and last sample and
row, a weighted sum that overflows, batches of one sample and of several blocks.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from autograd import FLOATS, Value, compile, op, weighted_sum

np = pytest.importorskip("numpy")


@op(rule="1/(2 sqrt|x|)")
def root_abs(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """sqrt(|x|): finite everywhere, its slope infinite at 0 (no domain check says so)."""
    r = m.sqrt(m.abs(x))
    return r, m.where(x >= 0.0, 0.5, -0.5) / r


@op(rule="1")
def nan_at_seven(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """x, except NaN at x = 7 (a learner's rule that goes wrong at one point)."""
    return m.where(x == 7.0, math.nan, x), 1.0


def run_numpy(root: Value, inputs: list[Value], params: list[Value], columns: list[list[float]]) -> Any:
    """Compile on NumPy and run one batch."""
    return compile(root, inputs, params, backend="numpy").run(columns)


def test_an_overflow_hidden_by_step_is_named() -> None:
    """x * x overflows to inf; step(inf) = 1 hides it downstream, but the tape names the product."""
    x = Value(0.0)
    with pytest.raises(ValueError, match=r"'\*'.*sample 2.*a=1e\+200, b=1e\+200 overflows"):
        run_numpy((x * x).step() + x, [x], [], [[1.0, 2.0, 1e200, 3.0]])


def test_an_overflow_hidden_by_tanh_is_named() -> None:
    """tanh(inf) = 1 and tanh'(inf) = 0: the infinite product before it is still named."""
    x, w = Value(0.0), Value(1e300)
    with pytest.raises(ValueError, match=r"'\*'.*sample 0.*overflows"):
        run_numpy((x * w).tanh(), [x], [w], [[1e300, 1.0]])


def test_relu_of_minus_inf_is_named_at_the_step_that_made_it() -> None:
    """-inf into relu: the step that overflowed is named, not relu."""
    x, w = Value(0.0), Value(-1e300)
    with pytest.raises(ValueError, match=r"'\*'.*sample 1.*overflows"):
        run_numpy((x * w).relu(), [x], [w], [[1.0, 1e300]])


def test_an_infinite_slope_with_a_finite_value_is_named() -> None:
    """root_abs(0) = 0 is finite, its slope (inf on arrays) is not, and step after it is flat: the
    scalar engine's error for that sample (its rule divides by zero on floats)."""
    x = Value(1.0)
    with pytest.raises(ZeroDivisionError, match=r"'root_abs'.*sample 3: float division by zero"):
        run_numpy(root_abs(x).step(), [x], [], [[1.0, 4.0, -9.0, 0.0]])


def test_a_learners_nan_in_the_last_sample_of_the_last_row_is_named() -> None:
    """A NaN value in the very last number the check sums."""
    x = Value(0.0)
    column = [1.0] * 50 + [7.0]
    with pytest.raises(ValueError, match=r"'nan_at_seven'.*sample 50.*gives NaN"):
        run_numpy(nan_at_seven(x), [x], [], [column])


def test_the_first_sample_of_the_first_step() -> None:
    """The very first number the check sums."""
    x = Value(0.0)
    with pytest.raises(ValueError, match=r"'nan_at_seven'.*sample 0"):
        run_numpy(nan_at_seven(x).tanh().relu(), [x], [], [[7.0, 1.0, 2.0]])


def test_a_weighted_sum_that_overflows_in_a_dense_layer() -> None:
    """The matrix product's own overflow, hidden by step in the next layer."""
    xs = [Value(0.0), Value(0.0)]
    ws = [[Value(1e200), Value(1.0)], [Value(1.0), Value(2.0)]]
    layer = [weighted_sum(w, xs).step() for w in ws]
    root = weighted_sum([Value(1.0), Value(1.0)], layer)
    params = [p for w in ws for p in w]
    with pytest.raises(ValueError, match=r"'wsum'.*sample 1.*overflows"):
        run_numpy(root, xs, params, [[1.0, 1e200], [1.0, 1.0]])


@pytest.mark.parametrize("size", [1, 2, 9_000])
def test_one_bad_sample_in_batches_of_any_size(size: int) -> None:
    """B = 1, 2 and a batch wider than one block of the rule: the bad sample is named."""
    x = Value(0.0)
    column = [2.0] * size
    column[size // 2] = 7.0
    with pytest.raises(ValueError, match=rf"'nan_at_seven'.*sample {size // 2}\b"):
        run_numpy((x * 2.0).exp().step() + nan_at_seven(x).step(), [x], [], [column])


def test_a_finite_batch_whose_total_overflows_is_no_error() -> None:
    """Values near the float range add past it in the check: looked into, not raised."""
    x, w = Value(0.0), Value(1.0)
    big = [1.7e308, 1.7e308, 1.7e308, -1e300]
    assert run_numpy((x * w).relu() * 1.0, [x], [w], [big]).tolist() == [1.7e308, 1.7e308, 1.7e308, 0.0]


def test_the_tape_works_again_after_an_error() -> None:
    """A failed run leaves the buffers usable: the next good batch gives the scalar engine's numbers."""
    x = Value(0.0)
    tape = compile((x * x).step() + x.tanh(), [x], [], backend="numpy")
    with pytest.raises(ValueError, match="overflows"):
        tape.run([[1e200, 1.0]])
    assert tape.run([[0.5, -2.0]]).tolist() == [1.0 + math.tanh(0.5), 1.0 + math.tanh(-2.0)]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_input_is_named_before_the_step_it_upsets(bad: float) -> None:
    """The inputs are checked before the steps run: a NaN that would fail log's domain check is
    reported as the bad input it is, alone (no step error chained to it)."""
    x, y = Value(1.0), Value(1.0)
    tape = compile((x * y).log() + y.sqrt(), [x, y], [], backend="numpy")
    column_1 = r"^tape\.run\(batch column 1\)\[2\] needs a finite number, got"
    with pytest.raises(ValueError, match=column_1) as info:
        tape.run([[1.0, 2.0, 3.0], [1.0, 1.0, bad]])
    assert info.value.__cause__ is None and info.value.__context__ is None
    with pytest.raises(ValueError, match=r"^tape\.run\(batch column 0\)\[0\] needs a finite number, got"):
        tape.run(np.asarray([[bad, 2.0], [1.0, 1.0]]))  # one 2-D array, as fit passes it


HALVINGS: list[float] = []  # the operands `halve_to_one` was called with


@op(rule="1")
def halve_to_one(x: float) -> tuple[float, float]:
    """x halved until |x| <= 1 (a learner's per-sample op that would never end on inf); d/dx taken as 1."""
    HALVINGS.append(x)
    if not math.isfinite(x):
        raise RuntimeError(f"halve_to_one was given {x!r}: the tape let a non-finite input through")
    while abs(x) > 1.0:
        x /= 2.0
    return x, 1.0


@pytest.mark.parametrize("backend", ["numpy", "python"])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_input_never_reaches_a_learners_op(backend: str, bad: float) -> None:
    """Both back ends check the batch's columns before any step runs: the column's own error, and
    the learner's op (which would loop forever on inf) is not called at all for that batch."""
    x, p = Value(0.5), Value(0.5)
    tape = compile(halve_to_one(x * p) * p, [x], [p], backend=backend)
    HALVINGS.clear()
    assert list(tape.run([[0.5, 3.0]])) == [0.125, 0.375]
    assert HALVINGS == [0.25, 1.5]
    HALVINGS.clear()
    got = "nan" if bad != bad else repr(bad)
    column_0 = rf"^tape\.run\(batch column 0\)\[1\] needs a finite number, got {got}$"
    with pytest.raises(ValueError, match=column_0):
        tape.run([[0.5, bad, 2.0]])
    assert HALVINGS == []
    with pytest.raises(ValueError, match=r"^tape\.run\(batch column 0\)\[0\] needs a finite number"):
        tape.run(np.asarray([[bad, 1.0]]))  # one 2-D array, as fit passes it
    assert HALVINGS == []
