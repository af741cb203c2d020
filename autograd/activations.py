"""The activation functions a neuron may apply, by name: the one table nn, viz and the digit pad read.

The posts' activations: `step` (the threshold neuron: 1 if z >= 0 else 0), `sign` (-1/+1),
`sigmoid`, the ramp `relu`, plus `tanh`, `linear` (no activation) and `leaky_relu`. Each row says
how to apply it to a Value (built from the op table's rows, so every node and local derivative
stays visible), its display name, and which weight initialisation suits it (see nn.activations).
A new activation is one row here: nn accepts it, model files store it, plots draw it, and the
digit pad's test fails until its page implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from autograd.value import Value

LEAKY_SLOPE = 0.01
"""leaky_relu's slope for z < 0 (PyTorch's default negative_slope)."""


@dataclass(frozen=True)
class Activation:
    """One activation: its name, how it is applied to a Value, and what depends on it."""

    name: str
    """The name a Neuron, Layer, MLP and a model file use ("leaky_relu")."""
    display: str
    """The name in a module's repr, as micrograd prints it ("ReLU" in ReLUNeuron)."""
    apply: Callable[[Value], Value]
    """activation(z) as graph operations (`linear` returns z itself: no node)."""
    init: Literal["xavier", "he"]
    """The weight initialisation that suits it (nn.activations explains the choice)."""
    composed: bool
    """Whether `apply` builds it from several operations (then nn tags them with a scope block)."""


def _linear(z: Value) -> Value:
    """No activation: the weighted sum is the output."""
    return z


def _leaky_relu(z: Value) -> Value:
    """leaky_relu(z) = relu(z) - 0.01 relu(-z), from existing ops so every node stays visible.

    NOTE: at z = 0 both ramps are flat, so leaky_relu'(0) = 0 (as relu'(0) = 0).
    """
    return z.relu() - LEAKY_SLOPE * (-z).relu()


TABLE: dict[str, Activation] = {
    row.name: row
    for row in (
        Activation("linear", "Linear", _linear, "xavier", composed=False),
        Activation("step", "Step", Value.step, "xavier", composed=False),
        Activation("sign", "Sign", Value.sign, "xavier", composed=False),
        Activation("sigmoid", "Sigmoid", Value.sigmoid, "xavier", composed=False),
        Activation("tanh", "Tanh", Value.tanh, "xavier", composed=False),
        Activation("relu", "ReLU", Value.relu, "he", composed=False),
        Activation("leaky_relu", "LeakyReLU", _leaky_relu, "he", composed=True),
    )
}
"""Every activation by name, in the order menus and error messages list them."""

NAMES: tuple[str, ...] = tuple(TABLE)
"""The activation names, in table order."""
