"""A learner's own `autograd.op` as an activation: computed, differentiated, drawn, compiled, saved."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import autograd
import nn
from autograd import Value, numerical_grad
from nn import activations


@autograd.op(symbol="softplus", rule="1 / (1 + e^-x)")
def softplus(x: float) -> tuple[float, float]:
    """softplus(x) = log(1 + e^x); d/dx = 1/(1 + e^-x)."""
    return math.log1p(math.exp(x)), 1 / (1 + math.exp(-x))


@autograd.op(symbol="×y", rule=("y", "x"))
def times(x: float, y: float) -> tuple[float, float, float]:
    """A two-input op: no activation."""
    return x * y, y, x


@autograd.op(rule="1 - tanh(x)^2")
def tanh(x: float) -> tuple[float, float]:
    """A learner's op named like the built-in activation."""
    t = math.tanh(x)
    return t, 1 - t * t


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """Each test starts with no registered learner's op and leaves none behind."""
    saved = dict(activations.CUSTOM)
    activations.CUSTOM.clear()
    yield
    activations.CUSTOM.clear()
    activations.CUSTOM.update(saved)


def test_a_neuron_applies_the_op_to_its_weighted_sum() -> None:
    neuron = nn.Neuron(2, activation=softplus, seed=0)
    out = neuron([0.5, -1.5])
    z = neuron.w[0].data * 0.5 + neuron.w[1].data * -1.5
    assert out.data == pytest.approx(math.log1p(math.exp(z)), rel=1e-15)
    assert out.op == "softplus" and out.operation is softplus and out.scope == "L1.n0"
    assert repr(neuron) == "softplusNeuron(2)" and neuron.activation == "softplus"
    assert activations.CUSTOM == {"softplus": softplus}


def test_its_gradients_match_central_differences() -> None:
    """d out/d w_i through the learner's rule equals central differences of the float function."""
    neuron = nn.Neuron(3, activation=softplus, seed=1)
    x = [0.3, -0.7, 1.1]
    neuron(x).backward()
    weights = [w.data for w in neuron.w] + [0.0]

    def forward(ws: list[float]) -> float:
        z = sum(w * xi for w, xi in zip(ws[:3], x)) + ws[3]
        return math.log1p(math.exp(z))

    reference = numerical_grad(forward, weights)
    assert neuron.b is not None
    got = [w.grad for w in neuron.w] + [neuron.b.grad]
    assert got == pytest.approx(reference, rel=1e-6)
    # and the closed form: d softplus(z)/dw_i = sigmoid(z) x_i
    z = sum(w * xi for w, xi in zip(weights, x))
    assert got[0] == pytest.approx(x[0] / (1 + math.exp(-z)), rel=1e-12)


def test_an_mlp_takes_it_for_hidden_and_output_layers_and_draws_it() -> None:
    pytest.importorskip("graphviz")
    import viz

    model = nn.MLP(2, [3, 1], activation=softplus, output_activation=softplus, seed=0)
    assert model.activations == ["softplus", "softplus"]
    assert "softplusNeuron(2)" in repr(model)
    mixed = nn.MLP(2, [3, 3, 1], activation=["tanh", softplus], seed=0)
    assert mixed.activations == ["tanh", "softplus", "linear"]
    loss = nn.squared_error(model([1.0, 2.0]), 1.0)
    loss.backward()
    source = viz.draw(loss).source
    assert "softplus" in source  # the op's own symbol on its nodes, as a built-in's


def test_fit_trains_it_with_both_engines_alike() -> None:
    """The tape engine compiles the learner's row: same losses as the scalar engine."""
    xs, ys = nn.xor()
    scalar = nn.MLP(2, [4, 1], activation=softplus, output_activation="sigmoid", seed=0)
    taped = nn.MLP(2, [4, 1], activation=softplus, output_activation="sigmoid", seed=0)
    a = nn.fit(scalar, xs, ys, epochs=5, lr=1.0, progress=False)
    b = nn.fit(taped, xs, ys, epochs=5, lr=1.0, progress=False, engine="tape-python")
    assert b.loss == pytest.approx(a.loss, rel=1e-12)
    assert a.loss[-1] < a.loss[0]


def test_a_model_file_round_trips_and_refuses_clearly_when_the_op_is_unknown(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1], activation=softplus, seed=0)
    path = tmp_path / "model.json"
    model.save(path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["architecture"]["activations"] == ["softplus", "linear"]
    again = nn.load(path)
    assert again([0.2, -0.4]).data == model([0.2, -0.4]).data  # type: ignore[union-attr]

    activations.CUSTOM.clear()  # a new session that has not defined softplus yet
    unknown = r"needs one of linear.*got str 'softplus'; if it is your own.*register\(softplus\)"
    with pytest.raises(ValueError, match=unknown):
        nn.load(path)
    activations.register(softplus)  # defined again: loads
    assert nn.load(path)([0.2, -0.4]).data == model([0.2, -0.4]).data  # type: ignore[union-attr]


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "x" * 10_000, "a]b'\""])
def test_a_hostile_activation_name_in_a_file_is_refused_without_echoing_it_whole(
    tmp_path: Path, hostile: str
) -> None:
    model = nn.MLP(2, [1], seed=0)
    path = tmp_path / "model.json"
    model.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["architecture"]["activations"] = [hostile]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"architecture.activations\[0\]") as caught:
        nn.load(path)
    assert len(str(caught.value)) < 400


def test_what_cannot_be_an_activation_says_why() -> None:
    with pytest.raises(TypeError, match=r"a plain function has no derivative rule.*@autograd.op"):
        nn.Neuron(2, activation=lambda z: z)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="an operation of one input"):
        nn.Neuron(2, activation=times)
    with pytest.raises(ValueError, match=r"named 'tanh', like the built-in activation.*my_tanh"):
        nn.MLP(2, [2, 1], activation=tanh)
    with pytest.raises(ValueError, match=r"if 'softplus' is your own @autograd.op.*register"):
        nn.Neuron(2, activation="softplus")
    assert activations.CUSTOM == {}  # nothing half-registered


def test_a_builtin_row_is_not_taken_for_a_learners_op() -> None:
    """autograd.ops.tanh (the built-in row) shares its name with the built-in activation: refused too."""
    with pytest.raises(ValueError, match="like the built-in activation"):
        nn.Neuron(2, activation=autograd.ops.tanh)


def test_redefining_the_op_replaces_it() -> None:
    """Re-running a notebook cell makes a new row of the same name: the newest is used."""
    nn.Neuron(1, activation=softplus)

    @autograd.op(name="softplus", rule="2")
    def doubled(x: float) -> tuple[float, float]:
        return 2 * x, 2.0

    neuron = nn.Neuron(1, activation=doubled, seed=0)
    assert neuron([Value(1.0)]).data == pytest.approx(2 * neuron.w[0].data)


def test_a_str_subclass_names_a_built_in_activation() -> None:
    """A name that is a str subclass (from a config library, say) finds the built-in row."""

    class Name(str):
        pass

    from nn.activations import activate

    assert activate(Name("relu"), Value(2.0)).data == 2.0
    assert activate(Name("relu"), Value(-2.0)).data == 0.0
