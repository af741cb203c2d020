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

import contextlib
import json
import math
import numbers
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from typing import Any

from autograd import Value
from nn.activations import ACTIVATIONS
from nn.layers import MLP
from nn.module import Module

FORMAT = "axongrad-model"
VERSION = 1

MAX_PARAMETERS = 1_000_000
"""`load`'s default limit on a model's weights and biases (raise it with `load(..., max_parameters=)`)."""

MAX_BYTES_PER_PARAMETER = 64
"""A model file may hold this many bytes per allowed parameter (`save` writes about 30 per weight)."""

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
        raise TypeError(f"save: {where} needs a Value, got {type(p).__name__} {_short(p)}")
    x = p.data
    if type(x) is float and x - x == 0.0:  # the usual case, without the slower checks below
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"save: {where} needs a real number, got {type(x).__name__} {_short(x)}")
    try:
        number = float(x)
    except OverflowError:
        raise ValueError(f"save: {where} is too large for a float: {_short(x)}") from None
    if not math.isfinite(number):
        raise ValueError(f"save: {where} needs a finite number, got {_short(x)}")
    return number


def to_dict(model: MLP) -> dict[str, Any]:
    """The model file's content as plain JSON-ready data; every weight and layer checked first.

    A TypeError or ValueError names the weight (e.g. "weights[0][2].w[1] (layers.0.neurons.2.w.1)")
    or the layer whose neurons the file format cannot describe.
    """
    if not isinstance(model, MLP):
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
            if n.activation not in ACTIVATIONS:
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


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write `model` to `path` atomically (see the module docstring): check, temp file, fsync, rename."""
    if not isinstance(model, MLP):
        raise TypeError(f"save supports MLP models, got {type(model).__name__}")
    data = to_dict(model)  # every weight checked here: a model that cannot be saved touches no file
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    _remove_stale_temporaries(directory, base)
    with _sigterm_removes_temporaries():
        _write_and_replace(data, target, directory, base)
    _fsync_directory(directory)


def _write_and_replace(data: dict[str, Any], target: str, directory: str, base: str) -> None:
    """Write `data` to a new temporary file, fsync it, rename it over `target`; remove it on any failure."""
    try:  # keep the mode of the file being replaced
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file keeps the mode it was created with: 0666 minus the umask
    tmp = ""
    try:
        fd, tmp = _create_temporary(directory, base)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if tmp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


def _create_temporary(directory: str, base: str) -> tuple[int, str]:
    """A new file `.BASE.PID.RANDOM.tmp` opened for writing, created 0666 so the umask applies.

    (tempfile.mkstemp creates 0600 files, which a chmod would then have to guess the umask for.)
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"save: could not create a temporary file next to {base!r} in {directory!r}")


def _remove_stale_temporaries(directory: str, base: str) -> None:
    """Remove `.BASE.*.tmp` files that an earlier save of this target left (killed with SIGKILL).

    Ours are named `.BASE.PID.RANDOM.tmp`: removed when process PID no longer exists (one of this
    process's own is a save in another thread, and is left alone). The names of earlier versions,
    `.BASE.RANDOM8.tmp` from tempfile.mkstemp, are removed too. POSIX only: elsewhere a process
    cannot be probed without side effects, so nothing is removed.
    """
    if os.name != "posix":
        return
    prefix = f".{base}."
    try:
        names = [e.name for e in os.scandir(directory) if e.name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        if not name.endswith(".tmp"):
            continue
        middle = name[len(prefix) : -len(".tmp")]
        pid, _, token = middle.partition(".")
        if token:
            if not pid.isdigit() or len(token) != 12 or int(pid) == os.getpid() or _process_exists(int(pid)):
                continue
        elif not (len(middle) == 8 and all(c.isalnum() or c == "_" for c in middle)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))


def _process_exists(pid: int) -> bool:
    """True when a process with this id exists (signal 0 probes without sending anything; POSIX)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or an id we cannot probe: leave its file alone
    return True


class _Terminated(BaseException):
    """Raised in the main thread by SIGTERM during a save, so the temporary file is removed."""


def _raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM's handler during a save: ignore further SIGTERMs and unwind the save."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Terminated


@contextlib.contextmanager
def _sigterm_removes_temporaries() -> Iterator[None]:
    """While a save runs, SIGTERM unwinds it (removing its temporary file) and then terminates.

    Only in the main thread (the only one that may set handlers) and only when SIGTERM still has its
    default action: a handler of yours is left in charge.
    """
    if (
        not hasattr(signal, "SIGTERM")
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except _Terminated:
        # The temporary file is gone (the save's own cleanup ran); now terminate as SIGTERM would.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise SystemExit(128 + signal.SIGTERM) from None  # only if the signal has not ended us yet
    finally:
        if signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


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
