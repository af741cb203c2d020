"""nn.progress.NotebookBar without a kernel: one display, updated in place, throttled, escaped."""

from __future__ import annotations

import html
from typing import Any

import pytest

import nn
from nn import progress
from nn.progress import NotebookBar


class Display:
    """IPython's `display(obj, display_id=True)` and its handle's `update(obj)`, recorded."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []  # (how, the line at that moment)
        self.calls = 0

    def __call__(self, obj: Any, display_id: bool = False) -> Display:
        assert display_id is True
        self.calls += 1
        self.shown.append(("display", repr(obj)))
        return self

    def update(self, obj: Any) -> None:
        self.shown.append(("update", repr(obj)))


def test_one_display_then_updates_in_place_and_the_final_state_on_close() -> None:
    display = Display()
    bar = NotebookBar(100, "epoch", "fit", display)
    for epoch in range(1, 101):
        bar.update()
        bar.set_postfix(epoch=epoch, loss="0.5", refresh=False)
    bar.close()
    assert display.calls == 1 and display.shown[0][1].startswith("fit: 0/100 epochs (")
    assert all(how == "update" for how, _ in display.shown[1:])
    assert len(display.shown) < 20  # throttled: not one message per epoch
    final = display.shown[-1][1]
    assert final.startswith("fit: 100/100 epochs, epoch=100, loss=0.5 (") and "\n" not in final


def test_every_update_shows_when_time_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(float(k) for k in range(1000))
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    display = Display()
    bar = NotebookBar(3, "batch", "fit", display)
    for _ in range(3):
        bar.update()
    bar.close()  # nothing new since the last update: no extra message
    assert [line.split(" (")[0] for _, line in display.shown] == [
        "fit: 0/3 batches", "fit: 1/3 batches", "fit: 2/3 batches", "fit: 3/3 batches",
    ]


def test_the_html_is_escaped_and_shows_a_progress_bar() -> None:
    bar = NotebookBar(4, "epoch", "fit", Display())
    bar.update(2)
    bar.set_postfix(loss="<script>alert('x')</script>")
    page = bar._repr_html_()
    assert '<progress value="2" max="4"' in page and "<script>" not in page
    assert html.escape("<script>alert('x')</script>") in page


def test_fit_uses_the_notebook_bar_in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a kernel with IPython's display, fit shows one NotebookBar and nothing on stderr."""
    import sys
    import types

    display = Display()
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.__path__ = []  # type: ignore[attr-defined]  # a package, so IPython.display imports
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    xs, ys = nn.and_gate()
    history = nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3)
    assert display.calls == 1
    assert display.shown[-1][1].startswith(f"fit: 3/3 epochs, epoch=3, loss={history.loss[-1]:.4g}")
