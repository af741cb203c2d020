"""How the benchmarks time and count: interleaved repetitions, the cycle-collector meter, result rows."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from workload import LR, Engine


class GcMeter:
    """A gc.callbacks hook: every collection's start time, duration, generation and yield."""

    def __init__(self) -> None:
        """A meter with no collections recorded."""
        self.seconds = 0.0
        self.events: list[tuple[float, float, int, int]] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        """Called by the collector at the start and stop of every collection."""
        now = time.perf_counter()
        if phase == "start":
            self._start = now
        else:
            self.seconds += now - self._start
            self.events.append((self._start, now - self._start, info["generation"], info["collected"]))

    def reset(self) -> None:
        """Forget every collection recorded so far."""
        self.seconds = 0.0
        self.events = []


METER = GcMeter()


@contextmanager
def metering() -> Iterator[GcMeter]:
    """METER registered in gc.callbacks for the duration (nested uses register it once)."""
    added = METER not in gc.callbacks
    if added:
        gc.callbacks.append(METER)
    try:
        yield METER
    finally:
        if added:
            gc.callbacks.remove(METER)


@dataclass
class Sample:
    """One timed call: wall time, collector time and runs inside it, and reclaiming its garbage."""

    seconds: float
    gc_seconds: float
    gc_runs: tuple[int, int, int]
    cleanup_seconds: float
    garbage: int


@dataclass
class Row:
    """All samples of one contender; `charge_cleanup` adds reclaiming its garbage to its time."""

    name: str
    charge_cleanup: bool = True
    samples: list[Sample] = field(default_factory=list)

    def totals(self) -> list[float]:
        """Seconds per sample: the call, plus collecting the garbage it left when charged."""
        return [s.seconds + (s.cleanup_seconds if self.charge_cleanup else 0.0) for s in self.samples]

    @property
    def median(self) -> float:
        """Median total time, seconds."""
        return statistics.median(self.totals())

    @property
    def best(self) -> float:
        """Minimum total time, seconds."""
        return min(self.totals())


def reclaim_seconds(collect: float, baseline: float, garbage: int) -> float:
    """What reclaiming a call's garbage cost: its collection less an empty one, 0 when it left none."""
    return max(0.0, collect - baseline) if garbage else 0.0


def measure(fn: Callable[[], object]) -> Sample:
    """Time fn() (a graph it builds is freed inside, when fn returns), then collect its garbage.

    The collection after the call is timed separately, minus a second collection's time (the
    cost of scanning the rest of the process): what reclaiming the call's cyclic garbage costs.
    micrograd's graphs are reference cycles, which users' later steps pay for in automatic
    collections (consecutive micrograd steps take about step + this); axongrad's graphs are freed
    by reference counting inside the call. Nothing between the call and the collection allocates
    an object the collector tracks, so no automatic collection can run in between.

    A call that left no garbage is charged no reclaim: its two collections differ only by noise
    (the first scans a heap the call pushed out of the caches), and a difference clipped at 0
    would charge only the noise's positive half, to those contenders alone.
    """
    with metering():
        METER.reset()
        start = time.perf_counter()
        fn()
        end = time.perf_counter()
        gc.collect()
        done = time.perf_counter()
        gc.collect()
        baseline = time.perf_counter() - done
    # A collection can start right after the call (the first tracked allocation once a gc-off
    # call re-enables the collector): split collections by start time, not by where we read.
    inside = [e for e in METER.events if e[0] < end]
    after = [e for e in METER.events if e[0] >= end]
    runs = [sum(1 for e in inside if e[2] == generation) for generation in range(3)]
    garbage = sum(e[3] for e in after)
    return Sample(
        seconds=end - start,
        gc_seconds=sum(e[1] for e in inside),
        gc_runs=(runs[0], runs[1], runs[2]),
        cleanup_seconds=reclaim_seconds(done - end, baseline, garbage),
        garbage=garbage,
    )


def interleaved(contenders: Sequence[tuple[str, bool, Callable[[], object]]], repeat: int) -> list[Row]:
    """Run every contender `repeat` times in turn (A, B, C, A, B, C, ...).

    Each contender is (name, charge_cleanup, fn); callers run each once beforehand (their
    correctness check), which is the warm-up.
    """
    rows = [Row(name, charge) for name, charge, _ in contenders]
    gc.collect()
    for _ in range(repeat):
        for row, (_, _, fn) in zip(rows, contenders):
            row.samples.append(measure(fn))
    return rows


def print_rows(rows: list[Row]) -> None:
    """The compact timing table."""
    width = max(34, *(len(row.name) + 2 for row in rows))
    print(
        f"  {'engine':<{width}}{'call ms':>9}{'in gc':>8}{'gc runs':>13}{'+reclaim':>9}{'objects':>10}"
        f"{'total ms':>10}{'min':>9}"
    )
    for row in rows:
        samples = row.samples
        runs = "/".join(f"{statistics.median(s.gc_runs[g] for s in samples):g}" for g in range(3))
        reclaim = statistics.median(s.cleanup_seconds for s in samples) * 1e3
        print(
            f"  {row.name:<{width}}{statistics.median(s.seconds for s in samples) * 1e3:>9.2f}"
            f"{statistics.median(s.gc_seconds for s in samples) * 1e3:>8.2f}{runs:>13}"
            f"{(f'{reclaim:.2f}' if row.charge_cleanup else f'({reclaim:.0f})'):>9}"
            f"{statistics.median(s.garbage for s in samples):>10,.0f}"
            f"{row.median * 1e3:>10.2f}{row.best * 1e3:>9.2f}"
        )


LEGEND = (
    "  call = the timed call (build, backward, update, and freeing by refcount); in gc = cycle-collector\n"
    "  time inside it, gc runs = its collections per generation 0/1/2; +reclaim = gc.collect() of the\n"
    "  garbage it left (net of an empty collect; 0 when there was none), objects = how many; total =\n"
    "  call + reclaim, except 'gc off' rows, which by definition never pay the collector (their\n"
    "  reclaim is in parentheses)"
)


def ratio_line(
    label: str, numerator: Row, denominator: Row, target: float | None = None, at_most: bool = False
) -> str:
    """'label: 12.3x (of minima 12.1x)   target >= 10x: met', from two rows' medians (and minima).

    The target is a floor (ratio >= target), or a ceiling (ratio <= target) when `at_most`.
    """
    ratio = numerator.median / denominator.median
    text = f"  {label:<50}{ratio:>8.2f}x  (of minima {numerator.best / denominator.best:.2f}x)"
    if target is not None:
        met = ratio <= target if at_most else ratio >= target
        text += f"   target {'<=' if at_most else '>='} {target:g}x: {'met' if met else 'MISSED'}"
    return text


@contextmanager
def blas_threads(limit: int) -> Iterator[str]:
    """NumPy's BLAS limited to `limit` threads (threadpoolctl) while inside; says what happened."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield "NumPy's BLAS threads unchanged (threadpoolctl not installed)"
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield f"NumPy's BLAS limited to {limit} thread{'s' if limit != 1 else ''} (threadpoolctl)"


def median_step_seconds(step: Callable[[float], float], budget: float, at_least: int = 1) -> float:
    """Median seconds of step(LR) over about `budget` seconds of calls (at least `at_least` calls)."""
    times: list[float] = []
    spent = 0.0
    while len(times) < at_least or spent < budget:
        start = time.perf_counter()
        step(LR)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to `count` while inside (nothing without torch)."""
    try:
        import torch
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def head_to_head(first: Engine, second: Engine, rounds: int, block: float = 0.05) -> tuple[float, float]:
    """Seconds per step of two engines: the median over `rounds` of each one's median over ~`block` s.

    The engines alternate in blocks of steps (A for `block` s, then B, then A, ...), timed with
    perf_counter only (no gc.collect between calls, unlike section 1's rows), so a step's time is
    not mixed with the collector's or another row's thread pool.
    """
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(median_step_seconds(first.step, block))
        b.append(median_step_seconds(second.step, block))
    return statistics.median(a), statistics.median(b)


def target_line(
    label: str, value: float, target: float, at_most: bool, unit: str = "x", width: int = 58
) -> str:
    """'label   value   target <= t: met' for one of issue 12's figures."""
    met = value <= target if at_most else value >= target
    shown = f"{value:.2f}{unit}" if unit == "x" else f"{value:.3f}" if unit == "" else f"{value:.2f} {unit}"
    goal = f"{target:g}{unit}" if unit in ("x", "") else f"{target:g} {unit}"
    verdict = "met" if met else "MISSED"
    return f"  {label:<{width}}{shown:>10}   target {'<=' if at_most else '>='} {goal}: {verdict}"

