"""Graph traversal: the iterative topological order and the one chain-rule loop."""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from autograd.value import MANY, Value


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, leaves first, each after all of its parents (iterative DFS).

    Parents are visited in argument order, so the order is stable from run to run.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order(root) needs a Value, got {type(root).__name__}")
    order: list[Value] = []
    seen: set[Value] = set()
    # Two parallel stacks instead of (node, flag) tuples: no allocation per visit, so a deep
    # graph does not wake the garbage collector. A node is emitted on its second pop.
    stack: list[Value] = [root]
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
        if a is MANY:
            for p in reversed(node._ps):
                if p not in seen:
                    stack.append(p)
                    expanded.append(False)
            continue
        b = node._b
        if b is not None and b not in seen:
            stack.append(b)
            expanded.append(False)
        if a is not None and a not in seen:
            stack.append(a)
            expanded.append(False)
    return order


def accumulate(nodes: Iterable[Value]) -> None:
    """The chain rule, once per node in the given order: parent.grad += local * node.grad."""
    for node in nodes:
        a = node._a
        if a is None:
            continue
        g = node.grad
        if a is MANY:
            for p, d in zip(node._ps, node._ds):
                p.grad += d * g
            continue
        a.grad += node._da * g
        b = node._b
        if b is not None:
            b.grad += node._db * g


def backward(root: Value) -> None:
    """Seed d(root)/d(root) = 1 and propagate to every ancestor in reverse topological order.

    Calling it again is safe: interior nodes are reset first, so each shows the current pass
    alone (micrograd issue #53), while leaves accumulate across calls as in PyTorch; clear them
    with `zero_grad()` between steps.
    """
    order = topological_order(root)
    for node in order:
        if node._a is not None:
            node.grad = 0.0
    if root._a is None:
        root.grad += 1.0
    else:
        root.grad = 1.0
    accumulate(reversed(order))
    # Every local derivative is finite, yet their products can still overflow: say so, never a silent inf.
    # One C-level sum is finite unless some grad is inf/nan (or, harmlessly, the sum itself overflows):
    # only then look for the node.
    total = sum(map(_grad_of, order))
    if total - total != 0.0:
        for node in order:
            g = node.grad
            if g - g != 0.0:
                name = node.label or node.op or "a leaf"
                raise ValueError(
                    f"backward: the gradient at {name!r} (data={node.data!r}) overflows a float: grad={g!r}"
                )


_grad_of = attrgetter("grad")
