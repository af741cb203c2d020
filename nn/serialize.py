"""Model files: JSON with a format name, a version, the architecture and the weights (never pickle).

    {"format": "axongrad-model", "version": 1,
     "architecture": {"nin": 2, "sizes": [4, 1], "activations": ["sigmoid", "sigmoid"],
                      "bias": [true, true]},
     "weights": [[{"w": [0.1, -0.3], "b": 0.0}, ...],   # layer 0: one entry per neuron
                 [{"w": [...], "b": 0.2}]]}              # "b" is null for a layer without bias

Saving never loses a file:
- `save` checks every weight (a finite real number, not a bool or str) and the architecture
  (one activation and one bias setting per layer, as the file holds) BEFORE it touches the disk;
- it writes a temporary `.NAME.PID.RANDOM.tmp` in the same directory, fsyncs it and renames it
  over the target (`os.replace`, atomic), so a failing or interrupted save leaves the previous
  file as it was and removes its temporary file; SIGTERM (in the main thread, when no handler of
  yours is installed) also removes it, then terminates as SIGTERM would;
- temporaries of the same target left by a process that no longer exists (`kill -9`, power loss)
  are removed by the next save;
- a new file gets the permissions any new file gets (0666 minus the umask); a replaced file keeps
  its mode.

`load` checks every field and raises ValueError naming the first bad one (e.g. "weights[1][0].w[2]").
It is bounded: a model of more than `max_parameters` weights and biases (default MAX_PARAMETERS,
one million) or a file larger than MAX_BYTES_PER_PARAMETER bytes per allowed parameter is refused
before it is built; pass a larger `max_parameters` to read a larger model. Each parameter costs about
250 bytes in memory (a Value), so the default bounds a load to about 250 MB.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from nn.activations import ACTIVATIONS
from nn.layers import MLP
from nn.model_file import (
    _BIG_DIGITS,
    FORMAT,
    MAX_BYTES_PER_PARAMETER,
    MAX_PARAMETERS,
    VERSION,
    _LongInteger,
    _short,
    to_dict,
)
from nn.model_file import save as _save_any
from nn.module import Module

__all__ = [
    "FORMAT", "MAX_BYTES_PER_PARAMETER", "MAX_PARAMETERS", "VERSION", "from_dict", "load", "save", "to_dict",
]


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write `model` to `path` atomically (see the module docstring): check, temp file, fsync, rename."""
    if not isinstance(model, MLP):
        raise TypeError(f"save supports MLP models, got {type(model).__name__}")
    _save_any(model, path)


def _reject_constant(name: str) -> float:
    """json's hook for NaN/Infinity/-Infinity: model files hold finite numbers only."""
    raise ValueError(f"model file: non-finite number {name} (weights must be finite)")


def _positive_int(value: object, where: str) -> int:
    """`value` as an int >= 1, or a TypeError/ValueError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where} needs an int, got {type(value).__name__} {_short(value)}")
    if value < 1:
        raise ValueError(f"{where} needs an int >= 1, got {value!r}")
    return value


def load(path: str | os.PathLike[str], *, max_parameters: int = MAX_PARAMETERS) -> MLP:
    """Read a model file written by `save` and rebuild the MLP; ValueError naming any bad field.

    A model of more than `max_parameters` weights and biases, or a file of more than
    MAX_BYTES_PER_PARAMETER * max_parameters bytes, is a ValueError before it is built.
    """
    limit = _positive_int(max_parameters, "load(max_parameters)")
    max_bytes = MAX_BYTES_PER_PARAMETER * limit
    target = os.fspath(path)
    with open(target, "rb") as f:  # a missing file is the usual FileNotFoundError
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ValueError(_too_big(target, f"{size} bytes", f"{max_bytes} bytes", limit))
        raw = _read_at_most(f, max_bytes, size)
    if len(raw) > max_bytes:
        raise ValueError(_too_big(target, f"more than {max_bytes} bytes", f"{max_bytes} bytes", limit))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"model file {target!r} is not UTF-8 text: {error}") from None
    del raw
    return from_dict(_parse(text, target), max_parameters=limit)


def _read_at_most(f: Any, limit: int, size: int) -> bytes:
    """At most limit + 1 bytes of `f`, read without allocating limit + 1 bytes up front.

    The stat size in one read, then 1 MiB at a time: a device or a growing file may hold more than
    its size says (f.read(limit + 1) would allocate the whole limit first).
    """
    first: bytes = f.read(min(size, limit) + 1)
    parts, total = [first], len(first)
    while total <= limit:
        chunk: bytes = f.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return first if len(parts) == 1 else b"".join(parts)


def _too_big(target: str, got: str, allowed: str, limit: int) -> str:
    """The message for a model file over the size limits."""
    return (
        f"model file {target!r} has {got}; load reads at most {allowed} "
        f"(max_parameters={limit}); if you trust the file, pass a larger max_parameters"
    )


def _parse_int(digits: str) -> int | _LongInteger:
    """json's hook for integers: a long one stays text, so the field reading it can say which it is."""
    return _LongInteger(digits) if len(digits) > _BIG_DIGITS else int(digits)


def _parse(text: str, where: str) -> Any:
    """JSON text as data, or a ValueError saying it is not (valid, complete, reasonably nested) JSON."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"model file {where!r} is not valid JSON (truncated or corrupted?): {error}"
        ) from None
    except RecursionError:
        raise ValueError(
            f"model file {where!r} nests JSON too deeply (a model file nests 5 levels)"
        ) from None


def _field(data: dict[str, Any], key: str, where: str) -> Any:
    """data[key], or a ValueError naming the missing field."""
    if key not in data:
        raise ValueError(f"model file: missing key {where}{key!r}")
    return data[key]


def _number(value: object, where: str) -> float:
    """A finite JSON number (not a bool), or a ValueError naming the field."""
    if type(value) is float and value - value == 0.0:  # the usual case first: most fields are weights
        return value
    if isinstance(value, _LongInteger):
        number = float(value)  # float() of digits gives inf past the range, it does not raise
        if math.isfinite(number):
            return number
        raise ValueError(f"model file: {where} is {_short(value)}, too large for a float")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"model file: {where} needs a number, got {type(value).__name__} {_short(value)}")
    number = float(value)  # ints here are at most _BIG_DIGITS digits: no OverflowError
    if not math.isfinite(number):
        raise ValueError(f"model file: {where} needs a finite number, got {_short(value)}")
    return number


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
        raise ValueError(f"model file: {where} needs a positive int, got {_short(value)}")
    return value


def from_dict(data: Any, *, max_parameters: int = MAX_PARAMETERS) -> MLP:
    """Rebuild an MLP from model-file data, checking every field (ValueError naming the bad one).

    A model of more than `max_parameters` weights and biases is a ValueError before anything is built.
    """
    limit = _positive_int(max_parameters, "from_dict(max_parameters)")
    if not isinstance(data, dict):
        raise ValueError(f"model file: the top level needs a JSON object, got {type(data).__name__}")
    fmt = _field(data, "format", "")
    if fmt != FORMAT:
        raise ValueError(f"model file: 'format' needs {FORMAT!r}, got {_short(fmt)}")
    version = _field(data, "version", "")
    if isinstance(version, bool) or version != VERSION:
        raise ValueError(
            f"model file: 'version' {_short(version)} is not supported "
            f"(this axongrad reads version {VERSION})"
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
                f"model file: architecture.activations[{i}] {_short(act)} is unknown; "
                f"valid: {', '.join(ACTIVATIONS)}"
            )
    biases = _list(_field(arch, "bias", "architecture."), "architecture.bias", len(sizes))
    for i, flag in enumerate(biases):
        if not isinstance(flag, bool):
            raise ValueError(f"model file: architecture.bias[{i}] needs true or false, got {_short(flag)}")
    ins = [nin, *sizes]
    count = sum((ins[k] + biases[k]) * sizes[k] for k in range(len(sizes)))
    if count > limit:
        raise ValueError(
            f"model file: the architecture declares {count} weights and biases, more than "
            f"max_parameters={limit} (about 250 bytes of memory each); if you trust the file, "
            "pass a larger max_parameters to load"
        )
    weights = _list(_field(data, "weights", ""), "weights", len(sizes))
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
                    f"model file: {where}.b needs null (architecture.bias[{k}] is false), got {_short(b_raw)}"
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
