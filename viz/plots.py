"""Training plots with matplotlib (an optional extra, imported lazily): history, boundary, activations.

Figures are built with `matplotlib.figure.Figure` directly, not pyplot: no global state, no window,
nothing shown; `path=` saves the figure (Agg renders it) and the Figure is returned either way. The
Figure is a `ShownFigure` (`shown_figure_class`), which Jupyter shows inline with no `%matplotlib`.
"""

from __future__ import annotations

import functools
import io
import math
import numbers
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from autograd import Value, no_grad

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ACTIVATIONS = ("step", "sign", "sigmoid", "tanh", "relu")


def _figure(who: str, **kwargs: Any) -> Figure:
    """A new matplotlib Figure, or ImportError naming the extra to install."""
    try:
        import matplotlib.figure  # noqa: F401 (checked on every call: the class below is cached)

        shown = shown_figure_class()
    except ImportError as error:
        raise ImportError(f"{who} needs matplotlib: pip install 'axongrad[plots]'") from error
    figure: Figure = shown(**kwargs)
    return figure


# Pixels per inch of the PNG a notebook shows; files saved with `path=` use dpi 120.
DISPLAY_DPI = 100


@functools.cache
def shown_figure_class() -> type[Figure]:
    """`ShownFigure`: a matplotlib Figure with `_repr_png_`, made on first use (matplotlib is lazy).

    A fresh kernel shows it inline without `%matplotlib inline`. IPython prefers a printer
    registered for Figure (the inline backend's) when there is one, so it never shows twice.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    class ShownFigure(Figure):
        """A matplotlib Figure that Jupyter shows as a PNG by itself."""

        def _repr_png_(self) -> bytes:
            """The figure as PNG bytes (Agg, tight bounding box)."""
            if not isinstance(self.canvas, FigureCanvasAgg):
                FigureCanvasAgg(self)
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=DISPLAY_DPI, bbox_inches="tight")
            return buffer.getvalue()

    result: type[Figure] = ShownFigure
    return result


def _save(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    """Save `fig` to `path` when given (format from the suffix) and return it."""
    if path is not None:
        fig.savefig(os.fspath(path), dpi=120, bbox_inches="tight")
    return fig


def _floats(values: object, what: str) -> list[float]:
    """`values` as a list of floats, or TypeError naming `what`."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"{what} must be a list of numbers, got {type(values).__name__}")
    out = []
    for x in values:
        if isinstance(x, Value):
            x = x.data
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{what} must hold numbers, got {type(x).__name__}")
        out.append(float(x))
    return out


def plot_history(history: object, path: str | os.PathLike[str] | None = None) -> Figure:
    """Loss (and accuracy, if recorded) per epoch from any object with `.loss` (and `.accuracy`) lists."""
    if not hasattr(history, "loss"):
        raise TypeError(f"plot_history needs an object with a .loss list, got {type(history).__name__}")
    loss = _floats(history.loss, "history.loss")
    accuracy = _floats(getattr(history, "accuracy", None) or [], "history.accuracy")
    panels = 2 if accuracy else 1
    fig = _figure("plot_history", figsize=(5.5 * panels, 3.8), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    epochs = list(range(1, len(loss) + 1))
    ax = axes[0]
    ax.plot(epochs, loss, color="#dc2626", marker="o" if len(loss) <= 30 else None, markersize=3)
    ax.set(title="loss per epoch", xlabel="epoch", ylabel="loss")
    if loss and min(loss) > 0 and max(loss) / min(loss) > 100:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if accuracy:
        ax = axes[1]
        ax.plot(
            range(1, len(accuracy) + 1),
            accuracy,
            color="#2563eb",
            marker="o" if len(accuracy) <= 30 else None,
            markersize=3,
        )
        ax.set(title="accuracy per epoch", xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    return _save(fig, path)


def _score(model: Callable[[list[float]], object], point: list[float]) -> float:
    """The model's output at `point` as a float (a Value, a number, or a one-element list of either)."""
    out = model(point)
    if isinstance(out, (list, tuple)) and len(out) == 1:
        out = out[0]
    if isinstance(out, Value):
        return out.data
    if isinstance(out, bool) or not isinstance(out, numbers.Real):
        raise TypeError(
            f"plot_decision_boundary: model must return a Value or a number, got {type(out).__name__}"
        )
    return float(out)


def plot_decision_boundary(
    model: Callable[[list[float]], object],
    xs: Sequence[Sequence[float]],
    ys: Sequence[float],
    path: str | os.PathLike[str] | None = None,
    *,
    resolution: int = 60,
) -> Figure:
    """The 2-D plane coloured by the model's output, its decision line, and the labelled points.

    `model` maps [x0, x1] to a Value or number; it is evaluated under `no_grad()` on a
    `resolution` x `resolution` grid. The line is at 0.5 when all labels are >= 0 (0/1 labels,
    sigmoid outputs) and at 0 otherwise (-1/+1 labels, tanh or raw scores).
    """
    if len(xs) != len(ys) or not xs:
        raise ValueError(
            f"plot_decision_boundary needs as many labels as points (>0), got {len(xs)} and {len(ys)}"
        )
    points = [_floats(list(p), "each point of xs") for p in xs]
    if any(len(p) != 2 for p in points):
        raise ValueError("plot_decision_boundary needs 2-D points [x0, x1]")
    labels = _floats(list(ys), "ys")
    if resolution < 2:
        raise ValueError(f"plot_decision_boundary(resolution=...) must be >= 2, got {resolution}")
    fig = _figure("plot_decision_boundary", figsize=(5.5, 4.6), layout="constrained")
    ax = fig.subplots()
    lo0, hi0 = min(p[0] for p in points), max(p[0] for p in points)
    lo1, hi1 = min(p[1] for p in points), max(p[1] for p in points)
    pad0, pad1 = 0.1 * (hi0 - lo0 or 1.0), 0.1 * (hi1 - lo1 or 1.0)
    gx = [lo0 - pad0 + (hi0 - lo0 + 2 * pad0) * i / (resolution - 1) for i in range(resolution)]
    gy = [lo1 - pad1 + (hi1 - lo1 + 2 * pad1) * j / (resolution - 1) for j in range(resolution)]
    with no_grad():
        grid = [[_score(model, [x, y]) for x in gx] for y in gy]
    threshold = 0.5 if min(labels) >= 0 else 0.0
    flat = [v for row in grid for v in row]
    low, high = min(flat), max(flat)
    if high > low:
        from matplotlib.colors import TwoSlopeNorm

        # White exactly at the decision threshold: red below it, blue above it.
        centre = threshold if low < threshold < high else (low + high) / 2
        norm = TwoSlopeNorm(vcenter=centre, vmin=low, vmax=high)
        filled = ax.contourf(gx, gy, grid, levels=20, cmap="RdBu", norm=norm, alpha=0.75)
        fig.colorbar(filled, ax=ax, label="model output")
        if low < threshold < high:
            ax.contour(gx, gy, grid, levels=[threshold], colors="black", linewidths=1.5)
    positive = [p for p, y in zip(points, labels) if y > threshold]
    negative = [p for p, y in zip(points, labels) if y <= threshold]
    classes = sorted(set(labels))
    names = (
        (f"y = {classes[0]:g}", f"y = {classes[-1]:g}")
        if len(classes) == 2
        else (f"y ≤ {threshold:g}", f"y > {threshold:g}")
    )
    for group, colour, name in ((negative, "#dc2626", names[0]), (positive, "#2563eb", names[1])):
        if group:
            ax.scatter(
                [p[0] for p in group],
                [p[1] for p in group],
                c=colour,
                edgecolors="white",
                linewidths=0.6,
                s=22,
                label=name,
            )
    ax.set(title=f"decision boundary (output = {threshold:g})", xlabel="x0", ylabel="x1")
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def activation_curve(name: str, xs: Sequence[float]) -> tuple[list[float], list[float]]:
    """f(x) and f'(x) for the activation `name`, the derivative taken from backward on a Value."""
    if name not in ACTIVATIONS:
        raise ValueError(f"plot_activation(name) must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    values, slopes = [], []
    for x in xs:
        v = Value(x)
        out = getattr(v, name)()
        out.backward()
        values.append(out.data)
        slopes.append(v.grad)
    return values, slopes


def plot_activation(name: str, path: str | os.PathLike[str] | None = None) -> Figure:
    """An activation (step, sign, sigmoid, tanh, relu) and its derivative side by side.

    The derivative comes from `backward()`, so the picture shows what gradient descent sees: 0
    everywhere for step and sign (nothing to learn from), a smooth bump for sigmoid and tanh.
    """
    xs = [-6 + 12 * i / 600 for i in range(601)]
    values, slopes = activation_curve(name, xs)
    fig = _figure("plot_activation", figsize=(9, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    # Break the line at jumps (step, sign) so matplotlib draws no vertical segment there.
    shown = [math.nan if i and abs(values[i] - values[i - 1]) > 0.5 else y for i, y in enumerate(values)]
    left.plot(xs, shown, color="#2563eb", linewidth=2)
    left.set(title=f"{name}(x)", xlabel="x")
    right.plot(xs, slopes, color="#dc2626", linewidth=2)
    right.set(title=f"d/dx {name}(x), from backward()", xlabel="x")
    if name in ("step", "sign"):
        right.set_ylim(-0.5, 1.0)
        right.text(
            0.5,
            0.6,
            "0 everywhere (undefined at the jump):\nno gradient to learn from",
            transform=right.transAxes,
            ha="center",
            fontsize=9,
            color="#7f1d1d",
        )
    for ax in (left, right):
        ax.axhline(0, color="#9ca3af", linewidth=0.8)
        ax.axvline(0, color="#9ca3af", linewidth=0.8)
        ax.grid(alpha=0.3)
    return _save(fig, path)
