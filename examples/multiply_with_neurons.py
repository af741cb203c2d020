"""Multiplying with four neurons (post "Introduction to Neural Networks Basics": "how a mere four neurons can
multiply two arbitrary numbers together").

Reproduces the construction behind the post's figure (Lin, Tegmark and Rolnick, "Why does deep and
cheap learning work so well?"): for a smooth activation f with f''(0) != 0,

    f(x) + f(-x) = 2 f(0) + f''(0) x^2 + O(x^4)          (the odd terms cancel)

so four hidden neurons with input weights (a, a), (-a, -a), (a, -a), (-a, a) and one linear output
neuron with weights mu, mu, -mu, -mu, mu = 1 / (4 a^2 f''(0)), compute

    u v ~ [f(a(u+v)) + f(-a(u+v)) - f(a(u-v)) - f(-a(u-v))] / (4 a^2 f''(0)),

with a relative error that shrinks like a^2 as the scale a shrinks (until, for very small a,
floating-point cancellation in the numerator takes over: the four values agree in more and more
digits, so about 1e-16 / a^2 of relative error is left; the table shows that floor).

The activation. The plain sigmoid s has s''(0) = 0 (it is point-symmetric about 0), so the formula
would divide by zero. The neurons therefore use their bias b as an operating point:
f(x) = s(x + b). With s' = s (1 - s), differentiating once more gives

    s'' = s' (1 - 2 s) = s (1 - s) (1 - 2 s),   so   f''(0) = s(b) (1 - s(b)) (1 - 2 s(b)),

which is non-zero for every b != 0 (b = 1 here: f''(0) = -0.0908...). For comparison the table
also uses softplus(x) = log(1 + e^x), whose f''(0) = s(0) (1 - s(0)) = 1/4.

Checks: the relative error decreases monotonically from a = 1 down to a = 2^-10 and is below 1e-3
at small a, for several (u, v); the fitted log-log slope is about 2; and the derivative of the
four-neuron product with respect to u (by backward) approximates v.

Run from the repository root:  .venv/bin/python examples/multiply_with_neurons.py [--fast] [--out DIR]
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _output import check, output_dir, parse_args, pyplot, save_diagram, save_figure

from autograd import Value, numerical_grad, weighted_sum

NAME = "multiply_with_neurons"
OPERATING_POINT = 1.0  # the bias b of the sigmoid neurons
U, V = 1.7, -0.6
OTHER_PAIRS = [(3.0, 2.0), (-0.5, 0.25), (0.9, 0.9), (-4.0, -1.5)]
CHECKED_EXPONENTS = range(0, 11)  # a = 2^0 ... 2^-10: the error must fall monotonically here
FLOOR_EXPONENTS = (12, 14, 16, 18, 20)  # a = 2^-12 ... 2^-20: shown, where rounding takes over


def sigmoid(z: float) -> float:
    """s(z) = 1 / (1 + e^-z) on plain floats."""
    return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Activation:
    """A smooth activation as a neuron applies it: f(z + bias), with the exact f''(0) of that f."""

    name: str
    bias: float
    apply: Callable[[Value], Value]
    second_derivative_at_0: float


def shifted_sigmoid(b: float) -> Activation:
    """f(x) = s(x + b), f''(0) = s(b) (1 - s(b)) (1 - 2 s(b))."""
    s = sigmoid(b)
    return Activation(f"sigmoid(x + {b:g})", b, Value.sigmoid, s * (1.0 - s) * (1.0 - 2.0 * s))


def softplus_value(z: Value) -> Value:
    """softplus(z) = log(1 + e^z) built from Value operations."""
    return (1.0 + z.exp()).log()


SOFTPLUS = Activation("softplus(x)", 0.0, softplus_value, 0.25)  # s(0) (1 - s(0)) = 1/4


def four_neuron_product(u: Value, v: Value, a: float, f: Activation) -> Value:
    """The network: 4 hidden neurons f(weights . (u, v) + b), then a linear output neuron."""
    hidden = []
    for k, (wu, wv) in enumerate(((a, a), (-a, -a), (a, -a), (-a, a))):
        z = weighted_sum([Value(wu, label=f"w{k}u"), Value(wv, label=f"w{k}v")], [u, v],
                         bias=Value(f.bias, label=f"b{k}"))
        h = f.apply(z)
        h.label = f"h{k}"
        hidden.append(h)
    mu = 1.0 / (4.0 * a * a * f.second_derivative_at_0)
    out = weighted_sum([Value(c * mu, label=f"mu{k}") for k, c in enumerate((1, 1, -1, -1))], hidden)
    out.label = f"u*v estimate (a={a:g})"
    return out


def relative_error(u: float, v: float, a: float, f: Activation) -> float:
    """|four-neuron product - u v| / |u v|."""
    return abs(four_neuron_product(Value(u), Value(v), a, f).data - u * v) / abs(u * v)


def log_log_slope(scales: Sequence[float], errors: Sequence[float]) -> float:
    """Least-squares slope of log(error) against log(a)."""
    xs = [math.log(a) for a in scales]
    ys = [math.log(e) for e in errors]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def plot_errors(table: dict[str, list[tuple[float, float]]], path: Path) -> Path:
    """Relative error against the scale a, log-log, with a slope-2 guide."""
    plt = pyplot(NAME)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, rows), marker in zip(table.items(), ("o", "s")):
        ax.loglog([a for a, _ in rows], [e for _, e in rows], marker + "-", label=name)
    a_ref = [2.0**-k for k in CHECKED_EXPONENTS]
    first = table[next(iter(table))][0][1]
    ax.loglog(a_ref, [first * a * a for a in a_ref], "k:", label="slope 2 (error ~ a^2)")
    ax.axvspan(2.0 ** -max(FLOOR_EXPONENTS), 2.0 ** -max(CHECKED_EXPONENTS), color="tab:gray", alpha=0.15,
               label="not asserted: rounding (~1e-16 / a^2) takes over")
    ax.set_title(f"u v by four neurons: relative error vs scale a (u = {U:g}, v = {V:g})")
    ax.set_xlabel("scale a of the hidden weights (log)")
    ax.set_ylabel("|estimate - u v| / |u v|  (log)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the error tables, the fitted slopes and the d/du check."""
    args = parse_args(__doc__ or NAME, argv)
    folder = output_dir(NAME, args.out)
    sig = shifted_sigmoid(OPERATING_POINT)
    activations = [sig, SOFTPLUS]

    s0 = sigmoid(0.0)
    print(f"sigmoid''(0) = s(0)(1 - s(0))(1 - 2 s(0)) = {s0 * (1 - s0) * (1 - 2 * s0):g}: unusable; "
          f"with the bias b = {OPERATING_POINT:g}, f''(0) = {sig.second_derivative_at_0:.12f}")
    for f in activations:
        # Independent check of f''(0): central differences of f' (itself computed by backward).
        def slope(p: list[float], f: Activation = f) -> float:
            x = Value(p[0])
            f.apply(x + f.bias).backward()
            return x.grad

        numeric = numerical_grad(slope, [0.0], eps=1e-5)[0]
        print(f"  {f.name:<16} f''(0) exact {f.second_derivative_at_0:+.10f}, "
              f"central differences of backward's f' {numeric:+.10f}")
        check(abs(numeric - f.second_derivative_at_0) <= 1e-6, f"{f.name}: f''(0) equals central differences")

    exponents = list(CHECKED_EXPONENTS) + ([] if args.fast else list(FLOOR_EXPONENTS))
    table: dict[str, list[tuple[float, float]]] = {f.name: [] for f in activations}
    print(f"\nu = {U:g}, v = {V:g}, u v = {U * V:g}")
    print(f"  {'a':>12}  " + "  ".join(f"{f.name + ' estimate':>26} {'rel. error':>10}" for f in activations))
    for k in exponents:
        a = 2.0**-k
        cells = []
        for f in activations:
            estimate = four_neuron_product(Value(U), Value(V), a, f).data
            err = abs(estimate - U * V) / abs(U * V)
            table[f.name].append((a, err))
            cells.append(f"{estimate:>26.12f} {err:>10.2e}")
        note = "" if k in CHECKED_EXPONENTS else "  (rounding floor)"
        print(f"  {'2^-' + str(k):>12}  " + "  ".join(cells) + note)

    slopes = {}
    for f in activations:
        checked = [(a, e) for a, e in table[f.name] if a >= 2.0 ** -max(CHECKED_EXPONENTS)]
        errors = [e for _, e in checked]
        check(all(b < a for a, b in itertools.pairwise(errors)),
              f"{f.name}: the relative error falls monotonically as a shrinks from 1 to 2^-10")
        check(errors[-1] < 1e-3, f"{f.name}: relative error below 1e-3 at a = 2^-10 (got {errors[-1]:.2g})")
        slopes[f.name] = log_log_slope([a for a, _ in checked[3:]], errors[3:])
        print(f"  {f.name}: fitted log-log slope over a = 2^-3 ... 2^-10: {slopes[f.name]:.3f} (theory: 2)")
        check(1.9 < slopes[f.name] < 2.1, f"{f.name}: error ~ a^2 (slope {slopes[f.name]:.3f})")

    a_small = 2.0**-8
    print(f"\nOther pairs at a = 2^-8 ({sig.name}), and d(product)/du by backward (should be v), d/dv (u):")
    derivatives = {}
    for u, v in [(U, V), *OTHER_PAIRS]:
        uu, vv = Value(u, label="u"), Value(v, label="v")
        out = four_neuron_product(uu, vv, a_small, sig)
        out.backward()
        derivatives[(u, v)] = (uu.grad, vv.grad)
        err = abs(out.data - u * v) / abs(u * v)
        print(f"  u = {u:+5g}, v = {v:+5g}: product {out.data:+.8f} (u v = {u * v:+.8f}, "
              f"rel. error {err:.1e}); d/du = {uu.grad:+.8f}, d/dv = {vv.grad:+.8f}")
        check(err < 1e-3, f"the four neurons multiply {u:g} by {v:g} to 1e-3")
        check(abs(uu.grad - v) <= 1e-3 * max(1.0, abs(v)), f"d(product)/du approximates v = {v:g}")
        check(abs(vv.grad - u) <= 1e-3 * max(1.0, abs(u)), f"d(product)/dv approximates u = {u:g}")

    files = [plot_errors(table, folder / "error_vs_scale.png")]
    import viz

    net = four_neuron_product(Value(U, label="u"), Value(V, label="v"), 0.5, sig)
    net.backward()
    files += save_diagram(viz.draw(net, local_grads=True), folder, "four_neurons")
    print(f"\nPictures written to {folder}")
    return {"table": table, "slopes": slopes, "derivatives": derivatives, "second_derivatives":
            {f.name: f.second_derivative_at_0 for f in activations}, "files": files, "folder": folder}


if __name__ == "__main__":
    main(sys.argv[1:])
