"""What Jupyter shows for a Value: a diagram that fits a notebook column and lays out in seconds, else text.

A Value left as a cell's last line is drawn by trying views from the most detailed down: every
Value (up to FLAT_NODES), then one box per neuron, then one box per layer. A view is skipped when it
has more nodes or edges than dot lays out quickly, when dot needs longer than the time left of
TIME_BUDGET, or when its SVG is larger than MAX_SVG_BYTES or wider than MAX_WIDTH_PT; a smaller
view says so in its caption. When no view fits, the display is a short text summary naming the
call that draws a readable picture. Nothing here raises: a display hook that fails shows nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from autograd import Value, topological_order
from viz.dot import Diagram, build, check_size, have_dot, svg_of
from viz.labels import fmt
from viz.trace import trace

# Views tried for a display, and their limits. dot lays out 150 flat Values or a grouped MLP of
# ~100 boxes and ~400 edges in well under a second (measurements: tests/test_viz_display.py).
FLAT_NODES = 150
DISPLAY_NODES = 300
DISPLAY_EDGES = 600
DISPLAY_PARAMS = 6
# Seconds all of a display's dot runs may take together.
TIME_BUDGET = 4.0
# An SVG larger or wider than this would bloat the saved notebook or shrink to unreadable text.
MAX_SVG_BYTES = 400_000
MAX_WIDTH_PT = 1000

_WIDTH = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"')


def _views(value: Value) -> Iterator[tuple[str, Diagram]]:
    """Candidate diagrams for `value`, most detailed first, each with a note for the caption."""
    try:
        data, _ = trace(value, max_nodes=FLAT_NODES)
        check_size(data, DISPLAY_EDGES, None)
        yield "", build(data, rankdir="TB")
    except ValueError:
        pass
    count = len(topological_order(value))
    for group in ("neuron", "layer"):
        try:
            data, _ = trace(value, max_nodes=DISPLAY_NODES, group=group)
            check_size(data, DISPLAY_EDGES, group)
        except ValueError:
            continue
        if not data.groups:
            break  # no scopes: grouping draws the same flat graph
        finer = "viz.draw(value)" if group == "neuron" else 'viz.draw(value, group="neuron")'
        note = (
            f"grouped by {group}: {count:,} values are too many to show one by one here;\n"
            f"{finer} draws more detail"
        )
        yield note, build(data, rankdir="TB", caption=note, max_params=DISPLAY_PARAMS)


def _fits(svg: str) -> bool:
    """True when an SVG is within the display's byte and width budget."""
    if len(svg.encode("utf-8")) > MAX_SVG_BYTES:
        return False
    match = _WIDTH.search(svg[:2000])
    return match is None or float(match.group(1)) <= MAX_WIDTH_PT


def summary(value: Value, reason: str) -> str:
    """A few lines about `value`'s graph: data, grad, sizes, why it is not drawn, what to call."""
    order = topological_order(value)
    edges = sum(len(v.parents) for v in order)
    scoped = any(v.scope for v in order)
    call = (
        'viz.draw(value, group="layer") for one box per layer, or draw one sample\'s loss '
        "rather than a batch's"
        if scoped
        else "viz.explain(value, leaf) for one derivative, or viz.draw a smaller part of the graph"
    )
    return (
        f"{value!r}\n"
        f"data {fmt(value.data)}, grad {fmt(value.grad)}; its graph has {len(order):,} values and "
        f"{edges:,} edges.\nNot drawn here: {reason}.\nFor a readable picture: {call}."
    )


def value_bundle(value: Value) -> dict[str, str]:
    """Jupyter's mime bundle for a Value: an SVG diagram that fits, else a text summary; never raises."""
    try:
        if not have_dot():
            return {"text/plain": repr(value)}
        # Only dot's runs spend the budget: tracing a large batch in Python takes seconds on a busy
        # machine, but it is linear and always ends; dot's layout is what may not.
        dot_seconds = 0.0
        reason = "every view of it is too large for a notebook output"
        for _, diagram in _views(value):
            left = TIME_BUDGET - dot_seconds
            if left < 0.1:
                reason = f"dot needs more than {TIME_BUDGET:g} s to lay it out"
                break
            start = time.monotonic()
            try:
                svg = svg_of(diagram, timeout=left)
            except ValueError:
                reason = f"dot needs more than {TIME_BUDGET:g} s to lay it out"
                break
            dot_seconds += time.monotonic() - start
            if _fits(svg):
                return {"image/svg+xml": svg, "text/plain": repr(value)}
        return {"text/plain": summary(value, reason)}
    except Exception:
        try:
            return {"text/plain": repr(value)}
        except Exception:
            return {"text/plain": "<Value>"}
