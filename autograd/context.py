"""Recording switches read when a Value is created: gradient recording and the scope tag.

Both live in `contextvars` variables, so each thread and each asyncio task has its own: one
thread inside `no_grad()` never stops another thread's graph from recording (as in PyTorch).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from operator import attrgetter
from typing import Any, cast

# None while recording. Inside `no_grad()`: (weak reference to the exit callable of its `with`
# block, the state before it). Only the `with` statement holds that callable, so if an interrupt
# lands where the exit cannot restore (between the block's end and the exit's one store), it is
# freed as the exception unwinds and the dead reference reads as the state before the block.
_NoGrad = tuple[weakref.ref[Any], Any]
_NO_GRAD: ContextVar[_NoGrad | None] = ContextVar("axongrad_no_grad", default=None)
# The scope state: (tag, weak reference to the exit callable of its `with` block, the state
# outside it). The outermost state has no block. Values read the tag, item 0, on the hot path.
_Scope = tuple[str, Any, Any]
_SCOPE: ContextVar[_Scope] = ContextVar("axongrad_scope", default=("", None, None))

# The bound C methods themselves: Value reads them once per node, so no Python call in between.
no_grad_now = _NO_GRAD.get
scope_now = _SCOPE.get


def recording(state: _NoGrad | None) -> bool:
    """Whether `no_grad_now()`'s state records: no live no_grad block along its chain."""
    if state is None or state[0]() is not None:
        return state is None
    while state is not None and state[0]() is None:
        state = state[1]  # that block was left without its exit (an interrupt): look outside it
    _NO_GRAD.set(state)  # heal, so later nodes read the live state directly
    return state is None


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` in this thread/task: operations record inputs and local derivatives."""
    return recording(_NO_GRAD.get())


def current_scope() -> str:
    """The scope tag that Values created now, in this thread/task, receive ("" outside any `scope`).

    It also heals the tag left by a block whose exit an interrupt skipped (see `scope`): Values
    you create (`Value(...)`, which calls this) and every new `scope` start from the live tag.
    """
    return _live_state()[0]


def _live_state() -> _Scope:
    """The live scope state, stored back if a skipped exit had left a stale one."""
    state = _SCOPE.get()
    if state[1] is not None and state[1]() is None:
        state = live_scope(state)
        _SCOPE.set(state)
    return state


class _Hook(property):
    """`__enter__`/`__exit__` of no_grad and scope: `with` gets the instance's prepared callable.

    The `with` statement looks the hook up through the property's C-level getter (no Python frame
    an interrupt could split). Looked up on the class and called, as contextlib.ExitStack does
    (`type(cm).__enter__(cm)`), it calls that same callable.
    """

    def __call__(self, manager: Any, *exc_info: object) -> object:
        """Call `manager`'s prepared enter or exit callable."""
        return cast("Callable[..., object]", self.fget(manager))(*exc_info)  # type: ignore[misc]


class no_grad:  # noqa: N801 (PyTorch's name)
    """`with no_grad():` operations inside record no parents: results are plain constants.

    Interrupt-safe: entering is one C-level call as the `with` takes hold, so an interrupt lands
    either before it (nothing changed) or inside the block (the exit restores). If one lands where
    the exit cannot run its one store (between the block's end and that store), the exit callable
    the `with` statement held is freed as the exception unwinds, and the switch reads as it was
    before the block (see `recording`).
    """

    __slots__ = ("_enter", "_exit")

    def __init__(self) -> None:
        """Prepare entering and leaving; the `with` statement keeps the exit callable alive."""
        previous = _NO_GRAD.get()
        self._exit: Callable[..., None] = partial(_leave_no_grad, previous)
        # The state refers to the exit callable weakly: only the `with` statement holds it.
        self._enter: Callable[[], object] = partial(_NO_GRAD.set, (weakref.ref(self._exit), previous))

    # `with` looks both up on the class when the block starts and binds them through the
    # descriptor: the property (C-level, like attrgetter) hands back this instance's partial.
    __enter__ = cast("Callable[[no_grad], object]", _Hook(attrgetter("_enter"), doc="Switch off."))
    __exit__ = cast(
        "Callable[[no_grad, object, object, object], None]",
        _Hook(attrgetter("_exit"), doc="Restore the switch as it was before the block."),
    )


def _leave_no_grad(previous: _NoGrad | None, kind: object, error: object, tb: object) -> None:
    """no_grad's exit: put back the state from before the block (its frame holds no no_grad)."""
    _NO_GRAD.set(previous)


def live_scope(state: _Scope) -> _Scope:
    """`state`, or the state outside it when its block was left without its exit (an interrupt)."""
    while state[1] is not None and state[1]() is None:
        state = state[2]
    return state


class scope:  # noqa: N801 (used like no_grad)
    """`with scope("L1.n3"):` tags every Value created inside (nested scopes join with ".").

    Interrupt-safe like `no_grad`: entering is one C-level call, and if an interrupt lands where
    the exit cannot restore the tag, the `with` statement's exit callable is freed as the
    exception unwinds; the next Value you create, or the next scope, puts back the tag from
    outside the block (results of arithmetic read the tag as it stands, on the hot path).
    """

    __slots__ = ("name", "_enter", "_exit")

    def __init__(self, name: str) -> None:
        """Check the name and compute the nested tag now, so entering is one C-level call."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope(name) needs a non-empty str, got {type(name).__name__} {name!r}")
        outside = _live_state()
        self.name = f"{outside[0]}.{name}" if outside[0] else name
        self._exit: Callable[..., None] = partial(_leave_scope, outside)
        # Only the `with` statement holds the exit callable; the state refers to it weakly.
        state = (self.name, weakref.ref(self._exit), outside)
        self._enter: Callable[[], object] = partial(_SCOPE.set, state)

    # `with` looks both up on the class and binds them through the descriptor: the property
    # (C-level, like attrgetter) hands back this instance's partial; a Python __enter__ could be
    # interrupted between setting the tag and the `with` taking hold. The casts tell type checkers
    # how each is called.
    __enter__ = cast("Callable[[scope], object]", _Hook(attrgetter("_enter"), doc="Set the tag."))
    __exit__ = cast(
        "Callable[[scope, object, object, object], None]",
        _Hook(attrgetter("_exit"), doc="Restore the tag outside this scope."),
    )


def _leave_scope(outside: _Scope, kind: object, error: object, tb: object) -> None:
    """scope's exit: put back the state from outside the block (its frame holds no scope object)."""
    _SCOPE.set(outside)
