"""check_backward: a learner's `_backward` closures (the lecture's way), right ones pass, each slip is named.

References are independent of the check: central differences of the forward, closed forms
(sin' = cos, tanh' = 1 - tanh², d(ab)/da = b), and what the engine's own backward gives.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from expressions import EXPRESSIONS, VALUES, Expr

import autograd
from autograd import Value, check_backward
from autograd.closurecheck import (
    ASSIGNED,
    FACTOR,
    FORWARD_VALUE,
    MISSING_OUT_GRAD,
    NO_CLOSURE,
    OTHER,
    OTHER_INPUT,
    SIGN,
)

# ---------------------------------------------------------------- the lecture's closures, right


def sin(self: Value) -> Value:
    out = Value(math.sin(self.data), (self,), "sin")

    def _backward() -> None:
        self.grad += math.cos(self.data) * out.grad

    out._backward = _backward
    return out


def tanh(self: Value) -> Value:
    t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def exp(self: Value) -> Value:
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward() -> None:
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


def mul(self: Value, other: Value) -> Value:
    out = Value(self.data * other.data, (self, other), "*")

    def _backward() -> None:
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


def log(self: Value) -> Value:
    out = Value(math.log(self.data), (self,), "log")

    def _backward() -> None:
        self.grad += (1 / self.data) * out.grad

    out._backward = _backward
    return out


# ---------------------------------------------------------------- the same, each with one slip


def sin_without_out_grad(self: Value) -> Value:
    out = Value(math.sin(self.data), (self,), "sin")

    def _backward() -> None:
        self.grad += math.cos(self.data)  # forgets * out.grad

    out._backward = _backward
    return out


def mul_assigning(self: Value, other: Value) -> Value:
    out = Value(self.data * other.data, (self, other), "*")

    def _backward() -> None:
        self.grad = other.data * out.grad  # = where += belongs
        other.grad = self.data * out.grad

    out._backward = _backward
    return out


def tanh_wrong_sign(self: Value) -> Value:
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (t**2 - 1) * out.grad

    out._backward = _backward
    return out


def mul_swapped(self: Value, other: Value) -> Value:
    out = Value(self.data * other.data, (self, other), "*")

    def _backward() -> None:
        self.grad += self.data * out.grad
        other.grad += other.data * out.grad

    out._backward = _backward
    return out


def sigmoid_forward_value(self: Value) -> Value:
    s = 1 / (1 + math.exp(-self.data))
    out = Value(s, (self,), "sigmoid")

    def _backward() -> None:
        self.grad += s * out.grad  # sigma(z), not sigma(z)(1 - sigma(z))

    out._backward = _backward
    return out


def tanh_as_one_minus_x_squared(self: Value) -> Value:
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - self.data**2) * out.grad

    out._backward = _backward
    return out


def exp_without_closure(self: Value) -> Value:
    return Value(math.exp(self.data), (self,), "exp")


RIGHT: list[Callable[..., Value]] = [sin, tanh, exp, mul, log]


@pytest.mark.parametrize("fn", RIGHT, ids=lambda f: f.__name__)
def test_right_closures_pass(fn: Callable[..., Value]) -> None:
    report = check_backward(fn)
    assert report, str(report)
    assert report.checked == 6 and report.problems == []
    assert str(report).startswith(f"{fn.__name__}: right at 6 random points")


def test_the_lecture_check_with_out_grad_1_misses_the_forgotten_out_grad() -> None:
    # The lecture's way: backward from the node itself, out.grad = 1: the slip is invisible.
    a = Value(0.7)
    out = sin_without_out_grad(a)
    out.backward()
    assert a.grad == pytest.approx(math.cos(0.7), rel=1e-12)
    # Used inside a graph, the gradient is wrong (d(3 sin a)/da = 3 cos a).
    b = Value(0.7)
    (sin_without_out_grad(b) * 3.0).backward()
    assert b.grad == pytest.approx(3 * math.cos(0.7))  # the engine reads the slope once: it looks right
    report = check_backward(sin_without_out_grad)
    assert not report
    assert report.cause("self") == [MISSING_OUT_GRAD]
    text = str(report)
    assert "self (argument 1)" in text and "`* out.grad`" in text
    assert "right with out.grad = 1, but" in text


def test_missing_out_grad_evidence_carries_the_closed_form_numbers() -> None:
    report = check_backward(sin_without_out_grad, points=[0.7])
    (problem,) = report.problems
    line = next(e for e in problem.evidence if e.startswith("right with out.grad = 1, but"))
    assert f"added {math.cos(0.7):.6g} to self.grad" in line  # cos(0.7), not scaled
    g = float(line.split("with out.grad = ")[2].split(":")[0])
    assert f"the chain rule says {g:.4g} × {math.cos(0.7):.6g}" in line


def test_assigning_instead_of_adding_is_named_for_both_inputs() -> None:
    report = check_backward(mul_assigning)
    assert not report
    assert report.cause("self") == [ASSIGNED]
    assert report.cause("other") == [ASSIGNED]
    text = str(report)
    assert "`.grad += ...`" in text and "mul_assigning(self, self)" in text


def test_assigning_shows_in_fn_a_a_where_the_two_terms_must_add() -> None:
    report = check_backward(mul_assigning, points=[(1.5, -0.5)])
    shared = [e for p in report.problems for e in p.evidence if "mul_assigning(self, self)" in e]
    assert len(shared) == 1  # d(a·a)/da = a + a = 3 at a = 1.5; the slip keeps one a
    assert "× (1.5 + 1.5)" in shared[0]
    g = float(shared[0].split("out.grad = ")[1].split(":")[0])
    assert f"self.grad = {g * 1.5:.6g}"[:16] in shared[0]


def test_wrong_sign_is_named() -> None:
    report = check_backward(tanh_wrong_sign, points=[0.3, -1.2])
    assert report.cause("self") == [SIGN]
    assert f"{1 - math.tanh(0.3) ** 2:.6g}" in str(report)


def test_other_inputs_derivative_is_named() -> None:
    report = check_backward(mul_swapped)
    assert report.cause("self") == [OTHER_INPUT] and report.cause("other") == [OTHER_INPUT]


def test_forward_value_for_the_derivative_is_named() -> None:
    assert check_backward(sigmoid_forward_value).cause("self") == [FORWARD_VALUE]


def test_tanh_as_one_minus_x_squared_is_wrong_with_its_numbers() -> None:
    report = check_backward(tanh_as_one_minus_x_squared, points=[0.5])
    assert report.cause("self") == [OTHER]
    text = str(report)
    assert f"{1 - 0.5**2:.6g}" in text and f"{1 - math.tanh(0.5) ** 2:.6g}" in text


def pow2_forgetting_the_2(self: Value) -> Value:
    out = Value(self.data**2, (self,), "**2")

    def _backward() -> None:
        self.grad += self.data * out.grad  # 2 * self.data

    out._backward = _backward
    return out


def test_a_forgotten_constant_factor_is_named_and_not_confused_with_assigning() -> None:
    report = check_backward(pow2_forgetting_the_2, points=[1.5])
    assert report.cause("self") == [FACTOR]
    assert "d out/d self = 3" in str(report) and "added 1.5 to self.grad" in str(report)
    # a*a with `=`: also half the gradient at out.grad = 1, but the cause is the assignment.
    assert check_backward(lambda a: mul_assigning(a, a)).cause("a") == [ASSIGNED]
    assert check_backward(lambda a: mul(a, a))


def test_a_node_without_its_closure_is_named() -> None:
    assert check_backward(exp_without_closure).cause("self") == [NO_CLOSURE]


def test_composed_closures_and_built_in_ops() -> None:
    assert check_backward(lambda a, b: mul(tanh(a), exp(b)))
    assert check_backward(lambda a, b: (a * b).tanh() + a)
    assert check_backward(lambda a: a.tanh())
    report = check_backward(lambda a, b: mul_assigning(tanh(a), b) + 1.0)
    assert not report and ASSIGNED in report.cause("b")


def test_the_output_used_twice_downstream_of_an_assigning_closure() -> None:
    # out feeds two nodes: the grad of out must be the sum; an assigning consumer keeps only one.
    report = check_backward(lambda a: mul_assigning(sin(a), Value(2.0)) + sin(a))
    assert report  # the shared Value here is `a` through two separate sin nodes: fine
    report = check_backward(lambda a: mul_assigning(a, Value(2.0)) + a * 3.0)
    assert not report and ASSIGNED in report.cause("a")


def test_domain_points_and_seed() -> None:
    report = check_backward(log)  # the default domain has negatives: skipped, counted
    assert report and report.skipped > 0
    assert check_backward(log, domain=(0.1, 3.0)).skipped == 0
    assert check_backward(log, points=[0.5, 2.0]).checked == 2
    assert str(check_backward(tanh_wrong_sign, seed=3)) == str(check_backward(tanh_wrong_sign, seed=3))
    assert str(check_backward(tanh_wrong_sign, seed=3)) != str(check_backward(tanh_wrong_sign, seed=4))
    with pytest.raises(ValueError, match=r"domain=\(0.1, 3\)"):
        check_backward(log, domain=(-3.0, -1.0))
    assert check_backward(sin, trials=2).checked == 2


def test_repr_is_the_explanation_so_a_bare_assert_shows_it() -> None:
    report = check_backward(tanh_wrong_sign)
    assert repr(report) == str(report)
    assert report._repr_markdown_().startswith("<pre>tanh_wrong_sign: wrong term for self")
    with pytest.raises(KeyError, match="no input named 'x'"):
        report.cause("x")


def test_bad_input_gets_clear_errors() -> None:
    with pytest.raises(TypeError, match="needs a function"):
        check_backward(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="forget `return out`"):
        check_backward(lambda a: None)
    with pytest.raises(TypeError, match=r"not its \.data"):
        check_backward(lambda a: sin(a).data)
    with pytest.raises(TypeError, match=r"needs 3 argument\(s\) \(a, b, c\)"):
        check_backward(lambda a, b, c: a)
    with pytest.raises(TypeError, match="pass arity=1 or arity=2"):
        check_backward(lambda *xs: xs[0])
    assert check_backward(lambda *xs: mul(xs[0], xs[1]), arity=2)
    with pytest.raises(ValueError, match=r"^check_backward\(arity\) needs an int in 1\.\.2, got 3$"):
        check_backward(sin, arity=3)
    with pytest.raises(TypeError, match=r"^check_backward\(arity\) needs an int in 1\.\.2, got bool True$"):
        check_backward(sin, arity=True)
    with pytest.raises(TypeError, match="cannot be called with 2"):
        check_backward(sin, arity=2)
    with pytest.raises(ValueError, match=r"points\[0\]\) needs 2 number"):
        check_backward(mul, points=[1.0])
    with pytest.raises(TypeError, match="domain"):
        check_backward(sin, domain=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lo < hi"):
        check_backward(sin, domain=(2.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        check_backward(sin, points=[math.nan])
    with pytest.raises(TypeError, match=r"^check_backward\(seed\) needs an int, got str '0'$"):
        check_backward(sin, seed="0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^check_backward\(trials\) needs an int >= 1, got 0$"):
        check_backward(sin, trials=0)
    with pytest.raises(TypeError, match=r"^check_backward\(trials\) needs an int >= 1, got bool True$"):
        check_backward(sin, trials=True)
    with pytest.raises(ValueError, match=r"^check_backward\(rtol\) needs a finite number >= 0, got -1\.0$"):
        check_backward(sin, rtol=-1.0)


def test_a_closure_that_raises_propagates_and_the_profiler_is_restored() -> None:
    def broken(self: Value) -> Value:
        out = Value(1.0, (self,), "broken")

        def _backward() -> None:
            raise NameError("typo in the closure")

        out._backward = _backward
        return out

    def marker(frame: object, event: str, arg: object) -> None:
        return None

    sys.setprofile(marker)
    try:
        with pytest.raises(NameError, match="typo"):
            check_backward(broken)
        assert sys.getprofile() is marker
        assert check_backward(sin)
        assert sys.getprofile() is marker
    finally:
        sys.setprofile(None)


def test_threads_check_independently() -> None:
    results: dict[int, str] = {}

    def run(k: int) -> None:
        fn = [sin, tanh_wrong_sign, mul_assigning, mul][k % 4]
        results[k] = str(check_backward(fn))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        assert results[k] == str(check_backward([sin, tanh_wrong_sign, mul_assigning, mul][k % 4]))


def test_exported_and_leaves_the_engine_as_it_was() -> None:
    assert autograd.check_backward is check_backward
    a = Value(0.4)
    out = tanh(a)
    check_backward(tanh)
    out.backward()  # closures of Values made outside the check still work
    assert a.grad == pytest.approx(1 - math.tanh(0.4) ** 2, rel=1e-12)


# ---------------------------------------------------------------- a learner's own Value class


class OwnValue:
    """The lecture's Value as a learner types it: closures stored on the node, parents in _prev."""

    def __init__(self, data: float, _children: tuple[OwnValue, ...] = (), _op: str = "") -> None:
        self.data = data
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __mul__(self, other: OwnValue) -> OwnValue:
        out = OwnValue(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __eq__(self, other: object) -> bool:  # a learner's class may compare by value: never used
        raise AssertionError("check_backward must not compare nodes with ==")

    __hash__ = object.__hash__

    def tanh(self) -> OwnValue:
        t = math.tanh(self.data)
        out = OwnValue(t, (self,), "tanh")

        def _backward() -> None:
            self.grad = (1 - t**2) * out.grad  # = where += belongs

        out._backward = _backward
        return out


def test_a_learners_own_value_class() -> None:
    assert check_backward(lambda a, b: a * b, value=OwnValue)
    report = check_backward(OwnValue.tanh, value=OwnValue)
    assert report.cause("self") == [ASSIGNED]
    # Inside (a*a).tanh() the tanh node's input is fresh and used once: there `=` does no harm.
    assert check_backward(lambda a: (a * a).tanh(), value=OwnValue, points=[0.5, -1.0])
    with pytest.raises(TypeError, match="value=YourValue"):
        check_backward(lambda a: OwnValue(a.data))
    with pytest.raises(TypeError, match="must return the OwnValue it built"):
        check_backward(lambda a: Value(a.data), value=OwnValue)
    with pytest.raises(TypeError, match="needs a Value class"):
        check_backward(sin, value=3)  # type: ignore[arg-type]


def test_micrograds_value() -> None:
    engine = pytest.importorskip("micrograd.engine", reason="micrograd comes with the dev extra")

    def sin_mg(self: Any) -> Any:
        out = engine.Value(math.sin(self.data), (self,), "sin")

        def _backward() -> None:
            self.grad += math.cos(self.data)

        out._backward = _backward
        return out

    assert check_backward(sin_mg, value=engine.Value).cause("self") == [MISSING_OUT_GRAD]
    assert check_backward(lambda a, b: a * b + a.relu() + b**3, value=engine.Value)


ONE_OR_TWO = [e for e in EXPRESSIONS if e.fn.__code__.co_argcount in (2, 3)]


@pytest.mark.parametrize("expr", ONE_OR_TWO, ids=lambda e: e.name)
def test_no_false_alarm_on_the_expression_table(expr: Expr) -> None:
    # Built-in operations only: backward must agree with central differences at the table's points.
    arity = expr.fn.__code__.co_argcount - 1
    report = check_backward(lambda *xs: expr.fn(VALUES, *xs), points=list(expr.points), arity=arity)
    assert report, str(report)
    assert report.checked + report.skipped == len(expr.points)
