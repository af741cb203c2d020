"""Convert an MLP to and from a float64 `torch.nn.Sequential` (torch is imported only here, lazily).

An MLP becomes Linear(nin, n1), activation, Linear(n1, n2), activation, ... with the same weights
(row j of a Linear's weight is neuron j's `w`); a linear activation adds no module. `step` and
`sign` have no PyTorch module, so such models cannot be converted (ValueError).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autograd.checks import real_number
from nn.activations import LEAKY_SLOPE

if TYPE_CHECKING:  # MLP's methods call in here, so the layers module is never imported at run time
    import torch

    from nn.layers import MLP


def _torch() -> Any:
    """The torch module, or an ImportError naming the extra to install."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("the PyTorch bridge needs torch: pip install 'axongrad[torch]'") from error
    return torch


def _finite(value: float, where: str) -> float:
    """A finite float, or a ValueError naming the weight."""
    return real_number(value, f"from_torch: {where}")


def to_torch(model: MLP) -> torch.nn.Sequential:
    """A float64 Sequential computing the same function as `model`, with copied weights."""
    th = _torch()
    if not all(hasattr(model, name) for name in ("nin", "layers", "activations")):
        raise TypeError(f"to_torch needs an MLP, got {type(model).__name__}")
    modules: list[Any] = []
    for k, layer in enumerate(model.layers):
        linear = th.nn.Linear(layer.nin, layer.nout, bias=layer.bias, dtype=th.float64)
        with th.no_grad():
            linear.weight.copy_(th.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=th.float64))
            if layer.bias:
                linear.bias.copy_(
                    th.tensor([n.b.data if n.b is not None else 0.0 for n in layer.neurons], dtype=th.float64)
                )
        modules.append(linear)
        act = layer.activation
        if act == "relu":
            modules.append(th.nn.ReLU())
        elif act == "sigmoid":
            modules.append(th.nn.Sigmoid())
        elif act == "tanh":
            modules.append(th.nn.Tanh())
        elif act == "leaky_relu":
            modules.append(th.nn.LeakyReLU(LEAKY_SLOPE))
        elif act != "linear":
            raise ValueError(
                f"to_torch: layer {k + 1} activation {act!r} has no PyTorch module "
                "(convertible: linear, relu, sigmoid, tanh, leaky_relu)"
            )
    seq: torch.nn.Sequential = th.nn.Sequential(*modules)
    return seq


def from_torch(seq: torch.nn.Sequential, mlp: type[MLP]) -> MLP:
    """An MLP with the weights of `seq`: Linear layers, each optionally followed by one activation.

    Accepted activations: ReLU, Sigmoid, Tanh, LeakyReLU(0.01), Identity (or none: linear).
    Anything else, or Linear sizes that do not chain, raises ValueError naming the module.
    """
    th = _torch()
    if not isinstance(seq, th.nn.Sequential):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(seq).__name__}")
    kinds = {th.nn.ReLU: "relu", th.nn.Sigmoid: "sigmoid", th.nn.Tanh: "tanh", th.nn.Identity: "linear"}
    linears: list[Any] = []
    acts: list[str] = []
    for i, module in enumerate(seq):
        if isinstance(module, th.nn.Linear):
            if linears and module.in_features != linears[-1].out_features:
                raise ValueError(
                    f"from_torch: module {i} Linear has in_features={module.in_features}, "
                    f"but the previous Linear has out_features={linears[-1].out_features}"
                )
            linears.append(module)
            acts.append("linear")
            continue
        if not linears:
            raise ValueError(
                f"from_torch: module {i} ({type(module).__name__}) comes before the first Linear"
            )
        if acts[-1] != "linear":
            raise ValueError(
                f"from_torch: module {i} ({type(module).__name__}) is a second activation after a Linear"
            )
        if isinstance(module, th.nn.LeakyReLU):
            if module.negative_slope != LEAKY_SLOPE:
                raise ValueError(
                    f"from_torch: module {i} LeakyReLU needs negative_slope={LEAKY_SLOPE}, "
                    f"got {module.negative_slope}"
                )
            acts[-1] = "leaky_relu"
        elif type(module) in kinds:
            acts[-1] = kinds[type(module)]
        else:
            raise ValueError(
                f"from_torch: module {i} {type(module).__name__} is not supported "
                "(Linear, ReLU, Sigmoid, Tanh, LeakyReLU(0.01), Identity)"
            )
    if not linears:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    model = mlp(
        linears[0].in_features,
        [lin.out_features for lin in linears],
        acts[:-1],
        acts[-1],
        [lin.bias is not None for lin in linears],
        seed=0,
    )
    for layer, lin in zip(model.layers, linears):
        weight = lin.weight.detach().double().tolist()
        bias = lin.bias.detach().double().tolist() if lin.bias is not None else None
        for j, neuron in enumerate(layer.neurons):
            for i, (p, v) in enumerate(zip(neuron.w, weight[j])):
                p.data = _finite(v, f"layer {layer.index + 1} weight[{j}][{i}]")
            if neuron.b is not None and bias is not None:
                neuron.b.data = _finite(bias[j], f"layer {layer.index + 1} bias[{j}]")
    return model
