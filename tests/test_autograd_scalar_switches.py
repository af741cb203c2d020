"""Building a node reads one context variable (`switched_now`) while no switch is in force: it
must say "a switch is in force" whenever `no_grad` or `scope` holds a block, in every way a
switch is entered and left."""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack
from typing import Any

import pytest
from interrupts import interrupt_at_line

from autograd import Value, context, current_scope, is_grad_enabled, no_grad, op, scope, weighted_sum
from autograd.context import no_grad_now, scope_now, switched_now


def _in_sync() -> bool:
    """The flag is set exactly when either switch holds a block."""
    return (switched_now() is None) == (no_grad_now() is None and scope_now() is None)


def test_the_flag_follows_nested_and_reused_switches() -> None:
    seen = [_in_sync() and switched_now() is None]
    s = scope("n3")
    with no_grad():
        seen.append(_in_sync() and switched_now() is not None)
        with s, s:
            seen.append(_in_sync())
        seen.append(_in_sync() and switched_now() is not None)
    seen.append(_in_sync() and switched_now() is None)
    with s:
        tagged = Value(1.0) * 2.0 + 1.0
    seen.append(_in_sync() and switched_now() is None)
    assert all(seen), seen
    assert tagged.scope == "n3" and tagged.parents
    assert (Value(1.0) + 1.0).scope == ""  # after the block: nothing tags the node


def test_the_flag_follows_exitstack_and_enter_by_hand() -> None:
    with ExitStack() as stack:
        stack.enter_context(scope("a"))
        stack.enter_context(no_grad())
        assert _in_sync() and switched_now() is not None
        made = Value(1.0) * 3.0
    assert _in_sync() and switched_now() is None
    assert made.parents == () and made.scope == "a"
    s = scope("b")
    s.__enter__()
    assert _in_sync() and (Value(1.0) + 1.0).scope == "b"
    s.__exit__(None, None, None)
    assert _in_sync() and switched_now() is None
    assert (Value(1.0) + 1.0).scope == ""


def test_a_switch_in_one_thread_leaves_the_other_threads_flag_unset() -> None:
    inside, entered, done = threading.Event(), threading.Event(), threading.Event()
    other: list[object] = []

    def hold_no_grad() -> None:
        with no_grad(), scope("t"):
            entered.set()
            inside.wait(5)
        done.set()

    thread = threading.Thread(target=hold_no_grad)
    thread.start()
    entered.wait(5)
    other.append(switched_now())
    node = Value(1.0) * 2.0
    inside.set()
    thread.join(5)
    assert other == [None] and node.parents and node.scope == ""


def _interrupt_at_line(k: int) -> list[int]:
    """Raise KeyboardInterrupt at the k-th line event inside `context._set` (counts them in a list)."""
    return interrupt_at_line(k, lambda code: code is context._set.__code__)


@pytest.mark.parametrize("make", [lambda: no_grad(), lambda: scope("Z")], ids=["no_grad", "scope"])
def test_a_switch_entered_by_hand_and_interrupted_anywhere_is_obeyed_by_new_nodes(make: Any) -> None:
    x = Value(2.0)
    for k in range(1, 20):
        switch = make()
        try:
            _interrupt_at_line(k)
            switch.__enter__()
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        # Whatever the switches say now, a new node obeys it (the flag never says "off" wrongly).
        y = x * 3.0
        assert (y._kind is None) == (not is_grad_enabled())
        assert y.scope == current_scope()
        switch.__exit__(None, None, None)
        assert is_grad_enabled() and current_scope() == ""
        assert (x * 3.0)._kind is not None and (x * 3.0).scope == ""


@op(rule="2", formula="2x")
def _twice(a: float) -> tuple[float, float]:
    """2a; d/da = 2 (a learner's op)."""
    return 2.0 * a, 2.0


def _every_kind_of_node(x: Value, w: Value) -> dict[str, Value]:
    """One node of each way a node is built: inline + and *, a unary and a binary row, a row with
    a constant, weighted_sum (n-ary) and a learner's op. Creates no Value by hand (that reads the
    scope)."""
    return {
        "+": x + 1.0, "*": x * 3.0, "tanh": x.tanh(), "-": x - w, "**2": x**2,
        "wsum": weighted_sum([w], [x], w), "learner's op": _twice(x),
    }


def test_a_scope_whose_with_was_unwound_tags_no_node_of_any_kind() -> None:
    x, w = Value(2.0), Value(0.5)
    s = scope("gone")
    leave = s.__exit__  # a `with` looks its exit up first ...
    s.__enter__()  # ... then enters, and the block is linked to that exit
    del leave  # an interrupt unwound the `with` before its exit ran: the block is dead
    made = _every_kind_of_node(x, w)  # nothing has read the scope since
    assert {name: v.scope for name, v in made.items()} == dict.fromkeys(made, "")
    assert all(v.parents for v in made.values())


def test_inside_no_grad_every_kind_of_node_is_the_same_kind_of_leaf() -> None:
    x, w = Value(2.0), Value(0.5)
    with no_grad():
        made = _every_kind_of_node(x, w)
    seen = {name: (v.parents, v.op, v.is_constant, v.const) for name, v in made.items()}
    assert seen == dict.fromkeys(made, ((), "", False, None))
    assert made["wsum"].data == 1.5 and made["learner's op"].data == 4.0
