"""Issue 23's targets (`engine.py --targets`): each figure beside its target, with the load average.

A "fit step" is what a learner runs: `nn.fit(model, xs, ys, loss="hinge", engine="tape")` over
one batch of B samples per epoch (`accuracy=None`, SGD), so an epoch is one step. Its time is the
median epoch (`history.time`) of a fit of FIT_EPOCHS epochs; what that fit call took beyond its
epochs is its per-call setup (checking and converting the data, the syncs; the tape compiled for
this model is reused), printed on its own line, and so is the first call's (it compiles the tape).
One more fit, with `Tape.run` and `Tape.gradient` timed, splits the step: the tape's share (its
kernels and their checks) and the rest of fit's step (the loop, the batch's slicing and mean, the
optimizer on arrays), printed beside the step (the two timers' own cost is in the rest).
The PyTorch step is batched float64 (1 thread): `nn.Linear`/ReLU, the
hinge mean, `loss.backward()`, SGD under `no_grad`, from the same weights, timed in the same round
right after the fit. Each case first checks that the two give the same first loss (1e-9). The
NumPy tape row is the benchmark's own tape step (section 1b's, `tape.gradient` and arrays) at
B = 10,000. The scalar rows time micrograd-style code and nn.MLP plainly and with the learner's
loop inside `autograd.collector_paused()` (the graph holds no cycle); their verdicts are the paused
rows'. Every figure is the median of `rounds` rounds (the engines alternate within a round),
printed with the load average at the time.

NumPy's BLAS must run on 1 thread from the start: OpenBLAS reads OPENBLAS_NUM_THREADS when numpy is
imported, so `engine.py --targets` sets it (and OMP_NUM_THREADS) before importing anything when
the caller has not, and the table's heading says which setting was in force.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from measure import head_to_head, interleaved, median_step_seconds, target_line, torch_threads
from workload import (
    LR,
    SEED,
    TOLERANCE,
    check_step_engines,
    initial_weights,
    make_moons,
    make_tape_engine,
    make_torch_engine,
    random_weights,
    step_engines,
)

from autograd import Tape, collector_paused

FIT_CASES: tuple[tuple[tuple[int, ...], int, float], ...] = (
    ((2, 16, 16, 1), 100, 0.33),
    ((2, 64, 64, 1), 1_000, 0.8),
    ((2, 256, 256, 1), 100, 1.0),
)
"""(MLP sizes, batch size, target): fit(engine="tape") step / PyTorch step at most the target."""

TAPE_CASE: tuple[tuple[int, ...], int, float] = ((2, 16, 16, 1), 10_000, 0.8)
"""The NumPy tape step / PyTorch step at B = 10,000: at most 0.8x."""

DIGITS_SECONDS, DIGITS_ACCURACY = 2.0, 0.96
"""examples/digits.py --engine tape: the whole process in at most 2 s, at an accuracy of 0.96."""

MICROGRAD_STYLE, NN_MLP = 2.5, 6.0
"""micrograd (gc off) / axongrad: at least 2.5x for micrograd-style code, 6x for nn.MLP."""

FIT_EPOCHS = 40
"""Epochs (one batch, one step each) of a timed fit call: its median epoch is the step."""


@dataclass
class Figure:
    """One row of the target table: what, the measured value, its target and the load beside it."""

    label: str
    value: float
    target: float | None  # None: shown beside the targets, with none of its own
    at_most: bool
    load: float
    unit: str = "x"

    @property
    def met(self) -> bool:
        """True when the value is on the target's side (a figure without a target always is)."""
        if self.target is None:
            return True
        return self.value <= self.target if self.at_most else self.value >= self.target


def load() -> float:
    """The 1-minute load average (0.0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def weights_of(model: Any) -> list[list[tuple[list[float], float]]]:
    """An nn.MLP's weights in the workload's layout: per layer, per neuron (weights, bias)."""
    return [[([w.data for w in n.w], n.b.data) for n in layer.neurons] for layer in model.layers]


def fit_engine(sizes: Sequence[int], batch: int, engine: str = "tape") -> tuple[Any, Any, Any] | None:
    """`fit(epochs)` on MLP `sizes` over `batch` moons samples (one batch per epoch), the model, the data.

    `fit(epochs)` returns (history, seconds of the whole call). None when nn cannot be imported.
    """
    try:
        import nn
    except ImportError:
        return None
    model = nn.MLP(sizes[0], list(sizes[1:]), seed=SEED)
    xs, ys = make_moons(batch, seed=SEED + batch)

    def fit(epochs: int) -> tuple[Any, float]:
        optimizer = nn.SGD(model.parameters(), lr=LR)
        start = time.perf_counter()
        history = nn.fit(model, xs, ys, loss="hinge", optimizer=optimizer, epochs=epochs,
                         batch_size=batch, progress=False, accuracy=None, engine=engine)
        return history, time.perf_counter() - start

    return fit, model, (xs, ys)


def fit_against_torch(sizes: Sequence[int], batch: int, budget: float) -> tuple[float, float] | None:
    """(fit(engine="tape") seconds per step, PyTorch's (1 thread, same weights and loss)) for the sweep.

    A fit of enough epochs for about `budget` / 2 seconds, then PyTorch for as long, twice in turn;
    the lower median of each. None without nn or torch; SystemExit when the two first losses differ.
    """
    made = fit_engine(sizes, batch)
    if made is None:
        return None
    fit, model, (xs, ys) = made
    torch_engine = make_torch_engine(weights_of(model), xs, ys, threads=1, alpha=0.0)
    if torch_engine is None:
        return None
    history, _ = fit(2)  # compiles the tape; its first loss is taken before any update
    torch_loss = torch_engine.step(LR)
    first = float(history.loss[0])
    if abs(first - torch_loss) > TOLERANCE * max(1.0, abs(first)):
        raise SystemExit(f"fit and PyTorch differ at 2-{sizes[1]} x {batch}: {first!r} != {torch_loss!r}")
    epochs = max(3, min(FIT_EPOCHS, int(budget / 2 / max(min(history.time), 1e-6))))
    fits: list[float] = []
    torches: list[float] = []
    with torch_threads(1):
        for _ in range(2):
            fits.append(statistics.median(fit(epochs)[0].time))
            torches.append(median_step_seconds(torch_engine.step, budget / 2, at_least=3))
    return min(fits), min(torches)


def fit_figures(sizes: Sequence[int], batch: int, target: float, rounds: int) -> list[Figure] | str:
    """fit(engine="tape") step / PyTorch step (1 thread) and the fit call's setup, or why there is none."""
    made = fit_engine(sizes, batch)
    if made is None:
        return "nn is not importable"
    fit, model, (xs, ys) = made
    torch_engine = make_torch_engine(weights_of(model), xs, ys, threads=1, alpha=0.0)
    if torch_engine is None:
        return "torch is not installed (pip install 'axongrad[torch]')"
    history, seconds = fit(1)  # the first call compiles the tape (later calls reuse it)
    first_setup = seconds - sum(history.time)
    first = float(history.loss[0])  # the first epoch's loss is taken before any update, as PyTorch's
    torch_loss = torch_engine.step(LR)
    if abs(first - torch_loss) > TOLERANCE * max(1.0, abs(first)):
        raise SystemExit(f"fit and PyTorch differ at 2-{sizes[1]}: loss {first!r} != {torch_loss!r}")
    steps: list[float] = []
    setups: list[float] = []
    torch_times: list[float] = []
    with torch_threads(1):
        for _ in range(rounds):
            history, seconds = fit(FIT_EPOCHS)
            steps.append(statistics.median(history.time))
            setups.append(seconds - sum(history.time))
            torch_times.append(median_step_seconds(torch_engine.step, 0.05, at_least=2))
    name = "-".join(map(str, sizes))
    step, setup, torch_step = (statistics.median(x) for x in (steps, setups, torch_times))
    split_step, tape_share = tape_split(fit)
    print(f"    fit {name} x {batch:,}: {step * 1e6:,.0f} us per step (median epoch of {FIT_EPOCHS}), "
          f"PyTorch {torch_step * 1e6:,.0f} us; setup per fit call {setup * 1e3:,.1f} ms, "
          f"{first_setup * 1e3:,.1f} ms in the first (it compiles the tape)")
    print(f"      split (one more fit, timed inside): tape.run + tape.gradient {tape_share * 1e6:,.0f} us, "
          f"the rest of fit's step {(split_step - tape_share) * 1e6:,.1f} us")
    label = f"fit(engine='tape') step, {name}, B={batch:,} / PyTorch"
    at = load()
    return [
        Figure(label, step / torch_step, target, True, at),
        Figure("  ... setup per fit call (checks, syncs; tape reused)", setup * 1e3, None, True, at, "ms"),
        Figure("  ... setup of the first fit call (compiles it)", first_setup * 1e3, None, True, at, "ms"),
    ]


def tape_split(fit: Callable[[int], tuple[Any, float]]) -> tuple[float, float]:
    """One fit of FIT_EPOCHS with `Tape.run` and `Tape.gradient` timed: (median step, median of their sum)."""
    spent: list[float] = []
    methods = {name: getattr(Tape, name) for name in ("run", "gradient")}

    def timed(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)

        return call

    try:
        for name, method in methods.items():
            setattr(Tape, name, timed(method))
        history, _ = fit(FIT_EPOCHS)
    finally:
        for name, method in methods.items():
            setattr(Tape, name, method)
    per_step = [a + b for a, b in zip(spent[::2], spent[1::2])]  # run, gradient, run, gradient, ...
    return statistics.median(history.time), statistics.median(per_step)


def tape_figure(rounds: int) -> Figure | str:
    """The NumPy tape step / PyTorch step (1 thread) at TAPE_CASE, or why there is no figure."""
    sizes, batch, target = TAPE_CASE
    weights = random_weights(sizes, seed=SEED + sizes[1])
    xs, ys = make_moons(batch, seed=SEED + batch)
    tape = make_tape_engine(weights, xs, ys, "numpy")
    torch_engine = make_torch_engine(weights, xs, ys, threads=1)
    if tape is None or torch_engine is None:
        return "needs numpy and torch"
    with torch_threads(1):
        tape.step(0.0)
        torch_engine.step(0.0)
        tape_s, torch_s = head_to_head(tape, torch_engine, rounds)
    name = "-".join(map(str, sizes))
    print(f"    NumPy tape {name} x {batch:,}: {tape_s * 1e3:.2f} ms per step, "
          f"PyTorch {torch_s * 1e3:.2f} ms")
    return Figure(f"NumPy tape step, {name}, B={batch:,} / PyTorch", tape_s / torch_s, target, True, load())


def paused(step: Callable[[float], float]) -> Callable[[], float]:
    """`step(LR)` with the learner's loop inside `autograd.collector_paused()` (the graph holds no cycle)."""

    def run() -> float:
        with collector_paused():
            return step(LR)

    return run


SCALAR_ROWS = (
    ("axongrad, micrograd-style code", MICROGRAD_STYLE, "micrograd (gc off) / axongrad micrograd-style step"),
    ("axongrad, nn.MLP (weighted_sum)", NN_MLP, "micrograd (gc off) / nn.MLP step"),
)
"""(step engine's name, target, label) of the scalar rows."""

PAUSED = " (loop in collector_paused())"


def scalar_figures(rounds: int) -> list[Figure]:
    """micrograd (gc off) / axongrad, plain and with the loop in collector_paused() (interleaved medians)."""
    xs, ys = make_moons()
    engines, _ = step_engines(initial_weights(), xs, ys)
    micrograd = "micrograd 0.1.0 (gc off)"
    wanted = (micrograd, *(name for name, _, _ in SCALAR_ROWS))
    chosen = [e for e in engines if e.name in wanted]
    check_step_engines(chosen)
    contenders = [(e.name, "gc off" not in e.name, (lambda s=e.step: s(LR))) for e in chosen]
    contenders += [(e.name + PAUSED, True, paused(e.step)) for e in chosen if e.name != micrograd]
    rows = {r.name: r for r in interleaved(contenders, rounds)}
    figures = []
    mg = rows.get(micrograd)
    for name, target, label in SCALAR_ROWS:
        if mg is None or name not in rows:
            continue
        figures.append(Figure(label + " (plain loop)", mg.median / rows[name].median, None, False, load()))
        figures.append(Figure(label + PAUSED, mg.median / rows[name + PAUSED].median, target, False, load()))
    return figures


def digits_figure(run: Digits, rounds: int) -> list[Figure]:
    """examples/digits.py --engine tape: the median whole-process seconds and accuracy of `rounds` runs."""
    runs = [r for r in (run() for _ in range(rounds)) if r is not None]
    if not runs:
        return []
    seconds = statistics.median(r[1] for r in runs)
    accuracy = statistics.median(r[0] for r in runs)
    return [
        Figure("examples/digits.py --engine tape, whole process", seconds, DIGITS_SECONDS, True, load(), "s"),
        Figure("  ... at a held-out accuracy of", accuracy, DIGITS_ACCURACY, False, load(), ""),
    ]


Digits = Callable[[], "tuple[float, float, float] | None"]


def section_targets(rounds: int, run_digits: Digits | None) -> list[Figure]:
    """Measure and print issue 23's table; `run_digits` None skips the digits rows."""
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    print(f"\nIssue 23's targets (medians of {rounds} rounds; torch at 1 thread; NumPy's BLAS: "
          f"OPENBLAS_NUM_THREADS={blas if blas is not None else 'unset (its default: every core)'}, "
          f"set before numpy was imported; load average at the start {load():.2f})")
    started = time.perf_counter()
    figures: list[Figure] = []
    for sizes, batch, target in FIT_CASES:
        made = fit_figures(sizes, batch, target, rounds)
        if isinstance(made, str):
            print(f"    fit {'-'.join(map(str, sizes))} x {batch:,}: no figure ({made})")
        else:
            figures += made
        gc.collect()
    tape = tape_figure(rounds)
    if isinstance(tape, str):
        print(f"    NumPy tape: no figure ({tape})")
    else:
        figures.append(tape)
    if run_digits is not None:
        figures += digits_figure(run_digits, max(1, min(3, rounds)))
    figures += scalar_figures(rounds)
    print_targets(figures)
    print(f"  (targets took {time.perf_counter() - started:.0f} s; load average at the end {load():.2f})")
    return figures


def print_targets(figures: Sequence[Figure]) -> None:
    """The table: each figure, its target and verdict, and the load average when it was measured."""
    width = max([58, *(len(f.label) + 2 for f in figures)])
    print(f"  {'figure':<{width}}{'measured':>10}   {'target':<24}{'load':>6}")
    for f in figures:
        if f.target is None:
            shown = f"{f.value:.2f}{f.unit}" if f.unit == "x" else f"{f.value:,.1f} {f.unit}"
            line = f"  {f.label:<{width}}{shown:>10}   (no target of its own)"
        else:
            line = target_line(f.label, f.value, f.target, f.at_most, f.unit, width)
        print(f"{line:<{width + 50}}{f.load:>6.2f}")
