"""Threshold to bias (post "Demystifying neural networks", "get rid of thresholds"; and the bias section
of "Introduction to Neural Networks Basics").

Reproduces the post's three steps that remove the threshold T of a step neuron:

    threshold neuron   Y' = 1 if W1 X1 + ... + Wn Xn >= T else 0
    extra input        Y' = step(W0 X0 + W1 X1 + ... + Wn Xn)  with X0 = -1 and W0 = T
    axongrad's bias    Y' = step(W1 X1 + ... + Wn Xn + b)       with b = -T  (weighted_sum's bias)

and checks that the three give the same output on every input of a grid, including inputs that lie
exactly on the threshold (where the step fires: step(0) = 1). The grid uses multiples of 1/8 and
dyadic weights so every sum is exact in floating point: the forms are the same real number, but
summing in another order can round differently right at the threshold.

Then builds the logic gates AND, OR and NAND as step neurons with the threshold moved into W0
(truth tables checked), and the post's "single neuron that multiplies three bits": a step neuron
with weights 1, 1, 1 and threshold 2.5 outputs x1 * x2 * x3 for all 8 inputs.

Run from the repository root:  .venv/bin/python examples/threshold_to_bias.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from itertools import product
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, pyplot, save_diagram, save_figure

from autograd import Value, weighted_sum

NAME = "threshold_to_bias"
# (weights, threshold T) for two-input gates; Y' = 1 when W1 X1 + W2 X2 >= T.
GATES: dict[str, tuple[tuple[float, float], float]] = {
    "AND": ((1.0, 1.0), 1.5),
    "OR": ((1.0, 1.0), 0.5),
    "NAND": ((-1.0, -1.0), -1.5),
}
TRUTH: dict[str, Callable[[int, int], int]] = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "NAND": lambda a, b: 1 - (a & b),
}


def threshold_neuron(weights: Sequence[float], inputs: Sequence[float], threshold: float) -> float:
    """The post's first neuron: fires (1.0) when the weighted sum reaches the threshold T."""
    total = weighted_sum([Value(w) for w in weights], inputs)
    return 1.0 if total.data >= threshold else 0.0


def extra_input_neuron(weights: Sequence[float], inputs: Sequence[float], threshold: float) -> Value:
    """The post's trick: an input X0 = -1 with weight W0 = T, then step(sum) with the threshold at 0."""
    w = [Value(threshold, label="W0 = T")] + [Value(wi, label=f"W{i + 1}") for i, wi in enumerate(weights)]
    x = [Value(-1.0, label="X0 = -1")] + [Value(xi, label=f"X{i + 1}") for i, xi in enumerate(inputs)]
    z = weighted_sum(w, x)
    z.label = "z"
    out = z.step()
    out.label = "Y'"
    return out


def bias_neuron(weights: Sequence[float], inputs: Sequence[float], threshold: float) -> Value:
    """axongrad's form: weighted_sum(..., bias=b) with b = -T, then step."""
    bias = Value(-threshold, label="b = -T")
    return weighted_sum([Value(w) for w in weights], inputs, bias=bias).step()


def compare_on_grid(weights: Sequence[float], threshold: float, points: int) -> tuple[int, int, int]:
    """(inputs checked, inputs exactly on T, disagreements) over a grid with `points` values per input."""
    checked = on_threshold = disagreements = 0
    values = [i / (points - 1) for i in range(points)]
    for x in product(values, repeat=len(weights)):
        a = threshold_neuron(weights, x, threshold)
        b = extra_input_neuron(weights, x, threshold).data
        c = bias_neuron(weights, x, threshold).data
        checked += 1
        on_threshold += sum(w * xi for w, xi in zip(weights, x)) == threshold
        disagreements += not (a == b == c)
    return checked, on_threshold, disagreements


def plot_gates(path: Path) -> Path:
    """The four inputs of each gate coloured by the neuron's output, with its line W1 X1 + W2 X2 = T."""
    plt = pyplot(NAME)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
    for ax, (gate, (w, t)) in zip(axes, GATES.items()):
        for x1, x2 in product((0.0, 1.0), repeat=2):
            fired = extra_input_neuron(w, (x1, x2), t).data == 1.0
            ax.scatter([x1], [x2], s=160, color="tab:green" if fired else "white", edgecolors="black",
                       zorder=3)
        xs = [-0.25, 1.25]
        ax.plot(xs, [(t - w[0] * v) / w[1] for v in xs], color="tab:red")
        ax.set_title(f"{gate}: X0 = -1, W0 = T = {t:g}\nred line: {w[0]:g} X1 + {w[1]:g} X2 = {t:g}",
                     fontsize=10)
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(-0.25, 1.25)
        ax.set_xlabel("X1")
        ax.set_ylabel("X2")
        ax.set_aspect("equal")
        ax.grid(True, alpha=0.3)
    handles = [
        axes[0].scatter([], [], s=80, color="tab:green", edgecolors="black", label="fires: Y' = 1"),
        axes[0].scatter([], [], s=80, color="white", edgecolors="black", label="silent: Y' = 0"),
        axes[0].plot([], [], color="tab:red", label="threshold: W1 X1 + W2 X2 = T")[0],
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.1))
    fig.suptitle("Logic gates as step neurons (the threshold moved into the weight W0)")
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the grid comparison, the gates' truth tables and the 3-bit product."""
    args = parse_args(__doc__ or NAME, argv)
    folder = output_dir(NAME, args.out)

    points = 5 if args.fast else 9
    print(f"Threshold neuron vs extra input X0 = -1 with W0 = T vs bias b = -T ({points}^n grid on [0, 1]):")
    grid_results = {}
    for weights, threshold in (((0.5, 0.25), 0.5), ((0.5, 0.25), 0.0), ((1.0, -0.5), 0.25),
                               ((0.25, 0.5, 0.75), 0.75), ((1.0, 1.0), 2.0)):
        checked, on_threshold, bad = compare_on_grid(weights, threshold, points)
        grid_results[(weights, threshold)] = (checked, on_threshold, bad)
        print(f"  W = {weights}, T = {threshold:g}: {checked} inputs, {on_threshold} exactly on the "
              f"threshold, {bad} disagreements")
        check(bad == 0, f"the three neuron forms agree on every input for W = {weights}, T = {threshold:g}")
    check(all(on > 0 for _, on, _ in grid_results.values()), "every grid includes inputs exactly on T")

    print("\nGates (a step neuron with W0 = T on X0 = -1):")
    truth_tables: dict[str, dict[tuple[int, int], int]] = {}
    for gate, (w, t) in GATES.items():
        table = {(a, b): int(extra_input_neuron(w, (a, b), t).data) for a, b in product((0, 1), repeat=2)}
        truth_tables[gate] = table
        print(f"  {gate:<4} W0 = T = {t:>4g}, W1 = {w[0]:g}, W2 = {w[1]:g}, b = {-t:g}:  "
              + "  ".join(f"{a}{b} -> {y}" for (a, b), y in table.items()))
        for (a, b), y in table.items():
            check(y == TRUTH[gate](a, b), f"{gate}({a}, {b}) = {TRUTH[gate](a, b)}")
            check(bias_neuron(w, (a, b), t).data == y, f"{gate} with bias b = -T gives the same output")

    print("\nOne step neuron multiplies three bits (W = 1, 1, 1, T = 2.5):")
    products = {}
    for bits in product((0, 1), repeat=3):
        y = int(extra_input_neuron((1.0, 1.0, 1.0), bits, 2.5).data)
        products[bits] = y
        print(f"  {bits[0]} * {bits[1]} * {bits[2]} = {bits[0] * bits[1] * bits[2]}   neuron: {y}")
        check(y == bits[0] * bits[1] * bits[2], f"the neuron's output for {bits} is the product")

    files = [plot_gates(folder / "gates.png")]
    import viz

    and_weights, and_threshold = GATES["AND"]
    and_neuron = extra_input_neuron(and_weights, (1.0, 1.0), and_threshold)
    and_neuron.backward()  # every grad below Y' is 0: the step's flat derivative (see step_vs_sigmoid.py)
    files += save_diagram(viz.draw(and_neuron, local_grads=True), folder, "and_neuron")
    print(f"\nPictures written to {folder}")
    return {"grid": grid_results, "truth_tables": truth_tables, "products": products, "files": files,
            "folder": folder}


if __name__ == "__main__":
    main(sys.argv[1:])
