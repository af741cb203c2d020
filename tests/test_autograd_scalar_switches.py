"""Building a node reads one context variable (`switched_now`) while no switch is in force: it
must say "a switch is in force" whenever `no_grad` or `scope` holds a block, in every way a
switch is entered and left."""

from __future__ import annotations

import threading
from contextlib import ExitStack

from autograd import Value, no_grad, scope
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
