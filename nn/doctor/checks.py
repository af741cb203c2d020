"""The gradient doctor's checks: each reads measured numbers and returns Findings (or none).

The numbers come from one forward and backward pass (`Unit`s per neuron, gradient sizes per
layer); nothing here computes gradients itself.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import ops
from autograd.checks import is_real
from nn.doctor.findings import Finding

SATURATED_SLOPE = 0.01
"""A sigmoid or tanh is saturated at a sample when its slope is below this fraction of its peak."""

SATURATED_SHARE = 0.75
"""...and a unit is reported when it is saturated on at least this share of the samples."""

VANISHING_RATIO = 1e-3
"""The first layer's mean |dE/dw| below this times the last layer's: vanishing (its inverse: exploding)."""

UPDATE_RATIO = 0.1
"""lr * |dE/dw| / |w| above this (the rule of thumb is ~1e-3): each step moves weights by > 10%."""

SMOOTH = ("sigmoid", "tanh")
"""The activations whose slope fades as |z| grows (their rows' derivative peaks at z = 0)."""


@dataclass
class Unit:
    """One neuron (or one scope of activation nodes) over the samples: its z, a and dE/da per sample."""

    name: str
    activation: str
    zs: list[float] = field(default_factory=list)
    outs: list[float] = field(default_factory=list)
    output: bool = False


def slope(activation: str, z: float) -> float:
    """The activation's derivative at z, read from its row of the op table (sigmoid or tanh)."""
    return float(getattr(ops, activation).fn(z)[1])


def _names(names: Sequence[str], most: int = 8) -> str:
    """At most `most` names, then "+k more"."""
    shown = ", ".join(names[:most])
    return shown + (f" (+{len(names) - most} more)" if len(names) > most else "")


def dead_relu(units: Sequence[Unit]) -> list[Finding]:
    """ReLU units whose z <= 0 on every sample: relu'(z) = 0 there, no gradient reaches their weights."""
    relus = [u for u in units if u.activation == "relu" and u.zs]
    dead = [u for u in relus if max(u.zs) <= 0.0]
    if not dead:
        return []
    samples = len(dead[0].zs)
    detail = ", ".join(f"{u.name} (largest z {max(u.zs):.3g})" for u in dead[:8])
    more = f" (+{len(dead) - 8} more)" if len(dead) > 8 else ""
    return [
        Finding(
            "dead-relu",
            f"{len(dead)} of {len(relus)} ReLU neurons have z <= 0 on all {samples} samples: {detail}{more}",
            [u.name for u in dead],
            {"dead": len(dead), "relus": len(relus), "samples": samples},
        )
    ]


def saturated(units: Sequence[Unit]) -> list[Finding]:
    """sigmoid/tanh units flat (slope < 1% of peak) on most samples; step and sign units (slope 0)."""
    flat: list[tuple[Unit, float]] = []
    for u in units:
        if u.output or not u.zs:
            continue
        if u.activation in ("step", "sign"):
            flat.append((u, 1.0))
        elif u.activation in SMOOTH:
            flat_below = SATURATED_SLOPE * slope(u.activation, 0.0)
            share = sum(1 for z in u.zs if slope(u.activation, z) < flat_below) / len(u.zs)
            if share >= SATURATED_SHARE:
                flat.append((u, share))
    if not flat:
        return []
    detail = ", ".join(f"{u.name} ({u.activation}, flat on {share:.0%})" for u, share in flat[:8])
    more = f" (+{len(flat) - 8} more)" if len(flat) > 8 else ""
    candidates = sum(1 for u in units if not u.output and u.activation in ("sigmoid", "tanh", "step", "sign"))
    return [
        Finding(
            "saturated",
            f"{len(flat)} of {candidates} sigmoid/tanh/step neurons pass (almost) no gradient: "
            f"{detail}{more}",
            [u.name for u, _ in flat],
            {"saturated": len(flat), "candidates": candidates},
        )
    ]


def gradient_sizes(layers: Sequence[tuple[str, float]], dead_layer: bool) -> list[Finding]:
    """Vanishing or exploding: how the mean |dE/dw| changes from the last layer to the first."""
    if len(layers) < 2:
        return []
    first, last = layers[0][1], layers[-1][1]
    if last == 0.0 or (first == 0.0 and dead_layer):
        return []  # no gradient at the output at all, or dead ReLUs explain the zeros
    ratio = first / last
    sizes = ", ".join(f"{name} {size:.2g}" for name, size in reversed(layers))
    numbers = {f"{name} mean |dE/dw|": size for name, size in layers}
    if ratio < VANISHING_RATIO:
        return [
            Finding(
                "vanishing",
                f"mean |dE/dw| per layer from the output: {sizes} "
                f"(the first layer gets {ratio:.2g} of the last's)",
                [],
                numbers,
            )
        ]
    if ratio > 1.0 / VANISHING_RATIO:
        return [
            Finding(
                "exploding",
                f"mean |dE/dw| per layer from the output: {sizes} "
                f"(the first layer gets {ratio:.3g}x the last's)",
                [],
                numbers,
            )
        ]
    return []


def constant_output(outputs: Sequence[Sequence[float]], ys: Sequence[Any]) -> list[Finding]:
    """Every sample gets the same prediction while the targets differ."""
    if len(outputs) < 2 or len({repr(y) for y in ys}) < 2:
        return []
    first = outputs[0][0]
    spread = max(o[0] for o in outputs) - min(o[0] for o in outputs)
    if spread > 1e-6 * max(1.0, abs(first)) or any(len(o) > 1 and o != outputs[0] for o in outputs):
        return []
    return [
        Finding(
            "constant-output",
            f"all {len(outputs)} samples get the same output {first:.4g} although the targets differ",
            [],
            {"output": first, "samples": len(outputs)},
        )
    ]


def labels(loss_name: str, output_activation: str, nout: int, ys: Sequence[Any]) -> list[Finding]:
    """Targets that do not fit the loss (hinge with 0/1, cross-entropy with ±1) or the output's range."""
    numbers = [float(y) for y in ys if is_real(y)]
    if nout != 1 or len(numbers) != len(ys):
        return []
    seen = sorted(set(numbers))
    low, high = seen[0], seen[-1]
    problem = ""
    if loss_name == "hinge" and not set(seen) <= {-1.0, 1.0}:
        problem = f"hinge needs labels -1 and +1, got {_labels(seen)} (map 0/1 labels with y*2-1)"
    elif loss_name == "binary_cross_entropy" and (low < 0.0 or high > 1.0):
        problem = (
            f"binary_cross_entropy needs targets in [0, 1], got {_labels(seen)} (map -1/+1 with (y+1)/2)"
        )
    elif loss_name == "binary_cross_entropy" and output_activation != "sigmoid":
        problem = f"binary_cross_entropy needs a probability, but the output neuron is {output_activation}"
    elif output_activation == "sigmoid" and (low < 0.0 or high > 1.0):
        problem = f"the output neuron is a sigmoid (0 to 1) but the targets reach {_labels(seen)}"
    elif output_activation == "tanh" and (low < -1.0 or high > 1.0):
        problem = f"the output neuron is a tanh (-1 to 1) but the targets reach {_labels(seen)}"
    if not problem:
        return []
    return [Finding("labels", problem, [], {"min target": low, "max target": high})]


def _labels(seen: Sequence[float]) -> str:
    """The distinct targets, at most 5."""
    return ", ".join(f"{y:g}" for y in seen[:5]) + (", ..." if len(seen) > 5 else "")


def loss_curve(losses: Sequence[float]) -> list[Finding]:
    """The loss per epoch rising overall, or going up and down on at least a third of the epochs."""
    if len(losses) < 3:
        return []
    if not all(math.isfinite(x) for x in losses):
        return [Finding("learning-rate", "the loss became inf or NaN", [], {"epochs": len(losses)})]
    ups = sum(1 for a, b in itertools.pairwise(losses) if b > a)
    first, last, low = losses[0], losses[-1], min(losses)
    numbers = {"first loss": first, "last loss": last, "rises": ups, "epochs": len(losses)}
    if last > first:
        return [Finding("learning-rate", f"the loss rose from {first:.4g} to {last:.4g}", [], numbers)]
    if ups >= (len(losses) - 1) / 3 and last - low > 0.2 * (first - low):
        return [
            Finding(
                "learning-rate",
                f"the loss went up on {ups} of {len(losses) - 1} epochs "
                f"({first:.4g} -> {last:.4g}, lowest {low:.4g})",
                [],
                numbers,
            )
        ]
    return []


def update_ratio(layers: Sequence[tuple[str, float, float]], lr: float) -> list[Finding]:
    """lr * mean |dE/dw| / mean |w| per layer (SGD's step relative to the weights) far above ~1e-3."""
    ratios = [(name, lr * g / w) for name, g, w in layers if w > 0.0]
    big = [(name, r) for name, r in ratios if r > UPDATE_RATIO]
    if not big:
        return []
    detail = ", ".join(f"{name} {r:.2g}" for name, r in big)
    return [
        Finding(
            "learning-rate",
            f"one step of lr={lr:g} moves the weights by lr*|dE/dw|/|w| = {detail} (about 1e-3 is typical)",
            [],
            {f"{name} update/weight": r for name, r in ratios},
        )
    ]
