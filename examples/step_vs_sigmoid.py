"""Step vs sigmoid (post "Demystifying neural networks": "we cannot use [gradient descent] yet ... we have
a discontinuous function", and Werbos' fix, the sigmoid).

Reproduces the post's reason for the sigmoid: the same small network (2 inputs, 2 hidden neurons,
1 output, every neuron z = W x + b followed by the activation), the same data (the AND truth
table), the same starting weights and learning rate, trained by gradient descent on
E = 1/2 sum (Y' - Y)^2 with two activations:

    step      every gradient backward computes is exactly 0.0 (step' = 0 wherever it is defined,
              and at 0 it jumps), so the weights never move and E never changes: nothing learns;
    sigmoid   s' = s (1 - s) > 0 everywhere, so the gradient points downhill and E falls.

Pictures: both activations and their derivatives (the derivatives obtained by autograd's backward,
checked against s (1 - s) and central differences), and the two error curves.

Run from the repository root:  .venv/bin/python examples/step_vs_sigmoid.py [--fast] [--out DIR]
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, pyplot, save_figure

from autograd import Value, numerical_grad, weighted_sum

NAME = "step_vs_sigmoid"
DATA = [((0.0, 0.0), 0.0), ((0.0, 1.0), 0.0), ((1.0, 0.0), 0.0), ((1.0, 1.0), 1.0)]  # AND
HIDDEN = 2
LEARNING_RATE = 2.0
SEED = 3
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {"step": Value.step, "sigmoid": Value.sigmoid}


@dataclass
class Network:
    """A 2-2-1 network's parameters: hidden weights and biases, output weights and bias."""

    hidden_weights: list[list[Value]]
    hidden_biases: list[Value]
    out_weights: list[Value]
    out_bias: Value

    def parameters(self) -> list[Value]:
        """Every weight and bias, in a fixed order."""
        flat = [w for row in self.hidden_weights for w in row]
        return [*flat, *self.hidden_biases, *self.out_weights, self.out_bias]


def make_network(starts: Sequence[float]) -> Network:
    """A network whose parameters start at `starts` (9 numbers), labelled W/b as the posts write them."""
    it = iter(starts)
    hidden = [[Value(next(it), label=f"W{j}{i}") for i in range(2)] for j in range(HIDDEN)]
    biases = [Value(next(it), label=f"b{j}") for j in range(HIDDEN)]
    out = [Value(next(it), label=f"V{j}") for j in range(HIDDEN)]
    return Network(hidden, biases, out, Value(next(it), label="c"))


def total_error(net: Network, act: Callable[[Value], Value]) -> Value:
    """E = 1/2 sum over the data of (Y' - Y)^2."""
    terms = []
    for x, y in DATA:
        h = [act(weighted_sum(row, x, b)) for row, b in zip(net.hidden_weights, net.hidden_biases)]
        y_hat = act(weighted_sum(net.out_weights, h, net.out_bias))
        terms.append((y_hat - y) ** 2)
    e = 0.5 * sum(terms[1:], terms[0])
    e.label = "E"
    return e


def train(starts: Sequence[float], activation: str, steps: int) -> tuple[list[float], list[list[float]]]:
    """Gradient descent; E before each step (and after the last) and every step's parameter gradients."""
    net = make_network(starts)
    act = ACTIVATIONS[activation]
    errors: list[float] = []
    grads: list[list[float]] = []
    for _ in range(steps):
        for p in net.parameters():
            p.grad = 0.0
        e = total_error(net, act)
        e.backward()
        errors.append(e.data)
        grads.append([p.grad for p in net.parameters()])
        for p in net.parameters():
            p.data -= LEARNING_RATE * p.grad
    errors.append(total_error(net, act).data)
    return errors, grads


def slope_by_backward(activation: str, x: float) -> float:
    """d act(x) / dx from one backward pass."""
    v = Value(x)
    ACTIVATIONS[activation](v).backward()
    return v.grad


def plot_activations(xs: Sequence[float], path: Path) -> Path:
    """Step and sigmoid (left) and their derivatives from backward (right)."""
    plt = pyplot(NAME)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = {"step": "tab:red", "sigmoid": "tab:blue"}
    for name, act in ACTIVATIONS.items():
        left.plot(xs, [act(Value(x)).data for x in xs], color=colors[name], label=name)
        right.plot(xs, [slope_by_backward(name, x) for x in xs], color=colors[name],
                   label=f"{name}' (backward)")
    left.set_title("Activations")
    left.set_ylabel("f(z)")
    right.set_title("Derivatives, from backward")
    right.set_ylabel("f'(z)")
    right.annotate("step jumps at 0: no derivative there,\nand 0 everywhere else", (0.0, 0.0),
                   xytext=(1.2, 0.12), arrowprops={"arrowstyle": "->"}, fontsize=8)
    for ax in (left, right):
        ax.set_xlabel("z")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_errors(curves: dict[str, list[float]], path: Path) -> Path:
    """E per gradient-descent step for both activations."""
    plt = pyplot(NAME)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    styles = {"step": ("tab:red", "--"), "sigmoid": ("tab:blue", "-")}
    for name, errors in curves.items():
        color, style = styles[name]
        label = f"{name}: E {errors[0]:.3g} -> {errors[-1]:.3g}"
        ax.plot(range(len(errors)), errors, style, color=color, label=label)
    ax.set_title(f"Same 2-{HIDDEN}-1 network on AND, learning rate {LEARNING_RATE:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("E = 1/2 sum (Y' - Y)^2")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return both error curves and the step network's gradients."""
    args = parse_args(__doc__ or NAME, argv)
    folder = output_dir(NAME, args.out)
    rng = random.Random(SEED)
    starts = [rng.uniform(-1.0, 1.0) for _ in range(3 * HIDDEN + HIDDEN + 1)]
    steps = 150 if args.fast else 1000

    xs = [i / 20 for i in range(-120, 121)]
    for x in xs[::10]:
        s = Value(x).sigmoid().data
        by_backward = slope_by_backward("sigmoid", x)
        check(abs(by_backward - s * (1 - s)) <= 1e-12, f"sigmoid'({x:g}) from backward equals s(1 - s)")
        numeric = numerical_grad(lambda p: Value(p[0]).sigmoid(), [x])[0]
        check(abs(by_backward - numeric) <= 1e-6, f"sigmoid'({x:g}) from backward equals central differences")
        check(slope_by_backward("step", x) == 0.0, f"step'({x:g}) from backward is 0.0")
    jump = numerical_grad(lambda p: Value(p[0]).step(), [0.0], eps=1e-6)[0]
    print(f"step' by backward is 0.0 everywhere; central differences at the jump z = 0 give {jump:.3g} "
          "= 1/(2h): no derivative there")

    curves: dict[str, list[float]] = {}
    step_grads: list[list[float]] = []
    for name in ACTIVATIONS:
        errors, grads = train(starts, name, steps)
        curves[name] = errors
        if name == "step":
            step_grads = grads
        print(f"\n{name}: {steps} steps of gradient descent, learning rate {LEARNING_RATE:g}")
        for t in sorted({0, 1, 10, 50, 100, steps}):
            if t < len(errors):
                print(f"  step {t:>4}  E = {errors[t]:.6f}" + (f"  max |grad| = {max(map(abs, grads[t])):.3g}"
                                                                 if t < len(grads) else ""))

    step_errors, sigmoid_errors = curves["step"], curves["sigmoid"]
    check(step_errors[0] > 0, "the step network starts with some wrong outputs (E > 0)")
    check(all(g == 0.0 for grads in step_grads for g in grads),
          "with step, every parameter's gradient is exactly 0.0 on every step")
    check(all(e == step_errors[0] for e in step_errors), "with step, E never changes")
    check(sigmoid_errors[-1] < 0.5 * sigmoid_errors[0], "with sigmoid, E falls to less than half its start")
    check(sigmoid_errors[-1] < sigmoid_errors[0] and sigmoid_errors[-1] == min(sigmoid_errors),
          "with sigmoid, E ends at its lowest value")
    print(f"\nstep: E stays {step_errors[0]:.6f}; "
          f"sigmoid: E {sigmoid_errors[0]:.6f} -> {sigmoid_errors[-1]:.6f}")

    files = [plot_activations(xs, folder / "activations.png"),
             plot_errors(curves, folder / "error_curves.png")]
    print(f"\nPictures written to {folder}")
    return {"errors": curves, "step_grads": step_grads, "steps": steps, "files": files, "folder": folder}


if __name__ == "__main__":
    main(sys.argv[1:])
