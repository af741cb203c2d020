"""Validators for user input, used wherever it enters: one place decides what a number is, one wording.

Every message reads `{where} needs {what}, got {value}`:

- `where` names the operation and the argument: `fit(epochs)`, `SGD(lr)`, `Value(data)`;
- `what` is the requirement, the same whether the type or the value is wrong: `an int >= 1`;
- the value as `shown` writes it: its repr, after its type name unless that is int or float
  (`got 0`, `got inf`, `got str 'a'`, `got bool True`), cut so a message never echoes 10 MB.

A wrong type is a TypeError, a wrong value of the right type a ValueError. `is_real` is THE test of
what a number is (bool is an int in Python, but True is not a weight), so no other module spells it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeGuard

MAX_SHOWN = 60
"""A value's text in a message is cut to about this many characters."""

BEYOND_FLOAT_RANGE = ", beyond float range (about 1.8e308)"
"""Added to the message for a number a float cannot hold (10**400)."""


def shown(value: object) -> str:
    """The value as messages show it: `0`, `2.5`, `inf`, `str 'a'`, `NoneType None`, `a 401-digit integer`."""
    if is_int(value) and abs(int(value)) >= 10**MAX_SHOWN:
        # A huge int's digits say nothing; their count does (a model file's too-long integer reads the same).
        return f"a {'negative ' if value < 0 else ''}{_digits(abs(int(value)))}-digit integer"
    text = repr(value)
    if len(text) > MAX_SHOWN:
        text = f"{text[: MAX_SHOWN - 3]}..."
    name = type(value).__name__
    return text if type(value) in (int, float) or f"{name}(" in text else f"{name} {text}"


def _digits(n: int) -> int:
    """How many decimal digits the int n > 0 has (str(n) refuses past 4,300 digits)."""
    count = int((n.bit_length() - 1) * math.log10(2)) + 1
    return count + 1 if n >= 10**count else count


def needs(where: str, what: str, value: object) -> str:
    """The one message format: `{where} needs {what}, got {shown(value)}`."""
    return f"{where} needs {what}, got {shown(value)}"


def is_real(x: object) -> TypeGuard[numbers.Real]:
    """True for int, float, NumPy scalars and Fractions; False for bool, str, complex, Values, None."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_int(x: object) -> TypeGuard[numbers.Integral]:
    """True for int and NumPy integers; False for bool (True is not a count) and for 2.0."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _bounds_text(
    above: float | None, at_least: float | None, below: float | None, at_most: float | None
) -> str:
    """` > 0`, ` >= 1`, ` in [0, 1)`: the bounds part of a requirement ('' when there are none)."""
    low, low_mark = (above, "(") if above is not None else (at_least, "[")
    high, high_mark = (below, ")") if below is not None else (at_most, "]")
    if low is not None and high is not None:
        return f" in {low_mark}{low:g}, {high:g}{high_mark}"
    if low is not None:
        return f" {'>' if above is not None else '>='} {low:g}"
    if high is not None:
        return f" {'<' if below is not None else '<='} {high:g}"
    return ""


def _within(
    x: float, above: float | None, at_least: float | None, below: float | None, at_most: float | None
) -> bool:
    """Whether x satisfies every bound given."""
    return not (
        (above is not None and not x > above)
        or (at_least is not None and not x >= at_least)
        or (below is not None and not x < below)
        or (at_most is not None and not x <= at_most)
    )


def real_number(
    data: object,
    where: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    finite: bool = True,
) -> float:
    """`data` (int, float, NumPy scalar, Fraction) as a float within the bounds given, else an error.

    Finite unless `finite=False` (then inf and nan pass when no bound is given). For example
    `real_number(lr, "SGD(lr)", above=0)` says `SGD(lr) needs a finite number > 0, got 0.0`,
    and `real_number(p, "split(test_size)", above=0, below=1)` says `... needs a number in (0, 1)`.
    """
    bounds = _bounds_text(above, at_least, below, at_most)
    kind = "a number" if not finite or bounds.startswith(" in") else "a finite number"
    what = kind + bounds
    if not is_real(data):
        # A Value beside a number (Value(Value(2))): say what to pass instead.
        hint = ": use the Value itself, or its .data" if hasattr(type(data), "_apply_op") else ""
        raise TypeError(needs(where, what, data) + hint)
    try:
        value = float(data)
    except OverflowError:  # an int (or Fraction) beyond float range: 10**400
        raise ValueError(needs(where, what, data) + BEYOND_FLOAT_RANGE) from None
    if (finite and not math.isfinite(value)) or not _within(value, above, at_least, below, at_most):
        raise ValueError(needs(where, what, data))
    return value


def integer(value: object, where: str, *, at_least: int | None = None, at_most: int | None = None) -> int:
    """`value` (int or NumPy integer, not bool) as an int within the bounds given, else an error.

    `integer(epochs, "fit(epochs)", at_least=1)` says `fit(epochs) needs an int >= 1, got 0`.
    """
    if at_least is not None and at_most is not None:
        what = f"an int in {at_least}..{at_most}"
    else:
        what = "an int" + _bounds_text(None, at_least, None, at_most)
    if not is_int(value):
        raise TypeError(needs(where, what, value))
    number = int(value)
    if not _within(number, None, at_least, None, at_most):
        raise ValueError(needs(where, what, value))
    return number


def sequence(
    value: object, where: str, items: str, *, length: int | None = None, kind: str = "list"
) -> Sequence[Any]:
    """`value` as a list or tuple (a 1-D array becomes a list) of `length` items, or non-empty.

    A str is not a sequence here. The requirement reads `a list of 2 numbers or Values` (`items`
    names them, `kind` the container), and a wrong length is shown as `got list of 3`.
    """
    what = f"a {kind} of {length} {items}" if length is not None else f"a non-empty {kind} of {items}"
    array_like = hasattr(value, "__len__") and hasattr(value, "__iter__")
    if array_like and not isinstance(value, (Sequence, str, bytes)):
        value = list(value)  # type: ignore[call-overload]  # a NumPy row
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(needs(where, what, value))
    if (length is not None and len(value) != length) or not value:
        raise ValueError(f"{where} needs {what}, got {type(value).__name__} of {len(value)}")
    return value


def real_numbers(
    values: object, where: str, *, length: int | None = None, finite: bool = True
) -> list[float]:
    """A list or 1-D array of real numbers as a list of floats (`where[i]` names a bad item)."""
    items = sequence(values, where, "numbers", length=length, kind="list or 1-D array")
    return [real_number(x, f"{where}[{i}]", finite=finite) for i, x in enumerate(items)]


def first_non_finite(values: Sequence[float]) -> int | None:
    """Index of the first inf or NaN in `values`, or None when every one is finite.

    One C-level sum first (finite unless some value is inf/NaN, or the sum itself overflows):
    the Python scan runs only when it is not, so a clean step costs one `sum` per list.
    """
    total = sum(values)
    if total - total == 0.0:
        return None
    for i, x in enumerate(values):
        if x - x != 0.0:
            return i
    return None  # only the sum overflowed


def first_non_finite_entry(array: Any) -> int | None:
    """`first_non_finite` for a NumPy array (or a tensor): its own C-level sum first, then the scan.

    The sum of finite entries can overflow, so a caller that must not warn takes it under
    `numpy.errstate(over="ignore", invalid="ignore")`.
    """
    total = float(array.sum())
    return None if total - total == 0.0 else first_non_finite(array.tolist())
