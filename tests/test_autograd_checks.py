"""autograd.checks: what a number is, decided once, and the one wording of every message about it."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from autograd import Value
from autograd.checks import integer, is_int, is_real, needs, real_number, real_numbers, sequence, shown

np = pytest.importorskip("numpy")


@pytest.mark.parametrize(
    ("x", "real", "whole"),
    [
        (1, True, True),
        (2.5, True, False),
        (Fraction(1, 3), True, False),
        (np.float64(1.5), True, False),
        (np.int64(3), True, True),
        (True, False, False),  # bool is an int in Python, but True is not a weight or a count
        (np.bool_(True), False, False),
        ("1", False, False),
        (1j, False, False),
        (Decimal("1.5"), False, False),  # not numbers.Real
        (None, False, False),
        (Value(1.0), False, False),
    ],
)
def test_what_a_number_is(x: object, real: bool, whole: bool) -> None:
    assert is_real(x) is real and is_int(x) is whole


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (2.5, "2.5"),
        (math.inf, "inf"),
        ("a", "str 'a'"),
        (True, "bool True"),
        (None, "NoneType None"),
        (Fraction(1, 3), "Fraction(1, 3)"),  # its repr names its type already
        (10**400, "a 401-digit integer"),
        ("x" * 1000, "str '" + "x" * 56 + "..."),
    ],
)
def test_values_are_shown_short_with_their_type_when_it_is_not_int_or_float(value: object, text: str) -> None:
    assert shown(value) == text
    assert needs("f(x)", "a thing", value) == f"f(x) needs a thing, got {text}"


def test_an_int_past_strs_digit_limit_is_shown_by_its_length() -> None:
    assert shown(-(10**5000)) == "a negative 5001-digit integer"  # str() refuses past 4,300 digits


@pytest.mark.parametrize(
    ("kwargs", "bad", "message"),
    [
        ({}, math.nan, "f(x) needs a finite number, got nan"),
        ({"above": 0}, 0.0, "f(x) needs a finite number > 0, got 0.0"),
        ({"at_least": 0}, -1, "f(x) needs a finite number >= 0, got -1"),
        ({"below": 1}, 1, "f(x) needs a finite number < 1, got 1"),
        ({"at_most": 1}, 2, "f(x) needs a finite number <= 1, got 2"),
        ({"above": 0, "below": 1}, 1.0, "f(x) needs a number in (0, 1), got 1.0"),
        ({"at_least": 0, "below": 1}, math.inf, "f(x) needs a number in [0, 1), got inf"),
        ({"finite": False, "above": 0}, math.nan, "f(x) needs a number > 0, got nan"),
    ],
)
def test_real_number_states_its_bounds_in_the_message(
    kwargs: dict[str, float], bad: float, message: str
) -> None:
    with pytest.raises(ValueError) as info:
        real_number(bad, "f(x)", **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    with pytest.raises(TypeError) as type_info:
        real_number("0.5", "f(x)", **kwargs)  # type: ignore[arg-type]
    assert str(type_info.value) == message.rsplit(", got ", 1)[0] + ", got str '0.5'"


def test_real_number_converts_and_lets_non_finite_pass_when_asked() -> None:
    assert real_number(np.float32(0.5), "f(x)") == 0.5 and type(real_number(3, "f(x)")) is float
    assert real_number(Fraction(1, 4), "f(x)", above=0, below=1) == 0.25
    assert math.isinf(real_number(math.inf, "f(x)", finite=False))
    with pytest.raises(ValueError, match=r"^f\(x\) needs a finite number, got a 401-digit integer, beyond"):
        real_number(10**400, "f(x)")
    with pytest.raises(TypeError, match=r"^f\(x\) needs a finite number, got .*: use the Value itself"):
        real_number(Value(2.0), "f(x)")


def test_integer() -> None:
    assert integer(np.int64(3), "n") == 3 and type(integer(np.int64(3), "n")) is int
    for bad, error, message in [
        (0, ValueError, "fit(epochs) needs an int >= 1, got 0"),
        ("a", TypeError, "fit(epochs) needs an int >= 1, got str 'a'"),
        (2.0, TypeError, "fit(epochs) needs an int >= 1, got 2.0"),
        (True, TypeError, "fit(epochs) needs an int >= 1, got bool True"),
    ]:
        with pytest.raises(error) as info:
            integer(bad, "fit(epochs)", at_least=1)
        assert str(info.value) == message
    with pytest.raises(ValueError, match=r"^k needs an int in 0\.\.4, got 5$"):
        integer(5, "k", at_least=0, at_most=4)
    with pytest.raises(ValueError, match=r"^k needs an int <= 4, got 5$"):
        integer(5, "k", at_most=4)


def test_sequences_and_lists_of_numbers() -> None:
    assert real_numbers(np.array([1, 2.5]), "xs", length=2) == [1.0, 2.5]  # a 1-D array is a list here
    assert sequence((1, 2), "xs", "numbers") == (1, 2)
    with pytest.raises(TypeError, match=r"^xs needs a list of 2 numbers, got str 'ab'$"):
        sequence("ab", "xs", "numbers", length=2)
    with pytest.raises(ValueError, match=r"^xs needs a list of 2 numbers, got list of 3$"):
        sequence([1, 2, 3], "xs", "numbers", length=2)
    with pytest.raises(ValueError, match=r"^xs needs a non-empty list of numbers, got list of 0$"):
        sequence([], "xs", "numbers")
    with pytest.raises(TypeError, match=r"^xs\[1\] needs a finite number, got bool True$"):
        real_numbers([1.0, True], "xs")
    with pytest.raises(TypeError, match=r"^xs needs a list or 1-D array of 2 numbers, got 3$"):
        real_numbers(3, "xs", length=2)
