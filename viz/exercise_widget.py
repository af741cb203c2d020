"""The exercise in Jupyter: an ipywidgets view (pip install 'axongrad[widgets]') that calls `Exercise.answer`.

The diagram (grads hidden) sits above one row per question: a text box taking a number or a
formula in the node names, check and reveal buttons, and the verdict, which appears when the
learner presses Enter or check. Each verdict is HTML carrying `data-verdict="<question name>"`,
as in the standalone page; a text box cannot carry attributes of its own in ipywidgets, so it
carries the CSS class "axongrad-answer" and the returned box maps names to boxes (`.answers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from viz.labels import page_text

if TYPE_CHECKING:
    from viz.exercise import Exercise, Verdict

NO_WIDGETS = "the exercise widget needs ipywidgets: pip install 'axongrad[widgets]'"
_COLOURS = {"right": "#166534", "wrong": "#b91c1c", "unreadable": "#92400e"}
_MARKS = {"right": "✓ ", "wrong": "✗ Wrong. ", "unreadable": "? "}


def verdict_state(verdict: Verdict) -> str:
    """"right", "wrong", or "unreadable" (text that is neither a number nor an allowed formula)."""
    if not verdict.understood:
        return "unreadable"
    return "right" if verdict.right else "wrong"


def verdict_html(name: str, verdict: Verdict | None) -> str:
    """A verdict as HTML with `data-verdict` (empty before the first answer); all text escaped."""
    if verdict is None:
        return f'<span data-verdict="{page_text(name)}"></span>'
    state = verdict_state(verdict)
    return (
        f'<span data-verdict="{page_text(name)}" data-state="{state}" '
        f'data-mistake="{page_text(verdict.mistake or "")}" style="color: {_COLOURS[state]}">'
        f"{page_text(_MARKS[state] + verdict.message)}</span>"
    )


def _diagram_html(ex: Exercise) -> str:
    """The diagram as scrollable inline SVG, or a note saying how to get it (no dot)."""
    from viz.exercise_page import diagram_svg

    try:
        svg = diagram_svg(ex, timeout=10.0)
    except (RuntimeError, ValueError) as error:
        return f"<p>{page_text(str(error))}</p>"
    return f'<div style="overflow: auto; max-height: 45vh; border: 1px solid #d1d5db;">{svg}</div>'


def exercise_widget(ex: Exercise) -> Any:
    """An ipywidgets VBox for `ex`; `.answers`, `.checks`, `.reveals`, `.verdicts` map question names
    to its widgets and `.progress` is the progress line (ImportError naming the extra without ipywidgets)."""
    try:
        import ipywidgets as w
    except ImportError:
        raise ImportError(NO_WIDGETS) from None

    root = ex.graph.names[ex.graph.root]
    progress = w.HTML(f"<b>{page_text(ex.progress)}</b>")
    help_text = w.HTML(
        "<p>Backpropagate by hand: first each local derivative d out/d in, then each grad "
        f"(d{page_text(root)}/d node) in reverse order; grad {page_text(root)} = 1 is given. Type a "
        "number, or a formula in the node names such as <code>a0*(1 - a0)</code> or "
        "<code>1 - a1**2</code> (functions: exp, log, tanh, sigmoid, sqrt, relu, abs), and press "
        "Enter. Numbers count when they agree to 3-4 significant digits; formulas are also checked "
        "at other values of the inputs.</p>"
    )
    answers: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    reveals: dict[str, Any] = {}
    verdicts: dict[str, Any] = {}
    rows = []

    def refresh() -> None:
        progress.value = f"<b>{page_text(ex.progress)}</b>"

    for q in ex.items:
        name = q.name
        box = w.Text(placeholder="number or formula", continuous_update=False, layout=w.Layout(width="16em"))
        box.add_class("axongrad-answer")
        check = w.Button(description="check", layout=w.Layout(width="6em"))
        reveal = w.Button(description="reveal", layout=w.Layout(width="6em"))
        verdict = w.HTML(verdict_html(name, ex.verdicts.get(name)))
        shown = w.HTML()

        def on_check(_: Any, name: str = name, box: Any = box, verdict: Any = verdict) -> None:
            if box.value.strip():
                verdict.value = verdict_html(name, ex.answer(name, box.value))
                refresh()

        def on_reveal(_: Any, name: str = name, shown: Any = shown) -> None:
            shown.value = f'<code data-revealed="{page_text(name)}">{page_text(ex.reveal(name))}</code>'
            refresh()

        box.observe(on_check, names="value")
        check.on_click(on_check)
        reveal.on_click(on_reveal)
        label = w.HTML(f"<b>{page_text(name)}</b>: {page_text(q.prompt)}")
        rows.append(w.VBox([label, w.HBox([box, check, reveal]), verdict, shown]))
        answers[name], checks[name], reveals[name], verdicts[name] = box, check, reveal, verdict
    view = w.VBox([w.HTML(_diagram_html(ex)), help_text, progress, *rows])
    view.add_class("axongrad-exercise")
    view.answers, view.checks, view.reveals = answers, checks, reveals
    view.verdicts, view.progress = verdicts, progress
    return view
