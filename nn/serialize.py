"""Model files: JSON with a format name, a version, the architecture and the weights (never pickle).

    {"format": "axongrad-model", "version": 1,
     "architecture": {"nin": 2, "sizes": [4, 1], "activations": ["sigmoid", "sigmoid"],
                      "bias": [true, true]},
     "weights": [[{"w": [0.1, -0.3], "b": 0.0}, ...],   # layer 0: one entry per neuron
                 [{"w": [...], "b": 0.2}]]}              # "b" is null for a layer without bias

`save` writes a temporary file in the same directory, fsyncs it and renames it over the target
(`os.replace`, atomic), so an interrupted or failing save leaves the previous file as it was.
`load` checks every field and raises ValueError naming the first bad one (e.g. "weights[1][0].w[2]").
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

from nn.activations import ACTIVATIONS
from nn.layers import MLP
from nn.module import Module

FORMAT = "axongrad-model"
VERSION = 1


def to_dict(model: MLP) -> dict[str, Any]:
    """The model file's content as plain JSON-ready data."""
    if not isinstance(model, MLP):
        raise TypeError(f"model files hold an MLP, got {type(model).__name__}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "nin": model.nin,
            "sizes": model.sizes,
            "activations": model.activations,
            "bias": [layer.bias for layer in model.layers],
        },
        "weights": [
            [{"w": [w.data for w in n.w], "b": None if n.b is None else n.b.data} for n in layer.neurons]
            for layer in model.layers
        ],
    }


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write `model` to `path` atomically: temp file in the same directory, fsync, os.replace."""
    if not isinstance(model, MLP):
        raise TypeError(f"save supports MLP models, got {type(model).__name__}")
    data = to_dict(model)
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    try:  # keep the mode of the file being replaced; mkstemp's own files are owner-only
        mode = os.stat(target).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable where the OS allows syncing a directory (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reject_constant(name: str) -> float:
    """json's hook for NaN/Infinity/-Infinity: model files hold finite numbers only."""
    raise ValueError(f"model file: non-finite number {name} (weights must be finite)")


def load(path: str | os.PathLike[str]) -> MLP:
    """Read a model file written by `save` and rebuild the MLP; ValueError naming any bad field."""
    target = os.fspath(path)
    with open(target, "rb") as f:  # a missing file is the usual FileNotFoundError
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"model file {target!r} is not UTF-8 text: {error}") from None
    return from_dict(_parse(text, target))


def _parse(text: str, where: str) -> Any:
    """JSON text as data, or a ValueError saying it is not (valid, complete) JSON."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"model file {where!r} is not valid JSON (truncated or corrupted?): {error}"
        ) from None


def _field(data: dict[str, Any], key: str, where: str) -> Any:
    """data[key], or a ValueError naming the missing field."""
    if key not in data:
        raise ValueError(f"model file: missing key {where}{key!r}")
    return data[key]


def _number(value: object, where: str) -> float:
    """A finite JSON number (not a bool), or a ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"model file: {where} needs a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"model file: {where} needs a finite number, got {value!r}")
    return float(value)


def _list(value: object, where: str, length: int | None = None) -> list[Any]:
    """A JSON list (of `length` items when given), or a ValueError naming the field."""
    if not isinstance(value, list):
        raise ValueError(f"model file: {where} needs a list, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise ValueError(f"model file: {where} needs {length} entries, got {len(value)}")
    return value


def _size(value: object, where: str) -> int:
    """A positive JSON int, or a ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"model file: {where} needs a positive int, got {value!r}")
    return value


def from_dict(data: Any) -> MLP:
    """Rebuild an MLP from model-file data, checking every field (ValueError naming the bad one)."""
    if not isinstance(data, dict):
        raise ValueError(f"model file: the top level needs a JSON object, got {type(data).__name__}")
    fmt = _field(data, "format", "")
    if fmt != FORMAT:
        raise ValueError(f"model file: 'format' needs {FORMAT!r}, got {fmt!r}")
    version = _field(data, "version", "")
    if isinstance(version, bool) or version != VERSION:
        raise ValueError(
            f"model file: 'version' {version!r} is not supported (this axongrad reads version {VERSION})"
        )
    arch = _field(data, "architecture", "")
    if not isinstance(arch, dict):
        raise ValueError(f"model file: 'architecture' needs a JSON object, got {type(arch).__name__}")
    nin = _size(_field(arch, "nin", "architecture."), "architecture.nin")
    sizes = [
        _size(s, f"architecture.sizes[{i}]")
        for i, s in enumerate(_list(_field(arch, "sizes", "architecture."), "architecture.sizes"))
    ]
    if not sizes:
        raise ValueError("model file: architecture.sizes needs at least one layer, got []")
    acts = _list(_field(arch, "activations", "architecture."), "architecture.activations", len(sizes))
    for i, act in enumerate(acts):
        if act not in ACTIVATIONS:
            raise ValueError(
                f"model file: architecture.activations[{i}] {act!r} is unknown; "
                f"valid: {', '.join(ACTIVATIONS)}"
            )
    biases = _list(_field(arch, "bias", "architecture."), "architecture.bias", len(sizes))
    for i, flag in enumerate(biases):
        if not isinstance(flag, bool):
            raise ValueError(f"model file: architecture.bias[{i}] needs true or false, got {flag!r}")
    weights = _list(_field(data, "weights", ""), "weights", len(sizes))
    ins = [nin, *sizes]
    values: list[list[tuple[list[float], float | None]]] = []
    for k, layer in enumerate(weights):
        rows = []
        for j, neuron in enumerate(_list(layer, f"weights[{k}]", sizes[k])):
            where = f"weights[{k}][{j}]"
            if not isinstance(neuron, dict):
                raise ValueError(f"model file: {where} needs a JSON object, got {type(neuron).__name__}")
            w = [
                _number(v, f"{where}.w[{i}]")
                for i, v in enumerate(_list(_field(neuron, "w", f"{where}."), f"{where}.w", ins[k]))
            ]
            b_raw = _field(neuron, "b", f"{where}.")
            if biases[k]:
                b: float | None = _number(b_raw, f"{where}.b")
            elif b_raw is not None:
                raise ValueError(
                    f"model file: {where}.b needs null (architecture.bias[{k}] is false), got {b_raw!r}"
                )
            else:
                b = None
            rows.append((w, b))
        values.append(rows)
    # A fixed seed: rebuilding must not disturb the generator behind nn.seed; every weight is overwritten.
    model = MLP(nin, sizes, acts[:-1], acts[-1], biases, seed=0)
    for layer, rows in zip(model.layers, values):
        for neuron, (w, b) in zip(layer.neurons, rows):
            for p, v in zip(neuron.w, w):
                p.data = v
            if neuron.b is not None and b is not None:
                neuron.b.data = b
    return model
