"""The backward pass one node at a time: a diagram per step, and a self-contained HTML page of them.

The steps replay the chain rule on copies of the grads (the Values' `.grad` are never touched):
step 0 seeds d(root)/d(root) = 1, then each step takes the next operation in reverse topological
order and adds local * grad to each of its inputs, exactly as `autograd.backward` does.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from autograd import Value
from autograd.files import FilePath, file_path, write_atomically
from viz.dot import INSTALL_DOT, RENDER_TIMEOUT, Diagram, as_list, build, have_dot, root_value, svg_of
from viz.labels import fmt, fmt_factor, page_text, shorten, srcdoc
from viz.names import edge_rule, expression, symbol_of, value_names
from viz.pages import inline_svg, read_template, script_csp
from viz.trace import trace

MAX_STEP_NODES = 150
STEPS_HINT = (
    "The backward steps draw one frame per operation, so their work grows with the square of the "
    "graph: raise max_nodes if you can wait, or draw the whole graph once with "
    'viz.draw(root, group="neuron") (or group="layer").'
)
# Seconds all frames of an inline (Jupyter) steps player may take dot together.
DISPLAY_TIMEOUT = 10.0


@dataclass(frozen=True)
class Step:
    """One frame of the backward pass: its number, the processed node's id, what happened, the diagram."""

    index: int
    node_id: str
    caption: str
    diagram: Diagram


def replay(
    root: Value,
    *,
    max_nodes: int = MAX_STEP_NODES,
    rankdir: str = "TB",
    captions: bool = True,
    params: Collection[Value] = (),
) -> Iterator[Step]:
    """The steps of `root`'s backward pass as `Step`s (`captions=False`: no captions in the diagrams).

    `params` are leaves drawn as parameters (amber) besides those nn marked, as in `viz.draw`.
    """
    _, order = trace(root, max_nodes=max_nodes, hint=STEPS_HINT, params=params)
    index = {v: i for i, v in enumerate(order)}
    names = value_names(order)
    spelled = dict(names)  # unlabelled results as short expressions: "(a1 − Y)²"
    for v in order:
        if v.parents and not v.label:
            text = expression(v, spelled)
            spelled[v] = text if len(text) <= 48 else names[v]
    grads = {v: 0.0 for v in order}
    grads[root] = 1.0
    processed: set[Value] = set()
    rid = f"n{index[root]}"
    operations = [v for v in reversed(order) if v.parents]
    total = len(operations)
    seed = (
        f"step 0/{total}: seed d{names[root]}/d{names[root]} = 1, "
        "the grad of the value the backward pass starts from"
    )
    data, _ = trace(root, max_nodes=None, grads=grads, processed=processed, params=params)
    drawn = _wrapped(seed) if captions else None
    yield Step(0, rid, seed, build(data, rankdir=rankdir, highlight=[rid], caption=drawn))
    for k, v in enumerate(operations, 1):
        g = grads[v]
        pushes = []
        for i, (p, d) in enumerate(zip(v.parents, v.local_grads)):
            grads[p] += d * g
            rule, _ = edge_rule(v, i, names)
            why = f" (∂ = {rule})" if rule and rule != fmt(d) else ""
            pushes.append(f"{names[p]} += {fmt(d)}{why} × {fmt_factor(g)} = {fmt(d * g)}")
        processed.add(v)
        shown = "; ".join(pushes[:4]) + (f"; … ({len(pushes) - 4} more)" if len(pushes) > 4 else "")
        made = names[v] if v.label else f"{names[v]} = {spelled[v]}"
        caption = (
            f"step {k}/{total}: {made} (made by {symbol_of(v)}) passes its grad "
            f"{fmt(g)} to its inputs: {shown}"
        )
        nid = f"n{index[v]}"
        data, _ = trace(root, max_nodes=None, grads=grads, processed=processed, params=params)
        drawn = _wrapped(caption) if captions else None
        yield Step(k, nid, caption, build(data, rankdir=rankdir, highlight=[nid], hot=nid, caption=drawn))


# A step's caption drawn into its diagram wraps at this many characters, so it never widens the picture.
CAPTION_LINE = 90


def _wrapped(caption: str) -> str:
    """`caption` as lines of at most CAPTION_LINE characters, one per "\n" (the diagram's caption)."""
    return "\n".join(textwrap.wrap(caption, CAPTION_LINE, break_long_words=False, break_on_hyphens=False))


class Steps(list[Diagram]):
    """The backward pass as diagrams, one per step (a list); Jupyter shows them as an inline player."""

    def __init__(
        self,
        root: Value,
        diagrams: Iterable[Diagram],
        captions: list[str],
        rankdir: str,
        max_nodes: int,
        params: Collection[Value] = (),
    ) -> None:
        """The diagrams of `root`'s backward steps, their captions, and how they were drawn."""
        super().__init__(diagrams)
        self.root = root
        self.captions = captions
        self.rankdir = rankdir
        self.max_nodes = max_nodes
        self.params = tuple(params)

    def __repr__(self) -> str:
        """A one-line summary: how many steps, the first and last caption."""
        name = self.root.label or "the root"
        last = shorten(self.captions[-1], 160)
        return (
            f"<{len(self)} backward steps of {name}: {shorten(self.captions[0], 100)} ... {last}. "
            "Jupyter plays them inline; viz.save_backward_html(root, 'steps.html') writes the page.>"
        )

    def _repr_html_(self) -> str:
        """An inline player: the steps page in an iframe (own CSS, ids and keys), or a note why not."""
        try:
            page, height = _page(self.root, self.max_nodes, self.rankdir, None, DISPLAY_TIMEOUT, self.params)
        except Exception as error:  # a display hook must never raise: say what happened instead
            return f"<pre>{page_text(repr(self))}\n{page_text(str(error))}</pre>"
        shown = max(240, min(720, height + 200))
        return (
            f'<iframe srcdoc="{srcdoc(page)}" title="backward steps" sandbox="allow-scripts" '
            f'style="width: 100%; height: {shown}px; border: 1px solid #d1d5db;"></iframe>'
        )


def backward_steps(
    root: object,
    *,
    max_nodes: int = MAX_STEP_NODES,
    rankdir: str = "TB",
    params: Iterable[Value] = (),
) -> Steps:
    """One diagram per backward step: the processed node highlighted, grads filled in so far.

    Step 0 is the seed (root grad 1); then one step per operation in reverse topological order.
    Returns a list-like `Steps` that Jupyter shows as an inline player. Does not modify any
    `.grad`. ValueError for graphs larger than `max_nodes`. `params` are leaves drawn as
    parameters (amber), as in `viz.draw`; `rankdir` "TB" draws top to bottom (a page scrolls
    down), "LR" left to right.
    """
    value = root_value(root)
    chosen = as_list(params, call="backward_steps")
    steps = list(replay(value, max_nodes=max_nodes, rankdir=rankdir, params=chosen))
    return Steps(value, (s.diagram for s in steps), [s.caption for s in steps], rankdir, max_nodes, chosen)


# Frames are drawn at a zoom the learner controls; "+" and "−" keep labels at least MIN_LABEL_PX
# pixels high. dot's smallest text is an edge label of 10 pt = 13.3 px at zoom 1, so they never go
# below 0.75 ("fit" may: it shows the whole picture at once).
MIN_LABEL_PX = 10
SMALLEST_FONT_PT = 10
MIN_ZOOM = MIN_LABEL_PX / (SMALLEST_FONT_PT * 4 / 3)

_HEIGHT = re.compile(r'<svg[^>]*?\sheight="([\d.]+)pt"')
_SLOT = re.compile(r"\{\{([A-Z]+)\}\}")

NO_DOT_STEPS = (
    "the backward-steps page lays out each frame with the Graphviz 'dot' program, which is not on "
    f"PATH. {INSTALL_DOT} Without it, the steps' DOT text is in viz.backward_steps(root)[k].source, and "
    "print(viz.explain(root, leaf)) writes the chain rule out as text."
)


def _template(name: str) -> str:
    """A template file of the steps page (viz/templates/, package data)."""
    return read_template(f"templates/{name}")


def _frames(steps: list[Step], timeout: float) -> tuple[list[str], float]:
    """Each step's frame (a <section> holding its inline SVG) and the tallest frame's height in pt."""
    deadline = time.monotonic() + timeout
    frames = []
    tallest = 0.0
    for step in steps:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ValueError(
                f"the {len(steps)} backward steps need more than {timeout:g} s of dot; "
                "save them with viz.save_backward_html(root, path) (it may take longer) or draw a "
                "smaller graph"
            )
        try:
            svg = inline_svg(svg_of(step.diagram, timeout=left))
        except RuntimeError as error:
            if have_dot():
                raise
            raise RuntimeError(NO_DOT_STEPS) from error
        match = _HEIGHT.search(svg[:2000])
        tallest = max(tallest, float(match.group(1)) if match else 0.0)
        frames.append(
            f'<section class="frame" data-step="{step.index}" data-node="{page_text(step.node_id)}" '
            f'data-caption="{page_text(step.caption)}"{"" if step.index == 0 else " hidden"}>'
            f"{svg}</section>"
        )
    return frames, tallest


def _page(
    value: Value,
    max_nodes: int,
    rankdir: str,
    title: str | None,
    timeout: float,
    params: Collection[Value] = (),
) -> tuple[str, int]:
    """The steps page and the height in pixels of its tallest frame; dot gets `timeout` s in all."""
    steps = list(replay(value, max_nodes=max_nodes, rankdir=rankdir, captions=False, params=params))
    frames, tallest = _frames(steps, timeout)
    script = _template("steps.js")
    slots = {
        "CSP": script_csp(script),
        "TITLE": page_text(title or f"Backward pass of {value.label or 'the root'}, step by step"),
        "STYLE": _template("steps.css"),
        "MINPX": str(MIN_LABEL_PX),
        "LAST": str(len(steps) - 1),
        "MINZOOM": f"{MIN_ZOOM:.4f}",
        "CAPTION": page_text(steps[0].caption),
        "NODE": page_text(steps[0].node_id),
        "FRAMES": "\n".join(frames),
        "SCRIPT": script,
    }
    # One pass over the template: text put into a slot is never scanned for slots again.
    page = _SLOT.sub(lambda m: slots[m.group(1)], _template("steps.html"))
    return page, round(tallest * 4 / 3)


def backward_html(
    root: object,
    *,
    max_nodes: int = MAX_STEP_NODES,
    rankdir: str = "TB",
    title: str | None = None,
    timeout: float = RENDER_TIMEOUT,
    params: Iterable[Value] = (),
) -> str:
    """The backward-steps page as one HTML string (see `save_backward_html`)."""
    chosen = as_list(params, call="save_backward_html")
    return _page(root_value(root), max_nodes, rankdir, title, timeout, chosen)[0]


def save_backward_html(
    root: object,
    path: FilePath,
    *,
    max_nodes: int = MAX_STEP_NODES,
    rankdir: str = "TB",
    title: str | None = None,
    timeout: float = RENDER_TIMEOUT,
    params: Iterable[Value] = (),
) -> str:
    """Write one self-contained HTML page (inline SVG frames, slider, prev/next, ← →) and return its path.

    At each step the page scrolls to the step's node at a readable size. `params` are leaves drawn
    as parameters (amber), as in `viz.draw(root, params=[W0, W1])`. Needs the Graphviz `dot`
    program (RuntimeError naming the install command otherwise); all frames together get
    `timeout` seconds of dot (ValueError past it). The file is written atomically; all user text
    in it is escaped and it loads nothing from elsewhere.
    """
    page = backward_html(
        root, max_nodes=max_nodes, rankdir=rankdir, title=title, timeout=timeout, params=params
    )
    target = file_path(path, "save_backward_html(path)")
    write_atomically(target, page.encode("utf-8"))
    return target
