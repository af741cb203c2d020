"""micrograd's demo.ipynb runs unchanged on axongrad: same losses and gradients as on micrograd 0.1.0."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

import nn
from autograd import Value

micrograd_nn = pytest.importorskip("micrograd.nn")
micrograd_engine = pytest.importorskip("micrograd.engine")
np = pytest.importorskip("numpy")
sklearn_datasets = pytest.importorskip("sklearn.datasets")


def demo_loss(model: Any, value: Callable[[Any], Any], X: Any, y: Any) -> tuple[Any, float]:  # noqa: N803 (the demo's names)
    """The demo's `loss()` cell, verbatim apart from taking the model, Value class and data as arguments."""
    Xb, yb = X, y
    inputs = [list(map(value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def demo_step(
    model: Any,
    value: Callable[[Any], Any],
    X: Any,  # noqa: N803 (the demo's names)
    y: Any,
    k: int,
) -> tuple[float, float, list[float]]:
    """The demo's optimization cell for step k; returns (loss, accuracy, gradients before the update)."""
    total_loss, acc = demo_loss(model, value, X, y)
    model.zero_grad()
    total_loss.backward()
    grads = [p.grad for p in model.parameters()]
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, acc, grads


@pytest.fixture
def models() -> tuple[Any, nn.MLP]:
    """micrograd's MLP(2, [16, 16, 1]) seeded as in the demo, and ours with its weights copied in."""
    state = random.getstate()
    try:
        random.seed(1337)
        theirs = micrograd_nn.MLP(2, [16, 16, 1])
    finally:
        random.setstate(state)
    ours = nn.MLP(2, [16, 16, 1], seed=0)
    assert len(ours.parameters()) == len(theirs.parameters()) == 337
    for p, q in zip(ours.parameters(), theirs.parameters()):
        p.data = float(q.data)
    return theirs, ours


def test_same_architecture_and_repr(models: tuple[Any, nn.MLP]) -> None:
    theirs, ours = models
    assert repr(ours) == repr(theirs)
    assert [len(layer.neurons) for layer in ours.layers] == [len(layer.neurons) for layer in theirs.layers]
    assert isinstance(ours.layers[0].neurons[0].w, list) and isinstance(ours.layers[0].neurons[0].b, Value)


def test_demo_losses_and_gradients_agree(models: tuple[Any, nn.MLP]) -> None:
    theirs, ours = models
    X, y = sklearn_datasets.make_moons(n_samples=100, noise=0.1, random_state=1337)
    y = y * 2 - 1  # make y be -1 or 1, as the demo does
    for k in range(4):
        loss_mg, acc_mg, grads_mg = demo_step(theirs, micrograd_engine.Value, X, y, k)
        loss_ax, acc_ax, grads_ax = demo_step(ours, Value, X, y, k)
        assert loss_ax == pytest.approx(loss_mg, rel=1e-9, abs=1e-9)
        assert acc_ax == acc_mg
        assert grads_ax == pytest.approx(grads_mg, rel=1e-9, abs=1e-9)
    assert [p.data for p in ours.parameters()] == pytest.approx(
        [q.data for q in theirs.parameters()], abs=1e-9
    )


def test_micrograd_neuron_and_layer_signatures() -> None:
    # micrograd's Neuron(nin, nonlin=...) and Layer(nin, nout, **kwargs) spellings work.
    neuron = nn.Neuron(3, nonlin=False)
    assert repr(neuron) == "LinearNeuron(3)"
    layer = nn.Layer(3, 2, nonlin=True)
    assert repr(layer) == "Layer of [ReLUNeuron(3), ReLUNeuron(3)]"
    out = layer([Value(1.0), Value(2.0), Value(3.0)])
    assert isinstance(out, list) and len(out) == 2


def test_readme_import_builds_micrograds_fresh_network() -> None:
    # The README's `from nn import MLP` (not nn.lecture's): ReLU hidden, linear output, biases 0.
    from nn import MLP

    state = random.getstate()
    try:
        theirs = micrograd_nn.MLP(2, [16, 16, 1])
    finally:
        random.setstate(state)
    ours = MLP(2, [16, 16, 1], seed=0)
    assert [[n.nonlin for n in layer.neurons] for layer in ours.layers] == [
        [n.nonlin for n in layer.neurons] for layer in theirs.layers
    ]
    assert ours.activations == ["relu", "relu", "linear"]
    ours_biases = [n.b.data for layer in ours.layers for n in layer.neurons if n.b is not None]
    theirs_biases = [n.b.data for layer in theirs.layers for n in layer.neurons]
    assert len(ours_biases) == len(theirs_biases) == 33
    assert set(ours_biases) == set(theirs_biases) == {0}
