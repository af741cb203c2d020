"""Recording switches read when a Value is created (gradient recording, the scope tag), and the
pause of the cycle collector while a graph is walked.

Each switch lives in a `contextvars` variable, so every thread and every asyncio task has its own:
one thread inside `no_grad()` never stops another thread's graph from recording (as in PyTorch).
The variable holds a chain of `_Block`s, innermost first (None outside every block). A switch
object (`no_grad()`, `scope("n3")`) keeps no state itself: entering reads the state in force *at
that moment* and pushes a block on it; leaving puts back exactly the state its block found. So one
object can be made once and entered again, nested in itself, shared by threads, or made outside a
block and entered inside it (`scope("a")` entered inside `scope("outer")` tags "outer.a").

Why a block remembers whether its `with` statement is alive (the interrupt guarantee): Python runs
`with` as "look up __enter__ and __exit__, call __enter__, run the block, call __exit__", and a
KeyboardInterrupt can land between any two of those steps: after __enter__ set the state but before
the `with` took hold, or after the block but before __exit__ put the state back. Either way the
exit never runs. So the `__exit__` a `with` statement looks up is a fresh callable that only that
`with` holds, and the block it enters keeps a weak reference to it. When the `with` is gone
(finished, or unwound by the interrupt) that callable is freed, and a block whose callable is dead
reads as the state outside it: the next `Value(...)`, `is_grad_enabled()`, `current_scope()` or
switch entered finds the live state and stores it back. The callable is a `functools.partial` of
`_leave`, whose frame does not refer to it, so a kept traceback (Jupyter keeps the last one)
cannot keep it alive. contextlib.ExitStack looks the exit up the same way and holds it until it
closes. Only `__enter__()` called by hand, with no exit looked up first, makes a block that lasts
until `__exit__` leaves the switch's innermost block.
"""

from __future__ import annotations

import gc
import os
import threading
import weakref
from contextvars import ContextVar
from functools import partial
from typing import Any, ClassVar


class _Block:
    """One entered block: the value it set, its `with`'s exit (weakly), the state it found, its switch."""

    __slots__ = ("value", "alive", "outside", "switch")

    def __init__(self, value: Any, alive: weakref.ref[Any] | None, outside: _Block | None, switch: _Switch):
        """A block setting `value` over `outside`; `alive` is None when nothing can free it early."""
        self.value = value
        self.alive = alive
        self.outside = outside
        self.switch = switch


_NO_GRAD: ContextVar[_Block | None] = ContextVar("axongrad_no_grad", default=None)  # None: recording
_SCOPE: ContextVar[_Block | None] = ContextVar("axongrad_scope", default=None)  # None: no tag
# The exit callable a `with` statement just looked up, for the __enter__ it calls next (same thread).
_PENDING: ContextVar[tuple[object, weakref.ref[Any], list[_Block]] | None] = ContextVar(
    "axongrad_pending", default=None
)

# True while either switch holds a block here (None when both are None): building a node reads
# this one variable, and the two above only when it is set. Every change of a switch goes
# through `_set`, which keeps it so.
_SWITCHED: ContextVar[bool | None] = ContextVar("axongrad_switched", default=None)

# The bound C methods themselves: building a node reads them without a Python call in between.
switched_now = _SWITCHED.get
no_grad_now = _NO_GRAD.get
scope_now = _SCOPE.get


def _set(var: ContextVar[_Block | None], state: _Block | None) -> None:
    """Put `state` in a switch's variable, and whether any switch is in force in `_SWITCHED`.

    `_SWITCHED` is set before a block goes in and cleared only after both switches are off, so an
    interrupt between the two writes leaves it True (the slower path, never a missed switch).
    """
    if state is not None:
        _SWITCHED.set(True)
    var.set(state)
    if _NO_GRAD.get() is None and _SCOPE.get() is None:
        _SWITCHED.set(None)


def _live(var: ContextVar[_Block | None]) -> _Block | None:
    """The live state of `var`: blocks whose `with` is gone are skipped (and the result stored back)."""
    state = found = var.get()
    while found is not None and found.alive is not None and found.alive() is None:
        found = found.outside
    if found is not state:
        _set(var, found)
    return found


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` in this thread/task: operations record inputs and local derivatives."""
    return _live(_NO_GRAD) is None


def current_scope() -> str:
    """The scope tag that Values created now, in this thread/task, receive ("" outside any `scope`)."""
    state = _live(_SCOPE)
    return "" if state is None else str(state.value)


class _Exit:
    """The `__exit__` of a switch: a fresh callable per lookup (see the module docstring)."""

    def __get__(self, switch: _Switch | None, owner: type) -> Any:
        """A new exit that the next entry in this thread links its block to. `switch` is None when
        looked up on the class, as ExitStack does (`type(cm).__exit__`, then `__enter__`)."""
        entered: list[_Block] = []  # the entry puts the block it pushes here
        leave = partial(_leave, switch, entered)
        _PENDING.set((switch, weakref.ref(leave), entered))
        return leave


def _leave(switch: _Switch | None, entered: list[_Block], *exc_info: object) -> None:
    """An exit: put back the state its block found when it was entered."""
    if entered:
        block = entered[0]
        _set(block.switch.var, block.outside)
        _live(block.switch.var)  # what it found may be a block whose `with` has ended since
    elif switch is not None:  # entered by calling __enter__() by hand: leave the innermost block
        _leave_innermost(switch)


def _leave_innermost(switch: _Switch, *exc_info: object) -> None:
    """Leave `switch`'s innermost live block: put back the state that block found when entered."""
    var = switch.var
    block = var.get()
    while block is not None:
        if block.switch is switch and (block.alive is None or block.alive() is not None):
            _set(var, block.outside)
            return
        block = block.outside


class _Switch:
    """What no_grad and scope share: enter pushes a block on the live state, exit restores its state."""

    __slots__ = ()
    var: ClassVar[ContextVar[_Block | None]]

    def _push(self, value_inside: Any) -> None:
        """Enter: push a block setting `value_inside`, linked to the exit the `with` holds (if any)."""
        pending = _PENDING.get()
        _PENDING.set(None)
        block = _Block(value_inside, None, _live(self.var), self)
        if pending is not None and pending[0] in (self, None) and pending[1]() is not None:
            block.alive = pending[1]
            pending[2].append(block)
        _set(self.var, block)

    __exit__ = _Exit()


class no_grad(_Switch):  # noqa: N801 (PyTorch's name)
    """`with no_grad():` operations inside record no parents: results are plain constants.

    One object may be entered any number of times, nested or from several threads; each exit
    restores what its entry found. `with no_grad() as x` binds None (as PyTorch's does).
    """

    __slots__ = ()
    var = _NO_GRAD

    def __enter__(self) -> None:
        """Switch recording off until the matching exit."""
        self._push(None)


class scope(_Switch):  # noqa: N801 (used like no_grad)
    """`with scope("L1.n3"):` tags every Value created inside (nested scopes join with ".").

    The tag is joined to the one in force when the block is *entered*, so a scope made once can be
    reused anywhere. `with scope("n3") as tag` binds the full tag, e.g. "L1.n3".
    """

    __slots__ = ("name",)
    var = _SCOPE

    def __init__(self, name: str) -> None:
        """A scope called `name` (a non-empty str); its full tag is decided on entry."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope(name) needs a non-empty str, got {type(name).__name__} {name!r}")
        self.name = name

    def __enter__(self) -> str:
        """Tag Values with the tag in force now joined with this name; returns that full tag."""
        outside = current_scope()
        tag = f"{outside}.{self.name}" if outside else self.name
        self._push(tag)
        return tag


# ------------------------------------------------------------ the cycle collector

# The collector is one per process, not per thread, so its pause is counted for the process:
# switched off when the first block (in any thread) begins, back on when the last one ends.
_PAUSE_LOCK = threading.Lock()
_pauses = 0  # blocks inside collector_paused, in every thread
_resume = False  # whether the collector was on when the first of them began


def _after_fork() -> None:
    """In a process forked during a pause only the forking thread lives on: its block (if any)
    still ends and restores the collector; the other threads' blocks are gone, so not counted."""
    global _pauses, _resume
    _PAUSE_LOCK._at_fork_reinit()  # type: ignore[attr-defined]
    if _pauses > 0 and _resume:  # outside any pause the collector is as the learner left it
        gc.enable()
    _pauses, _resume = 0, False


os.register_at_fork(after_in_child=_after_fork)


class collector_paused:  # noqa: N801 (used like no_grad)
    """`with collector_paused():` the cycle collector does not run inside; after, it is as before.

    A graph of Values holds no reference cycle (parents never refer back to their results), so
    the collector's scans of a graph being built or walked find nothing to free. It is switched
    back on only if it was on when the first of the blocks running at once began, when the last
    one ends, also when that block raises or is interrupted. (A `gc.disable()` another thread
    calls while a block runs is undone when the blocks end: pause around it, not inside.)
    """

    __slots__ = ()

    def __enter__(self) -> None:
        """Switch the collector off (if this is the first block running) and count this block."""
        global _pauses, _resume
        with _PAUSE_LOCK:
            if _pauses == 0:
                _resume = gc.isenabled()
                gc.disable()
            _pauses += 1

    def __exit__(self, *exc_info: object) -> None:
        """Uncount this block; the last one to end switches the collector back on if it was on."""
        global _pauses, _resume
        with _PAUSE_LOCK:
            _pauses = max(_pauses - 1, 0)  # a block that began before a fork ends in the child too
            if _pauses == 0 and _resume:
                gc.enable()
                _resume = False
