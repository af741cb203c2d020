"""The README's demo: the posts' smallest network explained, then micrograd's moons demo trained.

Writes into an output folder (default output/demo/, or --out DIR), and prints it:
- smallest_forward.svg/png: x -> *W0 -> sigmoid -> *W1 -> sigmoid -> E = 1/2 (Y' - Y)^2, values only;
- smallest_backward.svg/png: the same after backward, each edge with its local derivative and
  the chain-rule product it contributes;
- smallest_chain_rule.txt: dE/dW0 and dE/dW1 written as products of local derivatives;
- smallest_backward_steps.html: the backward pass one step at a time (open it in a browser);
- moons_*.png/svg: an MLP(2, [16, 16, 1]) trained as in micrograd's demo, its loss and accuracy,
  decision boundary, and its graph for one sample grouped into one box per neuron.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from smallest_ann import W0_START, W1_START, closed_form_grads, network  # examples/smallest_ann.py

import nn
import viz
from autograd import Value


def explain_smallest(out: Path) -> None:
    """Diagrams, chain-rule text and the backward-steps page for the smallest network."""
    n = network(W0_START, W1_START)
    E = n["E"]
    viz.render(viz.draw(E, legend=True), out / "smallest_forward.svg")
    viz.render(viz.draw(E, legend=True), out / "smallest_forward.png", format="png")
    E.backward()
    viz.render(viz.draw(E, legend=True), out / "smallest_backward.svg")
    viz.render(viz.draw(E, legend=True), out / "smallest_backward.png", format="png")
    text = f"{viz.explain(E, n['W0'])}\n\n{viz.explain(E, n['W1'])}\n"
    (out / "smallest_chain_rule.txt").write_text(text, encoding="utf-8")
    viz.save_backward_html(E, out / "smallest_backward_steps.html")

    dw0, dw1 = closed_form_grads(W0_START, W1_START)
    print("The smallest network: x -> *W0 -> sigmoid -> *W1 -> sigmoid, E = 1/2 (Y' - Y)^2")
    print(text)
    print(f"  backward:     dE/dW0 = {n['W0'].grad:+.10f}   dE/dW1 = {n['W1'].grad:+.10f}")
    print(f"  closed forms: dE/dW0 = {dw0:+.10f}   dE/dW1 = {dw1:+.10f}")
    agree = math.isclose(n["W0"].grad, dw0, rel_tol=1e-12) and math.isclose(n["W1"].grad, dw1, rel_tol=1e-12)
    if not agree:
        raise SystemExit("backward disagrees with the posts' closed forms")


def hinge_loss(model: nn.MLP, xs: list[list[float]], ys: list[float]) -> tuple[Value, float]:
    """micrograd's demo loss: mean max-margin loss + 1e-4 L2, and the accuracy."""
    scores = [model(x) for x in xs]
    losses = [(1 + -y * score).relu() for y, score in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((y > 0) == (score.data > 0) for y, score in zip(ys, scores)) / len(ys)
    return data_loss + reg_loss, accuracy


def train_moons(out: Path, steps: int) -> float:
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, SGD with a decaying rate; returns accuracy."""
    xs, ys = nn.datasets.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    history = nn.History()
    for k in range(steps):
        loss, accuracy = hinge_loss(model, xs, ys)
        model.zero_grad()
        loss.backward()
        rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= rate * p.grad
        history.loss.append(loss.data)
        history.accuracy.append(accuracy)
    final_loss, final_accuracy = hinge_loss(model, xs, ys)
    print(f"moons: MLP(2, [16, 16, 1]) after {steps} steps: loss {final_loss.data:.4f}, "
          f"training accuracy {final_accuracy:.0%}")
    viz.plot_history(history, out / "moons_history.png")
    viz.plot_decision_boundary(model, xs, ys, path=out / "moons_decision_boundary.png")
    one = nn.squared_error(model(xs[0]), ys[0])
    one.backward()
    viz.render(viz.draw(one, group="neuron", legend=True), out / "moons_mlp_grouped.svg")
    viz.render(viz.draw(one, group="neuron", legend=True), out / "moons_mlp_grouped.png", format="png")
    return final_accuracy


def main(argv: list[str] | None = None) -> Path:
    """Run the demo and return the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output/demo", help="folder for the pictures")
    parser.add_argument("--steps", type=int, default=100, help="moons training steps (micrograd: 100)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    explain_smallest(out)
    accuracy = train_moons(out, args.steps)
    if args.steps >= 100 and accuracy < 1.0:
        raise SystemExit(f"moons: expected 100% training accuracy as in micrograd's demo, got {accuracy:.0%}")
    print(f"\nwrote {len(os.listdir(out))} files to {out}:")
    for name in sorted(os.listdir(out)):
        print(f"  {name}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
