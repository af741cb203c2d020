"""Every operation's value and derivative against its closed form and against central differences."""

from __future__ import annotations

import math

import pytest
from expressions import EXPRESSIONS, FLOATS, VALUES, Expr

from autograd import Value, gradcheck, numerical_grad, weighted_sum


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-15) -> bool:
    """|a - b| <= abs_ + rel * |b|."""
    return abs(a - b) <= abs_ + rel * abs(b)


# ---------------------------------------------------------------- the shared expression table

CASES = [(e, p) for e in EXPRESSIONS for p in e.points]
IDS = [f"{e.name}{p}" for e, p in CASES]


@pytest.mark.parametrize(("expr", "point"), CASES, ids=IDS)
def test_expression_forward_matches_floats(expr: Expr, point: tuple[float, ...]) -> None:
    """The same expression on plain floats (math) and on Values gives the same number."""
    expected = expr.fn(FLOATS, *point)
    got = expr.fn(VALUES, *(Value(x) for x in point))
    assert isinstance(got, Value)
    assert close(got.data, expected, rel=1e-12, abs_=1e-300)


@pytest.mark.parametrize(("expr", "point"), CASES, ids=IDS)
def test_expression_gradient_matches_central_differences(expr: Expr, point: tuple[float, ...]) -> None:
    """Backprop through the expression equals central differences of its float form."""
    backprop = gradcheck(lambda vs: expr.fn(VALUES, *vs), point, atol=1e-6, rtol=1e-5)
    assert backprop is True
    # And against the float version of the expression (not the Value one under no_grad).
    numeric = numerical_grad(lambda p: expr.fn(FLOATS, *p), point)
    leaves = [Value(x) for x in point]
    expr.fn(VALUES, *leaves).backward()
    for leaf, n in zip(leaves, numeric):
        assert close(leaf.grad, n, rel=1e-5, abs_=1e-6), (expr.name, point, leaf.grad, n)


# ---------------------------------------------------------------- unary closed forms


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


UNARY = {
    # name: (apply to a Value, value(x), derivative(x)); derivatives in an independent form
    "exp": (lambda v: v.exp(), math.exp, math.exp),
    "log": (lambda v: v.log(), math.log, lambda x: 1.0 / x),
    "sqrt": (lambda v: v.sqrt(), math.sqrt, lambda x: 0.5 * x**-0.5),
    "tanh": (lambda v: v.tanh(), math.tanh, lambda x: 1.0 / math.cosh(x) ** 2),
    "sigmoid": (lambda v: v.sigmoid(), _sigmoid, lambda x: 0.25 / math.cosh(x / 2) ** 2),
    "relu": (lambda v: v.relu(), lambda x: max(0.0, x), lambda x: 1.0 if x > 0 else 0.0),
    "step": (lambda v: v.step(), lambda x: 1.0 if x >= 0 else 0.0, lambda x: 0.0),
    "sign": (lambda v: v.sign(), lambda x: 1.0 if x >= 0 else -1.0, lambda x: 0.0),
    "abs": (lambda v: v.abs(), abs, lambda x: math.copysign(1.0, x) if x != 0 else 0.0),
    "neg": (lambda v: -v, lambda x: -x, lambda x: -1.0),
}
# Points per op, including the edge values; kinks (exactly 0) are checked against the
# convention only, since central differences straddle the kink there.
UNARY_POINTS = {
    "exp": [0.0, 1.0, -3.0, 50.0, -700.0, 709.0],
    "log": [1.0, 0.5, 1e-3, 1e-300, 1e10],
    "sqrt": [1.0, 4.0, 1e-3, 1e-300, 1e10],
    "tanh": [0.0, 0.5, -1.5, 20.0, -20.0],
    "sigmoid": [0.0, 0.5, -1.5, 50.0, -50.0, 700.0, -700.0],
    "relu": [0.0, 1e-3, -1e-3, 2.0, -2.0],
    "step": [0.0, 1e-3, -1e-3, 2.0, -2.0],
    "sign": [0.0, 1e-3, -1e-3, 2.0, -2.0],
    "abs": [0.0, 1e-3, -1e-3, 2.0, -2.0],
    "neg": [0.0, 1.5, -2.0],
}
UNARY_CASES = [(name, x) for name, xs in UNARY_POINTS.items() for x in xs]


@pytest.mark.parametrize(("name", "x"), UNARY_CASES, ids=[f"{n}({x:g})" for n, x in UNARY_CASES])
def test_unary_op_closed_form(name: str, x: float) -> None:
    """op name, one parent, value, local derivative and backprop grad all equal the closed form."""
    apply, value, deriv = UNARY[name]
    v = Value(x)
    out = apply(v)
    assert out.op == name
    assert out.parents == (v,)
    assert len(out.local_grads) == 1
    assert close(out.data, value(x), rel=1e-12, abs_=1e-300)
    assert close(out.local_grads[0], deriv(x), rel=1e-9, abs_=1e-15)
    out.backward()
    assert v.grad == out.local_grads[0]
    assert out.grad == 1.0


# Central differences need both x +- h inside the domain and away from the kinks (exactly 0);
# the closed-form test above covers those points.
DIFFERENTIABLE_CASES = [
    (n, x)
    for n, x in UNARY_CASES
    if not (n in {"relu", "step", "sign", "abs"} and x == 0.0) and not (n in {"log", "sqrt"} and x < 1e-6)
]


@pytest.mark.parametrize(
    ("name", "x"), DIFFERENTIABLE_CASES, ids=[f"{n}({x:g})" for n, x in DIFFERENTIABLE_CASES]
)
def test_unary_op_central_differences(name: str, x: float) -> None:
    """Backprop equals central differences, including next to the kinks and in the flat tails."""
    apply = UNARY[name][0]
    assert gradcheck(lambda vs: apply(vs[0]), [x], atol=1e-9, rtol=1e-5)


def test_kink_conventions() -> None:
    """relu'(0) = 0, abs'(0) = 0, and step/sign are flat everywhere (no faked gradient)."""
    for method in ("relu", "abs", "step", "sign"):
        x = Value(0.0)
        out = getattr(x, method)()
        out.backward()
        assert out.local_grads == (0.0,)
        assert x.grad == 0.0
    assert Value(0.0).step().data == 1.0
    assert Value(0.0).sign().data == 1.0
    assert Value(-0.0).relu().data == 0.0
    for x in (-5.0, -1e-3, 1e-3, 5.0):
        for method in ("step", "sign"):
            assert getattr(Value(x), method)().local_grads == (0.0,)
            # Both sides are flat: central differences agree with the zero derivative.
            assert gradcheck(lambda vs, m=method: getattr(vs[0], m)(), [x], atol=0.0, rtol=0.0)


@pytest.mark.parametrize("x", [800.0, -800.0, 1e6, -1e6, 1e308, -1e308])
def test_sigmoid_never_overflows(x: float) -> None:
    """sigmoid of a huge |x| is 0 or 1 (or within rounding of it) with a finite derivative >= 0."""
    v = Value(x)
    out = v.sigmoid()
    assert out.data == (1.0 if x > 0 else 0.0)
    d = out.local_grads[0]
    assert math.isfinite(d)
    assert 0.0 <= d <= 1e-300
    out.backward()
    assert v.grad == d


@pytest.mark.parametrize("x", [20.0, -20.0, 400.0, -400.0])
def test_tanh_saturates(x: float) -> None:
    """tanh in its tails: value ±1 to rounding, derivative >= 0 and negligible."""
    out = Value(x).tanh()
    assert close(out.data, math.copysign(1.0, x), rel=1e-15)
    assert 0.0 <= out.local_grads[0] < 1e-16


# ---------------------------------------------------------------- powers


# Negative bases need an integer exponent; 0 needs n >= 1 or n == 0 (test_autograd_errors
# checks the rejected combinations).
POWER_CASES = [
    (n, x)
    for n in (2, 3, -1, 0.5, 0, 1, 2.5, -2)
    for x in (0.7, 1.0, 3.0, -1.5, 0.0)
    if (x >= 0 or float(n).is_integer()) and (x != 0 or n == 0 or n >= 1)
]


@pytest.mark.parametrize(("n", "x"), POWER_CASES, ids=[f"{x:g}**{n:g}" for n, x in POWER_CASES])
def test_pow_number_exponent(n: float, x: float) -> None:
    """x ** n: op "**n", one parent, value x^n, derivative n x^(n-1) (0 for n = 0)."""
    v = Value(x)
    out = v**n
    assert out.op == f"**{float(n):g}"
    assert out.parents == (v,)
    assert close(out.data, float(x) ** n)
    expected = 0.0 if n == 0 else n * float(x) ** (n - 1)
    assert close(out.local_grads[0], expected)
    out.backward()
    assert close(v.grad, expected)
    if not (x == 0 and n == 2.5):  # 0 - h would be a negative base to a non-integer power
        assert gradcheck(lambda vs: vs[0] ** n, [x], atol=1e-8, rtol=1e-6)


def test_pow_op_names() -> None:
    """The exponent is part of the op name."""
    x = Value(2.0)
    assert (x**2).op == "**2"
    assert (x**-1).op == "**-1"
    assert (x**0.5).op == "**0.5"
    assert (x**2.5).op == "**2.5"
    assert (x ** Value(3.0)).op == "**"


@pytest.mark.parametrize(("a", "b"), [(2.0, 3.0), (0.5, -1.5), (4.0, 0.5), (1.0, 7.0), (3.0, 0.0)])
def test_pow_value_exponent(a: float, b: float) -> None:
    """a ** b with Value exponent: parents (a, b), d/da = b a^(b-1), d/db = a^b ln a."""
    va, vb = Value(a), Value(b)
    out = va**vb
    assert out.op == "**"
    assert out.parents == (va, vb)
    assert close(out.data, a**b)
    da, db = b * a ** (b - 1), a**b * math.log(a)
    assert close(out.local_grads[0], da)
    assert close(out.local_grads[1], db)
    out.backward()
    assert close(va.grad, da)
    assert close(vb.grad, db)
    assert gradcheck(lambda vs: vs[0] ** vs[1], [a, b], atol=1e-8, rtol=1e-6)


def test_number_to_value_power() -> None:
    """2 ** x: the base becomes a constant leaf; d/dx = 2^x ln 2."""
    x = Value(1.5)
    out = 2**x
    assert out.op == "**"
    base, exponent = out.parents
    assert exponent is x
    assert base.data == 2.0
    assert base.op == ""
    assert base.label == ""
    out.backward()
    assert close(x.grad, 2**1.5 * math.log(2))
    assert gradcheck(lambda vs: 2 ** vs[0], [1.5])


# ---------------------------------------------------------------- binary arithmetic

BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "-": (lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "*": (lambda a, b: a * b, lambda a, b: (b, a)),
    "/": (lambda a, b: a / b, lambda a, b: (1.0 / b, -a / b**2)),
}


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize(("a", "b"), [(1.5, -2.0), (-3.0, 0.25), (0.0, 4.0), (1e-3, 1e3)])
def test_binary_op_closed_form(op: str, a: float, b: float) -> None:
    """Value op Value: op name, parents in order, local grads and grads equal the closed form."""
    f, d = BINARY[op]
    va, vb = Value(a), Value(b)
    out = f(va, vb)
    assert out.op == op
    assert out.parents == (va, vb)
    assert close(out.data, f(a, b))
    for got, want in zip(out.local_grads, d(a, b)):
        assert close(got, want)
    out.backward()
    assert close(va.grad, d(a, b)[0])
    assert close(vb.grad, d(a, b)[1])
    assert gradcheck(lambda vs: f(vs[0], vs[1]), [a, b], atol=1e-8, rtol=1e-6)


NUMBER_OPERANDS = {
    # id: (expression, op, the constant, number on the left?, d/dx)
    "x+2": (lambda x: x + 2, "+", 2.0, False, lambda x: 1.0),
    "1+x": (lambda x: 1 + x, "+", 1.0, True, lambda x: 1.0),
    "x-2": (lambda x: x - 2, "-", 2.0, False, lambda x: 1.0),
    "2-x": (lambda x: 2 - x, "-", 2.0, True, lambda x: -1.0),
    "x*3": (lambda x: x * 3, "*", 3.0, False, lambda x: 3.0),
    "3*x": (lambda x: 3 * x, "*", 3.0, True, lambda x: 3.0),
    "x/4": (lambda x: x / 4, "/", 4.0, False, lambda x: 0.25),
    "2/x": (lambda x: 2 / x, "/", 2.0, True, lambda x: -2.0 / x**2),
    "2**x": (lambda x: 2**x, "**", 2.0, True, lambda x: 2**x * math.log(2)),
    "2.5*x": (lambda x: 2.5 * x, "*", 2.5, True, lambda x: 2.5),
}


@pytest.mark.parametrize("case", list(NUMBER_OPERANDS))
def test_number_operands_become_constant_leaves(case: str) -> None:
    """Numbers on either side become constant leaves, kept in argument order."""
    expr, op, const, number_first, grad = NUMBER_OPERANDS[case]
    x = Value(1.5)
    out = expr(x)
    assert out.op == op
    assert len(out.parents) == 2
    other, mine = out.parents if number_first else out.parents[::-1]
    assert mine is x
    assert other is not x
    assert other.data == const
    assert type(other.data) is float
    assert (other.op, other.label, other.parents, other.local_grads) == ("", "", (), ())
    out.backward()
    assert close(x.grad, grad(1.5))
    assert gradcheck(lambda vs: expr(vs[0]), [1.5])


def test_reflected_forms_put_the_number_first() -> None:
    """2 - x, 2 / x, 2 ** x, 3 * x, 1 + x: parents are (constant, x), local grads match."""
    x = Value(1.5)
    for out, local in [
        (2 - x, (1.0, -1.0)),
        (2 / x, (1 / 1.5, -2 / 1.5**2)),
        (3 * x, (1.5, 3.0)),
        (1 + x, (1.0, 1.0)),
        (2**x, (1.5 * 2**0.5, 2**1.5 * math.log(2))),
    ]:
        const, second = out.parents
        assert second is x
        assert const is not x
        assert const.op == ""
        for got, want in zip(out.local_grads, local):
            assert close(got, want)
    assert (2 - x).data == 0.5
    assert (2 / x).data == 2 / 1.5


def test_subtraction_and_division_are_not_commutative() -> None:
    """x - 2 and 2 - x, x / 2 and 2 / x differ and have the right signs."""
    x = Value(4.0)
    assert (x - 2).data == 2.0
    assert (2 - x).data == -2.0
    assert (x / 2).data == 2.0
    assert (2 / x).data == 0.5


def test_unary_minus() -> None:
    """-x: op "neg", local grad -1."""
    x = Value(3.0)
    out = -x
    assert (out.op, out.data, out.parents, out.local_grads) == ("neg", -3.0, (x,), (-1.0,))
    (out * out).backward()
    assert x.grad == 6.0


# ---------------------------------------------------------------- weighted_sum


def test_weighted_sum_with_value_inputs_and_bias() -> None:
    """One "wsum" node: parents (w0, x0, w1, x1, b), local grads (x0, w0, x1, w1, 1)."""
    w0, x0, w1, x1, b = (Value(v) for v in (0.5, -1.0, 2.0, 3.0, -0.75))
    z = weighted_sum([w0, w1], [x0, x1], b)
    assert z.op == "wsum"
    assert z.parents == (w0, x0, w1, x1, b)
    assert z.local_grads == (-1.0, 0.5, 3.0, 2.0, 1.0)
    assert z.data == 0.5 * -1.0 + 2.0 * 3.0 - 0.75
    (z * z).backward()
    dz = 2 * z.data
    assert [v.grad for v in (w0, x0, w1, x1, b)] == [dz * g for g in (-1.0, 0.5, 3.0, 2.0, 1.0)]
    assert gradcheck(
        lambda vs: weighted_sum([vs[0], vs[2]], [vs[1], vs[3]], vs[4]).tanh(), [0.5, -1.0, 2.0, 3.0, -0.75]
    )


def test_weighted_sum_without_bias() -> None:
    """Even parent count, no bias edge."""
    w0, x0 = Value(2.0), Value(-3.0)
    z = weighted_sum([w0], [x0])
    assert z.parents == (w0, x0)
    assert z.local_grads == (-3.0, 2.0)
    assert z.data == -6.0
    z.backward()
    assert (w0.grad, x0.grad) == (-3.0, 2.0)


def test_weighted_sum_number_inputs_become_constant_leaves() -> None:
    """Number inputs (int, float, NumPy) become constant leaves in the x_i slots."""
    np = pytest.importorskip("numpy")
    w = [Value(0.5), Value(-1.0), Value(2.0)]
    b = Value(0.25)
    z = weighted_sum(w, [2.0, -3, np.float64(1.5)], b)
    ps = z.parents
    assert len(ps) == 7
    assert ps[0] is w[0] and ps[2] is w[1] and ps[4] is w[2] and ps[6] is b
    assert [ps[i].data for i in (1, 3, 5)] == [2.0, -3.0, 1.5]
    assert all(ps[i].op == "" and type(ps[i].data) is float for i in (1, 3, 5))
    assert z.local_grads == (2.0, 0.5, -3.0, -1.0, 1.5, 2.0, 1.0)
    assert z.data == 0.5 * 2 + -1.0 * -3 + 2.0 * 1.5 + 0.25
    z.backward()
    assert [v.grad for v in w] == [2.0, -3.0, 1.5]
    assert b.grad == 1.0


def test_weighted_sum_equals_the_binary_form() -> None:
    """Same value and gradients as w0*x0 + w1*x1 + b written with + and *."""
    vals = (0.3, -1.2, 2.2, 0.7, 0.1)
    a = [Value(v) for v in vals]
    weighted_sum([a[0], a[2]], [a[1], a[3]], a[4]).sigmoid().backward()
    c = [Value(v) for v in vals]
    (c[0] * c[1] + c[2] * c[3] + c[4]).sigmoid().backward()
    assert [v.grad for v in a] == pytest.approx([v.grad for v in c], rel=1e-14)


def test_weighted_sum_shared_operand() -> None:
    """A Value used as weight and input gets both contributions: d(w*w)/dw = 2w."""
    w = Value(3.0)
    z = weighted_sum([w, w], [w, 2.0])
    assert z.parents[:3] == (w, w, w)
    z.backward()
    assert w.grad == 2 * 3.0 + 2.0


@pytest.mark.parametrize(("a", "b"), [(1e-170, 1e-160), (2.5e-200, -3e-160), (1.0, 1e-150)])
def test_division_derivative_with_a_tiny_divisor(a: float, b: float) -> None:
    """d(a/b)/db = -a/b^2 stays accurate when b^2 is subnormal: computed as -(a/b)/b it is exact
    to rounding; -a/(b*b) loses digits (b*b keeps only a few significant bits there)."""
    va, vb = Value(a), Value(b)
    out = va / vb
    assert close(out.local_grads[0], 1.0 / b)
    assert close(out.local_grads[1], -(a / b) / b, rel=1e-12)
