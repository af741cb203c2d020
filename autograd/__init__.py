"""axongrad's scalar autograd engine: Values that record each operation and its local derivatives."""

from __future__ import annotations

# Marker that nn and viz check, because HIPS autograd uses the same import name.
__axongrad__ = True

import _axongrad_clash
from _axongrad_clash import NameClashWarning
from autograd import ops
from autograd.backends import BACKENDS, default_backend
from autograd.checks import first_non_finite, real_number
from autograd.closurecheck import BackwardCheck, check_backward
from autograd.context import collector_paused, current_scope, is_grad_enabled, no_grad, scope
from autograd.display import set_renderer
from autograd.gradcheck import backprop_grad, check_op, gradcheck, numerical_grad
from autograd.graph import accumulate, backward, topological_order
from autograd.oprecord import TABLE, Op, op
from autograd.ops import FLOATS
from autograd.stale import StaleGradWarning, accumulating
from autograd.tape import Tape, compile
from autograd.value import Value
from autograd.weighted import weighted_sum

# PyPI's nn and viz use our other two import names (and a learner's nn.py can hide ours): say so.
_axongrad_clash.check_neighbours()

__all__ = [
    "BACKENDS",
    "FLOATS",
    "TABLE",
    "BackwardCheck",
    "NameClashWarning",
    "Op",
    "StaleGradWarning",
    "Tape",
    "Value",
    "accumulate",
    "accumulating",
    "backprop_grad",
    "backward",
    "check_backward",
    "check_op",
    "collector_paused",
    "compile",
    "current_scope",
    "default_backend",
    "first_non_finite",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "numerical_grad",
    "op",
    "ops",
    "real_number",
    "scope",
    "set_renderer",
    "topological_order",
    "weighted_sum",
]
