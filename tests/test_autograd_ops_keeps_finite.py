"""Rows marked `keeps_finite` (relu, tanh, ...) give finite numbers from finite operands.

The NumPy tape's check after the forward pass skips the slopes of such rows: a slope of theirs can
only be inf or NaN where an operand is, and then their value is too (or the operand's own row is
checked). Both halves are tested here, on every marked row, with floats and with NumPy arrays.
"""

from __future__ import annotations

import itertools
import math

import pytest

from autograd import Value, compile
from autograd.oprecord import TABLE, Op

np = pytest.importorskip("numpy")

MARKED = [row for row in TABLE.values() if row.keeps_finite]
FINITE = [-1.7976931348623157e308, -1e308, -710.0, -2.5, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1e-300, 0.5, 1.0,
          3.0, 710.0, 1e308, 1.7976931348623157e308]
BAD = [math.inf, -math.inf, math.nan]


def test_relu_tanh_and_sigmoid_are_marked_and_overflowing_rows_are_not() -> None:
    names = {row.name for row in MARKED}
    assert {"relu", "tanh", "sigmoid"} <= names
    assert not names & {"+", "*", "-", "/", "exp", "log", "**", "wsum"}


@pytest.mark.parametrize("row", MARKED, ids=lambda row: row.name)
def test_finite_operands_give_a_finite_value_and_slopes(row: Op) -> None:
    points = list(itertools.product(FINITE, repeat=row.arity or 1))
    for point in points:
        out = row.fn(*point)
        assert all(map(math.isfinite, out)), (row.name, point, out)
    columns = [np.asarray([p[j] for p in points]) for j in range(row.arity or 1)]
    with np.errstate(all="ignore"):  # an intermediate may overflow (tanh: -2|x|): the results count
        arrays = row.fn(*columns, m=np)
    assert all(np.isfinite(np.broadcast_to(a, columns[0].shape)).all() for a in arrays), row.name


@pytest.mark.parametrize("row", MARKED, ids=lambda row: row.name)
def test_where_a_slope_is_not_finite_the_value_is_not_either(row: Op) -> None:
    """With an inf or NaN operand (a parameter set by hand is not checked by the tape)."""
    grid = itertools.product(FINITE + BAD, repeat=row.arity or 1)
    points = [p for p in grid if not all(map(math.isfinite, p))]
    columns = [np.asarray([p[j] for p in points]) for j in range(row.arity or 1)]
    with np.errstate(all="ignore"):
        value, *slopes = (np.broadcast_to(a, columns[0].shape) for a in row.fn(*columns, m=np))
    bad_slope = np.zeros(len(points), dtype=bool)
    for s in slopes:
        bad_slope |= ~np.isfinite(s)
    assert np.isfinite(value[bad_slope]).sum() == 0, row.name


def test_a_non_finite_value_is_still_named_after_the_marked_rows() -> None:
    """The slopes skipped by the check are never the only sign of trouble: an overflow upstream of a
    relu is named at the step that overflowed, as without the mark."""
    x, w = Value(1.0, "x"), Value(1e200, "w")
    tape = compile((w * x * x).relu().tanh(), [x], [w], backend="numpy")
    with pytest.raises(ValueError, match=r"\*"):
        tape.run([np.asarray([1.0, 1e200])])
    assert tape._engine.n_checked_slopes < tape._engine.n_slopes  # the relu's and tanh's slopes are skipped
