"""Backward from several threads at once, and the cycle collector's pause around a pass (issues 21, 23)."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest

from autograd import Value, graph, stale, topological_order
from autograd.context import collector_paused


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    """Threads switch every microsecond, so two passes really interleave (how the bug showed)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def _chain(x: Value, n: int) -> Value:
    h = x
    for _ in range(n):
        h = (h * 0.999 + 0.001).tanh()
    return h


def _in_threads(jobs: list[Callable[[], object]]) -> None:
    """Run every job in its own thread, all released at once; re-raise the first error."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_two_threads_backward_through_shared_interior_nodes_add_up() -> None:
    """Before the lock, 58 of 100 such trials gave a wrong x.grad."""
    reference = Value(0.3)
    (_chain(reference, 300) * 5.0).backward()
    wrong = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stale.StaleGradWarning)  # the second pass adds on purpose
        for _ in range(40):
            x = Value(0.3)
            h = _chain(x, 300)  # interior nodes both passes go through
            roots = [h * 2.0, h * 3.0]
            _in_threads([root.backward for root in roots])
            wrong += abs(x.grad - reference.grad) > 1e-12 * abs(reference.grad)
    assert wrong == 0


def _diamonds(x: Value, n: int) -> Value:
    """n diamonds in a row: each node reaches the next by two paths."""
    h = x
    for _ in range(n):
        h = (h * h * 0.5 + h * 0.5).tanh()
    return h


def test_a_walk_beside_a_backward_sees_each_node_once() -> None:
    """Without the lock, a pass's marks confused the walk: nodes came twice."""
    x = Value(0.3)
    h = _diamonds(x, 200)
    expected = len(topological_order(h))
    sizes: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stale.StaleGradWarning)  # the leaves add up, on purpose
        for _ in range(20):
            _in_threads([h.backward, lambda: sizes.append(len(topological_order(h)))])
    assert sizes == [expected] * 20


def test_the_collector_is_paused_during_backward_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = graph.accumulate

    def accumulate(nodes: object) -> None:
        seen.append(gc.isenabled())
        real(nodes)  # type: ignore[arg-type]

    monkeypatch.setattr(graph, "accumulate", accumulate)
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            x = Value(2.0)
            (x * x).backward()
            assert x.grad == 4.0
            assert gc.isenabled() is state
        assert seen == [False, False]
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_the_collector_comes_back_after_an_error_in_backward(
    monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
) -> None:
    def broken(*args: object) -> None:
        raise error("stopped inside backward")

    monkeypatch.setattr(stale, "check", broken)
    assert gc.isenabled()
    x = Value(2.0)
    with pytest.raises(error, match="stopped inside backward"):
        (x * x).backward()
    assert gc.isenabled()
    assert graph.GRAPH_LOCK.acquire(blocking=False)  # and the lock was let go
    graph.GRAPH_LOCK.release()


def test_the_collector_comes_back_after_an_overflow() -> None:
    u = Value(1.0, "u")
    out = (u * 1e-300) * 1e300 * 1e300  # forward 1e300; the grad of u * 1e-300 is 1e300 * 1e300
    assert gc.isenabled()
    with pytest.raises(ValueError, match="overflows a float"):
        out.backward()
    assert gc.isenabled()


def test_overlapping_pauses_in_two_threads_reenable_only_after_the_last() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    states: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            a_in.set()
            b_in.wait(5)
        states["after first left, second inside"] = gc.isenabled()
        a_out.set()

    def second() -> None:
        a_in.wait(5)
        with collector_paused():
            b_in.set()
            a_out.wait(5)
            states["inside second"] = gc.isenabled()

    assert gc.isenabled()
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert states == {"after first left, second inside": False, "inside second": False}
    assert gc.isenabled()


def test_a_pause_keeps_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            with collector_paused():
                assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_process_forked_while_another_thread_holds_the_lock_and_a_pause_works() -> None:
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with graph.GRAPH_LOCK, collector_paused():
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    pid = os.fork()
    if pid == 0:  # the child: the holding thread is not here; its lock and pause must not be either
        code = 1
        signal.alarm(20)  # a child stuck on the lock dies instead of hanging the suite
        try:
            x = Value(3.0)
            (x * x).backward()  # would wait forever on a copied, held lock
            code = 0 if (x.grad == 6.0 and gc.isenabled()) else 2
        finally:
            os._exit(code)
    try:
        assert not gc.isenabled()  # the parent: still paused by the holder
    finally:
        done.set()
        holder.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert gc.isenabled()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_process_forked_after_the_pauses_ended_keeps_the_learners_collector_setting() -> None:
    """After every pause has ended, a learner's own gc.disable() holds in a forked child too."""
    with collector_paused():
        pass
    gc.disable()
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0 if not gc.isenabled() else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
