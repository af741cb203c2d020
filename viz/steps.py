"""The backward pass one node at a time: a diagram per step, and a self-contained HTML page of them.

The steps replay the chain rule on copies of the grads (the Values' `.grad` are never touched):
step 0 seeds d(root)/d(root) = 1, then each step takes the next operation in reverse topological
order and adds local * grad to each of its inputs, exactly as `autograd.backward` does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from autograd import Value
from autograd.files import FilePath, file_path, write_atomically
from viz.dot import RENDER_TIMEOUT, Diagram, build, root_value, svg_of
from viz.labels import fmt, fmt_factor, page_text, shorten, srcdoc
from viz.names import edge_rule, expression, symbol_of, value_names
from viz.pages import inline_svg, script_csp
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
    root: Value, *, max_nodes: int = MAX_STEP_NODES, rankdir: str = "LR", captions: bool = True
) -> Iterator[Step]:
    """The steps of `root`'s backward pass as `Step`s (`captions=False`: no captions in the diagrams)."""
    _, order = trace(root, max_nodes=max_nodes, hint=STEPS_HINT)
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
    data, _ = trace(root, max_nodes=None, grads=grads, processed=processed)
    yield Step(
        0, rid, seed, build(data, rankdir=rankdir, highlight=[rid], caption=seed if captions else None)
    )
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
        data, _ = trace(root, max_nodes=None, grads=grads, processed=processed)
        yield Step(
            k,
            nid,
            caption,
            build(data, rankdir=rankdir, highlight=[nid], hot=nid, caption=caption if captions else None),
        )


class Steps(list[Diagram]):
    """The backward pass as diagrams, one per step (a list); Jupyter shows them as an inline player."""

    def __init__(
        self, root: Value, diagrams: Iterable[Diagram], captions: list[str], rankdir: str, max_nodes: int
    ) -> None:
        """The diagrams of `root`'s backward steps, their captions, and how they were drawn."""
        super().__init__(diagrams)
        self.root = root
        self.captions = captions
        self.rankdir = rankdir
        self.max_nodes = max_nodes

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
            page, height = _page(self.root, self.max_nodes, self.rankdir, None, DISPLAY_TIMEOUT)
        except Exception as error:  # a display hook must never raise: say what happened instead
            return f"<pre>{page_text(repr(self))}\n{page_text(str(error))}</pre>"
        shown = max(240, min(720, height + 200))
        return (
            f'<iframe srcdoc="{srcdoc(page)}" title="backward steps" sandbox="allow-scripts" '
            f'style="width: 100%; height: {shown}px; border: 1px solid #d1d5db;"></iframe>'
        )


def backward_steps(root: object, *, max_nodes: int = MAX_STEP_NODES, rankdir: str = "LR") -> Steps:
    """One diagram per backward step: the processed node highlighted, grads filled in so far.

    Step 0 is the seed (root grad 1); then one step per operation in reverse topological order.
    Returns a list-like `Steps` that Jupyter shows as an inline player. Does not modify any
    `.grad`. ValueError for graphs larger than `max_nodes`.
    """
    value = root_value(root)
    steps = list(replay(value, max_nodes=max_nodes, rankdir=rankdir))
    return Steps(value, (s.diagram for s in steps), [s.caption for s in steps], rankdir, max_nodes)


# Frames are drawn at a zoom the learner controls; labels stay at least MIN_LABEL_PX pixels high.
# dot's smallest text is an edge label of 10 pt = 13.3 px at zoom 1, so zoom never goes below 0.75.
MIN_LABEL_PX = 10
SMALLEST_FONT_PT = 10
MIN_ZOOM = MIN_LABEL_PX / (SMALLEST_FONT_PT * 4 / 3)

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em 1.5em; color: #111827; }
h1 { font-size: 1.3em; margin: 0.2em 0; }
#controls { display: flex; flex-wrap: wrap; gap: 0.6em; align-items: center; margin: 0.6em 0; }
#controls button { font-size: 1em; padding: 0.3em 0.9em; }
#slider { flex: 1; min-width: 10em; max-width: 40em; }
#caption { font-family: Menlo, Consolas, monospace; background: #f3f4f6; padding: 0.6em; min-height: 1.5em; }
#stage { overflow: auto; max-height: 70vh; border: 1px solid #d1d5db; cursor: grab; }
#stage.dragging { cursor: grabbing; user-select: none; }
#stage svg { display: block; }
.help { color: #4b5563; max-width: 60em; margin: 0.3em 0; }
"""

_SCRIPT = """
(function () {
  var frames = document.querySelectorAll("#stage > .frame");
  var stage = document.getElementById("stage");
  var slider = document.getElementById("slider");
  var caption = document.getElementById("caption");
  var counter = document.getElementById("counter");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var zoomLabel = document.getElementById("zoom");
  var minZoom = Number(stage.getAttribute("data-min-zoom"));
  var current = 0;
  var zoom = 1;
  function natural(svg) {
    var pt = 4 / 3;
    return [parseFloat(svg.getAttribute("width")) * pt, parseFloat(svg.getAttribute("height")) * pt];
  }
  function setZoom(z) {
    zoom = Math.max(minZoom, Math.min(4, z));
    frames.forEach(function (f) {
      var svg = f.querySelector("svg");
      var size = natural(svg);
      svg.style.width = (size[0] * zoom) + "px";
      svg.style.height = (size[1] * zoom) + "px";
    });
    stage.setAttribute("data-zoom", zoom.toFixed(3));
    zoomLabel.textContent = Math.round(zoom * 100) + "%";
  }
  function fit() {
    var svg = frames[current].querySelector("svg");
    setZoom(Math.min(1, (stage.clientWidth - 4) / natural(svg)[0]));
  }
  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i));
    frames[current].hidden = true;
    frames[i].hidden = false;
    current = i;
    stage.setAttribute("data-step", String(i));
    stage.setAttribute("data-node", frames[i].getAttribute("data-node"));
    slider.value = String(i);
    caption.textContent = frames[i].getAttribute("data-caption");
    counter.textContent = "step " + i + " / " + (frames.length - 1);
    prev.disabled = i === 0;
    next.disabled = i === frames.length - 1;
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.getElementById("zoom-in").addEventListener("click", function () { setZoom(zoom * 1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { setZoom(zoom / 1.25); });
  document.getElementById("zoom-fit").addEventListener("click", fit);
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }
    if (event.key === "ArrowRight") { show(current + 1); }
    if (event.key === "ArrowLeft") { show(current - 1); }
    if (event.key === "+" || event.key === "=") { setZoom(zoom * 1.25); }
    if (event.key === "-") { setZoom(zoom / 1.25); }
  });
  var drag = null;
  stage.addEventListener("pointerdown", function (event) {
    drag = [event.clientX, event.clientY, stage.scrollLeft, stage.scrollTop];
    stage.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    stage.scrollLeft = drag[2] - (event.clientX - drag[0]);
    stage.scrollTop = drag[3] - (event.clientY - drag[1]);
  });
  window.addEventListener("pointerup", function () { drag = null; stage.classList.remove("dragging"); });
  show(0);
  fit();
})();
"""


_HEIGHT = re.compile(r'<svg[^>]*?\sheight="([\d.]+)pt"')


def _page(
    value: Value, max_nodes: int, rankdir: str, title: str | None, timeout: float
) -> tuple[str, int]:
    """The steps page and the height in pixels of its tallest frame; dot gets `timeout` s in all."""
    steps = list(replay(value, max_nodes=max_nodes, rankdir=rankdir, captions=False))
    heading = title or f"Backward pass of {value.label or 'the root'}, step by step"
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
        svg = inline_svg(svg_of(step.diagram, timeout=left))
        match = _HEIGHT.search(svg[:2000])
        tallest = max(tallest, float(match.group(1)) if match else 0.0)
        frames.append(
            f'<section class="frame" data-step="{step.index}" data-node="{page_text(step.node_id)}" '
            f'data-caption="{page_text(step.caption)}"{"" if step.index == 0 else " hidden"}>'
            f"{svg}</section>"
        )
    csp = script_csp(_SCRIPT)
    last = len(steps) - 1
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        f"<title>{page_text(heading)}</title>\n<style>{_STYLE}</style></head>\n<body>\n"
        f"<h1>{page_text(heading)}</h1>\n"
        '<p class="help">Each step applies the chain rule at one node (red): its grad times the local '
        "derivative on each input edge (∂) is added to that input's grad. Grads shown are the ones "
        "filled in so far. Use the buttons, the slider or the ← → keys; drag the picture to move "
        "around it, and zoom with − + (text never shrinks below "
        f"{MIN_LABEL_PX} px).</p>\n"
        '<div id="controls"><button id="prev" type="button">◀ previous</button>'
        f'<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">'
        '<button id="next" type="button">next ▶</button>'
        f'<span id="counter">step 0 / {last}</span>'
        '<button id="zoom-out" type="button" aria-label="zoom out">−</button>'
        '<span id="zoom">100%</span>'
        '<button id="zoom-in" type="button" aria-label="zoom in">+</button>'
        '<button id="zoom-fit" type="button">fit</button></div>\n'
        f'<p id="caption">{page_text(steps[0].caption)}</p>\n'
        f'<main id="stage" data-step="0" data-zoom="1" data-min-zoom="{MIN_ZOOM:.4f}" '
        f'data-node="{page_text(steps[0].node_id)}">\n'
        + "\n".join(frames)
        + f"\n</main>\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )
    return page, round(tallest * 4 / 3)


def backward_html(
    root: object,
    *,
    max_nodes: int = MAX_STEP_NODES,
    rankdir: str = "LR",
    title: str | None = None,
    timeout: float = RENDER_TIMEOUT,
) -> str:
    """The backward-steps page as one HTML string (see `save_backward_html`)."""
    return _page(root_value(root), max_nodes, rankdir, title, timeout)[0]


def save_backward_html(
    root: object,
    path: FilePath,
    *,
    max_nodes: int = MAX_STEP_NODES,
    rankdir: str = "LR",
    title: str | None = None,
    timeout: float = RENDER_TIMEOUT,
) -> str:
    """Write one self-contained HTML page (inline SVG frames, slider, prev/next, ← →) and return its path.

    Needs the Graphviz `dot` program (RuntimeError naming the install command otherwise); all
    frames together get `timeout` seconds of dot (ValueError past it). The file is written
    atomically; all user text in it is escaped and it loads nothing from elsewhere.
    """
    page = backward_html(root, max_nodes=max_nodes, rankdir=rankdir, title=title, timeout=timeout)
    target = file_path(path, "save_backward_html(path)")
    write_atomically(target, page.encode("utf-8"))
    return target
