"""Names a learner knows: a batch's copies carry their sample, a neuron's output is "L1.n0", the
root is its label or "root", nn's losses are "E"/"loss", and a box never ends in "… 1 more"."""

from __future__ import annotations

import html
import re

import pytest

import nn
import viz
from autograd import Value, scope, topological_order
from nn import lecture
from viz.labels import dot_text
from viz.names import latex_name, sample_numbers, value_names
from viz.trace import trace

# The lecture's four samples and targets.
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def lecture_loss(samples: int = 4) -> tuple[Value, list[Value]]:
    """The lecture's loss over `samples` samples (a fifth repeats the first), after backward, and
    its predictions."""
    model = lecture.MLP(3, [4, 4, 1], seed=0)
    xs, ys = (XS * 2)[:samples], (YS * 2)[:samples]
    ypred = [model(x) for x in xs]
    loss = sum(((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred)), Value(0.0))
    loss.backward()
    return loss, ypred


def rows_of(source: str, box: str) -> list[str]:
    """The first cells of the rows of the DOT box whose bold title is `box`."""
    start = source.index(f"<B>{box}</B>")
    table = source[start : source.index("</TABLE>", start)]
    return [html.unescape(c) for c in re.findall(r"<TR><TD BGCOLOR=\"[^\"]*\">([^<]*)</TD>", table)]


def test_a_neuron_box_lists_one_row_per_sample_with_that_samples_output() -> None:
    loss, ypred = lecture_loss()
    data, _ = trace(loss, group="neuron")
    source = viz.draw(loss, group="neuron").source
    assert rows_of(source, "L3.n0")[:4] == ["sample 0", "sample 1", "sample 2", "sample 3"]
    outputs = next(g for g in data.groups if g.key == "L3.n0").outputs
    # Row k is the neuron's output on xs[k]: the lecture's ypred[k].
    assert [data.by_id[o].data for o in outputs] == [y.data for y in ypred]
    assert [data.by_id[o].sample for o in outputs] == [0, 1, 2, 3]
    assert "more outputs" not in source and "more values" not in source  # 4 rows shown, not 3 + "1 more"


def test_the_inputs_box_says_which_sample_each_value_is() -> None:
    loss, _ = lecture_loss()
    data, _ = trace(loss, group="neuron")
    source = viz.draw(loss, group="neuron").source
    assert rows_of(source, "x1 (4 values)") == ["sample 0", "sample 1", "sample 2", "sample 3"]
    box = next(g for g in data.groups if g.key == "x1 (4 values)")
    assert [data.by_id[m].data for m in box.members] == [x[1] for x in XS]


def test_a_layer_box_names_the_neuron_and_the_sample() -> None:
    loss, _ = lecture_loss()
    rows = rows_of(viz.draw(loss, group="layer").source, "L1")
    assert rows[:5] == ["n0 [sample 0]", "n1 [sample 0]", "n2 [sample 0]", "n3 [sample 0]", "n0 [sample 1]"]
    assert "n3 [sample 3]" in rows and "n0.w0" in rows


def test_flat_names_have_no_doubled_scope_and_no_hash_numbers() -> None:
    loss, ypred = lecture_loss()
    order = topological_order(loss)
    names = value_names(order)
    shown = set(names.values())
    assert not any("#" in n for n in shown)
    assert not any(re.search(r"(L\d\.n\d+)\.\1", n) for n in shown)  # no "L1.n1.L1.n1"
    assert [names[y] for y in ypred] == ["L3.n0[0]", "L3.n0[1]", "L3.n0[2]", "L3.n0[3]"]
    assert {"L1.n0.w0", "L2.n3.b", "x0[0]", "x2[3]"} <= shown
    assert names[loss] == "root"
    named = [names[v] for v in order if not v.is_constant]
    assert len(set(named)) == len(named)  # every Value its own name (constants are their number)


def test_one_sample_keeps_plain_names() -> None:
    loss, ypred = lecture_loss(samples=1)
    names = value_names(topological_order(loss))
    assert names[ypred[0]] == "L3.n0" and "x0" in names.values()
    assert sample_numbers(topological_order(loss)) == {}


def test_a_label_repeated_on_a_value_built_from_it_is_not_a_sample() -> None:
    a = Value(2.0, "a")
    b = a * 3.0
    b.label = "a"  # the same name, but computed from the first: not one value per sample
    c = b + Value(1.0, "k") + Value(5.0, "k")  # two alike, independent leaves: samples 0 and 1
    names = value_names(topological_order(c))
    assert names[a] == "a" and names[b] == "a#2"
    assert sorted(n for n in names.values() if n.startswith("k")) == ["k[0]", "k[1]"]


def test_the_root_has_a_learners_name_in_every_view() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    d = a * b + a
    d.backward()
    assert "<B>root</B>" in viz.draw(d).source
    assert str(viz.explain(d, a)).startswith("droot/da")
    assert any(c.startswith("step 1/") and "root" in c for c in viz.backward_steps(d).captions)
    d.label = "f"
    assert str(viz.explain(d, a)).startswith("df/da")


def test_nn_losses_are_called_E_and_loss() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    E = nn.squared_error(model([1.0, 0.0]), 1.0)
    E.backward()
    w = model.layers[0].neurons[0].w[0]
    assert E.label == "E" and str(viz.explain(E, w)).startswith("dE/dL1.n0.w0")
    assert "<B>E</B>" in viz.draw(E).source
    score = model([1.0, 0.0])
    others = [
        nn.mse(score, 1.0),
        nn.hinge(score, 1.0),
        nn.binary_cross_entropy(score.sigmoid(), 1.0),
        nn.binary_cross_entropy(Value(0.3), 0.0),
        nn.cross_entropy([score, Value(0.5)], 0),
    ]
    assert [v.label for v in others] == ["loss"] * 5
    # A batch of them: each sample's loss is "E[k]", the batch total "root".
    total = sum((nn.squared_error(model(x), 1.0) for x in ([0.0, 1.0], [1.0, 1.0])), Value(0.0))
    names = value_names(topological_order(total))
    assert sorted(n for n in names.values() if n.startswith("E")) == ["E[0]", "E[1]"]
    assert names[total] == "root"


def test_a_samples_latex_name_is_a_superscript() -> None:
    assert latex_name("x0[2]") == "x_{0}^{(2)}"
    assert latex_name("L1.n0[3]") == r"\text{L1.n0}^{(3)}"
    assert latex_name("W0") == "W_{0}"


@pytest.mark.parametrize(("samples", "shown", "more"), [(3, 3, None), (4, 4, None), (5, 3, 2)])
def test_a_box_shows_its_last_row_rather_than_one_more(samples: int, shown: int, more: int | None) -> None:
    loss, _ = lecture_loss(samples)
    rows = rows_of(viz.draw(loss, group="neuron").source, "L3.n0")
    assert [r for r in rows if r.startswith("sample")] == [f"sample {k}" for k in range(shown)]
    source = viz.draw(loss, group="neuron").source
    if more is None:
        assert "more outputs" not in source
    else:
        assert f"… {more} more outputs" in source


def test_a_repeated_sample_is_still_its_own_copy() -> None:
    loss, ypred = lecture_loss(5)  # the fifth sample is the first again, computed a second time
    names = value_names(topological_order(loss))
    assert names[ypred[4]] == "L3.n0[4]" and ypred[4].data == ypred[0].data


def test_hostile_labels_repeated_per_sample_stay_text() -> None:
    hostile = ['"]; evil [label="x', "<script>alert(1)</script>", "a[0]"]
    samples = []
    terms = []
    for k in range(14):  # more than FOLD_OUTSIDE samples: the inputs fold into boxes
        xs = [Value(float(k + i), label) for i, label in enumerate(hostile)]
        samples.append(xs)
        with scope("L1.n0"):  # one scoped neuron, so grouping boxes and folds the rest
            out = xs[0] * xs[1] + xs[2]
        terms.append(out**2)
    total = sum(terms[1:], terms[0])
    total.backward()
    names = value_names(topological_order(total))
    assert [names[v] for v in samples[3]] == [f"{label}[3]" for label in hostile]
    source = viz.draw(total, group="neuron").source
    assert "<script>" not in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (14 values)" in source
    assert 'evil [label="x' not in source  # the quote that would end the label is an entity
    for label in hostile:
        rows = rows_of(source, dot_text(f"{label} (14 values)"))
        assert rows[:3] == ["sample 0", "sample 1", "sample 2"]
