"""draw(..., highlight=names): the neurons a report names get a thick red border and a legend line."""

from __future__ import annotations

import re

import pytest
from test_viz_graphs import HOSTILE, smallest

import nn
import viz
from autograd import Value
from viz.dot import HIGHLIGHT
from viz.trace import trace

RED_TABLE = re.compile(rf'^\s*(\w+) \[label=<<TABLE BORDER="3"[^>]*COLOR="{HIGHLIGHT}"', re.M)
BOX_KEY = re.compile(r"^\s*(box\d+) \[label=<<TABLE[^>]*><TR><TD[^>]*><B>([^<]*)</B>", re.M)


def network_loss() -> Value:
    """One sample's squared error through MLP(2, [3, 2, 1]): scopes L1.n0..L1.n2, L2.n0, L2.n1, L3.n0."""
    model = nn.MLP(2, [3, 2, 1], seed=0)
    loss = nn.squared_error(model([0.5, -1.0]), 1.0)
    loss.backward()
    return loss


def marked_ids(source: str) -> set[str]:
    """Ids of the nodes drawn with the thick red border."""
    return set(RED_TABLE.findall(source))


def marked_boxes(source: str) -> set[str]:
    """The scope keys ("L1.n1") of the neuron boxes drawn with the thick red border."""
    keys = dict(BOX_KEY.findall(source))
    return {keys[i] for i in marked_ids(source) if i in keys}


def test_a_named_neuron_box_is_marked_and_the_legend_says_why() -> None:
    source = viz.draw(network_loss(), group="neuron", highlight=["L1.n1"]).source
    assert marked_boxes(source) == {"L1.n1"}
    assert "thick red border: L1.n1" in source


def test_a_layer_prefix_marks_every_neuron_of_that_layer() -> None:
    source = viz.draw(network_loss(), group="neuron", highlight=("L1", "L3.n0")).source
    assert marked_boxes(source) == {"L1.n0", "L1.n1", "L1.n2", "L3.n0"}
    assert "thick red border: L1, L3.n0" in source


def test_any_iterable_of_names_and_one_name_alone() -> None:
    loss = network_loss()
    expected = viz.draw(loss, group="neuron", highlight=["L2.n0", "L2.n1"]).source
    assert viz.draw(loss, group="neuron", highlight=(n for n in ["L2.n0", "L2.n1"])).source == expected
    assert marked_boxes(viz.draw(loss, group="neuron", highlight={"L2"}).source) == {"L2.n0", "L2.n1"}
    # One str is one name, not a list of its letters.
    assert marked_boxes(viz.draw(loss, group="neuron", highlight="L2.n1").source) == {"L2.n1"}


def test_ungrouped_every_node_of_the_neuron_is_marked() -> None:
    loss = network_loss()
    _, order = trace(loss)
    in_scope = {f"n{i}" for i, v in enumerate(order) if v.scope == "L2.n0" and v.op != "const"}
    source = viz.draw(loss, highlight=["L2.n0"]).source
    # Its weights, bias, weighted sum and output; nothing else (operation ovals are drawn separately).
    assert marked_ids(source) == {i for i in in_scope if f"{i} [label=<<TABLE" in source}
    assert len(marked_ids(source)) >= 5  # 2 weights, a bias, z and the ReLU's output


def test_a_label_names_a_node_too_and_values_still_work() -> None:
    g = smallest()
    by_label = viz.draw(g["E"], highlight=["W0", "a1"]).source
    by_value = viz.draw(g["E"], highlight=[g["W0"], g["a1"]]).source
    assert marked_ids(by_label) == marked_ids(by_value) and len(marked_ids(by_value)) == 2
    mixed = viz.draw(g["E"], highlight=[g["W0"], "a1"]).source
    assert marked_ids(mixed) == marked_ids(by_value)
    assert "thick red border" not in by_value  # Values need no legend line: nothing to name


def test_a_name_that_matches_nothing_lists_the_scopes() -> None:
    with pytest.raises(ValueError, match=r"has the label or scope 'L9\.n0'.*L1\.n0, L1\.n1"):
        viz.draw(network_loss(), group="neuron", highlight=["L9.n0"])
    with pytest.raises(TypeError, match=r"highlight=\.\.\.\) needs Values or names \(str\), got int"):
        viz.draw(network_loss(), highlight=["L1.n0", 3])


def test_a_hostile_label_is_escaped_in_the_legend() -> None:
    g = smallest()
    for name in ("X", "W0"):
        g[name].label = {"X": HOSTILE[6], "W0": HOSTILE[7]}[name]
    source = viz.draw(g["E"], highlight=[HOSTILE[6], HOSTILE[7]]).source
    assert len(marked_ids(source)) == 2
    assert "<script>" not in source and "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert 'evil [label="x' not in source


def test_with_the_full_legend_the_names_are_one_more_row() -> None:
    source = viz.draw(network_loss(), group="neuron", highlight=["L1.n0"], legend=True).source
    assert source.count("thick red border: L1.n0") == 1
    assert "parameter: w0, b" in source
