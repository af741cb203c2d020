"""The README's demo: the posts' smallest network explained, then micrograd's moons demo trained.

Writes into an output folder (default output/demo/, or --out DIR), and prints it:
- smallest_forward.svg/png: x -> *W0 -> sigmoid -> *W1 -> sigmoid -> E = 1/2 (Y' - Y)^2, values only;
- smallest_backward.svg/png: the same after backward, each edge with its local derivative and
  the chain-rule product it contributes;
- smallest_chain_rule.txt: dE/dW0 and dE/dW1 written as products of local derivatives;
- smallest_backward_steps.html: the backward pass one step at a time (open it in a browser);
- smallest_exercise.html: derive it yourself: every local derivative and grad hidden, your
  answers checked in the page and wrong ones named (viz.exercise);
- moons_*.png/svg: an MLP(2, [16, 16, 1]) trained as in micrograd's demo, its loss and accuracy,
  decision boundary, and the graph of one point's hinge loss (the loss it was trained with, for
  the point with the smallest margin) grouped into one box per layer, with that point's gradients;
- moons_neuron_closeup.png: one second-layer neuron up close, the one with the largest delta on
  that point (a neuron whose ReLU is off there is dead: every edge reads 0; the demo names them);
- moons_training.html: the same network trained with nn.fit(record=5), replayed frame by frame
  (loss, moving decision boundary, weights and gradients, one point's delta on every neuron).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from moons import hardest_point, learning_rate, loss_and_accuracy, one_point_loss  # examples/moons.py
from smallest_ann import W0_START, W1_START, closed_form_grads, network  # examples/smallest_ann.py

import nn
import viz
from autograd import Value


def explain_smallest(out: Path) -> None:
    """Diagrams, chain-rule text and the backward-steps page for the smallest network."""
    n = network(W0_START, W1_START)
    E = n["E"]
    weights = [n["W0"], n["W1"]]  # drawn as the parameters they are
    viz.render(viz.draw(E, legend=True, params=weights), out / "smallest_forward.svg")
    viz.render(viz.draw(E, legend=True, params=weights), out / "smallest_forward.png", format="png")
    E.backward()
    viz.render(viz.draw(E, legend=True, params=weights), out / "smallest_backward.svg")
    viz.render(viz.draw(E, legend=True, params=weights), out / "smallest_backward.png", format="png")
    text = f"{viz.explain(E, n['W0'])}\n\n{viz.explain(E, n['W1'])}\n"
    (out / "smallest_chain_rule.txt").write_text(text, encoding="utf-8")
    viz.save_backward_html(E, out / "smallest_backward_steps.html", params=weights)
    viz.exercise(E).save_html(out / "smallest_exercise.html")

    dw0, dw1 = closed_form_grads(W0_START, W1_START)
    print("The smallest network: x -> *W0 -> sigmoid -> *W1 -> sigmoid, E = 1/2 (Y' - Y)^2")
    print(text)
    print(f"  backward:     dE/dW0 = {n['W0'].grad:+.10f}   dE/dW1 = {n['W1'].grad:+.10f}")
    print(f"  closed forms: dE/dW0 = {dw0:+.10f}   dE/dW1 = {dw1:+.10f}")
    agree = math.isclose(n["W0"].grad, dw0, rel_tol=1e-12) and math.isclose(n["W1"].grad, dw1, rel_tol=1e-12)
    if not agree:
        raise SystemExit("backward disagrees with the posts' closed forms")


def train_moons(out: Path, steps: int) -> float:
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, SGD with a decaying rate; returns accuracy."""
    xs, ys = nn.datasets.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    history = nn.History()
    for k in range(steps):
        loss, accuracy = loss_and_accuracy(model, xs, ys)  # mean hinge loss + 1e-4 L2, as micrograd
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= learning_rate(k) * p.grad
        history.loss.append(loss.data)
        history.accuracy.append(accuracy)
    final_loss, final_accuracy = loss_and_accuracy(model, xs, ys)
    print(f"moons: MLP(2, [16, 16, 1]) after {steps} steps: loss {final_loss.data:.4f}, "
          f"training accuracy {final_accuracy:.0%}")
    viz.plot_history(history, out / "moons_history.png")
    viz.plot_decision_boundary(model, xs, ys, path=out / "moons_decision_boundary.png")
    # The point with the smallest margin: its hinge loss is positive, so gradients reach every layer.
    i = hardest_point(model, xs, ys)
    one = one_point_loss(model, xs[i], ys[i])  # zeroes the gradients training left, then backward
    print(f"  one point's hinge loss drawn (point #{i}, label {ys[i]:+g}): {one.data:.4f}")
    # One box per layer fits a screen (one box per neuron is 8,500 px wide); one neuron up close.
    viz.render(viz.draw(one, group="layer", legend=True), out / "moons_mlp_grouped.svg")
    viz.render(viz.draw(one, group="layer", legend=True), out / "moons_mlp_grouped.png", format="png")
    live, dead = closeup_neuron(one, [f"L2.n{k}" for k in range(16)])
    viz.render(viz.neighbourhood(one, live), out / "moons_neuron_closeup.png", format="png")
    found = viz.deltas(one, live)
    print(f"  close-up (moons_neuron_closeup.png): {live}, the second-layer neuron with the largest "
          f"|δ| on this point, δ = {found.delta:.4g} (z = {found.z:.4g})")
    if dead:
        print(f"  {len(dead)} of 16 second-layer neurons are dead on this point ({', '.join(dead)}): "
              "their z < 0, so relu passes no gradient back (relu'(z) = 0) and every edge of theirs reads 0")
    return final_accuracy


def closeup_neuron(loss: Value, neurons: list[str]) -> tuple[str, list[str]]:
    """The neuron of `neurons` with the largest |delta| on `loss` (gradient flows through it), and
    the dead ones (delta 0: a ReLU with z < 0 passes nothing back, so a close-up reads 0 everywhere)."""
    found = {name: viz.deltas(loss, name) for name in neurons}
    live = max(neurons, key=lambda name: abs(found[name].delta))
    return live, [name for name in neurons if found[name].delta == 0.0 and found[name].z <= 0.0]


def replay_moons(out: Path) -> None:
    """nn.fit with a frame every 5 steps, written as a page that plays and scrubs through them."""
    xs, ys = nn.datasets.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    history = nn.fit(model, xs, ys, loss="hinge", lr=0.1, epochs=60, record=5, progress=False)
    viz.save_training_html(history, out / "moons_training.html", xs=xs, ys=ys)
    print(f"  nn.fit replay: {len(history.frames)} frames, loss {history.loss[0]:.4f} -> "
          f"{history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.0%} (moons_training.html)")


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
    replay_moons(out)
    if args.steps >= 100 and accuracy < 1.0:
        raise SystemExit(f"moons: expected 100% training accuracy as in micrograd's demo, got {accuracy:.0%}")
    print(f"\nwrote {len(os.listdir(out))} files to {out}:")
    for name in sorted(os.listdir(out)):
        print(f"  {name}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
