"""Training shown live in Jupyter: `nn.fit(..., record=k, on_frame=viz.TrainingView())`.

The view is the replay page of `viz.save_training_html` holding the newest frame (the loss curve
keeps every frame so far), in ONE display output that is replaced in place (IPython's
`display(..., display_id=True)` and `handle.update`), never a new output per frame. Updates are
throttled: at most one every `every` seconds, and never more than about a tenth of the training
time; the newest frame is always shown when the cell finishes. Above the page a line of plain HTML
repeats step, epoch, loss and accuracy, so even a viewer that runs no script shows where training is.
Outside a Jupyter kernel the view prints one line saying so and otherwise does nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from autograd.checks import needs, real_number
from viz.labels import page_text, srcdoc
from viz.training_page import (
    check_points,
    curve_point,
    default_threshold,
    frame_dict,
    page_html,
)

# The page's height inside a notebook, in pixels: in an output ~1000 px wide the page puts the loss
# curve and the boundary side by side and the network under them, all within this height.
FRAME_HEIGHT = 840
# A redraw may take at most this fraction of the time between redraws.
MAX_SHARE = 0.1
NOT_IN_JUPYTER = (
    "TrainingView: not in a Jupyter kernel, so nothing is shown live; after training, "
    "viz.save_training_html(history, 'training.html') writes the replay page."
)


def in_kernel() -> bool:
    """True inside a Jupyter (IPython) kernel, where a display can be updated in place."""
    if "ipykernel" not in sys.modules:
        return False
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def _cell_number() -> int | None:
    """The running cell's execution count in this kernel (None when it cannot be told)."""
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    count = getattr(shell, "execution_count", None)
    return count if isinstance(count, int) else None


def _fmt(x: float | None) -> str:
    """A number with 4 significant digits; "not measured" for None."""
    return "not measured" if x is None else f"{x:.4g}"


class TrainingView:
    """A live view of training for Jupyter: pass it as `nn.fit(..., record=k, on_frame=view)`.

    Shows the loss curve, the decision boundary (2-D inputs; `xs`, `ys` draw the data on it) and
    one sample's network with z, a and δ on every neuron, in one display updated in place at most
    every `every` seconds. `view.flush()` shows the newest frame now (done for you when the cell ends).
    """

    def __init__(
        self,
        *,
        xs: Sequence[Sequence[float]] | None = None,
        ys: Sequence[float] | None = None,
        every: float = 0.5,
        title: str = "Training, live",
        threshold: float | None = None,
    ) -> None:
        """Check the data to draw and the update interval; nothing is shown until the first frame."""
        real_number(every, "TrainingView(every)", at_least=0)  # seconds
        if not isinstance(title, str):
            raise TypeError(needs("TrainingView(title)", "a str", title))
        self.points = check_points(xs, ys, "TrainingView")
        self.threshold = default_threshold(self.points, threshold)
        self.every = float(every)
        self.title = title
        self.frames = 0
        self.shown = 0  # how many times the display was drawn or updated
        self._curve: list[dict[str, Any]] = []
        self._last: dict[str, Any] | None = None
        self._handle: Any = None
        self._drawn_at = -float("inf")
        self._cost = 0.0
        self._pending = False
        self._hooked = False
        self._told = False
        self._cell: int | None = None

    def __call__(self, history: object, frame: object) -> None:
        """fit's `on_frame(history, frame)`: remember the frame and redraw when the throttle allows."""
        d = frame_dict(frame)
        if self._last is not None and d["step"] <= self._last["step"]:
            # A new run (steps start again): a new curve, shown in a new output.
            self.frames, self._curve, self._handle, self._pending = 0, [], None, False
        self.frames += 1
        self._curve.append(curve_point(d))
        self._last = d
        if not in_kernel():
            if not self._told:
                print(NOT_IN_JUPYTER)
                self._told = True
            return
        wait = max(self.every, self._cost / MAX_SHARE)
        if (
            self._handle is None
            or _cell_number() != self._cell
            or time.monotonic() - self._drawn_at >= wait
        ):
            self._draw()
        else:
            self._pending = True
            self._hook()

    def html(self) -> str:
        """The view as HTML: a line of the newest numbers over the page in a sandboxed iframe."""
        if self._last is None:
            return "<p>TrainingView: no frame yet (pass it as nn.fit(..., record=k, on_frame=view)).</p>"
        f = self._last
        page = page_html(
            [f], self._curve, points=self.points, threshold=self.threshold, title=self.title,
            live=True, recorded=self.frames,
        )
        accuracy = "not measured" if f["accuracy"] is None else f"{f['accuracy']:.1%}"
        return (
            '<div class="axongrad-training-view">'
            f'<p style="font-family: monospace; margin: 0.2em 0;">{page_text(self.title)}: frame '
            f'<b data-field="frame">{self.frames}</b>, step <b data-field="step">{f["step"]}</b>, '
            f'epoch <b data-field="epoch">{f["epoch"]}</b>, loss <b data-field="loss" '
            f'data-value="{f["loss"]!r}">{_fmt(f["loss"])}</b>, accuracy <b data-field="accuracy">'
            f"{accuracy}</b></p>"
            f'<iframe srcdoc="{srcdoc(page)}" title="training" sandbox="allow-scripts" '
            f'style="width: 100%; height: {FRAME_HEIGHT}px; border: 1px solid #d1d5db;"></iframe></div>'
        )

    def __repr__(self) -> str:
        """One line: how many frames, the newest step and loss."""
        if self._last is None:
            return "<TrainingView: no frame yet>"
        last = self._last
        return f"<TrainingView: {self.frames} frames, step {last['step']}, loss {_fmt(last['loss'])}>"

    def _repr_html_(self) -> str:
        """Jupyter's display of the view itself: the same HTML as the live output."""
        return self.html()

    def _bundle(self) -> dict[str, str]:
        """The display's MIME bundle: the HTML view and a one-line text form."""
        return {"text/html": self.html(), "text/plain": repr(self)}

    def _draw(self) -> None:
        """Show the newest frame: the first time a new display, afterwards an update of that one."""
        from IPython.display import display

        start = time.monotonic()
        cell = _cell_number()
        # A view used again in another cell shows there; the earlier cell keeps its last picture.
        if self._handle is None or cell != self._cell:
            self._handle = display(self._bundle(), raw=True, display_id=True)  # type: ignore[no-untyped-call]
            self._cell = cell
        else:
            self._handle.update(self._bundle(), raw=True)
        self.shown += 1
        self._pending = False
        self._drawn_at = time.monotonic()
        self._cost = self._drawn_at - start

    def flush(self) -> None:
        """Show the newest frame now if the throttle held it back (a no-op outside Jupyter)."""
        if self._pending and in_kernel():
            self._draw()

    def _hook(self) -> None:
        """Once: flush when the running cell finishes, so the last frame is always on screen."""
        if self._hooked:
            return
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            return

        def finish(*_: object) -> None:
            shell.events.unregister("post_run_cell", finish)
            self._hooked = False
            self.flush()

        shell.events.register("post_run_cell", finish)
        self._hooked = True
