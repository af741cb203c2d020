"""Graph traversal: the iterative topological order and the one chain-rule loop.

It knows nodes only through a narrow interface (the slots `Value` declares): `_a`/`_b` with
`_da`/`_db` for one- and two-input nodes, tuples in `_a`/`_da` when `_b is MANY` (n-ary), and `.grad`.
Of ours it imports only the validators.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autograd.checks import first_non_finite


class _Many:
    """The marker in `_b` of an n-ary node (its parents are the tuple in `_a`); never part of any graph."""

    __slots__ = ()

    def __repr__(self) -> str:
        """MANY."""
        return "MANY"


MANY: Any = _Many()


def topological_order(root: Any) -> list[Any]:
    """Every node `root` depends on, leaves first, each after all of its parents (iterative DFS).

    Parents are visited in argument order, so the order is stable from run to run.
    """
    if not hasattr(root, "_a") or root is MANY:
        raise TypeError(f"topological_order(root) needs a Value, got {type(root).__name__}")
    order: list[Any] = []
    seen: set[Any] = set()
    # Two parallel stacks instead of (node, flag) tuples: no allocation per visit, so a deep
    # graph does not wake the garbage collector. A node is emitted on its second pop.
    stack: list[Any] = [root]
    expanded: list[bool] = [False]
    while stack:
        node = stack.pop()
        if expanded.pop():
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append(node)
        expanded.append(True)
        a = node._a
        b = node._b
        if b is MANY:
            for p in reversed(a):
                if p not in seen:
                    stack.append(p)
                    expanded.append(False)
            continue
        if b is not None and b not in seen:
            stack.append(b)
            expanded.append(False)
        if a is not None and a not in seen:
            stack.append(a)
            expanded.append(False)
    return order


def accumulate(nodes: Iterable[Any]) -> None:
    """The chain rule, once per node in the given order: parent.grad += local * node.grad."""
    for node in nodes:
        a = node._a
        if a is None:
            continue
        g = node.grad
        b = node._b
        if b is MANY:
            for p, d in zip(a, node._da):
                p.grad += d * g
            continue
        a.grad += node._da * g
        if b is not None:
            b.grad += node._db * g


def backward(root: Any) -> None:
    """Seed d(root)/d(root) = 1 and propagate to every ancestor in reverse topological order.

    Calling it again is safe: interior nodes are reset first, so each shows the current pass
    alone (micrograd issue #53), while leaves accumulate across calls as in PyTorch; clear them
    with `zero_grad()` between steps. A gradient that overflows a float is a ValueError; then
    every leaf's grad is put back as it was before the call and interior grads read 0.0.
    """
    order = topological_order(root)
    leaves: list[Any] = []
    keep = leaves.append
    for node in order:
        if node._a is not None:
            node.grad = 0.0
        else:
            keep(node)
    before = [leaf.grad for leaf in leaves]  # what a failed call puts back
    if root._a is None:
        root.grad += 1.0
    else:
        root.grad = 1.0
    accumulate(reversed(order))
    # Every local derivative is finite, yet their products can still overflow: say so, never a silent inf.
    i = first_non_finite([node.grad for node in order])  # a list comprehension beats map(attrgetter)
    if i is not None:
        node, g = order[i], order[i].grad
        name = node.label or node.op or "a leaf"
        for n in order:
            n.grad = 0.0
        for leaf, previous in zip(leaves, before):
            leaf.grad = previous
        raise ValueError(
            f"backward: the gradient at {name!r} (data={node.data!r}) overflows a float: grad={g!r}; "
            "the leaves' grads are as they were before this call"
        )

