"""The PyTorch bridge: to_torch/from_torch keep the function, and gradients match torch float64 autograd."""

from __future__ import annotations

import random
import sys

import pytest

import nn

torch = pytest.importorskip("torch", reason="needs torch: pip install 'axongrad[torch]'")

ARCHITECTURES = [
    {"nin": 3, "nouts": [5, 4, 2], "activation": "relu"},
    {"nin": 2, "nouts": [4, 1], "activation": "tanh", "output_activation": "sigmoid"},
    {"nin": 4, "nouts": [3, 3], "activation": "leaky_relu", "bias": [True, False]},
    {"nin": 2, "nouts": [6, 6, 3], "activation": ["sigmoid", "tanh"]},
]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_outputs_agree_to_1e_12(arch: dict[str, object]) -> None:
    model = nn.MLP(**arch, seed=0)  # type: ignore[arg-type]
    seq = model.to_torch()
    assert isinstance(seq, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    rng = random.Random(1)
    for _ in range(20):
        x = [rng.uniform(-2, 2) for _ in range(model.nin)]
        ours = model.outputs(x)
        theirs = seq(torch.tensor(x, dtype=torch.float64)).tolist()
        assert [v.data for v in ours] == pytest.approx(theirs, abs=1e-12, rel=1e-12)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_gradients_agree_with_torch_float64_to_1e_9(arch: dict[str, object]) -> None:
    model = nn.MLP(**arch, seed=3)  # type: ignore[arg-type]
    seq = model.to_torch()
    rng = random.Random(2)
    xs = [[rng.uniform(-2, 2) for _ in range(model.nin)] for _ in range(5)]
    nout = model.sizes[-1]
    targets = [rng.randrange(nout) for _ in xs]
    # Ours: mean cross-entropy (or squared error for one output) over the batch.
    model.zero_grad()
    if nout > 1:
        terms = [nn.cross_entropy(model.outputs(x), t) for x, t in zip(xs, targets)]
    else:
        terms = [nn.squared_error(model.outputs(x), 0.5) for x in xs]
    loss = sum(terms[1:], terms[0]) * (1.0 / len(terms))
    loss.backward()
    # Theirs.
    out = seq(torch.tensor(xs, dtype=torch.float64))
    if nout > 1:
        tloss = torch.nn.functional.cross_entropy(out, torch.tensor(targets))
    else:
        tloss = (0.5 * (out - 0.5) ** 2).sum() / len(xs)
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), rel=1e-12)
    linears = [m for m in seq if isinstance(m, torch.nn.Linear)]
    for layer, lin in zip(model.layers, linears):
        for j, neuron in enumerate(layer.neurons):
            assert [w.grad for w in neuron.w] == pytest.approx(
                lin.weight.grad[j].tolist(), abs=1e-9, rel=1e-9
            )
            if neuron.b is not None:
                assert neuron.b.grad == pytest.approx(lin.bias.grad[j].item(), abs=1e-9, rel=1e-9)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_from_torch_roundtrip(arch: dict[str, object]) -> None:
    model = nn.MLP(**arch, seed=4)  # type: ignore[arg-type]
    back = nn.MLP.from_torch(model.to_torch())
    assert repr(back) == repr(model) and back.activations == model.activations
    assert back.state_dict() == model.state_dict()


def test_from_torch_reads_a_hand_built_sequential() -> None:
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2), torch.nn.Identity()
    ).double()
    model = nn.MLP.from_torch(seq)
    assert model.activations == ["tanh", "linear"]
    x = [0.2, -0.4, 0.9]
    assert [v.data for v in model.outputs(x)] == pytest.approx(
        seq(torch.tensor(x, dtype=torch.float64)).tolist()
    )


@pytest.mark.parametrize(
    ("modules", "match"),
    [
        (lambda: [torch.nn.ReLU(), torch.nn.Linear(2, 2)], "before the first Linear"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)], "in_features=4.*out_features=3"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.ReLU()], "second activation"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.GELU()], "GELU is not supported"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2)], "negative_slope"),
        (lambda: [], "no Linear"),
    ],
)
def test_from_torch_rejects_other_structures(modules: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        nn.MLP.from_torch(torch.nn.Sequential(*modules()))  # type: ignore[operator]


def test_from_torch_rejects_non_finite_weights() -> None:
    seq = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        seq[0].weight[0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"weight\[0\]\[1\] needs a finite number"):
        nn.MLP.from_torch(seq)
    with pytest.raises(TypeError, match="Sequential"):
        nn.MLP.from_torch(torch.nn.Linear(2, 1))


def test_step_and_sign_cannot_be_converted() -> None:
    with pytest.raises(ValueError, match="'step' has no PyTorch module"):
        nn.MLP(2, [3, 1], activation="step").to_torch()


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'axongrad\[torch\]'"):
        nn.MLP(2, [1]).to_torch()
