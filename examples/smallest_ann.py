"""The smallest ANN in the world (post "Demystifying neural networks", section "Smallest ANN in the World!").

Reproduces the post's partial derivatives of the error E = 1/2 (Y' - Y)^2 of the network

    X -> *W0 -> Z0 -> sigmoid -> a0 -> *W1 -> Z1 -> sigmoid -> Y'

with respect to both weights, computed three independent ways that must agree:

    backward      E.backward() on axongrad Values labelled X, W0, Z0, a0, W1, Z1, Y', E
    closed form   dE/dW0 = (Y' - Y) s'(Z1) W1 s'(Z0) X,   dE/dW1 = (Y' - Y) s'(Z1) a0   (plain floats)
    numerical     central differences (E(W + h) - E(W - h)) / 2h   (autograd.numerical_grad)

then prints `viz.explain` (the chain-rule product, factor by factor) for W0 and W1, draws the graph
before and after backward, and trains the two weights by gradient descent towards the target Y,
printing and plotting E per step.

Run from the repository root:  .venv/bin/python examples/smallest_ann.py [--fast] [--out DIR]
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, pyplot, save_diagram, save_figure

from autograd import Value, numerical_grad

NAME = "smallest_ann"
# The worked case: one input, one target, two weights (the post leaves the numbers to the reader).
X, Y = 1.5, 0.9
W0_START, W1_START = 0.8, -0.4
LEARNING_RATE = 2.0


def sigmoid(z: float) -> float:
    """s(z) = 1 / (1 + e^-z) on plain floats (the closed forms use no Values)."""
    return 1.0 / (1.0 + math.exp(-z))


def sigmoid_slope(z: float) -> float:
    """s'(z) = s(z) (1 - s(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def network(w0: float, w1: float, x: float = X, y: float = Y) -> dict[str, Value]:
    """Every node of the smallest network and its error, as Values labelled with the post's names."""
    nodes = {"X": Value(x, label="X"), "W0": Value(w0, label="W0"), "W1": Value(w1, label="W1")}
    nodes["Z0"] = nodes["X"] * nodes["W0"]
    nodes["a0"] = nodes["Z0"].sigmoid()
    nodes["Z1"] = nodes["a0"] * nodes["W1"]
    nodes["Y'"] = nodes["Z1"].sigmoid()
    nodes["Y"] = Value(y, label="Y")
    # (Y' - Y) stays unlabelled, so viz.explain folds it into the post's single factor dE/dY'.
    nodes["E"] = 0.5 * (nodes["Y'"] - nodes["Y"]) ** 2
    for name, node in nodes.items():
        node.label = name
    return nodes


def error(w0: float, w1: float, x: float = X, y: float = Y) -> float:
    """E = 1/2 (Y' - Y)^2 on plain floats."""
    return 0.5 * (sigmoid(w1 * sigmoid(w0 * x)) - y) ** 2


def closed_form_grads(w0: float, w1: float, x: float = X, y: float = Y) -> tuple[float, float]:
    """The post's formulas: (Y'-Y) s'(Z1) W1 s'(Z0) X and (Y'-Y) s'(Z1) a0, on plain floats."""
    z0 = w0 * x
    a0 = sigmoid(z0)
    z1 = w1 * a0
    y_hat = sigmoid(z1)
    de_dw0 = (y_hat - y) * sigmoid_slope(z1) * w1 * sigmoid_slope(z0) * x
    de_dw1 = (y_hat - y) * sigmoid_slope(z1) * a0
    return de_dw0, de_dw1


def train(steps: int, lr: float = LEARNING_RATE) -> tuple[list[float], float, float]:
    """Gradient descent on W0 and W1 from the starting weights; E before each step, and the final weights."""
    w0, w1 = W0_START, W1_START
    errors = []
    for _ in range(steps):
        nodes = network(w0, w1)
        nodes["E"].backward()
        errors.append(nodes["E"].data)
        w0 -= lr * nodes["W0"].grad
        w1 -= lr * nodes["W1"].grad
    errors.append(error(w0, w1))
    return errors, w0, w1


def draw_diagrams(nodes: dict[str, Value], folder: Path, stem: str) -> list[Path]:
    """The graph diagram (values, grads, local derivative on each edge) via viz.draw."""
    import viz

    return save_diagram(viz.draw(nodes["E"], local_grads=True), folder, stem)


def explain(nodes: dict[str, Value], name: str) -> Any:
    """viz.explain's chain-rule product for dE/d<name> (a viz.Explanation; str() it to read it)."""
    import viz

    return viz.explain(nodes["E"], nodes[name])


def plot_errors(errors: Sequence[float], path: Path) -> Path:
    """E per gradient-descent step, on a log scale."""
    plt = pyplot(NAME)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.semilogy(range(len(errors)), errors, color="tab:blue", label=f"E, learning rate {LEARNING_RATE:g}")
    ax.set_title(f"Smallest ANN: gradient descent on W0 and W1 (X={X:g}, Y={Y:g})")
    ax.set_xlabel("step")
    ax.set_ylabel("E = 1/2 (Y' - Y)^2  (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the gradients from the three methods, the explanations and the errors."""
    args = parse_args(__doc__ or NAME, argv)
    folder = output_dir(NAME, args.out)
    files: list[Path] = []

    nodes = network(W0_START, W1_START)
    print(f"Smallest ANN: X={X:g}, W0={W0_START:g}, W1={W1_START:g}, target Y={Y:g}")
    for name in ("Z0", "a0", "Z1", "Y'", "E"):
        print(f"  {name:>3} = {nodes[name].data:+.12f}")
    files += draw_diagrams(nodes, folder, "graph_before_backward")
    nodes["E"].backward()
    files += draw_diagrams(nodes, folder, "graph_after_backward")

    backward = (nodes["W0"].grad, nodes["W1"].grad)
    closed = closed_form_grads(W0_START, W1_START)
    numeric = tuple(numerical_grad(lambda w: error(w[0], w[1]), [W0_START, W1_START]))
    print("\n  gradient      backward           closed form        central differences")
    for i, name in enumerate(("W0", "W1")):
        print(f"  dE/d{name}   {backward[i]:+.15f}  {closed[i]:+.15f}  {numeric[i]:+.15f}")
    for i, name in enumerate(("W0", "W1")):
        check(abs(backward[i] - closed[i]) <= 1e-9, f"backward dE/d{name} equals the closed form to 1e-9")
        check(abs(backward[i] - numeric[i]) <= 1e-6, f"backward dE/d{name} equals central differences")

    explanations = {name: explain(nodes, name) for name in ("W0", "W1")}
    for name, explanation in explanations.items():
        print(f"\nviz.explain(E, {name}):\n{explanation}")
        (path,) = explanation.paths  # one path from each weight to E in this network
        product = math.prod(factor.value for factor in path.factors)
        check(abs(product - nodes[name].grad) <= 1e-15 * max(1.0, abs(product)) and
              explanation.total == nodes[name].grad,
              f"viz.explain's chain-rule product for dE/d{name} equals backward's W.grad")

    steps = 100 if args.fast else 300
    errors, w0, w1 = train(steps)
    print(f"\nGradient descent, learning rate {LEARNING_RATE:g}, {steps} steps:")
    for t in sorted({0, 1, 2, 5, 10, 25, 50, 100, 200, steps}):
        if t < len(errors):
            print(f"  step {t:>4}  E = {errors[t]:.3e}")
    print(f"  final W0 = {w0:.6f}, W1 = {w1:.6f}, Y' = {sigmoid(w1 * sigmoid(w0 * X)):.6f} (target {Y:g})")
    threshold = 1e-3 if args.fast else 1e-5
    check(all(b < a for a, b in itertools.pairwise(errors)), "E decreases on every gradient-descent step")
    check(errors[-1] < threshold, f"E ends below {threshold:g} (got {errors[-1]:.3e})")
    files.append(plot_errors(errors, folder / "error_per_step.png"))

    print(f"\nPictures written to {folder}")
    return {
        "backward": backward,
        "closed_form": closed,
        "numerical": numeric,
        "explain": explanations,
        "errors": errors,
        "weights": (w0, w1),
        "threshold": threshold,
        "files": files,
        "folder": folder,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
