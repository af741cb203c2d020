"""LaTeX displays hold no HTML markup: < > " from labels and from a learner op's latex= text are
written as the math that typesets them (\\lt, \\gt, ''), LaTeX's own specials are escaped (issue 21)."""

from __future__ import annotations

import pytest
from test_viz_graphs import HOSTILE

import autograd
import nn
import viz
from autograd import Value
from autograd.display import markdown_text
from viz.labels import latex_char, latex_inert, latex_text

MARKUP = set('<>"')


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("a<b", r"\text{a}\lt \text{b}"),
        ('say "hi"', r"\text{say }''\text{hi}''"),
        ("<script>alert(1)</script>", r"\lt \text{script}\gt \text{alert(1)}\lt \text{/script}\gt "),
        ("a & b_1 {x} 50% #2 $ ~ ^ \\", r"\text{a \& b\_1 \{x\} 50\% \#2 \$ \~{} \^{} \textbackslash{}}"),
        ("", r"\text{}"),
        ("]>", r"\text{]}\gt "),
    ],
)
def test_latex_text(text: str, latex: str) -> None:
    assert latex_text(text) == latex


def test_latex_char_and_latex_inert() -> None:
    assert [latex_char(c) for c in '<>"&x'] == [r"\lt ", r"\gt ", "''", r"\&", "x"]
    learner = r'\frac{a<b}{"c"} > 0 \text{<img src=x onerror=alert(1)>}'
    assert latex_inert(learner) == r"\frac{a\lt b}{''c''} \gt  0 \text{\lt img src=x onerror=alert(1)\gt }"


def hostile_chain(labels: list[str]) -> tuple[Value, Value]:
    """x -> tanh -> * w -> ... with every Value labelled by one of `labels`; (root, x)."""
    x = Value(0.4, labels[0])
    v = x
    for i, label in enumerate(labels[1:]):
        v = v.tanh() * Value(0.9, f"w{i}") if i % 2 else v * Value(1.1, label)
        v.label = label
    v.backward()
    return v, x


def test_every_hostile_label_leaves_no_markup_in_explain_latex() -> None:
    root, x = hostile_chain(HOSTILE)
    explanation = viz.explain(root, x)
    for text in (explanation.latex(), explanation._repr_latex_()):
        assert not MARKUP & set(text), [c for c in text if c in MARKUP]
    assert r"\lt \text{script}\gt \text{alert(1)}\lt \text{/script}\gt " in explanation.latex()
    assert r"\text{\&lt;already\&gt;}" in explanation.latex()  # escaped text stays escaped text
    assert explanation.total == pytest.approx(x.grad, rel=1e-12)


def test_a_learner_ops_latex_text_leaves_no_markup() -> None:
    def cube(x: float) -> tuple[float, float]:
        return x**3, 3 * x**2

    op = autograd.op(cube, rule="3 x^2", latex=r'3 x^2 \text{ "<b>if</b> x > 0" }', name="cube_l21")
    x = Value(0.5, "x")
    y = op(x)
    y.label = "y"
    text = viz.explain(y, x).latex()
    assert r"3 x^2 \text{ ''\lt b\gt if\lt /b\gt  x \gt  0'' }" in text
    assert not MARKUP & set(text)


def test_deltas_latex_has_no_markup_from_input_labels() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    xs = [Value(0.5, "<img src=x onerror=alert(1)>"), Value(-1.0, 'x"1')]
    loss = (model(xs) - 1.0) ** 2  # type: ignore[operator]
    loss.backward()
    text = viz.deltas(loss, "L1.n0")._repr_latex_()
    assert r"\lt \text{img src=x onerror=alert(1)}\gt " in text and r"\text{x}''\text{1}" in text
    assert not MARKUP & set(text)


@pytest.mark.parametrize("text", [*HOSTILE, "```\n<img src=x onerror=alert(1)>\n```", "`a`"])
def test_markdown_text_is_an_escaped_pre_block(text: str) -> None:
    shown = markdown_text(text)
    assert shown.startswith("<pre>") and shown.endswith("</pre>")
    inner = shown[len("<pre>") : -len("</pre>")]
    assert not set("<>\"'") & set(inner)
    import html

    assert html.unescape(inner) == text  # the Markdown shows the text verbatim


def test_mathjax_commands_that_link_or_load_are_shown_as_text() -> None:
    learner = r"\href{javascript:alert(1)}{x} + \url{http://x} \class{a}{b} \require{html} \hrefx"
    assert latex_inert(learner) == (
        r"\backslash\mathrm{href}{javascript:alert(1)}{x} + \backslash\mathrm{url}{http://x} "
        r"\backslash\mathrm{class}{a}{b} \backslash\mathrm{require}{html} \hrefx"
    )
