"""Every bad input raises its built-in error with a message naming the operation and the value."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Value, op, weighted_sum

# (id, action, error type, substrings the message must contain)
BAD_INPUTS: list[tuple[str, Callable[[], object], type[Exception], tuple[str, ...]]] = [
    ("log(-2)", lambda: Value(-2.0).log(), ValueError, ("log", "-2.0")),
    ("log(0)", lambda: Value(0.0).log(), ValueError, ("log", "0.0")),
    ("sqrt(-4)", lambda: Value(-4.0).sqrt(), ValueError, ("sqrt", "-4.0")),
    ("sqrt(0)", lambda: Value(0.0).sqrt(), ValueError, ("sqrt", "0.0", "infinite")),
    ("x/0", lambda: Value(1.5) / 0, ZeroDivisionError, ("/", "0.0", "1.5")),
    ("x/Value(0)", lambda: Value(1.5) / Value(0.0), ZeroDivisionError, ("/", "0.0")),
    ("2/Value(0)", lambda: 2 / Value(0.0), ZeroDivisionError, ("/", "0.0")),
    ("0**-1", lambda: Value(0.0) ** -1, ValueError, ("**", "0.0", "-1")),
    ("0**-0.5", lambda: Value(0.0) ** -0.5, ValueError, ("**", "0.0", "-0.5")),
    ("0**0.5", lambda: Value(0.0) ** 0.5, ValueError, ("**", "0.0", "0.5", "infinite")),
    ("(-2)**0.5", lambda: Value(-2.0) ** 0.5, ValueError, ("**", "-2.0", "0.5")),
    ("(-8)**(1/3)", lambda: Value(-8.0) ** (1 / 3), ValueError, ("**", "-8.0", "0.333")),
    ("exp(1000)", lambda: Value(1000.0).exp(), ValueError, ("exp", "1000.0")),
    ("exp(710)", lambda: Value(710.0).exp(), ValueError, ("exp", "710.0")),
    ("(-2)**Value(2)", lambda: Value(-2.0) ** Value(2.0), ValueError, ("**", "-2.0", "a > 0")),
    ("0**Value(2)", lambda: Value(0.0) ** Value(2.0), ValueError, ("**", "0.0", "a > 0")),
    ("-3**Value", lambda: (-3) ** Value(2.0), ValueError, ("**", "-3.0")),
    ("10**Value(400)", lambda: 10 ** Value(400.0), ValueError, ("**", "10.0", "400.0")),
    ("Value(1e200)**2", lambda: Value(1e200) ** 2, ValueError, ("**", "1e+200")),
    ("Value(nan)", lambda: Value(math.nan), ValueError, ("Value", "nan")),
    ("Value(inf)", lambda: Value(math.inf), ValueError, ("Value", "inf")),
    ("Value(-inf)", lambda: Value(-math.inf), ValueError, ("Value", "-inf")),
    ("1e200*1e200", lambda: Value(1e200) * Value(1e200), ValueError, ("*", "1e+200")),
    ("1e200*number", lambda: Value(1e200) * 1e200, ValueError, ("*", "1e+200")),
    ("1e308+1e308", lambda: Value(1e308) + Value(1e308), ValueError, ("+", "1e+308")),
    ("-1e308-1e308", lambda: Value(-1e308) - 1e308, ValueError, ("-", "1e+308")),
    ("x+nan", lambda: Value(1.0) + math.nan, ValueError, ("nan",)),
    ("x*inf", lambda: Value(1.0) * math.inf, ValueError, ("inf",)),
    ("x/tiny", lambda: Value(1.0) / Value(1e-200), ValueError, ("/", "1e-200")),
    ("log(5e-324)", lambda: Value(5e-324).log(), ValueError, ("log", "5e-324")),
    (
        "wsum lengths",
        lambda: weighted_sum([Value(1.0), Value(2.0)], [Value(3.0)]),
        ValueError,
        ("weighted_sum", "2 weights", "1 inputs"),
    ),
    ("wsum number weight", lambda: weighted_sum([1.0], [Value(3.0)]), TypeError, ("weighted_sum", "float")),
    (
        "wsum number bias",
        lambda: weighted_sum([Value(1.0)], [Value(3.0)], 0.5),
        TypeError,
        ("weighted_sum", "bias", "float"),
    ),
    ("wsum str input", lambda: weighted_sum([Value(1.0)], ["x"]), TypeError, ("weighted_sum", "str")),
    ("wsum nan input", lambda: weighted_sum([Value(1.0)], [math.nan]), ValueError, ("weighted_sum", "nan")),
    ("wsum overflow", lambda: weighted_sum([Value(1e200)], [1e200]), ValueError, ("wsum",)),
    ("Value('x')", lambda: Value("x"), TypeError, ("Value", "str")),
    ("x**'2'", lambda: Value(2.0) ** "2", TypeError, ("**", "str")),
    ("x**nan", lambda: Value(2.0) ** math.nan, ValueError, ("**", "nan")),
]


@pytest.mark.parametrize(
    ("action", "error", "needles"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_raises_with_a_naming_message(
    action: Callable[[], object], error: type[Exception], needles: tuple[str, ...]
) -> None:
    """The error type is right and the message names the operation and the operand value."""
    with pytest.raises(error) as info:
        action()
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} missing from {message!r}"


def test_errors_are_not_silent_nan_or_inf() -> None:
    """Near-boundary inputs that are valid still give finite numbers (not a silent epsilon)."""
    assert Value(1e-300).log().data == math.log(1e-300)
    assert Value(709.0).exp().data == math.exp(709.0)
    assert Value(-1000.0).exp().data == 0.0
    assert (Value(-8.0) ** 3).data == -512.0
    assert (Value(-2.0) ** -1).data == -0.5
    assert (Value(0.0) ** 0).data == 1.0


def test_a_failed_operation_leaves_the_graph_untouched() -> None:
    """An error raised while building does not record anything on the operand."""
    x = Value(-1.0)
    with pytest.raises(ValueError):
        x.log()
    y = x * 2
    y.backward()
    assert x.grad == 2.0


def test_gradient_overflow_in_backward_is_an_error() -> None:
    """Finite forward values and local derivatives whose product overflows: ValueError, not inf."""
    x = Value(1e-200, label="x")
    y = x * 1e200 * 1e200  # forward: 1e-200 -> 1 -> 1e200, all finite; dy/dx = 1e400 overflows
    with pytest.raises(ValueError, match=r"backward: the gradient at 'x' .*overflows"):
        y.backward()


def test_finite_gradients_whose_sum_overflows_are_not_an_error() -> None:
    """The overflow check looks at each gradient, not at their sum: two grads of 1e308 are fine."""
    a, b = Value(1e-10, label="a"), Value(1e-10, label="b")
    y = a * 1e308 + b * 1e308  # forward 2e298; dy/da = dy/db = 1e308, their sum past float range
    y.backward()
    assert a.grad == 1e308 and b.grad == 1e308


# ---------------------------------------------------------------- .data set by hand to nan or inf
# Value(nan) is refused, but `v.data = nan` is a plain assignment. Every operation then refuses the
# operand, naming it, even where its rule would hide the NaN (relu, step, sign: a comparison with
# NaN is False) or turn an inf into a finite number (tanh(inf) = 1).

_BY_HAND: list[tuple[str, Any]] = [
    ("relu", lambda v: v.relu()), ("step", lambda v: v.step()), ("sign", lambda v: v.sign()),
    ("abs", lambda v: abs(v)), ("tanh", lambda v: v.tanh()), ("sigmoid", lambda v: v.sigmoid()),
    ("exp", lambda v: v.exp()), ("neg", lambda v: -v), (r"\*\*n", lambda v: v**2),
    (r"\+", lambda v: v + 1.0), (r"\*", lambda v: 0.0 * v), ("-", lambda v: 1.0 - v),
    ("/", lambda v: v / 2.0),
    (r"\*\*", lambda v: 2.0**v), ("wsum", lambda v: weighted_sum([Value(0.0)], [v])),
]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("name", "use"), _BY_HAND, ids=[n for n, _ in _BY_HAND])
def test_data_set_by_hand_to_nan_or_inf_is_refused_by_every_op(bad: float, name: str, use: Any) -> None:
    v = Value(1.0, "v")
    v.data = bad
    with pytest.raises(ValueError, match=rf"^{name}: .* got .+?={bad!r}, which is not a finite number"):
        use(v)


def test_a_learners_op_refuses_data_set_by_hand_even_where_its_rule_would_hide_it() -> None:
    @op(rule="0")
    def t21_flat(x: float) -> tuple[float, float]:
        return (1.0 if x > 0 else 0.0), 0.0  # flat(nan) would be a finite 0.0

    @op(rule=("1", "-1"))
    def t21_minus(a: float, b: float) -> tuple[float, float, float]:
        return a - b, 1.0, -1.0

    assert t21_minus(Value(1e308), Value(1e308)).data == 0.0  # huge operands are fine
    for bad in (math.nan, math.inf):
        v = Value(1.0)
        v.data = bad
        with pytest.raises(ValueError, match=rf"^t21_flat: t21_flat\(x\) got x={bad!r}, which is not"):
            t21_flat(v)
        with pytest.raises(ValueError, match=rf"^t21_minus: .* got a={bad!r}, which is not a finite number"):
            t21_minus(v, 1.0)
