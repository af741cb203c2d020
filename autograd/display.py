"""How a Value shows itself in Jupyter: a renderer viz registers; autograd imports no drawing code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class _Display:
    """Holds the optional renderer (a function from a Value to a mime bundle)."""

    renderer: Callable[[Any], dict[str, str]] | None = None


_display = _Display()


def set_renderer(renderer: Callable[[Any], dict[str, str]] | None) -> None:
    """Register how a Value shows itself in Jupyter (a mime bundle); viz registers its diagram."""
    _display.renderer = renderer


def mimebundle(value: Any) -> dict[str, str]:
    """`value`'s Jupyter display: the registered renderer's bundle, else its repr as plain text."""
    if _display.renderer is None:
        return {"text/plain": repr(value)}
    return _display.renderer(value)
