"""Nodes made micrograd's way: `Value(data, (a, b), "+")` plus an `out._backward` closure.

Karpathy's lecture adds `tanh` and `exp` by building `Value(t, (self,), "tanh")` and assigning a
closure such as `self.grad += (1 - t**2) * out.grad`. Such a closure is linear in `out.grad`, so
running it once with `out.grad = 1` and the children's grads cleared reads off each local
derivative; the node then draws, explains and back-propagates like a built-in. The numbers are
known at this one point only, so `compile` refuses such a node: `autograd.op` is the way to add
an operation that also replays over a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd.checks import needs
from autograd.context import is_grad_enabled
from autograd.graph import MANY, accumulate
from autograd.oprecord import Op

_KINDS: dict[str, Op] = {}


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

    Inside no_grad the node is a leaf, as every result is there, and the closure is accepted and ignored.
    """
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
    saved = [c.grad for c in children]
    own = node.grad
    try:
        for c in children:
            c.grad = 0.0
        node.grad = 1.0
        closure()
        slopes = tuple(float(c.grad) for c in children)
    finally:
        for c, g in zip(children, saved):
            c.grad = g
        node.grad = own
    node._da = slopes


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
