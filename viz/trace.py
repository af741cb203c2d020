"""Turn a root Value into plain data for drawing: nodes, edges with local derivatives, scope groups.

No graphviz here: `dot.py` turns a `Trace` into a diagram, `steps.py` replays the chain rule on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from autograd import Value, topological_order
from autograd.checks import integer, needs
from viz.names import edge_rule, names_and_samples, symbol_of, term_of

# Node kinds, used for colours (see the legend in dot.py).
INPUT = "input"
PARAMETER = "parameter"
CONSTANT = "constant"
INTERMEDIATE = "intermediate"
ROOT = "root"


@dataclass(frozen=True)
class Node:
    """One Value of the graph as plain data (`id` is "n0", "n1", ... in topological order).

    `name` is what every view calls it (its label, a number for a constant, "v3" for an unlabelled
    result, "root" for an unlabelled root); `symbol` is its operation's symbol from the op table
    ("×", "x²", "σ"; "" for a leaf). `sample` is k for the copy of a labelled Value a batch
    computed on its sample k (name "L1.n0[k]", see `viz.names.sample_numbers`), else None.
    """

    id: str
    label: str
    data: float
    grad: float
    op: str
    scope: str
    kind: str
    n_parents: int = 0
    name: str = ""
    symbol: str = ""
    weighted_sum: bool = False
    sample: int | None = None


@dataclass(frozen=True)
class Edge:
    """Input `src` of the operation that made `dst`: d(dst)/d(src) and, after backward, its share.

    `contribution` is local * dst.grad, the amount this edge adds to src.grad by the chain rule;
    None before backward has run (or, while replaying backward, before dst has been processed).
    `rule` is the op table's derivative text with the operands' names filled in ("σ(Z0)(1 − σ(Z0))",
    "W0"), `latex` the same in LaTeX; `term` names the weighted-sum term an edge feeds ("w0·x0").
    """

    src: str
    dst: str
    index: int
    local: float
    contribution: float | None
    rule: str = ""
    latex: str = ""
    term: str = ""


@dataclass(frozen=True)
class Group:
    """The nodes of one scope box: `key` like "L1.n3" (neuron) or "L1" (layer), and its layer name."""

    key: str
    layer: str
    members: tuple[str, ...]
    parameters: tuple[str, ...]
    outputs: tuple[str, ...]
    # True for the boxes grouping adds around the unscoped part of a batch (repeated inputs,
    # the loss over many samples) so that a batch does not draw its samples one by one.
    folded: bool = False


@dataclass(frozen=True)
class Trace:
    """A graph as plain data: nodes leaves-first, one edge per (parent, argument position)."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    root: str
    has_grad: bool
    by_id: Mapping[str, Node] = field(repr=False, compare=False)
    groups: tuple[Group, ...] = ()


# Edges carry rule texts only in graphs of at most this many Values: a diagram shows rules on small
# graphs, and filling them in for a 40,000-Value batch would cost a Jupyter display its time budget.
RULE_TEXT_NODES = 2000


def node_kind(value: Value, is_root: bool, params: Collection[Value] = ()) -> str:
    """Colour class of a Value: root, intermediate, parameter, constant or input.

    A leaf is a parameter when the caller lists it in `params` or nn marked it (a labelled leaf
    created inside a scope: nn makes each neuron's weights and bias there); never from its label
    text. A constant is a number arithmetic turned into a leaf (the 0.5 of 0.5*d**2, see
    `Value.is_constant`); any other leaf is an input (data such as "x0", "X", a target "Y", or an
    unlabelled Value(2.0) you made).
    """
    if is_root:
        return ROOT
    if value.parents:
        return INTERMEDIATE
    if value in params or (value.label and value.scope):
        return PARAMETER
    if value.is_constant:
        return CONSTANT
    return INPUT


def grouping_hint(group: str | None) -> str:
    """What to try when a drawing is too large, given the grouping already asked for."""
    if group is None:
        return (
            'Pass group="neuron" or group="layer" to draw one box per scope (nn\'s neurons and '
            "layers), or raise max_nodes."
        )
    if group == "neuron":
        return 'Pass group="layer" to draw one box per layer, or raise max_nodes.'
    return (
        "Draw a smaller part of the graph (one sample's loss rather than a batch's, or "
        "viz.explain(root, parameter) for one derivative), or raise max_nodes."
    )


def too_many_nodes(
    count: int, max_nodes: int, what: str, hint: str, *, counted_all: bool = True
) -> ValueError:
    """The error for a diagram larger than `max_nodes`, with `hint` saying how to proceed.

    `counted_all=False`: the count stopped at `count` (`graph_size`), so the graph has more.
    """
    if counted_all:
        size = f"{count:,} nodes, more than max_nodes={max_nodes}"
    else:
        size = f"more than {count:,} nodes (max_nodes={max_nodes})"
    return ValueError(
        f"{what} has {size}: dot would take very long and the picture would be unreadable. {hint}"
    )


@dataclass(frozen=True)
class GraphSize:
    """What a bounded walk learned of a graph: its Values and edges, counted up to a limit.

    `complete` is False when the walk stopped at its limit: then `values` is that limit, the graph
    has more, and `edges` and `scoped` describe only the part reached.
    """

    values: int
    edges: int
    scoped: bool
    complete: bool

    def __str__(self) -> str:
        """The size in words: "1,234 values and 2,345 edges", or "more than 50,000 values"."""
        if not self.complete:
            return f"more than {self.values:,} values"
        return f"{self.values:,} values and {self.edges:,} edges"


def graph_size(root: Value, limit: int) -> GraphSize:
    """Count `root`'s Values (at most `limit`) and edges, and see whether any carries a scope.

    A cheap walk that stops as soon as more than `limit` Values are found: learning that a graph
    has more than 150 Values costs a walk over 150, not over all of a 1,000,000-Value chain. (No
    order, no names, no marks on the nodes: a set of the Values met, each expanded once.)
    """
    if not isinstance(root, Value):
        raise TypeError(needs("graph_size(root)", "an autograd Value", root))
    limit = integer(limit, "graph_size(limit)", at_least=1)
    seen = {root}
    stack = [root]
    edges = 0
    scoped = False
    try:
        while stack:
            node = stack.pop()
            parents = node.parents
            edges += len(parents)
            scoped = scoped or bool(node.scope)
            for p in parents:
                if p not in seen:
                    if len(seen) == limit:
                        return GraphSize(limit, edges, scoped, complete=False)
                    seen.add(p)
                    stack.append(p)
    except (AttributeError, TypeError):  # not a Value among the parents (put in by hand): no
        topological_order(root)  # `.parents`, or unhashable; raises the engine's TypeError naming it
        raise
    return GraphSize(len(seen), edges, scoped, complete=True)


# A graph over a view's node cap is counted on up to this many times the cap, so the error can say
# how large it is ("61 nodes, more than max_nodes=20") without walking a whole huge graph.
COUNT_FACTOR = 10


def trace(
    root: Value,
    *,
    max_nodes: int | None = 500,
    group: str | None = None,
    grads: Mapping[Value, float] | None = None,
    processed: Collection[Value] | None = None,
    hint: str | None = None,
    params: Collection[Value] = (),
) -> tuple[Trace, list[Value]]:
    """`root`'s graph as a `Trace`, and the Values in the same (topological) order.

    `group` ("neuron" or "layer") fills `Trace.groups` with one box per scope. `grads` overrides
    the grads shown (steps.py replays backward without touching `.grad`); `processed`, when
    given, limits edge contributions to operations already processed. Raises ValueError when
    more than `max_nodes` Values (or, grouped, boxes plus ungrouped Values) would be drawn;
    its message ends with `hint` (default: which grouping to try). `params` are leaves to draw
    as parameters besides those nn marked.
    """
    if not isinstance(root, Value):
        raise TypeError(needs("trace(root)", "an autograd Value", root))
    if group not in (None, "neuron", "layer"):
        raise ValueError(needs("group", 'None, "neuron" or "layer"', group))
    if max_nodes is not None:
        max_nodes = integer(max_nodes, "max_nodes", at_least=1)
    if group is None and max_nodes is not None:
        size = graph_size(root, COUNT_FACTOR * max_nodes)
        if not size.complete or size.values > max_nodes:
            raise too_many_nodes(
                size.values, max_nodes, "this graph", hint or grouping_hint(None), counted_all=size.complete
            )
    order = topological_order(root)
    index = {v: i for i, v in enumerate(order)}
    chosen = _chosen(params, index)
    names, samples = names_and_samples(order, chosen)

    def grad_of(v: Value) -> float:
        return v.grad if grads is None else grads.get(v, 0.0)

    has_grad = grad_of(root) != 0.0
    nodes = [
        Node(
            f"n{i}", v.label, v.data, grad_of(v), v.op, v.scope, node_kind(v, v is root, chosen),
            len(v.parents), names[v], symbol_of(v), v.operation is not None and v.operation.weighted_sum,
            samples.get(v),
        )
        for i, v in enumerate(order)
    ]
    shown = [has_grad and (processed is None or v in processed) for v in order]
    edges = _edges(order, index, names, [n.grad for n in nodes], shown)
    by_id = {n.id: n for n in nodes}
    data = Trace(tuple(nodes), tuple(edges), f"n{index[root]}", has_grad, by_id)
    if group is None:
        return data, order
    return grouped(data, group, max_nodes=max_nodes, hint=hint), order


def grouped(data: Trace, group: str, *, max_nodes: int | None = 500, hint: str | None = None) -> Trace:
    """`data` (an ungrouped trace) with one box per scope for `group` ("neuron" or "layer").

    One trace serves both groupings (the Jupyter display tries both). Raises ValueError when
    more than `max_nodes` boxes plus ungrouped Values would be drawn, its message ending with `hint`.
    """
    groups = tuple(group_nodes(data, group))
    boxed = group_key_map(list(groups))
    drawn = len(groups) + sum(1 for n in data.nodes if n.id not in boxed)
    if max_nodes is not None and drawn > max_nodes:
        raise too_many_nodes(
            drawn, max_nodes, f"this graph, grouped by {group},", hint or grouping_hint(group)
        )
    return Trace(data.nodes, data.edges, data.root, data.has_grad, data.by_id, groups)


def _edges(
    order: list[Value],
    index: Mapping[Value, int],
    names: dict[Value, str],
    grads: list[float],
    shown: list[bool],
) -> list[Edge]:
    """One Edge per (node, input position), with its contribution where `shown` and, on graphs of
    at most RULE_TEXT_NODES Values, the rule and term texts."""
    texts = len(order) <= RULE_TEXT_NODES
    edges = []
    for i, v in enumerate(order):
        g = grads[i] if shown[i] else None
        for k, (p, d) in enumerate(zip(v.parents, v.local_grads)):
            share = d * g if g is not None else None
            if texts:
                rule, latex = edge_rule(v, k, names)
                edges.append(Edge(f"n{index[p]}", f"n{i}", k, d, share, rule, latex, term_of(v, k, names)))
            else:
                edges.append(Edge(f"n{index[p]}", f"n{i}", k, d, share))
    return edges


def values_in_graph(values: Value | Iterable[Value], index: Mapping[Value, int], where: str) -> list[Value]:
    """`values` (one Value or several), each checked to be a Value of the drawn graph (`index`)."""
    wanted = [values] if isinstance(values, Value) else list(values)
    for v in wanted:
        if not isinstance(v, Value):
            raise TypeError(needs(where, "Values", v))
        if v not in index:
            raise ValueError(f"{where}: {v!r} is not part of the drawn graph")
    return wanted


def _chosen(params: Collection[Value], index: Mapping[Value, int]) -> set[Value]:
    """`params` as a set of leaves of the graph (TypeError/ValueError otherwise)."""
    wanted = values_in_graph(params, index, "params=...")
    for p in wanted:
        if p.parents:
            raise ValueError(f"params=...: {p!r} is computed by an operation; only leaves are parameters")
    return set(wanted)


def _layer_of(scope: str) -> str:
    """The layer part of a scope: "L1" for "L1.n3" (the first dotted component)."""
    return scope.split(".", 1)[0]


def group_nodes(data: Trace, by: str) -> list[Group]:
    """Scope boxes for `by` = "neuron" (one per full scope) or "layer" (one per first component).

    Nodes without a scope belong to no box and are drawn as usual. A box's parameters are its
    labelled leaves; its outputs are its nodes used outside the box (or the root).
    """
    if by not in ("neuron", "layer"):
        raise ValueError(needs("group", '"neuron" or "layer"', by))
    key_of: dict[str, str] = {}
    for n in data.nodes:
        if n.scope:
            key_of[n.id] = n.scope if by == "neuron" else _layer_of(n.scope)
    folded = _fold_batch(data, key_of) if key_of else {}
    layer_of = {key: layer for key, layer in folded.values()}
    key_of.update({nid: key for nid, (key, _) in folded.items()})
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
        if key in layer_of:
            # A folded box lists its repeated inputs, or the root it computes; no parameters.
            outputs = tuple(n.id for n in nodes if n.id in used_outside or n.id == data.root)
            groups.append(Group(key, layer_of[key], tuple(ids), (), outputs, folded=True))
            continue
        params = tuple(n.id for n in nodes if n.kind == PARAMETER)
        outputs = tuple(n.id for n in nodes if n.op and (n.id in used_outside or n.id == data.root))
        groups.append(Group(key, _layer_of(key), tuple(ids), params, outputs))

    def computed_at(grp: Group) -> int:
        # Order boxes by when they compute (their first operation), so L1 comes before L2.
        positions = [int(m[1:]) for m in grp.members if data.by_id[m].op] or [int(grp.members[0][1:])]
        return min(positions)

    return sorted(groups, key=computed_at)


# Grouping folds the unscoped operations (a batch's per-sample loss terms) into one box when
# there are more than this many; fewer stay drawn one by one, as a one-sample loss reads best.
FOLD_OUTSIDE = 12
INPUTS_LAYER = "inputs"


def _fold_batch(data: Trace, key_of: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Node id -> (box key, layer) for the unscoped nodes a batch repeats per sample.

    Labelled leaves outside every scope whose label repeats ("x0" once per sample) share one box
    per label, and the others one box when more than FOLD_OUTSIDE; unscoped operations and
    constants, when more than FOLD_OUTSIDE, share one box named after the root. Without this a
    batch of n samples draws n copies of every input and of the loss terms, with an edge from
    each input copy to every first-layer neuron.
    """
    outside = [n for n in data.nodes if n.id not in key_of]
    repeats = Counter(n.label for n in outside if not n.op and n.label)
    folded: dict[str, tuple[str, str]] = {}
    for n in outside:
        if not n.op and n.label and repeats[n.label] > 1:
            folded[n.id] = (f"{n.label} ({repeats[n.label]} values)", INPUTS_LAYER)
    lone = [n for n in outside if n.id not in folded and not n.op and n.label]
    if len(lone) > FOLD_OUTSIDE:  # one sample of many inputs (digits' x0..x63): one box for all
        folded.update({n.id: (f"{INPUTS_LAYER} ({len(lone)} values)", INPUTS_LAYER) for n in lone})
    rest = [n for n in outside if n.id not in folded and (n.op or not n.label)]
    if len(rest) > FOLD_OUTSIDE:
        root = data.by_id[data.root]
        key = f"{root.label or 'root'} ({len(rest)} operations and constants)"
        folded.update({n.id: (key, key) for n in rest})
    return folded


def drawn_edges(data: Trace) -> dict[tuple[str, str], list[Edge]]:
    """The edges a diagram draws, keyed by (tail, head) DOT ids, parallel edges merged.

    Box ids are "box0", "box1", ... in `data.groups` order; an edge into an ungrouped Value
    goes to its operation node "<id>_op". Edges inside one box are not drawn. All edges between
    the same two boxes (a neuron read by the next layer on every sample) become one entry.
    """
    box_of = group_key_map(list(data.groups))
    box_ids = {group.key: f"box{i}" for i, group in enumerate(data.groups)}
    drawn: dict[tuple[str, str], list[Edge]] = {}
    for edge in data.edges:
        src_box = box_of.get(edge.src)
        dst_box = box_of.get(edge.dst)
        if src_box is not None and src_box == dst_box:
            continue
        tail = box_ids[src_box] if src_box is not None else edge.src
        head = box_ids[dst_box] if dst_box is not None else f"{edge.dst}_op"
        drawn.setdefault((tail, head), []).append(edge)
    return drawn


def drawn_size(data: Trace) -> tuple[int, int]:
    """(nodes, edges) a diagram of `data` hands to dot: boxes, Values, operation nodes and edges.

    Edges into a box are one per (tail, box) pair, edges into an operation one per input, plus
    one edge from each operation node to its Value and the invisible edges that order a row.
    """
    box_of = group_key_map(list(data.groups))
    loose = [n for n in data.nodes if n.id not in box_of]
    operations = sum(1 for n in loose if n.op)
    nodes = len(data.groups) + len(loose) + operations
    edges = sum(
        1 if head.startswith("box") else len(merged) for (_, head), merged in drawn_edges(data).items()
    )
    rows = Counter(g.layer for g in data.groups)
    return nodes, edges + operations + sum(count - 1 for count in rows.values())


def single_parents(data: Trace) -> dict[str, str]:
    """Node id -> the id of its one input, for nodes made by one-input operations."""
    return {e.dst: e.src for e in data.edges if data.by_id[e.dst].n_parents == 1}


def delta_node(data: Trace, output: str, parent_of: Mapping[str, str]) -> str | None:
    """The weighted sum z behind a neuron's output (its δ is z's grad): the output itself when it
    is a weighted sum, else the nearest weighted sum up a chain of one-input operations
    (`parent_of` from `single_parents`)."""
    node: str | None = output
    for _ in range(8):  # an activation or two between z and the output, never a long chain
        if node is None:
            return None
        if data.by_id[node].weighted_sum:
            return node
        node = parent_of.get(node)
    return None


def row_name(node: Node, key: str) -> str:
    """A node's name as a row of the box `key`: its label, prefixed by the rest of its scope
    ("n0.w1"), "out" for a neuron's own output; with the sample it was computed on when a batch
    computed it more than once: "n0 [sample 2]", or just "sample 2" where the box is the Value
    itself (a neuron's own output, the box "x0 (4 values)" of an input)."""
    label = node.label if node.label not in ("", node.scope) else "out"
    if node.scope and node.scope != key and node.scope.startswith(key + "."):
        inner = node.scope[len(key) + 1 :]
        label = f"{inner}.{label}" if label != "out" else inner
    if node.sample is None:
        return label
    if label == "out" or key.startswith(f"{label} ("):
        return f"sample {node.sample}"
    return f"{label} [sample {node.sample}]"


def group_key_map(groups: list[Group]) -> dict[str, str]:
    """Node id -> the key of the box that holds it."""
    return {m: g.key for g in groups for m in g.members}
