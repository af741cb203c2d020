"""Graph traversal: the iterative topological order and the one chain-rule loop.

Backpropagation is the chain rule applied node by node. A node's gradient d(root)/d(node) is the
sum, over every edge from the node to a result it feeds, of (the result's gradient) x (the local
derivative on that edge). So a node is ready to pass its gradient on only once every result it
feeds has passed theirs to it: visiting nodes in reverse topological order (each node before its
parents) guarantees exactly that, and each node is visited once. Gradients are *accumulated*
(`+=`) because a node used twice (`a * a`, a weight shared by many samples) receives one
contribution per edge, and the total derivative is their sum.

The walk knows nodes only through a narrow interface (the slots `Value` declares): `_a`/`_b` with
`_da`/`_db` for one- and two-input nodes, sequences in `_a`/`_da` when `_b is MANY` (n-ary),
`_seen` (a walk's mark) and `.grad`. Of ours it imports only the validators, `stale` (the
forgotten-zero_grad warning) and `context` (the collector pause).

One backward at a time: a pass resets interior grads and then adds into them, so two passes
through the same nodes at once (two threads) would mix each other's numbers. Every pass, and
every walk, holds one re-entrant lock; uncontended it costs far less than a pass. While it holds
the lock the cycle collector is paused (autograd.context.collector_paused): the graph holds no
reference cycle, so scanning it finds nothing to free.
"""

from __future__ import annotations

import operator
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from autograd import stale
from autograd.checks import first_non_finite
from autograd.context import collector_paused

_grad = operator.attrgetter("grad")  # node -> node.grad, mapped over a list without a Python call

GRAPH_LOCK = threading.RLock()
"""Held by every backward pass and graph walk (and by the _backward closure probe): one at a time."""
# A process forked while another thread held it starts with it free (the holder is not copied).
os.register_at_fork(after_in_child=GRAPH_LOCK._at_fork_reinit)  # type: ignore[attr-defined]

CLOSURE_KINDS: dict[str, Any] = {}
"""The op rows of nodes made as Value(data, children, op) with a closure, by name (autograd.closure
makes them; errors here say when a closure gave a node's local derivatives)."""

# The node whose _backward closure is being run once to read its slopes (autograd.closure), in
# this thread; None otherwise.
_PROBING: ContextVar[Any] = ContextVar("axongrad_probing", default=None)


@contextmanager
def probing(node: Any) -> Iterator[None]:
    """While reading `node`'s closure: backward() and another _backward assignment are refused."""
    token = _PROBING.set(node)
    try:
        yield
    finally:
        _PROBING.reset(token)


def check_not_probing(what: str) -> None:
    """RuntimeError if `what` runs inside a _backward closure while its slopes are read."""
    node = _PROBING.get()
    if node is not None:
        raise RuntimeError(
            f"{what} was called inside a _backward closure while its local derivatives were read "
            f"(assigning it to {describe(node)} runs it once): a closure may only add to its "
            "children's .grad, e.g. self.grad += (1 - t**2) * out.grad"
        )


def describe(node: Any) -> str:
    """A node as errors name it: its label or operation and its data, e.g. "'h1' (data=0.5)"."""
    name = node.label or node.op or "a leaf"
    return f"{name!r} (data={node.data!r})"


class _Many:
    """The marker in `_b` of an n-ary node (its parents are the sequence in `_a`); never part of any graph."""

    __slots__ = ()

    def __repr__(self) -> str:
        """MANY."""
        return "MANY"

    def __reduce__(self) -> str:
        """Unpickles as this module's one MANY, so `node._b is MANY` holds in a loaded graph."""
        return "MANY"


MANY: Any = _Many()


def _postorder(root: Any, reset: bool = False) -> tuple[list[Any], list[Any]]:
    """Every node `root` depends on, each after its parents (depth first, parents in argument
    order), and the leaves among them. With `reset`, interior grads are set to 0 on the way.
    The caller holds GRAPH_LOCK: the marks below are one walk's at a time.
    """
    if not hasattr(root, "_seen") or root is MANY:
        raise TypeError(f"topological_order(root) needs a Value, got {type(root).__name__}")
    # A node is marked in its `_seen` field instead of being kept in a set (no table as large as
    # the graph to probe), with this walk's own two marks, so old marks never need clearing.
    opened, done = object(), object()
    order: list[Any] = []
    leaves: list[Any] = []
    # Depth first without recursion (a 1,000,000-node chain needs no deep Python stack). A node
    # whose parents are all emitted already (a leaf, a weight times a shared input) is emitted at
    # once. Otherwise it is `opened`: pushed, with its waiting parents on top of it, last parent
    # lowest; when it is popped again every parent has been emitted, so it is emitted and `done`.
    # The walk steps straight on to the first waiting parent instead of pushing it and popping it
    # again at once. (A node pushed twice is opened from its later, higher copy; the older copy
    # pops when it is done.)
    stack: list[Any] = []
    pop, push, emit = stack.pop, stack.append, order.append
    node = root
    try:
        while True:
            seen = node._seen
            if seen is opened:  # popped again: every parent has been emitted
                node._seen = done
                emit(node)
            elif seen is not done:  # met for the first time
                a = node._a
                if a is None:
                    node._seen = done
                    emit(node)
                    leaves.append(node)
                else:
                    if reset:
                        node.grad = 0.0
                    b = node._b
                    if b is MANY:
                        node._seen = opened
                        push(node)
                        for p in reversed(a):
                            if p._seen is not done:
                                push(p)
                    else:
                        a_waits = a._seen is not done
                        b_waits = b is not None and b._seen is not done
                        if a_waits or b_waits:
                            node._seen = opened
                            push(node)
                            if a_waits and b_waits:
                                push(b)
                            node = a if a_waits else b  # the first waiting parent, next
                            continue
                        node._seen = done
                        emit(node)
            if not stack:
                break
            node = pop()
    except AttributeError:  # an object that is not a Value among the parents (put in by hand)
        raise _not_a_node(node) from None
    return order, leaves


def _not_a_node(node: Any) -> TypeError:
    """The TypeError for a walk that met an object that is not a Value: `node` or one of its parents."""
    if hasattr(node, "_seen"):
        a, b = node._a, node._b
        parents = list(a) if b is MANY else [a, b]
        node = next((p for p in parents if p is not None and not hasattr(p, "_seen")), node)
    return TypeError(
        f"backward: the graph holds a {type(node).__name__}, not a Value ({node!r:.60}): a weight or "
        "input replaced by hand? (set a weight's number with w.data = 3.0, not w = 3.0)"
    )


def topological_order(root: Any) -> list[Any]:
    """Every node `root` depends on, leaves first, each after all of its parents (iterative DFS).

    Parents are visited in argument order, so the order is stable from run to run.
    """
    with GRAPH_LOCK:
        return _postorder(root)[0]


def accumulate(nodes: Iterable[Any]) -> None:
    """The chain rule, once per node in the given order: parent.grad += local * node.grad."""
    for node in nodes:
        g = node.grad
        # A node whose grad is 0 adds exactly nothing to its parents (every local derivative is
        # finite, so 0 * d is 0): skipping it skips the work behind a dead ReLU or a met margin.
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
    """Seed d(root)/d(root) = 1 and propagate to every ancestor in reverse topological order.

    Calling it again is safe: interior nodes are reset first, so each shows the current pass
    alone (micrograd issue #53), while leaves accumulate across calls as in PyTorch; clear them
    with `zero_grad()` between steps. A gradient that overflows a float is a ValueError; then
    every leaf's grad is put back as it was before the call and interior grads read 0.0.
    Passes from several threads run one after another (GRAPH_LOCK), each adding its own.
    """
    if _PROBING.get() is not None:
        check_not_probing("backward()")
    with GRAPH_LOCK, collector_paused():
        again = stale.same_root(root)  # read before the walk resets root.grad (autograd/stale.py)
        order, leaves = _postorder(root, reset=True)
        before = list(map(_grad, leaves))  # what a failed call puts back
        stale.check(root, leaves, before, again)  # warn once about a forgotten zero_grad()
        if root._a is None:
            root.grad += 1.0
        else:
            root.grad = 1.0
        order.reverse()  # each node before its parents: its grad is complete when it is reached
        accumulate(order)
        # Every local derivative is finite, yet their products can still overflow. An inf or nan
        # anywhere reaches a leaf (inf times a finite number, plus anything, stays inf or nan), so
        # checking the leaves is enough; only then is the graph searched for the node to name.
        if first_non_finite(list(map(_grad, leaves))) is not None:
            _undo_overflow(root, leaves, before)


def _undo_overflow(root: Any, leaves: list[Any], before: list[float]) -> None:
    """Name the first leaf whose grad is inf or NaN and the edge where it began; put the leaves'
    grads back; raise."""
    order = topological_order(root)
    node = order[first_non_finite([n.grad for n in order]) or 0]
    g = node.grad
    what = "is NaN" if g != g else "overflows a float"
    held = [b for leaf, b in zip(leaves, before) if leaf is node and b - b != 0.0]
    where = f"; it held {held[0]!r} before this call (set by hand?)" if held else _first_bad_edge(order)
    for n in order:
        n.grad = 0.0
    for leaf, previous in zip(leaves, before):
        leaf.grad = previous
    raise ValueError(
        f"backward: the gradient at {describe(node)} {what}: grad={g!r}{where}; "
        "the leaves' grads are as they were before this call"
    )


def _first_bad_edge(order: list[Any]) -> str:
    """Where the first non-finite gradient came from, as words: the edge nearest the root that
    carries one (results come before their parents in the reversed order, all still finite)."""
    for result in reversed(order):
        g = result.grad
        if g - g != 0.0:
            return ""  # reached a non-finite node before any bad edge: its finite inputs overflowed
        for parent, d in zip(result.parents, result.local_grads):
            if (d * g) - (d * g) != 0.0:
                origin = " (a _backward closure gave its local derivatives)" if _is_closure(result) else ""
                return (
                    f"; it began on the edge from {describe(result)}{origin} to {describe(parent)}: "
                    f"local derivative {d!r} x grad {g!r}"
                )
    return ""


def _is_closure(node: Any) -> bool:
    """Whether `node` was made as Value(data, children, op) with a _backward closure."""
    kind = node.operation
    return kind is not None and CLOSURE_KINDS.get(kind.name) is kind
