"""axongrad's scalar autograd engine: Values that record each operation and its local derivatives."""

from __future__ import annotations

from autograd.context import current_scope, is_grad_enabled, no_grad, scope
from autograd.gradcheck import backprop_grad, gradcheck, numerical_grad
from autograd.graph import accumulate, backward, topological_order
from autograd.tape import Tape, compile
from autograd.value import Value, real_number, set_renderer, weighted_sum

# Marker that nn and viz check, because HIPS autograd uses the same import name.
__axongrad__ = True

__all__ = [
    "Tape",
    "Value",
    "accumulate",
    "backprop_grad",
    "backward",
    "compile",
    "current_scope",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "numerical_grad",
    "real_number",
    "scope",
    "set_renderer",
    "topological_order",
    "weighted_sum",
]
