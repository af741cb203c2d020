"""Activation functions by name, and the weight initialisation each one calls for.

The posts' activations: `step` (the threshold neuron: 1 if z >= 0 else 0), `sign` (-1/+1),
`sigmoid`, the ramp `relu`, plus `tanh`, `linear` (no activation) and `leaky_relu`.

Initialisation (weights uniform in [-a, a], biases 0):
- Xavier/Glorot, a = sqrt(6 / (fan_in + fan_out)), for `sigmoid` and `tanh`: it keeps the
  variance of z near 1 where these curves are steep.
- He/Kaiming, a = sqrt(6 / fan_in), for `relu` and `leaky_relu`: it makes up for the half of the
  inputs that the ramp zeroes.
- Xavier for `linear`, `step` and `sign`: the identity has slope 1 like tanh at 0, and the
  threshold functions have zero derivative, so no scheme helps them learn; Xavier keeps z moderate.
"""

from __future__ import annotations

import math

from autograd import Value

ACTIVATIONS: tuple[str, ...] = ("linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu")
"""Every activation name a Neuron, Layer or MLP accepts."""

LEAKY_SLOPE = 0.01
"""leaky_relu's slope for z < 0 (PyTorch's default negative_slope)."""

# Names used in repr (micrograd prints ReLUNeuron / LinearNeuron).
DISPLAY_NAMES: dict[str, str] = {
    "linear": "Linear",
    "step": "Step",
    "sign": "Sign",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
}


def check_activation(name: object, where: str = "activation") -> str:
    """`name` if it is a known activation, else a ValueError (TypeError for a non-str) listing them."""
    if not isinstance(name, str):
        raise TypeError(f"{where} needs an activation name (str), got {type(name).__name__} {name!r}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown {where} {name!r}; valid names: {', '.join(ACTIVATIONS)}")
    return name


SEVERAL_NODES: frozenset[str] = frozenset({"leaky_relu"})
"""The activations `activate` builds from several operations (every other one is one node, or none)."""


def activate(name: str, z: Value) -> Value:
    """Apply the activation called `name` to the pre-activation `z` (linear returns z itself)."""
    if name == "relu":
        return z.relu()
    if name == "sigmoid":
        return z.sigmoid()
    if name == "tanh":
        return z.tanh()
    if name == "linear":
        return z
    if name == "step":
        return z.step()
    if name == "sign":
        return z.sign()
    if name == "leaky_relu":
        # leaky_relu(z) = relu(z) - 0.01 relu(-z), built from existing ops so every node and local
        # derivative stays visible. NOTE: at z = 0 both ramps are flat, so leaky_relu'(0) = 0.
        return z.relu() - LEAKY_SLOPE * (-z).relu()
    raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(ACTIVATIONS)}")


def init_bound(name: str, fan_in: int, fan_out: int) -> float:
    """Half-width a of the uniform [-a, a] weight initialisation for this activation (see module doc)."""
    check_activation(name)
    if name in ("relu", "leaky_relu"):
        return math.sqrt(6.0 / fan_in)
    return math.sqrt(6.0 / (fan_in + fan_out))
