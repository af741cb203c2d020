"""Files axongrad keeps: the one atomic writer (model files, pictures, pages) and the one bounded reader.

The write policy, the same for every file axongrad writes:

- the content goes to a new temporary file `.NAME.axongrad-HOST-PID-RANDOM.tmp` in the target's
  folder, which is flushed and fsynced, then renamed over the target (`os.replace`, atomic on POSIX
  and Windows): a reader sees the old file or the new one, never a part;
- on ANY failure or interrupt (an exception, KeyboardInterrupt, SIGTERM in the main thread while no
  handler of yours is installed) the temporary file is removed and the existing file is left as it
  was; after SIGTERM the process then terminates as SIGTERM would;
- temporaries of the same target left by a process of this machine that no longer exists
  (`kill -9`, power loss) are removed by the next write (POSIX). Only names of that exact form are
  candidates (HOST is a hash of this machine's name, PID a process id, RANDOM 12 hex digits), and
  only regular files of this user whose process is gone: a file of yours named like
  `.m.json.backup01.tmp` is never touched (temporaries named by earlier versions are left alone);
- a symbolic link is saved through: the file it points to is replaced (atomically, in its own
  folder) and the link stays a link. A dangling link creates its target when the target's folder
  exists; a link loop or a missing folder is an OSError naming both. A file with several hard links
  gets a new inode under this name only (the other names keep the old content, as with any atomic
  save: that is what backup tools that hard-link expect);
- a path that exists but is not a regular file (a folder, FIFO, socket or device) is refused,
  never replaced;
- a replaced file keeps its permission bits; a new file gets those of any new file (0666 minus
  the umask: mkstemp's private 0600 would surprise whoever shares the picture or the model);
- missing parent folders are created; a folder that cannot be written to is an OSError of the same
  kind (PermissionError, ...) whose message names the file and the folder.

Paths: every function of axongrad that takes a file path accepts str, bytes and os.PathLike (bytes
are decoded as the OS does, `os.fsdecode`) through `file_path`, and nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import signal
import socket
import stat
import threading
from collections.abc import Callable, Iterator

from autograd.checks import needs

FilePath = str | bytes | os.PathLike[str] | os.PathLike[bytes]
"""What every function of axongrad that takes a file path accepts (see `file_path`)."""


def file_path(path: object, where: str) -> str:
    """`path` (str, bytes or os.PathLike) as a str; TypeError/ValueError naming `where` otherwise.

    bytes are decoded as the OS decodes file names (`os.fsdecode`, undecodable bytes kept as
    surrogate escapes, so the same file is found); an empty path or one holding a NUL is a ValueError.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(needs(where, "a file path (str, bytes or os.PathLike)", path))
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError as error:  # an __fspath__ that returns neither str nor bytes
        raise TypeError(f"{where} needs a file path (str, bytes or os.PathLike): {error}") from None
    if not text:
        raise ValueError(f"{where} needs a file path, got an empty one")
    if "\x00" in text:
        raise ValueError(f"{where} needs a file path without NUL characters, got {text!r}")
    return text


def kind_of(mode: int) -> str:
    """What a file of this st_mode is, for messages: "a regular file", "a FIFO", "a folder", ..."""
    for test, name in (
        (stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(path: str, mode: int, doing: str) -> OSError:
    """The error for a path that is a folder, FIFO, socket or device: IsADirectoryError for a folder."""
    why = f"cannot {doing} {path!r}: it is {kind_of(mode)}, not a regular file"
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, why)
    return OSError(errno.EINVAL, why)


def read_at_most(
    path: FilePath, limit: int, where: str,
    too_big: Callable[[str], BaseException],
) -> bytes:
    """The bytes of the regular file `path`, or `too_big("N bytes")` raised past `limit` bytes.

    A file whose size is over the limit is refused before anything is read; one that grows while
    it is read is refused once limit + 1 bytes arrived (`too_big("more than N bytes")`).

    A folder, FIFO, socket or device is an OSError naming what it is, raised without blocking (a
    FIFO with no writer would wait forever in a plain `open`); a missing file is FileNotFoundError.
    The file is checked once opened (fstat), so swapping it for a FIFO after a check changes nothing.
    """
    target = file_path(path, where)
    mode = os.stat(target).st_mode  # refused before opening: opening a device can have effects
    if not stat.S_ISREG(mode):
        raise _not_regular(target, mode, "read")
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check opens at once
    fd = os.open(target, os.O_RDONLY | nonblocking | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(target, info.st_mode, "read")
        # The stat size in one read, then 1 MiB at a time: a growing file may hold more than its
        # size says (reading limit + 1 at once would allocate the whole limit first).
        if info.st_size > limit:
            raise too_big(f"{info.st_size} bytes")
        first = os.read(fd, info.st_size + 1)
        parts, total = [first], len(first)
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise too_big(f"more than {limit} bytes")
    return first if len(parts) == 1 else b"".join(parts)


def write_atomically(path: FilePath, content: bytes) -> None:
    """Write `content` to `path` so that the file is replaced whole or not at all (module docstring)."""
    if not isinstance(content, bytes):
        raise TypeError(needs("write_atomically(content)", "bytes", content))
    target = _real_target(os.path.abspath(file_path(path, "write_atomically(path)")))
    folder, name = os.path.split(target)
    _make_folder(folder, name)
    _remove_stale_temporaries(folder, name)
    with _sigterm_unwinds():
        _replace(target, folder, name, content)
    _fsync_folder(folder)


def _make_folder(folder: str, name: str) -> None:
    """Create `folder` and its missing parents; a file where a folder should be is a clear error."""
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # "a part of the path is a file": name the part
        part = folder
        while not os.path.lexists(part) and os.path.dirname(part) != part:
            part = os.path.dirname(part)
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot write {name!r}: {part!r} is a file, not a folder"
        ) from None


def _real_target(target: str) -> str:
    """The file a write to `target` replaces: `target` itself, or the file its symbolic link names.

    Renaming over a link would replace the link by a file and leave the file it pointed to as it
    was (the two silently split), so the write goes through the link to the final target.
    """
    if not os.path.islink(target):
        return target
    real = os.path.realpath(target)
    if os.path.islink(real):  # realpath stops inside a loop of links
        raise OSError(errno.ELOOP, f"cannot write {target!r}: it is a symbolic link in a loop of links")
    if not os.path.isdir(os.path.dirname(real)):
        raise FileNotFoundError(
            errno.ENOENT,
            f"cannot write {target!r}: it is a symbolic link to {real!r}, whose folder does not exist",
        )
    return real


def _replace(target: str, folder: str, name: str, content: bytes) -> None:
    """Write a temporary file, fsync it, rename it over `target`; remove it on any failure."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        mode = None  # a new file keeps the mode it was created with: 0666 minus the umask
    else:
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(target, info.st_mode, "replace")
        mode = stat.S_IMODE(info.st_mode)
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


def _stem(name: str) -> str:
    """`name` as it appears in its temporaries' names: itself, or when long, the characters of its
    first 100 bytes and a hash of the rest (a temporary adds 40 bytes; file names end at 255 bytes)."""
    if len(os.fsencode(name)) <= 200:
        return name
    head = name[:100]
    while len(os.fsencode(head)) > 100:  # 100 characters can be 400 bytes (emoji)
        head = head[:-1]
    return head + "~" + hashlib.blake2s(os.fsencode(name), digest_size=6).hexdigest()


def _host_tag() -> str:
    """8 hex digits naming this machine, so a shared folder's temporaries of another machine (whose
    process ids mean nothing here) are never taken for stale ones."""
    return hashlib.blake2s(socket.gethostname().encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def _create_temporary(folder: str, name: str) -> tuple[int, str]:
    """A new file `.NAME.axongrad-HOST-PID-RANDOM.tmp` in `folder`, open for writing, made 0666 so the
    umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        ours = f"axongrad-{_host_tag()}-{os.getpid()}-{secrets.token_hex(6)}"
        tmp = os.path.join(folder, f".{_stem(name)}.{ours}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as error:  # PermissionError, read-only file system, ...
            why = f"cannot write {name!r}: no file can be created in folder {folder!r} ({error.strerror})"
            if error.errno == errno.ENAMETOOLONG:
                why = f"cannot write {name!r}: the name is too long for this file system ({error.strerror})"
            raise type(error)(error.errno, why) from error
    raise FileExistsError(f"cannot write {name!r}: no free temporary file name in {folder!r}")


# The middle of one of our temporaries' names: `.NAME.` + this + `.tmp`.
_OURS = re.compile(r"axongrad-(?P<host>[0-9a-f]{8})-(?P<pid>[1-9][0-9]{0,9})-[0-9a-f]{12}")


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Remove `.NAME.axongrad-HOST-PID-RANDOM.tmp` files an earlier write of this target left (SIGKILL).

    Removed only when HOST is this machine, process PID no longer exists (one of this process's own
    is a write in another thread, and is left alone) and the file is a regular file of this user.
    POSIX only: elsewhere a process cannot be probed without side effects, so nothing is removed.
    """
    if os.name != "posix":
        return
    prefix, host, uid = f".{_stem(name)}.", _host_tag(), os.getuid()
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for entry in entries:
        match = _OURS.fullmatch(entry.name[len(prefix) : -len(".tmp")])
        if match is None or match["host"] != host:
            continue
        pid = int(match["pid"])
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        ours = stat.S_ISREG(info.st_mode) and info.st_uid == uid
        if ours and pid != os.getpid() and not _process_exists(pid):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


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
