"""A learner's own operations: `autograd.op`, `check_op`, and micrograd-style `_backward` closures."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

import autograd
from autograd import FLOATS, TABLE, Value, check_op, compile

BACKENDS = ("python", "numpy")


@pytest.fixture(autouse=True)
def clean_table() -> Iterator[None]:
    """Ops a test registers leave the table when it ends (the built-ins stay)."""
    before = dict(TABLE)
    yield
    TABLE.clear()
    TABLE.update(before)


def sigmoid(x: float) -> float:
    """The logistic function, an independent reference."""
    return 1.0 / (1.0 + math.exp(-x))


def make_softplus(name: str = "t9_softplus", wrong: bool = False) -> autograd.Op:
    """The issue's softplus (with a deliberately wrong derivative 1/(1+e^x) when `wrong`)."""

    @autograd.op(symbol="softplus", rule="1 / (1 + e^-x)", name=name)
    def softplus(x: float) -> tuple[float, float]:
        """softplus(x) = log(1 + e^x); d/dx = 1/(1 + e^-x)."""
        return math.log1p(math.exp(x)), 1 / (1 + math.exp(x if wrong else -x))

    return softplus


# ---------------------------------------------------------------- on Values and on numbers


def test_custom_op_on_a_value_records_a_node_with_its_row_and_local_derivative() -> None:
    """softplus(Value) is a node: op name, the row, the parent, and d/dx stored on the edge."""
    softplus = make_softplus()
    x = Value(0.3, label="x")
    y = softplus(x)
    assert isinstance(y, Value)
    assert y.op == "t9_softplus"
    assert y.operation is softplus and "t9_softplus" not in TABLE  # the learner's own, not entered
    assert y.operation.symbol == "softplus" and y.operation.texts == ("1 / (1 + e^-x)",)
    assert y.parents == (x,)
    assert y.data == pytest.approx(math.log(1 + math.exp(0.3)), rel=1e-15)
    assert y.local_grads == pytest.approx((sigmoid(0.3),), rel=1e-15)
    (y * 2.0).backward()
    assert x.grad == pytest.approx(2.0 * sigmoid(0.3), rel=1e-15)


def test_custom_op_on_numbers_returns_the_value() -> None:
    """softplus(0.3) and softplus(2) are plain floats, the value alone."""
    softplus = make_softplus()
    assert softplus(0.3) == pytest.approx(math.log1p(math.exp(0.3)), rel=1e-15)
    assert isinstance(softplus(2), float)
    assert softplus(2) == pytest.approx(math.log1p(math.exp(2.0)), rel=1e-15)


def test_custom_op_composes_with_builtins() -> None:
    """softplus(x*x + 1).tanh(): the chain rule passes through the custom edge."""
    softplus = make_softplus()
    x = Value(0.7)
    out = softplus(x * x + 1).tanh()
    out.backward()
    u = 0.7 * 0.7 + 1
    t = math.tanh(math.log1p(math.exp(u)))
    assert x.grad == pytest.approx((1 - t * t) * sigmoid(u) * 2 * 0.7, rel=1e-13)


def test_two_input_op() -> None:
    """A two-input op: one edge per input with its own derivative; a number operand becomes a leaf."""

    @autograd.op(symbol="‖a,b‖", rule=("a/h", "b/h"), name="t9_hypot")
    def hypot(a: float, b: float) -> tuple[float, float, float]:
        """sqrt(a^2 + b^2); d/da = a/h, d/db = b/h."""
        h = math.hypot(a, b)
        return h, a / h, b / h

    a, b = Value(3.0), Value(4.0)
    h = hypot(a, b)
    assert h.op == "t9_hypot" and h.parents == (a, b)
    assert h.data == 5.0 and h.local_grads == (0.6, 0.8)
    h.backward()
    assert (a.grad, b.grad) == (0.6, 0.8)
    mixed = hypot(a, 4.0)
    assert mixed.data == 5.0 and mixed.parents[0] is a and mixed.parents[1].data == 4.0
    assert hypot(6.0, 8.0) == 10.0
    assert hypot.operands == ("a", "b") and hypot.arity == 2


def test_const_op_keeps_its_constant_apart() -> None:
    """An op with const="k": the node keeps k in .const, and its derivative uses it."""

    @autograd.op(rule="k", const="k", name="t9_scale")
    def scale(x: float, k: float) -> tuple[float, float]:
        """k x; d/dx = k."""
        return k * x, k

    x = Value(2.0)
    y = scale(x, 3.0)
    assert y.const == 3.0 and y.operation is scale
    assert y.data == 6.0 and y.local_grads == (3.0,)
    assert y.parents == (x,)
    assert scale(2.0, 0.5) == 1.0
    for backend in BACKENDS:
        p, seed = Value(2.0), Value(1.0)
        tape = compile(scale(p, 3.0) * seed, [seed], [p], backend=backend)
        assert list(tape.run([[1.0, 2.0]])) == [6.0, 12.0]
        tape.backward()
        assert p.grad == 9.0, backend


def test_const_op_node_is_named_after_its_op() -> None:
    """The node of a custom const op is named after that op, not after x**n."""

    @autograd.op(rule="k", const="k", name="t9_scale")
    def scale(x: float, k: float) -> tuple[float, float]:
        """k x; d/dx = k."""
        return k * x, k

    assert scale(Value(2.0), 3.0).op.startswith("t9_scale")


# ---------------------------------------------------------------- compiled: both tapes, three ways to run


def softplus_rules() -> dict[str, autograd.Op]:
    """softplus three ways: per sample (no m), written over m, and with a vectorized= array form."""
    calls: dict[str, Any] = {"per_sample": 0, "m": [], "vectorized": 0}

    @autograd.op(rule="σ(x)", name="t9_sp_per_sample")
    def per_sample(x: float) -> tuple[float, float]:
        """Floats only."""
        calls["per_sample"] += 1
        return math.log1p(math.exp(x)), sigmoid(x)

    @autograd.op(rule="σ(x)", name="t9_sp_m")
    def with_m(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        """Written once over m."""
        calls["m"].append(m)
        return m.log1p(m.exp(x)), 1.0 / (1.0 + m.exp(-x))

    def array_form(x: Any) -> tuple[Any, Any]:
        import numpy as np

        calls["vectorized"] += 1
        return np.log1p(np.exp(x)), 1.0 / (1.0 + np.exp(-x))

    @autograd.op(rule="σ(x)", name="t9_sp_vec", vectorized=array_form)
    def vectorized(x: float) -> tuple[float, float]:
        """Floats; the NumPy tape uses array_form."""
        return math.log1p(math.exp(x)), sigmoid(x)

    rows = {"per_sample": per_sample, "m": with_m, "vectorized": vectorized}
    rows["calls"] = calls  # type: ignore[assignment]
    return rows


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("way", ["per_sample", "m", "vectorized"])
def test_custom_op_compiles_and_replays_a_batch(backend: str, way: str) -> None:
    """w * softplus(x) + b over a batch: per-sample values and summed grads equal the scalar engine's."""
    if backend == "numpy":
        pytest.importorskip("numpy")
    rows = softplus_rules()
    row = rows[way]
    calls: dict[str, Any] = rows["calls"]  # type: ignore[assignment]
    xs = [-2.0, -0.3, 0.0, 0.4, 3.0]
    x, w, b = Value(0.5, label="x"), Value(1.5, label="w"), Value(-0.25, label="b")
    root = w * row(x) + b
    assert root.parents[0].parents[1].op == row.name
    tape = compile(root, [x], [w, b], backend=backend)
    before = dict(calls, m=list(calls["m"]))
    values = list(tape.run([xs]))
    tape.backward()
    per_sample_calls = calls["per_sample"] - before["per_sample"]
    vectorized_calls = calls["vectorized"] - before["vectorized"]
    m_calls = calls["m"][len(before["m"]) :]
    want_w = want_b = 0.0
    for i, xi in enumerate(xs):
        sw, sb = Value(1.5), Value(-0.25)
        out = sw * row(Value(xi)) + sb
        out.backward()
        assert values[i] == pytest.approx(out.data, rel=1e-13)
        want_w += sw.grad
        want_b += sb.grad
    assert w.grad == pytest.approx(want_w, rel=1e-13)
    assert b.grad == pytest.approx(want_b, rel=1e-13)
    if backend == "numpy" and way == "per_sample":
        assert per_sample_calls == len(xs)  # once per sample
    if backend == "numpy" and way == "vectorized":
        assert vectorized_calls == 1  # once for the whole batch
    if backend == "numpy" and way == "m":
        import numpy as np

        assert m_calls == [np]  # one call, with m=numpy


def test_custom_op_domain_error_in_every_engine() -> None:
    """A learner's domain check raises its own message in the scalar engine and in both tapes."""

    @autograd.op(rule="1/(2 sqrt(x))", name="t9_root",
                 domain=[(lambda x: x > 0, "t9_root(x) needs x > 0, got x={x!r}", ValueError)])
    def root(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        """sqrt(x); d/dx = 1/(2 sqrt(x))."""
        r = m.sqrt(x)
        return r, 0.5 / r

    with pytest.raises(ValueError, match=r"t9_root\(x\) needs x > 0, got x=-1.0"):
        root(Value(-1.0))
    with pytest.raises(ValueError, match=r"t9_root\(x\) needs x > 0, got x=-1.0"):
        root(-1.0)
    for backend in BACKENDS:
        x = Value(4.0)
        tape = compile(root(x), [x], [], backend=backend)
        assert list(tape.run([[4.0, 9.0]])) == [2.0, 3.0]
        with pytest.raises(ValueError, match=r"sample 1: t9_root\(x\) needs x > 0, got x=-1.0"):
            tape.run([[4.0, -1.0]])


# ---------------------------------------------------------------- names: the learner's op is theirs


def test_redefining_a_custom_op_makes_a_new_row() -> None:
    """Re-running a notebook cell with a fixed rule gives a new row; new nodes use the new rule."""
    wrong = make_softplus(wrong=True)
    fixed = make_softplus()
    assert fixed is not wrong
    y = fixed(Value(0.5))
    assert y.operation is fixed and y.local_grads[0] == pytest.approx(sigmoid(0.5), rel=1e-15)
    assert wrong(Value(0.5)).local_grads[0] == pytest.approx(1 / (1 + math.exp(0.5)), rel=1e-15)


@pytest.mark.parametrize("name", ["+", "-", "*", "/", "**", "**n", "exp", "log", "tanh", "relu", "wsum"])
def test_a_learner_op_may_take_a_builtin_name_and_the_builtin_stays(name: str) -> None:
    """A custom op named like a built-in is the learner's row; the table's built-in is untouched."""
    builtin = TABLE[name]
    mine = autograd.op(lambda x: (3.0 * x, 3.0), rule="3", symbol="mine", name=name)
    assert TABLE[name] is builtin and mine is not builtin and not mine.builtin
    y = mine(Value(2.0))
    assert (y.op, y.operation, y.data, y.local_grads) == (name, mine, 6.0, (3.0,))
def test_rule_text_count_must_match_the_inputs() -> None:
    """One rule text per input: two texts for a one-input rule is a ValueError naming the op."""
    with pytest.raises(ValueError, match=r"t9_texts"):
        autograd.op(lambda x: (x, 1.0), rule=("1", "2"), name="t9_texts")


# ---------------------------------------------------------------- check_op


def test_check_op_catches_a_wrong_derivative_and_names_the_point() -> None:
    """softplus with d/dx = 1/(1+e^x): check_op is falsy and says where, in the issue's words."""
    report = check_op(make_softplus(wrong=True))
    assert not report
    text = str(report)
    yours, central = 1 / (1 + math.exp(0.5)), sigmoid(0.5)
    assert f"d/dx at x=0.5: yours {yours:.6g}, central differences {central:.6g}" in text
    assert report.failures and report.checked >= len(report.failures)
    fixed = check_op(make_softplus())
    assert fixed, str(fixed)
    assert "agree" in str(fixed)


def test_check_op_names_the_input_of_a_two_input_op() -> None:
    """A wrong d/db is reported as d/db with both operands; d/da is not blamed."""

    @autograd.op(rule=("b", "b"), name="t9_mul_wrong")
    def mul_wrong(a: float, b: float) -> tuple[float, float, float]:
        """a*b with d/db wrong."""
        return a * b, b, b

    report = check_op(mul_wrong, points=[(2.0, 0.5)])
    assert not report
    assert report.failures == ["d/db at a=2, b=0.5: yours 0.5, central differences 2"]


@pytest.mark.parametrize("outputs", [1, 3])
def test_check_op_reports_a_rule_returning_the_wrong_number_of_outputs(outputs: int) -> None:
    """A rule returning only the value (or an extra number) is a clear failure, not a crash."""

    @autograd.op(rule="1", name="t9_outputs")
    def bad(x: float) -> tuple[float, ...]:
        """Returns the wrong number of results."""
        return (x, 1.0, 1.0)[:outputs]

    report = check_op(bad)
    assert not report
    plural = "s" * (outputs != 1)
    want = f"the rule returned {outputs} number{plural}; it must return the value and one derivative"
    assert want in str(report)


def test_check_op_reports_a_rule_returning_a_bare_number() -> None:
    """A rule returning just the value, not (value, derivative), gets a report naming the problem."""

    @autograd.op(rule="1", name="t9_bare")
    def bare(x: float) -> float:
        """Forgets the derivative."""
        return x

    report = check_op(bare)
    assert not report
    assert "returned" in str(report)


@pytest.mark.parametrize("result", [(0.5,), 0.5])
def test_a_value_through_a_rule_with_the_wrong_outputs_names_the_op(result: Any) -> None:
    """The error for a malformed rule on a Value names the op."""

    @autograd.op(rule="1", name="t9_outputs")
    def bad(x: float) -> Any:
        """Returns the wrong shape of result."""
        return result

    with pytest.raises((TypeError, ValueError), match=r"t9_outputs"):
        bad(Value(1.0))


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("bad", "error"), [(True, TypeError), ("x", TypeError), (None, TypeError), (10**400, ValueError),
                       (float("nan"), ValueError), (float("inf"), ValueError)]
)
def test_bad_number_arguments_name_the_op(bad: Any, error: type[Exception]) -> None:
    """bool, str, huge ints and non-finite numbers are rejected with the op's name (numbers alone)."""
    softplus = make_softplus()

    @autograd.op(rule=("1", "1"), name="t9_pair")
    def pair(a: float, b: float) -> tuple[float, float, float]:
        """a + b."""
        return a + b, 1.0, 1.0

    with pytest.raises(error, match=r"t9_softplus"):
        softplus(bad)
    with pytest.raises(error, match=r"t9_pair"):
        pair(1.0, bad)
    with pytest.raises(error, match=r"t9_pair"):
        pair(bad, 1.0)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (True, TypeError), ("x", TypeError), (None, TypeError),
        (10**400, ValueError), (float("nan"), ValueError),
    ],
)
def test_bad_operand_beside_a_value_names_the_op(bad: Any, error: type[Exception]) -> None:
    """A bad operand type next to a Value is a TypeError, a huge int or nan a ValueError; both name the op."""

    @autograd.op(rule=("1", "1"), name="t9_pair")
    def pair(a: float, b: float) -> tuple[float, float, float]:
        """a + b."""
        return a + b, 1.0, 1.0

    with pytest.raises(error, match=r"t9_pair"):
        pair(Value(1.0), bad)


def test_wrong_argument_count_names_the_op() -> None:
    """softplus(x, y) on Values and on numbers is a TypeError naming the op."""
    softplus = make_softplus()
    with pytest.raises(TypeError, match=r"t9_softplus takes 1"):
        softplus(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match=r"t9_softplus takes 1"):
        softplus(1.0, 2.0)
    with pytest.raises(TypeError, match=r"t9_softplus"):
        softplus()


# ---------------------------------------------------------------- micrograd-style closures


def lecture_tanh(x: Value) -> Value:
    """Karpathy's lecture: tanh as Value(t, (x,), "tanh") with a _backward closure."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = Value(t, (x,), "tanh")

    def _backward() -> None:
        x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


@pytest.mark.parametrize("v", [-2.0, -0.3, 0.0, 0.8813735870195432, 3.0])
def test_closure_node_gives_the_builtin_gradients(v: float) -> None:
    """The lecture's closure tanh inside a graph back-propagates like x.tanh(), with the same slopes."""
    x1, x2 = Value(v), Value(v)
    mine = lecture_tanh(x1 * 2.0) * x1 + 1.0
    builtin = (x2 * 2.0).tanh() * x2 + 1.0
    mine.backward()
    builtin.backward()
    assert mine.data == pytest.approx(builtin.data, rel=1e-14, abs=1e-15)
    assert x1.grad == pytest.approx(x2.grad, rel=1e-14, abs=1e-15)
    node = mine.parents[0].parents[0]
    assert node.op == "tanh" and node.operation is not TABLE["tanh"]
    t = node.data
    assert node.local_grads == (1 - t**2,)
    assert node.local_grads[0] == pytest.approx(1 - math.tanh(2 * v) ** 2, rel=1e-12, abs=1e-15)


def test_closure_square_counts_the_repeated_child_once() -> None:
    """micrograd's a*a: children (a, a) are one parent (a set), and the closure's 2a is its one slope."""
    a = Value(3.0)
    out = Value(a.data * a.data, (a, a), "*")

    def _backward() -> None:
        a.grad += a.data * out.grad  # micrograd's self.grad += other.data * out.grad
        a.grad += a.data * out.grad  # other.grad += self.data * out.grad, other is self

    out._backward = _backward
    assert out.parents == (a,)
    assert out._prev == {a}
    assert out.local_grads == (6.0,)
    out.backward()
    assert a.grad == 6.0  # d(a^2)/da, counted once


def test_a_closure_node_made_inside_no_grad_is_a_leaf_like_a_product() -> None:
    """Inside no_grad, Value(t, (x,), "tanh") plus its closure is a leaf, as x * 2 is: nothing recorded."""
    x = Value(0.5, label="x")
    calls: list[int] = []
    with autograd.no_grad():
        node = Value(math.tanh(x.data), (x,), "tanh")

        def _backward() -> None:
            calls.append(1)
            x.grad += (1 - node.data**2) * node.grad

        node._backward = _backward  # accepted and ignored, never called
        product = x * 2.0
    assert calls == [] and x.grad == 0.0 and node.grad == 0.0
    assert node.data == math.tanh(0.5)
    for leaf in (node, product):
        assert (leaf.op, leaf.parents, leaf.local_grads) == ("", (), ())
    node.backward()
    assert (x.grad, node.grad) == (0.0, 1.0)  # a leaf: nothing flows to x, as from the product
    with pytest.raises(AttributeError, match=r"^_backward can be set only on a node made as Value\("):
        node._backward = _backward  # recording again: a leaf still takes no closure
    assert lecture_tanh(x).local_grads == (1 - math.tanh(0.5) ** 2,)  # outside, the lecture's way records


def test_compile_refuses_a_closure_node_and_points_to_autograd_op() -> None:
    """A closure knows its slopes at one point only, so compile refuses it and names autograd.op."""
    for backend in BACKENDS:
        x = Value(0.5, label="x")
        root = lecture_tanh(x) * 2.0
        with pytest.raises(ValueError, match=r"autograd\.op"):
            compile(root, [x], [], backend=backend)


def test_a_rule_whose_math_overflows_on_a_value_names_the_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """math.exp raising OverflowError inside a learner's rule is the op's ValueError, as on numbers."""
    monkeypatch.setattr(autograd.oprecord, "TABLE", dict(autograd.TABLE))

    @autograd.op(rule="e^x", name="t9_raw_exp")
    def raw_exp(x: float) -> tuple[float, float]:
        """e^x with math.exp, which raises past float range."""
        e = math.exp(x)
        return e, e

    for call in (lambda: raw_exp(Value(710.0)), lambda: raw_exp(710.0)):
        with pytest.raises(ValueError, match=r"^t9_raw_exp: .* overflows a float"):
            call()


def test_numpy_scalars_in_arithmetic_become_constants() -> None:
    """A NumPy number operand is a constant leaf, like a Python number (drawn as its number)."""
    np = pytest.importorskip("numpy")
    x = Value(1.0, "x")
    assert (x * np.float64(2.0)).parents[1].is_constant
    assert (x + 2).parents[1].is_constant and not x.is_constant
