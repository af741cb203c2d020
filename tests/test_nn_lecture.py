"""`from nn.lecture import MLP` runs Karpathy's micrograd lecture: its classes, draws and 20-step loop."""

from __future__ import annotations

import json
import math
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import pytest

import nn
from autograd import Value
from nn.lecture import MLP, Layer, Neuron

# The lecture's four samples and targets.
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]

# A float network: per layer, per neuron, (weights, bias).
Net: TypeAlias = list[list[tuple[list[float], float]]]


# ---------------------------------------------------------------------------------------------
# An independent re-implementation on plain floats: the lecture's classes with `random` replaced
# by a generator, and its tanh neuron written out by hand (forward and the chain rule).
# ---------------------------------------------------------------------------------------------


def lecture_draws(rng: random.Random, nin: int, nouts: list[int]) -> Net:
    """The lecture's MLP.__init__ on floats: per layer, per neuron, w = [uniform(-1,1)] * nin then b."""
    sz = [nin, *nouts]
    net = []
    for i in range(len(nouts)):
        layer = []
        for _ in range(sz[i + 1]):
            w = [rng.uniform(-1, 1) for _ in range(sz[i])]
            b = rng.uniform(-1, 1)
            layer.append((w, b))
        net.append(layer)
    return net


def float_forward(net: Net, x: list[float]) -> list[list[float]]:
    """Every layer's activations, the inputs first: a_j = tanh(b_j + sum_i w_ji a_i)."""
    acts = [list(x)]
    for layer in net:
        a = acts[-1]
        acts.append([math.tanh(b + sum(wi * ai for wi, ai in zip(w, a))) for w, b in layer])
    return acts


def float_loss_and_grads(
    net: Net,
) -> tuple[float, list[float], list[float]]:
    """The lecture's loss sum (y - ygt)^2 over XS, its predictions, and dloss/dp in parameters() order.

    Backward by hand: dL/dy = 2(y - ygt); through tanh, dL/dz = dL/da * (1 - t^2); then
    dL/dw_ji += dL/dz_j * a_i, dL/db_j += dL/dz_j and dL/da_i = sum_j dL/dz_j * w_ji.
    """
    grads = [[([0.0] * len(w), 0.0) for w, _ in layer] for layer in net]
    loss = 0.0
    preds = []
    for x, ygt in zip(XS, YS):
        acts = float_forward(net, x)
        y = acts[-1][0]
        preds.append(y)
        loss += (y - ygt) ** 2
        da = [2.0 * (y - ygt)]
        for k in range(len(net) - 1, -1, -1):
            a_in, a_out = acts[k], acts[k + 1]
            da_in = [0.0] * len(a_in)
            for j, (w, _) in enumerate(net[k]):
                dz = da[j] * (1.0 - a_out[j] ** 2)
                gw, gb = grads[k][j]
                grads[k][j] = ([g + dz * ai for g, ai in zip(gw, a_in)], gb + dz)
                for i in range(len(a_in)):
                    da_in[i] += dz * w[i]
            da = da_in
    flat = [g for layer in grads for gw, gb in layer for g in [*gw, gb]]
    return loss, preds, flat


def flat_params(net: Net) -> list[float]:
    """The float network's parameters in the lecture's parameters() order (w0, w1, ..., b per neuron)."""
    return [p for layer in net for w, b in layer for p in [*w, b]]


def lecture_loop(model: Any, steps: int = 20) -> tuple[list[float], list[float]]:
    """The lecture's training cell verbatim; returns every step's loss and the last predictions."""
    xs, ys, n = XS, YS, model
    losses = []
    ypred: list[Any] = []
    for _k in range(steps):
        # forward pass
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))

        # backward pass
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()

        # update
        for p in n.parameters():
            p.data += -0.1 * p.grad

        losses.append(loss.data)
    return losses, [y.data for y in ypred]


# ---------------------------------------------------------------------------------------------
# The lecture's training loop
# ---------------------------------------------------------------------------------------------


def test_lecture_loop_trains_over_many_seeds() -> None:
    trained = []
    for s in range(100):
        losses, preds = lecture_loop(MLP(3, [4, 4, 1], seed=s))
        signs_right = all((p > 0) == (y > 0) for p, y in zip(preds, YS))
        trained.append(losses[-1] < 0.1 * losses[0] and signs_right)
    assert sum(trained) >= 95, f"only {sum(trained)} of 100 seeds trained"


@pytest.fixture
def default_generator() -> Iterator[None]:
    """Restore the generator behind nn.seed afterwards, so other tests see the state they expect."""
    state = nn.layers._default_rng.getstate()
    yield
    nn.layers._default_rng.setstate(state)


def test_lecture_loop_with_default_generator(default_generator: None) -> None:
    # As in the lecture, no seed at all: the generator of nn.seed draws the weights.
    nn.seed(2024)
    n = MLP(3, [4, 4, 1])
    losses, preds = lecture_loop(n)
    assert losses[-1] < 0.1 * losses[0]
    assert [p > 0 for p in preds] == [y > 0 for y in YS]


def test_lecture_loop_matches_float_reimplementation_step_by_step() -> None:
    # 20 steps of gradient descent on Values equal 20 steps on the hand-written float network.
    seed = 7
    net = lecture_draws(random.Random(seed), 3, [4, 4, 1])
    model = MLP(3, [4, 4, 1], seed=seed)
    losses, preds = lecture_loop(model)
    for k in range(20):
        loss, fpreds, grads = float_loss_and_grads(net)
        assert losses[k] == pytest.approx(loss, rel=1e-9, abs=1e-12)
        net = [
            [
                ([wi - 0.1 * g for wi, g in zip(w, gw)], b - 0.1 * gb)
                for (w, b), (gw, gb) in zip(layer, glayer)
            ]
            for layer, glayer in zip(net, _regroup(grads, net))
        ]
    assert preds == pytest.approx(fpreds, abs=1e-9)
    assert [p.data for p in model.parameters()] == pytest.approx(flat_params(net), abs=1e-9)


def _regroup(flat: list[float], net: Net) -> Net:
    """Flat gradients back into the network's shape."""
    it = iter(flat)
    return [[([next(it) for _ in w], next(it)) for w, _ in layer] for layer in net]


# ---------------------------------------------------------------------------------------------
# Initialisation: the lecture's draws, in its order
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[4, 4, 1], [1], [2, 3], [5, 1, 2]])
def test_draws_equal_the_lecture_classes_with_the_same_generator(sizes: list[int]) -> None:
    expected = flat_params(lecture_draws(random.Random(11), 3, sizes))
    assert [p.data for p in MLP(3, sizes, seed=11).parameters()] == expected
    assert [p.data for p in MLP(3, sizes, rng=random.Random(11)).parameters()] == expected


def test_shape_parameters_and_repr() -> None:
    n = MLP(3, [4, 4, 1], seed=0)
    assert len(n.parameters()) == 41  # the lecture's count
    assert n.sizes == [4, 4, 1]
    assert n.activations == ["tanh", "tanh", "tanh"]
    assert repr(n.layers[2]) == "Layer of [TanhNeuron(4)]"
    assert all(-1.0 <= p.data < 1.0 for p in n.parameters())
    biases = [neuron.b for layer in n.layers for neuron in layer.neurons]
    assert all(b is not None and b.data != 0.0 for b in biases)  # the package's biases start at 0
    assert isinstance(n, nn.MLP) and isinstance(n.layers[0], nn.Layer)
    assert isinstance(n.layers[0].neurons[0], nn.Neuron)


def test_calls_return_a_value_for_one_output_and_a_list_otherwise() -> None:
    neuron = Neuron(3, seed=1)
    out = neuron([2.0, 3.0, -1.0])
    assert isinstance(out, Value) and -1.0 < out.data < 1.0
    layer = Layer(3, 2, seed=1)
    outs = layer([2.0, 3.0, -1.0])
    assert isinstance(outs, list) and len(outs) == 2
    assert isinstance(Layer(3, 1, seed=1)([2.0, 3.0, -1.0]), Value)
    assert isinstance(MLP(3, [4, 2], seed=1)([2.0, 3.0, -1.0]), list)
    assert isinstance(MLP(3, [4, 4, 1], seed=1)([2.0, 3.0, -1.0]), Value)


def test_seed_reproducible_and_rng_shared(default_generator: None) -> None:
    a = [p.data for p in MLP(3, [4, 4, 1], seed=5).parameters()]
    b = [p.data for p in MLP(3, [4, 4, 1], seed=5).parameters()]
    c = [p.data for p in MLP(3, [4, 4, 1], seed=6).parameters()]
    assert a == b and a != c
    rng = random.Random(3)
    first, second = Neuron(2, rng=rng), Neuron(2, rng=rng)
    assert [p.data for p in first.parameters()] != [p.data for p in second.parameters()]
    nn.seed(9)
    d = [p.data for p in MLP(3, [4, 4, 1]).parameters()]
    nn.seed(9)
    assert [p.data for p in MLP(3, [4, 4, 1]).parameters()] == d


def test_global_random_state_untouched() -> None:
    state = random.getstate()
    MLP(3, [4, 4, 1])
    MLP(3, [4, 4, 1], seed=1)
    assert random.getstate() == state


def test_threads_with_their_own_seeds_build_the_same_models() -> None:
    expected = {s: [p.data for p in MLP(3, [8, 8, 1], seed=s).parameters()] for s in range(8)}
    got: dict[int, list[float]] = {}

    def build(s: int) -> None:
        for _ in range(20):
            got[s] = [p.data for p in MLP(3, [8, 8, 1], seed=s).parameters()]

    threads = [threading.Thread(target=build, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


# ---------------------------------------------------------------------------------------------
# Forward and gradients against the hand-written tanh neuron, to 1e-12
# ---------------------------------------------------------------------------------------------


FIXED_NET = [
    [([0.5, -0.25, 0.75], 0.1), ([-0.6, 0.2, 0.3], -0.4)],
    [([0.9, -0.8], 0.05)],
]


def set_params(model: MLP, net: Net) -> None:
    """Copy the float network's weights into `model` (same shapes)."""
    for p, v in zip(model.parameters(), flat_params(net), strict=True):
        p.data = v


def test_forward_matches_hand_written_tanh_neurons() -> None:
    model = MLP(3, [2, 1], seed=0)
    set_params(model, FIXED_NET)
    for x in XS:
        acts = float_forward(FIXED_NET, x)
        hidden = model.layers[0](x)
        assert isinstance(hidden, list)
        assert [h.data for h in hidden] == pytest.approx(acts[1], abs=1e-12)
        out = model(x)
        assert isinstance(out, Value)
        assert out.data == pytest.approx(acts[2][0], abs=1e-12)
    # the numbers themselves, written out for the first sample: z = b + w.x, a = tanh(z)
    h0 = math.tanh(0.1 + 0.5 * 2.0 - 0.25 * 3.0 + 0.75 * -1.0)
    h1 = math.tanh(-0.4 - 0.6 * 2.0 + 0.2 * 3.0 + 0.3 * -1.0)
    first = model(XS[0])
    assert isinstance(first, Value)
    assert first.data == pytest.approx(math.tanh(0.05 + 0.9 * h0 - 0.8 * h1), abs=1e-12)


@pytest.mark.parametrize("sizes", [[2, 1], [4, 4, 1]])
def test_loss_gradients_match_hand_written_chain_rule(sizes: list[int]) -> None:
    net = FIXED_NET if sizes == [2, 1] else lecture_draws(random.Random(42), 3, sizes)
    model = MLP(3, sizes, seed=0)
    set_params(model, net)
    loss_f, preds_f, grads_f = float_loss_and_grads(net)
    ypred: list[Any] = [model(x) for x in XS]
    loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
    assert isinstance(loss, Value)
    model.zero_grad()
    loss.backward()
    assert loss.data == pytest.approx(loss_f, abs=1e-12)
    assert [y.data for y in ypred] == pytest.approx(preds_f, abs=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx(grads_f, abs=1e-12)
    assert any(abs(g) > 1e-3 for g in grads_f)  # a live network, so the comparison means something


def test_saturated_neuron_has_zero_gradient_not_nan() -> None:
    # Huge inputs drive tanh to +-1 exactly; its derivative 1 - t^2 is then 0, never nan.
    neuron = Neuron(2, seed=0)
    out = neuron([1e150, 1e150])
    out.backward()
    assert abs(out.data) == 1.0
    assert all(p.grad == 0.0 for p in neuron.parameters())


# ---------------------------------------------------------------------------------------------
# Bad input, and the rest of nn still working on lecture models
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda: MLP(0, [4]), ValueError, "lecture MLP(nin)"),
        (lambda: MLP(3.0, [4]), TypeError, "lecture MLP(nin)"),  # type: ignore[arg-type]
        (
            lambda: MLP(3, []),
            ValueError,
            "lecture MLP(nouts) needs a non-empty list of layer sizes, got list",
        ),
        (lambda: MLP(3, "41"), TypeError, "lecture MLP(nouts)"),  # type: ignore[arg-type]
        (lambda: MLP(3, [4, 0]), ValueError, "nouts[1]"),
        (lambda: MLP(3, [4, True]), TypeError, "nouts[1]"),
        (lambda: MLP(3, [4], seed=1, rng=random.Random(1)), ValueError, "either seed or rng"),
        (lambda: MLP(3, [4], seed=1.5), TypeError, "seed"),  # type: ignore[arg-type]
        (lambda: MLP(3, [4], rng=1), TypeError, "rng"),  # type: ignore[arg-type]
        (lambda: Layer(3, -1), ValueError, "lecture Layer(nout)"),
        (lambda: Layer(3, 2, index=-1), ValueError, "lecture Layer(index)"),
        (lambda: Neuron(-1), ValueError, "lecture Neuron(nin)"),
        (lambda: Neuron(2, name=""), TypeError, "lecture Neuron(name)"),
    ],
)
def test_bad_arguments_name_the_problem(build: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        build()


def test_bad_inputs_name_the_problem() -> None:
    n = MLP(3, [4, 4, 1], seed=0)
    with pytest.raises(ValueError, match=r"^MLP needs a list of 3 numbers or Values, got list of 2$"):
        n([1.0, 2.0])
    with pytest.raises(TypeError, match="list of 3 numbers"):
        n("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a finite number, got nan"):
        n([float("nan"), 1.0, 2.0])


def test_save_and_load_keep_the_lecture_network(tmp_path: Path) -> None:
    n = MLP(3, [4, 4, 1], seed=3)
    path = tmp_path / "lecture.json"
    n.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["architecture"]["activations"] == ["tanh", "tanh", "tanh"]
    loaded = nn.load(path)
    assert [p.data for p in loaded.parameters()] == [p.data for p in n.parameters()]
    for x in XS:
        a, b = loaded(x), n(x)
        assert isinstance(a, Value) and isinstance(b, Value)
        assert a.data == b.data


def test_nn_mlp_is_still_the_package_mlp() -> None:
    # The lecture module adds classes; `nn.MLP` (micrograd's demo, see test_nn_micrograd_compat) is unchanged.
    assert nn.MLP is not MLP and nn.lecture.MLP is MLP
    assert nn.MLP(3, [4, 4, 1], seed=0).activations == ["relu", "relu", "linear"]
