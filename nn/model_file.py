"""Writing model files: the format's constants, `to_dict` (every weight checked) and the atomic `save`.

The format and the guarantees are described in `nn.serialize`, which also reads the files back.
This module knows a model only through its attributes (nin, sizes, activations, layers), so
`nn.module` can import it without importing the layers (no import circle).
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


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write `model` (an MLP) to `path` atomically (see nn.serialize): check, temp file, fsync, rename."""
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
