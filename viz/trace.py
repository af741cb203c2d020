"""Turn a root Value into plain data for drawing: nodes, edges with local derivatives, scope groups.

No graphviz here: `dot.py` turns a `Trace` into a diagram, `steps.py` replays the chain rule on it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from autograd import Value, topological_order

# Node kinds, used for colours (see the legend in dot.py).
INPUT = "input"
PARAMETER = "parameter"
CONSTANT = "constant"
INTERMEDIATE = "intermediate"
ROOT = "root"

# A leaf is a parameter when its label names a weight or bias: "w", "W0", "w_1", "b", "bias",
# "θ" (but not "beta" or "x"). nn labels its parameters "w0".."wN" and "b" and creates them
# inside a neuron's scope, which also marks a leaf as a parameter.
_PARAMETER_LABEL = re.compile(r"(?:w|b|bias|weight|theta|θ)(?![A-Za-z])", re.IGNORECASE)


@dataclass(frozen=True)
class Node:
    """One Value of the graph as plain data (`id` is "n0", "n1", ... in topological order)."""

    id: str
    label: str
    data: float
    grad: float
    op: str
    scope: str
    kind: str
    n_parents: int = 0


@dataclass(frozen=True)
class Edge:
    """Input `src` of the operation that made `dst`: d(dst)/d(src) and, after backward, its share.

    `contribution` is local * dst.grad, the amount this edge adds to src.grad by the chain rule;
    None before backward has run (or, while replaying backward, before dst has been processed).
    """

    src: str
    dst: str
    index: int
    local: float
    contribution: float | None


@dataclass(frozen=True)
class Group:
    """The nodes of one scope box: `key` like "L1.n3" (neuron) or "L1" (layer), and its layer name."""

    key: str
    layer: str
    members: tuple[str, ...]
    parameters: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class Trace:
    """A graph as plain data: nodes leaves-first, one edge per (parent, argument position)."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    root: str
    has_grad: bool
    by_id: Mapping[str, Node] = field(repr=False, compare=False)
    groups: tuple[Group, ...] = ()


def node_kind(value: Value, is_root: bool) -> str:
    """Colour class of a Value: root, intermediate, constant (unlabelled leaf), parameter or input.

    A leaf is a parameter when it was created inside a scope (nn's neurons do that) or its label
    names a weight or bias ("w0", "W1", "b", "bias", "θ"); any other labelled leaf is an input
    (data such as "x0", "X", or a target "Y").
    """
    if is_root:
        return ROOT
    if value.parents:
        return INTERMEDIATE
    if not value.label:
        return CONSTANT
    if value.scope or _PARAMETER_LABEL.match(value.label):
        return PARAMETER
    return INPUT


def too_many_nodes(count: int, max_nodes: int, what: str) -> ValueError:
    """The error for a diagram larger than `max_nodes`, telling the user how to proceed."""
    return ValueError(
        f"{what} has {count} nodes, more than max_nodes={max_nodes}: dot would take very long and "
        'the picture would be unreadable. Pass group="neuron" or group="layer" to draw one box per '
        "scope (nn's neurons and layers), or raise max_nodes."
    )


def trace(
    root: Value,
    *,
    max_nodes: int | None = 500,
    group: str | None = None,
    grads: Mapping[Value, float] | None = None,
    processed: Collection[Value] | None = None,
) -> tuple[Trace, list[Value]]:
    """`root`'s graph as a `Trace`, and the Values in the same (topological) order.

    `group` ("neuron" or "layer") fills `Trace.groups` with one box per scope. `grads` overrides
    the grads shown (steps.py replays backward without touching `.grad`); `processed`, when
    given, limits edge contributions to operations already processed. Raises ValueError when
    more than `max_nodes` Values (or, grouped, boxes plus ungrouped Values) would be drawn.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace(root) needs an autograd Value, got {type(root).__name__}")
    if group not in (None, "neuron", "layer"):
        raise ValueError(f'group must be None, "neuron" or "layer", got {group!r}')
    order = topological_order(root)
    if group is None and max_nodes is not None and len(order) > max_nodes:
        raise too_many_nodes(len(order), max_nodes, "this graph")
    index = {v: i for i, v in enumerate(order)}

    def grad_of(v: Value) -> float:
        return v.grad if grads is None else grads.get(v, 0.0)

    has_grad = grad_of(root) != 0.0
    nodes: list[Node] = []
    edges: list[Edge] = []
    for i, v in enumerate(order):
        nid = f"n{i}"
        parents = v.parents
        nodes.append(
            Node(nid, v.label, v.data, grad_of(v), v.op, v.scope, node_kind(v, v is root), len(parents))
        )
        show = has_grad and (processed is None or v in processed)
        g = grad_of(v)
        for k, (p, d) in enumerate(zip(parents, v.local_grads)):
            edges.append(Edge(f"n{index[p]}", nid, k, d, d * g if show else None))
    by_id = {n.id: n for n in nodes}
    data = Trace(tuple(nodes), tuple(edges), f"n{index[root]}", has_grad, by_id)
    if group is None:
        return data, order
    groups = tuple(group_nodes(data, group))
    drawn = len(groups) + sum(1 for n in nodes if not n.scope)
    if max_nodes is not None and drawn > max_nodes:
        raise too_many_nodes(drawn, max_nodes, f"this graph, grouped by {group},")
    return Trace(data.nodes, data.edges, data.root, has_grad, by_id, groups), order


def _layer_of(scope: str) -> str:
    """The layer part of a scope: "L1" for "L1.n3" (the first dotted component)."""
    return scope.split(".", 1)[0]


def group_nodes(data: Trace, by: str) -> list[Group]:
    """Scope boxes for `by` = "neuron" (one per full scope) or "layer" (one per first component).

    Nodes without a scope belong to no box and are drawn as usual. A box's parameters are its
    labelled leaves; its outputs are its nodes used outside the box (or the root).
    """
    if by not in ("neuron", "layer"):
        raise ValueError(f'group must be "neuron" or "layer", got {by!r}')
    key_of: dict[str, str] = {}
    for n in data.nodes:
        if n.scope:
            key_of[n.id] = n.scope if by == "neuron" else _layer_of(n.scope)
    used_outside: set[str] = set()
    for e in data.edges:
        src_key = key_of.get(e.src)
        if src_key is not None and key_of.get(e.dst) != src_key:
            used_outside.add(e.src)
    members: dict[str, list[str]] = {}
    for n in data.nodes:
        if n.id in key_of:
            members.setdefault(key_of[n.id], []).append(n.id)
    groups = []
    for key, ids in members.items():
        nodes = [data.by_id[i] for i in ids]
        params = tuple(n.id for n in nodes if n.op == "" and n.label)
        outputs = tuple(n.id for n in nodes if n.op and (n.id in used_outside or n.id == data.root))
        groups.append(Group(key, _layer_of(key), tuple(ids), params, outputs))

    def computed_at(grp: Group) -> int:
        # Order boxes by when they compute (their first operation), so L1 comes before L2.
        positions = [int(m[1:]) for m in grp.members if data.by_id[m].op] or [int(grp.members[0][1:])]
        return min(positions)

    return sorted(groups, key=computed_at)


def group_key_map(groups: list[Group]) -> dict[str, str]:
    """Node id -> the key of the box that holds it."""
    return {m: g.key for g in groups for m in g.members}
