"""What a future change to the engine must not break, each guarded by counting, never by timing.

1. A node is one GC-tracked object: a one- or two-input node is the Value alone; an n-ary node
   (weighted_sum) adds only its two lists (parents, local derivatives). The cycle collector's work
   grows with the tracked objects a step makes.
2. A graph holds no reference cycle: parents never refer back to their results, nothing else
   refers to a node, so a dropped graph is freed by reference counting alone (the collector finds
   no garbage), also after backward and with no_grad/scope blocks used while building it.
3. No Python call per edge or per node in backward: the walk and the chain-rule loop are each one
   Python function whose loops run in its own frame.
4. `a + b` and `a * b` cost one Python call, the operator itself: they are the one fast path
   (tests/test_autograd_optable.py checks its numbers against the table bit for bit, and
   tests/test_autograd_value.py its fields against `_build`'s).

Each guard is a function run once on the real engine and once on an engine broken on purpose
(monkeypatched), so each test shows its guard can fail.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest

import autograd.graph as graph
import autograd.value as value
from autograd import Value, no_grad, scope, weighted_sum

N = 500


@contextmanager
def _collector_off() -> Iterator[None]:
    """The cycle collector disabled (re-enabled after), so counts of objects stay exact."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _tracked_objects_made(build: Callable[[], Any]) -> tuple[int, Any]:
    """How many more GC-tracked objects exist while `build()`'s result is alive; and the result.

    The count is the whole process's, so a thread an earlier test left running can add an object
    or two meanwhile: the fewest of three builds is what `build` itself makes.
    """
    counts = []
    for _ in range(3):
        with _collector_off():
            before = len(gc.get_objects())
            result = build()
            counts.append(len(gc.get_objects()) - before)
        if counts[-1] == min(counts):
            kept = result
        del result
    return min(counts), kept


def _chain(n: int) -> Value:
    """n binary nodes: x * w + c, repeated (two new nodes per round, n // 2 rounds)."""
    w, c = Value(0.5), Value(0.25)
    x = Value(1.0)
    for _ in range(n // 2):
        x = x * w + c
    return x


def _check_one_object_per_node() -> None:
    """Guard 1 for binary, unary and n-ary nodes."""
    _chain(2)  # warm up: first calls may cache things once
    made, _ = _tracked_objects_made(lambda: _chain(N))
    assert made == N + 3, f"{N} nodes and 3 leaves made {made} GC-tracked objects"
    x = Value(0.3)
    made, _ = _tracked_objects_made(lambda: [x.tanh() for _ in range(N)])
    assert made == N + 1, f"{N} tanh nodes made {made} GC-tracked objects (the list is 1)"
    ws, xs = [Value(0.1 * i) for i in range(4)], [Value(1.0 - 0.1 * i) for i in range(4)]
    made, _ = _tracked_objects_made(lambda: [weighted_sum(ws, xs) for _ in range(N)])
    assert made == 3 * N + 1, f"{N} weighted sums made {made} GC-tracked objects, not 3 each (+1 list)"


def test_a_node_is_one_gc_tracked_object() -> None:
    _check_one_object_per_node()


def test_the_object_count_guard_fails_when_a_node_carries_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    real = value._build

    def build_with_a_tuple(out: Value, *args: Any) -> Value:
        node = real(out, *args)
        node._scope = ["a list per node"]  # type: ignore[assignment]
        return node

    monkeypatch.setattr(value, "_build", build_with_a_tuple)
    with pytest.raises(AssertionError, match="GC-tracked objects"):
        _check_one_object_per_node()


def _check_no_cycle(build: Callable[[], Value]) -> None:
    """Guard 2: build a graph, run backward, drop it: the collector then finds nothing to free."""
    with _collector_off():
        root = build()
        root.backward()
        del root
        found = gc.collect()
    assert found == 0, f"dropping the graph left {found} objects in reference cycles"


def _mixed_graph() -> Value:
    """Every kind of node, built inside scope and no_grad blocks (a switch object reused)."""
    quiet = no_grad()
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    with scope("L1"):
        z = weighted_sum([w, w], [x, 2.0], Value(0.1)).tanh() * x + 1.0
        with quiet:
            frozen = z * 3.0
        with scope("n0"), quiet:
            frozen = frozen + z
    return (z * z + frozen).relu() ** 2 - x / w


def test_a_graph_holds_no_reference_cycle() -> None:
    _check_no_cycle(_mixed_graph)
    _check_no_cycle(lambda: _chain(N))


def test_the_cycle_guard_fails_when_a_node_refers_to_its_result(monkeypatch: pytest.MonkeyPatch) -> None:
    real = value._build

    def build_with_a_back_reference(out: Value, *args: Any) -> Value:
        node = real(out, *args)
        if isinstance(node._a, Value):
            node._a._label = [node]  # type: ignore[assignment]  # the parent refers back to its result
        return node

    monkeypatch.setattr(value, "_build", build_with_a_back_reference)
    with pytest.raises(AssertionError, match="reference cycles"):
        _check_no_cycle(_mixed_graph)


def _python_calls(fn: Callable[[], object]) -> int:
    """How many Python functions (not C functions) `fn()` calls, counted with sys.setprofile."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls - 1  # fn itself


def _check_backward_calls() -> None:
    """Guard 3: backward makes the same handful of Python calls on a graph of 10 or N nodes."""
    small, large = _chain(10), _chain(N)
    ws = [Value(0.1 * i) for i in range(N)]
    wide = weighted_sum(ws, ws)
    counts = [_python_calls(root.backward) for root in (small, large, wide)]
    # The walk, the chain-rule loop and the forgotten-zero_grad check (autograd/stale.py): a
    # fixed handful however large the graph.
    assert counts[0] == counts[1] == counts[2] <= 8, (
        f"Python calls in backward (10, {N} nodes, wide): {counts}"
    )


def test_backward_makes_no_python_call_per_edge_or_node() -> None:
    _check_backward_calls()


def test_the_call_guard_fails_when_the_chain_rule_calls_a_function_per_edge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def add_to(parent: Any, d: float, g: float) -> None:
        parent.grad += d * g

    def accumulate_per_edge(nodes: Any) -> None:
        for node in nodes:
            if node._a is None:
                continue
            if node._b is graph.MANY:
                for p, d in zip(node._a, node._da):
                    add_to(p, d, node.grad)
                continue
            add_to(node._a, node._da, node.grad)
            if node._b is not None:
                add_to(node._b, node._db, node.grad)

    monkeypatch.setattr(graph, "accumulate", accumulate_per_edge)
    with pytest.raises(AssertionError, match="Python calls in backward"):
        _check_backward_calls()


def _check_fast_arithmetic_calls() -> None:
    """Guard 4: a + b and a * b each make their node in one Python call; six in a scope
    (`_apply_switches` asks context's `current_scope()` and `is_grad_enabled()`, each reading its
    variable's live block); four with a number on the right, which first becomes a constant leaf
    (`_operand`, `constant`, `_build`); eight with a number on the left, whose reflected method
    applies the row's rule through `_binary` (`_operand` twice, `constant`, `_build`, the rule,
    `_build`)."""
    a, b = Value(1.5), Value(-2.0)
    counts = [_python_calls(lambda: a + b), _python_calls(lambda: a * b)]
    with scope("L1"):
        counts += [_python_calls(lambda: a * b)]
    counts += [_python_calls(lambda: a + 2.0), _python_calls(lambda: 2.0 * a)]
    assert counts == [1, 1, 6, 4, 8], f"Python calls for + and * (Values, in a scope, with numbers): {counts}"


def test_add_and_mul_make_their_node_in_one_python_call() -> None:
    _check_fast_arithmetic_calls()


def test_the_arithmetic_guard_fails_when_add_calls_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `+` would cost without the fast path: the generic path calls ops.add's rule.
    def add_by_the_rule(self: Value, other: Any) -> Value:
        o = other if isinstance(other, Value) else value.constant(other)
        return value._binary(value.ops.add, self, o)

    monkeypatch.setattr(Value, "__add__", add_by_the_rule)
    with pytest.raises(AssertionError, match="Python calls for"):
        _check_fast_arithmetic_calls()
