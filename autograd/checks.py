"""Validators for user input, used wherever it enters: one place decides what a number is."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence


def real_number(data: object, where: str) -> float:
    """`data` (int, float, NumPy scalar, Fraction) as a finite float, else an error naming `where`."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        hint = ": use the Value itself, or its .data" if hasattr(type(data), "_apply_op") else ""
        raise TypeError(
            f"{where} needs a real number (int, float or NumPy scalar), got {type(data).__name__}{hint}"
        )
    try:
        value = float(data)
    except OverflowError:  # an int (or Fraction) beyond float range: 10**400
        raise ValueError(
            f"{where} needs a number within float range (about 1.8e308), got {_short(data)}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{where} needs a finite number, got {value!r}")
    return value


def _short(x: object) -> str:
    """A huge number's text, cut to 40 characters so the message stays readable."""
    text = str(x)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]} ({len(text)} digits)"


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
