"""Model files: JSON with a format name, a version, the architecture and the weights (never pickle).

    {"format": "axongrad-model", "version": 1,
     "architecture": {"nin": 2, "sizes": [4, 1], "activations": ["sigmoid", "sigmoid"],
                      "bias": [true, true]},
     "weights": [[{"w": [0.1, -0.3], "b": 0.0}, ...],   # layer 0: one entry per neuron
                 [{"w": [...], "b": 0.2}]]}              # "b" is null for a layer without bias

Saving never loses a file:
- `save` checks every weight (a finite real number, not a bool or str) and the architecture
  (one activation and one bias setting per layer, as the file holds) BEFORE it touches the disk;
- it then writes with `autograd.files.write_atomically`, the writer of every file axongrad makes:
  a temporary file in the same folder, fsynced and renamed over the target, so a failing or
  interrupted save (KeyboardInterrupt, SIGTERM) leaves the previous file as it was and no
  temporary behind; a replaced file keeps its mode, a new one gets 0666 minus the umask.

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

from autograd.checks import BEYOND_FLOAT_RANGE, integer, is_int, is_real, needs
from nn.activations import ACTIVATIONS, is_activation
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


def load(path: str | os.PathLike[str], *, max_parameters: int = MAX_PARAMETERS) -> MLP:
    """Read a model file written by `save` and rebuild the MLP; ValueError naming any bad field.

    A model of more than `max_parameters` weights and biases, or a file of more than
    MAX_BYTES_PER_PARAMETER * max_parameters bytes, is a ValueError before it is built.
    """
    limit = integer(max_parameters, "load(max_parameters)", at_least=1)
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


def _bad(where: str, what: str, value: object) -> ValueError:
    """The error for a field of a model file: checks' one wording, a ValueError whatever the type is wrong."""
    if isinstance(value, _LongInteger):  # digits kept as text: say how long, not what type
        return ValueError(f"model file: {where} needs {what}, got {_short(value)}")
    return ValueError(needs(f"model file: {where}", what, value))


def _field(data: dict[str, Any], key: str, where: str) -> Any:
    """data[key], or a ValueError naming the missing field."""
    if key not in data:
        raise ValueError(f"model file: missing key {where}{key!r}")
    return data[key]


def _number(value: object, where: str) -> float:
    """A finite JSON number (not a bool), or a ValueError naming the field."""
    if type(value) is float and value - value == 0.0:  # most fields are weights: no more checking
        return value
    # A long integer's digits: float() gives inf past float range (it does not raise).
    number = float(value) if isinstance(value, _LongInteger) or is_real(value) else math.nan
    if not math.isfinite(number):
        error = _bad(where, "a finite number", value)
        raise ValueError(f"{error}{BEYOND_FLOAT_RANGE}") if isinstance(value, _LongInteger) else error
    return number


def _list(value: object, where: str, length: int | None = None) -> list[Any]:
    """A JSON list (of `length` items when given), or a ValueError naming the field."""
    what = "a list" if length is None else f"a list of {length} entries"
    if not isinstance(value, list):
        raise _bad(where, what, value)
    if length is not None and len(value) != length:
        raise ValueError(f"model file: {where} needs {what}, got list of {len(value)}")
    return value


def _size(value: object, where: str) -> int:
    """A JSON int >= 1, or a ValueError naming the field."""
    if not is_int(value) or value < 1:
        raise _bad(where, "an int >= 1", value)
    return int(value)


def _object(value: object, where: str) -> dict[str, Any]:
    """A JSON object, or a ValueError naming the field."""
    if not isinstance(value, dict):
        raise _bad(where, "a JSON object", value)
    return value


def from_dict(data: Any, *, max_parameters: int = MAX_PARAMETERS) -> MLP:
    """Rebuild an MLP from model-file data, checking every field (ValueError naming the bad one).

    A model of more than `max_parameters` weights and biases is a ValueError before anything is built.
    """
    limit = integer(max_parameters, "from_dict(max_parameters)", at_least=1)
    data = _object(data, "the top level")
    fmt = _field(data, "format", "")
    if fmt != FORMAT:
        raise _bad("'format'", repr(FORMAT), fmt)
    version = _field(data, "version", "")
    if not is_int(version) or version != VERSION:
        raise _bad("'version'", f"{VERSION} (the version this axongrad reads)", version)
    nin, sizes, acts, biases = _architecture(_object(_field(data, "architecture", ""), "'architecture'"))
    ins = [nin, *sizes]
    count = sum((ins[k] + biases[k]) * sizes[k] for k in range(len(sizes)))
    if count > limit:
        raise ValueError(
            f"model file: the architecture declares {count} weights and biases, more than "
            f"max_parameters={limit} (about 250 bytes of memory each); if you trust the file, "
            "pass a larger max_parameters to load"
        )
    weights = _list(_field(data, "weights", ""), "weights", len(sizes))
    values = [_layer(layer, k, ins[k], sizes[k], biases[k]) for k, layer in enumerate(weights)]
    # A fixed seed: rebuilding must not disturb the generator behind nn.seed; every weight is overwritten.
    model = MLP(nin, sizes, acts[:-1], acts[-1], biases, seed=0)
    for layer, rows in zip(model.layers, values):
        for neuron, (w, b) in zip(layer.neurons, rows):
            for p, v in zip(neuron.w, w):
                p.data = v
            if neuron.b is not None and b is not None:
                neuron.b.data = b
    return model


def _architecture(arch: dict[str, Any]) -> tuple[int, list[int], list[str], list[bool]]:
    """The "architecture" object's nin, layer sizes, activation names and bias flags, each checked."""
    nin = _size(_field(arch, "nin", "architecture."), "architecture.nin")
    sizes = [
        _size(s, f"architecture.sizes[{i}]")
        for i, s in enumerate(_list(_field(arch, "sizes", "architecture."), "architecture.sizes"))
    ]
    if not sizes:
        raise ValueError("model file: architecture.sizes needs at least one layer, got []")
    acts = _list(_field(arch, "activations", "architecture."), "architecture.activations", len(sizes))
    for i, act in enumerate(acts):
        if not is_activation(act):
            error = _bad(f"architecture.activations[{i}]", f"one of {', '.join(ACTIVATIONS)}", act)
            if isinstance(act, str) and act.isidentifier() and len(act) <= 64:  # perhaps a learner's op
                raise ValueError(
                    f"{error}; if it is your own @autograd.op, define it and register it before "
                    f"loading: nn.activations.register({act})"
                )
            raise error
    biases = _list(_field(arch, "bias", "architecture."), "architecture.bias", len(sizes))
    for i, flag in enumerate(biases):
        if not isinstance(flag, bool):
            raise _bad(f"architecture.bias[{i}]", "true or false", flag)
    return nin, sizes, acts, biases


def _layer(layer: object, k: int, nin: int, nout: int, bias: bool) -> list[tuple[list[float], float | None]]:
    """Layer k's (w, b) per neuron from the "weights" list, each number checked."""
    rows = []
    for j, neuron in enumerate(_list(layer, f"weights[{k}]", nout)):
        where = f"weights[{k}][{j}]"
        neuron = _object(neuron, where)
        w_list = _list(_field(neuron, "w", f"{where}."), f"{where}.w", nin)
        w = [_number(v, f"{where}.w[{i}]") for i, v in enumerate(w_list)]
        b_raw = _field(neuron, "b", f"{where}.")
        if bias:
            b: float | None = _number(b_raw, f"{where}.b")
        elif b_raw is not None:
            raise _bad(f"{where}.b", f"null (architecture.bias[{k}] is false)", b_raw)
        else:
            b = None
        rows.append((w, b))
    return rows
