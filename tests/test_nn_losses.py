"""Losses: values against closed forms on floats, gradients against central differences, bad input."""

from __future__ import annotations

import math

import pytest

import nn
from autograd import Value, gradcheck


def test_squared_error_is_the_posts_half_sum() -> None:
    pred = [Value(0.8), Value(0.1)]
    e = nn.squared_error(pred, [1.0, 0.0])
    assert e.data == pytest.approx(0.5 * ((0.8 - 1.0) ** 2 + 0.1**2))
    e.backward()
    assert [p.grad for p in pred] == pytest.approx([0.8 - 1.0, 0.1])  # dE/dY' = Y' - Y


def test_mse_is_the_mean() -> None:
    assert nn.mse([1.0, 2.0, 4.0], [0.0, 0.0, 0.0]).data == pytest.approx((1 + 4 + 16) / 3)
    assert nn.mse(Value(3.0), 1.0).data == pytest.approx(4.0)


@pytest.mark.parametrize(("score", "y", "expected"), [(0.3, 1.0, 0.7), (2.0, 1.0, 0.0), (0.3, -1.0, 1.3)])
def test_hinge_is_micrographs_max_margin(score: float, y: float, expected: float) -> None:
    assert nn.hinge(Value(score), y).data == pytest.approx(expected)


def bce_from_logit(z: float, t: float) -> float:
    """Reference -(t log p + (1-t) log(1-p)) with p = sigmoid(z), using log p = -log1p(e^-z)
    and log(1-p) = -z - log1p(e^-z) (accurate where 1 - p rounds)."""
    log_p = -math.log1p(math.exp(-z))
    return -(t * log_p + (1 - t) * (log_p - z))


@pytest.mark.parametrize("z", [-30.0, -3.0, -0.5, 0.0, 0.5, 3.0, 30.0])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_binary_cross_entropy_from_a_sigmoid_equals_the_closed_form(z: float, t: float) -> None:
    p = 1 / (1 + math.exp(-z))
    assert nn.binary_cross_entropy(Value(z).sigmoid(), t).data == pytest.approx(
        bce_from_logit(z, t), rel=1e-12
    )
    # d/dz = sigmoid(z) - t
    leaf = Value(z)
    nn.binary_cross_entropy(leaf.sigmoid(), t).backward()
    assert leaf.grad == pytest.approx(p - t, abs=1e-12)


@pytest.mark.parametrize(
    ("z", "t", "expected"), [(800.0, 1.0, 0.0), (800.0, 0.0, 800.0), (-800.0, 1.0, 800.0)]
)
def test_binary_cross_entropy_is_stable_where_the_sigmoid_rounds_to_0_or_1(
    z: float, t: float, expected: float
) -> None:
    prob = Value(z).sigmoid()
    assert prob.data in (0.0, 1.0)
    assert nn.binary_cross_entropy(prob, t).data == pytest.approx(expected, abs=1e-12)


def test_binary_cross_entropy_on_plain_probabilities() -> None:
    assert nn.binary_cross_entropy(Value(0.8), 1.0).data == pytest.approx(-math.log(0.8))
    assert nn.binary_cross_entropy(Value(0.0), 0.0).data == 0.0  # the log that would diverge is not needed
    assert nn.binary_cross_entropy(Value(1.0), 1.0).data == 0.0
    with pytest.raises(ValueError, match=r"infinite for p=0\.0 with target 1\.0"):
        nn.binary_cross_entropy(Value(0.0), 1.0)
    with pytest.raises(ValueError, match=r"infinite for p=1\.0"):
        nn.binary_cross_entropy(Value(1.0), 0.5)


def test_softmax_sums_to_one_and_is_stable() -> None:
    probs = nn.softmax([Value(1000.0), Value(999.0), Value(-5.0)])
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    e = math.exp(-1.0)
    assert probs[0].data == pytest.approx(1 / (1 + e + math.exp(-1005.0)))


def test_cross_entropy_equals_minus_log_softmax() -> None:
    logits = [0.5, -1.0, 2.0]
    total = sum(math.exp(z) for z in logits)
    for target in range(3):
        expected = -math.log(math.exp(logits[target]) / total)
        assert nn.cross_entropy([Value(z) for z in logits], target).data == pytest.approx(expected, rel=1e-12)
    # Huge logits do not overflow.
    assert nn.cross_entropy([Value(1000.0), Value(0.0)], 1).data == pytest.approx(1000.0)


def test_cross_entropy_gradient_is_softmax_minus_one_hot() -> None:
    logits = [Value(0.5), Value(-1.0), Value(2.0)]
    nn.cross_entropy(logits, 2).backward()
    probs = [p.data for p in nn.softmax([0.5, -1.0, 2.0])]
    assert [z.grad for z in logits] == pytest.approx([probs[0], probs[1], probs[2] - 1.0], abs=1e-12)


GRADCHECK_CASES = [
    ("squared_error", lambda v: nn.squared_error(v, [0.5, -1.0, 2.0]), [0.3, 0.7, -1.2]),
    ("mse", lambda v: nn.mse(v, [0.5, -1.0, 2.0]), [0.3, 0.7, -1.2]),
    ("hinge", lambda v: nn.hinge(v[0] * v[1], -1.0), [0.4, 0.6]),
    ("bce_sigmoid", lambda v: nn.binary_cross_entropy(v[0].sigmoid(), 0.3), [0.8]),
    ("bce_sigmoid_at_0", lambda v: nn.binary_cross_entropy(v[0].sigmoid(), 1.0), [0.0]),
    ("bce_plain", lambda v: nn.binary_cross_entropy(v[0] * 0.5, 0.3), [0.9]),
    ("cross_entropy", lambda v: nn.cross_entropy(v, 1), [0.3, 0.7, -1.2, 2.0]),
    ("softmax", lambda v: nn.softmax(v)[2] * 3.0, [0.3, 0.7, -1.2]),
]


@pytest.mark.parametrize(("name", "f", "xs"), GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_every_loss_passes_gradcheck(name: str, f: object, xs: list[float]) -> None:
    assert gradcheck(f, xs)  # type: ignore[arg-type]


def test_gradcheck_catches_a_wrong_loss_derivative() -> None:
    # A checker must be able to fail: E = 0.5 * (y' - y)^2 with the slope dE/d(square) set to 3, not 0.5.
    def wrong(v: list[Value]) -> Value:
        out = nn.squared_error(v, [0.0])
        out._db = 3.0
        return out

    with pytest.raises(AssertionError, match="disagree"):
        gradcheck(wrong, [0.5])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: nn.squared_error([Value(1.0), Value(2.0)], [1.0]),
            ValueError,
            "2 predictions and 1 targets",
        ),
        (lambda: nn.mse([Value(1.0)], [1.0, 2.0]), ValueError, "1 predictions and 2 targets"),
        (lambda: nn.squared_error([], []), ValueError, "at least one"),
        (lambda: nn.hinge(Value(1.0), 0.0), ValueError, "-1 or \\+1, got 0.0"),
        (lambda: nn.binary_cross_entropy(Value(0.5), 1.5), ValueError, r"\[0, 1\], got 1.5"),
        (
            lambda: nn.cross_entropy([Value(1.0), Value(2.0)], 2),
            ValueError,
            r"^cross_entropy\(target_index\) needs an int in 0..1, got 2$",
        ),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], -1), ValueError, r"an int in 0..1, got -1$"),
        (lambda: nn.cross_entropy([Value(1.0)], 0.0), TypeError, r"needs an int in 0..0, got 0.0$"),  # type: ignore[arg-type]
        (lambda: nn.cross_entropy([Value(1.0)], True), TypeError, r"needs an int in 0..0, got bool True$"),
        (
            lambda: nn.squared_error(Value(1.0), math.nan),
            ValueError,
            r"^squared_error\(target\[0\]\) needs a finite number, got nan$",
        ),
        (
            lambda: nn.squared_error(Value(1.0), "1"),  # type: ignore[arg-type]
            TypeError,
            r"^squared_error\(target\[0\]\) needs a finite number, got str '1'$",
        ),
        (
            lambda: nn.squared_error(["a"], [1.0]),  # type: ignore[list-item]
            TypeError,
            r"^squared_error\(prediction\[0\]\) needs a finite number, got str 'a'$",
        ),
    ],
)
def test_bad_loss_inputs(call: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
