"""dot runs in a process group of its own: a time limit or an interrupt ends dot AND its children.

A `dot` on PATH may be a wrapper script whose children do the work; killing only the wrapper
left them running. These tests put such a wrapper on PATH (no Graphviz needed) and check, by the
pid the child wrote, that nothing is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from viz.dot import run_dot

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and sh wrappers are POSIX")

HANGS = """#!/bin/sh
sleep 300 &
echo $! > "$AXONGRAD_TEST_PIDFILE"
wait
"""

# A wrapper that is slow to start its child, as any is on a machine under heavy load.
STARTS_LATE = HANGS.replace("#!/bin/sh\n", "#!/bin/sh\nsleep 1\n")

LEAVES_A_CHILD = """#!/bin/sh
sleep 300 < /dev/null > /dev/null 2>&1 &
echo $! > "$AXONGRAD_TEST_PIDFILE"
cat > /dev/null
echo '<svg xmlns="http://www.w3.org/2000/svg"/>'
"""


def fake_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """Put an executable `dot` running `script` first on PATH; return the file its child's pid goes to."""
    folder = tmp_path / "bin"
    folder.mkdir()
    dot = folder / "dot"
    dot.write_text(script)
    dot.chmod(0o755)
    pidfile = tmp_path / "child.pid"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("AXONGRAD_TEST_PIDFILE", str(pidfile))
    return pidfile


def running(pid: int) -> bool:
    """True while `pid` is a live process (a killed child waiting to be reaped, a zombie, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


# Waits poll for their condition; this limit only bounds a hang (a loaded machine is slow, not stuck).
HANG_S = 30.0


def poll(condition: Callable[[], bool]) -> bool:
    """True as soon as `condition()` holds, polled until HANG_S seconds have passed; else False."""
    deadline = time.monotonic() + HANG_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def ended(pid: int) -> bool:
    """True once `pid` is no longer running (SIGKILL is delivered at once; allow the kernel a moment)."""
    return poll(lambda: not running(pid))


def child_pid(pidfile: Path) -> int:
    """The pid the wrapper's child wrote (waiting until the wrapper wrote it)."""
    if not poll(lambda: pidfile.exists() and pidfile.read_text().strip() != ""):
        raise AssertionError(f"the fake dot never wrote its child's pid in {HANG_S:g} s")
    return int(pidfile.read_text())


def limit_starts_once_child_runs(monkeypatch: pytest.MonkeyPatch, pidfile: Path) -> None:
    """Make run_dot's time limit start only once the fake dot's child is running.

    A loaded machine may take longer than the limit to start the wrapper's child; killed before
    that, there is no child to check. So the wait for dot's output (`communicate`, where the
    limit runs) first waits for the child's pid file.
    """

    class ChildFirst(subprocess.Popen):  # type: ignore[type-arg]
        def communicate(self, *args: Any, **kwargs: Any) -> Any:
            child_pid(pidfile)
            return super().communicate(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", ChildFirst)


@pytest.mark.parametrize("script", [HANGS, STARTS_LATE], ids=["hangs", "starts-late"])
def test_the_time_limit_ends_the_wrappers_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    pidfile = fake_dot(tmp_path, monkeypatch, script)
    limit_starts_once_child_runs(monkeypatch, pidfile)
    with pytest.raises(ValueError, match=r"dot did not finish laying out this diagram in 0.5 s"):
        run_dot("digraph { a -> b }", "svg", 0.5)
    pid = child_pid(pidfile)
    assert ended(pid), f"dot's child {pid} is still running after the time limit"


def test_an_interrupt_ends_the_wrappers_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = fake_dot(tmp_path, monkeypatch, HANGS)

    def interrupt_once_started() -> None:
        child_pid(pidfile)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: KeyboardInterrupt in the main thread

    thread = threading.Thread(target=interrupt_once_started)
    thread.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_dot("digraph { a -> b }", "svg", 60)
    finally:
        thread.join()
    assert ended(child_pid(pidfile))


def test_an_interrupt_while_dot_is_starting_ends_the_wrappers_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C can land while fork and exec run (a loaded machine makes that window wide): Python
    # raises it as they return, before Popen stores dot's pid. The group must be ended all the same.
    pidfile = fake_dot(tmp_path, monkeypatch, HANGS)
    fork_exec = subprocess._fork_exec  # type: ignore[attr-defined]

    def interrupted(*args: Any, **kwargs: Any) -> int:
        pid: int = fork_exec(*args, **kwargs)
        child_pid(pidfile)  # the wrapper and its child are running
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, before Popen has stored `pid`
        return pid

    monkeypatch.setattr(subprocess, "_fork_exec", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_dot("digraph { a -> b }", "svg", 60)
    assert ended(child_pid(pidfile))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_children_left_by_a_wrapper_that_finished_are_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pidfile = fake_dot(tmp_path, monkeypatch, LEAVES_A_CHILD)
    assert run_dot("digraph { a -> b }", "svg", 30) == b'<svg xmlns="http://www.w3.org/2000/svg"/>\n'
    assert ended(child_pid(pidfile))


def test_the_check_sees_a_live_child() -> None:
    """The checker can fail: a child started outside run_dot is seen running until killed."""
    child = subprocess.Popen(["sleep", "300"])
    try:
        assert running(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not running(child.pid)
