"""The handwritten digit pad: one self-contained HTML page that runs a trained digits MLP in the browser.

`export_digit_pad(model, path)` reads a trained 64-input, 10-output MLP by duck typing (viz never
imports nn): `model.layers[k].neurons[j].w` (Values), `.b` (a Value or None) and `.activation`
(a name). The weights become plain floats, embedded as JSON in the page, which needs no server, no
network and no file beside it. The learner draws a digit with the mouse or a finger; the page turns
the drawing into the 8x8 input the network was trained on and shows the ten probabilities as bars,
updating while the learner draws.

How a drawing becomes the network's 8x8 input (scikit-learn's digits, as `nn.datasets.digits`
scales them: 0..16 ink per cell divided by 16, so values in [0, 1]):

1. The strokes' bounding box is found; every sklearn digit touches the top and bottom rows of its
   8x8 box and is centred, so the box's longer side is scaled to fill the square exactly (the pen's
   width included) and its centre goes to the square's centre.
2. The strokes are drawn again on a hidden 64x64 canvas with a pen PEN_FRACTION of its side wide
   (the data's strokes are about 1.2 cells of 8 wide).
3. Each 8x8 cell of that canvas is averaged (area averaging), rounded to sixteenths like the data's
   0..16 counts, and the 64 values feed the network.

The JavaScript forward pass repeats the Python one in the same order (sum of w_i * x_i from 0, then
the bias; the same activation formulas; softmax after the last layer), so its probabilities equal
`nn.softmax(model(x))` to rounding. A test hook for headless browsers:
`window.axongrad.predict8x8(values64)` returns {logits, probs, label}, `window.axongrad.lastInput`,
`.lastProbs`, `.lastLabel` hold what the pad last fed the network and got back, and
`window.axongrad.activations[name](z)` is the page's own activation function.

The page is the template `templates/digit_pad.html` under this package (package data); its activation
functions are one per row of `autograd.activations.TABLE`, checked by a test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd.activations import LEAKY_SLOPE, NAMES
from autograd.checks import needs, real_number, sequence
from autograd.files import FilePath, file_path, write_atomically
from viz.labels import page_text, script_json
from viz.pages import read_template

INPUTS = 64
"""Pixels of an 8x8 digit: the model's first layer must read this many inputs."""

CLASSES = 10
"""Digits 0..9: the model's last layer must have this many outputs."""

PEN_FRACTION = 0.15
"""Pen width on the hidden square, as a fraction of its side (about 1.2 of 8 cells)."""

ACTIVATIONS = NAMES
"""Activation names the page's JavaScript implements: autograd's activation table (a test checks the page)."""

TEMPLATE = "templates/digit_pad.html"
"""The page's template, shipped beside this module as package data."""

FORMAT = "axongrad-digit-pad"
"""The "format" field of the JSON embedded in the page."""

PAGE_VERSION = 1
"""The "version" field of the embedded JSON (bumped when its layout changes)."""


def _number(value: object, where: str) -> float:
    """A finite float from a Value-like `.data` or a number, or a TypeError/ValueError naming `where`."""
    return real_number(getattr(value, "data", value), f"export_digit_pad: {where}")


def _sequence(value: object, where: str, items: str) -> Sequence[Any]:
    """`value` as a non-empty list of `items`, or a TypeError/ValueError naming `where`."""
    return sequence(value, f"export_digit_pad: {where}", items)


@functools.cache
def page_template() -> str:
    """The page's HTML with its __PLACEHOLDERS__, read from the package's templates/digit_pad.html."""
    return read_template(TEMPLATE)


def mlp_as_lists(model: Any) -> dict[str, Any]:
    """The model's weights as plain JSON-ready data: {"layers": [{"activations", "weights", "biases"}]}.

    Reads `model.layers[k].neurons[j]` with `.w` (numbers or Values), `.b` (one, or None) and
    `.activation` (a name in ACTIVATIONS). Checks that layer k's neurons read as many inputs as
    layer k-1 has neurons, that the first layer reads 64 pixels and that the last has 10 outputs;
    raises TypeError or ValueError naming the bad field (e.g. "layers[1].neurons[3].w[2]").
    """
    layers = _sequence(getattr(model, "layers", None), "model.layers", "layers (an MLP-like model)")
    out: list[dict[str, Any]] = []
    width = INPUTS
    for k, layer in enumerate(layers):
        neurons = _sequence(getattr(layer, "neurons", None), f"layers[{k}].neurons", "neurons")
        weights: list[list[float]] = []
        biases: list[float] = []
        activations: list[str] = []
        for j, neuron in enumerate(neurons):
            where = f"layers[{k}].neurons[{j}]"
            w = _sequence(getattr(neuron, "w", None), f"{where}.w", "weights")
            if len(w) != width:
                expected = f"the {width} outputs of layers[{k - 1}]" if k else "the 64 pixels of a digit"
                raise ValueError(
                    f"export_digit_pad: {where}.w has {len(w)} weights, but the neuron reads {expected}"
                )
            weights.append([_number(v, f"{where}.w[{i}]") for i, v in enumerate(w)])
            if not hasattr(neuron, "b"):
                raise TypeError(f"export_digit_pad: {where} has no bias attribute .b (a Value or None)")
            b = neuron.b
            biases.append(0.0 if b is None else _number(b, f"{where}.b"))
            activation = getattr(neuron, "activation", None)
            if activation not in ACTIVATIONS:
                what = f"one of {', '.join(ACTIVATIONS)}"
                raise ValueError(needs(f"export_digit_pad: {where}.activation", what, activation))
            activations.append(str(activation))
        # NOTE: a missing bias is stored as 0.0; x + 0.0 == x in floating point, so outputs are unchanged.
        out.append({"activations": activations, "weights": weights, "biases": biases})
        width = len(neurons)
    if width != CLASSES:
        raise ValueError(
            f"export_digit_pad: the last layer needs {CLASSES} outputs (digits 0..9), got {width}"
        )
    return {"format": FORMAT, "version": PAGE_VERSION, "inputs": INPUTS, "layers": out}


def _architecture(data: dict[str, Any]) -> str:
    """A one-line description such as "64 → 32 (relu) → 10 (linear) → softmax"."""
    parts = [str(data["inputs"])]
    for layer in data["layers"]:
        kinds = sorted(set(layer["activations"]))
        parts.append(f"{len(layer['weights'])} ({'/'.join(kinds)})")
    return " → ".join([*parts, "softmax"])


def digit_pad_html(model: Any, title: str = "axongrad: draw a digit") -> str:
    """The digit pad page for `model` as one HTML string (see the module docstring)."""
    if not isinstance(title, str):
        raise TypeError(needs("digit_pad_html(title)", "a str", title))
    data = mlp_as_lists(model)
    replacements = {
        "__TITLE__": page_text(title),
        "__ARCHITECTURE__": page_text(_architecture(data)),
        "__PEN__": repr(PEN_FRACTION),
        "__LEAKY_SLOPE__": repr(LEAKY_SLOPE),
        "__MODEL_JSON__": script_json(data),
    }
    # One pass, so a title that contains "__MODEL_JSON__" stays text.
    return re.sub("|".join(replacements), lambda m: replacements[m.group()], page_template())


def export_digit_pad(model: Any, path: FilePath, title: str = "axongrad: draw a digit") -> Path:
    """Write the self-contained digit pad page for a trained 64-input, 10-output MLP; return its path.

    The file is written atomically (a temporary file renamed over `path`), so an existing page is
    replaced whole or left as it was. Open it in any browser: no server, no network.
    """
    page = digit_pad_html(model, title)
    target = Path(file_path(path, "export_digit_pad(path)"))
    write_atomically(target.resolve(), page.encode("utf-8"))
    return target


