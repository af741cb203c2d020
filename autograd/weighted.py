"""`weighted_sum`: the neuron's w0*x0 + w1*x1 + ... + b as one node (the op table's row "wsum").

Two entries: `weighted_sum`, for anything a learner passes (each weight, input and bias checked),
and `neuron`, for callers whose operands are already Values (nn's neurons: a model checks its
inputs once at its boundary and makes them Values; the weights are the neuron's own), which builds
the same node without a check per operand and tags it with the neuron's scope and label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import mul as _times
from typing import Any

from autograd import ops
from autograd.checks import real_number
from autograd.value import Operand, Value, constant, nary, refused


def weighted_sum(weights: Sequence[Value], inputs: Sequence[Operand], bias: Value | None = None) -> Value:
    """The neuron's weighted sum w0*x0 + w1*x1 + ... + b as one node (op "wsum").

    One node with an edge per weight, input and bias, instead of 2n binary nodes: the edges carry
    dz/dw_i = x_i, dz/dx_i = w_i and dz/db = 1, exactly the factors the posts write down.
    Parents are always (w0, x0, w1, x1, ..., [b]): number inputs become constant leaves, so an
    odd number of parents means the last one is the bias.
    """
    if len(weights) != len(inputs):
        raise _lengths_differ(weights, inputs)
    values = [x if isinstance(x, Value) else constant(real_number(x, "weighted_sum input")) for x in inputs]
    for w in weights:
        if not isinstance(w, Value):
            raise TypeError(f"weighted_sum needs Value weights, got {type(w).__name__}")
    if bias is not None and not isinstance(bias, Value):
        raise TypeError(f"weighted_sum needs a Value bias or None, got {type(bias).__name__}")
    return _sum_node(weights, values, bias)


def neuron(
    weights: Sequence[Value],
    inputs: Sequence[Value],
    bias: Value | None,
    activation: Callable[[Value], Value],
    tag: str,
    label: str,
    input_data: Sequence[float] | None = None,
) -> Value:
    """activation(w0*x0 + ... + b) for operands that are Values already, as nn's neurons build it.

    The weighted sum is `weighted_sum`'s node, and `activation` makes the rest: one node for the
    built-in activations, none for a linear neuron, several for a composite one (leaky_relu, which
    the caller runs inside `with scope(...)` so that every node is tagged). The sum and the output
    get the scope tag `tag`, as inside `with scope(...)`, and the output the label `label`: the
    caller passes strs. `input_data`, when given, is `[x.data for x in inputs]`, read once by a caller
    that hands the same inputs to many neurons (a layer). A weight or bias that is not a Value
    (replaced by hand: `neuron.w[0] = 3.0`) is a TypeError naming it and `label`.
    """
    try:
        z = _sum_node(weights, inputs, bias, input_data)
    except TypeError as error:  # a weight or bias replaced by hand: say whose
        raise TypeError(f"{label}: {error}") from None
    out = activation(z)
    # The slots behind Value.scope and Value.label, written without their setters' str checks
    # (the caller passes strs): no Python call per node for them.
    z._scope = out._scope = tag
    out._label = label
    return out


def _operand(i: int, n: int) -> str:
    """How messages name parent i of a "wsum" node over n weights and inputs (then the bias)."""
    return "the bias" if i == n else f"weight {i // 2}" if i % 2 == 0 else f"input {i // 2}"


def _lengths_differ(weights: Sequence[object], inputs: Sequence[object]) -> ValueError:
    """The error for a different number of weights and inputs."""
    return ValueError(
        f"weighted_sum needs as many weights as inputs, got {len(weights)} weights and {len(inputs)} inputs"
    )


def _sum_node(
    weights: Sequence[Value],
    inputs: Sequence[Value],
    bias: Value | None,
    x_data: Sequence[float] | None = None,
) -> Value:
    """The "wsum" node over Values (the callers checked them; a non-Value gets a TypeError here).
    `x_data`, when given, holds the inputs' numbers (read once for a whole layer)."""
    n = len(weights)
    if n != len(inputs):  # a weight appended by hand (n.w.append(...)) or a short input row
        raise _lengths_differ(weights, inputs)
    parents: list[Any] = [None] * (2 * n)
    parents[0::2] = weights
    parents[1::2] = inputs
    if bias is not None:
        parents.append(bias)
    # NOTE: ops.wsum's rule, computed here on the hot path of every nn network (the rule's call
    # and its tuples, per neuron, are skipped); tests/test_autograd_optable.py checks it
    # against the row bit for bit.
    try:
        w_data = [w.data for w in weights]
        if x_data is None:
            x_data = [x.data for x in inputs]
        total = sum(map(_times, w_data, x_data), 0.0)
        if bias is not None:
            total += bias.data
    except (AttributeError, TypeError):  # an operand with no float `.data`: say which
        raise _not_a_value(parents) from None
    # Floats only come out of Values; anything else (a tensor with a `.data`) is named here.
    if type(total) is not float and any(type(p) is not Value for p in parents):
        raise _not_a_value(parents)
    slopes = [1.0] * len(parents)  # d/db = 1 (the bias, if any, is last)
    slopes[0 : 2 * n : 2] = x_data  # d/dw_i = x_i
    slopes[1 : 2 * n : 2] = w_data  # d/dx_i = w_i
    # Every slope is a Value's data (finite) or 1, so only the sum can be inf or nan.
    if not math.isfinite(total):
        raise refused(ops.wsum, [p.data for p in parents], None, [total])
    return nary(ops.wsum, parents, total, slopes)


def _not_a_value(parents: Sequence[object]) -> TypeError:
    """The TypeError naming the first parent of a "wsum" node that is not a Value (or else the
    first whose `.data` is not a float)."""
    n = len(parents) // 2 * 2
    for i, p in enumerate(parents):
        if not isinstance(p, Value):
            return TypeError(
                f"weighted_sum needs Values, but {_operand(i, n)} is a {type(p).__name__}: {p!r} "
                "(replaced by hand? set a weight's number with w.data = 3.0, not w = 3.0)"
            )
    for i, p in enumerate(parents):
        data = p.data  # type: ignore[attr-defined]
        if type(data) is not float:  # a Value's .data set by hand
            return TypeError(
                f"weighted_sum needs Values with float .data, but {_operand(i, n)}'s .data is a "
                f"{type(data).__name__}: {data!r} (set by hand? use a float)"
            )
    return TypeError("weighted_sum needs Values with float .data")
