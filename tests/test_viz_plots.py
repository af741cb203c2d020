"""viz plots (matplotlib extra): training history, decision boundary, activations and their derivatives."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import viz
from autograd import Value, is_grad_enabled, numerical_grad
from autograd.activations import NAMES as ACTIVATION_NAMES

pytest.importorskip("matplotlib", reason="the plots need matplotlib: pip install 'axongrad[plots]'")


def xdata(line: Any) -> list[float]:
    """A matplotlib line's x values as floats."""
    return [float(v) for v in line.get_xdata()]


def ydata(line: Any) -> list[float]:
    """A matplotlib line's y values as floats."""
    return [float(v) for v in line.get_ydata()]


def test_history_with_loss_and_accuracy(tmp_path: Path) -> None:
    history = SimpleNamespace(loss=[1.0, 0.5, 0.3, 0.2], accuracy=[0.5, 0.7, 0.8, 0.9])
    fig = viz.plot_history(history, tmp_path / "history.png")
    loss_ax, acc_ax = fig.axes
    assert ydata(loss_ax.lines[0]) == history.loss
    assert xdata(loss_ax.lines[0]) == [1, 2, 3, 4]
    assert ydata(acc_ax.lines[0]) == history.accuracy
    assert (tmp_path / "history.png").read_bytes().startswith(b"\x89PNG")


def test_history_with_loss_only_and_bad_input() -> None:
    fig = viz.plot_history(SimpleNamespace(loss=[Value(2.0), 1.0]))
    assert len(fig.axes) == 1 and ydata(fig.axes[0].lines[0]) == [2.0, 1.0]
    with pytest.raises(TypeError, match=r"\.loss"):
        viz.plot_history({"loss": [1.0]})
    with pytest.raises(TypeError) as info:
        viz.plot_history(SimpleNamespace(loss=["high"]))
    assert str(info.value) == "plot_history(history.loss)[0] needs a number, got str 'high'"


def test_decision_boundary_evaluates_the_model_without_recording(tmp_path: Path) -> None:
    recorded = []

    def model(x: list[float]) -> Value:
        recorded.append(is_grad_enabled())
        w0, w1 = Value(1.0, "w0"), Value(-1.0, "w1")
        return (w0 * x[0] + w1 * x[1]).tanh()

    xs = [[0.0, 1.0], [1.0, 0.0], [0.5, 1.5], [1.5, 0.2]]
    ys = [-1.0, 1.0, -1.0, 1.0]
    fig = viz.plot_decision_boundary(model, xs, ys, tmp_path / "boundary.svg", resolution=12)
    assert len(recorded) == 144 and not any(recorded)
    assert is_grad_enabled()
    ax = fig.axes[0]
    assert len(ax.collections) >= 3  # filled contours, the 0-level line, the points
    assert "output = 0" in ax.get_title()
    assert (tmp_path / "boundary.svg").read_text().count("<svg") == 1
    # 0/1 labels and a plain-number model: the line sits at 0.5
    fig = viz.plot_decision_boundary(
        lambda x: 1 / (1 + math.exp(x[1] - x[0])), xs, [0, 1, 0, 1], resolution=8
    )
    assert "output = 0.5" in fig.axes[0].get_title()


def test_decision_boundary_rejects_bad_input() -> None:
    with pytest.raises(ValueError) as info:
        viz.plot_decision_boundary(lambda x: 0.0, [[0.0, 1.0]], [1.0, 0.0])
    assert str(info.value) == (
        "plot_decision_boundary(xs) needs a list of 2 points [x0, x1] (one per label in ys), got list of 1"
    )
    with pytest.raises(ValueError) as info:
        viz.plot_decision_boundary(lambda x: 0.0, [[0.0, 1.0, 2.0]], [1.0])
    assert str(info.value) == (
        "plot_decision_boundary(xs)[0] needs a list or 1-D array of 2 numbers, got list of 3"
    )
    with pytest.raises(TypeError) as type_info:
        viz.plot_decision_boundary(lambda x: "yes", [[0.0, 1.0]], [1.0], resolution=2)
    assert str(type_info.value) == (
        "plot_decision_boundary: model([x0, x1]) (a Value or a number) needs a number, got str 'yes'"
    )
    with pytest.raises(ValueError, match=r"^plot_decision_boundary\(resolution\) needs an int >= 2, got 1$"):
        viz.plot_decision_boundary(lambda x: 0.0, [[0.0, 1.0]], [1.0], resolution=1)
    with pytest.raises(TypeError, match=r"^plot_decision_boundary\(resolution\) needs an int >= 2, got 2.5$"):
        viz.plot_decision_boundary(lambda x: 0.0, [[0.0, 1.0]], [1.0], resolution=2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_and_its_backward_derivative(name: str, tmp_path: Path) -> None:
    fig = viz.plot_activation(name, tmp_path / f"{name}.png")
    left, right = fig.axes
    xs = xdata(right.lines[0])
    slopes = ydata(right.lines[0])
    assert name in left.get_title() and "backward" in right.get_title()
    f: Callable[[float], float] = {
        "step": lambda x: 1.0 if x >= 0 else 0.0,
        "sign": lambda x: 1.0 if x >= 0 else -1.0,
        "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
        "tanh": math.tanh,
        "relu": lambda x: max(0.0, x),
        "linear": lambda x: x,
        "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    }[name]
    for x, slope in list(zip(xs, slopes))[::25]:
        if abs(x) > 1e-3:  # central differences are meaningless at the kink
            assert slope == pytest.approx(numerical_grad(lambda v: f(v[0]), [x])[0], rel=1e-4, abs=1e-7)
    shown = [y for y in ydata(left.lines[0]) if not math.isnan(y)]
    assert min(shown) == pytest.approx(min(f(x) for x in xs))
    assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_unknown_activation() -> None:
    with pytest.raises(ValueError) as info:
        viz.plot_activation("softmax")
    assert str(info.value) == (
        "plot_activation(name) needs one of linear, step, sign, sigmoid, tanh, relu, leaky_relu, "
        "got str 'softmax'"
    )


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plot_history needs matplotlib: pip install 'axongrad\[plots\]'"):
        viz.plot_history(SimpleNamespace(loss=[1.0]))
    with pytest.raises(ImportError, match=r"axongrad\[plots\]"):
        viz.plot_activation("tanh")


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.plot_history(SimpleNamespace(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0])),
        lambda: viz.plot_decision_boundary(
            lambda p: p[0] - p[1], [[0, 0], [1, 0], [0, 1]], [0, 1, 0], resolution=5
        ),
        lambda: viz.plot_activation("tanh"),
    ],
)
def test_plots_show_inline_without_pyplot_and_stay_figures(make: Callable[[], Any]) -> None:
    from matplotlib.figure import Figure

    fig = make()
    assert isinstance(fig, Figure)  # still a matplotlib Figure: savefig, axes, ...
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_decision_boundary_legend_hides_no_point() -> None:
    # XOR's four points sit in the corners, where a legend inside the plot would cover one.
    xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    ys = [0.0, 1.0, 1.0, 0.0]
    fig = viz.plot_decision_boundary(lambda p: (p[0] - p[1]) ** 2, xs, ys)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["y = 0", "y = 1"]
    assert legend.y1 <= ax.get_window_extent().y0  # below the plot
    for x0, x1 in ax.transData.transform(xs):
        assert not legend.contains(x0, x1)


def test_every_activation_the_readme_lists_is_drawn(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    match = re.search(r"activations `([^`]+)`", readme)
    assert match is not None, "the README lists the activations as `linear step ...`"
    listed = match.group(1).split()
    assert "leaky_relu" in listed and set(listed) <= set(viz.plots.ACTIVATIONS)
    for name in listed:
        fig = viz.plot_activation(name)
        assert fig.axes[0].get_title() == f"{name}(x)"
