"""The exercise as one standalone HTML page: the diagram with grads hidden beside the questions.

Numbers are the answers; the page's own script checks them against the right values and the
known mistakes' values embedded in it, with the same rule as `Exercise.answer` (1e-3 relative, or
rounded to the digits typed, 3 or more). The page is built from the template files in
viz/templates/ (package data). Same safety rules as the backward-steps page: all user text
escaped, JSON embedded with `<` escaped, a Content-Security-Policy that lets only the page's own
script run, nothing loaded from anywhere.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from autograd.files import FilePath, file_path, write_atomically
from viz.dot import RENDER_TIMEOUT, build, svg_of
from viz.labels import page_text, script_json
from viz.pages import inline_svg, read_template, script_csp
from viz.trace import trace

if TYPE_CHECKING:
    from viz.exercise import Exercise, Question

NOT_NUMBER = (
    "type a number here, such as -0.4 (a formula in the node names, such as a0*(1 - a0), works in "
    "Jupyter: ex.answer(name, text) or ex.widget())"
)
NOT_FINITE = "that is not a finite number: give the derivative as a number such as -0.4"
CLOSE_HINT = " (You are close: type at least 3 significant digits; answers count when they agree to 3-4.)"
# The diagram fills the page's width but is never drawn smaller than this (it scrolls instead):
# the smallest network's chain fits a 1280-pixel window with its text about 9 pixels high.
MIN_ZOOM = 0.62
_SLOT = re.compile(r"\{\{([A-Z]+)\}\}")


def template(name: str) -> str:
    """A template file shipped in viz/templates/ (package data)."""
    return read_template(f"templates/{name}")


_WIDTH = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"')


def diagram_svg(ex: Exercise, timeout: float = RENDER_TIMEOUT) -> str:
    """The exercise's diagram as inline SVG: forward values shown, local derivatives and grads hidden.

    It fills the width it is given but is never drawn smaller than MIN_ZOOM of its size (its
    container scrolls instead), nor larger than its size.
    """
    data, _ = trace(ex.root, max_nodes=None)
    svg = inline_svg(svg_of(build(data, local_grads=False, grads=False, rules=False), timeout=timeout))
    match = _WIDTH.search(svg[:2000])
    width = float(match.group(1)) * 4 / 3 if match else 800.0  # pt -> px
    style = f"width: 100%; height: auto; min-width: {width * MIN_ZOOM:.0f}px; max-width: {width:.0f}px"
    return svg.replace("<svg", f'<svg style="{style}"', 1)


def page_data(ex: Exercise) -> dict[str, Any]:
    """What the page's script checks with: per question the answer, messages and mistake values."""

    def entry(q: Question) -> dict[str, Any]:
        here = ex.graph.forward
        mistakes = []
        for m in q.mistakes:
            value = m.value(here)
            if math.isfinite(value):
                mistakes.append([value, m.kind, m.message])
        return {
            "answer": q.answer, "right": q.right, "wrong": q.wrong, "reveal": q.reveal, "mistakes": mistakes,
        }

    return {
        "order": ex.questions,
        "questions": {q.name: entry(q) for q in ex.items},
        "notNumber": NOT_NUMBER,
        "notFinite": NOT_FINITE,
        "closeHint": CLOSE_HINT,
    }


def _question_items(ex: Exercise) -> str:
    """The two lists of questions (local derivatives, then grads) as HTML, every name escaped."""
    parts = []
    for kind, heading in (
        ("local", "1. Local derivatives, edge by edge"),
        ("grad", "2. Grads, by the chain rule, in reverse order"),
    ):
        items = []
        for q in (q for q in ex.items if q.kind == kind):
            name = page_text(q.name)
            items.append(
                f'<li class="question" data-question="{name}">'
                f"<label><b>{name}</b>: {page_text(q.prompt)}</label>"
                f'<input type="text" inputmode="decimal" autocomplete="off" spellcheck="false" '
                f'data-answer="{name}" aria-label="{name}"> '
                '<button type="button" class="check">check</button> '
                f'<button type="button" class="reveal" data-reveal="{name}">reveal</button>'
                f'<p class="verdict" data-verdict="{name}" aria-live="polite"></p>'
                f'<p class="revealed" data-revealed="{name}" hidden></p></li>'
            )
        if items:
            listed = "\n".join(items)
            parts.append(f'<section class="{kind}">\n<h2>{heading}</h2>\n<ol>\n{listed}\n</ol>\n</section>')
    return "\n".join(parts)


def exercise_html(ex: Exercise, *, title: str | None = None, timeout: float = RENDER_TIMEOUT) -> str:
    """The exercise page as one HTML string (see `save_exercise_html`)."""
    script = template("exercise.js")
    root = ex.graph.names[ex.graph.root]
    slots = {
        "CSP": script_csp(script),
        "TITLE": page_text(title or f"Derive the gradients of {root} yourself"),
        "STYLE": template("exercise.css"),
        "ROOT": page_text(root),
        "PROGRESS": page_text(f"0 of {len(ex.questions)} right"),
        "SVG": diagram_svg(ex, timeout),
        "QUESTIONS": _question_items(ex),
        "DATA": script_json(page_data(ex)),
        "SCRIPT": script,
    }
    # One pass over the template: text put into a slot is never scanned for slots again.
    return _SLOT.sub(lambda m: slots[m.group(1)], template("exercise.html"))


def save_exercise_html(
    ex: Exercise, path: FilePath, *, title: str | None = None, timeout: float = RENDER_TIMEOUT
) -> str:
    """Write the exercise page atomically; return its path (RuntimeError naming the install without dot)."""
    page = exercise_html(ex, title=title, timeout=timeout)
    target = file_path(path, "save_exercise_html(path)")
    write_atomically(target, page.encode("utf-8"))
    return target
