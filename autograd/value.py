"""`Value`: a scalar that records the operation that made it and the local derivative on each edge."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TypeAlias

from autograd import ops
from autograd.context import state

# What arithmetic accepts beside a Value: int, float and NumPy scalars (numbers.Real).
Number: TypeAlias = "int | float"
Operand: TypeAlias = "Value | int | float"


def real_number(data: object, where: str) -> float:
    """`data` (int, float, NumPy scalar) as a finite float, else a TypeError/ValueError naming `where`."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(
            f"{where} needs a real number (int, float or NumPy scalar), got {type(data).__name__}"
            + (": use the Value itself, or its .data" if isinstance(data, Value) else "")
        )
    value = float(data)
    if not math.isfinite(value):
        raise ValueError(f"{where} needs a finite number, got {value!r}")
    return value


class Value:
    """A scalar node of the graph: `.data`, `.grad`, and how it was computed from `.parents`.

    Parents and local derivatives live in fixed slots (see __slots__), not in per-node tuples or
    closures: a node is one object for the garbage collector to track, and a graph holds no
    reference cycle, so it is freed by reference counting alone.
    """

    # _a/_b and _da/_db hold the one or two inputs of most operations and their local
    # derivatives; an n-ary node (`weighted_sum`) sets _a to the marker MANY and keeps tuples
    # in _ps/_ds instead. Fixed slots, not a tuple per node: fewer objects for the collector.
    __slots__ = ("data", "grad", "label", "op", "scope", "_a", "_b", "_da", "_db", "_ps", "_ds")
    # NumPy scalars on the left (np.float64(2) * v) defer to our reflected operators.
    __array_ufunc__ = None

    data: float
    grad: float
    label: str
    op: str
    scope: str
    _a: Value | None
    _b: Value | None
    _da: float
    _db: float
    _ps: tuple[Value, ...]
    _ds: tuple[float, ...]

    def __init__(self, data: float, label: str = "") -> None:
        """A leaf holding `data` (any real number, stored as float) with grad 0.0."""
        # A finite float skips the slower numbers.Real check (x - x is nan for inf and nan).
        self.data = data if type(data) is float and data - data == 0.0 else real_number(data, "Value(data)")
        if not isinstance(label, str):
            raise TypeError(f"Value(label) needs a str, got {type(label).__name__}")
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.scope = state.scope
        self._a = None
        self._b = None
        self._da = 0.0
        self._db = 0.0
        self._ps = ()
        self._ds = ()

    # ------------------------------------------------------------ the recorded structure

    @property
    def parents(self) -> tuple[Value, ...]:
        """The input Values of the operation that made this one, in argument order (duplicates kept)."""
        if self._a is None:
            return ()
        if self._a is MANY:
            return self._ps
        if self._b is None:
            return (self._a,)
        return (self._a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent_i for each parent, evaluated at the forward values."""
        if self._a is None:
            return ()
        if self._a is MANY:
            return self._ds
        if self._b is None:
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
        """micrograd's form: Value(data=..., grad=...)."""
        return f"Value(data={self.data}, grad={self.grad})"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter display: the graph diagram when a renderer is registered (viz does, on import)."""
        if _display.renderer is None:
            return {"text/plain": repr(self)}
        return _display.renderer(self)

    # ------------------------------------------------------------ arithmetic
    # NOTE: + - * are the hot path of every network, so their rules (ops.add, ops.sub, ops.mul)
    # are inlined here: one Python call per node instead of four. The other operations go
    # through `_unary` / `_binary` and the table in ops.py.

    def __add__(self, other: Operand) -> Value:
        """self + other."""
        o = other if type(other) is Value else _coerce(other)
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        return _record(a + b, "+", self, 1.0, o, 1.0)

    def __radd__(self, other: Number) -> Value:
        """other + self."""
        o = _coerce(other)
        if o is None:
            return NotImplemented
        a, b = o.data, self.data
        return _record(a + b, "+", o, 1.0, self, 1.0)

    def __sub__(self, other: Operand) -> Value:
        """self - other."""
        o = other if type(other) is Value else _coerce(other)
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        return _record(a - b, "-", self, 1.0, o, -1.0)

    def __rsub__(self, other: Number) -> Value:
        """other - self."""
        o = _coerce(other)
        if o is None:
            return NotImplemented
        a, b = o.data, self.data
        return _record(a - b, "-", o, 1.0, self, -1.0)

    def __mul__(self, other: Operand) -> Value:
        """self * other."""
        o = other if type(other) is Value else _coerce(other)
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        return _record(a * b, "*", self, b, o, a)

    def __rmul__(self, other: Number) -> Value:
        """other * self."""
        o = _coerce(other)
        if o is None:
            return NotImplemented
        a, b = o.data, self.data
        return _record(a * b, "*", o, b, self, a)

    def __truediv__(self, other: Operand) -> Value:
        """self / other (ZeroDivisionError when other is 0)."""
        o = _coerce(other)
        return NotImplemented if o is None else _binary(ops.div, "/", self, o)

    def __rtruediv__(self, other: Number) -> Value:
        """other / self (ZeroDivisionError when self is 0)."""
        o = _coerce(other)
        return NotImplemented if o is None else _binary(ops.div, "/", o, self)

    def __pow__(self, other: Operand) -> Value:
        """self ** other: a number exponent (op "**n") or a Value exponent (op "**", needs self > 0)."""
        if isinstance(other, Value):
            return _binary(ops.power_value, "**", self, other)
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            return NotImplemented
        exponent = real_number(other, "a ** n (the exponent n)")
        value, slope = ops.power(self.data, exponent)
        return _record(value, "**" + _exponent_text(exponent), self, slope, None, 0.0)

    def __rpow__(self, other: Number) -> Value:
        """other ** self, a number base with a Value exponent (needs other > 0)."""
        o = _coerce(other)
        return NotImplemented if o is None else _binary(ops.power_value, "**", o, self)

    def __neg__(self) -> Value:
        """-self."""
        return _unary(ops.neg, "neg", self)

    def __abs__(self) -> Value:
        """abs(self)."""
        return _unary(ops.absolute, "abs", self)

    # ------------------------------------------------------------ functions

    def exp(self) -> Value:
        """e ** self (ValueError past float range, x > 709.78)."""
        return _unary(ops.exp, "exp", self)

    def log(self) -> Value:
        """Natural logarithm (ValueError for self <= 0)."""
        return _unary(ops.log, "log", self)

    def sqrt(self) -> Value:
        """Square root (ValueError for self < 0, and at 0 where the derivative is infinite)."""
        return _unary(ops.sqrt, "sqrt", self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(ops.tanh, "tanh", self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1/(1+e^-x), stable for any x."""
        return _unary(ops.sigmoid, "sigmoid", self)

    def relu(self) -> Value:
        """max(0, self), with relu'(0) = 0."""
        return _unary(ops.relu, "relu", self)

    def step(self) -> Value:
        """The posts' threshold: 1 if self >= 0 else 0; its derivative is 0."""
        return _unary(ops.step, "step", self)

    def sign(self) -> Value:
        """The posts' -1/+1 function: 1 if self >= 0 else -1; its derivative is 0."""
        return _unary(ops.sign, "sign", self)

    def abs(self) -> Value:
        """|self|, with abs'(0) = 0."""
        return _unary(ops.absolute, "abs", self)

    # ------------------------------------------------------------ gradients

    def backward(self) -> None:
        """Chain rule from this node to every ancestor (see `autograd.graph.backward`)."""
        from autograd.graph import backward

        backward(self)

    def _backward(self) -> None:
        """micrograd's one-node step: push this node's grad to its parents."""
        from autograd.graph import accumulate

        accumulate((self,))


class _Display:
    """Holds the optional Jupyter renderer; autograd imports no drawing code itself."""

    renderer: Callable[[Value], dict[str, str]] | None = None


_display = _Display()


def set_renderer(renderer: Callable[[Value], dict[str, str]] | None) -> None:
    """Register how a Value shows itself in Jupyter (a mime bundle); viz registers its diagram."""
    _display.renderer = renderer


def _exponent_text(n: float) -> str:
    """The exponent as written in the op name: short ("2", "0.5") yet exact ("0.3333333333333333")."""
    short = f"{n:g}"
    return short if float(short) == n else repr(n)


def _coerce(other: object) -> Value | None:
    """`other` as a Value (numbers become constant leaves), None for unsupported types."""
    if isinstance(other, Value):
        return other
    kind = type(other)
    if kind is float or kind is int:  # the common case, without the slower ABC check below
        return _constant(float(other))  # type: ignore[arg-type]
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return Value(float(other))
    return None


def _constant(data: float) -> Value:
    """A leaf for a number operand (`x + 2`), built without re-validating its type."""
    if data - data != 0.0:
        raise ValueError(f"an operand of an arithmetic operation must be a finite number, got {data!r}")
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = ""
    out.scope = state.scope
    out._a = None
    out._b = None
    out._da = 0.0
    out._db = 0.0
    out._ps = ()
    out._ds = ()
    return out


def _record(data: float, op: str, a: Value, da: float, b: Value | None, db: float) -> Value:
    """A new node; records parents and local derivatives unless inside `no_grad()`."""
    # inf - inf and nan - nan are nan, so this one comparison catches any non-finite number.
    if (data - data) + (da - da) + (db - db) != 0.0:
        names = ", ".join(f"{x.data!r}" for x in (a, b) if x is not None)
        raise ValueError(f"{op} of ({names}) gives a non-finite value or derivative")
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.scope = state.scope
    if state.grad_enabled:
        out.op = op
        out._a = a
        out._b = b
        out._da = da
        out._db = db
    else:
        out.op = ""
        out._a = None
        out._b = None
        out._da = 0.0
        out._db = 0.0
    out._ps = ()
    out._ds = ()
    return out


_new = object.__new__


def _unary(rule: Callable[[float], tuple[float, float]], op: str, a: Value) -> Value:
    """Apply a one-input rule from `ops` and record it."""
    value, da = rule(a.data)
    return _record(value, op, a, da, None, 0.0)


def _binary(rule: Callable[[float, float], tuple[float, float, float]], op: str, a: Value, b: Value) -> Value:
    """Apply a two-input rule from `ops` and record it."""
    value, da, db = rule(a.data, b.data)
    return _record(value, op, a, da, b, db)


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
    parents: list[Value] = []
    grads: list[float] = []
    total = 0.0
    for w, x in zip(weights, inputs):
        if not isinstance(w, Value):
            raise TypeError(f"weighted_sum needs Value weights, got {type(w).__name__}")
        if not isinstance(x, Value):
            x = _constant(real_number(x, "weighted_sum input"))
        wd = w.data
        xd = x.data
        parents += (w, x)
        grads += (xd, wd)
        total += wd * xd
    if bias is not None:
        if not isinstance(bias, Value):
            raise TypeError(f"weighted_sum needs a Value bias or None, got {type(bias).__name__}")
        total += bias.data
        parents.append(bias)
        grads.append(1.0)
    return _record_many(total, "wsum", tuple(parents), tuple(grads))


def _record_many(data: float, op: str, parents: tuple[Value, ...], grads: tuple[float, ...]) -> Value:
    """A new n-ary node (parents and derivatives in tuples), unless inside `no_grad()`."""
    if data - data != 0.0:
        raise ValueError(f"{op} gives a non-finite value {data!r}")
    if not parents or not state.grad_enabled:
        return _constant(data)
    out = _record(data, op, MANY, 0.0, None, 0.0)
    out._ps = parents
    out._ds = grads
    return out


# The marker in _a of an n-ary node (see Value.__slots__); never part of any graph.
MANY = Value(0.0, label="MANY")
