"""`Module`: the base of Neuron, Layer and MLP (parameters, names, zero_grad, state dicts, save)."""

from __future__ import annotations

from collections.abc import Mapping

from autograd import Value
from autograd.checks import needs, real_number
from autograd.files import FilePath
from nn import model_file


class Module:
    """Something with trainable parameters, named like PyTorch (`layers.0.neurons.3.w.1`)."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs in a stable order; a module without parameters returns []."""
        return []

    def parameters(self) -> list[Value]:
        """Every trainable parameter Value, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{parameter name: value} as plain floats (a snapshot; changing it changes nothing)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Copy values from `state` into the parameters; the names must match exactly.

        Raises ValueError naming a missing or unexpected key, or a non-finite value, and TypeError
        for a non-number; nothing is changed unless every entry is valid.
        """
        if not isinstance(state, Mapping):
            raise TypeError(needs("load_state_dict(state)", "a mapping of name -> float", state))
        named = self.named_parameters()
        names = {name for name, _ in named}
        missing = [name for name, _ in named if name not in state]
        if missing:
            raise ValueError(f"load_state_dict: missing key {missing[0]!r} ({len(missing)} missing in all)")
        unexpected = [key for key in state if key not in names]
        if unexpected:
            raise ValueError(f"load_state_dict: unexpected key {unexpected[0]!r}")
        values: dict[str, float] = {}
        for name, _ in named:
            values[name] = real_number(state[name], f"load_state_dict({name!r})")
        for name, p in named:
            p.data = values[name]

    def save(self, path: FilePath) -> None:
        """Write this model to a JSON model file atomically (see `nn.serialize`; MLPs only)."""
        model_file.save(self, path)
