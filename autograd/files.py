"""Writing a file atomically: the one writer behind model files, pictures and pages (nn and viz use it).

The policy, the same for every file axongrad writes:

- the content goes to a new temporary file `.NAME.PID.RANDOM.tmp` in the target's folder, which is
  flushed and fsynced, then renamed over the target (`os.replace`, atomic on POSIX and Windows): a
  reader sees the old file or the new one, never a part;
- on ANY failure or interrupt (an exception, KeyboardInterrupt, SIGTERM in the main thread while no
  handler of yours is installed) the temporary file is removed and the existing file is left as it
  was; after SIGTERM the process then terminates as SIGTERM would;
- temporaries of the same target left by a process that no longer exists (`kill -9`, power loss)
  are removed by the next write (POSIX);
- a replaced file keeps its permission bits; a new file gets those of any new file (0666 minus
  the umask: mkstemp's private 0600 would surprise whoever shares the picture or the model);
- missing parent folders are created; a folder that cannot be written to is an OSError of the same
  kind (PermissionError, ...) whose message names the file and the folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator

from autograd.checks import needs


def write_atomically(path: str | os.PathLike[str], content: bytes) -> None:
    """Write `content` to `path` so that the file is replaced whole or not at all (module docstring)."""
    if not isinstance(content, bytes):
        raise TypeError(needs("write_atomically(content)", "bytes", content))
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temporaries(folder, name)
    with _sigterm_unwinds():
        _replace(target, folder, name, content)
    _fsync_folder(folder)


def _replace(target: str, folder: str, name: str, content: bytes) -> None:
    """Write a temporary file, fsync it, rename it over `target`; remove it on any failure."""
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file keeps the mode it was created with: 0666 minus the umask
    tmp = ""
    try:
        fd, tmp = _create_temporary(folder, name)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
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


def _create_temporary(folder: str, name: str) -> tuple[int, str]:
    """A new file `.NAME.PID.RANDOM.tmp` in `folder`, open for writing, made 0666 so the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as error:  # PermissionError, read-only file system, ...
            why = f"cannot write {name!r}: no file can be created in folder {folder!r} ({error.strerror})"
            raise type(error)(error.errno, why) from error
    raise FileExistsError(f"cannot write {name!r}: no free temporary file name in {folder!r}")


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Remove `.NAME.*.tmp` files that an earlier write of this target left (killed with SIGKILL).

    Ours are named `.NAME.PID.RANDOM.tmp`: removed when process PID no longer exists (one of this
    process's own is a write in another thread, and is left alone). The names of earlier versions,
    `.NAME.RANDOM8.tmp` from tempfile.mkstemp, are removed too. POSIX only: elsewhere a process
    cannot be probed without side effects, so nothing is removed.
    """
    if os.name != "posix":
        return
    prefix = f".{name}."
    try:
        names = [e.name for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for stale in names:
        if _is_stale(stale[len(prefix) : -len(".tmp")]):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, stale))


def _is_stale(middle: str) -> bool:
    """Whether a temporary named `.NAME.<middle>.tmp` was left by a write that can no longer finish."""
    pid, _, token = middle.partition(".")
    if token:
        ours = pid.isdigit() and len(token) == 12
        return ours and int(pid) != os.getpid() and not _process_exists(int(pid))
    return len(middle) == 8 and all(c.isalnum() or c == "_" for c in middle)


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
    """Raised in the main thread by SIGTERM during a write, so the temporary file is removed."""


def _raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM's handler during a write: ignore further SIGTERMs and unwind the write."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Terminated


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While a write runs, SIGTERM unwinds it (removing its temporary file) and then terminates.

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
        # The temporary file is gone (the write's own cleanup ran); now terminate as SIGTERM would.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise SystemExit(128 + signal.SIGTERM) from None  # only if the signal has not ended us yet
    finally:
        if signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable where the OS allows syncing a folder (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
