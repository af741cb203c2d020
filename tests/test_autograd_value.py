"""The Value API: data types, recorded structure, micrograd compatibility, no_grad and scope."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import autograd
from autograd import Value, current_scope, is_grad_enabled, no_grad, scope, weighted_sum

np = pytest.importorskip("numpy")


# ---------------------------------------------------------------- data types


@pytest.mark.parametrize(
    "data",
    [3, -7, 2.5, 0.0, np.float64(2.25), np.int64(3), np.float32(0.1), np.int32(-4), Fraction(1, 4)],
    ids=lambda d: f"{type(d).__name__}({d})",
)
def test_real_numbers_are_stored_as_float(data: object) -> None:
    """int, float, NumPy scalars and other numbers.Real are accepted and stored as a Python float."""
    v = Value(data)  # type: ignore[arg-type]
    assert type(v.data) is float
    assert v.data == float(data)  # type: ignore[arg-type]
    assert type(v.grad) is float
    assert v.grad == 0.0


@pytest.mark.parametrize(
    ("data", "type_name"),
    [("x", "str"), (None, "NoneType"), (1j, "complex"), ([1.0], "list"), ((1.0,), "tuple"), (True, "bool")],
)
def test_non_real_data_raises_type_error_naming_the_type(data: object, type_name: str) -> None:
    """Anything but a real number raises TypeError naming the type received (bool is rejected too)."""
    with pytest.raises(TypeError, match=type_name):
        Value(data)  # type: ignore[arg-type]


def test_a_value_as_data_raises_type_error() -> None:
    """Value(Value(1)) is a mistake: TypeError naming Value."""
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))  # type: ignore[arg-type]


def test_numpy_array_as_data_raises_type_error() -> None:
    """A NumPy array is not a scalar."""
    with pytest.raises(TypeError, match="ndarray"):
        Value(np.array([1.0, 2.0]))


def test_label_must_be_str() -> None:
    """Value(label=3) raises TypeError in the one wording."""
    with pytest.raises(TypeError, match=r"^Value\(label\) needs a str, got 3$"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_numpy_scalars_on_either_side() -> None:
    """micrograd's demo: np.float64(2.0) * v and v * np.int64(3) give Values with the right grads."""
    v = Value(1.5)
    left = np.float64(2.0) * v
    right = v * np.int64(3)
    assert type(left) is Value
    assert type(right) is Value
    assert left.data == 3.0
    assert right.data == 4.5
    assert type(left.data) is float and type(right.data) is float
    (left + right).backward()
    assert v.grad == 5.0
    for out in (np.float32(0.5) + v, v - np.int64(1), np.float64(3.0) / v, v ** np.int64(2)):
        assert type(out) is Value
        assert type(out.data) is float
    assert (np.float64(3.0) / v).data == 2.0
    assert (v ** np.int64(2)).op == "**2"


@pytest.mark.parametrize("other", ["a", None, [1.0], 1j, True])
def test_unsupported_operands_raise_type_error(other: object) -> None:
    """v + "a", v * None, ...: Python's TypeError naming the types."""
    v = Value(1.0)
    with pytest.raises(TypeError, match="Value"):
        v + other  # type: ignore[operator]
    with pytest.raises(TypeError):
        other * v  # type: ignore[operator]
    with pytest.raises(TypeError):
        v / other  # type: ignore[operator]
    with pytest.raises(TypeError):
        v**other  # type: ignore[operator]


def test_bad_operand_error_names_the_type() -> None:
    """v + "a" mentions str."""
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "a"  # type: ignore[operator]


# ---------------------------------------------------------------- recorded structure


def test_leaf_attributes() -> None:
    """A leaf: data, grad 0.0, label, op "", no parents, no local grads, empty scope."""
    a = Value(2.0, label="a")
    assert (a.data, a.grad, a.label, a.op, a.scope) == (2.0, 0.0, "a", "", "")
    assert a.parents == ()
    assert a.local_grads == ()
    assert Value(1.0).label == ""


def test_parents_and_local_grads_have_matching_lengths() -> None:
    """Every op records as many local grads as parents."""
    a, b = Value(1.5), Value(0.5)
    outs = [
        a + b,
        a - b,
        a * b,
        a / b,
        a**b,
        -a,
        a**2,
        a.exp(),
        a.log(),
        a.sqrt(),
        a.tanh(),
        a.sigmoid(),
        a.relu(),
        a.step(),
        a.sign(),
        a.abs(),
        abs(a),
        2 * a,
        2 - a,
        weighted_sum([a], [b], b),
        weighted_sum([a, b], [1.0, 2.0]),
    ]
    for out in outs:
        assert isinstance(out.parents, tuple)
        assert isinstance(out.local_grads, tuple)
        assert len(out.parents) == len(out.local_grads) >= 1
        assert all(isinstance(p, Value) for p in out.parents)
        assert all(type(g) is float for g in out.local_grads)
        assert out.op != ""


def test_duplicates_are_kept() -> None:
    """a*a has parents (a, a) and a.grad = 2a; x + x has parents (x, x) and x.grad = 2."""
    a = Value(3.0)
    sq = a * a
    assert sq.parents == (a, a)
    assert sq.local_grads == (3.0, 3.0)
    sq.backward()
    assert a.grad == 6.0
    x = Value(-1.25)
    d = x + x
    assert d.parents == (x, x)
    d.backward()
    assert x.grad == 2.0


def test_shared_subexpression_gets_every_contribution() -> None:
    """s = a*b used three times: d/da of s + s*s + tanh(s) = b (1 + 2s + 1 - tanh(s)^2)."""
    a, b = Value(0.5), Value(-1.5)
    s = a * b
    out = s + s * s + s.tanh()
    out.backward()
    sv = 0.5 * -1.5
    ds = 1 + 2 * sv + (1 - math.tanh(sv) ** 2)
    assert a.grad == pytest.approx(-1.5 * ds, rel=1e-14)
    assert b.grad == pytest.approx(0.5 * ds, rel=1e-14)
    assert s.grad == pytest.approx(ds, rel=1e-14)


def test_identity_not_value_equality() -> None:
    """Values are hashable by identity: two equal-valued Values are distinct set members."""
    a, b = Value(1.0), Value(1.0)
    assert a is not b
    assert len({a, b}) == 2
    assert a != b


def test_values_keep_engine_fields_in_slots() -> None:
    """The engine's fields are slots; a learner's own attributes go to the dict (test_autograd_attributes)."""
    v = Value(1.0)
    v.data, v.grad = 2.0, 3.0
    assert v.__dict__ == {}  # data and grad are not in the dict
    assert {"data", "grad", "_a", "_da"} <= set(Value.__slots__)


# ---------------------------------------------------------------- micrograd compatibility


def test_micrograd_names() -> None:
    """_prev is the set of parents, _op equals op, repr is micrograd's, label keyword works."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = a * b
    assert c._prev == {a, b}
    assert isinstance(c._prev, set)
    assert c._op == c.op == "*"
    assert (a * a)._prev == {a}
    assert a._prev == set()
    assert a._op == ""
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"  # micrograd's form without a label
    assert repr(a) == "Value('a', data=2.0, grad=0.0)"  # the label first when there is one
    c.backward()
    assert repr(a) == "Value('a', data=2.0, grad=-3.0)"
    assert repr(c) == "Value(data=-6.0, grad=1.0)"


def test_micrograd_backward_step() -> None:
    """_backward() pushes one node's grad to its parents, as micrograd's closures do."""
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    c.grad = 2.0
    c._backward()
    assert (a.grad, b.grad) == (-6.0, 4.0)


def test_micrograd_test_sanity_check_values() -> None:
    """micrograd's test_sanity_check expression; grads against micrograd 0.1.0 when installed."""
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    engine = pytest.importorskip("micrograd.engine")
    mx = engine.Value(-4.0)
    mz = 2 * mx + 2 + mx
    mq = mz.relu() + mz * mx
    mh = (mz * mz).relu()
    my = mh + mq + mq * mx
    my.backward()
    assert y.data == my.data
    assert x.grad == mx.grad


def test_repr_mimebundle_uses_the_registered_renderer() -> None:
    """Without a renderer Jupyter gets text/plain repr; set_renderer(fn) swaps in fn(value)."""
    from autograd.display import _display

    previous = _display.renderer
    v = Value(1.0)
    try:
        autograd.set_renderer(None)
        assert v._repr_mimebundle_() == {"text/plain": "Value(data=1.0, grad=0.0)"}
        seen = []

        def render(value: Value) -> dict[str, str]:
            seen.append(value)
            return {"text/html": "<b>graph</b>"}

        autograd.set_renderer(render)
        assert v._repr_mimebundle_() == {"text/html": "<b>graph</b>"}
        assert seen == [v]
    finally:
        autograd.set_renderer(previous)


# ---------------------------------------------------------------- no_grad


def test_no_grad_records_no_parents() -> None:
    """Inside no_grad results are constants: no parents, op "", backward stops there."""
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 3 + x.tanh()
        z = weighted_sum([x], [2.0], x)
        p = x**2
    assert is_grad_enabled()
    for v in (y, z, p):
        assert v.parents == ()
        assert v.local_grads == ()
        assert v.op == ""
        assert v._prev == set()
    assert y.data == 6.0 + math.tanh(2.0)
    assert z.data == 6.0
    out = y * x
    out.backward()
    assert x.grad == y.data  # only the edge recorded outside no_grad
    assert y.grad == 2.0


def test_no_grad_nesting_restores_state() -> None:
    """Nested no_grad blocks leave recording off until the outer one ends."""
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        assert (Value(1.0) + 1).parents == ()
    assert is_grad_enabled()
    assert len((Value(1.0) + 1).parents) == 2


def test_no_grad_restores_state_after_an_exception() -> None:
    """An exception inside no_grad does not leave recording switched off."""
    with pytest.raises(ValueError, match="log"):
        with no_grad():
            Value(-1.0).log()
    assert is_grad_enabled()
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert is_grad_enabled()


# ---------------------------------------------------------------- scope


def test_scope_tags_values_created_inside() -> None:
    """Values made inside scope(name) carry it; nested scopes join with '.'; restored after."""
    assert current_scope() == ""
    a = Value(1.0)
    with scope("L1"):
        assert current_scope() == "L1"
        w = Value(0.5)
        inner = scope("n3")
        with inner as tag:
            assert inner.name == "n3" and tag == "L1.n3" == current_scope()
            z = a * w + 1
            leaf = Value(2.0)
            ws = weighted_sum([w], [3.0], leaf)
            const = z.parents[1]
        assert current_scope() == "L1"
        out = z.tanh()
    assert current_scope() == ""
    after = out * 2
    assert a.scope == ""
    assert w.scope == "L1"
    assert z.scope == leaf.scope == ws.scope == const.scope == "L1.n3"
    assert ws.parents[1].scope == "L1.n3"  # the number input's constant leaf
    assert out.scope == "L1"
    assert after.scope == ""


def test_scope_restored_after_an_exception() -> None:
    """An error inside a scope does not leak the tag."""
    with pytest.raises(ZeroDivisionError):
        with scope("L2"):
            Value(1.0) / 0
    assert current_scope() == ""
    assert Value(1.0).scope == ""


def test_scope_and_no_grad_combine() -> None:
    """no_grad inside a scope still tags results."""
    with scope("eval"), no_grad():
        y = Value(1.0) + 2
    assert y.scope == "eval"
    assert y.parents == ()


@pytest.mark.parametrize("name", ["", None, 3, b"L1"])
def test_scope_rejects_bad_names(name: object) -> None:
    """scope() needs a non-empty str; the error names what was received."""
    with pytest.raises(TypeError, match=type(name).__name__):
        with scope(name):  # type: ignore[arg-type]
            pass
    assert current_scope() == ""


# ---------------------------------------------------------------- a + b and a * b: the fast path

_MISSING = object()


def _fields(node: Value) -> dict[str, object]:
    """Every slot of a node (unset slots as _MISSING)."""
    return {name: getattr(node, name, _MISSING) for name in Value.__slots__}


@pytest.mark.parametrize("in_scope", [False, True])
@pytest.mark.parametrize("recording", [True, False])
@pytest.mark.parametrize("symbol", ["+", "*"])
def test_fast_add_and_mul_build_what_the_rule_builds(symbol: str, recording: bool, in_scope: bool) -> None:
    """a + b and a * b (rules computed inline) set exactly the fields that calling the row's rule
    sets (`_binary`, every other two-input op's path), under every switch state."""
    from contextlib import ExitStack

    from autograd import ops
    from autograd.value import _binary

    a, b = Value(1.5, label="a"), Value(-4.0, label="b")
    row = ops.add if symbol == "+" else ops.mul
    with ExitStack() as stack:
        if in_scope:
            stack.enter_context(scope("L1.n0"))
        if not recording:
            stack.enter_context(no_grad())
        fast = a + b if symbol == "+" else a * b
        reference = _binary(row, a, b)
    assert _fields(fast) == _fields(reference)
    assert fast.scope == ("L1.n0" if in_scope else "")
    assert fast.parents == ((a, b) if recording else ())


def test_no_grad_and_scope_work_in_an_exit_stack() -> None:
    """contextlib.ExitStack calls type(cm).__enter__(cm): both switches work there and restore."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        stack.enter_context(scope("L1"))
        stack.enter_context(no_grad())
        inside = Value(1.0) * 2.0
        assert (is_grad_enabled(), current_scope()) == (False, "L1")
    assert (is_grad_enabled(), current_scope()) == (True, "")
    assert inside.scope == "L1" and inside.parents == ()



NUM, OR_VALUE = "needs a finite number, got", "needs a Value or a real number, got"


@pytest.mark.parametrize(
    ("make", "error", "text"),
    [
        (lambda: Value(2.0) ** math.inf, ValueError, f"a ** n (the exponent n) {NUM} inf"),
        (lambda: Value(1.0) * Fraction(10**400, 3), ValueError, f"an operand of * {NUM} Fraction("),
        (lambda: Value(1.0) + 10**400, ValueError, f"an operand of + {NUM} a 401-digit integer"),
        (lambda: autograd.ops.mul(Value(1.0), "x"), TypeError, f"*(argument 1) {OR_VALUE} str 'x'"),
        (lambda: autograd.ops.mul(Value(1.0), math.nan), ValueError, f"*(argument 1) {NUM} nan"),
        (lambda: autograd.ops.mul(1.0, "x"), TypeError, f"*(argument 1) {NUM} str 'x'"),
        (lambda: setattr(Value(1.0), "label", 3), TypeError, "Value.label needs a str, got 3"),
        (lambda: setattr(Value(1.0), "scope", None), TypeError, "Value.scope needs a str, got NoneType None"),
    ],
)
def test_value_errors_read_the_one_wording(make: object, error: type[Exception], text: str) -> None:
    """Operands, exponents, op arguments and names are checked by autograd.checks, in its wording."""
    assert callable(make)
    with pytest.raises(error) as info:
        make()
    assert str(info.value).startswith(text)
