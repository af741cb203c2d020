"""Building a node reads one context variable (`switched_now`) while no switch is in force: it
must say "a switch is in force" whenever `no_grad` or `scope` holds a block, in every way a
switch is entered and left."""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack
from typing import Any

import pytest

from autograd import Value, context, current_scope, is_grad_enabled, no_grad, scope
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
    seen = [0]

    def line(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            seen[0] += 1
            if seen[0] == k:
                sys.settrace(None)
                raise KeyboardInterrupt
        return line

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return line if frame.f_code is context._set.__code__ else None

    sys.settrace(calls)
    return seen


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
