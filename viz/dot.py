"""Graphviz diagrams of a Value graph; the only module that imports graphviz.

Colour legend (the same one `draw(root, legend=True)` adds to the picture):

- input, light blue: a labelled leaf that is data, e.g. "X", "x0" or a target "Y";
- parameter, amber: a labelled leaf created inside a scope (nn creates each neuron's weights
  there), or one passed in `params=` (`draw(E, params=[W0, W1])`; labels are never guessed);
- constant, grey: an unlabelled leaf, i.e. a number written in an expression (the 0.5 of 0.5*d**2);
- intermediate, white: a Value computed by an operation;
- root, green: the Value the diagram was drawn for (usually the error E or a loss);
- operation, small grey oval: ×, +, Σ wx+b, sigmoid, x², ...; it points to the Value it computed;
- red outline: highlighted node (`highlight=`, or the node being processed in `backward_steps`).

Every node shows label, data and grad with 4 significant digits. An edge from an input into an
operation is labelled "∂=0.5": the local derivative d(out)/d(in) at the forward values. After
backward (root.grad != 0) a second line reads "× g=0.2 → 0.1": times g, the grad of the operation's
output, it adds 0.1 to the input's grad. That is the chain rule, one edge at a time: a node's grad
is the sum of the "→" numbers on its outgoing edges. Top to bottom (the default), each label is a
small box on its edge; left to right (`rankdir="LR"`), dot sets it beside the edge.

With `group="neuron"` each scope ("L1.n3") is one box listing its outputs and parameters (data and
grad) inside one dashed cluster per layer ("L1"); `group="layer"` draws one box per layer. A
batch's repeated inputs ("x0 (60 values)") and its per-sample loss terms fold into boxes too, and
the edges between two boxes merge into one marked "×60", so a batch draws like one sample.

dot runs with a time limit (`render(..., timeout=60)`, 3 s for a Jupyter display); past it, or
past `draw`'s max_nodes/max_edges, a ValueError says which smaller view to draw.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import graphviz

from autograd import Value
from autograd.checks import real_number
from autograd.files import FilePath, file_path, write_atomically
from viz.labels import dot_text, dot_tooltip, fmt, is_shortened
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
    delta_node,
    drawn_edges,
    drawn_size,
    group_key_map,
    grouping_hint,
    row_name,
    single_parents,
    trace,
    values_in_graph,
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
DELTA_FILL = "#fce7f3"
HIGHLIGHT = "#dc2626"
FONT = "Helvetica"
# The largest diagram `draw` makes by default, in nodes and edges handed to dot. dot's time grows
# faster than linearly (measurements in the docstring of tests/test_viz_display.py).
MAX_NODES = 500
MAX_EDGES = 1000
# Graphs of at most this many Values show each edge's derivative rule by default (draw(rules=None)).
RULE_NODES = 40
# A box lists at most this many parameters by default, then "… 65 weights".
MAX_PARAMS = 20
# Merged box-to-box edges are labelled "×60" only while there are at most this many of them.
LABELLED_BOX_EDGES = 40
# Seconds dot may take: a file (`render`) may wait; a Jupyter display must not hang the kernel.
RENDER_TIMEOUT = 60.0
DISPLAY_TIMEOUT = 3.0
# The largest SVG a diagram shows inline when displayed (a saved notebook keeps every output).
DIAGRAM_MAX_BYTES = 1_000_000
# Captions (the backward steps') may be longer than a node's label.
CAPTION_CHARS = 600
# A picture wider than this many pixels does not fit a 1,920-pixel screen at its own size, the size
# at which its text is readable (dot's smallest, 10 pt, is 13.3 px at 96 px per inch). `render` and
# Jupyter then draw `draw`'s picture as a poster: its caption says so and names a readable view.
POSTER_PX = 1920

INSTALL_DOT = (
    "Install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
    "(macOS), 'conda install graphviz' or https://graphviz.org/download/ (Windows)."
)
"""Where to get the Graphviz `dot` program, one sentence for every error that needs it."""

NO_DOT = (
    f"rendering needs the Graphviz 'dot' program, which is not on PATH. {INSTALL_DOT} "
    "The DOT text is still available as diagram.source."
)


class Diagram(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """A graphviz.Digraph whose render/pipe explain how to install Graphviz when `dot` is missing."""

    # The call that draws a readable view, named in the caption when the picture is a poster
    # (wider than POSTER_PX); "" for diagrams that are never marked as posters.
    readable = ""

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

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None, **_: object
    ) -> dict[str, str]:
        """Jupyter display: the SVG when dot lays it out within DISPLAY_TIMEOUT and it is at most
        DIAGRAM_MAX_BYTES, else a text note saying why and how to write it to a file."""
        try:
            svg = laid_out(self, "svg", DISPLAY_TIMEOUT).decode("utf-8")
            if len(svg.encode("utf-8")) <= DIAGRAM_MAX_BYTES:
                return {"image/svg+xml": svg}
            reason = (
                f"its SVG is {len(svg.encode('utf-8')):,} bytes, more than {DIAGRAM_MAX_BYTES:,} a "
                'notebook should hold; try group="layer" or max_params=4'
            )
        except Exception as error:  # a display hook must never raise
            reason = str(error)
        return {
            "text/plain": f"<viz diagram: not shown here ({reason}). Its DOT text is diagram.source; "
            "viz.render(diagram, 'diagram.svg', timeout=120) writes it to a file.>"
        }


def _html(body: str) -> str:
    """Wrap already-escaped markup as a DOT HTML-like label."""
    return f"<{body}>"


def edge_lines(edge: Edge, out_grad: float, rules: bool = False) -> list[str]:
    """An edge's label lines (plain text): ["∂=0.5"], with `rules` ["∂ = b = 0.5"], and after
    backward a second line "× g=0.2 → 0.1". A weighted sum's edge without its rule names its term."""
    if rules and edge.rule:
        number = fmt(edge.local)
        first = f"∂ = {number}" if edge.rule == number else f"∂ = {edge.rule} = {number}"
    else:
        first = f"∂={fmt(edge.local)}"
        if edge.term:
            first = f"{edge.term}: {first}"
    if edge.contribution is None:
        return [first]
    return [first, f"× g={fmt(out_grad)} → {fmt(edge.contribution)}"]


def _value_label(node: Node, highlighted: bool, grads: bool = True) -> str:
    """HTML-like table for a Value: its name over rows "data" and "grad", in its kind's colour.

    A constant (a number written in an expression) is one compact cell: its number. `grads=False`
    shows "grad ?" (an exercise hides what the learner derives).
    """
    fill, border = COLOURS[node.kind]
    width = 1
    if highlighted:
        border, width = HIGHLIGHT, 3
    if node.kind == CONSTANT:
        return _html(
            f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
            f'BGCOLOR="{fill}" COLOR="{border}"><TR><TD>{dot_text(fmt(node.data))}</TD></TR></TABLE>'
        )
    rows = f'<TR><TD COLSPAN="2"><B>{dot_text(node.name)}</B></TD></TR>' if node.name else ""
    rows += (
        f'<TR><TD ALIGN="LEFT">data</TD><TD ALIGN="RIGHT">{fmt(node.data)}</TD></TR>'
        f'<TR><TD ALIGN="LEFT">grad</TD><TD ALIGN="RIGHT">{fmt(node.grad) if grads else "?"}</TD></TR>'
    )
    return _html(
        f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
        f'BGCOLOR="{fill}" COLOR="{border}">{rows}</TABLE>'
    )


def _op_text(node: Node) -> str:
    """The symbol of the operation that made `node` (from the op table)."""
    return node.symbol


def _row(name: str, node: Node, fill: str, delta: Node | None = None) -> str:
    """One table row: name | data | grad | δ (the posts' ∂E/∂z of a neuron's output, when known)."""
    cell = f'<TD BGCOLOR="{DELTA_FILL}">δ {fmt(delta.grad)}</TD>' if delta is not None else "<TD></TD>"
    return (
        f'<TR><TD BGCOLOR="{fill}">{dot_text(name)}</TD><TD BGCOLOR="{fill}">{fmt(node.data)}</TD>'
        f'<TD BGCOLOR="{fill}">grad {fmt(node.grad)}</TD>{cell}</TR>'
    )


def _group_label(
    data: Trace, group: Group, highlighted: bool, max_params: int | None, parent_of: dict[str, str]
) -> str:
    """HTML-like table for a scope box: name and operations, outputs with their δ, then parameters.

    More than `max_params` parameters are summarised: the first few, then "… 65 weights".
    """
    ops: list[str] = []
    for m in group.members:
        node = data.by_id[m]
        if node.op and _op_text(node) not in ops:
            ops.append(_op_text(node))
    border = HIGHLIGHT if highlighted else "#4b5563"
    width = 3 if highlighted else 1
    header = f"<B>{dot_text(group.key)}</B>"
    if ops:
        chain = " → ".join(ops[:8]) + (" …" if len(ops) > 8 else "")
        header += f'<BR/><FONT POINT-SIZE="10">{dot_text(chain)}</FONT>'
    deltas = data.has_grad and not group.folded
    if deltas:
        header += f'<BR/><FONT POINT-SIZE="10">{dot_text("δ = ∂E/∂z, z its weighted sum")}</FONT>'
    rows = [f'<TR><TD COLSPAN="4" BGCOLOR="#e0e7ff">{header}</TD></TR>']
    # A neuron evaluated on many samples has one output per evaluation; list a few.
    # A layer box lists every neuron (up to 32) whatever max_params says: their δ is the point.
    limit = 3 if group.folded or group.key != group.layer else 32
    if len(group.outputs) == limit + 1:
        limit += 1  # the one more row costs what a "… 1 more" line would
    for o in group.outputs[:limit]:
        node = data.by_id[o]
        z = delta_node(data, o, parent_of) if deltas else None
        rows.append(
            _row(row_name(node, group.key), node, COLOURS[node.kind][0], data.by_id[z] if z else None)
        )
    if len(group.outputs) > limit:
        more = "values" if group.folded else "outputs"
        rows.append(f'<TR><TD COLSPAN="4">… {len(group.outputs) - limit} more {more}</TD></TR>')
    params = group.parameters
    shown = params if max_params is None or len(params) <= max_params else params[: max(max_params - 1, 1)]
    for p in shown:
        node = data.by_id[p]
        rows.append(_row(row_name(node, group.key), node, COLOURS[PARAMETER][0]))
    if len(shown) < len(params):
        what = "weights" if group.key != group.layer else "parameters"
        rows.append(
            f'<TR><TD COLSPAN="4" BGCOLOR="{COLOURS[PARAMETER][0]}">… {len(params)} {what} '
            f"({len(params) - len(shown)} not listed)</TD></TR>"
        )
    return _html(
        f'<TABLE BORDER="{width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="{border}">'
        + "".join(rows)
        + "</TABLE>"
    )


def value_table(title: str, rows: list[tuple[str, str, str]], fill: str, highlight: str = "") -> str:
    """A small HTML-like table: a bold title over (name, value, note) rows; the last row on `highlight`."""
    cells = [f'<TR><TD COLSPAN="2" BGCOLOR="{fill}"><B>{dot_text(title)}</B></TD></TR>']
    for name, value, _ in rows:
        bg = highlight if highlight and name.startswith("δ") else fill
        cells.append(
            f'<TR><TD BGCOLOR="{bg}">{dot_text(name)}</TD><TD BGCOLOR="{bg}">{dot_text(value)}</TD></TR>'
        )
    table = '<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
    return _html(table + "".join(cells) + "</TABLE>")


def new_diagram(rankdir: str, caption: str | None) -> Diagram:
    """An empty Diagram with the house fonts and sizes (and a caption, if given)."""
    return _new_diagram(rankdir, caption)


def _new_diagram(rankdir: str, caption: str | None) -> Diagram:
    """An empty Diagram with the house fonts and sizes."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f'rankdir must be "LR", "RL", "TB" or "BT", got {rankdir!r}')
    g = Diagram("axongrad", format="svg")
    g.attr(rankdir=rankdir, fontname=FONT, nodesep="0.25", ranksep="0.45")
    g.attr("node", fontname=FONT, fontsize="12")
    g.attr("edge", fontname=FONT, fontsize="10", fontcolor="#374151", color="#6b7280", arrowsize="0.7")
    if caption:
        _caption(g, caption)
    return g


def _caption(g: Any, caption: str) -> None:
    """Set the diagram's caption, at its top left: one line per "\n", so a long note wraps instead of
    widening the picture."""
    lines = '<BR ALIGN="LEFT"/>'.join(dot_text(line, CAPTION_CHARS) for line in caption.split("\n"))
    g.attr(label=_html(lines + '<BR ALIGN="LEFT"/>'), labelloc="t", labeljust="l", fontsize="14")


def _add_value(g: Any, node: Node, highlighted: bool, grads: bool = True) -> None:
    """Draw a Value node and, if it was computed, its operation node feeding it."""
    # A label shortened with "…" keeps its full text in the tooltip (the SVG's <title>).
    extra = {"tooltip": dot_tooltip(node.label)} if is_shortened(node.label) else {}
    g.node(node.id, _value_label(node, highlighted, grads), shape="plaintext", margin="0", **extra)
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


def _edge_attrs(edge: Edge, data: Trace, local_grads: bool, rules: bool, hot: bool) -> dict[str, str]:
    """Label and colour of an input edge (red when its operation is being processed).

    Without local derivatives, a weighted sum's edges still say which term they feed ("w0·x0").
    """
    attrs: dict[str, str] = {}
    if local_grads:
        lines = edge_lines(edge, data.by_id[edge.dst].grad, rules)
        attrs["label"] = _html("<BR/>".join(dot_text(line) for line in lines))
    elif edge.term:
        attrs["label"] = _html(dot_text(edge.term))
    if hot:
        attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="2")
    return attrs


def _labelled_edge(g: Any, tail: str, head: str, index: int, attrs: dict[str, str]) -> None:
    """An edge whose label is a small node on it ("n5_op_d0" for input 0 of n5's operation).

    Top to bottom, dot sets an edge's label beside the edge, so the labels of two edges into one
    operation sit side by side and read as one line, one of them next to the other edge. As a node
    in the edge's path, each label sits on its own edge.
    """
    label = attrs.pop("label")
    node = f"{head}_d{index}"
    g.node(
        node,
        label,
        shape="box",
        style="rounded,filled",
        fillcolor="#ffffff",
        color=attrs.get("color", "#d1d5db"),
        fontcolor=attrs.get("fontcolor", "#374151"),
        penwidth=attrs.get("penwidth", "1"),
        fontsize="10",
        height="0.2",
        margin="0.06,0.03",
    )
    g.edge(tail, node, arrowhead="none", **attrs)
    g.edge(node, head, **attrs)


def _marked_row(names: Sequence[str]) -> str:
    """The legend row for highlighted names: a thick red sample border and the names it stands for."""
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return (
        f'<TR><TD BORDER="3" COLOR="{HIGHLIGHT}">'
        f"{dot_text('thick red border: ' + shown, CAPTION_CHARS)}</TD></TR>"
    )


def _add_legend(g: Any, marked: Sequence[str] = (), full: bool = True) -> None:
    """A cluster holding one table: a sample of each colour and what the edge labels mean.

    `marked`: a row saying what the thick red border marks; `full=False` draws only that row.
    """
    if not full:
        rows = [_marked_row(marked)]
        with g.subgraph(name="cluster_legend") as c:
            c.attr(label=_html("<B>legend</B>"), style="rounded", color="#9ca3af", fontsize="12")
            table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="3">'
            c.node("legend", _html(table + "".join(rows) + "</TABLE>"), shape="plaintext", margin="0")
        return
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
    if marked:
        rows.append(_marked_row(marked))
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
    max_params: int | None = MAX_PARAMS,
    rules: bool | None = None,
    grads: bool = True,
    named: Sequence[str] = (),
) -> Diagram:
    """The diagram of a `Trace`; `highlight` are node ids, `hot` the node whose input edges glow.

    `grads=False` shows each grad as "?" (with `local_grads=False`: an exercise's diagram).
    `named` are the names highlighted (`draw(highlight=["L1.n3"])`): a legend line names them.

    Boxes list at most `max_params` parameters each (None: all). `rules` writes each edge's
    derivative rule before its number ("∂ = σ(Z0)(1 − σ(Z0)) = 0.1779"); None: for graphs of at
    most RULE_NODES Values.
    """
    if rules is None:
        rules = len(data.nodes) <= RULE_NODES
    g = _new_diagram(rankdir, caption)
    marked = set(highlight)
    box_of = group_key_map(list(data.groups))
    if data.groups:
        # dot re-runs crossing minimisation on the whole graph after placing clusters, which
        # shuffles the neurons of a layer; without that pass each row keeps n0, n1, n2, ...
        g.attr(remincross="false")
    clusters: dict[str, list[Group]] = {}
    for group in data.groups:
        clusters.setdefault(group.layer, []).append(group)
    box_ids = {group.key: f"box{i}" for i, group in enumerate(data.groups)}
    parent_of = single_parents(data) if data.groups else {}
    for i, (layer, members) in enumerate(clusters.items()):
        with g.subgraph(name=f"cluster_layer{i}") as c:
            if any(grp.key != layer for grp in members):
                title = layer if all(grp.folded for grp in members) else f"layer {layer}"
                c.attr(
                    label=_html(dot_text(title)),
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
                if len(members) > 1:
                    row.attr(rank="same")
                for group in members:
                    lit = any(m in marked for m in group.members)
                    row.node(
                        box_ids[group.key],
                        _group_label(data, group, lit, max_params, parent_of),
                        shape="plaintext",
                        margin="0",
                    )
                for left, right in itertools.pairwise(members):
                    row.edge(box_ids[left.key], box_ids[right.key], style="invis")
    for node in data.nodes:
        if node.id not in box_of:
            _add_value(g, node, node.id in marked, grads)
    drawn = drawn_edges(data)
    # Merged edges say how many they stand for; as labels only while few (labels slow dot down).
    box_edges = sum(1 for _, head in drawn if head.startswith("box"))
    for (tail, head), edges in drawn.items():
        if head.startswith("box"):
            attrs = {"color": "#9ca3af"}
            if len(edges) > 1:
                attrs["tooltip"] = f"{len(edges)} edges"
                if box_edges <= LABELLED_BOX_EDGES:
                    attrs["label"] = f"×{len(edges)}"
            g.edge(tail, head, **attrs)
            continue
        for edge in edges:
            attrs = _edge_attrs(edge, data, local_grads, rules, edge.dst == hot)
            if "label" in attrs and rankdir in ("TB", "BT"):
                _labelled_edge(g, tail, head, edge.index, attrs)
            else:
                g.edge(tail, head, **attrs)
    if legend or named:
        _add_legend(g, named, full=legend)
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


def _named(value: Value, name: str) -> bool:
    """True when `name` is the Value's label, its scope ("L1.n3"), or a prefix of its scope ("L1")."""
    tag = value.scope
    return value.label == name or tag == name or tag.startswith(name + ".")


def _ids_of(
    values: Value | str | Iterable[Value | str] | None, order: list[Value]
) -> tuple[set[str], list[str]]:
    """Node ids to highlight and the names asked for: Values, and str names matched by `_named`.

    ValueError for a Value outside the graph or a name that matches no node (naming the scopes).
    """
    if values is None:
        return set(), []
    items: list[object] = [values] if isinstance(values, (Value, str)) else as_list(values, "highlight")
    names = [x for x in items if isinstance(x, str)]
    others = [x for x in items if not isinstance(x, str)]
    for x in others:
        if not isinstance(x, Value):
            raise TypeError(f"draw(highlight=...) needs Values or names (str), got {type(x).__name__}")
    index = {v: i for i, v in enumerate(order)}
    ids = {f"n{index[v]}" for v in values_in_graph(others, index, "draw(highlight=...)")}  # type: ignore[arg-type]
    for name in dict.fromkeys(names):
        found = {f"n{i}" for i, v in enumerate(order) if _named(v, name)}
        if not found:
            scopes = sorted({v.scope for v in order if v.scope})
            listed = ", ".join(scopes[:12]) + (" …" if len(scopes) > 12 else "") if scopes else "none"
            raise ValueError(
                f"draw(highlight=...): no node of this graph has the label or scope {name!r} "
                f"(scopes here: {listed})"
            )
        ids |= found
    return ids, list(dict.fromkeys(names))


def draw(
    root: object,
    *,
    local_grads: bool = True,
    rankdir: str | None = None,
    group: str | None = None,
    max_nodes: int = MAX_NODES,
    max_edges: int = MAX_EDGES,
    max_params: int | None = MAX_PARAMS,
    highlight: Value | str | Iterable[Value | str] | None = None,
    legend: bool = False,
    rules: bool | None = None,
    params: Iterable[Value] = (),
) -> Diagram:
    """The diagram of `root`'s graph: every Value, every operation, and a local derivative per edge.

    `root` is a Value or an object with a `.root` Value. `group` ("neuron"/"layer") collapses
    scopes into boxes (a batch's repeated inputs and per-sample loss terms fold into boxes too);
    more than `max_nodes` drawn nodes or `max_edges` drawn edges raises ValueError (dot's time
    grows steeply past them). Boxes list at most `max_params` parameters (None: all). `rankdir`
    defaults to "TB" (top to bottom): the picture grows downwards, which a page or notebook
    scrolls, and the neurons of a layer sit side by side in a row; "LR" draws the posts'
    left-to-right chain, several times wider. A picture wider than POSTER_PX pixels says in its
    caption that it is a poster and which call draws a readable view. See the module docstring for colours;
    `legend=True` draws that legend into the picture. `rules=False` leaves the derivative rules
    off the edges (None: shown for graphs of at most RULE_NODES Values). `params` are leaves to
    colour as parameters (nn's weights and biases are marked already; labels are never guessed).
    `highlight` marks nodes with a thick red border: Values, or names (any iterable of str, such
    as a gradient doctor's list of neurons): a neuron's scope "L1.n3", a layer "L1", or a label.
    Names get a legend line saying what the border means.
    """
    value = root_value(root)
    data, order = trace(value, max_nodes=max_nodes, group=group, params=as_list(params))
    check_size(data, max_edges, group)
    if rankdir is None:
        rankdir = "TB"
    ids, names = _ids_of(highlight, order)
    g = build(
        data,
        local_grads=local_grads,
        rankdir=rankdir,
        highlight=ids,
        legend=legend,
        max_params=max_params,
        rules=rules,
        named=names,
    )
    g.readable = _readable_view(group, rankdir)
    return g


def _readable_view(group: str | None, rankdir: str) -> str:
    """The call a poster's caption names: a view of the same graph that fits a screen."""
    if rankdir in ("LR", "RL"):
        return "viz.draw(root), top to bottom, is narrower"
    if group is None:
        return 'viz.draw(root, group="neuron") (a box per neuron), or viz.explain(root, leaf)'
    if group == "neuron":
        return 'viz.draw(root, group="layer") (a box per layer), or viz.neighbourhood(root, "L1.n0")'
    return 'viz.neighbourhood(root, "L1.n0") (one neuron), or max_params=4 for shorter boxes'


def as_list(items: Iterable[Any] | Value, what: str = "params", call: str = "draw") -> list[Any]:
    """`items` as a list (one Value allowed); TypeError naming `call(what=...)` for a non-iterable."""
    if isinstance(items, Value):
        return [items]
    try:
        return list(items)
    except TypeError:
        raise TypeError(
            f"{call}({what}=...) needs Values or an iterable of them, got {type(items).__name__}"
        ) from None


def check_size(data: Trace, max_edges: int, group: str | None) -> None:
    """ValueError when the diagram of `data` would hand dot more than `max_edges` edges."""
    nodes, edges = drawn_size(data)
    if edges > max_edges:
        what = "this graph" if group is None else f"this graph, grouped by {group},"
        raise ValueError(
            f"{what} draws {edges} edges between {nodes} nodes, more than max_edges={max_edges}: "
            "dot would take very long and the picture would be unreadable. "
            + grouping_hint(group).replace("max_nodes", "max_edges")
        )


def have_dot() -> bool:
    """True when the Graphviz `dot` program is on PATH."""
    return shutil.which("dot") is not None


def run_dot(source: str, format: str, timeout: float) -> bytes:
    """DOT `source` laid out by dot as `format` bytes, killed after `timeout` seconds.

    RuntimeError naming the install command without dot, or with dot's message when it fails;
    ValueError when it takes longer than `timeout` (saying how to draw a smaller view).
    """
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(NO_DOT)
    timeout = real_number(timeout, "render(timeout) (dot's time limit in seconds)", above=0)
    try:
        done = _run_in_own_group([exe, f"-T{format}"], source.encode("utf-8"), timeout)
    except subprocess.TimeoutExpired as error:
        raise ValueError(
            f"dot did not finish laying out this diagram in {timeout:g} s ({len(source):,} characters "
            "of DOT). Draw a smaller view: viz.draw(root, group=\"neuron\") or group=\"layer\" for a "
            "network, one sample's loss rather than a batch's, or viz.explain(root, parameter); "
            "or allow more time with render(..., timeout=...)."
        ) from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise RuntimeError(f"dot failed (exit status {done.returncode}): {message}")
    return bytes(done.stdout)


def _run_in_own_group(command: list[str], data: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run `command` with `data` on stdin; on a timeout, an interrupt or any error, end its whole group.

    dot may be a wrapper script whose children do the work: killing the wrapper alone would leave
    them running. So it starts a session of its own (POSIX), and that process group is killed
    (before the wrapper is reaped, so the group's id is still ours). After a normal exit, children
    the wrapper left behind are ended too: a drawing leaves no process behind. (A child that starts
    a session of its own, `setsid`, leaves the group: it is not ended, and only its pipes are closed.)
    """
    process = None
    try:
        with _interrupts_held() as held:  # Popen stores dot's pid only once fork and exec return
            process = subprocess.Popen(  # noqa: S603 (dot from PATH, our own arguments)
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=os.name == "posix",
            )
        if held:
            signal.raise_signal(signal.SIGINT)  # the Ctrl-C held back: its handler runs now
        out, err = process.communicate(data, timeout=timeout)
    except BaseException:  # TimeoutExpired, KeyboardInterrupt, ...
        if process is None:
            raise  # dot never started
        with _interrupts_held() as again:  # a second Ctrl-C waits until dot's group is ended
            _end_group(process)
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()  # not read to the end: a child that left the group may hold them
            process.wait()
        if again:
            signal.raise_signal(signal.SIGINT)
        raise
    _end_group(process)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


@contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """Hold back a Ctrl-C (SIGINT) while the block runs, in the main thread: the list it yields
    says whether one came. A KeyboardInterrupt raised while Popen starts dot, after fork but before
    Popen stores the pid, would leave dot running with nothing to end it. Only the main thread
    receives KeyboardInterrupt, and only it may set a handler: elsewhere nothing is held."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)
        if held and previous in (signal.SIG_IGN, None):
            held.clear()  # an ignored Ctrl-C, or a handler set outside Python: not ours to deliver


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process of `process`'s group (POSIX; elsewhere `process` alone)."""
    if os.name != "posix":
        process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


_SVG_WIDTH = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"')

# render's formats: a file's extension picks one (".jpeg" is jpg).
FORMATS = ("svg", "png", "pdf", "jpg", "gif", "ps", "eps")
_ALIASES = {"jpeg": "jpg"}


def _format_for(target: str, format: str | None) -> str:
    """The output format for `target`: from its extension, checked against an explicit `format`."""
    suffix = os.path.splitext(target)[1].lower().lstrip(".")
    from_suffix = _ALIASES.get(suffix, suffix) if suffix else None
    wanted = None if format is None else _ALIASES.get(format.lower(), format.lower())
    if wanted is not None and wanted not in FORMATS:
        raise ValueError(f"render(format=...) must be one of {', '.join(FORMATS)}, got {format!r}")
    if from_suffix in FORMATS:
        if wanted is not None and wanted != from_suffix:
            raise ValueError(
                f"render: the path {target!r} ends in .{suffix} but format={format!r}; "
                f"use a .{wanted} path or format={from_suffix!r} (or leave format out)"
            )
        return from_suffix
    if wanted is None:
        if from_suffix is None:
            return "svg"
        raise ValueError(
            f"render: cannot tell the format from {target!r}: end the path in one of "
            f"{', '.join('.' + f for f in FORMATS)} or pass format=..."
        )
    return wanted


def render(
    graph: Any, path: FilePath, format: str | None = None, *, timeout: float = RENDER_TIMEOUT
) -> str:
    """Write `graph` (any graphviz graph) to `path`, in the format its extension names.

    ".png", ".svg", ".pdf", ".jpg", ".gif", ".ps", ".eps"; a path without one is SVG. An explicit
    `format` that disagrees with the extension is a ValueError. dot gets `timeout` seconds
    (ValueError past it); RuntimeError if dot is missing. The file is written atomically.
    """
    target = file_path(path, "render(path)")
    fmt_name = _format_for(target, format)
    write_atomically(target, laid_out(graph, fmt_name, timeout))
    return target


def picture_width_px(image: bytes, format: str) -> float | None:
    """The width in pixels (96 per inch) of dot's SVG or PNG output; None for other formats."""
    if format == "svg":
        match = _SVG_WIDTH.search(image[:3000].decode("utf-8", "replace"))
        return float(match.group(1)) * 4 / 3 if match else None
    if format == "png" and image[12:16] == b"IHDR":
        return float(int.from_bytes(image[16:20], "big"))
    return None


def poster(graph: Diagram, width_px: float) -> Diagram:
    """A copy of `graph` whose caption says it is a poster, how wide, and which call draws a readable view."""
    copy: Diagram = graph.copy()
    _caption(
        copy,
        f"A poster: {width_px:,.0f} px wide, more than a {POSTER_PX:,} px screen shows at this size"
        f" (scroll, or zoom out).\nA readable view: {graph.readable}.",
    )
    return copy


def laid_out(graph: Any, format: str, timeout: float = RENDER_TIMEOUT) -> bytes:
    """`graph` laid out by dot as `format`; a `draw` picture wider than POSTER_PX is drawn again as a
    `poster` (both dot runs together get `timeout` seconds)."""
    start = time.monotonic()
    image = run_dot(graph.source, format, timeout)
    readable = getattr(graph, "readable", "")
    width = picture_width_px(image, format)
    if readable and width is not None and width > POSTER_PX:
        left = max(timeout - (time.monotonic() - start), 0.001)  # a time limit of 0 would be refused
        return run_dot(poster(graph, width).source, format, left)
    return image


def svg_of(graph: Any, timeout: float = RENDER_TIMEOUT) -> str:
    """`graph` rendered to SVG text by dot within `timeout` seconds (see `run_dot` for errors)."""
    return run_dot(graph.source, "svg", timeout).decode("utf-8")
