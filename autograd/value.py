"""`Value`: a scalar that records the operation that made it and the local derivative on each edge.

Read it like micrograd's engine. The class opens with `+`, `*`, `relu` and `backward`; each
operation names its row of the op table (autograd/ops.py, where every rule's value and local
derivatives are written once), and `backward` walks the graph (autograd/graph.py). After the
class: `_build`, which makes every node but those of `+` and `*` (they fill theirs inline, the
one fast path: see the NOTE above them), and how a row is applied to Values (`_binary`, `_unary`,
`nary`, `apply`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, TypeAlias

from autograd import display, ops
from autograd.checks import first_non_finite, is_real, needs, real_number
from autograd.closure import MicrogradNames, attach_children
from autograd.context import current_scope, is_grad_enabled, switched_now
from autograd.graph import MANY, backward
from autograd.oprecord import Op

# What arithmetic accepts beside a Value: int, float and NumPy scalars (autograd.checks.is_real).
Number: TypeAlias = "int | float"
Operand: TypeAlias = "Value | int | float"


class Value(MicrogradNames):
    """A scalar node of the graph: `.data`, `.grad`, and how it was computed from `.parents`.

    A node is one object with fixed slots (no tuple or closure of its own): one object for the
    garbage collector to track, and since parents never refer back to their results, a graph
    holds no reference cycle (unless attributes of your own make one) and is freed by reference
    counting alone. Like micrograd's Value it also takes attributes of your own (`p.m = 0.0` for
    an optimizer, a colour for a drawing): they live in its `__dict__`, the one field that is not
    a slot.
    """

    # _kind is the op table's row that made the node (None for a leaf). _a/_b hold its one or two
    # parents and _da/_db their local derivatives; an n-ary node (weighted_sum) keeps a sequence of
    # parents in _a and of derivatives in _da, with the marker MANY in _b. _seen is the mark a walk
    # over the graph leaves (autograd.graph). _label, _scope and _const (the exponent of x**2, or a
    # constant leaf's number) stay unset until there is one: fewer fields for the collector to scan.
    # __dict__ holds a learner's own attributes; the engine's names are slots and properties, so
    # assigning one of those (a property without a setter, a label that is not a str) is still refused.
    __slots__ = (
        "data", "grad", "_seen", "_kind", "_a", "_b", "_da", "_db", "_label", "_scope", "_const",
        "__dict__",
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
        if isinstance(_children, str):  # Value(2.0, "x"): the label, axongrad's short form
            label, _children = _children, ()
        if not isinstance(label, str):
            raise TypeError(needs("Value(label)", "a str", label))
        ok = type(data) is float and math.isfinite(data)  # else real_number converts or refuses it
        _build(self, data if ok else real_number(data, "Value(data)"), None, None, 0.0, None, 0.0)
        if label:
            self._label = label
        if _children or _op:
            attach_children(self, _children, _op)

    # ------------------------------------------------------------ arithmetic
    # Each operator names its row of the op table (autograd/ops.py), where its value and local
    # derivatives are written once; a number beside a Value becomes a constant leaf.
    #
    # NOTE: + and * make nearly every node of a network, so they compute their rows' one-line
    # rules here and fill the node's slots themselves as `_build` does: no Python call per node
    # besides the operator (and `_apply_switches` inside a `scope` or `no_grad`).
    # tests/test_autograd_optable.py checks their numbers against ops.add and ops.mul bit for bit,
    # tests/test_autograd_value.py their fields against `_build`'s node.
    # Every other operation calls its row's rule through `_binary` or `_unary`.

    def __add__(self, other: Operand) -> Value:
        """self + other, the row ops.add: d/da = 1, d/db = 1."""
        o = other if type(other) is Value else _operand(other, ops.add)
        if o is None:
            return NotImplemented  # Python then tries other.__radd__
        x, y = self.data, o.data
        data = x + y
        if data - data != 0.0:  # math.isfinite(data) without a call: inf - inf and nan - nan are nan
            raise refused(ops.add, [x, y], None, [data])
        out = _new(Value)
        out.data, out.grad, out._seen = data, 0.0, None
        out._kind = ops.add
        out._a, out._da = self, 1.0
        out._b, out._db = o, 1.0
        if switched_now() is not None:  # a `scope` or `no_grad` is in force
            _apply_switches(out)
        return out

    def __mul__(self, other: Operand) -> Value:
        """self * other, the row ops.mul: d/da = b, d/db = a."""
        o = other if type(other) is Value else _operand(other, ops.mul)
        if o is None:
            return NotImplemented
        x, y = self.data, o.data
        data = x * y
        if data - data != 0.0:  # only the product can overflow: the local derivatives are y and x
            raise refused(ops.mul, [x, y], None, [data])
        out = _new(Value)
        out.data, out.grad, out._seen = data, 0.0, None
        out._kind = ops.mul
        out._a, out._da = self, y
        out._b, out._db = o, x
        if switched_now() is not None:  # a `scope` or `no_grad` is in force
            _apply_switches(out)
        return out

    def relu(self) -> Value:
        """max(0, self), the row ops.relu (relu'(0) = 0)."""
        return _unary(ops.relu, self)

    def backward(self) -> None:
        """Chain rule from this node to every ancestor (see `autograd.graph.backward`)."""
        backward(self)

    def __radd__(self, other: Operand) -> Value:
        """other + self (a number on the left)."""
        return _binary(ops.add, other, self)

    def __rmul__(self, other: Operand) -> Value:
        """other * self."""
        return _binary(ops.mul, other, self)

    def __sub__(self, other: Operand) -> Value:
        """self - other, the row ops.sub."""
        return _binary(ops.sub, self, other)

    def __rsub__(self, other: Operand) -> Value:
        """other - self."""
        return _binary(ops.sub, other, self)

    def __truediv__(self, other: Operand) -> Value:
        """self / other, the row ops.div (ZeroDivisionError when other is 0)."""
        return _binary(ops.div, self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        """other / self."""
        return _binary(ops.div, other, self)

    def __pow__(self, other: Operand) -> Value:
        """self ** other: a number exponent, the row ops.power (op shown as "**2"), or a Value
        exponent, the row ops.power_value (op "**", needs self > 0)."""
        if isinstance(other, Value):
            return _binary(ops.power_value, self, other)
        if not is_real(other):
            return NotImplemented
        return _unary(ops.power, self, real_number(other, "a ** n (the exponent n)"))

    def __rpow__(self, other: Operand) -> Value:
        """other ** self, a number base with a Value exponent (ops.power_value; other > 0)."""
        return _binary(ops.power_value, other, self)

    def __neg__(self) -> Value:
        """-self, the row ops.neg."""
        return _unary(ops.neg, self)

    def __abs__(self) -> Value:
        """abs(self), the row ops.absolute."""
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

    def step(self) -> Value:
        """The posts' threshold: 1 if self >= 0 else 0; its derivative is 0."""
        return _unary(ops.step, self)

    def sign(self) -> Value:
        """The posts' -1/+1 function: 1 if self >= 0 else -1; its derivative is 0."""
        return _unary(ops.sign, self)

    def abs(self) -> Value:
        """|self|, with abs'(0) = 0."""
        return _unary(ops.absolute, self)

    # ------------------------------------------------------------ what the node records

    @property
    def label(self) -> str:
        """The name diagrams and repr show ("" until you give one: `Value(2.0, label="x")`)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, name: str) -> None:
        """Name this Value (any str)."""
        if not isinstance(name, str):
            raise TypeError(needs("Value.label", "a str", name))
        self._label = name

    @property
    def scope(self) -> str:
        """The `scope` tag in force when this Value was created ("" outside any), e.g. "L1.n3"."""
        return getattr(self, "_scope", "")

    @scope.setter
    def scope(self, tag: str) -> None:
        """Tag this Value by hand (nn tags through `with scope(...)`)."""
        if not isinstance(tag, str):
            raise TypeError(needs("Value.scope", "a str", tag))
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
        return (a,) if b is None else (a, b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent_i for each parent, evaluated at the forward values."""
        if self._a is None:
            return ()
        if self._b is MANY:
            return tuple(self._da)
        return (self._da,) if self._b is None else (self._da, self._db)

    def __repr__(self) -> str:
        """micrograd's form Value(data=..., grad=...), with the label first when there is one."""
        if self.label:
            return f"Value({self.label!r}, data={self.data}, grad={self.grad})"
        return f"Value(data={self.data}, grad={self.grad})"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter display: the graph diagram when a renderer is registered (viz does, on import)."""
        return display.mimebundle(self)

    @staticmethod
    def _apply_op(kind: Op, args: Sequence[Any]) -> Value:
        """Record `kind` (a row of the op table) applied to `args`; how `Op.__call__` reaches Values."""
        return apply(kind, args)


# ====================================================================== building a node


def _build(
    out: Value, data: float, kind: Op | None, a: Any, da: Any, b: Any, db: float, const: float | None = None
) -> Value:
    """Where a node is built (but + and *, inline): its value, its op-table row, each parent with its local
    derivative (a leaf has none: `kind` None), then what the switches in force change. Returns `out`."""
    out.data, out.grad, out._seen = data, 0.0, None
    out._kind = kind
    out._a, out._da = a, da
    out._b, out._db = b, db
    if const is not None:
        out._const = const
    if switched_now() is not None:  # one read while no `scope` or `no_grad` is in force
        _apply_switches(out)
    return out


def _apply_switches(out: Value) -> None:
    """What the switches in force do to a new node: the `scope` tags it, and inside `no_grad()` it
    is a leaf (no operation, parents or local derivatives)."""
    tag = current_scope()
    if tag:
        out._scope = tag
    if out._kind is not None and not is_grad_enabled():
        out._kind = out._a = out._b = None
        out._da = out._db = 0.0
        if hasattr(out, "_const"):
            del out._const


_new = object.__new__  # a bare Value for `_build` to fill (Value.__init__ is for your leaves)
_LARGEST = sys.float_info.max  # nan and inf fail `-_LARGEST <= x <= _LARGEST`, as do ints past it


def constant(data: float) -> Value:
    """A constant leaf for a number operand (the 2 of `x * 2`): `is_constant` is True."""
    if not math.isfinite(data):
        raise ValueError(needs("a constant operand", "a finite number", data))
    out = _build(_new(Value), data, None, None, 0.0, None, 0.0)
    out._const = data
    return out


def _operand(other: object, kind: Op) -> Value | None:
    """An operand of `kind`'s operator as a Value: a Value as it is, a real number as a constant
    leaf (a ValueError when it is huge or not finite), None for any other type."""
    if isinstance(other, Value):
        return other
    if (type(other) is float or type(other) is int) and -_LARGEST <= other <= _LARGEST:
        return constant(float(other))  # the common case, without is_real's slower ABC check
    if not is_real(other):
        return None
    return constant(real_number(other, f"an operand of {kind.name}"))


# ====================================================================== applying a row of the table


def _binary(kind: Op, a: Operand, b: Operand) -> Value:
    """Apply a two-input row of the op table to `a` and `b` and record it; numbers become
    constant leaves, and any other operand gives NotImplemented (Python then tries the other side)."""
    left, right = _operand(a, kind), _operand(b, kind)
    if left is None or right is None:
        return NotImplemented  # type: ignore[no-any-return]
    x, y = left.data, right.data
    if kind.domain:
        kind.check((x, y))
    try:
        data, da, db = kind.fn(x, y)
    except OverflowError:  # math.exp and math.pow raise it where NumPy would give inf
        raise refused(kind, [x, y], None, [math.inf]) from None
    # The operands too: a `.data` set to nan by hand is refused even where a rule would hide it.
    if not all(map(math.isfinite, (x, y, data, da, db))):
        raise refused(kind, [x, y], None, [data, da, db])
    return _build(_new(Value), data, kind, left, da, right, db)


def _unary(kind: Op, a: Value, const: float | None = None) -> Value:
    """Apply a one-input row of the op table (with its constant, if any) to `a` and record it."""
    x = a.data
    if kind.domain:
        kind.check((x,), const)
    try:
        data, da = kind.fn(x) if const is None else kind.fn(x, const)
    except OverflowError:
        raise refused(kind, [x], const, [math.inf]) from None
    if not (math.isfinite(x) and math.isfinite(data) and math.isfinite(da)):  # step(nan) would be 0.0
        raise refused(kind, [x], const, [data, da])
    return _build(_new(Value), data, kind, a, da, None, 0.0, const)


def refused(kind: Op, operands: Sequence[float], const: float | None, result: Sequence[float]) -> ValueError:
    """The error for a non-finite number: an operand (a `.data` set by hand) or else the result."""
    names = kind.operands
    if len(names) != len(operands):  # an n-ary row such as wsum
        names = tuple(f"operand {i}" for i in range(len(operands)))
    for name, x in zip(names, operands):
        if not math.isfinite(x):
            return ValueError(
                f"{kind.name}: {kind.formula} got {name}={x!r}, which is not a finite number "
                f"(a Value's .data set to {x!r} by hand?)"
            )
    return kind.overflow(operands, const, result)


def nary(
    kind: Op, parents: Sequence[Value], data: float, grads: Sequence[float], const: float | None = None
) -> Value:
    """Record a node over any number of parents (finite numbers, sequences kept as given, never
    changed); with no parents, a constant leaf."""
    if not parents:
        return constant(data)
    return _build(_new(Value), data, kind, parents, grads, MANY, 0.0, const)


def apply(kind: Op, args: Sequence[Any]) -> Value:
    """`kind` (any row of the op table, built-in or yours) applied to Values and numbers, recorded."""
    raw, const = kind.split(args)
    operands = []
    for i, x in enumerate(raw):
        where = f"{kind.name}(argument {i})"
        if isinstance(x, Value):
            operands.append(x)
        elif is_real(x):
            operands.append(constant(real_number(x, where)))  # raises for huge or non-finite
        else:
            raise TypeError(needs(where, "a Value or a real number", x))
    if not kind.builtin:  # a learner's rule: Op.evaluate checks its domain, shape and overflow
        numbers = [v.data for v in operands]
        if first_non_finite(numbers) is not None:  # a .data set to inf or nan by hand
            raise refused(kind, numbers, const, numbers)
        result = kind.evaluate(numbers, const)
        return nary(kind, tuple(operands), result[0], result[1:], const)
    if kind.arity == 1:
        return _unary(kind, operands[0], const)
    if kind.arity == 2:
        return _binary(kind, operands[0], operands[1])
    data, *grads = kind.fn(*[v.data for v in operands])
    if first_non_finite([data, *grads]) is not None:
        raise refused(kind, [v.data for v in operands], None, [data, *grads])
    return nary(kind, tuple(operands), data, tuple(grads))
