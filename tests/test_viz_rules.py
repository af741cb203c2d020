"""The derivative rules viz writes come from the op table: every row's rule on its edges, a learner's
own op drawn and explained, explain's LaTeX for the posts' smallest network, and the posts' deltas
(`viz.deltas` and the δ in each neuron box) equal to backward's grads on random MLPs and losses."""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path

import pytest

import autograd
import nn
import viz
from autograd import TABLE, Value, ops, weighted_sum
from nn import losses
from viz.labels import fmt, pretty_rule

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))


def _filled(text: str, names: dict[str, str]) -> str:
    """The test's own substitution of operand names (whole words) into a rule text."""
    for key, name in names.items():
        text = re.sub(rf"(?<![\w\\]){re.escape(key)}(?!\w)", name, text)
    return pretty_rule(text)


def _applied(row: autograd.Op) -> tuple[Value, dict[str, str]]:
    """`row` applied to labelled operands p (and q) at a point inside every built-in domain."""
    if row is ops.wsum:
        w, x, b = Value(0.7, "w0"), Value(1.3, "x0"), Value(0.2, "b")
        return weighted_sum([w], [x], b), {}
    p, q = Value(0.7, "p"), Value(1.3, "q")
    operands = [p, q][: row.arity or 1]
    names = dict(zip(row.operands, ("p", "q")))
    if row.const is not None:
        names[row.const] = "3"
        return row(*operands, 3.0), names
    return row(*operands), names


# The built-in rows (collection time: other test modules register and remove their own ops).
@pytest.mark.parametrize("name", sorted(name for name, row in TABLE.items() if row.builtin))
def test_every_rows_rule_text_appears_on_its_edges(name: str) -> None:
    row = TABLE[name]
    node, names = _applied(row)
    node.label = "out"
    source = viz.draw(node).source
    symbol = row.symbol if row.const is None else "x³"  # the exponent 3 written into "xⁿ"
    assert f"label=<{symbol.replace('&', '&amp;').replace('<', '&lt;')}>" in source
    if row is ops.wsum:
        # d/dw0 = x0, d/dx0 = w0, d/db = 1: each weight's edge names its input and back
        assert "∂ = x0 = 1.3" in source and "∂ = w0 = 0.7" in source and "label=<∂ = 1>" in source
        return
    for i, local in enumerate(node.local_grads):
        rule = _filled(row.texts[i], names)
        number = fmt(local)
        shown = f"∂ = {number}" if rule == number else f"∂ = {rule} = {number}"
        escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in source, (name, shown)
    assert "∂ = " not in viz.draw(node, rules=False).source


def test_a_learners_op_draws_with_its_symbol_and_rule_and_shows_in_explain_and_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(autograd.oprecord, "TABLE", dict(autograd.TABLE))  # registered here only

    @autograd.op(symbol="softplus", rule="1 / (1 + e^-x)", latex=r"\frac{1}{1 + e^{-x}}")
    def softplus_viz_test(x: float) -> tuple[float, float]:
        return math.log1p(math.exp(x)), 1 / (1 + math.exp(-x))

    z = Value(0.3, "z")
    y = softplus_viz_test(z)
    y.label = "y"
    local = 1 / (1 + math.exp(-0.3))
    source = viz.draw(y).source
    assert "label=<softplus>" in source and f"∂ = 1 / (1 + e^-z) = {fmt(local)}" in source
    found = viz.explain(y, z)
    assert found.paths[0].factors[0].rule == "1 / (1 + e^-z)"
    assert r"\frac{1}{1 + e^{-z}}" in found.latex()
    steps = viz.backward_steps(y)
    assert "(made by softplus)" in steps.captions[1] and "(∂ = 1 / (1 + e^-z))" in steps.captions[1]


def test_explain_writes_the_smallest_network_in_latex() -> None:
    import smallest_ann

    g = smallest_ann.network(smallest_ann.W0_START, smallest_ann.W1_START)
    g["E"].backward()
    found = viz.explain(g["E"], g["W0"])
    latex = found.latex()
    lines = latex.splitlines()
    assert lines[0] == r"\begin{aligned}" and lines[-1] == r"\end{aligned}"
    assert lines[1] == (
        r"\frac{\partial E}{\partial W_{0}} &= \frac{\partial E}{\partial Y'} \cdot "
        r"\frac{\partial Y'}{\partial Z_{1}} \cdot \frac{\partial Z_{1}}{\partial a_{0}} \cdot "
        r"\frac{\partial a_{0}}{\partial Z_{0}} \cdot \frac{\partial Z_{0}}{\partial W_{0}} \\"
    )
    assert lines[2] == (
        r"&= 0.5 \cdot 2 \left(Y' - Y\right) \cdot \sigma(Z_{1})\,(1 - \sigma(Z_{1})) \cdot W_{1} \cdot "
        r"\sigma(Z_{0})\,(1 - \sigma(Z_{0})) \cdot X \\"
    )
    factors = found.paths[0].factors
    numbers = " \\cdot ".join(f"({fmt(f.value)})" if f.value < 0 else fmt(f.value) for f in factors)
    assert lines[3] == f"&= {numbers} \\\\"
    assert lines[4] == f"&= {fmt(g['W0'].grad)}"
    assert latex.count("{") == latex.count("}")
    assert found._repr_latex_() == f"$$\n{latex}\n$$"
    rules = [f.rule for f in found.paths[0].factors]
    assert rules == ["0.5 · 2 (Y' − Y)", "σ(Z1)(1 − σ(Z1))", "W1", "σ(Z0)(1 − σ(Z0))", "X"]
    # plain print keeps the text the tutorial shows
    assert str(found).splitlines()[0] == "dE/dW0 = dE/dY' · dY'/dZ1 · dZ1/da0 · da0/dZ0 · dZ0/dW0"


def test_unlabelled_values_get_short_names_and_numbers_are_constants() -> None:
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    d = a * b + c
    d.backward()
    source = viz.draw(d).source
    assert "const" not in source and "<B>v1</B>" in source
    text = str(viz.explain(d, a))
    assert "dadd" not in text and "dc1" not in text and "dmul" not in text
    assert text.startswith("droot/dv1 = droot/dv3 · dv3/dv1")  # your Values are named too, the root "root"
    assert "v3 = v1 · v2" in viz.backward_steps(d).captions[2]
    # numbers arithmetic turned into leaves are constants, named by their number and drawn compactly
    e = a * 2.0 + 1
    a.grad = 0.0  # a fresh pass: d's backward left its grad on the shared leaf
    e.backward()
    assert str(viz.explain(e, a)).startswith("droot/dv1 = droot/dv2 · dv2/dv1")
    assert [v.is_constant for v in e.parents[0].parents] == [False, True]


def test_a_weighted_sums_edges_say_which_weight_pairs_with_which_input() -> None:
    xs = [Value(1.0, "x1"), Value(0.0, "x2")]
    ws = [Value(0.6, "w1"), Value(0.9, "w2")]
    w0 = Value(0.8, "w0")
    z = weighted_sum([w0, *ws], [-1.0, *xs])
    source = viz.draw(z.step(), local_grads=False).source
    for term in ("w0·(-1)", "w1·x1", "w2·x2"):
        assert source.count(f"label=<{term}>") == 2  # the weight's edge and its input's edge


def _find(order: list[Value], scope: str) -> Value:
    return next(v for v in order if v.operation is ops.wsum and v.scope == scope)


@pytest.mark.parametrize("seed", range(8))
def test_deltas_equal_backwards_grads_on_random_mlps_and_losses(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
    nin = rng.randint(1, 3)
    activation = rng.choice(["sigmoid", "tanh", "relu", "linear"])
    model = nn.MLP(nin, [*sizes, rng.randint(1, 3)], activation=activation,
                   output_activation=rng.choice(["linear", "sigmoid", "tanh"]), seed=seed)
    for p in model.parameters():
        p.data += rng.uniform(-0.3, 0.3)  # non-zero biases
    x = [rng.uniform(-2, 2) for _ in range(nin)]
    out = model(x)
    outs = out if isinstance(out, list) else [out]
    kind = rng.choice(["squared_error", "mse", "cross_entropy"])
    if kind == "cross_entropy":
        loss = losses.cross_entropy(outs, rng.randrange(len(outs)))
    else:
        loss = getattr(losses, kind)(outs, [rng.uniform(-1, 1) for _ in outs])
    loss.backward()
    order = autograd.topological_order(loss)
    for layer in model.layers:
        for neuron in layer.neurons:
            found = viz.deltas(loss, neuron.name)
            z = _find(order, neuron.name)
            assert found.delta == pytest.approx(z.grad, rel=1e-12, abs=1e-300)
            for w, got in zip(neuron.w, found.weights):
                assert got.grad == pytest.approx(w.grad, rel=1e-12, abs=1e-300)
            assert neuron.b is not None and found.bias == pytest.approx(neuron.b.grad, rel=1e-12, abs=1e-300)
            if found.output_layer:
                assert found.upstream * found.slope == pytest.approx(found.delta, rel=1e-12, abs=1e-300)
            else:
                total = sum(t.weight_value * t.delta for t in found.terms) + found.other
                assert found.slope * total == pytest.approx(found.delta, rel=1e-12, abs=1e-300)
    boxes = viz.draw(loss, group="neuron").source
    for layer in model.layers:
        for neuron in layer.neurons:
            assert f"δ {fmt(_find(order, neuron.name).grad)}<" in boxes


def test_deltas_read_like_the_post_and_refuse_unknown_neurons() -> None:
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=3)
    loss = losses.squared_error([model([0.5, -1.0])], [1.0])
    text = str(viz.deltas(loss, "L2.n0"))
    assert "δ = ∂E/∂z = ∂E/∂a · s'(z)" in text and "σ(z)(1 − σ(z))" in text and "∂E/∂b = δ" in text
    hidden = viz.deltas(loss, "L1.n1")
    assert "δ_j = s'(z_j) · Σ_k w_jk δ_k" in str(hidden) and "L2.n0.w1 · δ(L2.n0)" in str(hidden)
    assert hidden._repr_latex_().startswith("$$\n\\begin{aligned}")
    with pytest.raises(ValueError, match=r"no neuron 'L9.n0'.*L1.n0, L1.n1, L2.n0"):
        viz.deltas(loss, "L9.n0")
    with pytest.raises(ValueError, match=r"^deltas\(evaluation\) needs an int in 0..0, got 1$"):
        viz.deltas(loss, "L1.n0", evaluation=1)
    with pytest.raises(TypeError, match=r"^deltas\(evaluation\) needs an int in 0..0, got bool True$"):
        viz.deltas(loss, "L1.n0", evaluation=True)
    with pytest.raises(TypeError, match=r"^deltas\(neuron\) needs a scope name such as \"L1.n0\", got 3$"):
        viz.deltas(loss, 3)  # type: ignore[arg-type]


def test_a_neurons_neighbourhood_shows_inputs_weights_delta_and_readers() -> None:
    model = nn.MLP(2, [3, 2], activation="tanh", seed=5)
    out = model([0.4, -0.7])
    loss = losses.squared_error(out, [1.0, -1.0])
    loss.backward()
    source = viz.neighbourhood(loss, "L1.n1").source
    neuron = model.layers[0].neurons[1]
    order = autograd.topological_order(loss)
    assert f"δ = ∂E/∂z</TD><TD BGCOLOR=\"#fce7f3\">{fmt(_find(order, 'L1.n1').grad)}" in source
    for w in neuron.w:
        assert f"× {w.label} = {fmt(w.data)}" in source and f"= {fmt(w.grad)}" in source
    for reader in model.layers[1].neurons:
        assert f"{reader.name}.w1 = {fmt(reader.w[1].data)}" in source
    with pytest.raises(ValueError, match="no neuron"):
        viz.neighbourhood(loss, "L7.n0")
