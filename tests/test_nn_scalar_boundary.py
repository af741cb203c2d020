"""A neuron trusts its own weights (nn checks inputs once at the model's boundary and builds its
nodes through autograd.weighted.neuron, without a check per operand): what a learner can do to
bypass that boundary is still a clear error naming the problem, and the fast node is the node the
checked `weighted_sum` builds."""

from __future__ import annotations

import math

import pytest

import nn
from autograd import Value, no_grad, scope, weighted_sum
from autograd.weighted import neuron


def _model() -> nn.MLP:
    return nn.MLP(3, [4, 1], seed=1)


class _HasData:
    """Something with a `.data` that is not a float (as a NumPy scalar's buffer)."""

    data = (1.0,)


@pytest.mark.parametrize("bad", [3.0, 3, None, "w", _HasData()])
def test_a_weight_replaced_by_hand_is_named_in_the_forward_pass(bad: object) -> None:
    model = _model()
    model.layers[0].neurons[2].w[1] = bad  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"^L1\.n2: weighted_sum needs Values, but weight 1 is a") as info:
        model([1.0, 2.0, 3.0])
    assert type(bad).__name__ in str(info.value)
    assert "w.data = 3.0" in str(info.value)


def test_a_bias_replaced_by_a_number_is_named_in_the_forward_pass() -> None:
    model = _model()
    model.layers[1].neurons[0].b = 0.5  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"^L2\.n0: weighted_sum needs Values, but the bias is a float: 0\.5"):
        model([1.0, 2.0, 3.0])


def test_a_weight_list_replaced_by_numbers_is_named() -> None:
    model = _model()
    model.layers[0].neurons[0].w = [0.1, 0.2, 0.3]  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^L1\.n0: weighted_sum needs Values, but weight 0 is a float: 0\.1"):
        model([1.0, 2.0, 3.0])


def test_parameters_name_the_neuron_and_the_replaced_weight() -> None:
    model = _model()
    model.layers[0].neurons[2].w[1] = 3.0  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"Neuron L1\.n2: its w\.1 is a float \(3\.0\), not a Value"):
        model.parameters()
    with pytest.raises(TypeError, match=r"Neuron L1\.n2: its w\.1"):
        model.zero_grad()  # starts from parameters(): no "'float' object has no attribute 'grad'"
    with pytest.raises(TypeError, match=r"Neuron L1\.n2: its w\.1"):
        nn.SGD(model.parameters(), lr=0.1)


def test_parameters_name_a_replaced_bias() -> None:
    model = _model()
    model.layers[1].neurons[0].b = 0.5  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"Neuron L2\.n0: its b is a float \(0\.5\)"):
        model.parameters()


def test_a_bias_set_to_none_is_the_documented_bias_free_neuron() -> None:
    # `b` None is what bias=False gives: the neuron computes sum w_i x_i and lists no bias.
    model = _model()
    n = model.layers[1].neurons[0]
    n.b = None
    h = model.layers[0]([1.0, 2.0, 3.0])
    out = n(h)
    assert out.data == sum(w.data * x.data for w, x in zip(n.w, h))
    assert n.parameters() == n.w


def test_a_weight_given_a_new_value_object_is_used() -> None:
    model = _model()
    n = model.layers[0].neurons[0]
    n.w[0] = Value(2.0)
    out = n([1.0, 0.0, 0.0])
    assert out.data == max(0.0, 2.0 + n.b.data)  # type: ignore[union-attr]
    assert n.parameters()[0] is n.w[0]


def test_neuron_builds_the_node_weighted_sum_builds() -> None:
    ws = [Value(0.5), Value(-1.25), Value(2.0)]
    xs = [Value(1.5), Value(0.25), Value(-3.0)]
    b = Value(0.125)
    checked = weighted_sum(ws, xs, b)
    fast = neuron(ws, xs, b, lambda z: z, "L1.n0", "L1.n0")
    assert fast.data == checked.data
    assert fast.parents == checked.parents
    assert fast.local_grads == checked.local_grads
    assert fast.operation is checked.operation
    assert (fast.scope, fast.label) == ("L1.n0", "L1.n0")


def test_neuron_tags_the_sum_and_the_activation_and_labels_the_output() -> None:
    ws, xs = [Value(0.5), Value(2.0)], [Value(1.0), Value(1.0)]
    out = neuron(ws, xs, None, Value.relu, "net.L2.n1", "L2.n1")
    (z,) = out.parents
    assert (out.op, z.op) == ("relu", "wsum")
    assert (out.scope, z.scope, out.label, z.label) == ("net.L2.n1", "net.L2.n1", "L2.n1", "")


def test_neuron_counts_weights_and_refuses_overflow() -> None:
    with pytest.raises(ValueError, match="as many weights as inputs, got 1 weights and 2 inputs"):
        neuron([Value(1.0)], [Value(1.0), Value(2.0)], None, Value.relu, "t", "t")
    with pytest.raises(ValueError, match=r"not a finite number|overflow"):
        neuron([Value(1e308), Value(1e308)], [Value(10.0), Value(10.0)], None, Value.relu, "t", "t")


def test_model_nodes_keep_their_scopes_inside_an_outer_scope_and_no_grad() -> None:
    model = _model()
    with scope("net"):
        out = model([1.0, 2.0, 3.0])
    assert out.scope == "net.L2.n0" and out.label == "L2.n0"
    hidden = out.parents[1]  # the output is linear (its wsum node); x0 is L1.n0's relu
    assert (out.op, hidden.op, hidden.parents[0].op) == ("wsum", "relu", "wsum")
    assert hidden.scope == hidden.parents[0].scope == "net.L1.n0" and hidden.label == "L1.n0"
    with no_grad():
        frozen = model([1.0, 2.0, 3.0])
    assert frozen.parents == () and frozen.data == out.data and frozen.label == "L2.n0"


def test_gradients_match_the_checked_weighted_sum() -> None:
    model = nn.MLP(3, [4, 4, 1], seed=3)
    x = [0.5, -1.0, 2.0]
    out = model(x)
    out.backward()
    fast = [p.grad for p in model.parameters()]
    model.zero_grad()
    h: list[Value] = [Value(v) for v in x]
    for layer in model.layers:
        h = [
            (lambda z, act=n.activation: z.relu() if act == "relu" else z)(weighted_sum(n.w, h, n.b))
            for n in layer.neurons
        ]
    h[0].backward()
    assert h[0].data == out.data
    assert [p.grad for p in model.parameters()] == fast
    assert all(math.isfinite(g) for g in fast)


def test_a_weight_appended_by_hand_is_a_count_error_not_a_slice_error() -> None:
    model = _model()
    model.layers[0].neurons[1].w.append(Value(0.5))
    with pytest.raises(ValueError, match="as many weights as inputs, got 4 weights and 3 inputs"):
        model([1.0, 2.0, 3.0])


class _ForeignValue:
    """Another engine's Value (micrograd's): a float `.data`, but not a node of this graph."""

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


def test_another_engines_value_as_a_weight_is_named_by_parameters_and_zero_grad() -> None:
    # Its float .data passes the forward pass's one check; parameters() names it, and so does
    # zero_grad(), which the training loop calls before backward().
    model = _model()
    model.layers[0].neurons[0].w[2] = _ForeignValue(0.5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"Neuron L1\.n0: its w\.2 is a _ForeignValue"):
        model.zero_grad()
    with pytest.raises(TypeError, match=r"Neuron L1\.n0: its w\.2 is a _ForeignValue"):
        model.parameters()


@pytest.mark.parametrize("where", ["weight", "bias"])
def test_another_engines_value_in_a_model_is_named_by_backward(where: str) -> None:
    # A loop that calls backward() before any zero_grad() (as many lecture notebooks do) gets a
    # TypeError naming the object, not an AttributeError from inside the walk.
    model = _model()
    neuron = model.layers[0].neurons[0]
    if where == "weight":
        neuron.w[2] = _ForeignValue(0.5)  # type: ignore[call-overload]
    else:
        neuron.b = _ForeignValue(0.5)  # type: ignore[assignment]
    out = model([1.0, 2.0, 3.0])
    loss = out[0] if isinstance(out, list) else out
    with pytest.raises(TypeError, match=r"backward: the graph holds a _ForeignValue, not a Value"):
        loss.backward()
