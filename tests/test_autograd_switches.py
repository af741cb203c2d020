"""`no_grad()` and `scope(name)` capture their state on entry: one object can be re-entered, nested,
reused, shared by threads and asyncio tasks, and every exit restores what its entry found."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from types import FrameType
from typing import Any

import pytest

from autograd import Value, current_scope, is_grad_enabled, no_grad, scope


def _state() -> tuple[bool, str]:
    """(recording, scope tag) in force now."""
    return is_grad_enabled(), current_scope()


@pytest.fixture(autouse=True)
def _clean_switches() -> Iterator[None]:
    """Every test starts and must end with recording on and no tag."""
    assert _state() == (True, "")
    yield
    assert _state() == (True, "")


# ---------------------------------------------------------------- the two cases


def test_one_no_grad_entered_twice_nested_keeps_recording_off_until_the_outer_exit() -> None:
    ng = no_grad()
    x = Value(2.0)
    with ng:
        with ng:
            assert not is_grad_enabled()
        assert not is_grad_enabled()  # the inner exit restores what the inner entry found: off
        inside = x * 3.0
    assert is_grad_enabled()
    assert inside.parents == ()
    after = x * 3.0
    assert after.parents[0] is x and after.parents[1].is_constant


def test_a_scope_made_outside_and_entered_inside_another_joins_its_tag() -> None:
    s = scope("a")
    with scope("outer"):
        with s as tag:
            v = Value(1.0) * 2.0
            assert tag == "outer.a" == current_scope()
        assert current_scope() == "outer"  # not "": the exit restores what the entry found
        w = Value(1.0)
    assert v.scope == "outer.a" and v.parents[0].scope == "outer.a"
    assert w.scope == "outer"


# ---------------------------------------------------------------- reuse and nesting


def test_a_scope_object_reused_in_different_places_tags_by_where_it_is_entered() -> None:
    n0 = scope("n0")
    with n0 as first:
        pass
    with scope("L1"), n0 as second:
        with n0 as third:
            inner = Value(1.0)
        assert current_scope() == "L1.n0"
    assert (first, second, third) == ("n0", "L1.n0", "L1.n0.n0")
    assert inner.scope == "L1.n0.n0"
    assert n0.name == "n0"


def test_no_grad_as_binds_none_and_scope_as_binds_the_full_tag() -> None:
    with no_grad() as nothing, scope("L2") as tag:
        assert nothing is None
        assert tag == "L2"


def test_exits_restore_after_an_exception_in_a_reused_switch() -> None:
    ng, s = no_grad(), scope("boom")
    for _ in range(3):
        with pytest.raises(ZeroDivisionError):
            with s, ng, s, ng:
                Value(1.0) / 0
    assert _state() == (True, "")


def test_exit_stack_enters_and_leaves_a_reused_switch_in_order() -> None:
    ng, s = no_grad(), scope("a")
    with ExitStack() as stack:
        stack.enter_context(s)
        stack.enter_context(ng)
        stack.enter_context(s)
        assert _state() == (False, "a.a")
        with ExitStack() as inner:
            inner.enter_context(ng)
            inner.enter_context(scope("b"))
            assert _state() == (False, "a.a.b")
        assert _state() == (False, "a.a")
    assert _state() == (True, "")


def test_exit_stack_can_close_its_blocks_early() -> None:
    s = scope("early")
    with ExitStack() as stack:
        stack.enter_context(s)
        stack.enter_context(no_grad())
        assert _state() == (False, "early")
        stack.close()
        assert _state() == (True, "")


def test_a_with_exit_restores_what_its_own_entry_found_even_past_a_later_entry_of_the_same_switch() -> None:
    s = scope("s")
    stack = ExitStack()
    with scope("outer"):
        with s:
            stack.enter_context(s)  # entered again by hand, still open when the with ends
            assert current_scope() == "outer.s.s"
        assert current_scope() == "outer"  # the with's exit restored its own entry's state
    stack.close()  # its block is gone from the state already: nothing left to restore
    assert current_scope() == ""


# ---------------------------------------------------------------- generators


def test_a_generator_suspended_inside_a_block_restores_when_it_finishes() -> None:
    s = scope("gen")

    def values() -> Iterator[Value]:
        with s, no_grad():
            yield Value(1.0) * 2.0
            yield Value(2.0) * 2.0

    it = values()
    first = next(it)
    # Generators share their caller's context: while suspended inside the block its switches
    # are in force for the caller too (as PyTorch's no_grad); finishing it restores them.
    assert _state() == (False, "gen")
    second = next(it)
    assert next(it, None) is None
    assert _state() == (True, "")
    assert first.scope == second.scope == "gen" and first.parents == second.parents == ()


def test_a_generator_closed_inside_a_block_restores() -> None:
    def values() -> Iterator[int]:
        with no_grad(), scope("g"):
            yield 1
            yield 2

    it = values()
    next(it)
    it.close()  # GeneratorExit at the yield runs both exits
    assert _state() == (True, "")


def test_a_generator_finishing_inside_the_callers_block_restores_what_its_entry_found() -> None:
    s = scope("g")

    def body() -> Iterator[str]:
        with s:
            yield current_scope()

    it = body()
    with scope("outer"):
        assert next(it) == "outer.g"
        assert next(it, None) is None
        assert current_scope() == "outer"


# ---------------------------------------------------------------- threads and tasks


def test_one_switch_object_shared_by_threads_keeps_each_threads_state() -> None:
    ng, s = no_grad(), scope("t")
    barrier = threading.Barrier(4)
    results: list[tuple[bool, str, bool, str]] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(200):
                with s:
                    with ng if i % 2 == 0 else scope(str(i)):
                        inside = _state()
                    after = _state()
            barrier.wait()
            results.append((*inside, *after))
        except BaseException as error:  # report in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, inside the switches' code too
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert sorted(results) == sorted(
        [(False, "t", True, "t"), (True, "t.1", True, "t"), (False, "t", True, "t"), (True, "t.3", True, "t")]
    )


def test_asyncio_tasks_sharing_one_switch_object_keep_their_own_state() -> None:
    ng, s = no_grad(), scope("task")

    async def task(name: str, gate: asyncio.Event, other: asyncio.Event) -> tuple[bool, str, str]:
        with s, scope(name):
            if name == "quiet":
                with ng:
                    other.set()
                    await gate.wait()  # suspended inside ng while the loud task runs
                    made = Value(1.0) * 2.0
                    return is_grad_enabled(), current_scope(), made.scope
            await other.wait()
            made = Value(1.0) * 2.0
            gate.set()
            return is_grad_enabled(), current_scope(), made.scope

    async def main() -> list[tuple[bool, str, str]]:
        gate, other = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(task("quiet", gate, other), task("loud", gate, other)))

    assert asyncio.run(main()) == [(False, "task.quiet", "task.quiet"), (True, "task.loud", "task.loud")]


# ---------------------------------------------------------------- bad names


@pytest.mark.parametrize("name", ["", None, 3, b"L1"])
def test_scope_rejects_bad_names_when_made(name: object) -> None:
    with pytest.raises(TypeError, match="scope\\(name\\) needs a non-empty str"):
        scope(name)  # type: ignore[arg-type]


# ---------------------------------------------------------------- interrupts in re-entered switches

_NG, _S = no_grad(), scope("r")


def _reused_blocks() -> Value:
    """Nested blocks of the same two switch objects, the shape the interrupt probe walks through."""
    with _NG:
        with _S:
            with _NG:
                a = Value(1.0) * 2.0
            with _S:
                b = a + 1.0
    return b


def _interrupt_at(k: int, kept: list[BaseException]) -> bool:
    """Run _reused_blocks raising KeyboardInterrupt at its k-th traced line or opcode (in it or in
    autograd/context.py, exits included); keep the exception (and its frames) in `kept`."""
    import autograd.context as context

    count = 0
    fired = False

    def local(frame: FrameType, event: str, arg: object) -> object:
        nonlocal count, fired
        if event in ("line", "opcode"):
            count += 1
            if count == k:
                fired = True
                raise KeyboardInterrupt
        return local

    def on_call(frame: FrameType, event: str, arg: object) -> object:
        code = frame.f_code
        if code.co_filename != context.__file__ and code is not _reused_blocks.__code__:
            return None
        frame.f_trace_opcodes = True
        return local

    sys.settrace(on_call)
    try:
        _reused_blocks()
    except KeyboardInterrupt as error:
        kept.append(error)  # as Jupyter keeps the last traceback: its frames stay alive
    finally:
        sys.settrace(None)
    return fired


def _check_interrupts() -> None:
    """Interrupt _reused_blocks at each point in turn; after each, recording is on and no tag."""
    kept: list[BaseException] = []
    wrong = []
    k = 0
    while _interrupt_at(k := k + 1, kept):
        if _state() != (True, ""):
            wrong.append((k, _state()))
            import autograd.context as context

            context._NO_GRAD.set(None)
            context._SCOPE.set(None)
    assert k > 150  # the probe really walked through every block, entries and exits
    assert wrong == [], f"{len(wrong)} of {k - 1} interrupts left a switch wrong: {wrong[:5]}"
    assert (Value(1.0) * 2.0).parents  # and the next graph records


def test_an_interrupt_at_any_point_of_re_entered_switches_leaves_recording_on_and_no_tag() -> None:
    _check_interrupts()


def test_the_interrupt_probe_fails_when_blocks_ignore_whether_their_with_is_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import autograd.context as context

    def push_without_liveness(self: Any, value_inside: object) -> None:
        context._PENDING.set(None)
        self.var.set(context._Block(value_inside, None, context._live(self.var), self))

    monkeypatch.setattr(context._Switch, "_push", push_without_liveness)
    with pytest.raises(AssertionError, match="interrupts left a switch wrong"):
        _check_interrupts()


def test_after_an_interrupt_before_a_reused_scopes_exit_the_next_value_has_no_stale_tag() -> None:
    s = scope("stale")
    kept: list[BaseException] = []

    def interrupt_on_leaving(frame: FrameType, event: str, arg: object) -> object:
        if event == "call" and frame.f_code.co_name == "_leave":
            raise KeyboardInterrupt
        return None

    for _ in range(2):  # the same object, twice
        sys.settrace(interrupt_on_leaving)
        try:
            with s:
                pass
        except KeyboardInterrupt as error:
            kept.append(error)  # the traceback and its frames stay alive, as in a notebook
        finally:
            sys.settrace(None)
    assert len(kept) == 2
    leaf = Value(1.0)  # the first thing made: no current_scope() call before it
    assert leaf.scope == "" and (leaf * 2.0).scope == ""
