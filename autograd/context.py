"""Recording switches read when a Value is created: gradient recording and the scope tag.

Both live in `contextvars` variables, so each thread and each asyncio task has its own: one
thread inside `no_grad()` never stops another thread's graph from recording (as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from operator import attrgetter
from types import TracebackType
from typing import cast

_GRAD_ENABLED: ContextVar[bool] = ContextVar("axongrad_grad_enabled", default=True)
_SCOPE: ContextVar[str] = ContextVar("axongrad_scope", default="")

# The bound C methods themselves: Value reads them once per node, so no Python call in between.
grad_enabled_now = _GRAD_ENABLED.get
scope_now = _SCOPE.get


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` in this thread/task: operations record inputs and local derivatives."""
    return _GRAD_ENABLED.get()


def current_scope() -> str:
    """The scope tag that Values created now, in this thread/task, receive ("" outside any `scope`)."""
    return _SCOPE.get()


class no_grad:  # noqa: N801 (PyTorch's name)
    """`with no_grad():` operations inside record no parents: results are plain constants.

    Interrupt-safe on entry: the switch is flipped by one C-level call as the `with` takes hold,
    so a KeyboardInterrupt lands either before it (nothing changed) or inside the block (the exit
    restores). Leaving restores the value seen when the object was made, so nested blocks unwind
    correctly even when an inner exit was skipped.
    """

    __slots__ = ("_previous",)

    def __init__(self) -> None:
        """Remember the current switch, to restore on exit."""
        self._previous = _GRAD_ENABLED.get()

    # A partial is not a descriptor, so `with` calls it with no arguments: _GRAD_ENABLED.set(False).
    __enter__ = partial(_GRAD_ENABLED.set, False)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Restore the switch as it was before the block."""
        _GRAD_ENABLED.set(self._previous)


class scope:  # noqa: N801 (used like no_grad)
    """`with scope("L1.n3"):` tags every Value created inside (nested scopes join with ".").

    Interrupt-safe on entry like `no_grad`: entering runs no Python line, so a KeyboardInterrupt
    cannot land after the tag is set but before the `with` takes hold (its exit would never run).
    `with scope("L1") as name:` binds the tag.
    """

    __slots__ = ("_previous", "name", "_enter")

    def __init__(self, name: str) -> None:
        """Check the name and compute the nested tag now, so entering is one C-level call."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope(name) needs a non-empty str, got {type(name).__name__} {name!r}")
        self._previous = _SCOPE.get()
        self.name = f"{self._previous}.{name}" if self._previous else name
        # "Set the tag, then return it" without a Python frame: min over one item calls its key
        # (_SCOPE.set) once and returns the item. A Python __enter__ could be interrupted between
        # the set and its return, leaving every later Value tagged.
        self._enter: Callable[[], str] = partial(min, (self.name,), key=_SCOPE.set)

    # `with` looks __enter__ up on the class and binds it through the descriptor: the property
    # (C-level, like attrgetter) hands back this instance's partial, which `with` then calls.
    # The cast only tells type checkers what `with scope(...) as name` binds (a str).
    __enter__ = cast("Callable[[scope], str]", property(attrgetter("_enter"), doc="Set the tag; returns it."))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Restore the tag outside this scope."""
        _SCOPE.set(self._previous)
