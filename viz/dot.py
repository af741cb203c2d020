"""Graphviz diagrams of a Value graph; the only module that imports graphviz.

Colour legend (the same one `draw(root, legend=True)` adds to the picture):

- input, light blue: a labelled leaf that is data, e.g. "X", "x0" or a target "Y";
- parameter, amber: a leaf created inside a scope (nn creates each neuron's weights there) or
  labelled like a weight or bias: "w0", "W1", "b", "bias", "θ";
- constant, grey: an unlabelled leaf, i.e. a number written in an expression (the 0.5 of 0.5*d**2);
- intermediate, white: a Value computed by an operation;
- root, green: the Value the diagram was drawn for (usually the error E or a loss);
- operation, small grey oval: ×, +, Σ wx+b, sigmoid, x², ...; it points to the Value it computed;
- red outline: highlighted node (`highlight=`, or the node being processed in `backward_steps`).

Every node shows label, data and grad with 4 significant digits. An edge from an input into an
operation is labelled "∂=0.5": the local derivative d(out)/d(in) at the forward values. After
backward (root.grad != 0) a second line reads "× g=0.2 → 0.1": times g, the grad of the operation's
output, it adds 0.1 to the input's grad. That is the chain rule, one edge at a time: a node's grad
is the sum of the "→" numbers on its outgoing edges.

With `group="neuron"` each scope ("L1.n3") is one box listing its outputs and parameters (data and
grad) inside one dashed cluster per layer ("L1"); `group="layer"` draws one box per layer.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterable
from typing import Any

import graphviz

from autograd import Value
from viz.files import write_atomically
from viz.labels import dot_text, fmt, op_symbol
from viz.trace import (
    CONSTANT,
    INPUT,
    INTERMEDIATE,
    PARAMETER,
    ROOT,
    Edge,
    Group,
    Node,
    Trace,
    group_key_map,
    trace,
)

# kind -> (fill, border)
COLOURS = {
    INPUT: ("#dbeafe", "#2563eb"),
    PARAMETER: ("#fef3c7", "#d97706"),
    CONSTANT: ("#f3f4f6", "#9ca3af"),
    INTERMEDIATE: ("#ffffff", "#6b7280"),
    ROOT: ("#dcfce7", "#16a34a"),
}
OP_FILL = "#e5e7eb"
HIGHLIGHT = "#dc2626"
FONT = "Helvetica"
# Jupyter draws a Value flat up to this many nodes, grouped by neuron beyond.
JUPYTER_FLAT_NODES = 150

NO_DOT = (
    "rendering needs the Graphviz 'dot' program, which is not on PATH. Install Graphviz: "
    "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), "
    "'conda install graphviz' or https://graphviz.org/download/ (Windows). "
    "The DOT text is still available as diagram.source."
)


class Diagram(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """A graphviz.Digraph whose render/pipe explain how to install Graphviz when `dot` is missing."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        """graphviz.Digraph.render, with a RuntimeError naming the install command if dot is missing."""
        try:
            return str(super().render(*args, **kwargs))
        except graphviz.ExecutableNotFound as error:
            raise RuntimeError(NO_DOT) from error

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """graphviz.Digraph.pipe, with a RuntimeError naming the install command if dot is missing."""
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise RuntimeError(NO_DOT) from error


def _html(body: str) -> str:
    """Wrap already-escaped markup as a DOT HTML-like label."""
    return f"<{body}>"


def edge_lines(edge: Edge, out_grad: float) -> list[str]:
    """An edge's label lines: ["∂=0.5"], or after backward ["∂=0.5", "× g=0.2 → 0.1"] (plain text)."""
    if edge.contribution is None:
        return [f"∂={fmt(edge.local)}"]
    return [f"∂={fmt(edge.local)}", f"× g={fmt(out_grad)} → {fmt(edge.contribution)}"]


def _value_label(node: Node, highlighted: bool) -> str:
    """HTML-like table for a Value: its label over rows "data" and "grad", in its kind's colour."""
    fill, border = COLOURS[node.kind]
    width = 1
    if highlighted:
        border, width = HIGHLIGHT, 3
    name = node.label or ("const" if node.kind == CONSTANT else "")
    rows = f'<TR><TD COLSPAN="2"><B>{dot_text(name)}</B></TD></TR>' if name else ""
    rows += (
        f'<TR><TD ALIGN="LEFT">data</TD><TD ALIGN="RIGHT">{fmt(node.data)}</TD></TR>'
        f'<TR><TD ALIGN="LEFT">grad</TD><TD ALIGN="RIGHT">{fmt(node.grad)}</TD></TR>'
    )
    return _html(
        f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
        f'BGCOLOR="{fill}" COLOR="{border}">{rows}</TABLE>'
    )


def _op_text(node: Node) -> str:
    """The symbol of the operation that made `node`."""
    return op_symbol(node.op, has_bias=node.n_parents % 2 == 1)


def _row(name: str, node: Node, fill: str) -> str:
    """One table row: name | data | grad, on `fill`."""
    return (
        f'<TR><TD BGCOLOR="{fill}">{dot_text(name)}</TD><TD BGCOLOR="{fill}">{fmt(node.data)}</TD>'
        f'<TD BGCOLOR="{fill}">grad {fmt(node.grad)}</TD></TR>'
    )


def _short_name(node: Node, key: str) -> str:
    """A node's name inside the box `key`: its label, prefixed by the rest of its scope ("n0.w1")."""
    label = node.label if node.label not in ("", node.scope) else "out"
    if node.scope and node.scope != key and node.scope.startswith(key + "."):
        return f"{node.scope[len(key) + 1 :]}.{label}" if label != "out" else node.scope[len(key) + 1 :]
    return label


def _group_label(data: Trace, group: Group, highlighted: bool) -> str:
    """HTML-like table for a scope box: name and operations, outputs, then one row per parameter."""
    ops: list[str] = []
    for m in group.members:
        node = data.by_id[m]
        if node.op and _op_text(node) not in ops:
            ops.append(_op_text(node))
    border = HIGHLIGHT if highlighted else "#4b5563"
    width = 3 if highlighted else 1
    header = f"<B>{dot_text(group.key)}</B>"
    if ops:
        header += f'<BR/><FONT POINT-SIZE="10">{dot_text(" → ".join(ops))}</FONT>'
    rows = [f'<TR><TD COLSPAN="3" BGCOLOR="#e0e7ff">{header}</TD></TR>']
    # A neuron evaluated on many samples has one output per evaluation; list a few.
    limit = 3 if group.key != group.layer else 32
    for o in group.outputs[:limit]:
        node = data.by_id[o]
        rows.append(_row(_short_name(node, group.key), node, COLOURS[node.kind][0]))
    if len(group.outputs) > limit:
        rows.append(f'<TR><TD COLSPAN="3">… {len(group.outputs) - limit} more outputs</TD></TR>')
    for p in group.parameters:
        node = data.by_id[p]
        rows.append(_row(_short_name(node, group.key), node, COLOURS[PARAMETER][0]))
    return _html(
        f'<TABLE BORDER="{width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="{border}">'
        + "".join(rows)
        + "</TABLE>"
    )


def _new_diagram(rankdir: str, caption: str | None) -> Diagram:
    """An empty Diagram with the house fonts and sizes."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f'rankdir must be "LR", "RL", "TB" or "BT", got {rankdir!r}')
    g = Diagram("axongrad", format="svg")
    g.attr(rankdir=rankdir, fontname=FONT, nodesep="0.25", ranksep="0.45")
    g.attr("node", fontname=FONT, fontsize="12")
    g.attr("edge", fontname=FONT, fontsize="10", fontcolor="#374151", color="#6b7280", arrowsize="0.7")
    if caption:
        g.attr(label=_html(dot_text(caption)), labelloc="t", labeljust="l", fontsize="14")
    return g


def _add_value(g: Any, node: Node, highlighted: bool) -> None:
    """Draw a Value node and, if it was computed, its operation node feeding it."""
    g.node(node.id, _value_label(node, highlighted), shape="plaintext", margin="0")
    if node.op:
        g.node(
            f"{node.id}_op",
            _html(dot_text(_op_text(node))),
            shape="ellipse",
            style="filled",
            fillcolor=OP_FILL,
            color=HIGHLIGHT if highlighted else "#9ca3af",
            penwidth="2" if highlighted else "1",
            fontsize="11",
            height="0.3",
            margin="0.04,0.02",
        )
        g.edge(f"{node.id}_op", node.id, arrowsize="0.5")


def _edge_attrs(edge: Edge, data: Trace, local_grads: bool, hot: bool) -> dict[str, str]:
    """Label and colour of an input edge (red when its operation is being processed)."""
    attrs: dict[str, str] = {}
    if local_grads:
        attrs["label"] = _html(
            "<BR/>".join(dot_text(line) for line in edge_lines(edge, data.by_id[edge.dst].grad))
        )
    if hot:
        attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="2")
    return attrs


def _add_legend(g: Any) -> None:
    """A cluster holding one table: a sample of each colour and what the edge labels mean."""
    samples = [
        (INPUT, "input: data such as X, x0, Y"),
        (PARAMETER, "parameter: w0, b (or made inside a scope)"),
        (CONSTANT, "constant: a number in an expression"),
        (INTERMEDIATE, "intermediate: computed by an operation"),
        (ROOT, "root: the Value drawn (E, loss)"),
    ]
    rows = [
        f'<TR><TD BGCOLOR="{COLOURS[k][0]}" COLOR="{COLOURS[k][1]}" BORDER="1">{dot_text(text)}</TD></TR>'
        for k, text in samples
    ]
    rows.append(
        f'<TR><TD BGCOLOR="{OP_FILL}" STYLE="ROUNDED" BORDER="1">'
        f"{dot_text('operation: ×, +, Σ wx+b, sigmoid, x²')}</TD></TR>"
    )
    rows.append(f'<TR><TD ALIGN="LEFT">{dot_text("edge ∂=0.5: local derivative d(out)/d(in)")}</TD></TR>')
    rows.append(
        f'<TR><TD ALIGN="LEFT">{dot_text("edge × g=0.2 → 0.1: times the grad g of out,")}'
        f'<BR ALIGN="LEFT"/>{dot_text("this edge adds 0.1 to in.grad (chain rule)")}'
        '<BR ALIGN="LEFT"/></TD></TR>'
    )
    with g.subgraph(name="cluster_legend") as c:
        c.attr(label=_html("<B>legend</B>"), style="rounded", color="#9ca3af", fontsize="12")
        c.node(
            "legend",
            _html(
                '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="3">'
                + "".join(rows)
                + "</TABLE>"
            ),
            shape="plaintext",
            fontsize="10",
            margin="0",
        )


def build(
    data: Trace,
    *,
    local_grads: bool = True,
    rankdir: str = "LR",
    highlight: Iterable[str] = (),
    hot: str | None = None,
    legend: bool = False,
    caption: str | None = None,
) -> Diagram:
    """The diagram of a `Trace`; `highlight` are node ids, `hot` the node whose input edges glow."""
    g = _new_diagram(rankdir, caption)
    marked = set(highlight)
    box_of = group_key_map(list(data.groups))
    if data.groups:
        # dot re-runs crossing minimisation on the whole graph after placing clusters, which
        # shuffles the neurons of a layer; without that pass each row keeps n0, n1, n2, ...
        g.attr(remincross="false")
    clusters: dict[str, list[str]] = {}
    for group in data.groups:
        clusters.setdefault(group.layer, []).append(group.key)
    box_ids = {group.key: f"box{i}" for i, group in enumerate(data.groups)}
    for i, (layer, keys) in enumerate(clusters.items()):
        with g.subgraph(name=f"cluster_layer{i}") as c:
            if any(k != layer for k in keys):
                c.attr(
                    label=_html(dot_text(f"layer {layer}")),
                    style="rounded,dashed",
                    color="#6366f1",
                    fontcolor="#4338ca",
                    fontsize="12",
                )
            else:
                c.attr(style="invis")
            with c.subgraph(name=f"layer{i}_row") as row:
                # One row per layer, neurons in their natural order (n0, n1, ...): a same-rank
                # chain of invisible edges fixes the left-to-right order.
                if len(keys) > 1:
                    row.attr(rank="same")
                for group in data.groups:
                    if group.layer == layer:
                        lit = any(m in marked for m in group.members)
                        row.node(
                            box_ids[group.key], _group_label(data, group, lit), shape="plaintext", margin="0"
                        )
                for left, right in itertools.pairwise(keys):
                    row.edge(box_ids[left], box_ids[right], style="invis")
    for node in data.nodes:
        if node.id not in box_of:
            _add_value(g, node, node.id in marked)
    drawn: dict[tuple[str, str], list[Edge]] = {}
    for edge in data.edges:
        src_box = box_of.get(edge.src)
        dst_box = box_of.get(edge.dst)
        if src_box is not None and src_box == dst_box:
            continue
        tail = box_ids[src_box] if src_box is not None else edge.src
        head = box_ids[dst_box] if dst_box is not None else f"{edge.dst}_op"
        drawn.setdefault((tail, head), []).append(edge)
    for (tail, head), edges in drawn.items():
        if head.startswith("box"):
            g.edge(tail, head, color="#9ca3af")
            continue
        for edge in edges:
            g.edge(tail, head, **_edge_attrs(edge, data, local_grads, edge.dst == hot))
    if legend:
        _add_legend(g)
    return g


def root_value(root: object) -> Value:
    """`root` itself, or `root.root` for objects that carry one (a compiled tape); else TypeError."""
    if isinstance(root, Value):
        return root
    inner = getattr(root, "root", None)
    if isinstance(inner, Value):
        return inner
    raise TypeError(
        f"draw(root) needs an autograd Value or an object with a .root Value, got {type(root).__name__}"
    )


def _ids_of(values: Value | Iterable[Value] | None, order: list[Value]) -> set[str]:
    """Node ids of the Values to highlight (ValueError for a Value outside the graph)."""
    if values is None:
        return set()
    wanted = [values] if isinstance(values, Value) else list(values)
    index = {v: i for i, v in enumerate(order)}
    ids = set()
    for v in wanted:
        if not isinstance(v, Value):
            raise TypeError(f"draw(highlight=...) needs Values, got {type(v).__name__}")
        if v not in index:
            raise ValueError(f"draw(highlight=...): {v!r} is not part of the drawn graph")
        ids.add(f"n{index[v]}")
    return ids


def draw(
    root: object,
    *,
    local_grads: bool = True,
    rankdir: str | None = None,
    group: str | None = None,
    max_nodes: int = 500,
    highlight: Value | Iterable[Value] | None = None,
    legend: bool = False,
) -> Diagram:
    """The diagram of `root`'s graph: every Value, every operation, and a local derivative per edge.

    `root` is a Value or an object with a `.root` Value. `group` ("neuron"/"layer") collapses
    scopes into boxes; more than `max_nodes` drawn nodes raises ValueError. `rankdir` defaults to
    "LR" (left to right, as the posts draw a chain), and to "TB" for group="neuron", so the
    neurons of a layer sit side by side in a row. See the module docstring for colours; `legend=True` draws
    that legend into the picture.
    """
    value = root_value(root)
    data, order = trace(value, max_nodes=max_nodes, group=group)
    if rankdir is None:
        rankdir = "TB" if group == "neuron" else "LR"
    return build(
        data, local_grads=local_grads, rankdir=rankdir, highlight=_ids_of(highlight, order), legend=legend
    )


def have_dot() -> bool:
    """True when the Graphviz `dot` program is on PATH."""
    return shutil.which("dot") is not None


def _pipe(graph: Any, format: str) -> bytes:
    """`graph` laid out by dot as `format` bytes (RuntimeError naming the install command without dot)."""
    if not have_dot():
        raise RuntimeError(NO_DOT)
    try:
        return bytes(graph.pipe(format=format))
    except graphviz.ExecutableNotFound as error:
        raise RuntimeError(NO_DOT) from error


def render(graph: Any, path: str | os.PathLike[str], format: str = "svg") -> str:
    """Write `graph` (any graphviz graph) to `path` as "svg" or "png"; RuntimeError if dot is missing."""
    if format not in ("svg", "png"):
        raise ValueError(f'render(format=...) must be "svg" or "png", got {format!r}')
    image = _pipe(graph, format)
    target = os.fspath(path)
    write_atomically(target, image)
    return target


def svg_of(graph: Any) -> str:
    """`graph` rendered to SVG text by dot (RuntimeError naming the install command if missing)."""
    return _pipe(graph, "svg").decode("utf-8")


def jupyter_bundle(value: Value) -> dict[str, str]:
    """Jupyter mime bundle for a Value: its diagram as SVG (grouped past 150 nodes), else plain text."""
    text = repr(value)
    try:
        try:
            diagram = draw(value, max_nodes=JUPYTER_FLAT_NODES)
        except ValueError:
            # Scoped (nn) graphs collapse into neuron boxes; others stay flat up to draw's cap.
            diagram = draw(value, group="neuron")
        return {"image/svg+xml": svg_of(diagram), "text/plain": text}
    except (ValueError, RuntimeError, graphviz.CalledProcessError):
        return {"text/plain": text}
