"""viz.bug_hunt: one planted wrong local derivative, found by checking nodes; the learner's graph untouched.

References are independent of the hunt: the engine's own backward (true grads), the posts' closed
form for dE/dW0 and dE/dW1, and the chain rule through the planted edge computed with the engine.
"""

from __future__ import annotations

import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_viz_dot import svg_texts
from test_viz_graphs import HOSTILE, mlp_loss, smallest, smallest_closed_form

import nn
import viz
from autograd import Value
from viz.bug_hunt import FACTOR, FORWARD_VALUE, KINDS, OTHER_INPUT, SIGN, BugHunt
from viz.labels import fmt

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH")


def lecture_neuron() -> Value:
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b)."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def mlp_sample() -> Value:
    model = nn.MLP(3, [4, 4, 1], seed=1)
    out = model([2.0, 3.0, -1.0])
    assert isinstance(out, Value)
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    return loss


def snapshot(root: Value) -> list[tuple[float, float, tuple[float, ...], str, int]]:
    """Everything a hunt could spoil, for every node of the graph."""
    nodes = viz.trace(root, max_nodes=None)[1]
    return [(v.data, v.grad, v.local_grads, v.label, len(v.parents)) for v in nodes]


def by_name(root: Value) -> dict[str, Value]:
    """Each Value of root's graph by the name the diagrams show."""
    data, order = viz.trace(root, max_nodes=None)
    return {node.name: v for node, v in zip(data.nodes, order, strict=True)}


def wrong_ones(hunt: BugHunt) -> list[str]:
    """Check every operation; the names whose check fails."""
    return [name for name in hunt.operations if not hunt.check(name)]


@pytest.mark.parametrize("seed", range(8))
def test_smallest_network_exactly_one_check_fails_and_the_guess_agrees(seed: int) -> None:
    E = smallest()["E"]
    hunt = viz.bug_hunt(E, seed=seed)
    assert hunt.operations == ["Z0", "a0", "Z1", "a1", "v1", "v2", "E"]
    (bad,) = wrong_ones(hunt)
    first = hunt.guess(bad)
    assert first and first.message.startswith(f"Found it in 1 guess(es): {bad} carried the planted bug")
    for name in hunt.operations:
        if name != bad:
            verdict = hunt.guess(name)
            assert not verdict and "its check was ✓" in verdict.message


def test_checks_compare_with_the_closed_form_local_derivatives() -> None:
    g = smallest()
    hunt = viz.bug_hunt(g["E"], seed=2)  # the bug is elsewhere than a0 and Z1 (checked below)
    s0 = g["a0"].data
    a0 = hunt.check("a0")
    assert a0 and f"the graph says {fmt(s0 * (1 - s0))}" in a0.message  # sigma' = s(1 - s)
    z1 = hunt.check("Z1")
    assert z1 and f"dZ1/dW1: the graph says {fmt(s0)}" in z1.message  # d(a0·W1)/dW1 = a0


def test_a_planted_sign_flip_gives_the_negated_numbers_and_spoils_the_posts_grads() -> None:
    g = smallest()
    hunt = viz.bug_hunt(g["E"], seed=2, kinds=(SIGN,))
    (bad,) = wrong_ones(hunt)
    (said, central), = [(ours, numeric) for _, ours, numeric, ok in hunt.checked[bad].rows if not ok]
    assert said == pytest.approx(-central, rel=1e-6)
    dw0, dw1 = smallest_closed_form()
    text = hunt.reveal()
    assert "a sign flip" in text
    spoilt = {m[0]: (m[1], m[2]) for m in re.findall(r"(\w+)\.grad (\S+) \(right: ([^)]+)\)", text)}
    assert {"W0", "W1"} & set(spoilt)
    closed = {"W0": dw0, "W1": dw1}
    for leaf, (buggy, right) in spoilt.items():
        assert buggy == fmt(hunt.grads[leaf]) and buggy != right
        if leaf in closed:
            assert right == fmt(closed[leaf])


@pytest.mark.parametrize("seed", range(6))
def test_the_buggy_grads_follow_the_chain_rule_through_the_planted_edge(seed: int) -> None:
    # Independent reference: true grads by the engine, plus (planted - right) · grad(dst) carried
    # from the planted edge's input to every leaf by the engine's backward from that input.
    g = smallest()
    hunt = viz.bug_hunt(g["E"], seed=seed)
    bug = hunt._bug
    truth = smallest()
    truth["E"].backward()
    right = by_name(truth["E"])
    extra = (bug.planted - bug.right) * right[bug.node].grad
    again = by_name(smallest()["E"])
    src = again[bug.input]
    if src.parents:
        src.backward()
    else:
        src.grad = 1.0
    for leaf in ("X", "W0", "W1", "Y"):
        want = right[leaf].grad + extra * again[leaf].grad
        assert hunt.grads[leaf] == pytest.approx(want, rel=1e-9, abs=1e-12), (leaf, bug)


def test_same_seed_same_bug_and_seeds_differ() -> None:
    E = smallest()["E"]
    bugs = [viz.bug_hunt(E, seed=s)._bug for s in range(12)]
    assert bugs == [viz.bug_hunt(E, seed=s)._bug for s in range(12)]
    assert len({(b.node, b.index, b.kind) for b in bugs}) >= 4
    assert {b.kind for b in bugs} == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_plants_its_own_mistake(kind: str) -> None:
    g = smallest()
    hunt = viz.bug_hunt(g["E"], seed=1, kinds=[kind])
    bug = hunt._bug
    assert bug.kind == kind
    if kind == SIGN:
        assert bug.planted == -bug.right
    elif kind == FORWARD_VALUE:
        assert bug.planted == next(n.data for n in viz.trace(g["E"])[0].nodes if n.name == bug.node)
    elif kind == OTHER_INPUT:
        assert bug.planted == by_name(g["E"])[bug.node].local_grads[1 - bug.index]
    elif kind == FACTOR:
        assert bug.planted in (1.0, bug.right / 2.0)  # a·b taken as a + b, or x² taken as x
    assert wrong_ones(hunt) == [bug.node]


def test_the_learners_graph_is_never_changed() -> None:
    g = smallest()
    g["E"].backward()
    before = snapshot(g["E"])
    for seed in range(5):
        hunt = viz.bug_hunt(g["E"], seed=seed)
        wrong_ones(hunt)
        hunt.guess("a0")
        hunt.reveal()
        hunt.draw().source  # noqa: B018 (building the diagram is the point)
    assert snapshot(g["E"]) == before
    dw0, _ = smallest_closed_form()
    assert g["W0"].grad == pytest.approx(dw0, rel=1e-12)


def test_lecture_neuron() -> None:
    o = lecture_neuron()
    before = snapshot(o)
    hunt = viz.bug_hunt(o, seed=0)
    assert set(hunt.operations) == {"v1", "v2", "v3", "n", "o"}
    (bad,) = wrong_ones(hunt)
    assert hunt.guess(bad)
    do_dn = 1 - math.tanh(o.parents[0].data) ** 2  # the lecture's 0.5
    assert do_dn == pytest.approx(0.5, abs=1e-6)
    if bad != "o":
        assert f"the graph says {fmt(do_dn)}" in hunt.check("o").message
    assert snapshot(o) == before


def test_an_nn_mlp() -> None:
    loss = mlp_sample()
    before = snapshot(loss)
    hunt = viz.bug_hunt(loss, seed=4)
    assert len(hunt.operations) > 10
    (bad,) = wrong_ones(hunt)
    assert hunt.guess(bad) and bad in hunt.reveal()
    assert snapshot(loss) == before
    fixture, _ = mlp_loss()
    assert len(wrong_ones(viz.bug_hunt(fixture, seed=0))) == 1


def test_a_value_used_twice_gets_both_paths() -> None:
    a, c = Value(1.5, "a"), Value(-2.0, "c")
    b = a + a
    b.label = "b"
    out = b * c
    out.label = "out"
    for seed in range(6):
        hunt = viz.bug_hunt(out, seed=seed)
        (bad,) = wrong_ones(hunt)
        assert bad == hunt._bug.node
        right_b = hunt.check("b") if bad != "b" else None
        if right_b is not None:
            assert [r[1] for r in right_b.rows] == [1.0, 1.0]  # d(a + a)/da: 1 on each edge
        if bad == "out":  # a's grad is still the sum of its two paths through b
            assert hunt.grads["a"] == pytest.approx(2 * hunt.grads["b"])


def test_a_relu_kink_checks_as_right() -> None:
    x, w = Value(0.0, "x"), Value(1.5, "w")
    r = (x * w).relu()  # relu at exactly 0: either side's slope is right
    r.label = "r"
    out = r * Value(2.0, "c") + x * w
    out.label = "out"
    hunt = viz.bug_hunt(out, seed=0)
    assert hunt._bug.node != "r"  # relu'(0) = 0: nothing a check could see there
    assert hunt.check("r")


def test_closure_nodes_are_never_planted_and_cannot_be_checked() -> None:
    a = Value(0.3, "a")
    t = Value(math.tanh(a.data), (a,), "mytanh")
    t.label = "t"

    def _backward() -> None:
        a.grad += (1 - t.data**2) * t.grad

    t._backward = _backward
    out = t * Value(2.0, "k")
    out.label = "out"
    for seed in range(6):
        hunt = viz.bug_hunt(out, seed=seed)
        assert hunt._bug.node == "out"
    with pytest.raises(ValueError, match="check_backward"):
        hunt.check("t")


def test_errors_name_the_problem() -> None:
    E = smallest()["E"]
    hunt = viz.bug_hunt(E, seed=0)
    with pytest.raises(ValueError, match=r"no node named 'nope'.*Z0, a0"):
        hunt.check("nope")
    with pytest.raises(ValueError, match="'W0' is a leaf"):
        hunt.check("W0")
    with pytest.raises(TypeError, match="node name"):
        hunt.check(3)  # type: ignore[arg-type]
    leaf_guess = hunt.guess("W0")
    assert not leaf_guess and "a leaf has no local derivative" in leaf_guess.message
    with pytest.raises(TypeError, match=r"^bug_hunt\(seed\) needs an int, got 1\.5$"):
        viz.bug_hunt(E, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^bug_hunt\(max_nodes\) needs an int >= 1, got 0$"):
        viz.bug_hunt(E, max_nodes=0)
    with pytest.raises(TypeError, match=r"^bug_hunt\(max_nodes\) needs an int >= 1, got bool True$"):
        viz.bug_hunt(E, max_nodes=True)
    with pytest.raises(ValueError, match="kinds"):
        viz.bug_hunt(E, kinds=["typo"])
    with pytest.raises(TypeError, match="draw\\(root\\) needs"):
        viz.bug_hunt(3.0)
    with pytest.raises(ValueError, match="no operation a bug can be planted"):
        viz.bug_hunt(Value(1.0))
    with pytest.raises(ValueError, match="one sample's loss"):
        viz.bug_hunt(mlp_sample(), max_nodes=5)


def test_diagram_source_colours_checked_nodes_and_hides_the_rules() -> None:
    E = smallest()["E"]
    hunt = viz.bug_hunt(E, seed=2, kinds=(SIGN,))
    plain = hunt.draw().source
    assert "<B>✓" not in plain and "<✓" not in plain and "#bbf7d0" not in plain and "#fecaca" not in plain
    assert "∂ = " not in plain  # rules off: "∂ = X = 1.5" beside X would give the bug away
    bad = wrong_ones(hunt)[0]
    source = hunt.draw().source
    ids = {n.name: n.id for n in viz.trace(E)[0].nodes}
    assert re.search(rf'{ids[bad]}_op \[label=<✗ [^>]*> color="#b91c1c" fillcolor="#fecaca"', source)
    assert re.search(rf'{ids["a0"]}_op \[label=<✓ σ> color="#15803d" fillcolor="#bbf7d0"', source)
    assert f"<B>✗ {bad}</B>" in source and "<B>✓ a0</B>" in source
    assert "checked 7 of 7 operations" in source
    hunt.reveal()
    assert "revealed: the bug was on" in hunt.draw().source
    assert f"{ids[bad]} [label=<<TABLE BORDER=\"3\"" in hunt.draw().source  # outlined


def hostile_graph() -> Value:
    values = [Value(float(i + 1), label) for i, label in enumerate(HOSTILE)]
    out = values[0]
    for k, v in enumerate(values[1:]):
        out = out * 0.5 + v
        out.label = HOSTILE[(k + 3) % len(HOSTILE)] + f" {k}"
    return out


def test_hostile_labels_stay_text_in_the_hunt_source() -> None:
    hunt = viz.bug_hunt(hostile_graph(), seed=0)
    for name in hunt.operations[:6]:
        hunt.check(name)
    source = hunt.draw().source
    assert "<script>" not in source and "<img" not in source
    assert "evil [" not in source.replace("&quot;&#93;; evil [label=&quot;x", "")


@needs_dot
@pytest.mark.dot
def test_hostile_labels_render_as_text_with_their_marks(tmp_path: Path) -> None:
    hunt = viz.bug_hunt(hostile_graph(), seed=0)
    for name in hunt.operations:
        hunt.check(name)
    svg = hunt.draw().pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg)
    for name in hunt.operations:
        mark = "✓" if hunt.checked[name] else "✗"
        assert f"{mark} {name}".replace("\n", "\\n")[:40] in " ".join(texts)
    root = ET.fromstring(svg)  # noqa: S314 (dot's own output)
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject", "image")]


@needs_dot
@pytest.mark.dot
def test_jupyter_shows_the_current_diagram_and_a_png_renders(tmp_path: Path) -> None:
    hunt = viz.bug_hunt(smallest()["E"], seed=0)
    hunt.check("a0")
    bundle = hunt._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "✓ a0" in bundle["image/svg+xml"]
    assert bundle["text/plain"] == "<bug hunt, seed 0: checked 1 of 7 operations: ✓ a0>" == repr(hunt)
    png = viz.render(hunt.draw(), tmp_path / "hunt.png", format="png")
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_dot
@pytest.mark.dot
def test_the_page_is_one_safe_file(tmp_path: Path) -> None:
    values = [Value(1.0, "{{data}}"), Value(2.0, "</script><script>alert(1)</script>"), Value(3.0, "a&b")]
    out = values[0] * values[1] + values[2]
    out.label = "{{svg}}"
    hunt = viz.bug_hunt(out, seed=0)
    hunt.check(hunt.operations[0])
    path = hunt.save_html(tmp_path / "page" / "hunt.html", title="<b>mine</b>")
    page = Path(path).read_text(encoding="utf-8")
    assert page.count("<script") == 2 and "alert(1)</script>" not in page
    assert "<title>&lt;b&gt;mine&lt;/b&gt;</title>" in page
    assert "default-src 'none'" in page
    assert not re.findall(r"(?:src|href)=|https?://(?!www\.w3\.org/)", page.replace("xlink:href", ""))
    assert page.count("{{data}}") >= 1 and page.count('id="hunt-data"') == 1  # a label is not a placeholder
    data = page.split('id="hunt-data">')[1].split("</script>")[0]
    assert "<" not in data and ">" not in data
    assert '"right":false' in data and '"bug":' in data
    assert hunt.checked.keys() == {hunt.operations[0]}  # saving checks nothing on the Python side
    assert "checked 0 of" in page  # the page starts unchecked
    assert viz.bug_hunt(smallest()["E"]).html(rankdir="LR").count("<svg") == 1
    with pytest.raises(ValueError, match="rankdir"):
        hunt.html(rankdir="up")


def random_graph(seed: int) -> Value:
    """A small random DAG over four shared leaves: +, −, ×, tanh, σ, x², exp (values kept moderate)."""
    import random

    rng = random.Random(seed)
    pool = [Value(rng.uniform(-1.5, 1.5), f"x{i}") for i in range(4)]
    for _ in range(rng.randint(3, 9)):
        a, b = rng.choice(pool), rng.choice(pool)
        kind = rng.randrange(7)
        out = [a + b, a - b, a * b, a.tanh(), a.sigmoid(), a**2, (a * 0.5).exp()][kind]
        if abs(out.data) < 20:
            pool.append(out)
    root = pool[-1] * pool[-2] + pool[-1]
    root.label = "root"
    return root


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 50))
def test_random_graphs_one_failing_check_and_exact_buggy_grads(graph: int, seed: int) -> None:
    root = random_graph(graph)
    before = snapshot(root)
    hunt = viz.bug_hunt(root, seed=seed)
    bug = hunt._bug
    assert wrong_ones(hunt) == [bug.node]
    assert hunt.guess(bug.node)
    # Changing one edge's derivative changes only the paths through it, by (planted - right).
    truth = random_graph(graph)
    truth.backward()
    right = by_name(truth)
    again = by_name(random_graph(graph))
    src = again[bug.input]
    if src.parents:
        src.backward()
    else:
        src.grad = 1.0
    extra = (bug.planted - bug.right) * right[bug.node].grad
    for name, v in right.items():
        if not v.parents and not v.is_constant:  # constants may share a name ("0.5"): skip them
            want = v.grad + extra * again[name].grad
            assert hunt.grads[name] == pytest.approx(want, rel=1e-9, abs=1e-12), (name, bug)
    assert snapshot(root) == before
