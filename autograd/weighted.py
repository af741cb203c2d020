"""`weighted_sum`: the neuron's w0*x0 + w1*x1 + ... + b as one node (the op table's row "wsum")."""

from __future__ import annotations

import math
from collections.abc import Sequence
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
        raise ValueError(
            "weighted_sum needs as many weights as inputs, "
            f"got {len(weights)} weights and {len(inputs)} inputs"
        )
    n = 2 * len(weights)
    parents: list[Any] = [None] * n
    parents[0::2] = weights
    parents[1::2] = inputs
    try:  # the common case, every weight and input a Value, in one comprehension
        data = [p.data if type(p) is Value else _not_a_value(p) for p in parents]
    except _NotAValueError:
        parents[1::2] = [x if isinstance(x, Value) else constant(real_number(x, "weighted_sum input"))
                         for x in inputs]
        for w in weights:
            if not isinstance(w, Value):
                raise TypeError(f"weighted_sum needs Value weights, got {type(w).__name__}") from None
        data = [p.data for p in parents]
    # NOTE: ops.wsum's rule, computed here on the hot path of every nn network (the rule's call
    # and its tuples, per neuron, are skipped); tests/test_autograd_optable.py checks it
    # against the row bit for bit.
    w_data, x_data = data[0::2], data[1::2]
    total = sum(map(_times, w_data, x_data), 0.0)
    slopes = data  # the same list, reordered: d/dw_i = x_i, d/dx_i = w_i
    slopes[0::2] = x_data
    slopes[1::2] = w_data
    if bias is not None:
        if not isinstance(bias, Value):
            raise TypeError(f"weighted_sum needs a Value bias or None, got {type(bias).__name__}")
        parents.append(bias)
        slopes.append(1.0)
        total = total + bias.data
    # Every slope is a Value's data (finite) or 1, so only the sum can be inf or nan.
    if not math.isfinite(total):
        raise refused(ops.wsum, [p.data for p in parents], None, [total])
    return nary(ops.wsum, parents, total, slopes)


class _NotAValueError(Exception):
    """Raised inside weighted_sum's fast comprehension to switch to the checking path."""


def _not_a_value(p: object) -> float:
    """Leave the fast path: an operand of weighted_sum is not a Value."""
    raise _NotAValueError
