"""Recording switches read when a Value is created: gradient recording and the scope tag."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class _State:
    """The two module-wide switches; one object so Value reads them with one lookup."""

    __slots__ = ("grad_enabled", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.scope = ""


state = _State()


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`: operations record their inputs and local derivatives."""
    return state.grad_enabled


def current_scope() -> str:
    """The scope tag that Values created now receive ("" outside any `scope`)."""
    return state.scope


@contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside record no parents: results are plain constants (for evaluation)."""
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def scope(name: str) -> Iterator[str]:
    """Tag every Value created inside with `name` (nested scopes join with '.': "L1.n3")."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"scope(name) needs a non-empty str, got {type(name).__name__} {name!r}")
    previous = state.scope
    state.scope = f"{previous}.{name}" if previous else name
    try:
        yield state.scope
    finally:
        state.scope = previous
