"""The operation table: one pure function per primitive, floats -> (value, local derivatives).

Each function returns the forward value and d(out)/d(input) for every input, evaluated at the
forward values, so the derivative on each edge of the graph can be stored, drawn and explained.
Bad operands raise ValueError (ZeroDivisionError for division) naming the operation and value.

NOTE: kink conventions: relu'(0) = 0, abs'(0) = 0, step' = sign' = 0 everywhere (the posts'
threshold functions are flat, which is exactly why backpropagation needs the sigmoid).
"""

from __future__ import annotations

import math

# ---------------------------------------------------------------- arithmetic


def add(a: float, b: float) -> tuple[float, float, float]:
    """a + b; d/da = 1, d/db = 1."""
    return a + b, 1.0, 1.0


def sub(a: float, b: float) -> tuple[float, float, float]:
    """a - b; d/da = 1, d/db = -1."""
    return a - b, 1.0, -1.0


def mul(a: float, b: float) -> tuple[float, float, float]:
    """a * b; d/da = b, d/db = a."""
    return a * b, b, a


def div(a: float, b: float) -> tuple[float, float, float]:
    """a / b; d/da = 1/b, d/db = -a/b^2."""
    if b == 0.0:
        raise ZeroDivisionError(f"division a / b needs b != 0, got b=0.0 (a={a!r})")
    # -q/b, not -a/(b*b): b*b underflows to 0 (or loses digits) for tiny b long before a/b does.
    q = a / b
    return q, 1.0 / b, -q / b


def neg(a: float) -> tuple[float, float]:
    """-a; d/da = -1."""
    return -a, -1.0


def power(a: float, n: float) -> tuple[float, float]:
    """a ** n for a constant exponent n; d/da = n a^(n-1)."""
    if a == 0.0 and n < 0:
        raise ValueError(f"a ** n with a=0.0 needs n >= 0, got n={n!r} (0 to a negative power)")
    if a < 0.0 and not float(n).is_integer():
        raise ValueError(f"a ** n with a negative base needs an integer n, got a={a!r}, n={n!r}")
    if a == 0.0 and 0 < n < 1:
        raise ValueError(f"a ** n at a=0.0 with 0 < n={n!r} < 1 has an infinite derivative")
    value = _checked_pow(a, n)
    slope = 0.0 if n == 0 else n * _checked_pow(a, n - 1)
    return value, slope


def power_value(a: float, b: float) -> tuple[float, float, float]:
    """a ** b for a Value exponent; d/da = b a^(b-1), d/db = a^b ln a (needs a > 0)."""
    if a <= 0.0:
        raise ValueError(f"a ** b with a Value exponent needs a > 0 (d/db = a**b ln a), got a={a!r}")
    value = _checked_pow(a, b)
    return value, b * _checked_pow(a, b - 1), value * math.log(a)


def _checked_pow(a: float, n: float) -> float:
    """a ** n as a float, turning overflow into a ValueError that names the operands."""
    try:
        result: float = float(a) ** n
    except OverflowError:
        raise ValueError(f"a ** n overflows a float, got a={a!r}, n={n!r}") from None
    if math.isinf(result):
        raise ValueError(f"a ** n overflows a float, got a={a!r}, n={n!r}")
    return result


# ---------------------------------------------------------------- exponentials


def exp(x: float) -> tuple[float, float]:
    """exp(x) = e^x; d/dx = e^x."""
    try:
        e = math.exp(x)
    except OverflowError:
        raise ValueError(f"exp(x) overflows a float for x > 709.78, got x={x!r}") from None
    return e, e


def log(x: float) -> tuple[float, float]:
    """log(x) natural logarithm; d/dx = 1/x (needs x > 0)."""
    if x <= 0.0:
        raise ValueError(f"log(x) needs x > 0, got x={x!r}")
    return math.log(x), 1.0 / x


def sqrt(x: float) -> tuple[float, float]:
    """sqrt(x); d/dx = 1/(2 sqrt(x)) (needs x >= 0; at x = 0 the derivative is infinite)."""
    if x < 0.0:
        raise ValueError(f"sqrt(x) needs x >= 0, got x={x!r}")
    if x == 0.0:
        raise ValueError("sqrt(x) at x=0.0 has an infinite derivative 1/(2 sqrt(x))")
    r = math.sqrt(x)
    return r, 0.5 / r


# ---------------------------------------------------------------- activations


def tanh(x: float) -> tuple[float, float]:
    """tanh(x); d/dx = 1 - tanh(x)^2."""
    t = math.tanh(x)
    return t, 1.0 - t * t


def sigmoid(x: float) -> tuple[float, float]:
    """sigmoid(x) = 1/(1+e^-x); d/dx = s(1-s). Never overflows: e^-|x| is at most 1."""
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    return s, s * (1.0 - s)


def relu(x: float) -> tuple[float, float]:
    """relu(x) = max(0, x), the posts' ramp; d/dx = 1 if x > 0 else 0 (relu'(0) = 0)."""
    return (x, 1.0) if x > 0.0 else (0.0, 0.0)


def step(x: float) -> tuple[float, float]:
    """step(x) = 1 if x >= 0 else 0, the posts' threshold; d/dx = 0 (flat: nothing to learn from)."""
    return (1.0 if x >= 0.0 else 0.0), 0.0


def sign(x: float) -> tuple[float, float]:
    """sign(x) = 1 if x >= 0 else -1, the posts' -1/+1 function; d/dx = 0."""
    return (1.0 if x >= 0.0 else -1.0), 0.0


def absolute(x: float) -> tuple[float, float]:
    """abs(x) = |x|; d/dx = sign(x), with abs'(0) = 0."""
    if x > 0.0:
        return x, 1.0
    if x < 0.0:
        return -x, -1.0
    return 0.0, 0.0
