"""The posts' smallest network: backprop equals the closed-form dE/dW0 and dE/dW1.

x -> Z0 = W0 X -> a0 = s(Z0) -> Z1 = W1 a0 -> Y' = s(Z1), E = 1/2 (Y' - Y)^2, with
s(z) = 1/(1+e^-z) and s'(z) = s(z)(1 - s(z)). The post derives
    dE/dW1 = (Y' - Y) s'(Z1) a0
    dE/dW0 = (Y' - Y) s'(Z1) W1 s'(Z0) X
"""

from __future__ import annotations

import itertools
import math

import pytest

from autograd import Value, gradcheck, numerical_grad, topological_order, weighted_sum

POINTS = [
    # (X, W0, W1, Y)
    (1.0, 0.5, -0.3, 1.0),
    (-2.0, 1.5, 2.0, 0.0),
    (0.3, -0.8, 1.2, 0.7),
    (4.0, 0.05, -3.0, 1.0),
    (0.0, 2.0, 0.5, 0.25),
]


def s(z: float) -> float:
    """The posts' sigmoid on plain floats."""
    return 1.0 / (1.0 + math.exp(-z))


def ds(z: float) -> float:
    """s'(z) = s(z)(1 - s(z))."""
    return s(z) * (1.0 - s(z))


def closed_form(x: float, w0: float, w1: float, y: float) -> tuple[float, float, float]:
    """(E, dE/dW0, dE/dW1) by the posts' formulas, plain floats only."""
    z0 = w0 * x
    a0 = s(z0)
    z1 = w1 * a0
    out = s(z1)
    e = 0.5 * (out - y) ** 2
    de_dw1 = (out - y) * ds(z1) * a0
    de_dw0 = (out - y) * ds(z1) * w1 * ds(z0) * x
    return e, de_dw0, de_dw1


def network(x: Value | float, w0: Value, w1: Value, y: Value | float) -> Value:
    """The smallest network and its error, written as the post writes it."""
    z0 = w0 * x
    a0 = z0.sigmoid()
    z1 = w1 * a0
    out = z1.sigmoid()
    return 0.5 * (out - y) ** 2


@pytest.mark.parametrize(("x", "w0", "w1", "y"), POINTS)
def test_gradients_equal_the_posts_closed_forms(x: float, w0: float, w1: float, y: float) -> None:
    """dE/dW0 and dE/dW1 from backward() equal the closed forms to 1e-12."""
    W0, W1 = Value(w0, label="W0"), Value(w1, label="W1")
    E = network(x, W0, W1, y)
    E.backward()
    e, de_dw0, de_dw1 = closed_form(x, w0, w1, y)
    assert E.data == pytest.approx(e, rel=1e-12, abs=1e-15)
    assert W0.grad == pytest.approx(de_dw0, rel=1e-12, abs=1e-15)
    assert W1.grad == pytest.approx(de_dw1, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("x", "w0", "w1", "y"), POINTS)
def test_gradients_equal_central_differences(x: float, w0: float, w1: float, y: float) -> None:
    """The same gradients against central differences of the float closed form of E."""
    numeric = numerical_grad(lambda p: closed_form(x, p[0], p[1], y)[0], [w0, w1])
    W0, W1 = Value(w0), Value(w1)
    network(x, W0, W1, y).backward()
    assert W0.grad == pytest.approx(numeric[0], rel=1e-6, abs=1e-9)
    assert W1.grad == pytest.approx(numeric[1], rel=1e-6, abs=1e-9)
    assert gradcheck(lambda vs: network(x, vs[0], vs[1], y), [w0, w1])
    # With X and Y as Values too: dE/dX and dE/dY also match central differences.
    assert gradcheck(lambda vs: network(vs[0], vs[1], vs[2], vs[3]), [x, w0, w1, y])


def test_every_edge_carries_the_posts_factor() -> None:
    """Each local derivative along the path is one factor of the posts' product."""
    x, w0, w1, y = 0.3, -0.8, 1.2, 0.7
    W0, W1 = Value(w0), Value(w1)
    z0 = W0 * x
    a0 = z0.sigmoid()
    z1 = W1 * a0
    out = z1.sigmoid()
    diff = out - y
    E = 0.5 * diff**2
    E.backward()
    Z0, Z1 = w0 * x, w1 * s(w0 * x)
    assert diff.grad == pytest.approx(s(Z1) - y, rel=1e-12)  # dE/dY' = (Y' - Y)
    assert out.local_grads == pytest.approx((ds(Z1),), rel=1e-12)  # s'(Z1)
    assert z1.local_grads == pytest.approx((s(Z0), w1), rel=1e-12)  # dZ1/dW1 = a0, dZ1/da0 = W1
    assert a0.local_grads == pytest.approx((ds(Z0),), rel=1e-12)  # s'(Z0)
    assert z0.local_grads == pytest.approx((x, w0), rel=1e-12)  # dZ0/dW0 = X
    assert [n.op for n in topological_order(E) if n.op] == ["*", "sigmoid", "*", "sigmoid", "-", "**2", "*"]


def test_neuron_form_with_weighted_sum() -> None:
    """The same network written with weighted_sum (one input, no bias) gives the same gradients."""
    for x, w0, w1, y in POINTS:
        W0, W1 = Value(w0), Value(w1)
        a0 = weighted_sum([W0], [x]).sigmoid()
        E = 0.5 * (weighted_sum([W1], [a0]).sigmoid() - y) ** 2
        E.backward()
        _, de_dw0, de_dw1 = closed_form(x, w0, w1, y)
        assert W0.grad == pytest.approx(de_dw0, rel=1e-12, abs=1e-15)
        assert W1.grad == pytest.approx(de_dw1, rel=1e-12, abs=1e-15)


def test_gradient_descent_step_lowers_the_error() -> None:
    """W <- W - lr dE/dW lowers E, the posts' reason for computing the gradient."""
    x, y = 1.0, 1.0
    W0, W1 = Value(0.5), Value(-0.3)
    errors = []
    for _ in range(5):
        W0.grad = W1.grad = 0.0
        E = network(x, W0, W1, y)
        E.backward()
        errors.append(E.data)
        W0.data -= 1.0 * W0.grad
        W1.data -= 1.0 * W1.grad
    assert all(b < a for a, b in itertools.pairwise(errors))
