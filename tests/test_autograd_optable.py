"""The operation table itself: every built-in row is documented and tested, and every engine reads it."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import pytest
from engines import ENGINES, close, disagreements, run_engines

from autograd import TABLE, Op, Value, check_op, op, ops, weighted_sum

BUILTINS = {name: row for name, row in TABLE.items() if row.builtin}

# ---------------------------------------------------------------- points per operation
# Every built-in needs an entry here (test_every_builtin_row_is_documented_and_tested): points
# across its domain where central differences are valid, on both sides of each kink and near each
# domain edge (no closer than the step check_op uses, 1e-6 * max(1, |x|), can resolve).

KINK = (-1.0, -1e-3, -1e-5, 1e-5, 1e-3, 1.0)
POINTS: dict[str, list[tuple[float, ...]]] = {
    "+": [(0.5, -2.0), (1e-300, 3e-300), (1e300, -5e299), (-7.25, 7.25)],
    "-": [(0.5, -2.0), (1e-300, 3e-300), (1e300, 5e299), (7.25, 7.25)],
    "*": [(0.5, -2.0), (1e-150, 3e-150), (1e150, -1e150), (0.0, 4.0), (-3.0, 0.0)],
    "/": [(1.0, 3.0), (-2.0, 1e-3), (2.0, -1e-3), (1e-200, 1e-3), (1e300, 1e10), (0.0, 2.0)],
    "neg": [(0.5,), (-3.0,), (1e-300,), (-1e300,), (0.0,)],
    "**n": [(0.5,), (2.0,), (1e-3,), (-2.0,), (-0.5,), (30.0,)],
    "**": [(0.5, 2.0), (2.0, -1.5), (1e-3, 2.0), (1e-3, -0.5), (3.0, 0.0), (1.0, 7.0)],
    "exp": [(-745.0,), (-30.0,), (-1.0,), (0.0,), (1.0,), (700.0,), (709.78,)],
    "log": [(1e-3,), (0.5,), (1.0,), (2.0,), (1e300,)],
    "sqrt": [(1e-3,), (0.25,), (2.0,), (1e300,)],
    "tanh": [(-20.0,), (-3.0,), *((x,) for x in KINK), (3.0,), (20.0,)],
    "sigmoid": [(-40.0,), (-3.0,), *((x,) for x in KINK), (3.0,), (40.0,)],
    "relu": [(x,) for x in KINK],
    "step": [(x,) for x in KINK],
    "sign": [(x,) for x in KINK],
    "abs": [(x,) for x in KINK],
}  # an n-ary row carries its own (`Op.points`): "wsum"
CONSTS = (2.0, 3.0, 0.5, -1.0, -2.0, 0.0, 1.0, 2.5, 1.5)  # the exponents n of x**n


def row_problems(row: Op) -> list[str]:
    """What a row lacks: symbol, one rule text (plain and LaTeX) per input, formula, docstring, points."""
    problems = []
    if not row.symbol:
        problems.append(f"{row.name}: no symbol")
    if not row.texts or not all(t.strip() for t in row.texts):
        problems.append(f"{row.name}: no rule text")
    if row.arity and len(row.texts) != row.arity:
        problems.append(f"{row.name}: {len(row.texts)} rule texts for {row.arity} inputs")
    if len(row.latex) != len(row.texts) or not all(t.strip() for t in row.latex):
        problems.append(f"{row.name}: LaTeX rule texts {row.latex!r} do not match {row.texts!r}")
    if not row.formula:
        problems.append(f"{row.name}: no formula")
    if not (row.fn.__doc__ or "").strip():
        problems.append(f"{row.name}: its rule has no docstring")
    if row.name not in POINTS and not row.points:
        problems.append(f"{row.name}: no test points in tests/test_autograd_optable.py POINTS")
    return problems


def test_every_builtin_row_is_documented_and_tested() -> None:
    """Each built-in row has a symbol, a rule text per input, a formula, a docstring and test points."""
    assert len(BUILTINS) >= 17
    problems = [p for row in BUILTINS.values() for p in row_problems(row)]
    assert problems == []


def test_the_table_check_fails_for_an_undocumented_op() -> None:
    """The loop above can fail: a bare op with no docstring and no points is reported."""

    def bare(x: float) -> tuple[float, float]:
        return x, 1.0

    row = Op(bare, name="t9_bare", symbol="", texts=("",), latex=("",), formula="", domain=(),
             const=None, vectorized=None, builtin=False)
    problems = row_problems(row)
    assert any("no symbol" in p for p in problems)
    assert any("no rule text" in p for p in problems)
    assert any("no formula" in p for p in problems)
    assert any("docstring" in p for p in problems)
    assert any("no test points" in p for p in problems)
    assert "t9_bare" not in TABLE


def test_builtins_are_registered_through_the_public_decorator() -> None:
    """The rows in autograd.ops are the objects in TABLE, and Value's methods use them."""
    for name, row in BUILTINS.items():
        assert isinstance(row, Op)
        assert row.name == name
    x = Value(0.3)
    assert x.tanh().operation is TABLE["tanh"] is ops.tanh
    assert (x / 2.0).operation is TABLE["/"] is ops.div
    assert (x**2).operation is TABLE["**n"]
    assert (x**x).operation is TABLE["**"]
    mine = op(lambda x: (x, 1.0), rule="1", name="tanh")  # a learner's "tanh" is theirs
    assert TABLE["tanh"] is ops.tanh is not mine
    with pytest.raises(ValueError, match=r"built-in op 'tanh' is defined twice"):
        op(lambda x: (x, 1.0), rule="1", name="tanh", _builtin=True)
    assert TABLE["tanh"] is ops.tanh


# ---------------------------------------------------------------- the inline + - * against the rows

EXTREMES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -3e-300, 2.2250738585072014e-308, 0.1, -0.7, 1.0, 3.0,
            -2.5, 1e10, 1e154, -1e154, 1e300, -1.7e308, 1.7976931348623157e308]
INLINE: dict[str, list[Callable[[float, float], Value]]] = {
    "+": [lambda a, b: Value(a) + Value(b), lambda a, b: Value(a) + b, lambda a, b: a + Value(b)],
    "-": [lambda a, b: Value(a) - Value(b), lambda a, b: Value(a) - b, lambda a, b: a - Value(b)],
    "*": [lambda a, b: Value(a) * Value(b), lambda a, b: Value(a) * b, lambda a, b: a * Value(b)],
}


def bits(x: float) -> str:
    """The exact float, sign of zero included."""
    return float(x).hex()


@pytest.mark.parametrize("name", sorted(INLINE))
def test_value_inline_arithmetic_equals_the_rows_exactly(name: str) -> None:
    """Value's inline + - * give bit for bit the row's value and local derivatives (or its error)."""
    row = TABLE[name]
    checked = 0
    for a in EXTREMES:
        for b in EXTREMES:
            value, da, db = row.fn(a, b)
            for form in INLINE[name]:
                if not all(math.isfinite(r) for r in (value, da, db)):
                    with pytest.raises(ValueError, match=r"overflows a float"):
                        form(a, b)
                    continue
                node = form(a, b)
                assert node.operation is row
                assert [bits(node.data), *map(bits, node.local_grads)] == [bits(value), bits(da), bits(db)], (
                    f"{a!r} {name} {b!r}"
                )
                checked += 1
    assert checked > 2 * len(EXTREMES) ** 2


def test_value_inline_relu_equals_the_row_exactly() -> None:
    """Value.relu computes ops.relu's rule inline: bit for bit the row's value and slope."""
    row = TABLE["relu"]
    for x in EXTREMES + [-x for x in EXTREMES]:
        value, slope = row.fn(x)
        node = Value(x).relu()
        assert node.operation is row
        assert [bits(node.data), *map(bits, node.local_grads)] == [bits(value), bits(slope)], x


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("width", [1, 2, 3, 16, 65])
def test_weighted_sum_inline_equals_the_wsum_row_exactly(width: int, bias: bool) -> None:
    """weighted_sum computes ops.wsum's rule inline: bit for bit the row's value and slopes."""
    rng = random.Random(width * 2 + bias)
    for trial in range(30):
        pool = EXTREMES[:-3] if trial % 3 == 0 else [rng.uniform(-3, 3) for _ in range(8)]
        ws = [Value(rng.choice(pool)) for _ in range(width)]
        xs = [Value(rng.choice(pool)) for _ in range(width)]
        b = Value(rng.choice(pool)) if bias else None
        operands = [v.data for pair in zip(ws, xs) for v in pair] + ([b.data] if b is not None else [])
        value, *slopes = ops.wsum.fn(*operands)
        if not all(math.isfinite(r) for r in (value, *slopes)):
            with pytest.raises(ValueError, match="overflows a float"):
                weighted_sum(ws, xs, b)
            continue
        node = weighted_sum(ws, xs, b)
        assert node.operation is ops.wsum
        assert [bits(node.data), *map(bits, node.local_grads)] == [bits(value), *map(bits, slopes)]
    # numbers as inputs take the checking path and still match
    node = weighted_sum([Value(0.5), Value(-2.0)], [3, 0.25], Value(1.0))
    assert (node.data, node.local_grads) == (ops.wsum.fn(0.5, 3.0, -2.0, 0.25, 1.0)[0],
                                             tuple(ops.wsum.fn(0.5, 3.0, -2.0, 0.25, 1.0)[1:]))


# ---------------------------------------------------------------- derivatives against central differences


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_passes_check_op(name: str) -> None:
    """check_op's default grid and the explicit points (kinks, domain edges, tiny, huge) all agree."""
    row = BUILTINS[name]
    default = check_op(row)
    assert default, str(default)
    points = POINTS.get(name) or list(row.points)
    report = check_op(row, points=points, consts=CONSTS)
    assert report, str(report)
    inputs = sum(len(p) for p in points) * (len(CONSTS) if row.const else 1)
    # Every point is checked, except x ** n outside its domain (0 to a negative power, ...).
    assert report.checked + report.skipped == inputs
    if row.const is None:
        assert report.skipped == 0, str(report)
    else:
        assert report.checked >= inputs // 2


@pytest.mark.parametrize(
    ("name", "point"), [("log", (1e-5,)), ("sqrt", (1e-5,)), ("/", (1.0, 1e-5)), ("/", (1e-200, 1e-170))]
)
def test_check_op_accepts_correct_rules_at_small_inputs(name: str, point: tuple[float, ...]) -> None:
    """A correct built-in rule passes check_op at a small input inside its domain."""
    report = check_op(TABLE[name], points=[point])
    assert report, str(report)


def test_check_op_points_cover_both_sides_of_each_kink() -> None:
    """The kinked rows are checked within 1e-5 of 0 on both sides."""
    for name in ("relu", "step", "sign", "abs", "tanh", "sigmoid"):
        xs = [p[0] for p in POINTS[name]]
        assert any(-1e-4 < x < 0 for x in xs) and any(0 < x < 1e-4 for x in xs), name


# ---------------------------------------------------------------- closed forms

MODERATE = [-3.0, -1.7, -0.4, -1e-8, 1e-8, 0.3, 0.9, 2.5, 3.0]
CLOSED_FORMS: dict[str, Callable[[float], tuple[float, float]]] = {
    "tanh": lambda x: (math.tanh(x), 1.0 / math.cosh(x) ** 2),
    "sigmoid": lambda x: (1.0 / (1.0 + math.exp(-x)), math.exp(-x) / (1.0 + math.exp(-x)) ** 2),
    "exp": lambda x: (math.exp(x), math.exp(x)),
    "neg": lambda x: (-x, -1.0),
    "log": lambda x: (math.log(abs(x)), 1.0 / abs(x)),
    "sqrt": lambda x: (math.sqrt(abs(x)), 0.5 / math.sqrt(abs(x))),
    "relu": lambda x: (max(x, 0.0), 1.0 if x > 0 else 0.0),
    "abs": lambda x: (abs(x), math.copysign(1.0, x)),
    "step": lambda x: (1.0 if x >= 0 else 0.0, 0.0),
    "sign": lambda x: (1.0 if x >= 0 else -1.0, 0.0),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("x", MODERATE)
def test_unary_row_equals_its_closed_form(name: str, x: float) -> None:
    """tanh' = 1/cosh^2, sigmoid' = e^-x/(1+e^-x)^2, log' = 1/x, ... to 1e-12 (a positive x for log, sqrt)."""
    point = abs(x) if name in ("log", "sqrt") else x
    value, deriv = TABLE[name].fn(point)
    want_value, want_deriv = CLOSED_FORMS[name](x)
    assert close(value, want_value, atol=1e-300)
    assert close(deriv, want_deriv, atol=1e-300)


@pytest.mark.parametrize(("a", "b"), [(0.5, 2.0), (3.0, -0.25), (1e-3, 7.0), (2.0, 2.0), (-1.5, 1e-3)])
def test_binary_rows_equal_their_closed_forms(a: float, b: float) -> None:
    """a/b: 1/b, -a/b^2; a*b: b, a; a^b: b a^(b-1), a^b ln a; x^n: n x^(n-1); wsum: x_i, w_i, 1."""
    assert all(close(g, w) for g, w in zip(TABLE["/"].fn(a, b), (a / b, 1 / b, -a / (b * b))))
    assert TABLE["*"].fn(a, b) == (a * b, b, a)
    assert TABLE["+"].fn(a, b) == (a + b, 1.0, 1.0)
    assert TABLE["-"].fn(a, b) == (a - b, 1.0, -1.0)
    base = abs(a)
    want = (base**b, b * base ** (b - 1), base**b * math.log(base))
    assert all(close(g, w) for g, w in zip(TABLE["**"].fn(base, b), want))
    for n in (2.0, 3.0, -1.0, 0.5):
        want = (base**n, n * base ** (n - 1))
        assert all(close(g, w) for g, w in zip(TABLE["**n"].fn(base, n), want))
    assert TABLE["wsum"].fn(a, b, 2.0, a, 0.5) == (a * b + 2.0 * a + 0.5, b, a, a, 2.0, 1.0)


@pytest.mark.parametrize(("name", "x"), [("tanh", 10.0), ("tanh", -15.0), ("sigmoid", 30.0)])
def test_saturated_derivatives_keep_their_digits(name: str, x: float) -> None:
    """The derivative deep in saturation still equals the closed form to 1e-12."""
    assert close(TABLE[name].fn(x)[1], CLOSED_FORMS[name](x)[1], atol=1e-300)


# ---------------------------------------------------------------- the probes in all three engines


def divide(v: list[Value]) -> Value:
    """a / b."""
    return v[0] / v[1]


def test_division_with_a_tiny_divisor_gives_the_same_gradient_everywhere() -> None:
    """a = 1e-200, b = 1e-170: d(a/b)/db = -a/b^2 = -1e140 in the scalar engine and both tapes."""
    results = run_engines(divide, [1e-200, 1e-170])
    for name in ENGINES:
        got = results[name]
        assert got.error is None, f"{name}: {got.message}"
        assert got.value is not None and close(got.value, 1e-30)
        assert close(got.grads[0], 1e170), name
        assert close(got.grads[1], -1e140), name


def test_division_that_squares_below_the_float_range_agrees() -> None:
    """a = 1e-300, b = 1e-160 (b*b underflows): all three engines agree to 1e-12 relative."""
    results = run_engines(divide, [1e-300, 1e-160])
    assert disagreements(results) == []
    assert close(results["scalar"].grads[1], -1e-300 / 1e-160 / 1e-160)


def test_exp_at_the_top_of_the_float_range_works_everywhere() -> None:
    """exp(709.781) is finite, so every engine computes it (no hard-coded 709.78 limit)."""
    results = run_engines(lambda v: v[0].exp(), [709.781])
    for name in ENGINES:
        assert results[name].error is None, f"{name}: {results[name].message}"
        assert close(results[name].value or 0.0, math.exp(709.781))
    assert disagreements(results) == []


def test_exp_past_the_float_range_is_a_value_error_naming_exp_everywhere() -> None:
    """exp(710) overflows: a ValueError whose message names exp, in all three engines."""
    results = run_engines(lambda v: v[0].exp(), [710.0])
    for name in ENGINES:
        assert results[name].error is ValueError, name
        assert "exp" in results[name].message and "710" in results[name].message, results[name].message


# ---------------------------------------------------------------- domain errors: one type in every engine


def unary(name: str, const: float | None = None) -> Callable[[list[Value]], Value]:
    """Apply the row `name` to the first leaf (with its constant)."""
    row = TABLE[name]
    return (lambda v: row(v[0])) if const is None else (lambda v: row(v[0], const))


def binary(name: str) -> Callable[[list[Value]], Value]:
    """Apply the row `name` to the first two leaves."""
    row = TABLE[name]
    return lambda v: row(v[0], v[1])


DOMAIN_PROBES: list[tuple[str, float | None, Sequence[float], type[Exception]]] = [
    ("/", None, (1.0, 0.0), ZeroDivisionError),
    ("/", None, (0.0, -0.0), ZeroDivisionError),
    ("log", None, (0.0,), ValueError),
    ("log", None, (-2.0,), ValueError),
    ("sqrt", None, (-1.0,), ValueError),
    ("sqrt", None, (0.0,), ValueError),
    ("**n", -1.0, (0.0,), ValueError),
    ("**n", 0.5, (-2.0,), ValueError),
    ("**n", 0.5, (0.0,), ValueError),
    ("**", None, (-1.0, 2.0), ValueError),
    ("**", None, (0.0, 2.0), ValueError),
]
OVERFLOW_PROBES: list[tuple[str, float | None, Sequence[float], type[Exception]]] = [
    ("exp", None, (710.0,), ValueError),
    ("*", None, (1e200, 1e200), ValueError),
    ("+", None, (1.7e308, 1.7e308), ValueError),
    ("-", None, (1.7e308, -1.7e308), ValueError),
    ("/", None, (1e300, 1e-300), ValueError),
    ("/", None, (1.0, 1e-310), ValueError),
    ("**n", 2.0, (1e200,), ValueError),
    ("**n", -2.0, (1e-200,), ValueError),
    ("**", None, (10.0, 400.0), ValueError),
    ("log", None, (5e-324,), ValueError),
]


@pytest.mark.parametrize(
    ("name", "const", "point", "error"),
    DOMAIN_PROBES + OVERFLOW_PROBES,
    ids=[f"{p[0]}{p[2]}" for p in DOMAIN_PROBES + OVERFLOW_PROBES],
)
def test_domain_errors_have_one_type_and_message_in_every_engine(
    name: str, const: float | None, point: Sequence[float], error: type[Exception]
) -> None:
    """Outside the domain (or past float range) all three raise the same type with the row's message."""
    build = unary(name, const) if TABLE[name].arity == 1 else binary(name)
    results = run_engines(build, point)
    scalar = results["scalar"]
    assert scalar.error is error, scalar.message or "no error"
    for tape in ("python", "numpy"):
        assert results[tape].error is error, f"{tape}: {results[tape].message or 'no error'}"
        assert scalar.message in results[tape].message


def test_every_domain_check_has_a_probe() -> None:
    """Each (ok, message, error) entry of every built-in row is violated by one DOMAIN_PROBES point."""
    missing = []
    for row in BUILTINS.values():
        for index, (ok, _message, _error) in enumerate(row.domain):
            probes = [p for p in DOMAIN_PROBES if p[0] == row.name]
            args = [(*p[2], p[1]) if row.const else tuple(p[2]) for p in probes]
            if all(ok(*a) for a in args):
                missing.append(f"{row.name} domain check {index}")
    assert missing == []
