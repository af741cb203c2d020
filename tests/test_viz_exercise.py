"""viz.exercise: the questions on a learner's graph, answers checked by value, and every mistake named.

Graphs: the posts' smallest network, the lecture's neuron o = tanh(x1*w1 + x2*w2 + b) with
Karpathy's numbers, b = a + a, and an nn.MLP. Right answers are checked against independent
references (the posts' closed forms, central differences, the engine's own backward).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from test_viz_graphs import HOSTILE, smallest, smallest_closed_form

import nn
import viz
from autograd import Value, numerical_grad
from viz.answers import MAX_TEXT
from viz.labels import fmt
from viz.mistakes import MISTAKES

KARPATHY_B = 6.8813735870195432


def neuron() -> dict[str, Value]:
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), with its numbers (o = 0.7071)."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2, b = Value(-3.0, "w1"), Value(1.0, "w2"), Value(KARPATHY_B, "b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    s = x1w1 + x2w2
    s.label = "x1w1x2w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n, "o": o}


def twice() -> dict[str, Value]:
    """The lecture's bug: b = a + a, where a's grad is 2 (the paths add), not 1."""
    a = Value(3.0, "a")
    b = a + a
    b.label = "b"
    return {"a": a, "b": b}


def posts() -> dict[str, Value]:
    """The smallest network with the README's target Y = 0.9 (dE/dW0 = 0.01241, dE/dW1 = -0.08937)."""
    return smallest(y=0.9)


def unit(x: float, w: float, activation: str, z_name: str, out_name: str) -> Value:
    """out = activation(x * w), with the inputs labelled x and w."""
    z = Value(x, "x") * Value(w, "w")
    z.label = z_name
    out: Value = getattr(z, activation)()
    out.label = out_name
    return out


def mlp_loss() -> Value:
    """One sample's squared error of a 2-2-1 MLP."""
    model = nn.MLP(2, [2, 1], seed=3)
    out = model([0.5, -1.2])
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    return loss


def test_the_smallest_network_asks_local_derivatives_then_grads_in_backward_order() -> None:
    g = smallest()
    ex = viz.exercise(g["E"])
    local = [q for q in ex.questions if q.startswith("d ")]
    grads = [q for q in ex.questions if q.startswith("grad ")]
    assert ex.questions == local + grads  # all local derivatives first
    assert local[-3:] == ["d a0/d Z0", "d Z0/d X", "d Z0/d W0"]
    assert local.index("d a1/d Z1") < local.index("d Z1/d a0") < local.index("d a0/d Z0")
    # Grads in reverse topological order: each after every node that uses it; the root's 1 is given.
    assert "grad E" not in grads
    assert grads.index("grad a1") < grads.index("grad Z1") < grads.index("grad W1")
    assert grads.index("grad a0") < grads.index("grad Z0") < grads.index("grad W0")
    # No question about a constant (the 0.5 of 0.5 * d**2): nothing to derive there.
    assert not any("0.5" in q for q in ex.questions)
    assert ex.progress == f"0 of {len(ex.questions)} right"


def test_right_numbers_match_the_posts_closed_forms_and_every_one_is_accepted() -> None:
    g = smallest()
    ex = viz.exercise(g["E"])
    dw0, dw1 = smallest_closed_form()
    assert ex.question("grad W0").answer == pytest.approx(dw0, rel=1e-12)
    assert ex.question("grad W1").answer == pytest.approx(dw1, rel=1e-12)
    z0 = 1.5 * 0.8
    s0 = 1 / (1 + math.exp(-z0))
    assert ex.question("d a0/d Z0").answer == pytest.approx(s0 * (1 - s0), rel=1e-12)
    assert g["W0"].grad == 0.0  # the exercise runs its own backward: no .grad changes
    for name in ex.questions:
        verdict = ex.answer(name, fmt(ex.question(name).answer))  # 4 significant digits, as typed
        assert verdict, (name, verdict.message)
        assert verdict.message.startswith("Right: ")
    assert ex.progress == f"{len(ex.questions)} of {len(ex.questions)} right"


@pytest.mark.parametrize("build", [smallest, neuron, twice])
def test_every_answer_equals_an_independent_reference(build: object) -> None:
    values = build()  # type: ignore[operator]
    root = values["E"] if "E" in values else values["o"] if "o" in values else values["b"]
    ex = viz.exercise(root)
    root.backward()
    by_name = ex.graph.name_of
    for q in ex.items:
        v = ex.graph.order[q.node]
        if q.kind == "grad":
            assert q.answer == pytest.approx(v.grad, rel=1e-12, abs=1e-15), q.name  # the engine's backward
            continue
        assert q.answer == pytest.approx(_slope(v, q.edge), rel=1e-6, abs=1e-9), (q.name, by_name[v])


def _slope(v: Value, edge: int) -> float:
    """d v / d (input `edge`) by central differences of its op-table row (a repeated input: its share)."""
    row = v.operation
    assert row is not None
    operands = [p.data for p in v.parents]
    const = v.const if row.const is not None else None
    uses = v.parents.count(v.parents[edge])
    if uses > 1:  # b = a + a: both edges move together; each carries an equal share of the slope
        return numerical_grad(lambda xs: row.evaluate(xs * len(operands), const)[0], operands[:1])[0] / uses
    return numerical_grad(lambda xs: row.evaluate(xs, const)[0], operands)[edge]


def test_the_lecture_neuron_with_karpathys_numbers() -> None:
    g = neuron()
    ex = viz.exercise(g["o"])
    assert g["o"].data == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert ex.answer("d o/d n", "1 - o**2")
    assert ex.answer("d o/d n", "0.5")
    assert ex.answer("grad w1", "1.0")  # x1 * (1 - o**2) = 2 * 0.5
    assert ex.answer("grad x1", "-1.5")
    assert ex.answer("grad x2", "0.5") and ex.answer("grad w2", "0")
    assert ex.answer("grad b", "(1 - o**2)")


def test_b_equals_a_plus_a_names_each_edge_and_the_paths_add() -> None:
    ex = viz.exercise(twice()["b"])
    assert ex.questions == ["d b/d a (input 1)", "d b/d a (input 2)", "grad a"]
    assert ex.answer("grad a", "2")
    one = ex.answer("grad a", "1")
    assert not one and one.mistake == "one-path"
    assert "one path only" in one.message and "adds the contributions of all paths" in one.message


def test_an_mlp_every_right_answer_counts_and_a_weight_gets_its_input() -> None:
    loss = mlp_loss()
    ex = viz.exercise(loss)
    assert len(ex.questions) > 20
    for q in ex.items:
        assert ex.answer(q.name, repr(q.answer)), q.name
    # A weighted sum's d z/d w is the input x; the weight's own value is the other operand's slope.
    edge = next(q for q in ex.items if q.kind == "local" and q.name.endswith(".w0"))
    other = next(m for m in edge.mistakes if m.kind == "other-operand")
    wrong = ex.answer(edge.name, repr(other.value(ex.graph.forward)))
    if not math.isclose(other.value(ex.graph.forward), edge.answer, rel_tol=1e-3):
        assert wrong.mistake == "other-operand" and "the other factor" in wrong.message


# (graph, question, answer, mistake, words the message must contain)
MISTAKE_CASES = [
    (posts, "grad W0", "0.8", "forward-value", ["forward value of W0", "not its gradient"]),
    (posts, "d a1/d Z1", "-0.3074", "forward-value", ["forward value of Z1", "not a derivative"]),
    (posts, "grad W0", "1.5", "forgot-upstream", ["d Z0/d W0 alone", "forgot to multiply by grad Z0"]),
    (twice, "grad a", "1", "one-path", ["one path only", "used 2 times"]),
    (neuron, "d o/d n", "-0.5", "sign", ["wrong sign", "1 − tanh(n)²"]),
    (posts, "grad W1", "0.08937", "sign", ["wrong sign"]),
    (neuron, "d x1w1/d x1", "2", "other-operand", ["other factor", "d x1w1/d w1"]),
    (neuron, "d o/d n", "1 - n**2", "tanh-input", ["1 − n²", "squares its output", "1 − o²"]),
    (neuron, "d o/d n", "0.2231", "tanh-input", ["1 − n²"]),
    (posts, "d a0/d Z0", "a0", "sigmoid-value", ["σ(Z0) = a0 itself", "σ(x)(1 − σ(x))"]),
    (posts, "d a0/d Z0", "0.7685", "sigmoid-value", ["σ(Z0)(1 − σ(Z0))"]),
    (posts, "grad W0", "0.008275", "wrong-node", ["grad Z0, the gradient of Z0, not of W0"]),
    (posts, "d Z1/d a0", "0.04652", "full-product", ["× grad Z1", "only the local derivative"]),
]


@pytest.mark.parametrize(
    "build, name, text, kind, words", MISTAKE_CASES, ids=[c[3] + ":" + c[2] for c in MISTAKE_CASES]
)
def test_each_mistake_is_named_with_its_own_message(
    build: object, name: str, text: str, kind: str, words: list[str]
) -> None:
    values = build()  # type: ignore[operator]
    root = values.get("E") or values.get("o") or values["b"]
    ex = viz.exercise(root)
    verdict = ex.answer(name, text)
    assert not verdict and verdict.mistake == kind, verdict
    for word in words:
        assert word in verdict.message, (word, verdict.message)


def test_every_named_mistake_has_a_test() -> None:
    named = {case[3] for case in MISTAKE_CASES}
    assert named == set(MISTAKES)


def test_tanh_prime_as_one_minus_x_squared_is_caught_where_the_numbers_are_close() -> None:
    # At n = 0.03, 1 - n² and 1 - tanh²(n) agree to 5e-7: as a number it is right, as a formula not.
    ex = viz.exercise(unit(0.03, 1.0, "tanh", "n", "o"))
    assert abs((1 - 0.03**2) - (1 - math.tanh(0.03) ** 2)) < 1e-6
    assert ex.answer("d o/d n", fmt(1 - 0.03**2))
    formula = ex.answer("d o/d n", "1 - n**2")
    assert not formula and formula.mistake == "tanh-input"
    assert ex.answer("d o/d n", "1 - tanh(n)**2") and ex.answer("d o/d n", "1 - o^2")


def test_a_formula_right_only_at_the_forward_values_is_not_the_rule() -> None:
    ex = viz.exercise(neuron()["o"])
    verdict = ex.answer("d o/d n", "o*o")  # 0.5 at o = 0.7071, but not 1 - o² elsewhere
    assert not verdict and verdict.mistake == "formula-only-here"
    assert "right number at these values, but it is not the rule" in verdict.message


def test_formulas_in_the_posts_names_and_spellings() -> None:
    ex = viz.exercise(smallest()["E"])
    assert ex.answer("d a0/d Z0", "sigmoid(Z0)*(1 - sigmoid(Z0))")
    assert ex.answer("d a0/d Z0", "σ(Z0)·(1 − σ(Z0))")
    assert ex.answer("d Z1/d a0", "W1") and ex.answer("d Z0/d W0", "X")
    # The posts' closed forms, typed as formulas: (a1 - Y) s'(Z1) a0 and ... W1 s'(Z0) X.
    assert ex.answer("grad W1", "(a1 - Y) * a1*(1 - a1) * a0")
    assert ex.answer("grad W0", "(a1 - Y) * a1*(1 - a1) * W1 * a0*(1 - a0) * X")
    assert not ex.answer("grad W0", "(a1 - Y) * a1*(1 - a1) * W1 * X")


HOSTILE_TEXT = [
    "__import__('os').system('touch pwned')",
    "().__class__.__bases__",
    "W0.__class__",
    "lambda: 1",
    "[1, 2]",
    "'text'",
    "1 if 1 else 2",
    "a0 < 1",
    "9**9**9**9",
    "2 ** 100000",
    "exp(1000)",
    "log(-1)",
    "1/0",
    "(" * 300 + ")" * 300,
    "-" * 300 + "1",
    "x" * (MAX_TEXT + 1),
    "1" * 5000,
    "nan",
    "inf",
    "",
    "   ",
    "\x00",
    "exp",
    "exp(1, 2)",
    "sigmoid(x=1)",
    "print(1)",
    "d a0/d Z0",
    *HOSTILE,
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_gets_a_clear_verdict_and_runs_nothing(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ex = viz.exercise(smallest()["E"])
    verdict = ex.answer("d a0/d Z0", text)
    assert not verdict
    assert verdict.message and len(verdict.message) < 600
    assert not (tmp_path / "pwned").exists()


def test_answers_never_reach_eval_or_exec() -> None:
    for module in ("answers", "exercise", "mistakes", "exercise_graph"):
        source = Path(viz.__file__).with_name(f"{module}.py").read_text(encoding="utf-8")
        calls = {
            n.func.id for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        assert not calls & {"eval", "exec", "compile", "__import__"}, module


def test_bad_calls_are_clear_errors() -> None:
    ex = viz.exercise(posts()["E"])
    with pytest.raises(ValueError, match=r"no question 'grad Q'.*'d E/d v2'"):
        ex.answer("grad Q", "1")
    with pytest.raises(TypeError, match=r"^answer needs text or a number, got list \[1\]$"):
        ex.answer("grad W0", [1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^answer needs text or a number, got bool True$"):
        ex.answer("grad W0", True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs an autograd Value"):
        viz.exercise("E")
    with pytest.raises(ValueError, match="is a leaf, so there is nothing to derive"):
        viz.exercise(Value(2.0, "x"))
    with pytest.raises(ValueError, match="more than max_nodes=5"):
        viz.exercise(smallest()["E"], max_nodes=5)
    assert ex.answer("grad W0", 0.012413)  # a number works as well as its text


def test_reveal_and_progress() -> None:
    ex = viz.exercise(smallest()["E"])
    shown = ex.reveal("d a0/d Z0")
    assert shown == "d a0/d Z0 = σ(Z0)(1 − σ(Z0)) = 0.1779 at Z0 = 1.2"
    assert ex.reveal("grad W0").startswith("grad W0 = d Z0/d W0 × grad Z0 = 1.5 × ")
    ex.answer("d a0/d Z0", "0.1779")
    ex.answer("grad W0", "3")
    assert ex.progress == f"1 of {len(ex.questions)} right, 2 revealed"
    assert "questions" in repr(ex) and "1 of" in repr(ex)


def test_hostile_labels_are_names_like_any_other() -> None:
    a = Value(2.0, HOSTILE[6])  # "<script>alert(1)</script>"
    b = Value(-1.0, HOSTILE[7])
    c = a * b
    c.label = HOSTILE[0]
    ex = viz.exercise(c)
    assert ex.questions[0] == f"d {HOSTILE[0]}/d {HOSTILE[6]}"
    assert ex.answer(ex.questions[0], "-1")
    assert ex.answer(f"grad {HOSTILE[7]}", "2")


def test_a_closure_node_is_checked_at_the_forward_values_only() -> None:
    x = Value(0.5, "x")
    t = math.tanh(x.data)
    out = Value(t, (x,), "mytanh")
    out.label = "t"

    def _backward() -> None:
        x.grad += (1 - t**2) * out.grad

    out._backward = _backward  # type: ignore[attr-defined]
    ex = viz.exercise(out)
    verdict = ex.answer("d t/d x", "1 - t**2")
    assert verdict and "checked at the forward values only" in verdict.message


def test_numbers_count_when_rounded_to_three_or_more_significant_digits() -> None:
    ex = viz.exercise(posts()["E"])  # d a0/d Z0 = 0.177894...
    assert ex.answer("d a0/d Z0", "0.178") and ex.answer("d a0/d Z0", "0.1779")
    assert ex.answer("d a0/d Z0", "1.779e-1") and ex.answer("d a0/d Z0", " 0.17789 ")
    close = ex.answer("d a0/d Z0", "0.18")
    assert not close and "type at least 3 significant digits" in close.message
    assert not ex.answer("d a0/d Z0", "0.177")  # three digits, but not the rounding of 0.17789
    assert ex.answer("grad W1", "−0.0894")  # a typed minus sign counts as "-"


def test_a_relu_slope_of_one_is_a_right_formula_on_its_side_of_the_kink() -> None:
    ex = viz.exercise(unit(0.7, 2.0, "relu", "z", "r"))
    verdict = ex.answer("d r/d z", "1")
    assert verdict and "checked at the forward values only" not in verdict.message
    assert ex.answer("grad x", "w") and ex.answer("grad w", "x")
    assert ex.answer("d r/d z", "0").mistake is None  # wrong, and no named mistake fits


def test_without_dot_the_page_says_how_to_install_it_and_the_widget_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viz.dot

    monkeypatch.setattr(viz.dot.shutil, "which", lambda name: None)
    ex = viz.exercise(posts()["E"])
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        ex.save_html(tmp_path / "exercise.html")
    assert not (tmp_path / "exercise.html").exists()
    pytest.importorskip("ipywidgets", reason="the widget needs ipywidgets: pip install 'axongrad[widgets]'")
    view = ex.widget()
    assert "apt-get install graphviz" in view.children[0].value
    view.answers["grad W0"].value = "0.01241"
    assert 'data-verdict="grad W0" data-state="right"' in view.verdicts["grad W0"].value
