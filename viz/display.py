"""What Jupyter shows for a Value: a diagram that fits a notebook column and lays out in seconds, else text.

A Value left as a cell's last line is drawn by trying views from the most detailed down: every
Value (up to FLAT_NODES), then one box per neuron, then one box per layer. A view is skipped when it
has more nodes or edges than dot lays out quickly, when dot needs longer than the time left of
TIME_BUDGET, or when its SVG is larger than MAX_SVG_BYTES or wider than MAX_WIDTH_PT; a smaller
view says so in its caption. When no view fits, the display is a short text summary naming the
call that draws a readable picture. Nothing here raises: a display hook that fails shows nothing.

The display's time is bounded whatever the graph's size: a walk that stops after GROUPED_VALUES
Values decides first which views can fit at all (a 1,000,000-Value chain is known to be too large
after that walk, never traced); then at most one trace of a graph of at most that many Values (the
two groupings share it; it is not started once TIME_BUDGET seconds have passed, and its time grows
with the graph's edges too), and dot's runs, TIME_BUDGET seconds in all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from autograd import Value
from viz.dot import Diagram, build, check_size, have_dot, svg_of
from viz.labels import fmt
from viz.trace import GraphSize, graph_size, grouped, trace

# Views tried for a display, and their limits. dot lays out 150 flat Values or a grouped MLP of
# ~100 boxes and ~400 edges in well under a second (measurements: tests/test_viz_display.py).
FLAT_NODES = 150
DISPLAY_NODES = 300
DISPLAY_EDGES = 600
DISPLAY_PARAMS = 6
# A grouped view traces every Value (names, nodes, edges), in time that grows with the graph; a
# graph of more Values than this (a large batch's loss) is summarised in text without a trace.
GROUPED_VALUES = 50_000
# Seconds all of a display's dot runs may take together; once this long has passed in all
# (tracing included), no further view is started.
TIME_BUDGET = 4.0
# An SVG larger or wider than this would bloat the saved notebook or shrink to unreadable text.
MAX_SVG_BYTES = 400_000
MAX_WIDTH_PT = 1000

_WIDTH = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"')


def _views(value: Value, size: GraphSize, deadline: float) -> Iterator[tuple[str, Diagram]]:
    """Candidate diagrams for `value` (whose graph has `size`), most detailed first, each with a
    note for the caption; only views that can fit are traced. TimeoutError when the grouped
    views' trace (the one that grows with the graph) would start after `deadline` (time.monotonic)."""
    if size.complete and size.values <= FLAT_NODES:
        try:
            data, _ = trace(value, max_nodes=FLAT_NODES)
            check_size(data, DISPLAY_EDGES, None)
            flat = build(data, rankdir="TB")
        except ValueError:
            pass
        else:
            yield "", flat
    if not (size.complete and size.scoped):
        return  # too large to trace, or no scopes: grouping draws the same flat graph
    if time.monotonic() > deadline:
        raise TimeoutError(f"tracing it for a grouped view would go past {TIME_BUDGET:g} s")
    data, _ = trace(value, max_nodes=None)
    for group in ("neuron", "layer"):
        try:
            view = grouped(data, group, max_nodes=DISPLAY_NODES)
            check_size(view, DISPLAY_EDGES, group)
        except ValueError:
            continue
        finer = "viz.draw(value)" if group == "neuron" else 'viz.draw(value, group="neuron")'
        note = (
            f"grouped by {group}: {size.values:,} values are too many to show one by one here;\n"
            f"{finer} draws more detail"
        )
        yield note, build(view, rankdir="TB", caption=note, max_params=DISPLAY_PARAMS)


def _fits(svg: str) -> bool:
    """True when an SVG is within the display's byte and width budget."""
    if len(svg.encode("utf-8")) > MAX_SVG_BYTES:
        return False
    match = _WIDTH.search(svg[:2000])
    return match is None or float(match.group(1)) <= MAX_WIDTH_PT


def summary(value: Value, reason: str, size: GraphSize | None = None) -> str:
    """A few lines about `value`'s graph: data, grad, sizes, why it is not drawn, what to call.

    `size` is the graph's `graph_size` when the caller has it (counted up to GROUPED_VALUES).
    """
    if size is None:
        size = graph_size(value, GROUPED_VALUES)
    call = (
        'viz.draw(value, group="layer") for one box per layer, or draw one sample\'s loss '
        "rather than a batch's"
        if size.scoped
        else "viz.explain(value, leaf) for one derivative, or viz.draw a smaller part of the graph"
    )
    return (
        f"{value!r}\n"
        f"data {fmt(value.data)}, grad {fmt(value.grad)}; its graph has {size}.\n"
        f"Not drawn here: {reason}.\nFor a readable picture: {call}."
    )


def _reason(size: GraphSize) -> str:
    """Why no view of a graph of `size` is drawn, before any dot run says more."""
    if not size.complete:
        return "it is too large to draw, or to group by scope, in a notebook output"
    if size.values > FLAT_NODES and not size.scoped:
        return (
            f"{size.values:,} values are too many to draw one by one here (at most {FLAT_NODES}), "
            "and none has a scope (nn's neurons and layers) to group them by"
        )
    return "every view of it is too large for a notebook output"


def value_bundle(value: Value) -> dict[str, str]:
    """Jupyter's mime bundle for a Value: an SVG diagram that fits, else a text summary; never raises."""
    try:
        if not have_dot():
            return {"text/plain": repr(value)}
        start = time.monotonic()
        size = graph_size(value, GROUPED_VALUES)
        reason = _reason(size)
        # dot's runs together get TIME_BUDGET, however long tracing took (a busy machine must not
        # lose a picture that dot lays out at once); only the grouped views' trace, whose time
        # grows with the graph, is not started once the display has taken TIME_BUDGET in all.
        dot_seconds = 0.0
        views = _views(value, size, deadline=start + TIME_BUDGET)
        while True:
            if TIME_BUDGET - dot_seconds < 0.1:
                reason = f"dot needs more than {TIME_BUDGET:g} s to lay it out"
                break
            try:
                view = next(views, None)
            except TimeoutError as error:
                reason = str(error)
                break
            if view is None:
                break
            left = TIME_BUDGET - dot_seconds
            began = time.monotonic()
            try:
                svg = svg_of(view[1], timeout=left)
            except ValueError:
                reason = f"dot needs more than {TIME_BUDGET:g} s to lay it out"
                break
            dot_seconds += time.monotonic() - began
            if _fits(svg):
                return {"image/svg+xml": svg, "text/plain": repr(value)}
        return {"text/plain": summary(value, reason, size)}
    except Exception:
        try:
            return {"text/plain": repr(value)}
        except Exception:
            return {"text/plain": "<Value>"}
