"""Assigning `_backward` runs the closure once to read its slopes: that leaves no trace (issue 21)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autograd import Value, accumulating


def _node(x: Value, label: str = "h") -> Value:
    out = Value(2.0 * x.data, (x,), "double")
    out.label = label
    return out


def test_a_closure_that_sets_data_changes_nothing_at_assignment() -> None:
    x = Value(1.5, "x")
    out = _node(x)

    def _backward() -> None:
        x.data = 99.0  # a side effect: it must not outlive the probe
        out.data = -1.0
        x.grad += 2.0 * out.grad

    x.grad = 0.25
    out._backward = _backward
    assert (x.data, x.grad, out.data, out.grad) == (1.5, 0.25, 3.0, 0.0)
    assert out.local_grads == (2.0,)
    with accumulating():  # onto the 0.25 set by hand, on purpose
        out.backward()  # the slope, not the closure, runs in backward: x.data stays
    assert (x.data, x.grad) == (1.5, 2.25)


def test_a_closure_that_sets_grads_by_assignment_is_read_and_put_back() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    out = Value(3.0, (a, b), "f")
    a.grad, b.grad = 7.0, 8.0

    def _backward() -> None:
        a.grad = 3.0 * out.grad  # `=` instead of `+=`: read as the slope all the same
        b.grad += -1.0 * out.grad
        out.grad = 123.0

    out._backward = _backward
    assert out.local_grads == (3.0, -1.0)
    assert (a.grad, b.grad, out.grad) == (7.0, 8.0, 0.0)


def test_a_closure_that_calls_backward_is_refused_clearly() -> None:
    x = Value(1.0, "x")
    out = _node(x, "twice")

    def _backward() -> None:
        x.grad += 2.0 * out.grad
        out.backward()

    refused = r"^backward\(\) was called inside a _backward closure .* 'twice' \(data=2.0\)"
    with pytest.raises(RuntimeError, match=refused):
        out._backward = _backward
    assert (x.data, x.grad, out.grad, out.local_grads) == (1.0, 0.0, 0.0, (0.0,))
    out._backward = lambda: None  # a later, sane closure is still accepted
    out.backward()


def test_a_closure_that_assigns_backward_again_is_refused_not_recursion() -> None:
    x = Value(1.0, "x")
    out = _node(x)

    def _backward() -> None:
        out._backward = _backward  # would recurse forever

    with pytest.raises(RuntimeError, match=r"^assigning _backward was called inside a _backward closure"):
        out._backward = _backward


def test_a_closure_that_raises_leaves_the_numbers_as_they_were() -> None:
    x = Value(1.0, "x")
    out = _node(x)

    def _backward() -> None:
        x.data = 5.0
        x.grad += 1.0
        raise ZeroDivisionError("learner's bug")

    with pytest.raises(ZeroDivisionError, match="learner's bug"):
        out._backward = _backward
    assert (x.data, x.grad, out.grad) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (math.nan, r"the local derivative NaN"),
        (math.inf, r"the local derivative inf \(it overflows a float\)"),
        (-math.inf, r"the local derivative -inf \(it overflows a float\)"),
    ],
)
def test_a_closure_giving_a_non_finite_slope_is_refused_naming_the_node(bad: float, words: str) -> None:
    x = Value(1.0, "x")
    out = _node(x, "mine")

    def _backward() -> None:
        x.grad += bad * out.grad

    pattern = rf"^the _backward closure of 'mine' \(data=2.0\) gives child 0, 'x' \(data=1.0\), {words}"
    with pytest.raises(ValueError, match=pattern):
        out._backward = _backward
    assert out.local_grads == (0.0,)


@pytest.mark.parametrize("bad", ["1.5", None, 1j])
def test_a_closure_giving_something_not_a_number_is_a_type_error(bad: Any) -> None:
    x = Value(1.0, "x")
    out = _node(x)

    def _backward() -> None:
        x.grad = bad

    refused = r"set the grad of child 0, 'x' \(data=1.0\), to .*it must add a real number"
    with pytest.raises(TypeError, match=refused):
        out._backward = _backward
    assert x.grad == 0.0


def test_an_overflow_in_backward_names_the_closure_node_it_began_at() -> None:
    x = Value(1.0, "x")
    big = Value(1.0, (x,), "steep")
    big.label = "steep"

    def _backward() -> None:
        x.grad += 1e300 * big.grad

    big._backward = _backward
    out = big * 1e300  # finite forward; d out/dx = 1e300 * 1e300 overflows
    with pytest.raises(ValueError, match=(
        r"^backward: the gradient at 'x' \(data=1.0\) overflows a float: grad=inf; it began on the edge "
        r"from 'steep' \(data=1.0\) \(a _backward closure gave its local derivatives\) to 'x' \(data=1.0\): "
        r"local derivative 1e\+300 x grad 1e\+300"
    )):
        out.backward()
    assert x.grad == 0.0


def test_a_leaf_grad_set_to_nan_by_hand_is_named_as_such() -> None:
    x = Value(1.0, "x")
    y = x * 2.0
    x.grad = math.nan
    held = r"the gradient at 'x' \(data=1.0\) is NaN: grad=nan; it held nan before"
    with pytest.raises(ValueError, match=held):
        with accumulating():
            y.backward()
    assert math.isnan(x.grad)  # put back as it was
