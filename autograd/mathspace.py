"""`FLOATS`: the math namespace the op table's rules compute with on plain Python floats.

A rule is written once against a namespace `m` (`m.exp(x)`, `m.where(x > 0, x, 0.0)`): the scalar
engine and the pure-Python tape pass `FLOATS`, the NumPy tape passes the `numpy` module itself, so
every name here mirrors NumPy's. Overflow gives inf (as NumPy does), never an exception: the engines
turn any non-finite value or derivative into one ValueError that names the operation.
"""

from __future__ import annotations

import math
from typing import Any

_INF = math.inf


class _Floats:
    """NumPy-named functions on floats; attributes, so a rule reads `m.exp` the same on both."""

    __slots__ = ()

    @staticmethod
    def exp(x: float) -> float:
        """e^x, inf past float range."""
        try:
            return math.exp(x)
        except OverflowError:
            return _INF

    @staticmethod
    def power(a: float, n: float) -> float:
        """a ** n as a float, inf past float range (the domain checks rule out complex results)."""
        try:
            result: float = float(a) ** n
        except OverflowError:
            return _INF
        return result

    @staticmethod
    def where(condition: Any, yes: Any, no: Any) -> Any:
        """`yes` if condition else `no` (numpy.where on one element)."""
        return yes if condition else no

    @staticmethod
    def zeros_like(x: float) -> float:
        """0.0 (a flat derivative)."""
        return 0.0

    @staticmethod
    def maximum(a: float, b: float) -> float:
        """The larger of a and b."""
        return a if a >= b else b

    @staticmethod
    def minimum(a: float, b: float) -> float:
        """The smaller of a and b."""
        return a if a <= b else b

    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    abs = staticmethod(abs)
    pi = math.pi
    e = math.e


FLOATS: Any = _Floats()
