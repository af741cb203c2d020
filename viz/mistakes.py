"""The mistakes a learner makes when deriving by hand, each a value to compare with and a message.

A mistake is recognised by value: it is a function of a point (forward values, local derivatives
and grads), so a typed number is compared at the forward values and a typed formula at several
points (see viz/exercise_graph.py). Each message says what the learner did and what the rule is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autograd import ops
from viz.exercise_graph import Graph, Point

FORWARD_VALUE = "forward-value"
FORGOT_UPSTREAM = "forgot-upstream"
ONE_PATH = "one-path"
SIGN = "sign"
OTHER_OPERAND = "other-operand"
TANH_INPUT = "tanh-input"
SIGMOID_VALUE = "sigmoid-value"
WRONG_NODE = "wrong-node"
FULL_PRODUCT = "full-product"
MISTAKES = (
    FORWARD_VALUE, FORGOT_UPSTREAM, ONE_PATH, SIGN, OTHER_OPERAND, TANH_INPUT, SIGMOID_VALUE, WRONG_NODE,
    FULL_PRODUCT,
)
"""Every mistake's name, as `Verdict.mistake` gives it."""

# A grad question compares with the grads of at most this many other nodes (the nearest first).
WRONG_NODES = 8


@dataclass(frozen=True)
class Mistake:
    """One mistake a question can name: its kind, its value at a point, and what to tell the learner."""

    kind: str
    value: Callable[[Point], float]
    message: str


def local_name(graph: Graph, node: int, edge: int) -> str:
    """The question name of d node / d (its input `edge`): "d a0/d Z0", "d b/d a (input 2)" if repeated."""
    out, parents = graph.names[node], graph.parents[node]
    name = f"d {out}/d {graph.names[parents[edge]]}"
    if parents.count(parents[edge]) > 1:
        name += f" (input {edge + 1})"
    return name


def grad_sum(graph: Graph, node: int) -> str:
    """grad p by the chain rule, in question names: "d Z0/d W0 × grad Z0 + ..."."""
    terms = []
    for user, edge in graph.uses[node]:
        upstream = "1" if user == graph.root else f"grad {graph.names[user]}"
        terms.append(f"{local_name(graph, user, edge)} × {upstream}")
    return " + ".join(terms) or "0 (nothing uses it)"


def for_local(graph: Graph, node: int, edge: int, rule: str) -> list[Mistake]:
    """The mistakes a local derivative d node / d input can be confused with, most specific first."""
    v = graph.order[node]
    row = v.operation
    name = local_name(graph, node, edge)
    out = graph.names[node]
    parent = graph.parents[node][edge]
    inp = graph.names[parent]
    found: list[Mistake] = []
    if row is ops.sigmoid:
        found.append(Mistake(
            SIGMOID_VALUE, lambda p: p.values[node],
            f"That is σ({inp}) = {out} itself, the sigmoid's value, not its slope. The derivative of "
            f"the sigmoid is σ(x)(1 − σ(x)): {name} = σ({inp})(1 − σ({inp})) = {out}(1 − {out}).",
        ))
    if row is ops.tanh:
        found.append(Mistake(
            TANH_INPUT, lambda p: 1.0 - p.values[parent] ** 2,
            f"That is 1 − {inp}², the square of tanh's input. tanh's derivative squares its output: "
            f"{name} = 1 − tanh({inp})² = 1 − {out}².",
        ))
    other = _other_operand(graph, node, edge)
    if other is not None:
        other_name = local_name(graph, node, other)
        product = row is ops.mul or (row is not None and row.weighted_sum)
        other_input = graph.names[graph.parents[node][other]]
        why = (
            "For a product the partial derivative with respect to one factor is the other factor"
            if product else f"That derivative belongs to the other input, {other_input}"
        )
        found.append(Mistake(
            OTHER_OPERAND, lambda p: p.locals[node][other],
            f"That is {other_name}, the derivative with respect to the other input. {why}: "
            f"{name} = {rule}.",
        ))
    found.append(Mistake(
        FORWARD_VALUE, lambda p: p.values[node],
        f"That is the forward value of {out}, the number the node holds, not a derivative. {name} "
        f"says how fast {out} changes when {inp} changes: the rule {rule}, at the forward values.",
    ))
    if not graph.constant[parent]:
        found.append(Mistake(
            FORWARD_VALUE, lambda p: p.values[parent],
            f"That is the forward value of {inp}, not a derivative. {name} says how fast {out} "
            f"changes when {inp} changes: the rule {rule}, at the forward values.",
        ))
    if node != graph.root:
        found.append(Mistake(
            FULL_PRODUCT, lambda p: p.locals[node][edge] * p.grads[node],
            f"That is {name} × grad {out}, the whole term the chain rule adds to grad {inp}. Here "
            f"only the local derivative is asked: {name} = {rule}.",
        ))
    found.append(Mistake(
        SIGN, lambda p: -p.locals[node][edge],
        f"Right size, wrong sign: {name} = {rule}. Check each minus sign.",
    ))
    return found


def _other_operand(graph: Graph, node: int, edge: int) -> int | None:
    """The position of the other input whose derivative a learner may give instead (None if none)."""
    v = graph.order[node]
    parents = graph.parents[node]
    if v.operation is not None and v.operation.weighted_sum:
        n = len(parents)
        if edge >= n - n % 2:
            return None
        other = edge + 1 if edge % 2 == 0 else edge - 1
    elif len(parents) == 2 and v.operation is not ops.sub:  # sub's other derivative is a sign error
        other = 1 - edge
    else:
        return None
    if parents[other] == parents[edge] or (graph.constant[parents[other]] and v.operation is not ops.mul):
        return None
    return other


def for_grad(graph: Graph, node: int) -> list[Mistake]:
    """The mistakes grad node can be confused with, most specific first."""
    name = graph.names[node]
    total = grad_sum(graph, node)
    uses = graph.uses[node]
    found: list[Mistake] = []
    if len(uses) > 1:
        for user, edge in uses:
            term = f"{local_name(graph, user, edge)} × grad {graph.names[user]}"
            found.append(Mistake(
                ONE_PATH, _contribution(user, edge),
                f"That is the contribution of one path only ({term}). {name} is used {len(uses)} "
                f"times, and the chain rule adds the contributions of all paths: grad {name} = {total}.",
            ))
    for user, edge in uses:
        if user == graph.root:
            continue
        local = local_name(graph, user, edge)
        found.append(Mistake(
            FORGOT_UPSTREAM, _local(user, edge),
            f"That is the local derivative {local} alone: you forgot to multiply by grad "
            f"{graph.names[user]}, the gradient flowing back into {graph.names[user]}. By the chain "
            f"rule, grad {name} = {total}.",
        ))
    if len(uses) > 1:
        found.append(Mistake(
            FORGOT_UPSTREAM, lambda p: sum(p.locals[u][e] for u, e in uses),
            f"That is the sum of the local derivatives alone: each must be multiplied by the grad of "
            f"the node that uses {name}. By the chain rule, grad {name} = {total}.",
        ))
    found.append(Mistake(
        FORWARD_VALUE, lambda p: p.values[node],
        f"That is the forward value of {name}, not its gradient. grad {name} says how fast "
        f"{graph.names[graph.root]} changes when {name} changes: grad {name} = {total}.",
    ))
    found.append(Mistake(
        SIGN, lambda p: -p.grads[node],
        f"Right size, wrong sign: grad {name} = {total}. Check the sign of each factor.",
    ))
    for other in _nearby(graph, node):
        found.append(Mistake(
            WRONG_NODE, _grad(other),
            f"That is grad {graph.names[other]}, the gradient of {graph.names[other]}, not of "
            f"{name}. grad {name} = {total}.",
        ))
    return found


def _contribution(user: int, edge: int) -> Callable[[Point], float]:
    """The term one use adds to its input's grad: local derivative × the user's grad."""
    return lambda p: p.locals[user][edge] * p.grads[user]


def _local(user: int, edge: int) -> Callable[[Point], float]:
    """The local derivative on one edge."""
    return lambda p: p.locals[user][edge]


def _grad(node: int) -> Callable[[Point], float]:
    """A node's grad."""
    return lambda p: p.grads[node]


def _nearby(graph: Graph, node: int) -> list[int]:
    """Other nodes whose grad a learner may give for `node`'s: its users first, then by distance in order."""
    users = [u for u, _ in graph.uses[node]]
    rest = sorted(
        (i for i in range(len(graph.order)) if i != node and not graph.constant[i]),
        key=lambda i: abs(i - node),
    )
    picked = list(dict.fromkeys(users + rest))
    return [i for i in picked if i != node][:WRONG_NODES]
