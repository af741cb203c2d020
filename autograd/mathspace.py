"""The math namespace the op table's rules compute with on plain Python floats (`autograd.FLOATS`).

A rule is written once against a namespace `m` (`m.exp(x)`, `m.where(x > 0, x, 0.0)`): the scalar
engine and the pure-Python tape pass this module, the NumPy tape passes the `numpy` module itself,
so every name here mirrors NumPy's. They are C functions where Python has one (`math.exp`, the
builtin `max`): on floats an overflow raises OverflowError, which the engines turn, like any
non-finite value or derivative, into one ValueError that names the operation. A module, not a
class: `m.tanh` is then one dictionary lookup on the scalar engine's hot path.
"""

from __future__ import annotations

import math
from math import cos, e, log, log1p, pi, sin, sqrt, tanh
from typing import Any

__all__ = ["abs", "cos", "e", "exp", "log", "log1p", "maximum", "minimum", "pi", "power", "sin", "sqrt",
           "tanh", "where", "zeros_like"]

abs = abs  # numpy's name, re-exported so `m.abs` works on floats
exp = math.exp
power = math.pow
maximum = max
minimum = min


def where(condition: Any, yes: Any, no: Any) -> Any:
    """`yes` if condition else `no` (numpy.where on one element)."""
    return yes if condition else no


def zeros_like(x: float) -> float:
    """0.0 (a flat derivative)."""
    return 0.0
