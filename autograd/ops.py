"""The operation table: every built-in operation's value and local derivatives, written once.

Each rule returns the forward value and d(out)/d(input) for every input at the forward values, so
the derivative on each edge can be stored, drawn and explained. Rules compute through the math
namespace `m` (plain floats by default, `numpy` in the NumPy tape), so one source serves the
scalar engine and both tapes. Everything reads this table: `Value`'s methods, the tapes, viz's
symbols and `explain`'s rule text. To add an operation, decorate a function with `autograd.op`
(here or in your own code); nothing else needs editing.

What is special about a row is said in the row (see autograd/oprecord.py): "wsum" takes any
number of operands and is marked `weighted_sum`, so the pure-Python tape replays it as columns
of products, the NumPy tape a layer of them as one matrix product, and diagrams draw its terms;
none of them asks which row it is. Speed paths checked against this table by tests, not
restated: `Value`'s inline arithmetic and `weighted_sum` (tests/test_autograd_optable.py); the
pure-Python tape's column replay (tests/test_autograd_tape_python.py); a row's `into` form, its
rule written into the NumPy tape's arrays (tests/test_autograd_tape_numpy_forms.py).

NOTE: kink conventions: relu'(0) = 0, abs'(0) = 0, step' = sign' = 0 everywhere (the posts'
threshold functions are flat, which is exactly why backpropagation needs the sigmoid);
sign(0) = +1, the posts' convention (torch.sign(0) = 0).
"""

from __future__ import annotations

import operator
from typing import Any

from autograd import mathspace
from autograd.oprecord import op

FLOATS: Any = mathspace
"""The float namespace rules get by default (the NumPy tape passes `m=numpy`)."""

# ---------------------------------------------------------------- arithmetic


@op(symbol="+", rule=("1", "1"), formula="a + b", _builtin=True, name="+")
def add(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, Any, Any]:
    """a + b; d/da = 1, d/db = 1."""
    return a + b, 1.0, 1.0


@op(symbol="−", rule=("1", "-1"), formula="a - b", _builtin=True, name="-")
def sub(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, Any, Any]:
    """a - b; d/da = 1, d/db = -1."""
    return a - b, 1.0, -1.0


def _mul_into(a: Any, b: Any, value: Any, da: Any, db: Any, m: Any) -> None:
    """mul's rule below, written into the NumPy tape's value and slope arrays with no temporary."""
    m.multiply(a, b, out=value)
    m.copyto(da, b)
    m.copyto(db, a)


@op(symbol="×", rule=("b", "a"), formula="a · b", _builtin=True, name="*", _into=_mul_into)
def mul(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, Any, Any]:
    """a * b; d/da = b, d/db = a."""
    return a * b, b, a


@op(
    symbol="÷",
    rule=("1/b", "-a/b^2"),
    latex=(r"\frac{1}{b}", r"-\frac{a}{b^2}"),
    formula="a / b",
    domain=[(lambda a, b: b != 0.0, "division a / b needs b != 0, got b=0.0 (a={a!r})", ZeroDivisionError)],
    _builtin=True,
    name="/",
)
def div(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, Any, Any]:
    """a / b; d/da = 1/b, d/db = -a/b^2."""
    # -q/b, not -a/(b*b): b*b underflows to 0 (or loses digits) for tiny b long before a/b does.
    q = a / b
    return q, 1.0 / b, -q / b


@op(symbol="−x", rule="-1", formula="-x", _builtin=True, _keeps_finite=True)
def neg(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """-x; d/dx = -1."""
    return -x, -1.0


@op(
    symbol="xⁿ",
    rule="n x^(n-1)",
    latex="n x^{n-1}",
    formula="x^n",
    const="n",
    domain=[
        (lambda x, n: (x != 0.0) | (n >= 0),
         "x ** n with x=0.0 needs n >= 0, got n={n!r} (0 to a negative power)", ValueError),
        (lambda x, n: (x >= 0.0) | float(n).is_integer(),
         "x ** n with a negative base needs an integer n, got x={x!r}, n={n!r}", ValueError),
        (lambda x, n: (x != 0.0) | (n <= 0) | (n >= 1),
         "x ** n at x=0.0 with 0 < n={n!r} < 1 has an infinite derivative", ValueError),
    ],
    _builtin=True,
    name="**n",
)
def power(x: Any, n: float, m: Any = FLOATS) -> tuple[Any, Any]:
    """x ** n for a constant exponent n; d/dx = n x^(n-1)."""
    return m.power(x, n), (n * m.power(x, n - 1.0) if n != 0 else m.zeros_like(x))


@op(
    symbol="aᵇ",
    rule=("b a^(b-1)", "a^b ln(a)"),
    latex=("b a^{b-1}", r"a^b \ln a"),
    formula="a^b",
    domain=[(lambda a, b: a > 0.0, "a ** b with a Value exponent needs a > 0 (d/db = a**b ln a), got a={a!r}",
             ValueError)],
    _builtin=True,
    name="**",
)
def power_value(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, Any, Any]:
    """a ** b for a Value exponent; d/da = b a^(b-1), d/db = a^b ln a (needs a > 0)."""
    value = m.power(a, b)
    return value, b * m.power(a, b - 1.0), value * m.log(a)


# ---------------------------------------------------------------- exponentials


@op(symbol="eˣ", rule="e^x", formula="e^x", _builtin=True)
def exp(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """exp(x) = e^x; d/dx = e^x."""
    e = m.exp(x)
    return e, e


@op(
    symbol="log",
    rule="1/x",
    latex=r"\frac{1}{x}",
    formula="log(x)",
    domain=[(lambda x: x > 0.0, "log(x) needs x > 0, got x={x!r}", ValueError)],
    _builtin=True,
)
def log(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """log(x), the natural logarithm; d/dx = 1/x (needs x > 0)."""
    return m.log(x), 1.0 / x


@op(
    symbol="√x",
    rule="1/(2 sqrt(x))",
    latex=r"\frac{1}{2\sqrt{x}}",
    formula="sqrt(x)",
    domain=[
        (lambda x: x >= 0.0, "sqrt(x) needs x >= 0, got x={x!r}", ValueError),
        (lambda x: x != 0.0, "sqrt(x) at x=0.0 has an infinite derivative 1/(2 sqrt(x))", ValueError),
    ],
    _builtin=True,
)
def sqrt(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """sqrt(x); d/dx = 1/(2 sqrt(x)) (needs x >= 0; at x = 0 the derivative is infinite)."""
    r = m.sqrt(x)
    return r, 0.5 / r


# ---------------------------------------------------------------- activations


@op(symbol="tanh", rule="1 - tanh(x)^2", latex=r"1 - \tanh^2(x)", formula="tanh(x)", _builtin=True,
    _keeps_finite=True)
def tanh(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """tanh(x); d/dx = 1 - tanh(x)^2, computed as 4e/(1+e)^2 with e = e^-2|x| (no cancellation)."""
    # 1 - t*t loses every digit once |t| rounds near 1 (tanh'(-15) came out 3.7437e-13, true
    # 3.7430e-13); sech^2 written with e^-2|x| <= 1 keeps full precision and never overflows.
    e = m.exp(-2.0 * m.abs(x))
    return m.tanh(x), 4.0 * e / ((1.0 + e) * (1.0 + e))


@op(
    symbol="σ",
    rule="σ(x)(1 - σ(x))",
    latex=r"\sigma(x)\,(1 - \sigma(x))",
    formula="σ(x)",
    _builtin=True,
    _keeps_finite=True,
)
def sigmoid(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """sigmoid(x) = 1/(1+e^-x); d/dx = s(1-s). Never overflows: e^-|x| is at most 1."""
    e = m.exp(-m.abs(x))
    s = m.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    # s(1-s) = e/(1+e)^2 on both sides of 0, without the cancellation of 1 - s near s = 1.
    return s, e / ((1.0 + e) * (1.0 + e))


def _relu_into(x: Any, value: Any, slope: Any, m: Any) -> None:
    """relu's rule below, written into the NumPy tape's value and slope arrays with no temporary."""
    m.greater(x, 0.0, out=slope)  # positive * 1.0
    m.multiply(x, slope, out=value)  # x * positive
    m.add(value, 0.0, out=value)


@op(symbol="ReLU", rule="1 if x > 0 else 0", latex=r"[x > 0]", formula="max(0, x)", _builtin=True,
    _into=_relu_into, _keeps_finite=True)
def relu(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """relu(x) = max(0, x), the posts' ramp; d/dx = 1 if x > 0 else 0 (relu'(0) = 0)."""
    positive = x > 0.0
    # Arithmetic on the comparison works alike on floats and arrays and calls no function
    # (the scalar engine's hot path); + 0.0 turns the -0.0 of a negative x times 0 into 0.0.
    return x * positive + 0.0, positive * 1.0


@op(symbol="step", rule="0", formula="step(x)", _builtin=True, _keeps_finite=True)
def step(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """step(x) = 1 if x >= 0 else 0, the posts' threshold; d/dx = 0 (flat: nothing to learn from)."""
    return m.where(x >= 0.0, 1.0, 0.0), m.zeros_like(x)


@op(symbol="sign", rule="0", formula="sign(x)", _builtin=True, _keeps_finite=True)
def sign(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """sign(x) = 1 if x >= 0 else -1, the posts' -1/+1 function; d/dx = 0."""
    return m.where(x >= 0.0, 1.0, -1.0), m.zeros_like(x)


@op(symbol="|x|", rule="sign(x) (0 at x = 0)", latex=r"\operatorname{sign}(x)", formula="|x|", _builtin=True,
    name="abs", _keeps_finite=True)
def absolute(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """abs(x) = |x|; d/dx = sign(x), with abs'(0) = 0."""
    return m.abs(x), m.where(x > 0.0, 1.0, m.where(x < 0.0, -1.0, 0.0))


# ---------------------------------------------------------------- the neuron's weighted sum


@op(
    symbol="Σ wx+b",
    rule=("x_i", "w_i", "1"),
    latex=("x_i", "w_i", "1"),
    formula="Σ w_i x_i + b",
    weighted_sum=True,
    points=[(0.5,), (0.5, 2.0), (0.5, 2.0, -1.0), (0.5, 2.0, -1.0, 3.0), (1e150, 1e-150, -1.0, 4.0, 7.0)],
    _builtin=True,
)
def wsum(*operands: Any, m: Any = FLOATS) -> tuple[Any, ...]:
    """w0*x0 + w1*x1 + ... (+ b) over (w0, x0, w1, x1, ..., [b]); d/dw_i = x_i, d/dx_i = w_i, d/db = 1."""
    n = len(operands)
    pairs = n - n % 2
    ws, xs = operands[0:pairs:2], operands[1:pairs:2]
    total = sum(map(operator.mul, ws, xs), 0.0)  # not `mul`: that name is the "*" row here
    derivs = list(operands)
    derivs[0:pairs:2] = xs
    derivs[1:pairs:2] = ws
    if n % 2:
        total = total + operands[-1]
        derivs[-1] = 1.0  # the bias's slope
    return (total, *derivs)
