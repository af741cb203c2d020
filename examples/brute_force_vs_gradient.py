"""Brute force vs numerical gradient vs backprop (post "Demystifying neural networks", on training).

Reproduces the post's three ways to find weights, on the smallest network with a threshold on its
output neuron (the threshold is a weight T on a constant input -1, as in the post):

    Y' = s(W1 * s(W0 * X) + T * (-1)),   E = 1/2 (Y' - Y)^2,   X = 1.5, Y = 0.9

1. Brute force: evaluate E at every point of a grid with the same resolution (100 values) per
   weight and keep the smallest. The count of error evaluations is 100^n for n weights: 100,
   10^4, 10^6, ... The 1- and 2-weight grids are always run; the 3-weight grid only with --full,
   otherwise a coarser grid is run and the full count and time are extrapolated (and labelled so).
   Times for more weights are extrapolated from the measured time per evaluation.
2. Numerical gradient approximation: probe E a little left and right of each weight (central
   differences, 2 evaluations per weight per step) and step downhill.
3. Backprop gradient descent: one forward pass and one backward pass per step, however many
   weights there are.

Same network, same target, same start and learning rate for the two gradient methods (so their
paths coincide); the evaluations and the final error are printed side by side, and the error curve
E(W1) is plotted with each method's path.

Run from the repository root:
    .venv/bin/python examples/brute_force_vs_gradient.py [--fast] [--full] [--out DIR]
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, pyplot, save_figure

from autograd import Value, numerical_grad, weighted_sum

NAME = "brute_force_vs_gradient"
X, Y = 1.5, 0.9
START = {"W0": 0.8, "W1": -2.0, "T": 0.0}
# Which weights are learned when there are 1, 2 or 3 of them; the others stay at START.
LEARNED = {1: ("W1",), 2: ("W0", "W1"), 3: ("W0", "W1", "T")}
GRID_LOW, GRID_HIGH, GRID_POINTS = -5.0, 5.0, 100
LEARNING_RATE = 10.0
STEPS = 60
PROBE = 1e-4  # the numerical method's relative probe distance h (autograd.numerical_grad's eps)


def sigmoid(z: float) -> float:
    """s(z) = 1 / (1 + e^-z) on plain floats."""
    return 1.0 / (1.0 + math.exp(-z))


def error(w0: float, w1: float, t: float) -> float:
    """E = 1/2 (s(W1 s(W0 X) - T) - Y)^2 on plain floats: one 'error evaluation'."""
    return 0.5 * (sigmoid(w1 * sigmoid(w0 * X) - t) - Y) ** 2


def error_of(n: int) -> Callable[[Sequence[float]], float]:
    """E as a function of the n learned weights only (the others fixed at START)."""
    names = LEARNED[n]

    def f(ws: Sequence[float]) -> float:
        point = dict(START, **dict(zip(names, ws)))
        return error(point["W0"], point["W1"], point["T"])

    return f


def grid(points: int) -> list[float]:
    """`points` evenly spaced weight values from GRID_LOW to GRID_HIGH."""
    return [GRID_LOW + (GRID_HIGH - GRID_LOW) * i / (points - 1) for i in range(points)]


@dataclass
class Search:
    """One method's run: where it ended, its error, what it cost and the path it took."""

    method: str
    weights: tuple[float, ...]
    error: float
    evaluations: int  # forward evaluations of E
    backward_passes: int = 0
    seconds: float = 0.0
    path: list[tuple[float, ...]] = field(default_factory=list)


def brute_force(n: int, points: int = GRID_POINTS) -> Search:
    """Evaluate E at every point of an n-dimensional grid with `points` values per weight."""
    f = error_of(n)
    best: tuple[float, ...] = ()
    best_error = math.inf
    count = 0
    start = time.perf_counter()
    for ws in product(grid(points), repeat=n):
        e = f(ws)
        count += 1
        if e < best_error:
            best, best_error = ws, e
    seconds = time.perf_counter() - start
    return Search(f"brute force ({points}/weight)", best, best_error, count, seconds=seconds)


def numerical_descent(n: int, steps: int = STEPS, lr: float = LEARNING_RATE) -> Search:
    """Probe left and right of every weight (central differences), then step downhill."""
    f = error_of(n)
    calls = [0]

    def counted(ws: Sequence[float]) -> float:
        calls[0] += 1
        return f(ws)

    ws = [START[name] for name in LEARNED[n]]
    path = [tuple(ws)]
    for _ in range(steps):
        slopes = numerical_grad(counted, ws, eps=PROBE)
        ws = [w - lr * g for w, g in zip(ws, slopes)]
        path.append(tuple(ws))
    return Search("numerical gradient", tuple(ws), f(ws), calls[0], path=path)


def backprop_descent(n: int, steps: int = STEPS, lr: float = LEARNING_RATE) -> Search:
    """Gradient descent with the gradient from one forward and one backward pass per step."""
    ws = dict(START)
    path = [tuple(ws[name] for name in LEARNED[n])]
    for _ in range(steps):
        w0, w1, t = (Value(ws[name], label=name) for name in ("W0", "W1", "T"))
        z1 = weighted_sum([w1, t], [(Value(X, label="X") * w0).sigmoid(), -1.0])
        e = 0.5 * (z1.sigmoid() - Y) ** 2
        e.backward()
        for name, leaf in (("W0", w0), ("W1", w1), ("T", t)):
            if name in LEARNED[n]:
                ws[name] -= lr * leaf.grad
        path.append(tuple(ws[name] for name in LEARNED[n]))
    final = path[-1]
    return Search("backprop", final, error_of(n)(final), steps, backward_passes=steps, path=path)


def plot_paths(one_weight: dict[str, Search], path: Path) -> Path:
    """E(W1) with the brute-force grid and the two gradient methods' paths."""
    plt = pyplot(NAME)
    f = error_of(1)
    fine = grid(600)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.plot(fine, [f([w]) for w in fine], color="black", linewidth=1.2, label="E(W1)")
    brute = one_weight["brute force"]
    ax.scatter(grid(GRID_POINTS), [f([w]) for w in grid(GRID_POINTS)], s=6, color="tab:gray",
               label=f"brute force: {brute.evaluations} evaluations", zorder=2)
    ax.scatter([brute.weights[0]], [brute.error], s=90, marker="*", color="tab:red",
               label=f"brute force best W1 = {brute.weights[0]:.3f}", zorder=4)
    numeric, backprop = one_weight["numerical gradient"], one_weight["backprop"]
    ax.plot([p[0] for p in numeric.path], [f(p) for p in numeric.path], "o", markersize=8,
            markerfacecolor="none", color="tab:orange",
            label=f"numerical gradient: {numeric.evaluations} evaluations", zorder=3)
    ax.plot([p[0] for p in backprop.path], [f(p) for p in backprop.path], "x", markersize=5,
            color="tab:blue", label=f"backprop: {backprop.evaluations} forward + "
            f"{backprop.backward_passes} backward", zorder=5)
    ax.annotate("start", (backprop.path[0][0], f(backprop.path[0])), textcoords="offset points",
                xytext=(8, 6))
    ax.set_title(f"Three ways to find W1 (W0 = {START['W0']:g}, T = 0, X = {X:g}, Y = {Y:g})")
    ax.set_xlabel("W1")
    ax.set_ylabel("E = 1/2 (Y' - Y)^2")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_counts(counts: dict[int, tuple[int, bool]], path: Path) -> Path:
    """Brute-force error evaluations against the number of weights (run vs extrapolated)."""
    plt = pyplot(NAME)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ran = [(n, c) for n, (c, was_run) in counts.items() if was_run]
    guessed = [(n, c) for n, (c, was_run) in counts.items() if not was_run]
    ax.semilogy([n for n, _ in ran], [c for _, c in ran], "o", color="tab:green", markersize=8,
                label="counted (run)")
    ax.semilogy([n for n, _ in guessed], [c for _, c in guessed], "s", color="tab:gray",
                markerfacecolor="none", markersize=8, label="100^n (extrapolated, not run)")
    ax.set_title(f"Brute force: {GRID_POINTS} grid values per weight")
    ax.set_xlabel("number of weights n")
    ax.set_ylabel("error evaluations (log scale)")
    ax.set_xticks(sorted(counts))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def human_time(seconds: float) -> str:
    """A duration in the largest sensible unit."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the three methods for 1, 2 and 3 weights; return their Search results and the counts."""
    args = parse_args(__doc__ or NAME, argv, full=True)
    folder = output_dir(NAME, args.out)

    print(f"Network Y' = s(W1 s(W0 X) - T), X = {X:g}, target Y = {Y:g}; start {START}")
    print(f"Brute-force grid: {GRID_POINTS} values per weight in [{GRID_LOW:g}, {GRID_HIGH:g}]")
    results: dict[int, dict[str, Search]] = {}
    counts: dict[int, tuple[int, bool]] = {}
    for n in (1, 2, 3):
        if n < 3 or args.full:
            brute = brute_force(n)
        else:
            coarse = 10 if args.fast else 20
            brute = brute_force(n, coarse)
            check(brute.evaluations == coarse**n, f"the coarse grid costs {coarse}^{n} evaluations")
            print(f"  3 weights on a coarser grid ({coarse} values per weight): {brute.evaluations} "
                  f"evaluations in {brute.seconds:.3g} s; the {GRID_POINTS}-value grid is extrapolated "
                  "below (run it with --full)")
        results[n] = {
            "brute force": brute,
            "numerical gradient": numerical_descent(n),
            "backprop": backprop_descent(n),
        }
        counts[n] = (brute.evaluations, brute.evaluations == GRID_POINTS**n)
    per_eval = results[2]["brute force"].seconds / results[2]["brute force"].evaluations
    for n in range(len(counts) + 1, 10):
        counts[n] = (GRID_POINTS**n, False)
    if not counts[3][1]:
        counts[3] = (GRID_POINTS**3, False)

    print(f"\nBrute force cost ({per_eval * 1e6:.2f} microseconds per error evaluation measured "
          "on the 2-weight grid):")
    print("  weights  evaluations   time")
    for n, (count, was_run) in counts.items():
        seconds = results[n]["brute force"].seconds if was_run else count * per_eval
        label = "run" if was_run else "extrapolated, not run"
        print(f"  {n:>7}  {count:>11.3g}   {human_time(seconds):>14}  ({label})")
    for n in (1, 2):
        check(results[n]["brute force"].evaluations == GRID_POINTS**n,
              f"brute force over {n} weight(s) costs {GRID_POINTS}^{n} evaluations")

    print("  (the post's 'hours for 3 weights' is for an error summed over a data set; here E has one\n"
          "  sample, so an evaluation takes about a microsecond, but the count still grows 100x per weight)")
    print(f"\nSide by side ({STEPS} steps, learning rate {LEARNING_RATE:g} for both gradient methods):")
    print(f"  {'weights':>7}  {'method':<24} {'E evaluations':>13} {'backward':>8}  {'final E':>10}  weights")
    for n, runs in results.items():
        for run in runs.values():
            ws = ", ".join(f"{name}={w:+.4f}" for name, w in zip(LEARNED[n], run.weights))
            print(f"  {n:>7}  {run.method:<24} {run.evaluations:>13} {run.backward_passes:>8}  "
                  f"{run.error:>10.3e}  {ws}")
    for n, runs in results.items():
        numeric, backprop = runs["numerical gradient"], runs["backprop"]
        check(numeric.evaluations == 2 * n * STEPS, f"numerical gradient costs 2n = {2 * n} evaluations/step")
        check(backprop.evaluations == STEPS and backprop.backward_passes == STEPS,
              "backprop costs one forward and one backward pass a step")
        gap = max(abs(a - b) for p, q in zip(numeric.path, backprop.path) for a, b in zip(p, q))
        check(gap < 1e-5, f"numerical and backprop descents follow one path ({n} weights, gap {gap:.2g})")
        for run in runs.values():
            check(run.error < 1e-3, f"{run.method} with {n} weight(s) reaches E < 1e-3 (got {run.error:.3g})")

    files = [plot_paths(results[1], folder / "error_curve_paths.png"),
             plot_counts(counts, folder / "brute_force_counts.png")]
    print(f"\nPictures written to {folder}")
    return {"results": results, "counts": counts, "seconds_per_evaluation": per_eval, "files": files,
            "folder": folder}


if __name__ == "__main__":
    main(sys.argv[1:])
