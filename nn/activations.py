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

A learner's own one-input operation (`@autograd.op`) is an activation too: pass the op itself
(`Neuron(2, activation=softplus)`). It is registered here under its name (CUSTOM), so a neuron,
`repr`, a model file and the tape engine name it as they name a built-in; its nodes draw and compile
as the op's row says, and its weights start with Xavier's bound. Its name may not be a built-in
activation's (which would make a model file ambiguous). A model file stores the name only: loading
it in a new session refuses until the op is defined and registered again (`nn.activations.register`
or any Neuron built with it). Re-running the cell that defines it replaces the registered row.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from autograd import Op, Value
from autograd.activations import LEAKY_SLOPE, NAMES, TABLE, Activation
from autograd.checks import needs

__all__ = [
    "ACTIVATIONS", "CUSTOM", "DISPLAY_NAMES", "LEAKY_SLOPE", "SEVERAL_NODES",
    "activate", "activation_function", "built_in", "check_activation", "display_name", "init_bound",
    "is_activation", "register",
]

ACTIVATIONS: tuple[str, ...] = NAMES
"""Every activation name a Neuron, Layer or MLP accepts (autograd's table, in its order)."""

DISPLAY_NAMES: dict[str, str] = {name: row.display for name, row in TABLE.items()}
"""Names used in repr (micrograd prints ReLUNeuron / LinearNeuron)."""

SEVERAL_NODES: frozenset[str] = frozenset(name for name, row in TABLE.items() if row.composed)
"""The activations `activate` builds from several operations (every other one is one node, or none)."""


CUSTOM: dict[str, Op] = {}
"""Learners' one-input `autograd.op`s registered as activations, by name (see the module docstring)."""


def register(row: object, where: str = "activation") -> str:
    """Make a learner's one-input `autograd.op` an activation under its name; that name."""
    if not isinstance(row, Op):
        raise TypeError(needs(where, "an operation made with @autograd.op", row))
    if row.arity != 1 or row.const is not None or row.weighted_sum:
        raise ValueError(
            f"{where} needs an operation of one input (z), got {row!r}: an activation maps a neuron's "
            "weighted sum z to its output"
        )
    if row.name in TABLE:
        raise ValueError(
            f"{where}: your operation is named {row.name!r}, like the built-in activation; pass "
            f"activation={row.name!r} for the built-in, or give yours another name "
            f"(@autograd.op(name='my_{row.name}', ...)) so a model file can tell them apart"
        )
    CUSTOM[row.name] = row
    return row.name


def is_activation(name: object) -> bool:
    """Whether `name` names a built-in activation or a registered learner's op."""
    return isinstance(name, str) and (name in TABLE or name in CUSTOM)


def check_activation(name: object, where: str = "activation") -> str:
    """The activation's name: a known name, or a learner's `autograd.op` (registered); else an error."""
    if isinstance(name, Op):
        return register(name, where)
    if is_activation(name):
        return str(name)
    custom = f", a registered op ({', '.join(CUSTOM)})" if CUSTOM else ""
    what = f"an activation name (one of {', '.join(ACTIVATIONS)}{custom}) or a one-input @autograd.op"
    if not isinstance(name, str):
        if callable(name):
            raise TypeError(
                f"{needs(where, what, name)}: a plain function has no derivative rule; decorate it "
                "with @autograd.op(rule=...) returning (value, d/dz), then pass the op"
            )
        raise TypeError(needs(where, what, name))
    if not custom and name not in TABLE:
        raise ValueError(
            f"{needs(where, what, name)}; if {name!r} is your own @autograd.op, define it and register "
            f"it first (nn.activations.register({name}) or any Neuron built with activation={name})"
        )
    raise ValueError(needs(where, what, name))


def display_name(name: str) -> str:
    """The name in a neuron's repr: ReLU, Sigmoid, ... for the built-ins, a learner's op's own name."""
    return DISPLAY_NAMES.get(name, name)


def built_in(name: object) -> Activation | None:
    """The built-in activation's row called `name`; None for any other name or object."""
    return TABLE.get(name) if type(name) is str else None


def activation_function(name: str) -> Callable[[Value], Value]:
    """The function that applies the activation called `name` to a pre-activation z."""
    row = built_in(name)
    if row is None:
        name = check_activation(name)  # a plain str, or an error naming the valid names
        row = TABLE.get(name)
    if row is not None:
        return row.apply
    custom = CUSTOM.get(name)
    if custom is None:
        raise ValueError(f"activation {name!r} is not registered")
    return custom


def activate(name: str, z: Value) -> Value:
    """Apply the activation called `name` to the pre-activation `z` (linear returns z itself)."""
    return activation_function(name)(z)


def init_bound(name: str, fan_in: int, fan_out: int) -> float:
    """Half-width a of the uniform [-a, a] weight initialisation for this activation (see module doc)."""
    row = TABLE.get(check_activation(name))
    if row is not None and row.init == "he":
        return math.sqrt(6.0 / fan_in)
    return math.sqrt(6.0 / (fan_in + fan_out))
