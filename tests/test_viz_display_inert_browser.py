"""Nothing runs from a label: every display method of every public object, given every hostile
label, is inert in Chromium when a front end inserts its output as HTML (issue 21).

Each object is built with the hostile labels (node labels, scopes, op and function names, class
names, titles); each of its HTML, SVG, Markdown and LaTeX outputs is inserted into a page twice,
with `element.innerHTML = output` and as a parsed fragment (`createContextualFragment`, which also
runs <script> elements, as jQuery's .html() does). A payload that runs calls `top.pwn`, or posts
a message from a frame: the test fails naming the object and output it came from. text/plain is
left out: it is text by definition, and every front end escapes it.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser
from test_viz_graphs import HOSTILE

import autograd
import nn
import viz
from autograd import Value
from autograd.closurecheck import check_backward
from autograd.gradcheck import check_op

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

HIT = "try{top.pwn(this)}catch(e){top.postMessage('pwned','*')}"
SCRIPT_HIT = "try{top.pwn(document.currentScript)}catch(e){top.postMessage('pwned','*')}"

# Payloads that run script when their text becomes markup: tags, attribute breaks, a Markdown
# fence or code span closed early, CDATA and LaTeX delimiters ended, text escaped once already.
PAYLOADS = [
    f'<img src=x onerror="{HIT}">',
    f"</script><script>{SCRIPT_HIT}</script>",
    f"\"><img src=x onerror=\"{HIT}\">",
    "'><img src=x onerror=top.pwn(this)>",
    "`<img src=x onerror=top.pwn(this)>`",
    "```\n<img src=x onerror=top.pwn(this)>\n```",
    "]]><img src=x onerror=top.pwn(this)>",
    "&lt;img src=x onerror=top.pwn(this)&gt;",
    f"<iframe srcdoc=\"<script>{SCRIPT_HIT}</script>\"></iframe>",
    "$$</span><img src=x onerror=top.pwn(this)>",
    r"\text{<img src=x onerror=top.pwn(this)>}",
    "<details open ontoggle=top.pwn(this)>",
]
LABELS = [*HOSTILE, *PAYLOADS]

HOST = """<!doctype html><meta charset="utf-8"><title>host</title><body>
<script>
window.pwned = [];
window.pwn = el => {
  const box = el && el.closest ? el.closest('[data-source]') : null;
  window.pwned.push(box ? box.dataset.source : '?');
};
window.alert = x => window.pwned.push("alert(" + x + ") of a HOSTILE label");
window.addEventListener('message', e => { if (e.data === 'pwned') window.pwned.push('a frame'); });
</script></body>"""

INSERT = """
const [outputs, how] = arguments;
for (const [source, text] of outputs) {
  const box = document.createElement('div');
  box.dataset.source = source + ' (' + how + ')';
  document.body.appendChild(box);
  if (how === 'innerHTML') box.innerHTML = text;
  else box.appendChild(document.createRange().createContextualFragment(text));
}
return document.querySelectorAll('[data-source]').length;
"""


def hostile_graph() -> tuple[Value, list[Value]]:
    """A small graph whose every Value (leaves, intermediates, root) carries a hostile label."""
    leaves = [Value(0.3 + 0.05 * i, label) for i, label in enumerate(LABELS)]
    total = leaves[0]
    for i, leaf in enumerate(leaves[1:]):
        total = total * 0.9 + leaf.tanh()
        total.label = LABELS[(i + 5) % len(LABELS)]
    total.label = LABELS[-1]
    total.backward()
    return total, leaves


def hostile_network() -> Value:
    """An MLP's loss on inputs labelled with hostile text (for viz.deltas)."""
    model = nn.MLP(2, [2, 1], seed=0)
    xs = [Value(0.5, PAYLOADS[0]), Value(-1.0, PAYLOADS[9])]
    loss = (model(xs) - 1.0) ** 2  # type: ignore[operator]
    loss.label = LABELS[13]
    loss.backward()
    return loss


def hostile_op() -> Any:
    """A learner's op whose name, symbol and latex= text are hostile."""

    def twice(x: float) -> tuple[float, float]:
        return 2 * x, 2.0

    latex = f"{PAYLOADS[0]} \\frac{{1}}{{2}} {PAYLOADS[2]}"
    return autograd.op(twice, rule="2", name=PAYLOADS[0], symbol=PAYLOADS[3], latex=latex)


def hostile_closure() -> Callable[[Value], Value]:
    """A learner's closure-building function with a hostile name (and a wrong sign, so problems show)."""

    def tanh(self: Value) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad -= (1 - t * t) * out.grad

        out._backward = _backward
        return out

    tanh.__name__ = tanh.__qualname__ = PAYLOADS[0]
    return tanh


def outputs_of(name: str, obj: object) -> list[tuple[str, str]]:
    """(source, text) for each markup output of `obj`'s display methods (text/plain left out)."""
    found: list[tuple[str, str]] = []
    for method in ("_repr_html_", "_repr_svg_", "_repr_markdown_", "_repr_latex_"):
        if hasattr(obj, method):
            found.append((f"{name}.{method}", getattr(obj, method)()))
    if hasattr(obj, "_repr_mimebundle_"):
        bundle = obj._repr_mimebundle_()
        for mime, text in bundle.items():
            if mime != "text/plain" and isinstance(text, str):
                found.append((f"{name} {mime}", text))
    return found


def every_display() -> list[tuple[str, str]]:
    """Every public object with a display method, built from hostile text, and its outputs."""
    root, leaves = hostile_graph()
    op = hostile_op()
    x = Value(0.5, LABELS[1])
    y = op(x) * Value(2.0, LABELS[4])
    y.label = LABELS[6]
    y.backward()
    h = (Value(-2.0, LABELS[0]) * 1.0).relu()
    h.scope = PAYLOADS[0]
    view = viz.TrainingView(title=PAYLOADS[1])
    xs, ys = [[0.0, 1.0], [1.0, 0.0]], [1.0, 0.0]
    history = nn.fit(nn.MLP(2, [2, 1], seed=0), xs, ys, epochs=2, lr=0.1, record=1, on_frame=view)
    exercise = viz.exercise(y)
    objects: list[tuple[str, object]] = [
        ("Value", y),
        ("viz.draw", viz.draw(root)),
        ("viz.draw(learner op)", viz.draw(y)),
        ("viz.explain", viz.explain(root, leaves[0])),
        ("viz.explain(learner op)", viz.explain(y, x)),
        ("viz.deltas", viz.deltas(hostile_network(), "L1.n0")),
        ("viz.backward_steps", viz.backward_steps(y)),
        ("viz.bug_hunt", viz.bug_hunt(y, seed=0)),
        ("viz.exercise", exercise),
        ("viz.confusion_matrix", viz.confusion_matrix(PAYLOADS[:3], [PAYLOADS[1]] * 3)),
        ("viz.TrainingView", view),
        ("check_op", check_op(op)),
        ("check_backward", check_backward(hostile_closure())),
        ("nn.diagnose", nn.diagnose(h + 1.0)),
        ("nn.fit History", history),
    ]
    found = [output for name, obj in objects for output in outputs_of(name, obj)]
    return found + widget_html("viz.exercise widget", exercise)


def widget_html(name: str, exercise: Any) -> list[tuple[str, str]]:
    """The HTML of every ipywidgets HTML box of the exercise widget (a front end inserts it as HTML)."""
    pytest.importorskip("ipywidgets", reason="the exercise widget needs pip install 'axongrad[widgets]'")
    found = []
    stack = [exercise.widget()]
    while stack:
        box = stack.pop()
        stack.extend(getattr(box, "children", ()))
        if type(box).__name__ == "HTML":
            found.append((f"{name} HTML", str(box.value)))
    return found


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


def test_the_payloads_run_when_not_escaped(browser: Any, tmp_path: Path) -> None:
    """The check can fail: the same payloads, inserted raw, are caught and named."""
    (tmp_path / "host.html").write_text(HOST)
    browser.get((tmp_path / "host.html").as_uri())
    raw = [(f"raw {i}", payload) for i, payload in enumerate(PAYLOADS)]
    browser.execute_script(INSERT, raw, "innerHTML")
    browser.execute_script(INSERT, raw, "fragment")
    ran = (0, 2, 3, 4, 5, 6, 9, 10, 11)
    handlers = [f"raw {i} ({how})" for i in ran for how in ("innerHTML", "fragment")]
    # The <script> runs only from a parsed fragment; the iframe's script reports from its own
    # document ("?"); the text that was escaped once already stays text.
    expected = sorted({*handlers, "raw 1 (fragment)", "?"})
    hits = wait_for_hits(browser, expected=len(expected))
    assert hits == expected


# True once every image of the page has loaded or failed and every frame it can see into has loaded:
# the events a payload would run from (an image's error, a frame's script) have been dispatched.
SETTLED = """
const frames = [...document.querySelectorAll('iframe')].map(f => f.contentDocument).filter(d => d);
return [...document.images].every(i => i.complete) && frames.every(d => d.readyState === 'complete');
"""


def wait_for_hits(browser: Any, expected: int = 0) -> list[str]:
    """The payloads that ran: once `expected` of them did (at most 60 s, however loaded the machine);
    with none expected, once the page's images and frames settled and a further 2 s passed (a
    `<details>` toggle or a frame's message arrives as a later task)."""
    import time

    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    def ran(driver: Any) -> list[str]:
        return sorted(set(driver.execute_script("return window.pwned")))

    try:
        if expected:
            WebDriverWait(browser, 60, poll_frequency=0.25).until(lambda d: len(ran(d)) >= expected)
        else:
            WebDriverWait(browser, 60, poll_frequency=0.25).until(lambda d: d.execute_script(SETTLED))
            time.sleep(2)
    except TimeoutException:
        pass  # the caller's assertion names what did or did not run
    return ran(browser)


def test_every_display_of_every_object_is_inert(browser: Any, tmp_path: Path) -> None:
    outputs = every_display()
    sources = {source.split(" ")[0].split(".")[0] for source, _ in outputs}
    assert {"Value", "check_op", "check_backward", "nn", "viz"} <= sources
    reached = {source for source, text in outputs if "top.pwn" in text}
    unreached = {source for source, _ in outputs} - reached  # History shows no text of ours
    assert unreached <= {"nn.fit History._repr_html_", "viz.exercise widget HTML"}, unreached
    (tmp_path / "host.html").write_text(HOST)
    browser.get((tmp_path / "host.html").as_uri())
    for how in ("innerHTML", "fragment"):
        assert browser.execute_script(INSERT, outputs, how) > 0
    hits = wait_for_hits(browser)
    assert hits == [], f"payloads ran from: {json.dumps(hits, indent=1)}"
    # Nothing of a payload became an element with a handler anywhere in the page.
    handlers = browser.execute_script(
        "return [...document.querySelectorAll('[data-source] *')].filter(e => [...e.attributes]"
        ".some(a => a.name.startsWith('on'))).map(e => e.closest('[data-source]').dataset.source)"
    )
    assert handlers == []
