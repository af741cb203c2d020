"""fit's progress: a tqdm bar on a terminal, one output updated in place in Jupyter, quiet elsewhere.

In a Jupyter kernel stderr is no terminal, yet a text tqdm bar there redraws with carriage returns:
the live notebook shows one line, but the saved file keeps every redraw (a line per redraw, a
red block in exported HTML), and `tqdm.notebook` needs ipywidgets and saves a widget that
exported pages cannot show. So a kernel gets one display output (`IPython.display` with a
`display_id`), updated in place at most every UPDATE_SECONDS and once at the end: the saved
notebook holds only its last state, one line of text (text/plain) and a <progress> bar (text/html),
with or without ipywidgets.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["UPDATE_SECONDS", "Bar", "NotebookBar", "bar", "in_notebook"]

UPDATE_SECONDS = 0.2
"""A live notebook output is redrawn at most this often (each redraw is a message to the front end)."""


class Bar(Protocol):
    """What fit calls on its progress bar (tqdm's names, so a tqdm bar is one)."""

    def update(self, n: int = 1) -> object:
        """Count `n` more steps done."""

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        """Show these values (the epoch, its loss) after the count."""

    def close(self) -> None:
        """Show the final state."""


def in_notebook() -> bool:
    """True inside a Jupyter (IPython) kernel, where stderr is no terminal yet a display updates in place."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def _terminal() -> bool:
    """Whether stderr is a terminal (where tqdm redraws its line in place)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr (pythonw) or a closed one
        return False


class NotebookBar:
    """A progress line shown as one Jupyter output and updated in place (see the module docstring)."""

    def __init__(self, total: int, unit: str, desc: str, show: Callable[..., Any]) -> None:
        """A bar of `total` steps of `unit`, drawn at once through IPython's `display`."""
        self.total, self.unit, self.desc = total, unit, desc
        self.disable = False  # as tqdm's: fit skips formatting a hidden bar's postfix
        self.done = 0
        self.postfix: dict[str, Any] = {}
        self.started = time.perf_counter()
        self._drawn_at = -UPDATE_SECONDS
        self._drawn: tuple[int, str] | None = None
        self._handle = show(self, display_id=True)
        self._drawn_at = time.perf_counter()

    def line(self) -> str:
        """The bar as one line of text: `fit: 37/100 epochs, epoch=37, loss=0.1234 (1.2 s)`."""
        values = ", ".join(f"{key}={value}" for key, value in self.postfix.items())
        seconds = time.perf_counter() - self.started
        units = "batches" if self.unit == "batch" else f"{self.unit}s"
        return f"{self.desc}: {self.done}/{self.total} {units}" + (f", {values}" if values else "") + (
            f" ({seconds:.2g} s)"
        )

    def _repr_html_(self) -> str:
        """The same line after an HTML <progress> bar (escaped: a postfix is any text)."""
        return (
            f'<div><progress value="{self.done}" max="{self.total}" style="vertical-align: middle">'
            f"</progress> <code>{html.escape(self.line())}</code></div>"
        )

    def __repr__(self) -> str:
        """The line, what a saved notebook shows as plain text."""
        return self.line()

    def _redraw(self, force: bool) -> None:
        """Update the output when UPDATE_SECONDS have passed (or `force`) and something changed."""
        now = time.perf_counter()
        state = (self.done, repr(self.postfix))
        if state == self._drawn or not (force or now - self._drawn_at >= UPDATE_SECONDS):
            return
        if self._handle is not None:
            self._handle.update(self)
        self._drawn, self._drawn_at = state, now

    def update(self, n: int = 1) -> None:
        """Count `n` more steps done."""
        self.done += n
        self._redraw(force=False)

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        """Show these values after the count (tqdm's name and signature)."""
        self.postfix = values
        self._redraw(force=False)

    def close(self) -> None:
        """Draw the final state: what the saved notebook keeps."""
        self._redraw(force=True)


def bar(total: int, unit: str, enabled: bool, desc: str = "fit") -> Bar:
    """fit's progress bar: one updating output in Jupyter, tqdm on a terminal, else a silent tqdm."""
    from tqdm import tqdm  # a core dependency, imported here so `import nn` stays light

    if enabled and in_notebook():
        try:
            from IPython.display import display
        except ImportError:  # a kernel without IPython's display (never in Jupyter): tqdm on stderr
            pass
        else:
            return NotebookBar(total, unit, desc, display)
    updates_in_place = _terminal() or in_notebook()
    shown: Bar = tqdm(total=total, desc=desc, unit=unit, disable=not enabled or not updates_in_place)
    return shown
