"""viz.trace: a graph as plain data (nodes, edges with local derivatives, scope groups) and the node cap."""

from __future__ import annotations

import pytest
from test_viz_graphs import mlp_loss, smallest

from autograd import Value, scope
from viz.trace import CONSTANT, INPUT, INTERMEDIATE, PARAMETER, ROOT, node_kind, trace


def test_smallest_network_has_one_node_per_value_and_one_edge_per_argument() -> None:
    g = smallest()
    data, order = trace(g["E"])
    # X W0 Z0 a0 W1 Z1 a1 Y (a1-Y) (..)**2 0.5 E
    assert len(data.nodes) == len(order) == 12
    # Z0:2 a0:1 Z1:2 a1:1 (a1-Y):2 square:1 E:2
    assert len(data.edges) == 11
    assert data.by_id[data.root].label == "E"
    assert [n.id for n in data.nodes] == [f"n{i}" for i in range(12)]


def test_node_kinds_come_from_params_and_nn_never_from_label_text() -> None:
    g = smallest()
    data, order = trace(g["E"])
    kind = {v.label or repr(v.data): data.nodes[i].kind for i, v in enumerate(order)}
    assert kind["X"] == INPUT and kind["Y"] == INPUT
    assert kind["W0"] == INPUT and kind["W1"] == INPUT  # a label "W0" alone says nothing
    assert kind["0.5"] == CONSTANT
    assert kind["Z0"] == INTERMEDIATE and kind["a1"] == INTERMEDIATE
    assert kind["E"] == ROOT
    chosen, _ = trace(g["E"], params=[g["W0"], g["W1"]])
    assert [n.kind for n in chosen.nodes if n.label in ("W0", "W1")] == [PARAMETER, PARAMETER]
    with scope("L1.n0"):
        scoped = Value(1.0, "gain")  # nn creates a neuron's labelled weights inside its scope
        number = Value(2.0)
    assert node_kind(scoped, False) == PARAMETER
    assert node_kind(number, False) == INPUT  # a Value you made is data, even unlabelled
    assert node_kind((number * 3.0).parents[1], False) == CONSTANT  # the 3.0 arithmetic made
    assert [node_kind(Value(1.0, name), False) for name in ("b", "bias", "theta", "w_3")] == [INPUT] * 4
    loose = Value(2.0)
    assert node_kind(loose, False, {loose}) == PARAMETER
    with pytest.raises(ValueError, match="not part of the drawn graph"):
        trace(g["E"], params=[loose])
    with pytest.raises(ValueError, match="only leaves"):
        trace(g["E"], params=[g["Z0"]])
    with pytest.raises(TypeError, match="needs Values"):
        trace(g["E"], params=[1.0])  # type: ignore[list-item]


def test_names_are_shared_and_unlabelled_values_get_short_stable_names() -> None:
    a, b = Value(2.0), Value(-3.0)
    d = a * b + 10.0
    data, _ = trace(d)
    names = [n.name for n in data.nodes]
    assert "const" not in names
    by_kind = {n.name: n.kind for n in data.nodes}
    assert by_kind["v1"] == INPUT and by_kind["v2"] == INPUT  # your unlabelled Values: short names
    assert by_kind["10"] == CONSTANT  # the number arithmetic made a leaf: named by its number
    assert by_kind["v3"] == INTERMEDIATE and by_kind["root"] == ROOT  # the root: "root", not v4
    assert [n.name for n in trace(d)[0].nodes] == names  # stable: the same graph, the same names


def test_edges_keep_duplicate_parents_with_their_local_derivatives() -> None:
    a = Value(3.0, "a")
    y = a * a
    data, _ = trace(y)
    assert [(e.src, e.dst, e.index, e.local) for e in data.edges] == [
        ("n0", "n1", 0, 3.0),
        ("n0", "n1", 1, 3.0),
    ]


def test_contributions_appear_after_backward_and_sum_to_each_grad() -> None:
    g = smallest()
    before, _ = trace(g["E"])
    assert not before.has_grad
    assert all(e.contribution is None for e in before.edges)
    g["E"].backward()
    after, _ = trace(g["E"])
    assert after.has_grad
    for e in after.edges:
        assert e.contribution == e.local * after.by_id[e.dst].grad
    # The chain rule: a node's grad is the sum of what its outgoing edges contribute.
    for n in after.nodes:
        if n.id != after.root:
            total = sum(e.contribution or 0.0 for e in after.edges if e.src == n.id)
            assert total == pytest.approx(n.grad, rel=1e-12, abs=1e-15)


def test_grads_override_and_processed_limit_contributions() -> None:
    g = smallest()
    E, a1 = g["E"], g["a1"]
    data, _ = trace(E, grads={E: 1.0, a1: 0.25}, processed={E})
    assert data.has_grad
    assert data.by_id[data.root].grad == 1.0
    assert [n.grad for n in data.nodes if n.label == "a1"] == [0.25]
    into_e = [e for e in data.edges if e.dst == data.root]
    assert all(e.contribution is not None for e in into_e)
    assert all(e.contribution is None for e in data.edges if e.dst != data.root)
    assert g["W0"].grad == 0.0  # nothing was touched


def test_max_nodes_raises_and_says_how_to_proceed() -> None:
    x = Value(1.0, "x")
    y = x
    for _ in range(30):
        y = y * 1.01
    with pytest.raises(ValueError, match=r'group="neuron".*raise max_nodes') as info:
        trace(y, max_nodes=20)
    assert "61 nodes" in str(info.value)
    assert len(trace(y, max_nodes=None)[0].nodes) == 61


def test_groups_by_neuron_and_by_layer() -> None:
    loss, params = mlp_loss((2, 3, 3, 1))
    data, _ = trace(loss, group="neuron")
    keys = [grp.key for grp in data.groups]
    assert sorted(keys) == sorted([f"L1.n{j}" for j in range(3)] + [f"L2.n{j}" for j in range(3)] + ["L3.n0"])
    first = next(grp for grp in data.groups if grp.key == "L1.n0")
    assert first.layer == "L1"
    assert [data.by_id[p].label for p in first.parameters] == ["w0", "w1", "b"]
    assert [data.by_id[o].label for o in first.outputs] == ["L1.n0"]
    assert sum(len(grp.parameters) for grp in data.groups) == len(params)
    layers, _ = trace(loss, group="layer")
    assert [grp.key for grp in layers.groups] == ["L1", "L2", "L3"]
    assert len(next(grp for grp in layers.groups if grp.key == "L2").outputs) == 3


def test_grouped_cap_counts_boxes_not_values() -> None:
    loss, _ = mlp_loss((2, 4, 4, 1))
    with pytest.raises(ValueError, match="max_nodes"):
        trace(loss, max_nodes=40)
    data, order = trace(loss, max_nodes=40, group="neuron")
    assert len(order) > 40 and len(data.groups) == 9
    with pytest.raises(ValueError, match="max_nodes=5"):
        trace(loss, max_nodes=5, group="neuron")


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"^trace\(root\) needs an autograd Value, got 1\.5$"):
        trace(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^group needs None, \"neuron\" or \"layer\", got str 'neurons'$"):
        trace(Value(1.0), group="neurons")
