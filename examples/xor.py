"""XOR: one neuron cannot separate it, a 2-4-1 network can (post "Demystifying neural networks": why layers).

Reproduces the classic argument for hidden layers on the four XOR cases (y = 1 when exactly one input
is 1):

    one neuron     y' = sigmoid(w0*x0 + w1*x1 + b), trained by gradient descent on the posts' error
                   E = sum 1/2 (Y' - Y)^2: it never gets all four cases right, whatever the epoch.
                   Why: its decision line w0*x0 + w1*x1 + b = 0 is a straight line, and no straight
                   line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the other. For a
                   threshold at 0: b < 0 and w0 + w1 + b < 0 (the 0 cases) but w0 + b >= 0 and
                   w1 + b >= 0 (the 1 cases); adding the last two gives w0 + w1 + 2b >= 0, so
                   w0 + w1 + b >= -b > 0, a contradiction. A brute-force search over a grid of
                   (w0, w1, b) confirms that no triple classifies all four.
    2-4-1 network  MLP(2, [4, 1]) with sigmoid everywhere, same error and gradient descent: E < 0.01
                   and all four right. Its four hidden neurons draw four lines; the output neuron
                   combines them, so the boundary can bend around the corners.

Pictures: the decision boundary of each model (viz.plot_decision_boundary) and E per epoch for both.

Run from the repository root:  .venv/bin/python examples/xor.py [--fast] [--out DIR]
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, pyplot, save_figure

import nn

NAME = "xor"
LEARNING_RATE = 5.0  # full-batch gradient descent on 4 samples tolerates a large step
EPOCHS = 2000  # the budget for the 2-4-1 network
TARGET_ERROR = 0.01  # E = sum over the 4 cases of 1/2 (Y' - Y)^2
SEED = 0


def total_error(model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> float:
    """E = sum over the samples of 1/2 (Y' - Y)^2 (the posts' error, summed over the 4 cases)."""
    return sum(nn.squared_error(model(x), y).data for x, y in zip(xs, ys))


def outputs(model: nn.MLP, xs: Sequence[Sequence[float]]) -> list[float]:
    """The model's output for each input."""
    return [model.outputs(x)[0].data for x in xs]


def is_right(out: float, y: float) -> bool:
    """Output on the target's side of 0.5 (exactly 0.5 is undecided, so wrong either way)."""
    return out > 0.5 if y == 1.0 else out < 0.5


def correct(model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> int:
    """How many cases the model gets right."""
    return sum(1 for out, y in zip(outputs(model, xs), ys) if is_right(out, y))


def train_network(model: nn.MLP, epochs: int, until: float) -> nn.History:
    """Full-batch gradient descent with nn.fit until E < `until` (or `epochs` run out)."""
    xs, ys = nn.xor()
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    # fit's epoch loss is the MEAN of the 4 per-case errors, so E < until is mean < until / 4.
    return nn.fit(
        model, xs, ys, loss="squared_error", optimizer=optimizer, epochs=epochs,
        until=until / len(xs), progress=False,
    )


def train_neuron(model: nn.MLP, epochs: int) -> tuple[list[float], list[int], dict[str, float], int]:
    """The posts' loop by hand: forward, E, backward, step; with E and the right count per epoch.

    Returns (E per epoch, cases right per epoch, the weights of the best epoch, that epoch), where
    the best epoch (counted from 1; its weights are those it starts with) is the first with the
    most cases right: the best line gradient descent found.
    """
    xs, ys = nn.xor()
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    errors: list[float] = []
    rights: list[int] = []
    best: tuple[int, dict[str, float], int] = (-1, {}, 0)
    for epoch in range(epochs + 1):
        preds = [model.outputs(x)[0] for x in xs]
        rights.append(sum(1 for p, y in zip(preds, ys) if is_right(p.data, y)))
        if rights[-1] > best[0]:
            best = (rights[-1], model.state_dict(), epoch + 1)  # counted from 1, as the plots
        terms = [nn.squared_error(p, y) for p, y in zip(preds, ys)]
        error = terms[0] + terms[1] + terms[2] + terms[3]
        errors.append(error.data)
        if epoch == epochs:  # the last pass only measures the trained weights
            break
        optimizer.zero_grad()
        (error * (1.0 / len(xs))).backward()  # the mean, as fit and the network use
        optimizer.step()
    return errors, rights, best[1], best[2]


def separating_triples(steps: int = 21, limit: float = 5.0) -> tuple[int, int]:
    """Brute force: of a grid of (w0, w1, b) in [-limit, limit]^3, how many put all four XOR cases right.

    Uses the threshold neuron (output 1 when w0*x0 + w1*x1 + b > 0), the sigmoid's decision rule.
    Returns (separating triples, triples tried); the first is always 0.
    """
    xs, ys = nn.xor()
    grid = [-limit + 2 * limit * i / (steps - 1) for i in range(steps)]
    found = 0
    for w0, w1, b in itertools.product(grid, repeat=3):
        if all((w0 * x0 + w1 * x1 + b > 0) == (y == 1.0) for (x0, x1), y in zip(xs, ys)):
            found += 1
    return found, steps**3


def plot_boundary(model: nn.MLP, title: str, path: Path) -> Path:
    """viz.plot_decision_boundary of `model` on the four XOR cases, with our title and legend."""
    import viz

    xs, ys = nn.xor()
    fig = viz.plot_decision_boundary(model, xs, ys, resolution=81)
    ax = fig.axes[0]
    ax.set_title(title)
    points: list[Any] = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    for collection in points:
        collection.set_sizes([90])  # four points: make them easy to see
    # The four cases sit in the corners: put the legend below the plot, where it hides none.
    ax.legend(points, ["target 0", "target 1"], loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    return save_figure(fig, path)


def plot_errors(neuron: Sequence[float], network: nn.History, path: Path) -> Path:
    """E per epoch for both models, on a log scale."""
    plt = pyplot(NAME)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    # Epochs count from 1, as viz.plot_history does: epoch k's E is measured before its update.
    ax.semilogy(range(1, len(neuron) + 1), neuron, color="tab:red", label="one sigmoid neuron")
    network_errors = [4 * loss for loss in network.loss]  # fit records the mean over the 4 cases
    ax.semilogy(range(1, len(network_errors) + 1), network_errors, color="tab:blue",
                label="2-4-1 sigmoid network")
    ax.axhline(TARGET_ERROR, color="grey", linestyle="--", linewidth=1, label=f"E = {TARGET_ERROR:g}")
    ax.set_title(f"XOR: gradient descent, learning rate {LEARNING_RATE:g}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("E = sum 1/2 (Y' - Y)^2  (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the errors, outputs and correct counts of both models."""
    args = parse_args(__doc__ or NAME, argv)
    folder = output_dir(NAME, args.out)
    xs, ys = nn.xor()
    files: list[Path] = []

    neuron = nn.MLP(2, [1], output_activation="sigmoid", seed=SEED)
    neuron_epochs = 500 if args.fast else EPOCHS
    neuron_errors, rights, best_weights, best_epoch = train_neuron(neuron, neuron_epochs)
    neuron_error = total_error(neuron, xs, ys)
    print(f"One sigmoid neuron, {neuron_epochs} epochs of gradient descent, learning rate {LEARNING_RATE:g}:")
    for (x0, x1), y, out in zip(xs, ys, outputs(neuron, xs)):
        verdict = "right" if is_right(out, y) else "wrong"
        print(f"  x = ({x0:g}, {x1:g})  target {y:g}  output {out:.6f}  {verdict}")
    print(f"  E = {neuron_error:.4f}; right now: {rights[-1]} of 4; "
          f"best over all {len(rights)} epochs: {max(rights)} of 4 (epoch {best_epoch})")
    print("  gradient descent settles where no line helps: output 0.5 everywhere, E = 4 * 1/2 * 0.5^2")
    found, tried = separating_triples()
    print(f"  brute force: {found} of {tried} (w0, w1, b) triples on a grid classify all four cases")
    print("  why: the neuron's boundary w0*x0 + w1*x1 + b = 0 is one straight line, and XOR is not")
    print("  linearly separable: b < 0, w0+w1+b < 0, w0+b >= 0, w1+b >= 0 cannot all hold.")
    check(max(rights) < 4, "one neuron never gets all four XOR cases right")
    check(found == 0, "no (w0, w1, b) on the grid separates XOR")

    network = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=SEED)
    network_history = train_network(network, EPOCHS, until=TARGET_ERROR)
    network_error = total_error(network, xs, ys)
    network_right = correct(network, xs, ys)
    print(f"\n2-4-1 sigmoid network, nn.fit stopped after {network_history.epochs} epochs (limit {EPOCHS}):")
    for (x0, x1), y, out in zip(xs, ys, outputs(network, xs)):
        print(f"  x = ({x0:g}, {x1:g})  target {y:g}  output {out:.4f}")
    print(f"  E = {network_error:.5f} (< {TARGET_ERROR:g}); right: {network_right} of 4")
    check(network_error < TARGET_ERROR,
          f"the 2-4-1 network reaches E < {TARGET_ERROR:g} (got {network_error:.5f})")
    check(network_right == 4, "the 2-4-1 network gets all four XOR cases right")

    # The trained neuron outputs 0.5 everywhere (a flat picture); draw its best line instead.
    best = nn.MLP(2, [1], output_activation="sigmoid", seed=SEED)
    best.load_state_dict(best_weights)
    files.append(plot_boundary(best, f"one sigmoid neuron, its best line (epoch {best_epoch}): "
                                     f"{max(rights)} of 4 right", folder / "boundary_one_neuron.png"))
    files.append(plot_boundary(network, f"2-4-1 sigmoid network: 4 of 4 right, E = {network_error:.4f}",
                               folder / "boundary_2_4_1_network.png"))
    files.append(plot_errors(neuron_errors, network_history, folder / "error_per_epoch.png"))

    print(f"\nPictures written to {folder}")
    return {
        "neuron_error": neuron_error,
        "neuron_correct": rights[-1],
        "neuron_best_correct": max(rights),
        "separating_triples": found,
        "network_error": network_error,
        "network_correct": network_right,
        "network_epochs": network_history.epochs,
        "files": files,
        "folder": folder,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
