"""Nodes made micrograd's way: `Value(data, (a, b), "+")` plus an `out._backward` closure.

Karpathy's lecture adds `tanh` and `exp` by building `Value(t, (self,), "tanh")` and assigning a
closure such as `self.grad += (1 - t**2) * out.grad`. Such a closure is linear in `out.grad`, so
running it once with `out.grad = 1` and the children's grads cleared reads off each local
derivative; the node then draws, explains and back-propagates like a built-in. The numbers are
known at this one point only, so `compile` refuses such a node: `autograd.op` is the way to add
an operation that also replays over a batch.

Reading the slopes leaves no trace: whatever the closure does to the `.data` and `.grad` of the
node and its children is put back, and inside it `backward()` or another `_backward` assignment
is an error (a closure only adds to its children's grads). A slope that is not a finite number
is refused there, naming the node and the child.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd.checks import is_real, needs
from autograd.context import is_grad_enabled
from autograd.graph import CLOSURE_KINDS as _KINDS
from autograd.graph import GRAPH_LOCK, MANY, accumulate, check_not_probing, describe, probing
from autograd.oprecord import Op


def closure_kind(name: str) -> Op:
    """The (unregistered) op row for closure nodes named `name`: its rule says where it came from."""
    kind = _KINDS.get(name)
    if kind is None:

        def from_closure(*operands: float) -> tuple[float, ...]:
            raise ValueError(
                f"the operation {name!r} was defined by a _backward closure, which gives its local "
                "derivatives at one point only; define it with @autograd.op to evaluate or compile it"
            )

        shown = name or "closure"
        # Not registered in the table: a closure node is not an operation you can apply again.
        kind = Op(
            from_closure,
            name=shown,
            symbol=shown,
            texts=("from its _backward closure",),
            latex=(r"\text{from its \_backward closure}",),
            formula=f"{shown}(...)",
            domain=(),
            const=None,
            vectorized=None,
            builtin=False,
        )
        _KINDS[name] = kind
    return kind


def is_closure_kind(kind: Op) -> bool:
    """True for the row of a node made as Value(data, children, op) with a closure."""
    return _KINDS.get(kind.name) is kind


def attach_children(node: Any, children: Sequence[Any], name: str) -> None:
    """Make `node` an interior node over `children` (distinct, in order), slopes 0 until a closure comes."""
    if isinstance(children, (str, bytes)) or not isinstance(children, (Sequence, set, frozenset)):
        raise TypeError(needs("Value(_children)", "a tuple of Values", children))
    if not isinstance(name, str):
        raise TypeError(needs("Value(_op)", "a str", name))
    distinct: list[Any] = []
    for i, child in enumerate(children):
        if getattr(type(child), "_apply_op", None) is None:
            raise TypeError(needs(f"Value(_children[{i}])", "a Value", child))
        if not any(child is d for d in distinct):  # micrograd keeps a set: a*a has one child
            distinct.append(child)
    if not is_grad_enabled():
        return
    node._kind = closure_kind(name)
    if distinct:
        node._a = tuple(distinct)
        node._b = MANY
        node._da = (0.0,) * len(distinct)


def read_closure(node: Any, closure: Callable[[], None]) -> None:
    """Run `closure` once with node.grad = 1 and the children's grads at 0; keep what it adds as slopes.

    The data and grads of the node and its children are put back afterwards, whatever the closure
    did. Inside no_grad the node is a leaf, as every result is there: the closure is ignored.
    """
    check_not_probing("assigning _backward")
    if not callable(closure):
        raise TypeError(needs("_backward", "a function of no arguments", closure))
    if node._kind is None and not is_grad_enabled():
        return  # inside no_grad: Value(data, children, op) made a leaf, as `a * b` does; nothing to read
    children = node.parents
    if node._kind is None or not is_closure_kind(node._kind):
        raise AttributeError(
            "_backward can be set only on a node made as Value(data, children, op) while recording "
            "(not inside no_grad); built-in operations already know their local derivatives"
        )
    touched = (node, *children)
    with GRAPH_LOCK, probing(node):  # no backward runs while the grads are borrowed
        saved = [(n.data, n.grad) for n in touched]
        try:
            for c in children:
                c.grad = 0.0
            node.grad = 1.0
            closure()
            slopes = [c.grad for c in children]
        finally:
            for n, (data, grad) in zip(touched, saved):
                n.data, n.grad = data, grad
    node._da = tuple(_slope(node, i, child, d) for i, (child, d) in enumerate(zip(children, slopes)))


def _slope(node: Any, i: int, child: Any, d: object) -> float:
    """What the closure added to child i's grad at out.grad = 1, checked: a finite real number."""
    if not is_real(d):
        raise TypeError(
            f"the _backward closure of {describe(node)} set the grad of child {i}, {describe(child)}, "
            f"to {d!r} ({type(d).__name__}); it must add a real number, e.g. self.grad += 2 * out.grad"
        )
    d = float(d)
    if d - d != 0.0:
        what = "NaN" if d != d else f"{d!r} (it overflows a float)"
        raise ValueError(
            f"the _backward closure of {describe(node)} gives child {i}, {describe(child)}, "
            f"the local derivative {what}; a local derivative must be a finite number"
        )
    return d


class MicrogradNames:
    """micrograd's names on a Value: `_prev`, `_op` and the `_backward` closure (Value inherits them)."""

    __slots__ = ()

    @property
    def _prev(self) -> set[Any]:
        """micrograd's name: the set of parents (for tutorials that draw with it)."""
        return set(self.parents)  # type: ignore[attr-defined]

    @property
    def _op(self) -> str:
        """micrograd's name for `op`."""
        return str(self.op)  # type: ignore[attr-defined]

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's one-node step: push this node's grad to its parents (call it)."""
        return lambda: accumulate((self,))

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        """micrograd's way to give a node its backward: read its local derivatives from the closure."""
        read_closure(self, closure)
