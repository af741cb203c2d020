"""What the scalar engine's cheaper paths must keep: the walk's errors where it steps straight on
to a parent (its order: tests/test_autograd_scalar_order.py), a neuron that follows an activation
changed between calls, and a layer that reads its inputs' numbers once: the same nodes and errors."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

import autograd
import nn
from autograd import Value, topological_order, weighted_sum
from nn import activations

# ---------------------------------------------------------------- the walk


def test_a_long_chain_walks_without_recursion_in_micrograds_order() -> None:
    x = Value(1.0, "x")
    node = x
    for _ in range(50_000):
        node = node * 1.0 + x  # each + node: its first parent waits, its second (x) is emitted
    order = topological_order(node)
    assert len(order) == 1 + 3 * 50_000  # x, then per step: the constant, the *, the +
    assert order[0] is x and order[-1] is node
    node.backward()
    assert x.grad == 50_001.0  # d/dx of x + x + ... (50,001 terms, each with slope 1)


@pytest.mark.parametrize("where", ["first", "second", "n-ary"])
def test_the_walk_names_an_object_that_is_not_a_value_where_it_steps_on(where: str) -> None:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    inner = x * y
    if where == "n-ary":
        root = weighted_sum([x], [inner], None)
        root._a = [x, 2.5]
    else:
        root = inner + y if where == "first" else x + inner
        inner._a = 2.5  # a parent replaced by hand by a float, met when the walk steps on to it
    with pytest.raises(TypeError, match=r"backward: the graph holds a float, not a Value \(2\.5\)"):
        root.backward()


# ---------------------------------------------------------------- the neuron's activation


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """No learner's op registered by a test outlives it."""
    saved = dict(activations.CUSTOM)
    try:
        yield
    finally:
        activations.CUSTOM.clear()
        activations.CUSTOM.update(saved)


def _z(neuron: nn.Neuron, x: list[float]) -> float:
    """The neuron's weighted sum, computed on floats."""
    assert neuron.b is not None
    return sum(w.data * xi for w, xi in zip(neuron.w, x)) + neuron.b.data


def test_a_neuron_follows_an_activation_changed_between_calls(clean_registry: None) -> None:
    neuron = nn.Neuron(2, "relu", seed=3)
    neuron.b.data = -0.25  # type: ignore[union-attr]
    x = [0.7, -1.3]
    z = _z(neuron, x)
    assert neuron(x).data == max(z, 0.0)
    expected = {
        "tanh": math.tanh(z),
        "sigmoid": 1 / (1 + math.exp(-z)),
        "linear": z,
        "leaky_relu": z if z > 0 else 0.01 * z,
        "relu": max(z, 0.0),
    }
    for name, value in expected.items():
        neuron.activation = name
        out = neuron(x)
        assert out.data == pytest.approx(value, abs=1e-15), name
        assert out.label == "L1.n0" and repr(neuron).endswith(f"Neuron({neuron.nin})")
    neuron.activation = "leaky_relu"  # several nodes: every one is tagged with the neuron's scope
    assert {n.scope for n in topological_order(neuron(x)) if n.parents} == {"L1.n0"}


def test_a_neuron_follows_a_learners_op_and_its_redefinition(clean_registry: None) -> None:
    @autograd.op(name="my_act", rule="2")
    def doubled(x: float) -> tuple[float, float]:
        return 2 * x, 2.0

    neuron = nn.Neuron(2, "relu", seed=1)
    x = [0.4, 0.9]
    neuron.activation = doubled  # type: ignore[assignment]  # an op object: registered on use
    assert neuron(x).data == 2 * _z(neuron, x)

    @autograd.op(name="my_act", rule="3")  # the learner re-runs the cell with another rule
    def tripled(x: float) -> tuple[float, float]:
        return 3 * x, 3.0

    activations.register(tripled)
    neuron.activation = "my_act"
    assert neuron(x).data == 3 * _z(neuron, x)

    @autograd.op(name="my_act", rule="4")
    def quadrupled(x: float) -> tuple[float, float]:
        return 4 * x, 4.0

    activations.register(quadrupled)  # the neuron's activation is not set again: still obeyed
    assert neuron(x).data == 4 * _z(neuron, x)


def test_an_unknown_activation_set_by_hand_is_refused_when_the_neuron_runs() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].activation = "swish"  # accepted here: a model file names it later
    assert model.layers[0].neurons[1].activation == "swish"
    with pytest.raises(ValueError, match=r"needs an activation name \(one of linear, step.*got str 'swish'"):
        model([0.1, 0.2])
    model.layers[0].neurons[1].activation = ["relu"]  # type: ignore[assignment]
    with pytest.raises(TypeError, match="needs an activation name"):
        model([0.1, 0.2])


# ---------------------------------------------------------------- a layer reads its inputs once


@pytest.mark.parametrize("bias", [True, False])
def test_a_layers_nodes_are_weighted_sums_own(bias: bool) -> None:
    """The layer reads its inputs' numbers once for all its neurons: each sum node is, number for
    number, the node `weighted_sum` builds from the same operands."""
    layer = nn.Layer(5, 4, "linear", bias=bias, seed=2)
    x = [Value(v) for v in (0.3, -1.7, 2.5, 1e-3, -0.0)]
    for n, out in zip(layer.neurons, layer.outputs(x)):
        alone = weighted_sum(n.w, x, n.b)
        assert out.parents == alone.parents
        assert (out.data, out.local_grads) == (alone.data, alone.local_grads)
        assert out.scope == n.name and out.label == n.name


@pytest.mark.parametrize(("bad", "error", "message"), [
    ("2", TypeError, r"L1\.n0: weighted_sum needs Values with float \.data, but input 1's .* str: '2'"),
    (None, TypeError, r"L1\.n0: weighted_sum needs Values with float \.data, but input 1's .* NoneType"),
    (math.nan, ValueError, r"wsum: Σ w_i x_i \+ b got operand 3=nan, which is not a finite number"),
])
def test_a_layer_names_an_input_whose_data_was_set_by_hand(bad: object, error: type, message: str) -> None:
    x = [Value(1.0), Value(2.0)]
    x[1].data = bad  # type: ignore[assignment]
    for model in (nn.Layer(2, 3, seed=0), nn.MLP(2, [3, 1], seed=0)):
        with pytest.raises(error, match=message):
            model(x)


def test_a_layer_names_a_weight_or_bias_replaced_by_hand() -> None:
    layer = nn.Layer(2, 3, seed=0)
    layer.neurons[1].w[0] = 3.0  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"L1\.n1: weighted_sum needs Values, but weight 0 is a float: 3\.0"):
        layer([1.0, 2.0])
    layer = nn.Layer(2, 3, seed=0)
    layer.neurons[2].b = 3.0  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"L1\.n2: weighted_sum needs Values, but the bias is a float: 3\.0"):
        layer([1.0, 2.0])
    layer = nn.Layer(2, 3, seed=0)
    layer.neurons[0].w.append(Value(1.0))
    with pytest.raises(ValueError, match="needs as many weights as inputs, got 3 weights and 2 inputs"):
        layer([1.0, 2.0])


def test_a_learners_neuron_subclass_with_its_own_activation_runs() -> None:
    """A subclass that sets `activation` as a class attribute and skips Neuron.__init__ (as a
    learner's notebook may) is applied as on any neuron: the activation is read on every call."""

    class TanhNeuron(nn.Neuron):
        activation = "tanh"

        def __init__(self, nin: int) -> None:
            self.nin, self.name, self.nonlin = nin, "L1.n0", True
            self.w, self.b = [Value(0.5) for _ in range(nin)], Value(0.1)

    out = TanhNeuron(2)([1.0, 2.0])
    assert out.data == math.tanh(0.5 * 1.0 + 0.5 * 2.0 + 0.1)
    assert out.op == "tanh"
