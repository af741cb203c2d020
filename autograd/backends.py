"""The tape's back ends by name: the one registry `compile(backend=...)` and `nn.fit` read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.util import find_spec
from typing import Any, Protocol

from autograd.tape_numpy import NumpyEngine
from autograd.tape_python import PythonEngine
from autograd.tape_steps import Program
from autograd.tape_torch import TorchEngine


class Engine(Protocol):
    """What a back end provides: a batched forward pass and the batch-summed parameter gradients."""

    def run(self, columns: Sequence[Any], params: list[float]) -> Any:
        """The root value of every sample; keeps what `backward` needs."""
        ...

    def backward(self, weights: Sequence[float] | None) -> Any:
        """Sum over the batch of weight_i * d(root_i)/d(param): a list, float64 array or tensor."""
        ...

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run, one list per sample."""
        ...

    def value_rows(self, slots: Sequence[int]) -> Any:
        """These slots' values from the last run as a (slots, B) float64 NumPy array, a row per slot."""
        ...


BACKENDS: dict[str, Callable[[Program], Engine]] = {
    "python": PythonEngine,  # no dependency
    "numpy": NumpyEngine,  # needs numpy (the `numpy` extra)
    "torch": TorchEngine,  # needs torch (the `torch` extra); a GPU when torch sees one
}
"""Tape back ends by name; `default_backend()` picks one."""


def default_backend() -> str:
    """"numpy" when numpy is installed, else "python"."""
    return "numpy" if find_spec("numpy") is not None else "python"


def engine_for(program: Program, backend: str) -> Engine:
    """The back end `backend` built for `program`, or a ValueError listing the names."""
    make = BACKENDS.get(backend) if isinstance(backend, str) else None
    if make is None:
        names = ", ".join(map(repr, BACKENDS))
        raise ValueError(f"the tape's backend must be one of {names}, got {backend!r}")
    return make(program)
