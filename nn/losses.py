"""Loss functions built from `autograd.Value` operations, so every step of the error is in the graph.

Each loss scores ONE sample: a prediction (a Value or a list of Values, as a model returns) against
its target. Targets may be numbers or Values (placeholders, so any loss compiles to a tape).
Mismatched lengths and out-of-range targets raise ValueError saying which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from autograd import Value, ops
from autograd.checks import integer, real_number

Prediction: TypeAlias = "Value | float | Sequence[Value | float]"
Target: TypeAlias = "Value | float | Sequence[Value | float]"


def _values(pred: object, where: str) -> list[Value]:
    """A prediction as a non-empty list of Values (numbers become constants)."""
    items = pred if isinstance(pred, Sequence) and not isinstance(pred, str) else [pred]
    out = []
    for i, p in enumerate(items):
        if isinstance(p, Value):
            out.append(p)
        else:
            out.append(Value(real_number(p, f"{where}(prediction[{i}])")))
    if not out:
        raise ValueError(f"{where} needs at least one prediction, got an empty list")
    return out


def target_number(t: object, where: str) -> float:
    """A target as a finite float, or a TypeError/ValueError naming it."""
    return real_number(t, where)


def _target(t: object, where: str) -> Value | float:
    """A target as it is when a Value (a placeholder the tape fills in), else a finite float."""
    return t if isinstance(t, Value) else target_number(t, where)


def _data(t: Value | float) -> float:
    """A target's number now (a placeholder Value's current data)."""
    return t.data if isinstance(t, Value) else t


def target_entries(target: object) -> Sequence[Any]:
    """A target's entries as the losses read it: a sequence's items, else [target] (a str is one)."""
    return target if isinstance(target, Sequence) and not isinstance(target, str) else [target]


def _pairs(pred: Prediction, target: Target, where: str) -> list[tuple[Value, Value | float]]:
    """(prediction, target) pairs; a ValueError when the lengths differ."""
    preds = _values(pred, where)
    items = target_entries(target)
    targets = [_target(t, f"{where}(target[{i}])") for i, t in enumerate(items)]
    if len(preds) != len(targets):
        raise ValueError(
            f"{where} needs as many targets as predictions, got {len(preds)} predictions "
            f"and {len(targets)} targets"
        )
    return list(zip(preds, targets))


def sum_values(terms: Sequence[Value]) -> Value:
    """terms[0] + terms[1] + ... (no leading constant 0 node)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _named(loss: Value, label: str) -> Value:
    """`loss` labelled `label`, so diagrams and `viz.explain` call it "E" or "loss", not "v8"."""
    loss.label = label
    return loss


def squared_error(pred: Prediction, target: Target) -> Value:
    """The posts' error E = 1/2 sum_k (Y'_k - Y_k)^2 (labelled "E"); dE/dY'_k = Y'_k - Y_k."""
    return _named(0.5 * sum_values([(p - t) ** 2 for p, t in _pairs(pred, target, "squared_error")]), "E")


def mse(pred: Prediction, target: Target) -> Value:
    """Mean squared error 1/n sum_k (Y'_k - Y_k)^2 (PyTorch's MSELoss; no 1/2)."""
    pairs = _pairs(pred, target, "mse")
    return _named(sum_values([(p - t) ** 2 for p, t in pairs]) * (1.0 / len(pairs)), "loss")


def hinge(score: Prediction, target: float) -> Value:
    """micrograd's max-margin loss relu(1 - y * score) for one score and a label y of -1 or +1."""
    ((s, y),) = _pairs(score, [target], "hinge")
    if _data(y) not in (-1.0, 1.0):
        raise ValueError(f"hinge needs a target of -1 or +1, got {y!r} (map 0/1 labels with y*2-1)")
    return _named((1 + -y * s).relu(), "loss")


def binary_cross_entropy(prob: Prediction, target: float) -> Value:
    """-(t log p + (1 - t) log(1 - p)) for a probability p and a target t in [0, 1].

    Stable at p = 0 and 1 by this rule, with no epsilon: when `prob` is the output of `.sigmoid()`
    (a sigmoid neuron), the loss is computed from its input, the logit z, as
    softplus(z) - t z = max(z, 0) + log(1 + e^-|z|) - t z, which is exact for every z even where
    the sigmoid itself has rounded to 0.0 or 1.0. Otherwise p must lie strictly inside (0, 1)
    wherever a log needs it (t > 0 needs p > 0, t < 1 needs p < 1), else a ValueError: the loss
    is infinite there.
    """
    ((p, t),) = _pairs(prob, [target], "binary_cross_entropy")
    if not 0.0 <= _data(t) <= 1.0:
        raise ValueError(f"binary_cross_entropy needs a target in [0, 1], got {_data(t)!r}")
    if p.operation is ops.sigmoid:
        (z,) = p.parents
        # Branch on the sign of z (a constant choice): each branch exponentiates a non-positive
        # number, and both are smooth with equal value and slope 1/2 - t at z = 0.
        if z.data >= 0.0:
            return _named(z + ((-z).exp() + 1.0).log() - t * z, "loss")
        return _named((z.exp() + 1.0).log() - t * z, "loss")
    # A placeholder target may take any value in [0, 1] later, so it keeps both log terms.
    placeholder = isinstance(t, Value)
    uses_p = placeholder or _data(t) > 0.0
    uses_1_minus_p = placeholder or _data(t) < 1.0
    if (uses_p and p.data <= 0.0) or (uses_1_minus_p and p.data >= 1.0):
        raise ValueError(
            f"binary_cross_entropy is infinite for p={p.data!r} with target {_data(t)!r}; "
            "pass the output of .sigmoid() (computed from its logit, exact) or keep p inside (0, 1)"
        )
    terms = []
    if uses_p:
        terms.append(-t * p.log())
    if uses_1_minus_p:
        terms.append(-(1.0 - t) * (1.0 - p).log())
    return _named(sum_values(terms), "loss")


def softmax(logits: Sequence[Value | float]) -> list[Value]:
    """e^z_i / sum_j e^z_j, stable: the largest logit's .data is subtracted first (a constant)."""
    zs = _values(logits, "softmax")
    top = max(z.data for z in zs)
    exps = [(z - top).exp() for z in zs]
    denominator = sum_values(exps)
    return [e / denominator for e in exps]


def cross_entropy(logits: Sequence[Value | float], target_index: int) -> Value:
    """-log softmax(logits)[target] = log sum_j e^(z_j - m) - (z_target - m), with m the max logit.

    Subtracting the constant m (the largest logit's .data) changes nothing mathematically and keeps
    every exponent <= 0, so no logit overflows exp. The target is a class index 0 <= t < n.
    """
    zs = _values(logits, "cross_entropy")
    target = integer(target_index, "cross_entropy(target_index)", at_least=0, at_most=len(zs) - 1)
    top = max(z.data for z in zs)
    log_total = sum_values([(z - top).exp() for z in zs]).log()
    return _named(log_total - (zs[target] - top), "loss")
