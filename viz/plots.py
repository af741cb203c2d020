"""Training plots with matplotlib (an optional extra, imported lazily): history, boundary, activations.

Figures are built with `matplotlib.figure.Figure` directly, not pyplot: no global state, no window,
nothing shown; `path=` saves the figure (Agg renders it) and the Figure is returned either way. The
Figure is a `ShownFigure` (`shown_figure_class`), which Jupyter shows inline with no `%matplotlib`.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from autograd import Value, no_grad
from autograd.activations import NAMES, TABLE
from autograd.checks import integer, needs, real_number, real_numbers, sequence
from autograd.files import FilePath, file_path, write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ACTIVATIONS = NAMES
"""The activations `plot_activation` draws: every one in autograd's activation table."""


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


def _save(fig: Figure, path: FilePath | None) -> Figure:
    """Save `fig` to `path` when given (format from the suffix, PNG without one), atomically; return it."""
    if path is not None:
        target = file_path(path, "plot(path=...)")
        buffer = io.BytesIO()
        suffix = os.path.splitext(target)[1][1:].lower()
        fig.savefig(buffer, format=suffix or "png", dpi=120, bbox_inches="tight")
        write_atomically(target, buffer.getvalue())
    return fig


def _floats(values: object, where: str, length: int | None = None) -> list[float]:
    """Numbers or Values (a list, tuple or 1-D array) as floats, or a TypeError/ValueError naming `where`."""
    if isinstance(values, (list, tuple)):
        values = [x.data if isinstance(x, Value) else x for x in values]
    return real_numbers(values, where, length=length, finite=False)


def plot_history(history: object, path: FilePath | None = None) -> Figure:
    """Loss (and accuracy, if recorded) per epoch from any object with `.loss` (and `.accuracy`) lists."""
    if not hasattr(history, "loss"):
        raise TypeError(f"plot_history needs an object with a .loss list, got {type(history).__name__}")
    loss = _floats(history.loss, "plot_history(history.loss)")
    recorded = getattr(history, "accuracy", None)
    accuracy = _floats(recorded, "plot_history(history.accuracy)") if recorded else []
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
    return real_number(out, "plot_decision_boundary: model([x0, x1]) (a Value or a number)", finite=False)


def plot_decision_boundary(
    model: Callable[[list[float]], object],
    xs: Sequence[Sequence[float]],
    ys: Sequence[float],
    path: FilePath | None = None,
    *,
    resolution: int = 60,
) -> Figure:
    """The 2-D plane coloured by the model's output, its decision line, and the labelled points.

    `model` maps [x0, x1] to a Value or number; it is evaluated under `no_grad()` on a
    `resolution` x `resolution` grid. The line is at 0.5 when all labels are >= 0 (0/1 labels,
    sigmoid outputs) and at 0 otherwise (-1/+1 labels, tanh or raw scores).
    """
    points, labels = _points_and_labels(xs, ys)
    size = integer(resolution, "plot_decision_boundary(resolution)", at_least=2)
    gx, gy = _grid_axes(points, size)
    with no_grad():
        grid = [[_score(model, [x, y]) for x in gx] for y in gy]
    threshold = 0.5 if min(labels) >= 0 else 0.0
    fig = _figure("plot_decision_boundary", figsize=(5.5, 4.6), layout="constrained")
    ax = fig.subplots()
    _draw_output(fig, ax, gx, gy, grid, threshold)
    _draw_points(ax, points, labels, threshold)
    ax.set(title=f"decision boundary (output = {threshold:g})", xlabel="x0", ylabel="x1")
    # Below the plot, where it hides no point: inside, any corner can hold one (XOR's (1, 1)).
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8)
    return _save(fig, path)


def _points_and_labels(xs: object, ys: object) -> tuple[list[list[float]], list[float]]:
    """The points [x0, x1] and their labels as floats: one point per label, at least one."""
    labels = _floats(ys, "plot_decision_boundary(ys)")
    where = "plot_decision_boundary(xs)"
    rows = sequence(xs, where, "points [x0, x1] (one per label in ys)", length=len(labels))
    return [_floats(p, f"{where}[{i}]", length=2) for i, p in enumerate(rows)], labels


def _grid_axes(points: list[list[float]], size: int) -> tuple[list[float], list[float]]:
    """`size` evenly spaced x0 and x1 values spanning the points with a 10% margin on each side."""
    axes = []
    for k in (0, 1):
        lo, hi = min(p[k] for p in points), max(p[k] for p in points)
        pad = 0.1 * (hi - lo or 1.0)
        axes.append([lo - pad + (hi - lo + 2 * pad) * i / (size - 1) for i in range(size)])
    return axes[0], axes[1]


def _draw_output(
    fig: Figure, ax: Any, gx: list[float], gy: list[float], grid: list[list[float]], threshold: float
) -> None:
    """The model's output as filled contours, white at the threshold, and the decision line there."""
    flat = [v for row in grid for v in row]
    low, high = min(flat), max(flat)
    if not high > low:
        return  # a constant output has no contours to draw
    from matplotlib.colors import TwoSlopeNorm

    # White exactly at the decision threshold: red below it, blue above it.
    centre = threshold if low < threshold < high else (low + high) / 2
    norm = TwoSlopeNorm(vcenter=centre, vmin=low, vmax=high)
    filled = ax.contourf(gx, gy, grid, levels=20, cmap="RdBu", norm=norm, alpha=0.75)
    fig.colorbar(filled, ax=ax, label="model output")
    if low < threshold < high:
        ax.contour(gx, gy, grid, levels=[threshold], colors="black", linewidths=1.5)


def _draw_points(ax: Any, points: list[list[float]], labels: list[float], threshold: float) -> None:
    """The samples as dots, red at or below the threshold and blue above it, named in the legend."""
    classes = sorted(set(labels))
    names = (
        (f"y = {classes[0]:g}", f"y = {classes[-1]:g}")
        if len(classes) == 2
        else (f"y ≤ {threshold:g}", f"y > {threshold:g}")
    )
    negative = [p for p, y in zip(points, labels) if y <= threshold]
    positive = [p for p, y in zip(points, labels) if y > threshold]
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


def activation_curve(name: str, xs: Sequence[float]) -> tuple[list[float], list[float]]:
    """f(x) and f'(x) for the activation `name`, the derivative taken from backward on a Value."""
    if not isinstance(name, str) or name not in TABLE:
        error = TypeError if not isinstance(name, str) else ValueError
        raise error(needs("plot_activation(name)", f"one of {', '.join(ACTIVATIONS)}", name))
    values, slopes = [], []
    for x in xs:
        v = Value(x)
        out = TABLE[name].apply(v)
        out.backward()
        values.append(out.data)
        slopes.append(v.grad)
    return values, slopes


def plot_activation(name: str, path: FilePath | None = None) -> Figure:
    """An activation (any of ACTIVATIONS: linear, step, sign, sigmoid, tanh, relu, leaky_relu) and
    its derivative side by side.

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
