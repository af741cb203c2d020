"""Graph traversal: the topological order and the one chain-rule loop.

Every Value gets a number when it is created (`_n`, counting up). A Value's inputs exist before
it does, so they always have smaller numbers: sorting a graph's nodes by number is a topological
order, found without recursion and without visiting any node twice.

It knows nodes only through a narrow interface (the slots `Value` declares): `_n`, `_a`/`_b` with
`_da`/`_db` for one- and two-input nodes, tuples in `_a`/`_da` when `_b is MANY` (n-ary), and `.grad`.
Of ours it imports only the validators.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import count
from operator import attrgetter
from typing import Any

from autograd.checks import first_non_finite


class _Many:
    """The marker in `_b` of an n-ary node (its parents are the tuple in `_a`); never part of any graph."""

    __slots__ = ()

    def __repr__(self) -> str:
        """MANY."""
        return "MANY"


MANY: Any = _Many()


# The next creation number: Value reads it once per node (a C-level call, atomic under the GIL).
next_number = count().__next__
_number = attrgetter("_n")


def _ancestors(root: Any) -> tuple[list[Any], list[Any]]:
    """The interior nodes `root` depends on (itself included) and its leaves, each once, unordered."""
    if not hasattr(root, "_n") or root is MANY:
        raise TypeError(f"topological_order(root) needs a Value, got {type(root).__name__}")
    # NOTE: found nodes are marked with this walk's own token in their `_seen` field, not kept in
    # a set: a set of a step's ~66,000 nodes is a 2 MB table whose every lookup misses the cache
    # (the walk takes ~30% less time). A new token per walk, so old marks never need clearing.
    walk = object()
    root._seen = walk
    interior: list[Any] = []
    leaves: list[Any] = []
    stack = [root]
    pop, push = stack.pop, stack.append  # bound once: the loop runs once per node of the graph
    while stack:
        node = pop()
        a = node._a
        if a is None:
            leaves.append(node)
            continue
        interior.append(node)
        b = node._b
        if b is MANY:
            for p in a:
                if p._seen is not walk:
                    p._seen = walk
                    push(p)
            continue
        if a._seen is not walk:
            a._seen = walk
            push(a)
        if b is not None and b._seen is not walk:
            b._seen = walk
            push(b)
    return interior, leaves


def topological_order(root: Any) -> list[Any]:
    """Every node `root` depends on, each after all of its parents: the order they were created in."""
    interior, leaves = _ancestors(root)
    order = leaves + interior
    order.sort(key=_number)
    return order


def accumulate(nodes: Iterable[Any]) -> None:
    """The chain rule, once per node in the given order: parent.grad += local * node.grad."""
    for node in nodes:
        g = node.grad
        # NOTE: a node whose grad is 0 adds exactly nothing to its parents (every local derivative
        # is finite): skipping it saves most of the loop behind a dead ReLU or a satisfied margin.
        if g == 0.0:
            continue
        a = node._a
        if a is None:
            continue
        b = node._b
        if b is MANY:
            for p, d in zip(a, node._da):
                p.grad += d * g
            continue
        a.grad += node._da * g
        if b is not None:
            b.grad += node._db * g


def backward(root: Any) -> None:
    """Seed d(root)/d(root) = 1 and propagate to every ancestor, newest node first.

    Calling it again is safe: interior nodes are reset first, so each shows the current pass
    alone (micrograd issue #53), while leaves accumulate across calls as in PyTorch; clear them
    with `zero_grad()` between steps. A gradient that overflows a float is a ValueError; then
    every leaf's grad is put back as it was before the call and interior grads read 0.0.
    """
    interior, leaves = _ancestors(root)
    interior.sort(key=_number, reverse=True)  # newest first: each node before its parents
    for node in interior:
        node.grad = 0.0
    before = [leaf.grad for leaf in leaves]  # what a failed call puts back
    if interior:
        root.grad = 1.0
    else:
        root.grad += 1.0
    accumulate(interior)
    # Every local derivative is finite, yet their products can still overflow. An inf or nan
    # anywhere reaches a leaf (inf times a finite number, plus anything, stays inf or nan), so
    # checking the leaves is enough; only then is the graph searched for the node to name.
    if first_non_finite([leaf.grad for leaf in leaves]) is not None:
        _undo_overflow(root, leaves, before)


def _undo_overflow(root: Any, leaves: list[Any], before: list[float]) -> None:
    """Name the first node (leaves first) whose grad overflowed, put the leaves' grads back, raise."""
    order = topological_order(root)
    i = first_non_finite([node.grad for node in order])
    node = order[i or 0]
    g = node.grad
    name = node.label or node.op or "a leaf"
    for n in order:
        n.grad = 0.0
    for leaf, previous in zip(leaves, before):
        leaf.grad = previous
    raise ValueError(
        f"backward: the gradient at {name!r} (data={node.data!r}) overflows a float: grad={g!r}; "
        "the leaves' grads are as they were before this call"
    )
