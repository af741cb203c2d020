"""The gradient doctor: why isn't it learning? `nn.diagnose` looks at one forward and backward pass.

    report = nn.diagnose(model, xs, ys, loss="squared_error", history=history, optimizer=optimizer)
    report = nn.diagnose(loss_value)          # a hand-built graph
    print(report); report.findings; report.neurons

Each finding has a `.kind` from this set (nn.doctor.KINDS), a one-line `.summary` with numbers,
the `.neurons` it names (scope tags such as "L1.n3"), `.meaning` (in the posts' terms) and `.advice`:
- `dead-relu`: a ReLU whose z <= 0 on every sample (no gradient reaches its weights);
- `saturated`: a hidden sigmoid/tanh flat (slope < 1% of its peak) on >= 75% of the samples, or a
  step/sign neuron (slope 0 everywhere);
- `vanishing` / `exploding`: the mean |dE/dw| of the first layer below 1e-3 (above 1e3) times the
  last layer's;
- `learning-rate`: the loss per epoch (`history=`) rising, NaN, or going up on a third of the
  epochs and ending above its lowest by more than a fifth of what it had fallen; or SGD's
  lr * mean |dE/dw| / mean |w| above 0.1 in a layer (`optimizer=` or `lr=`; the rule of thumb is
  about 1e-3);
- `constant-output`: every sample gets the same prediction although the targets differ;
- `labels`: targets that do not fit the loss or the output neuron (hinge with 0/1, binary
  cross-entropy with -1/+1 or without a sigmoid output, a sigmoid output with targets outside [0, 1]);
- `stale-grad`: the leaves' grads are not the loss's gradient (an earlier backward's were left on
  them: `zero_grad()` forgotten), or the last backward warned with autograd.StaleGradWarning.

Nothing the doctor does changes the model or any grad: the pass runs with the grads saved and put
back. With a model it costs one forward and backward over the samples given (pass a few hundred).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from autograd import Value, stale, topological_order, weighted_sum
from nn import losses as _losses
from nn.activations import activate
from nn.doctor import checks
from nn.doctor.checks import Unit
from nn.doctor.findings import KINDS, Finding
from nn.doctor.report import Report
from nn.layers import MLP, Output
from nn.optim import SGD, Optimizer

__all__ = ["KINDS", "Finding", "Report", "diagnose"]

_LOSSES: dict[str, Callable[[Any, Any], Value]] = {
    "squared_error": _losses.squared_error,
    "mse": _losses.mse,
    "hinge": _losses.hinge,
    "binary_cross_entropy": _losses.binary_cross_entropy,
    "cross_entropy": _losses.cross_entropy,
}
_LAYER = re.compile(r"^(L\d+)(?:\.|$)")


def diagnose(
    target: MLP | Value,
    xs: Sequence[Sequence[float]] | None = None,
    ys: Sequence[Any] | None = None,
    loss: Callable[[Any, Any], Value] | str = "squared_error",
    *,
    history: Any = None,
    optimizer: Optimizer | None = None,
    lr: float | None = None,
) -> Report:
    """Why isn't it learning? A Report of findings for `model` on (xs, ys), or for a loss Value.

    `history` (fit's History, or a list of losses per epoch) and `optimizer` or `lr` let it judge
    the learning rate. See the module docstring for the kinds of findings.
    """
    if isinstance(target, Value):
        if xs is not None or ys is not None:
            raise TypeError("diagnose(loss_value) takes no xs or ys: they are already in the graph")
        report, layers = _diagnose_graph(target), None
    elif isinstance(target, MLP):
        if xs is None or ys is None:
            raise TypeError("diagnose(model, xs, ys) needs the samples xs and their targets ys")
        report, layers = _diagnose_model(target, list(xs), list(ys), loss)
    else:
        raise TypeError(
            f"diagnose needs an nn.MLP (with xs, ys) or a loss Value, got {type(target).__name__}"
        )
    # The learning rate first: when it is too large, the other findings are its consequences.
    report.findings[:0] = _learning_rate(history, optimizer, lr, layers)
    return report


# ---------------------------------------------------------------- a model on samples


def _loss_name(loss: Callable[[Any, Any], Value] | str) -> tuple[str, Callable[[Any, Any], Value]]:
    """(name or "", callable) for a loss given by name or as a function."""
    if isinstance(loss, str):
        if loss not in _LOSSES:
            raise ValueError(f"diagnose: unknown loss {loss!r}; valid names: {', '.join(_LOSSES)}")
        return loss, _LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"diagnose(loss) needs a callable or a loss name, got {type(loss).__name__}")
    return next((name for name, fn in _LOSSES.items() if fn is loss), ""), loss


def _diagnose_model(
    model: MLP, xs: list[Any], ys: list[Any], loss: Callable[[Any, Any], Value] | str
) -> tuple[Report, list[tuple[str, float, float]] | None]:
    """Labels first (a mismatch makes the loss itself fail), then one pass over the samples.

    Also returns per layer (name, mean |dE/dw|, mean |w|) for the learning-rate check.
    """
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"diagnose needs equally many (>= 1) xs and ys, got {len(xs)} and {len(ys)}")
    name, loss_fn = _loss_name(loss)
    last = model.layers[-1]
    checked = f"{type(model).__name__} on {len(xs)} samples" + (f", {name} loss" if name else "")
    found = checks.labels(name, last.activation, last.nout, ys)
    if found:
        return Report(found, checked), None
    stale_before = stale.warned()
    units, outputs, layers = _model_pass(model, xs, ys, loss_fn)
    dead = checks.dead_relu(units)
    findings = [*dead, *checks.saturated(units)]
    findings += checks.gradient_sizes([(n, g) for n, g, _ in layers], bool(dead))
    findings += checks.constant_output(outputs, ys)
    if stale_before:
        findings.append(
            Finding(
                "stale-grad",
                "the last backward in this thread added onto grads another backward left "
                "(autograd.StaleGradWarning)",
            )
        )
    return Report(findings, checked), layers


def _model_pass(
    model: MLP, xs: list[Any], ys: list[Any], loss_fn: Callable[[Any, Any], Value]
) -> tuple[list[Unit], list[list[float]], list[tuple[str, float, float]]]:
    """Per neuron z and a over the samples, the outputs, and per layer (name, mean |dE/dw|, mean |w|)."""
    units = {
        n.name: Unit(n.name, n.activation, output=k == len(model.layers) - 1)
        for k, layer in enumerate(model.layers)
        for n in layer.neurons
    }
    params = model.parameters()
    outputs: list[list[float]] = []
    with stale.isolated(params):
        terms = []
        for x, y in zip(xs, ys):
            h: list[Value] = [v if isinstance(v, Value) else Value(float(v)) for v in x]
            for layer in model.layers:
                h = [_neuron(n, h, units[n.name]) for n in layer.neurons]
            outputs.append([v.data for v in h])
            pred: Output = h[0] if len(h) == 1 else h
            terms.append(loss_fn(pred, y))
        mean = _losses.sum_values(terms) * (1.0 / len(terms))
        mean.backward()
        layers = [
            (
                f"L{k + 1}",
                _mean_abs([w.grad for n in layer.neurons for w in n.w]),
                _mean_abs([w.data for n in layer.neurons for w in n.w]),
            )
            for k, layer in enumerate(model.layers)
        ]
    return list(units.values()), outputs, layers


def _neuron(n: Any, h: list[Value], unit: Unit) -> Value:
    """One neuron's output on inputs h, recording its z and a in `unit`."""
    z = weighted_sum(n.w, h, n.b)
    a = activate(n.activation, z)
    unit.zs.append(z.data)
    unit.outs.append(a.data)
    return a


def _mean_abs(values: Sequence[float]) -> float:
    """Mean of |v| (0.0 for none)."""
    return sum(abs(v) for v in values) / len(values) if values else 0.0


# ---------------------------------------------------------------- a hand-built graph


_ACTIVATION_OPS = ("relu", "sigmoid", "tanh", "step", "sign")


def _diagnose_graph(root: Value) -> Report:
    """Activation nodes grouped by scope, gradient sizes by layer scope, leaves' grads vs a fresh pass."""
    order = topological_order(root)
    units: dict[str, Unit] = {}
    for node in order:
        if node.op in _ACTIVATION_OPS and node.parents:
            name = node.scope or node.label or f"{node.op} node"
            unit = units.setdefault(name, Unit(name, node.op))
            unit.zs.append(node.parents[0].data)
            unit.outs.append(node.data)
    leaves = [node for node in order if not node.parents]
    now = [leaf.grad for leaf in leaves]
    with stale.isolated(order):
        root.backward()
        fresh = [leaf.grad for leaf in leaves]
    layers: dict[str, list[float]] = {}
    for leaf, g in zip(leaves, fresh):
        match = _LAYER.match(leaf.scope)
        if match:
            layers.setdefault(match.group(1), []).append(g)
    sizes = [(name, _mean_abs(gs)) for name, gs in sorted(layers.items(), key=lambda kv: int(kv[0][1:]))]
    dead = checks.dead_relu(list(units.values()))
    findings = [*dead, *checks.saturated(list(units.values()))]
    findings += checks.gradient_sizes(sizes, bool(dead))
    findings += _stale_leaves(leaves, now, fresh)
    return Report(findings, f"a graph of {len(order)} nodes, {len(leaves)} leaves")


def _stale_leaves(leaves: list[Value], now: list[float], fresh: list[float]) -> list[Finding]:
    """Leaves whose grad is set but is not this loss's gradient (leftovers of another backward)."""
    if not any(now):
        return []  # backward has not run yet: nothing to compare
    off = [
        (leaf, g, f)
        for leaf, g, f in zip(leaves, now, fresh)
        if abs(g - f) > 1e-9 * max(1.0, abs(f)) and not leaf.is_constant
    ]
    if not off:
        return []
    leaf, g, f = off[0]
    name = leaf.label or leaf.scope or "a leaf"
    return [
        Finding(
            "stale-grad",
            f"{len(off)} leaves hold grads that are not this loss's gradient: {name!r} has grad {g:.4g}, "
            f"this loss gives {f:.4g}",
            list(dict.fromkeys(leaf.scope for leaf, _, _ in off if leaf.scope)),
            {"leaves": len(off), "grad": g, "fresh": f},
        )
    ]


# ---------------------------------------------------------------- the learning rate


def _learning_rate(
    history: Any, optimizer: Optimizer | None, lr: float | None, layers: list[tuple[str, float, float]] | None
) -> list[Finding]:
    """From the loss per epoch, and from SGD's update-to-weight ratio per layer."""
    losses = getattr(history, "loss", history)
    found = []
    if losses is not None:
        if isinstance(losses, (str, bytes)) or not isinstance(losses, Sequence):
            raise TypeError(
                f"diagnose(history) needs fit's History or a list of losses, got {type(history).__name__}"
            )
        found += checks.loss_curve([float(x) for x in losses])
    if optimizer is not None and lr is not None:
        raise ValueError("diagnose takes optimizer= or lr=, not both")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"diagnose(optimizer) needs an nn.optim Optimizer, got {type(optimizer).__name__}")
    if isinstance(optimizer, SGD):
        lr = optimizer.lr  # Adam's step is about lr per weight whatever the gradient: no ratio
    if lr is not None and layers and not found:
        found += checks.update_ratio(layers, float(lr))
    return found
