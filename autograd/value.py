"""`Value`: a scalar that records the operation that made it and the local derivative on each edge."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from operator import mul as _times
from typing import Any, TypeAlias

from autograd import ops
from autograd.checks import real_number
from autograd.closure import attach_children, read_closure
from autograd.context import current_scope, no_grad_now, recording, scope_now
from autograd.graph import MANY, accumulate, backward
from autograd.oprecord import Op

# What arithmetic accepts beside a Value: int, float and NumPy scalars (numbers.Real).
Number: TypeAlias = "int | float"
Operand: TypeAlias = "Value | int | float"

_ADD, _SUB, _MUL, _RELU = ops.add, ops.sub, ops.mul, ops.relu


class Value:
    """A scalar node of the graph: `.data`, `.grad`, and how it was computed from `.parents`.

    Parents and local derivatives live in fixed slots (see __slots__), not in per-node tuples or
    closures: a node is one object for the garbage collector to track, and a graph holds no
    reference cycle, so it is freed by reference counting alone.
    """

    # _seen is the mark a walk over the graph leaves on the nodes it has found (autograd.graph).
    # _kind is the op table's row that made the node (None for a leaf). _a/_b and _da/_db hold the
    # one or two inputs and their local derivatives; an n-ary node (`weighted_sum`) keeps a
    # sequence of inputs in _a and of derivatives in _da, with the marker MANY in _b. These eight
    # are set on every node. _label, _scope and _const (the exponent of x**2, or a constant leaf's
    # number) stay unset until there is one; the properties below read them as "", "" and None.
    # NOTE: fixed slots, not a tuple per node, and no field or object more than needed: the cycle
    # collector scans every set field of every new node, and a step builds ~66,000 of them (a
    # creation number per node, one int object each, made its scans ~35% slower; benchmarks/README).
    __slots__ = (
        "data", "grad", "_seen", "_kind", "_a", "_b", "_da", "_db", "_label", "_scope", "_const",
    )
    # NumPy scalars on the left (np.float64(2) * v) defer to our reflected operators.
    __array_ufunc__ = None

    data: float
    grad: float
    _seen: object
    _kind: Op | None
    _a: Any  # Value | tuple[Value, ...] | None
    _b: Any  # Value | MANY | None
    _da: Any  # float | tuple[float, ...]
    _db: float
    _label: str
    _scope: str
    _const: float

    def __init__(
        self, data: float, _children: Sequence[Value] | str = (), _op: str = "", label: str = ""
    ) -> None:
        """A leaf holding `data` (any real number, stored as float) with grad 0.0.

        `Value(2.0, "x")` labels it. micrograd's form `Value(data, (a, b), "+")` makes a node with
        those children; set its `_backward` closure and it takes part in `backward()` (see
        `autograd.closure`); `autograd.op` is the way that also compiles and vectorises.
        """
        # A finite float skips the slower numbers.Real check (x - x is nan for inf and nan).
        self.data = data if type(data) is float and data - data == 0.0 else real_number(data, "Value(data)")
        if isinstance(_children, str):  # Value(2.0, "x"): the label, axongrad's short form
            label, _children = _children, ()
        if not isinstance(label, str):
            raise TypeError(f"Value(label) needs a str, got {type(label).__name__}")
        self.grad = 0.0
        self._seen = None
        _make_leaf(self)
        if label:
            self._label = label
        tag = current_scope()
        if tag:
            self._scope = tag
        if _children or _op:
            attach_children(self, _children, _op)

    # ------------------------------------------------------------ the recorded structure

    @property
    def label(self) -> str:
        """The name diagrams and repr show ("" until you give one: `Value(2.0, label="x")`)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, name: str) -> None:
        """Name this Value (any str)."""
        if not isinstance(name, str):
            raise TypeError(f"Value.label needs a str, got {type(name).__name__}")
        self._label = name

    @property
    def scope(self) -> str:
        """The `scope` tag in force when this Value was created ("" outside any), e.g. "L1.n3"."""
        return getattr(self, "_scope", "")

    @scope.setter
    def scope(self, tag: str) -> None:
        """Tag this Value by hand (nn tags through `with scope(...)`)."""
        if not isinstance(tag, str):
            raise TypeError(f"Value.scope needs a str, got {type(tag).__name__}")
        self._scope = tag

    @property
    def op(self) -> str:
        """The operation that made this node: "+", "*", "tanh", "**2", ... ("" for a leaf)."""
        kind = self._kind
        if kind is None:
            return ""
        const = self.const
        return kind.name if const is None else kind.display(const)

    @property
    def operation(self) -> Op | None:
        """The op table's row that made this node (None for a leaf): symbol, rule text, domain."""
        return self._kind

    @property
    def const(self) -> float | None:
        """The operation's constant argument (the exponent n of x**n); for a constant leaf its number."""
        return getattr(self, "_const", None)

    @property
    def is_constant(self) -> bool:
        """True for a leaf that arithmetic made from a number (the 2 of `x * 2`), not one you created."""
        return self._kind is None and hasattr(self, "_const")

    @property
    def parents(self) -> tuple[Value, ...]:
        """The input Values of the operation that made this one, in argument order (duplicates kept)."""
        a, b = self._a, self._b
        if a is None:
            return ()
        if b is MANY:
            return tuple(a)
        if b is None:
            return (a,)
        return (a, b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent_i for each parent, evaluated at the forward values."""
        b = self._b
        if self._a is None:
            return ()
        if b is MANY:
            return tuple(self._da)
        if b is None:
            return (self._da,)
        return (self._da, self._db)

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name: the set of parents (for tutorials that draw with it)."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """micrograd's name for `op`."""
        return self.op

    def __repr__(self) -> str:
        """micrograd's form Value(data=..., grad=...), with the label first when there is one."""
        if self.label:
            return f"Value({self.label!r}, data={self.data}, grad={self.grad})"
        return f"Value(data={self.data}, grad={self.grad})"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter display: the graph diagram when a renderer is registered (viz does, on import)."""
        if _display.renderer is None:
            return {"text/plain": repr(self)}
        return _display.renderer(self)

    @classmethod
    def _apply_op(cls, kind: Op, args: Sequence[Any]) -> Value:
        """Record `kind` (a row of the op table) applied to `args`; numbers become constant leaves."""
        raw, const = kind.split(args)
        operands = []
        for i, x in enumerate(raw):
            try:
                v = _coerce(x)
            except ValueError as error:
                raise ValueError(f"{kind.name}: argument {i}: {error}") from None
            if v is None:
                raise TypeError(
                    f"{kind.name}: argument {i} must be a Value or a real number, got {type(x).__name__}"
                )
            operands.append(v)
        if not kind.builtin:  # a learner's rule: Op.evaluate checks its domain, shape and overflow
            result = kind.evaluate([v.data for v in operands], const)
            out = _node_many(result[0], kind, tuple(operands), result[1:], const)
            if const is not None and out._kind is not None:
                out._const = const
            return out
        if kind.arity == 0:
            return _record_many(kind, operands)
        if kind.arity == 1:
            return _unary(kind, operands[0], const)
        return _binary(kind, operands[0], operands[1])

    # ------------------------------------------------------------ arithmetic
    # NOTE: + - * are the hot path of every network, so their rules (ops.add, ops.sub, ops.mul)
    # are computed inline here: one Python call per node instead of two.
    # tests/test_autograd_optable.py checks these lines against the table's rows.
    # a + b and a * b, the two operations of micrograd's neuron, also build their node inline
    # (what `_record` does, one Python call fewer per node: 647M -> 595M instructions in a
    # micrograd-style step); tests/test_autograd_value.py checks every field against `_record`'s.

    def __add__(self, other: Operand) -> Value:
        """self + other."""
        o = other if type(other) is Value else _coerce(other, "+")
        if o is None:
            return NotImplemented
        data = self.data + o.data
        if data - data != 0.0:  # inf or nan; the local derivatives, 1 and 1, are finite
            raise _ADD.overflow([self.data, o.data], None, [data])
        out = _new(Value)
        out.data = data
        out.grad = 0.0
        out._seen = None
        tag = scope_now()[0]
        if tag:
            out._scope = tag
        state = no_grad_now()
        if state is None or recording(state):
            out._kind = _ADD
            out._a = self
            out._b = o
            out._da = 1.0
            out._db = 1.0
        else:
            _make_leaf(out)
        return out

    def __radd__(self, other: Number) -> Value:
        """other + self."""
        o = _coerce(other, "+")
        if o is None:
            return NotImplemented
        return _record(o.data + self.data, _ADD, o, 1.0, self, 1.0)

    def __sub__(self, other: Operand) -> Value:
        """self - other."""
        o = other if type(other) is Value else _coerce(other, "-")
        if o is None:
            return NotImplemented
        return _record(self.data - o.data, _SUB, self, 1.0, o, -1.0)

    def __rsub__(self, other: Number) -> Value:
        """other - self."""
        o = _coerce(other, "-")
        if o is None:
            return NotImplemented
        return _record(o.data - self.data, _SUB, o, 1.0, self, -1.0)

    def __mul__(self, other: Operand) -> Value:
        """self * other."""
        o = other if type(other) is Value else _coerce(other, "*")
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        data = a * b
        if data - data != 0.0:  # inf or nan; the local derivatives, b and a, are finite data
            raise _MUL.overflow([a, b], None, [data])
        out = _new(Value)
        out.data = data
        out.grad = 0.0
        out._seen = None
        tag = scope_now()[0]
        if tag:
            out._scope = tag
        state = no_grad_now()
        if state is None or recording(state):
            out._kind = _MUL
            out._a = self
            out._b = o
            out._da = b
            out._db = a
        else:
            _make_leaf(out)
        return out

    def __rmul__(self, other: Number) -> Value:
        """other * self."""
        o = _coerce(other, "*")
        if o is None:
            return NotImplemented
        a, b = o.data, self.data
        return _record(a * b, _MUL, o, b, self, a)

    def __truediv__(self, other: Operand) -> Value:
        """self / other (ZeroDivisionError when other is 0)."""
        o = _coerce(other, "/")
        return NotImplemented if o is None else _binary(ops.div, self, o)

    def __rtruediv__(self, other: Number) -> Value:
        """other / self (ZeroDivisionError when self is 0)."""
        o = _coerce(other, "/")
        return NotImplemented if o is None else _binary(ops.div, o, self)

    def __pow__(self, other: Operand) -> Value:
        """self ** other: a number exponent (op shown as "**2") or a Value exponent (op "**", self > 0)."""
        if isinstance(other, Value):
            return _binary(ops.power_value, self, other)
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            return NotImplemented
        return _unary(ops.power, self, real_number(other, "a ** n (the exponent n)"))

    def __rpow__(self, other: Number) -> Value:
        """other ** self, a number base with a Value exponent (needs other > 0)."""
        o = _coerce(other, "**")
        return NotImplemented if o is None else _binary(ops.power_value, o, self)

    def __neg__(self) -> Value:
        """-self."""
        return _unary(ops.neg, self)

    def __abs__(self) -> Value:
        """abs(self)."""
        return _unary(ops.absolute, self)

    # ------------------------------------------------------------ functions

    def exp(self) -> Value:
        """e ** self (ValueError past float range, x > 709.78)."""
        return _unary(ops.exp, self)

    def log(self) -> Value:
        """Natural logarithm (ValueError for self <= 0)."""
        return _unary(ops.log, self)

    def sqrt(self) -> Value:
        """Square root (ValueError for self < 0, and at 0 where the derivative is infinite)."""
        return _unary(ops.sqrt, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(ops.tanh, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1/(1+e^-x), stable for any x."""
        return _unary(ops.sigmoid, self)

    def relu(self) -> Value:
        """max(0, self), with relu'(0) = 0."""
        # NOTE: ops.relu's rule inline (micrograd's only activation and nn's default: two Python
        # calls fewer per neuron); tests/test_autograd_optable.py checks it bit for bit.
        if self.data > 0.0:
            return _record(self.data, _RELU, self, 1.0, None, 0.0)
        return _record(0.0, _RELU, self, 0.0, None, 0.0)

    def step(self) -> Value:
        """The posts' threshold: 1 if self >= 0 else 0; its derivative is 0."""
        return _unary(ops.step, self)

    def sign(self) -> Value:
        """The posts' -1/+1 function: 1 if self >= 0 else -1; its derivative is 0."""
        return _unary(ops.sign, self)

    def abs(self) -> Value:
        """|self|, with abs'(0) = 0."""
        return _unary(ops.absolute, self)

    # ------------------------------------------------------------ gradients

    def backward(self) -> None:
        """Chain rule from this node to every ancestor (see `autograd.graph.backward`)."""
        backward(self)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's one-node step: push this node's grad to its parents (call it)."""
        return lambda: accumulate((self,))

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        """micrograd's way to give a node its backward: read its local derivatives from the closure."""
        read_closure(self, closure)


class _Display:
    """Holds the optional Jupyter renderer; autograd imports no drawing code itself."""

    renderer: Callable[[Value], dict[str, str]] | None = None


_display = _Display()


def set_renderer(renderer: Callable[[Value], dict[str, str]] | None) -> None:
    """Register how a Value shows itself in Jupyter (a mime bundle); viz registers its diagram."""
    _display.renderer = renderer


def _coerce(other: object, op: str = "an arithmetic operation") -> Value | None:
    """`other` as a Value (numbers become constant leaves), None for unsupported types; `op` names errors."""
    if isinstance(other, Value):
        return other
    kind = type(other)
    if kind is float or kind is int:  # the common case, without the slower ABC check below
        try:
            data = float(other)  # type: ignore[arg-type]
        except OverflowError:  # an int beyond float range: real_number below says so
            data = math.inf
        if data - data == 0.0:
            return _constant(data)
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return _constant(real_number(other, f"an operand of {op}"))  # raises for huge or non-finite
    return None


def _constant(data: float) -> Value:
    """A leaf for a number operand (`x + 2`), built without re-validating its type."""
    if data - data != 0.0:
        raise ValueError(f"an operand of an arithmetic operation must be a finite number, got {data!r}")
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._seen = None
    _make_leaf(out)
    out._const = data  # marks the leaf as a constant (see is_constant)
    tag = scope_now()[0]
    if tag:
        out._scope = tag
    return out


def _record(data: float, kind: Op, a: Value, da: float, b: Value | None, db: float) -> Value:
    """A new node; records parents and local derivatives unless inside `no_grad()`."""
    # inf - inf and nan - nan are nan, so this one comparison catches any non-finite number.
    if (data - data) + (da - da) + (db - db) != 0.0:
        operands = [a.data] if b is None else [a.data, b.data]
        raise kind.overflow(operands, None, [data, da, db])
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._seen = None
    tag = scope_now()[0]
    if tag:
        out._scope = tag
    state = no_grad_now()
    if state is None or recording(state):
        out._kind = kind
        out._a = a
        out._b = b
        out._da = da
        out._db = db
    else:
        _make_leaf(out)
    return out


def _make_leaf(out: Value) -> None:
    """Set a new node's fields as a leaf's: no operation, parents or local derivatives (also what
    any result inside `no_grad()` gets)."""
    out._kind = None
    out._a = None
    out._b = None
    out._da = 0.0
    out._db = 0.0


_new = object.__new__


def _unary(kind: Op, a: Value, const: float | None = None) -> Value:
    """Apply a one-input row of the op table (with its constant, if any) and record it."""
    x = a.data
    if kind.domain:
        kind.check((x,), const)
    try:
        if const is None:
            value, da = kind.fn(x)
            return _record(value, kind, a, da, None, 0.0)
        value, da = kind.fn(x, const)
    except OverflowError:  # math.exp and math.pow raise it where NumPy would give inf
        raise kind.overflow([x], const, [math.inf]) from None
    if (value - value) + (da - da) != 0.0:  # say which exponent, which _record cannot
        raise kind.overflow([x], const, [value, da])
    out = _record(value, kind, a, da, None, 0.0)
    if out._kind is not None:
        out._const = const
    return out


def _binary(kind: Op, a: Value, b: Value) -> Value:
    """Apply a two-input row of the op table and record it."""
    if kind.domain:
        kind.check((a.data, b.data))
    try:
        value, da, db = kind.fn(a.data, b.data)
    except OverflowError:
        raise kind.overflow([a.data, b.data], None, [math.inf]) from None
    return _record(value, kind, a, da, b, db)


def _record_many(kind: Op, parents: Sequence[Value]) -> Value:
    """Apply an n-ary row (wsum) to its parents and record one node."""
    result = kind.fn(*[p.data for p in parents])
    return _node_many(result[0], kind, tuple(parents), tuple(result[1:]))


def _node_many(
    data: float, kind: Op, parents: Sequence[Value], grads: Sequence[float], const: float | None = None
) -> Value:
    """A new n-ary node, unless inside `no_grad()`; an error if any number is inf or nan."""
    check = data + sum(grads)  # one C-level sum: finite unless something is inf or nan (or it overflows)
    if check - check != 0.0 and not all(math.isfinite(d) for d in (data, *grads)):
        raise kind.overflow([p.data for p in parents], const, [data, *grads])
    return _many(data, kind, parents, grads)


def _many(data: float, kind: Op, parents: Sequence[Value], grads: Sequence[float]) -> Value:
    """The n-ary node over finite numbers (sequences kept as given, never changed); in no_grad a constant."""
    state = no_grad_now()
    if not parents or (state is not None and not recording(state)):
        return _constant(data)
    out = _record(data, kind, parents, 0.0, MANY, 0.0)  # type: ignore[arg-type]
    out._da = grads
    return out


def weighted_sum(weights: Sequence[Value], inputs: Sequence[Operand], bias: Value | None = None) -> Value:
    """The neuron's weighted sum w0*x0 + w1*x1 + ... + b as one node (op "wsum").

    One node with an edge per weight, input and bias, instead of 2n binary nodes: the edges carry
    dz/dw_i = x_i, dz/dx_i = w_i and dz/db = 1, exactly the factors the posts write down.
    Parents are always (w0, x0, w1, x1, ..., [b]): number inputs become constant leaves, so an
    odd number of parents means the last one is the bias.
    """
    if len(weights) != len(inputs):
        raise ValueError(
            "weighted_sum needs as many weights as inputs, "
            f"got {len(weights)} weights and {len(inputs)} inputs"
        )
    n = 2 * len(weights)
    parents: list[Any] = [None] * n
    parents[0::2] = weights
    parents[1::2] = inputs
    try:  # the common case, every weight and input a Value, in one comprehension
        data = [p.data if type(p) is Value else _not_a_value(p) for p in parents]
    except _NotAValueError:
        parents[1::2] = [x if isinstance(x, Value) else _constant(real_number(x, "weighted_sum input"))
                         for x in inputs]
        for w in weights:
            if not isinstance(w, Value):
                raise TypeError(f"weighted_sum needs Value weights, got {type(w).__name__}") from None
        data = [p.data for p in parents]
    # NOTE: ops.wsum's rule, computed inline on the hot path of every nn network (one Python call
    # and three tuples fewer per neuron); tests/test_autograd_optable.py checks it bit for bit.
    w_data, x_data = data[0::2], data[1::2]
    total = sum(map(_times, w_data, x_data), 0.0)
    slopes = data  # the same list, reordered: d/dw_i = x_i, d/dx_i = w_i
    slopes[0::2] = x_data
    slopes[1::2] = w_data
    if bias is not None:
        if not isinstance(bias, Value):
            raise TypeError(f"weighted_sum needs a Value bias or None, got {type(bias).__name__}")
        parents.append(bias)
        slopes.append(1.0)
        total = total + bias.data
    # Every slope is a Value's data (finite) or 1, so only the sum can be inf or nan.
    if total - total != 0.0:
        raise ops.wsum.overflow([p.data for p in parents], None, [total])
    return _many(total, ops.wsum, parents, slopes)


class _NotAValueError(Exception):
    """Raised inside weighted_sum's fast comprehension to switch to the checking path."""


def _not_a_value(p: object) -> float:
    """Leave the fast path: an operand of weighted_sum is not a Value."""
    raise _NotAValueError

