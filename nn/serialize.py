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
one million) is refused before it is built; pass a larger `max_parameters` to read a larger model.
Before any JSON is built, load refuses a file larger than MAX_BYTES_PER_PARAMETER bytes per allowed
parameter, one with more JSON items (commas and brackets, counted over the bytes) than
MAX_ITEMS_PER_PARAMETER per allowed parameter, a repeated or unknown top-level key (before its
value is read), and "weights" holding more items than the file's own architecture needs (read
first). So a load adds about twice the file's size (its bytes and text) plus the model, a few
hundred bytes per parameter (the README's save/load section has the measured figures). A path
that is not a regular file (FIFO, device, folder) is refused without blocking.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from typing import Any

from autograd.checks import BEYOND_FLOAT_RANGE, integer, is_int, is_real, needs
from autograd.files import FilePath, file_path, read_at_most
from nn.activations import ACTIVATIONS, is_activation
from nn.layers import MLP
from nn.model_file import (
    _BIG_DIGITS,
    _ITEMS_SLACK,
    FORMAT,
    MAX_BYTES_PER_PARAMETER,
    MAX_ITEMS_PER_PARAMETER,
    MAX_PARAMETERS,
    VERSION,
    _LongInteger,
    _short,
    to_dict,
)
from nn.model_file import save as _save_any
from nn.module import Module

__all__ = [
    "FORMAT", "MAX_BYTES_PER_PARAMETER", "MAX_ITEMS_PER_PARAMETER", "MAX_PARAMETERS", "VERSION",
    "from_dict", "load", "save", "to_dict",
]


def save(model: Module, path: FilePath) -> None:
    """Write `model` to `path` atomically (see the module docstring): check, temp file, fsync, rename."""
    if not isinstance(model, MLP):
        raise TypeError(f"save supports MLP models, got {type(model).__name__}")
    _save_any(model, path)


def _reject_constant(name: str) -> float:
    """json's hook for NaN/Infinity/-Infinity: model files hold finite numbers only."""
    raise ValueError(f"model file: non-finite number {name} (weights must be finite)")


def load(path: FilePath, *, max_parameters: int = MAX_PARAMETERS) -> MLP:
    """Read a model file written by `save` and rebuild the MLP; ValueError naming any bad field.

    A model of more than `max_parameters` weights and biases, or a file of more than
    MAX_BYTES_PER_PARAMETER * max_parameters bytes or more than MAX_ITEMS_PER_PARAMETER *
    max_parameters JSON items, is a ValueError before it is built. A path that is not a regular
    file (a folder, FIFO, device) is an OSError, raised without waiting for a writer.
    """
    limit = integer(max_parameters, "load(max_parameters)", at_least=1)
    max_bytes = MAX_BYTES_PER_PARAMETER * limit
    target = file_path(path, "load(path)")

    def too_big(got: str) -> ValueError:
        return ValueError(_too_big(target, got, f"{max_bytes} bytes", limit))

    raw = read_at_most(target, max_bytes, "load(path)", too_big)
    mark = 3 if raw.startswith(b"\xef\xbb\xbf") else 0  # a UTF-8 byte order mark, as Windows editors write
    if mark:
        raw = raw[mark:]
    _check_ascii(raw, target, mark)
    # Every JSON value after a list's or object's first one follows a comma, and each list or
    # object opens with a bracket: counted in C over the bytes, they bound what json.loads would
    # build (a 59 MB file of "[]," is 20 million lists, 1.2 GB) before anything is built.
    items = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    max_items = MAX_ITEMS_PER_PARAMETER * limit + _ITEMS_SLACK
    if items > max_items:
        raise ValueError(
            f"model file {target!r} has {items} JSON items (commas and brackets), more than a model of "
            f"max_parameters={limit} needs ({max_items}); if you trust the file, pass a larger max_parameters"
        )
    text = raw.decode("ascii")
    del raw
    return from_dict(_parse(text, target, limit), max_parameters=limit)


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _check_ascii(raw: bytes, target: str, offset: int = 0) -> None:
    """ValueError unless `raw` is ASCII: save writes \\u escapes, and no field of a model file needs
    other characters (one non-ASCII character would make the decoded text take 4 bytes a character)."""
    if raw.isascii():
        return
    match = _NON_ASCII.search(raw)
    at = match.start() if match else 0
    shown = at + offset  # the position in the file, before a byte order mark was dropped
    for end in range(at + 1, at + 5):  # a UTF-8 character is 1 to 4 bytes
        with contextlib.suppress(UnicodeDecodeError):
            char = raw[at:end].decode("utf-8")
            break
    else:
        raise ValueError(f"model file {target!r} is not UTF-8 text: byte {raw[at]:#04x} at offset {shown}")
    raise ValueError(
        f"model file {target!r} holds the non-ASCII character {char!r} at byte {shown}; "
        "model files are ASCII JSON (save writes \\u escapes, and no field needs other characters)"
    )


def _too_big(target: str, got: str, allowed: str, limit: int) -> str:
    """The message for a model file over the size limits."""
    return (
        f"model file {target!r} has {got}; load reads at most {allowed} "
        f"(max_parameters={limit}); if you trust the file, pass a larger max_parameters"
    )


def _parse_int(digits: str) -> int | _LongInteger:
    """json's hook for integers: a long one stays text, so the field reading it can say which it is."""
    return _LongInteger(digits) if len(digits) > _BIG_DIGITS else int(digits)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's hook for every object: a key given twice is an error (json would keep the last silently)."""
    data = dict(pairs)
    if len(data) < len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        keys = ", ".join(repr(key) for key in list(data)[:6])
        raise ValueError(f"model file: the key {twice!r} appears twice in one object (with keys {keys})")
    return data


_MEMBERS = ("format", "version", "architecture", "weights")

SMALL_MEMBER_CHARS = 1 << 20
"""The most characters "format", "version" or "architecture" may take (about 20,000 layers)."""

_SPACE = re.compile(r"[ \t\n\r]*")


def _parse(text: str, where: str, limit: int) -> Any:
    """The top-level object of a model file, read member by member so nothing big is built blindly.

    An unknown or repeated key is refused before its value is read; "format", "version" and
    "architecture" are read from at most SMALL_MEMBER_CHARS characters; "weights" is read only
    after the architecture, once the file's remaining commas and brackets are no more than that
    architecture's weights need. ValueError for anything that is not such (valid, complete,
    reasonably nested, duplicate-free) JSON.
    """
    decoder = json.JSONDecoder(
        parse_constant=_reject_constant, parse_int=_parse_int, object_pairs_hook=_no_duplicates
    )
    try:
        return _members(text, decoder, limit)
    except json.JSONDecodeError as error:
        why = f"is not valid JSON (truncated or corrupted?): {error}"
    except RecursionError:
        why = "nests JSON too deeply (a model file nests 5 levels)"
    raise ValueError(f"model file {where!r} {why}")


def _members(text: str, decoder: json.JSONDecoder, limit: int) -> Any:
    """The top-level object's members (see `_parse`); json.JSONDecodeError where the text is not JSON."""
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]  # matches the empty string
    if text[at : at + 1] != "{":
        if len(text) <= SMALL_MEMBER_CHARS:  # small: parsed whole, for from_dict's usual message
            return decoder.decode(text)
        raise ValueError(f"model file: the top level needs a JSON object {{...}}, got {text[at : at + 20]!r}")
    data: dict[str, Any] = {}
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    if text[at : at + 1] == "}":
        return data
    while True:
        if text[at : at + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
        key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at : at + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, at)
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        if key in data:
            raise ValueError(f"model file: the key {key!r} appears twice at the top level")
        if key not in _MEMBERS:
            raise ValueError(
                f"model file: unknown key {_short(key)} at the top level (a model file holds "
                f"{', '.join(repr(m) for m in _MEMBERS)}; nothing else is read)"
            )
        if key == "weights":
            _check_weights_size(text, at, data, limit)
            data[key], at = decoder.raw_decode(text, at)
        else:
            piece = text[at : at + SMALL_MEMBER_CHARS]
            try:
                data[key], used = decoder.raw_decode(piece)
            except json.JSONDecodeError as error:
                if len(piece) == SMALL_MEMBER_CHARS and error.pos >= len(piece) - 1:
                    raise ValueError(
                        f"model file: {key!r} is longer than {SMALL_MEMBER_CHARS} characters "
                        "(a model file's is a few hundred)"
                    ) from None
                raise json.JSONDecodeError(error.msg, text, at + error.pos) from None
            at += used
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at : at + 1] == "}":
            break
        if text[at : at + 1] != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, at)
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    if _SPACE.match(text, at + 1).end() != len(text):  # type: ignore[union-attr]
        raise json.JSONDecodeError("Extra data", text, at + 1)
    return data


def _check_weights_size(text: str, at: int, data: dict[str, Any], limit: int) -> None:
    """ValueError unless the architecture came first and the text from `at` on holds no more JSON
    items (commas and brackets, counted in C) than that architecture's "weights" needs."""
    if "architecture" not in data:
        raise ValueError(
            "model file: 'weights' comes before 'architecture'; load reads the architecture first, "
            "to know how large the weights may be (save writes it first): move 'architecture' up"
        )
    nin, sizes, _, biases = _architecture(_object(data["architecture"], "'architecture'"))
    ins = [nin, *sizes]
    _check_count(sum((ins[k] + biases[k]) * sizes[k] for k in range(len(sizes))), limit)
    # "[" + per layer "[", per neuron "{", "[", nin - 1 commas in w, one before "b"; commas between.
    needed = 1 + len(sizes) - 1 + sum(1 + n * (2 + ins[k]) + n - 1 for k, n in enumerate(sizes))
    items = text.count(",", at) + text.count("[", at) + text.count("{", at)
    if items > needed + _ITEMS_SLACK:
        raise ValueError(
            f"model file: 'weights' and what follows hold {items} JSON items (commas and brackets), "
            f"but the architecture's weights need {needed}"
        )


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
    _check_count(sum((ins[k] + biases[k]) * sizes[k] for k in range(len(sizes))), limit)
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


def _check_count(count: int, limit: int) -> None:
    """ValueError when an architecture declares more than `limit` weights and biases."""
    if count > limit:
        raise ValueError(
            f"model file: the architecture declares {count} weights and biases, more than "
            f"max_parameters={limit} (a few hundred bytes of memory each); if you trust the file, "
            "pass a larger max_parameters to load"
        )


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
