"""Training you can watch: one standalone HTML page that plays and scrubs through `history.frames`.

`nn.fit(..., record=k)` stores a frame every k steps (the frame format is nn's `Frame.as_dict()`):
the step, epoch, loss and accuracy; every layer's weights and gradients; for 2-D inputs the model's
output on a grid (the decision boundary); and one sample's z, a and δ = ∂E/∂z on every neuron.
viz reads frames only through `as_dict()` (it never imports nn) and draws them with the page
template `viz/templates/training.html`: a slider and play button, the loss curve with the step
marked, the boundary as a heat map with the data, the sample's network, and heat maps of weights
and gradients. Every number the page shows for a frame sits in an element with `data-field`
(its name) and `data-value` (the number exactly as recorded), so a test or a script can read it.
The same page with only the newest frame is what `viz.TrainingView` shows live in Jupyter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from autograd.checks import integer, needs, real_number
from autograd.files import FilePath, file_path, write_atomically
from viz.labels import page_text, script_json
from viz.pages import read_template, script_csp

TEMPLATE = "templates/training.html"
RECORD_HINT = "train with nn.fit(..., record=k) to record a frame every k steps"
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_PLACEHOLDER = re.compile(r"__(?:CSP|TITLE|DATA)__")


@cache
def template() -> str:
    """The page template shipped as package data (viz/templates/training.html)."""
    return read_template(TEMPLATE)


def _number(x: object, where: str) -> float:
    """`x` as a float, or TypeError naming `where` (NaN and inf are allowed: the page shows them)."""
    return real_number(x, where, finite=False)


def _numbers(xs: object, where: str, length: int | None = None) -> list[float]:
    """A list of numbers of `length` (any length when None), or TypeError/ValueError naming `where`."""
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(needs(where, "a list of numbers", xs))
    if length is not None and len(xs) != length:
        raise ValueError(f"{where} needs a list of {length} numbers, got {type(xs).__name__} of {len(xs)}")
    return [_number(x, f"{where}[{i}]") for i, x in enumerate(xs)]


def _matrix(rows: object, where: str, shape: tuple[int, int] | None = None) -> list[list[float]]:
    """A rectangular list of lists of numbers (of `shape` when given), or an error naming `where`."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(f"{where} must be a list of lists of numbers, got {type(rows).__name__}")
    if shape is not None and len(rows) != shape[0]:
        raise ValueError(f"{where} must have {shape[0]} rows, got {len(rows)}")
    width = shape[1] if shape is not None else (len(rows[0]) if rows else 0)
    return [_numbers(row, f"{where}[{i}]", width) for i, row in enumerate(rows)]


def _int(x: object, where: str, at_least: int = 0) -> int:
    """An int >= `at_least`, or an error naming `where`."""
    return integer(x, where, at_least=at_least)


def _field(d: Mapping[str, Any], key: str, where: str) -> Any:
    """d[key], or a ValueError saying which field of which frame is missing."""
    if key not in d:
        raise ValueError(f"{where} has no {key!r} field (frames follow nn's Frame.as_dict() format)")
    return d[key]


def _layer(d: object, where: str) -> dict[str, Any]:
    """One LayerFrame dict, checked: name, weights (neuron x input), biases and their grads."""
    if not isinstance(d, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(d).__name__}")
    name = _field(d, "name", where)
    if not isinstance(name, str):
        raise TypeError(f"{where}.name must be a str, got {type(name).__name__}")
    weights = _matrix(_field(d, "weights", where), f"{where}.weights")
    shape = (len(weights), len(weights[0]) if weights else 0)
    return {
        "name": name,
        "weights": weights,
        "biases": _numbers(_field(d, "biases", where), f"{where}.biases", shape[0]),
        "weight_grads": _matrix(_field(d, "weight_grads", where), f"{where}.weight_grads", shape),
        "bias_grads": _numbers(_field(d, "bias_grads", where), f"{where}.bias_grads", shape[0]),
    }


def _boundary(d: object, where: str) -> dict[str, Any] | None:
    """The Boundary dict (a finite box, a size x size grid of outputs) or None."""
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TypeError(f"{where} must be a dict or None, got {type(d).__name__}")
    box = {k: _number(_field(d, k, where), f"{where}.{k}") for k in ("x_min", "x_max", "y_min", "y_max")}
    if not all(math.isfinite(v) for v in box.values()) or not (
        box["x_min"] < box["x_max"] and box["y_min"] < box["y_max"]
    ):
        raise ValueError(f"{where} needs finite x_min < x_max and y_min < y_max, got {box}")
    size = _int(_field(d, "size", where), f"{where}.size", at_least=2)
    values = _matrix(_field(d, "values", where), f"{where}.values", (size, size))
    return {**box, "size": size, "values": values}


def _sample(d: object, where: str) -> dict[str, Any] | None:
    """The SampleFrame dict (inputs, target, outputs, z/a/δ per neuron) or None."""
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TypeError(f"{where} must be a dict or None, got {type(d).__name__}")
    neurons = _field(d, "neurons", where)
    if not isinstance(neurons, Mapping):
        raise TypeError(f"{where}.neurons must be a dict, got {type(neurons).__name__}")
    checked: dict[str, dict[str, float]] = {}
    for name, values in neurons.items():
        if not isinstance(name, str) or not isinstance(values, Mapping):
            raise TypeError(f"{where}.neurons must map names to {{'z', 'a', 'delta'}} dicts, got {name!r}")
        checked[name] = {k: _number(_field(values, k, f"{where}.neurons[{name!r}]"), f"{where}.{name}.{k}")
                         for k in ("z", "a", "delta")}
    target = _field(d, "target", where)
    try:
        json.dumps(_finite_json(target), allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}.target must be JSON data (numbers, str, lists), got {target!r:.60}"
        ) from None
    return {
        "index": _int(_field(d, "index", where), f"{where}.index"),
        "inputs": _numbers(_field(d, "inputs", where), f"{where}.inputs"),
        "target": target,
        "outputs": _numbers(_field(d, "outputs", where), f"{where}.outputs"),
        "neurons": checked,
    }


def frame_dict(frame: object, where: str = "frame") -> dict[str, Any]:
    """`frame.as_dict()` checked against the frame format (TypeError/ValueError naming the field)."""
    as_dict = getattr(frame, "as_dict", None)
    if not callable(as_dict):
        raise TypeError(
            f"{where} must be a training frame with .as_dict() (nn.Frame, from nn.fit(..., record=k)), "
            f"got {type(frame).__name__}"
        )
    d = as_dict()
    if not isinstance(d, Mapping):
        raise TypeError(f"{where}.as_dict() must return a dict, got {type(d).__name__}")
    accuracy = _field(d, "accuracy", where)
    layers = _field(d, "layers", where)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(f"{where}.layers must be a non-empty list of layers, got {layers!r:.60}")
    return {
        "step": _int(_field(d, "step", where), f"{where}.step"),
        "epoch": _int(_field(d, "epoch", where), f"{where}.epoch"),
        "loss": _number(_field(d, "loss", where), f"{where}.loss"),
        "accuracy": None if accuracy is None else _number(accuracy, f"{where}.accuracy"),
        "layers": [_layer(layer, f"{where}.layers[{i}]") for i, layer in enumerate(layers)],
        "boundary": _boundary(d.get("boundary"), f"{where}.boundary"),
        "sample": _sample(d.get("sample"), f"{where}.sample"),
    }


def history_frames(history: object, who: str = "save_training_html") -> list[dict[str, Any]]:
    """Every frame of `history` as a checked dict; TypeError/ValueError saying how to record them."""
    if not hasattr(history, "frames"):
        raise TypeError(
            f"{who} needs a training History with .frames (from nn.fit(..., record=k)), "
            f"got {type(history).__name__}"
        )
    frames = history.frames
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence):
        raise TypeError(f"{who}: history.frames must be a list of frames, got {type(frames).__name__}")
    if not frames:
        raise ValueError(f"{who}: this history has no frames to replay; {RECORD_HINT}")
    return [frame_dict(f, f"history.frames[{i}]") for i, f in enumerate(frames)]


def _as_list(values: object) -> object:
    """A NumPy array (anything with `tolist`) as nested lists of Python numbers; anything else as is."""
    tolist = getattr(values, "tolist", None)
    return tolist() if callable(tolist) else values


def check_points(
    xs: object, ys: object, who: str
) -> tuple[list[list[float]], list[float]] | None:
    """The optional data points drawn on the boundary: 2-D xs and numeric ys of equal length."""
    if xs is None and ys is None:
        return None
    if xs is None or ys is None:
        raise ValueError(f"{who}: give both xs and ys (the data to draw on the boundary), or neither")
    # NumPy arrays, as micrograd's demo makes them, become lists (of Python floats) first.
    xs, ys = (_as_list(v) for v in (xs, ys))
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"{who}(xs=...) must be a list of [x0, x1] points, got {type(xs).__name__}")
    points = [_numbers(p, f"{who}: xs[{i}]", 2) for i, p in enumerate(xs)]
    labels = _numbers(ys, f"{who}: ys", len(points))
    return points, labels


def default_threshold(points: tuple[list[list[float]], list[float]] | None, threshold: object) -> float:
    """The output level drawn as the decision line: given, else 0.5 for labels >= 0 (0/1), else 0."""
    if threshold is not None:
        return real_number(threshold, "threshold")
    if points is not None and points[1] and min(points[1]) >= 0:
        return 0.5
    return 0.0


def _finite_json(x: Any) -> Any:
    """`x` with every NaN/inf float as the string "NaN"/"Infinity"/"-Infinity" (JSON has no such numbers)."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, Mapping):
        return {str(k): _finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_json(v) for v in x]
    return x


def curve_point(frame: Mapping[str, Any]) -> dict[str, Any]:
    """The loss curve's point for a frame: its step, loss and accuracy."""
    return {"step": frame["step"], "loss": frame["loss"], "accuracy": frame["accuracy"]}


def page_html(
    frames: list[dict[str, Any]],
    curve: list[dict[str, Any]],
    *,
    points: tuple[list[list[float]], list[float]] | None,
    threshold: float,
    title: str,
    live: bool = False,
    recorded: int | None = None,
) -> str:
    """The template filled in: checked frames and curve as safe JSON, the title escaped, the CSP."""
    page = template()
    script = _SCRIPT.search(page)
    if script is None:  # the shipped template always has its script
        raise RuntimeError(f"viz/{TEMPLATE} has no <script> element")
    # Only the template's own script may run; the data block is JSON (not run), escaped so it
    # cannot end early.
    csp = script_csp(script.group(1))
    data = {
        "frames": frames,
        "curve": curve,
        "points": None if points is None else {"xs": points[0], "ys": points[1]},
        "threshold": threshold,
        "live": live,
        "recorded": len(curve) if recorded is None else recorded,
    }
    # One pass over the placeholders, so a title that reads "__DATA__" stays a title.
    fill = {"__CSP__": csp, "__TITLE__": page_text(title), "__DATA__": script_json(_finite_json(data))}
    return _PLACEHOLDER.sub(lambda m: fill[m.group()], page)


def training_html(
    history: object,
    *,
    xs: Sequence[Sequence[float]] | None = None,
    ys: Sequence[float] | None = None,
    title: str = "Training, frame by frame",
    threshold: float | None = None,
) -> str:
    """The replay page of `history.frames` as one HTML string (see `save_training_html`)."""
    if not isinstance(title, str):
        raise TypeError(f"save_training_html(title=...) must be a str, got {type(title).__name__}")
    frames = history_frames(history)
    points = check_points(xs, ys, "save_training_html")
    return page_html(
        frames,
        [curve_point(f) for f in frames],
        points=points,
        threshold=default_threshold(points, threshold),
        title=title,
    )


def save_training_html(
    history: object,
    path: FilePath,
    *,
    xs: Sequence[Sequence[float]] | None = None,
    ys: Sequence[float] | None = None,
    title: str = "Training, frame by frame",
    threshold: float | None = None,
) -> str:
    """Write one standalone page that plays and scrubs through `history.frames`; return its path.

    `history` comes from `nn.fit(..., record=k)` (ValueError without frames). Pass the training
    data as `xs`, `ys` to draw it on the decision boundary (2-D inputs). The boundary's line is at
    `threshold` (default 0.5 for 0/1 labels, else 0). No kernel, no network: the page loads
    nothing, its one script is pinned by a Content-Security-Policy hash, all text is escaped.
    Written atomically.
    """
    page = training_html(history, xs=xs, ys=ys, title=title, threshold=threshold)
    target = file_path(path, "save_training_html(path)")
    write_atomically(target, page.encode("utf-8"))
    return target
