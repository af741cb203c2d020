"""Neuron, Layer, MLP: structure, labels and scopes, seeding, initialisation, calls and gradients."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

import nn
from autograd import Value, gradcheck, topological_order
from nn.activations import ACTIVATIONS, activate, init_bound


def sigmoid(z: float) -> float:
    """Reference sigmoid on floats."""
    return 1.0 / (1.0 + math.exp(-z))


# One table: each activation on floats, evaluated against the Value version.
FLOAT_ACTIVATIONS: dict[str, Callable[[float], float]] = {
    "linear": lambda z: z,
    "step": lambda z: 1.0 if z >= 0 else 0.0,
    "sign": lambda z: 1.0 if z >= 0 else -1.0,
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "relu": lambda z: max(0.0, z),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
}


def test_table_covers_every_activation() -> None:
    assert set(FLOAT_ACTIVATIONS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("z", [-2.5, -0.3, 0.0, 0.7, 3.0])
def test_activation_values_match_floats(name: str, z: float) -> None:
    assert activate(name, Value(z)).data == pytest.approx(FLOAT_ACTIVATIONS[name](z), abs=1e-15)


@pytest.mark.parametrize("name", ["linear", "sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("z", [-2.5, -0.3, 0.7, 3.0])
def test_activation_derivatives_match_central_differences(name: str, z: float) -> None:
    assert gradcheck(lambda v: activate(name, v[0]), [z])


@pytest.mark.parametrize("name", ["step", "sign"])
def test_threshold_activations_have_zero_derivative(name: str) -> None:
    z = Value(0.4)
    activate(name, z).backward()
    assert z.grad == 0.0


def test_neuron_computes_weighted_sum_plus_bias_through_activation() -> None:
    n = nn.Neuron(3, activation="sigmoid", seed=1)
    n.w[0].data, n.w[1].data, n.w[2].data = 0.5, -1.0, 2.0
    assert n.b is not None
    n.b.data = -0.25
    x = [1.0, 2.0, 0.5]
    expected = sigmoid(0.5 * 1.0 - 1.0 * 2.0 + 2.0 * 0.5 - 0.25)
    assert n(x).data == pytest.approx(expected, abs=1e-15)


def test_bias_is_minus_the_threshold() -> None:
    # A step neuron fires when sum w x >= T; with b = -T it fires when sum w x + b >= 0.
    n = nn.Neuron(2, activation="step", seed=0)
    n.w[0].data = n.w[1].data = 1.0
    threshold = 1.5  # AND gate
    assert n.b is not None
    n.b.data = -threshold
    assert [n([a, b]).data for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [0.0, 0.0, 0.0, 1.0]


def test_neuron_uses_one_weighted_sum_node() -> None:
    n = nn.Neuron(4, activation="relu", seed=0)
    out = n([1.0, 2.0, 3.0, 4.0])
    z = out.parents[0]
    assert out.op == "relu" and z.op == "wsum"
    assert z.parents[0::2][:4] == tuple(n.w)
    assert z.parents[-1] is n.b


def test_neuron_without_bias_and_nonlin_false() -> None:
    n = nn.Neuron(2, activation="sigmoid", nonlin=False, bias=False, seed=0)
    assert n.b is None and n.activation == "linear"
    assert [name for name, _ in n.named_parameters()] == ["w.0", "w.1"]
    out = n([1.0, 1.0])
    assert out.data == pytest.approx(n.w[0].data + n.w[1].data)
    assert repr(n) == "LinearNeuron(2)"


def test_labels_and_scopes() -> None:
    model = nn.MLP(3, [4, 2], seed=0)
    neuron = model.layers[0].neurons[3]
    assert [p.label for p in neuron.parameters()] == ["w0", "w1", "w2", "b"]
    assert all(p.scope == "L1.n3" for p in neuron.parameters())
    outs = model([0.1, 0.2, 0.3])
    assert isinstance(outs, list)
    assert [o.label for o in outs] == ["L2.n0", "L2.n1"]
    nodes = topological_order(outs[1])
    inputs = [v for v in nodes if v.label.startswith("x")]
    assert sorted(v.label for v in inputs) == ["x0", "x1", "x2"]
    # Every operation node was created inside a neuron's scope.
    for node in nodes:
        if node.op:
            assert node.scope.startswith(("L1.n", "L2.n")), (node.op, node.scope)
    wsums = [v for v in nodes if v.op == "wsum"]
    assert {v.scope for v in wsums} == {"L1.n0", "L1.n1", "L1.n2", "L1.n3", "L2.n1"}


def test_inputs_are_wrapped_once_and_shared() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    first_layer_inputs = {
        id(v.parents[1]) for v in topological_order(out) if v.op == "wsum" and v.scope.startswith("L1")
    }
    assert len(first_layer_inputs) == 1  # x0 is one node shared by all three neurons


def test_values_pass_through_unchanged() -> None:
    model = nn.MLP(2, [1], seed=0)
    x0, x1 = Value(1.0, label="a"), Value(2.0, label="b")
    out = model([x0, x1])
    assert isinstance(out, Value)
    out.backward()
    assert x0.grad == pytest.approx(model.layers[0].neurons[0].w[0].data)


def test_named_parameters_follow_pytorch_paths() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == len(model.parameters()) == 3 * 3 + 4
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_repr_reads_like_micrograd() -> None:
    model = nn.MLP(2, [2, 1])
    assert repr(model) == "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    sig = nn.MLP(3, [2], output_activation="sigmoid")
    assert repr(sig) == "MLP of [Layer of [SigmoidNeuron(3), SigmoidNeuron(3)]]"


def test_call_returns_value_for_one_output_list_otherwise() -> None:
    assert isinstance(nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    assert isinstance(nn.MLP(2, [3, 2], seed=0)([1.0, 2.0]), list)
    layer = nn.Layer(2, 1, seed=0)
    assert isinstance(layer([1.0, 2.0]), Value)
    # A one-neuron hidden layer still feeds the next layer (micrograd would fail here).
    assert isinstance(nn.MLP(2, [1, 1], seed=0)([1.0, 2.0]), Value)


def test_seeded_initialisation_is_reproducible() -> None:
    a = nn.MLP(2, [4, 1], seed=7).state_dict()
    b = nn.MLP(2, [4, 1], seed=7).state_dict()
    c = nn.MLP(2, [4, 1], seed=8).state_dict()
    assert a == b and a != c
    nn.seed(3)
    d = nn.MLP(2, [4, 1]).state_dict()
    nn.seed(3)
    e = nn.MLP(2, [4, 1]).state_dict()
    assert d == e


def test_seeding_does_not_touch_global_random_state() -> None:
    random.seed(123)
    expected = random.random()
    random.seed(123)
    nn.MLP(2, [8, 1], seed=0)
    nn.MLP(2, [8, 1])
    nn.seed(5)
    assert random.random() == expected


@pytest.mark.parametrize(
    ("activation", "bound"),
    [
        ("sigmoid", math.sqrt(6 / (20 + 30))),
        ("tanh", math.sqrt(6 / (20 + 30))),
        ("relu", math.sqrt(6 / 20)),
        ("leaky_relu", math.sqrt(6 / 20)),
        ("linear", math.sqrt(6 / (20 + 30))),
    ],
)
def test_xavier_and_he_bounds(activation: str, bound: float) -> None:
    assert init_bound(activation, 20, 30) == pytest.approx(bound)
    layer = nn.Layer(20, 30, activation, seed=0)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert max(abs(w) for w in weights) <= bound
    assert max(abs(w) for w in weights) > 0.9 * bound  # 600 uniform draws fill the interval
    assert all(n.b is not None and n.b.data == 0.0 for n in layer.neurons)


def use_parameters(model: nn.MLP, values: list[Value]) -> None:
    """Make `values` the model's parameters (in parameters() order), so gradcheck can vary them."""
    i = 0
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w = values[i : i + len(neuron.w)]
            i += len(neuron.w)
            if neuron.b is not None:
                neuron.b = values[i]
                i += 1


def test_whole_mlp_gradients_match_central_differences() -> None:
    model = nn.MLP(3, [4, 3, 2], activation="tanh", output_activation="sigmoid", seed=0)
    start = [p.data for p in model.parameters()]
    x = [0.3, -0.7, 1.1]

    def loss(values: list[Value]) -> Value:
        use_parameters(model, values)
        return nn.squared_error(model(x), [0.2, 0.9])

    assert gradcheck(loss, start)


def test_gradcheck_through_model_inputs() -> None:
    model = nn.MLP(2, [5, 1], activation="sigmoid", seed=2)
    assert gradcheck(lambda v: model(v) * 1.0, [0.4, -0.9])  # type: ignore[operator]


def test_unknown_activation_lists_valid_names() -> None:
    with pytest.raises(
        ValueError,
        match=r"^MLP activation of layer 1 needs an activation name \(one of linear, step, sign, sigmoid, "
        r"tanh, relu, leaky_relu\) or a one-input @autograd.op, got str 'swish'; if 'swish' is your own "
        r"@autograd.op, define it and register it first",
    ):
        nn.MLP(2, [3, 1], activation="swish")
    with pytest.raises(ValueError, match="'softplus'"):
        nn.Neuron(2, activation="softplus")
    with pytest.raises(ValueError, match="layer 2"):
        nn.MLP(2, [3, 1], output_activation="nope")
    with pytest.raises(TypeError, match="activation name"):
        nn.Layer(2, 3, activation=3)  # type: ignore[arg-type]


def test_input_length_is_checked() -> None:
    model = nn.MLP(3, [2, 1], seed=0)
    with pytest.raises(ValueError, match=r"^MLP needs a list of 3 numbers or Values, got list of 2$"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Neuron L1.n0 needs a list of 2 numbers or Values, got tuple of 3"):
        nn.Neuron(2)((1.0, 2.0, 3.0))
    with pytest.raises(TypeError, match=r"^MLP needs a list of 3 numbers or Values, got str 'abc'$"):
        model("abc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"nin": 0, "nouts": [1]}, ValueError, "nin"),
        ({"nin": 2, "nouts": []}, ValueError, r"MLP\(nouts\) needs a non-empty list of layer sizes, got"),
        ({"nin": 2, "nouts": [3, 0]}, ValueError, r"nouts\[1\]"),
        ({"nin": 2.5, "nouts": [1]}, TypeError, "nin"),
        ({"nin": 2, "nouts": [3, 1], "activation": ["relu", "tanh"]}, ValueError, "one name per hidden"),
        ({"nin": 2, "nouts": [3, 1], "bias": [True]}, ValueError, "bias"),
        ({"nin": 2, "nouts": [3, 1], "seed": "0"}, TypeError, "seed"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        nn.MLP(**kwargs)  # type: ignore[arg-type]


def test_per_layer_activations_and_bias() -> None:
    model = nn.MLP(
        2, [3, 3, 1], activation=["tanh", "relu"], output_activation="sigmoid", bias=[True, False, True]
    )
    assert model.activations == ["tanh", "relu", "sigmoid"]
    assert [layer.bias for layer in model.layers] == [True, False, True]
    assert model.sizes == [3, 3, 1]


def test_zero_grad_and_state_dict() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    model([1.0, 1.0]).backward()  # type: ignore[union-attr]
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    state = model.state_dict()
    other = nn.MLP(2, [2, 1], seed=1)
    other.load_state_dict(state)
    assert other.state_dict() == state
    assert other([0.3, 0.4]).data == model([0.3, 0.4]).data  # type: ignore[union-attr]


def test_load_state_dict_errors_change_nothing() -> None:
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    missing = dict(before)
    del missing["layers.0.neurons.0.b"]
    with pytest.raises(ValueError, match=r"missing key 'layers.0.neurons.0.b'"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match="unexpected key 'extra'"):
        model.load_state_dict({**before, "extra": 1.0})
    with pytest.raises(ValueError, match="finite"):
        model.load_state_dict({**before, "layers.0.neurons.0.w.0": math.nan})
    with pytest.raises(TypeError, match="number"):
        model.load_state_dict({**before, "layers.0.neurons.0.w.0": "1"})  # type: ignore[dict-item]
    assert model.state_dict() == before


def test_leaky_relu_slope_below_zero() -> None:
    z = Value(-2.0)
    out = activate("leaky_relu", z)
    out.backward()
    assert out.data == pytest.approx(-0.02) and z.grad == pytest.approx(0.01)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("outer", ["", "model"])
def test_every_node_a_neuron_makes_carries_its_tag(activation: str, outer: str) -> None:
    """Tagged directly or through `scope`: every node made in the neuron, nested under an outer scope."""
    from autograd import scope as scope_block

    layer = nn.Layer(3, 2, activation, seed=0, index=1)
    x = [Value(0.5, label="a"), -1.25, 2.0]  # a number among the inputs
    if outer:
        with scope_block(outer):
            outs = layer.outputs(x)
    else:
        outs = layer.outputs(x)
    prefix = f"{outer}." if outer else ""
    for j, out in enumerate(outs):
        tag = f"{prefix}L2.n{j}"
        params = set(map(id, layer.neurons[j].parameters()))
        made = [v for v in topological_order(out) if v.parents and id(v) not in params]
        assert made and all(v.scope == tag for v in made), [(v.op, v.scope) for v in made]
        assert out.label == f"L2.n{j}"
    # the numbers became shared labelled leaves, made outside every neuron
    firsts = {id(out_node) for out in outs for out_node in topological_order(out) if out_node.label == "x1"}
    assert len(firsts) == 1


def test_an_mlp_checks_its_input_once_and_a_mismatched_hand_edited_layer_still_fails_clearly() -> None:
    """Inputs are checked at the MLP's boundary only; a layer swapped in by hand with the wrong
    width is still a clear error (from the weighted sum), never a silently truncated sum."""
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1] = nn.Layer(4, 1)
    with pytest.raises(ValueError, match="needs as many weights as inputs, got 4 weights and 3 inputs"):
        model([1.0, 2.0])
