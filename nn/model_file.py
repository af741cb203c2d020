"""Writing model files: the format's constants, `to_dict` (every weight checked) and `save`.

The format and the guarantees are described in `nn.serialize`, which also reads the files back.
This module knows a model only through its attributes (nin, sizes, activations, layers), so
`nn.module` can import it without importing the layers (no import circle).
"""

from __future__ import annotations

import json
from typing import Any

from autograd import Value
from autograd.checks import needs, real_number
from autograd.files import FilePath, file_path, write_atomically
from nn.activations import is_activation

FORMAT = "axongrad-model"
VERSION = 1

MAX_PARAMETERS = 1_000_000
"""`load`'s default limit on a model's weights and biases (raise it with `load(..., max_parameters=)`)."""

MAX_BYTES_PER_PARAMETER = 128
"""A model file may hold this many bytes per allowed parameter: `save` writes about 30 per weight
of a wide layer and 106 for a chain of one-input neurons without bias, the most per weight."""

MAX_ITEMS_PER_PARAMETER = 8
"""A model file may hold this many JSON items (values after a comma, lists, objects) per allowed
parameter: a chain of one-input neurons without bias, the most structure per weight, needs 8."""

_ITEMS_SLACK = 64
"""JSON items any model file may hold on top of MAX_ITEMS_PER_PARAMETER per parameter (the top
level, the architecture's lists)."""

_BIG_DIGITS = 300
"""JSON integers longer than this stay text until a field reads them (floats end near 1e308)."""


class _LongInteger(str):
    """A JSON integer too long to be a float or a size, kept as its digits for the error message."""


def _short(value: object) -> str:
    """repr(value) cut to 60 characters, so an error message never echoes a 10 MB field."""
    if isinstance(value, _LongInteger):
        return f"a {len(value.lstrip('-'))}-digit integer"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _weight(p: object, where: str) -> float:
    """A parameter's value as a finite float, or a TypeError/ValueError naming it (checked before writing)."""
    if not isinstance(p, Value):
        raise TypeError(needs(f"save: {where}", "a Value", p))
    x = p.data
    if type(x) is float and x - x == 0.0:  # the usual case needs no more checking
        return x
    return real_number(x, f"save: {where}")


def to_dict(model: Any) -> dict[str, Any]:
    """The model file's content as plain JSON-ready data; every weight and layer checked first.

    A TypeError or ValueError names the weight (e.g. "weights[0][2].w[1] (layers.0.neurons.2.w.1)")
    or the layer whose neurons the file format cannot describe.
    """
    if not all(hasattr(model, name) for name in ("nin", "sizes", "activations", "layers")):
        raise TypeError(f"model files hold an MLP, got {type(model).__name__}")
    ins = [model.nin, *model.sizes]
    weights = []
    for k, layer in enumerate(model.layers):
        first = layer.neurons[0]
        rows = []
        for j, n in enumerate(layer.neurons):
            where = f"weights[{k}][{j}]"
            name = f"layers.{k}.neurons.{j}"
            if n.activation != first.activation or (n.b is None) != (first.b is None):
                raise ValueError(
                    f"save: layer {k + 1} mixes neurons ({name} is {_short(n.activation)}, bias "
                    f"{n.b is not None}; neuron 0 is {_short(first.activation)}, "
                    f"bias {first.b is not None}); "
                    "a model file holds one activation and one bias setting per layer"
                )
            if not is_activation(n.activation):
                raise ValueError(f"save: {name} has an unknown activation {_short(n.activation)}")
            if len(n.w) != ins[k]:
                raise ValueError(f"save: {name} has {len(n.w)} weights, but its layer reads {ins[k]} inputs")
            w = [_weight(p, f"{where}.w[{i}] ({name}.w.{i})") for i, p in enumerate(n.w)]
            b = None if n.b is None else _weight(n.b, f"{where}.b ({name}.b)")
            rows.append({"w": w, "b": b})
        weights.append(rows)
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "nin": model.nin,
            "sizes": model.sizes,
            "activations": model.activations,
            "bias": [layer.bias for layer in model.layers],
        },
        "weights": weights,
    }


def save(model: Any, path: FilePath) -> None:
    """Write `model` (an MLP) to `path` atomically (see nn.serialize): check everything, then write."""
    target = file_path(path, "save(path)")
    data = to_dict(model)  # every weight checked here: a model that cannot be saved touches no file
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    write_atomically(target, text.encode("ascii"))
