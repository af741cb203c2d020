"""micrograd's demo reproduced: a 2-16-16-1 MLP separates two moons (the posts' training loop, at scale).

Karpathy's micrograd README trains, on 100 two-moons points (noise 0.1, labels -1/+1), the model
MLP(2, [16, 16, 1]) (ReLU hidden layers, a linear output score) with the max-margin loss

    data_loss = mean over the points of relu(1 - y * score)      (hinge: zero once y * score >= 1)
    reg_loss  = 1e-4 * sum of p*p over the parameters            (L2 regularisation)

and 100 steps of gradient descent with a learning rate falling from 1.0: lr = 1.0 - 0.9 * k / 100.
The same model shape, loss and schedule here (the data from nn.datasets.moons, which mirrors
sklearn's make_moons; weights from our seeded He initialisation) reach 100% training accuracy, as
micrograd's demo does. The loop is the posts' five steps written out: forward, error, zero the
gradients, backward, update.

Pictures: the decision boundary (viz.plot_decision_boundary), loss and accuracy per step
(viz.plot_history) and the grouped diagram of the trained model's loss for one point
(viz.draw(..., group="layer")): one box per layer, 337 parameters and their gradients.

Run from the repository root:  .venv/bin/python examples/moons.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, save_diagram, save_figure

import nn
from autograd import Value

NAME = "moons"
POINTS, NOISE, DATA_SEED, MODEL_SEED = 100, 0.1, 0, 0
STEPS = 100
ALPHA = 1e-4  # L2 regularisation strength, as micrograd's demo


def learning_rate(k: int) -> float:
    """micrograd's schedule: 1.0 at step 0, falling linearly towards 0.1."""
    return 1.0 - 0.9 * k / STEPS


def score_of(model: nn.MLP, x: Sequence[float]) -> Value:
    """The model's one output for point x: the Value micrograd's `model(x)` returns."""
    return model.outputs(x)[0]


def total_of(values: Sequence[Value]) -> Value:
    """values[0] + values[1] + ... (micrograd's sum(), without its leading constant 0)."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def loss_and_accuracy(
    model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]
) -> tuple[Value, float]:
    """micrograd's `loss()`: mean hinge loss plus L2 regularisation, and the sign accuracy."""
    scores = [score_of(model, x) for x in xs]
    losses = [(1 + -y * score).relu() for y, score in zip(ys, scores)]
    data_loss = total_of(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * total_of([p * p for p in model.parameters()])
    total = data_loss + reg_loss
    accuracy = sum(1 for y, score in zip(ys, scores) if (y > 0) == (score.data > 0)) / len(ys)
    return total, accuracy


def train(model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> nn.History:
    """micrograd's optimisation loop; the loss and accuracy before each step, then after the last."""
    history = nn.History()
    optimizer = nn.SGD(model.parameters(), lr=learning_rate(0))
    for k in range(STEPS):
        total, accuracy = loss_and_accuracy(model, xs, ys)  # 1-2: forward pass and error
        history.loss.append(total.data)
        history.accuracy.append(accuracy)
        optimizer.zero_grad()  # 3: leaves accumulate gradients, so clear them first
        total.backward()  # 4: backpropagation
        optimizer.lr = learning_rate(k)  # 5: the update p <- p - lr * dLoss/dp
        optimizer.step()
        if k % 10 == 0 or k == STEPS - 1:
            print(f"  step {k:>3}  loss {total.data:.6f}  accuracy {accuracy:.0%}")
    total, accuracy = loss_and_accuracy(model, xs, ys)
    history.loss.append(total.data)
    history.accuracy.append(accuracy)
    return history


def plot_boundary(model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float], path: Path,
                  resolution: int) -> Path:
    """viz.plot_decision_boundary of the trained model over the moons."""
    import viz

    fig = viz.plot_decision_boundary(model, xs, ys, resolution=resolution)
    ax = fig.axes[0]
    ax.set_title("two moons: MLP(2, [16, 16, 1]) after 100 steps (score = 0 is the boundary)")
    points = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    ax.legend(points, ["label -1", "label +1"], loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    return save_figure(fig, path)


def plot_history(history: nn.History, path: Path) -> Path:
    """viz.plot_history: loss and accuracy per step."""
    import viz

    fig = viz.plot_history(history)
    for ax in fig.axes:
        ax.set_xlabel("step (the last point: after step 100)")
    return save_figure(fig, path)


def hardest_point(model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> int:
    """Index of the point with the smallest margin y * score (the largest hinge loss)."""
    margins = [y * score_of(model, x).data for x, y in zip(xs, ys)]
    return min(range(len(margins)), key=margins.__getitem__)


def one_point_loss(model: nn.MLP, x: Sequence[float], y: float) -> Value:
    """One point's hinge loss relu(1 - y * score), after zero_grad and backward: its gradients alone.

    Training leaves the last step's gradients on the parameters, and leaves accumulate, so the
    gradients are zeroed first; otherwise a diagram would show that step's gradients plus this point's.
    """
    model.zero_grad()
    loss = (1 + -y * score_of(model, x)).relu()
    loss.label = "hinge loss"
    loss.backward()
    return loss


def draw_one_point(model: nn.MLP, x: Sequence[float], y: float, folder: Path) -> list[Path]:
    """The grouped diagram of one point's hinge loss through the trained model, after backward.

    For a point with margin y * score >= 1 the hinge is flat and every gradient is 0, so the example
    draws its hardest point, whose loss is positive and whose gradients reach every layer.
    """
    import viz

    loss = one_point_loss(model, x, y)
    return save_diagram(viz.draw(loss, group="layer"), folder, "model_one_point_by_layer")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the loss and accuracy per step and the final accuracy."""
    args = parse_args(__doc__ or NAME, argv)
    folder = output_dir(NAME, args.out)
    xs, ys = nn.moons(POINTS, noise=NOISE, seed=DATA_SEED)
    model = nn.MLP(2, [16, 16, 1], seed=MODEL_SEED)
    print(f"MLP(2, [16, 16, 1]): {' -> '.join(repr(layer.neurons[0]) for layer in model.layers)} "
          f"(16, 16 and 1 neurons), {len(model.parameters())} parameters")
    print(f"{POINTS} moons points (noise {NOISE:g}), hinge loss + {ALPHA:g} * L2, lr = 1.0 - 0.9 k/{STEPS}:")
    history = train(model, xs, ys)
    final_loss = history.loss[-1]
    final_accuracy = history.accuracy[-1]
    print(f"  after {STEPS} steps: loss {final_loss:.6f}, training accuracy {final_accuracy:.0%}")
    check(final_accuracy == 1.0, f"100% training accuracy after {STEPS} steps (got {final_accuracy:.0%})")
    check(final_loss < history.loss[0], "the loss fell")

    files = [
        plot_boundary(model, xs, ys, folder / "decision_boundary.png", resolution=40 if args.fast else 100),
        plot_history(history, folder / "loss_and_accuracy.png"),
    ]
    i = hardest_point(model, xs, ys)
    margin = ys[i] * score_of(model, xs[i]).data
    print(f"  hardest point: #{i} at ({xs[i][0]:.3f}, {xs[i][1]:.3f}), label {ys[i]:+g}, margin {margin:.4f}")
    files += draw_one_point(model, xs[i], ys[i], folder)
    print(f"\nPictures written to {folder}")
    return {
        "loss": history.loss,
        "accuracy": history.accuracy,
        "final_loss": final_loss,
        "final_accuracy": final_accuracy,
        "parameters": len(model.parameters()),
        "files": files,
        "folder": folder,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
