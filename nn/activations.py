"""Activation functions by name (autograd's activation table), and the weight initialisation each calls for.

The names, display names and formulas live in `autograd.activations` (viz and the digit pad read
the same table). This module adds what a network needs: checking a name, applying it, and the bound
of the initial weights.

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
from autograd.activations import LEAKY_SLOPE, NAMES, TABLE
from autograd.checks import needs

__all__ = [
    "ACTIVATIONS", "DISPLAY_NAMES", "LEAKY_SLOPE", "SEVERAL_NODES",
    "activate", "check_activation", "init_bound",
]

ACTIVATIONS: tuple[str, ...] = NAMES
"""Every activation name a Neuron, Layer or MLP accepts (autograd's table, in its order)."""

DISPLAY_NAMES: dict[str, str] = {name: row.display for name, row in TABLE.items()}
"""Names used in repr (micrograd prints ReLUNeuron / LinearNeuron)."""

SEVERAL_NODES: frozenset[str] = frozenset(name for name, row in TABLE.items() if row.composed)
"""The activations `activate` builds from several operations (every other one is one node, or none)."""


def check_activation(name: object, where: str = "activation") -> str:
    """`name` if it is a known activation, else a ValueError (TypeError for a non-str) listing them."""
    what = f"an activation name (one of {', '.join(ACTIVATIONS)})"
    if not isinstance(name, str):
        raise TypeError(needs(where, what, name))
    if name not in TABLE:
        raise ValueError(needs(where, what, name))
    return name


def activate(name: str, z: Value) -> Value:
    """Apply the activation called `name` to the pre-activation `z` (linear returns z itself)."""
    if type(name) is not str or name not in TABLE:
        check_activation(name)  # raises, naming the valid names
    return TABLE[name].apply(z)


def init_bound(name: str, fan_in: int, fan_out: int) -> float:
    """Half-width a of the uniform [-a, a] weight initialisation for this activation (see module doc)."""
    if TABLE[check_activation(name)].init == "he":
        return math.sqrt(6.0 / fan_in)
    return math.sqrt(6.0 / (fan_in + fan_out))
