"""numerical_grad and gradcheck: right on known functions, and able to catch a wrong derivative."""

from __future__ import annotations

import math

import pytest

import autograd.ops
from autograd import Value, backprop_grad, gradcheck, is_grad_enabled, numerical_grad


def test_numerical_grad_of_known_functions() -> None:
    """Central differences of x^3 y + sin-free closed forms match the hand derivatives."""
    f = lambda p: p[0] ** 3 * p[1] + math.exp(p[1])  # noqa: E731
    x, y = 1.3, -0.7
    gx, gy = numerical_grad(f, [x, y])
    assert gx == pytest.approx(3 * x**2 * y, rel=1e-8)
    assert gy == pytest.approx(x**3 + math.exp(y), rel=1e-8)


def test_numerical_grad_accepts_a_value_result_and_ints() -> None:
    """f may return a Value (its .data is used); integer inputs are fine."""
    grads = numerical_grad(lambda p: Value(p[0]) * p[1], [2, 5])
    assert grads == pytest.approx([5.0, 2.0], rel=1e-9)


def test_numerical_grad_step_scales_with_the_input() -> None:
    """h = eps * max(1, |x|): for x = 1e8 the step is 100, visible on a kinked function."""
    # |x - 1e8 - 50| has its kink 50 above x = 1e8. With h = 100 the two evaluations straddle it:
    # (|100 - 50| - |-100 - 50|) / 200 = -0.5; a fixed h = 1e-6 would give -1.
    g = numerical_grad(lambda p: abs(p[0] - 1e8 - 50), [1e8])[0]
    assert g == -0.5
    g_small = numerical_grad(lambda p: abs(p[0] - 0.5), [0.0])[0]
    assert g_small == pytest.approx(-1.0, rel=1e-9)


def test_numerical_grad_does_not_mutate_the_input() -> None:
    """The caller's list is left alone."""
    xs = [1.0, 2.0]
    numerical_grad(lambda p: p[0] * p[1], xs)
    assert xs == [1.0, 2.0]


@pytest.mark.parametrize("eps", [0.0, -1e-6])
def test_bad_eps_rejected(eps: float) -> None:
    """eps must be > 0: ValueError naming eps."""
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(lambda p: p[0], [1.0], eps=eps)
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda vs: vs[0] * 2, [1.0], eps=eps)


def test_nan_eps_rejected() -> None:
    """eps = nan is not a step either: ValueError."""
    with pytest.raises(ValueError):
        numerical_grad(lambda p: p[0] * 2.0, [1.0], eps=math.nan)


def test_numerical_grad_rejects_bad_results() -> None:
    """f must return a finite number or a Value."""
    with pytest.raises(TypeError, match=r"^numerical_grad: f's result needs a finite number, got str 'x'$"):
        numerical_grad(lambda p: "x", [1.0])  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match=r"^numerical_grad: f's result needs a finite number, got inf$"):
        numerical_grad(lambda p: math.inf, [1.0])


def test_backprop_grad() -> None:
    """One backward pass through fresh leaves."""
    assert backprop_grad(lambda vs: vs[0] * vs[1] + vs[0], [2.0, 3.0]) == [4.0, 2.0]
    with pytest.raises(TypeError, match="float"):
        backprop_grad(lambda vs: 1.0, [2.0])  # type: ignore[arg-type, return-value]


def test_gradcheck_passes_and_returns_true() -> None:
    """A correct expression passes; gradcheck returns True and leaves recording on."""
    result = gradcheck(lambda vs: (vs[0] * vs[1]).tanh() + vs[1].exp() / vs[0], [0.4, -1.1])
    assert result is True
    assert is_grad_enabled()


def test_gradcheck_catches_a_wrong_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    """With tanh's rule returning twice the true derivative, gradcheck raises a per-input table.

    Value calls the table row's rule (ops.tanh.fn) at call time, so patching the row is enough.
    """
    true_tanh = autograd.ops.tanh.fn

    def wrong_tanh(x: float) -> tuple[float, float]:
        t, d = true_tanh(x)
        return t, 2.0 * d

    monkeypatch.setattr(autograd.ops.tanh, "fn", wrong_tanh)
    # x0 feeds the tanh, x1 does not: only x0's row must appear.
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda vs: vs[0].tanh() + vs[1] * 3, [0.375, 1.25])
    message = str(info.value)
    assert "1 of 2" in message
    assert "backprop" in message and "numerical" in message
    rows = [line.split() for line in message.splitlines() if line.strip().startswith("x")]
    assert len(rows) == 1
    name, value, backprop, numeric, diff = rows[0]
    assert name == "x0"
    assert float(value) == 0.375
    d = 1 - math.tanh(0.375) ** 2
    assert float(backprop) == pytest.approx(2 * d, rel=1e-6)
    assert float(numeric) == pytest.approx(d, rel=1e-6)
    assert float(diff) == pytest.approx(d, rel=1e-2)


def test_gradcheck_catches_a_slightly_wrong_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1% error in sigmoid's derivative is well above rtol=1e-4 and is caught."""
    true_sigmoid = autograd.ops.sigmoid.fn

    def off_by_one_percent(x: float) -> tuple[float, float]:
        s, d = true_sigmoid(x)
        return s, d * 1.01

    monkeypatch.setattr(autograd.ops.sigmoid, "fn", off_by_one_percent)
    with pytest.raises(AssertionError, match="x0"):
        gradcheck(lambda vs: vs[0].sigmoid(), [0.3])


def test_gradcheck_tolerances_are_respected() -> None:
    """A looser tolerance accepts what a tighter one rejects (kink straddled by the step)."""
    # relu at exactly 0: backprop 0 by convention, central differences 0.5.
    with pytest.raises(AssertionError):
        gradcheck(lambda vs: vs[0].relu(), [0.0])
    assert gradcheck(lambda vs: vs[0].relu(), [0.0], atol=0.6)
