"""How a Value shows itself in Jupyter: a renderer viz registers; autograd imports no drawing code."""

from __future__ import annotations

import html
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


def markdown_text(text: str) -> str:
    """`text` as Markdown that shows it verbatim and holds no HTML markup: a `<pre>` block with
    & < > " ' as entities (Markdown passes HTML blocks through, so the entities show as the
    characters; a front end that inserts the Markdown itself as HTML shows the same text)."""
    return f"<pre>{html.escape(text, quote=True)}</pre>"
