"""Section 8 (--sweep): the NumPy tape (and the tape's PyTorch back end) against batched PyTorch."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from measure import blas_threads, median_step_seconds, torch_threads
from step import print_torch_breakdown
from targets import fit_against_torch
from workload import (
    LR,
    N_SAMPLES,
    SEED,
    SIZES,
    SWEEP_BATCHES,
    SWEEP_BUDGET,
    SWEEP_WIDTHS,
    TOLERANCE,
    disagreement,
    make_moons,
    make_tape_engine,
    make_torch_engine,
    phase_times,
    random_weights,
    reference_result,
)


@dataclass
class SweepRow:
    """One case of the sweep: MLP 2-W-W-1 over B samples, seconds per step of each engine."""

    width: int
    batch: int
    tape: float
    torch: float
    tape_phases: dict[str, float]
    torch_tape: float | None = None  # the same tape step on the PyTorch back end (None without torch)
    fit: tuple[float, float] | None = None  # (nn.fit(engine="tape") step, PyTorch's step without L2)

    @property
    def ratio(self) -> float:
        """NumPy tape / PyTorch (below 1: the tape is faster)."""
        return self.tape / self.torch

    @property
    def winner(self) -> str:
        """Which of the NumPy tape, the tape's torch back end and batched PyTorch is fastest here."""
        times = {"numpy tape": self.tape, "torch": self.torch}
        if self.torch_tape is not None:
            times["torch tape"] = self.torch_tape
        return min(times, key=times.__getitem__)


def sweep(
    widths: Sequence[int] = SWEEP_WIDTHS, batches: Sequence[int] = SWEEP_BATCHES, budget: float = SWEEP_BUDGET
) -> list[SweepRow]:
    """NumPy tape vs batched PyTorch float64 (1 thread) on MLP 2-W-W-1 for every width and batch.

    Each case checks that both engines compute the same loss and gradients (1e-9, else SystemExit),
    then times the two alternately (tape, torch, tape, ...) for about `budget` seconds each.
    Returns [] when numpy, torch or `autograd.compile` is missing.
    """
    rows: list[SweepRow] = []
    for width in widths:
        weights = random_weights((2, width, width, 1), seed=SEED + width)
        for batch in batches:
            xs, ys = make_moons(batch, seed=SEED + batch)
            tape = make_tape_engine(weights, xs, ys, "numpy")
            torch_engine = make_torch_engine(weights, xs, ys, threads=1)
            torch_tape = make_tape_engine(weights, xs, ys, "torch")
            if tape is None or torch_engine is None:
                return []
            for other in (torch_engine, torch_tape):
                problem = None if other is None else disagreement(reference_result(tape), other)
                if problem is not None and other is not None:
                    raise SystemExit(
                        f"sweep 2-{width}-{width}-1, {batch} samples: {other.name} and the NumPy tape "
                        f"differ: {problem}"
                    )
            tape_times: list[float] = []
            torch_times: list[float] = []
            torch_tape_times: list[float] = []
            for _ in range(2):  # two alternating halves, so a slow phase of the machine hits both
                tape_times.append(median_step_seconds(tape.step, budget / 2))
                torch_times.append(median_step_seconds(torch_engine.step, budget / 2))
                if torch_tape is not None:
                    with torch_threads(1):
                        torch_tape_times.append(median_step_seconds(torch_tape.step, budget / 2))
            phases = [phase_times(tape, LR) for _ in range(3 if min(tape_times) < budget / 10 else 1)]
            rows.append(
                SweepRow(
                    width,
                    batch,
                    min(tape_times),
                    min(torch_times),
                    {k: statistics.median(p[k] for p in phases) for k in phases[0]},
                    min(torch_tape_times) if torch_tape_times else None,
                )
            )
            fit = fit_against_torch((2, width, width, 1), batch, budget)
            rows[-1].fit = fit
            del tape, torch_engine, torch_tape
            gc.collect()
    return rows


def print_sweep(rows: Sequence[SweepRow]) -> None:
    """The sweep as a table: ms per step of each engine, their ratio, and the tape step's phases."""
    print(
        f"  {'MLP':<14}{'samples':>8}{'tape ms':>10}{'torch ms':>10}{'tape/torch':>11}"
        f"{'  tape phases: run':>19}{'backward':>10}{'py loops':>10}{'torch tape ms':>15}  fastest"
        f"{'fit ms':>10}{'torch ms':>10}{'fit/torch':>11}"
    )
    for r in rows:
        loops = sum(v for k, v in r.tape_phases.items() if "Python loop" in k)
        total = max(sum(r.tape_phases.values()), 1e-12)
        run = r.tape_phases.get("tape.run + loss sum", 0.0)
        back = r.tape_phases.get("tape.backward", r.tape_phases.get("tape.gradient", 0.0))
        torch_tape = "-" if r.torch_tape is None else f"{r.torch_tape * 1e3:.3f}"
        print(
            f"  {f'2-{r.width}-{r.width}-1':<14}{r.batch:>8,}{r.tape * 1e3:>10.3f}{r.torch * 1e3:>10.3f}"
            f"{r.ratio:>10.2f}x{run / total:>19.0%}{back / total:>10.0%}{loops / total:>10.0%}"
            f"{torch_tape:>15}  {r.winner:<11}{_fit_columns(r.fit)}"
        )
    print(
        "  tape/torch < 1: the NumPy tape is faster. Tape phases (one step, shares of it): tape.run (+ the\n"
        "  loss sum), tape.gradient (the batch gradient as an array), and the step's own Python loop over\n"
        "  the parameters (set_parameters writing .data and .grad); the last grows with W^2.\n"
        "  torch tape: the same tape step on compile(..., backend='torch') (1 thread); fastest: of those.\n"
        "  fit: what a learner runs, nn.fit(engine='tape') (hinge loss, no L2, SGD; the median epoch of one\n"
        "  batch), beside PyTorch's step with the same weights and loss; fit/torch < 1: fit is faster"
    )


def _fit_columns(fit: tuple[float, float] | None) -> str:
    """The fit columns of a sweep row: ms per fit step, PyTorch's, their ratio (dashes without nn)."""
    if fit is None:
        return f"{'-':>10}{'-':>10}{'-':>11}"
    return f"{fit[0] * 1e3:>10.3f}{fit[1] * 1e3:>10.3f}{fit[0] / fit[1]:>10.2f}x"


def section_sweep(
    widths: Sequence[int] = SWEEP_WIDTHS, batches: Sequence[int] = SWEEP_BATCHES, budget: float = SWEEP_BUDGET
) -> list[SweepRow]:
    """Section 8 (--sweep): where PyTorch's time goes at 2-16-16-1 x 100, then the batch/width table."""
    print("\n8. Sweep: NumPy tape vs batched PyTorch float64 (1 thread), MLP 2-W-W-1, same loss and step")
    print(f"  where the time goes at the small size (MLP {'-'.join(map(str, SIZES))}, {N_SAMPLES} samples):")
    xs, ys = make_moons()
    with blas_threads(1) as blas:
        print_torch_breakdown(random_weights(SIZES), xs, ys, 31)
        print(f"  every case checked first (loss and gradients agree to {TOLERANCE:g}); {blas};")
        print(f"  seconds per step: the lower median of two alternating halves of ~{budget:g} s each")
        started = time.perf_counter()
        rows = sweep(widths, batches, budget)
    if not rows:
        print("  (no sweep: needs numpy, torch and autograd.compile)")
        return rows
    print_sweep(rows)
    print(f"  (sweep took {time.perf_counter() - started:.0f} s)")
    return rows

