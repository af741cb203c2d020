"""The compiled tape: record a scalar graph once, then replay it over a whole batch of samples.

`compile(root, inputs, params)` turns a graph built once from placeholder input Values into a
`Tape`, a flat list of steps (op-table row, input slots, output slot) in topological order.
Replaying it needs no Values, so a batch costs a few float operations per step and sample (the
"python" back end) or one array operation per group of steps ("numpy"); see `autograd.backends`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd.backends import Engine, engine_for
from autograd.checks import first_non_finite, real_number
from autograd.tape_steps import Program, TapeStep
from autograd.value import Value

__all__ = ["Tape", "TapeStep", "compile"]


class Tape(Program):
    """A graph recorded once and replayed over batches (see `compile`).

    `steps` is the flat list of `TapeStep`s in topological order; `nodes[slot]` is the Value a
    slot came from (slots: parameters, then constants, then inputs, then one per step), so the
    original graph can still be drawn (`tape.root`).
    """

    def __init__(
        self, root: Value, inputs: Sequence[Value], params: Sequence[Value], backend: str = "python"
    ) -> None:
        """Compile the graph of `root` (see `compile` for what is supported)."""
        super().__init__(root, inputs, params)
        self.backend = backend
        self._engine: Engine = engine_for(self, backend)
        self._batch_size: int | None = None

    def __repr__(self) -> str:
        """Tape(steps=..., inputs=..., params=..., backend=...)."""
        return (
            f"Tape(steps={len(self.steps)}, inputs={len(self.inputs)}, params={len(self.params)}, "
            f"backend={self.backend!r})"
        )

    def run(self, batch: Sequence[Any]) -> Any:
        """The root value for each of the B samples (a list of floats, or an ndarray for NumPy).

        `batch` holds one column per input (in the order given to `compile`), each a list or a
        1-D NumPy array of length B. Parameters are read from their `.data` now, so updates made
        by an optimizer between runs are seen.
        """
        if isinstance(batch, (str, bytes)) or (
            not isinstance(batch, Sequence) and not hasattr(batch, "shape")
        ):
            raise TypeError(f"tape.run(batch) needs a sequence of columns, got {type(batch).__name__}")
        if len(batch) != len(self.inputs):
            raise ValueError(
                f"tape.run(batch) needs one column per input: {len(self.inputs)} columns, got {len(batch)}"
            )
        sizes = []
        for i, column in enumerate(batch):
            if isinstance(column, (str, bytes, Value)) or not hasattr(column, "__len__"):
                raise TypeError(
                    f"tape.run(batch): column {i} must be a list or a 1-D array of numbers, "
                    f"got {type(column).__name__}"
                )
            sizes.append(len(column))
        if len(set(sizes)) > 1:
            raise ValueError(f"tape.run(batch): columns must have equal lengths, got lengths {sizes}")
        self._batch_size = None  # a failed run leaves nothing to read
        result = self._engine.run(batch, [p.data for p in self.params])
        self._batch_size = sizes[0]
        return result

    def values(self, nodes: Sequence[Value]) -> list[list[float]]:
        """Each sample's values of these graph nodes from the last `run`, one list per sample."""
        if self._batch_size is None:
            raise RuntimeError("tape.values(nodes) needs tape.run(batch) first")
        return self._engine.rows([self.slot_of(v) for v in nodes])

    def backward(self, weights: Sequence[float] | None = None) -> None:
        """Accumulate into each parameter's `.grad` the batch sum of d(root)/d(param).

        Sample i's root is seeded with 1 (or `weights[i]`: pass 1/B to each for a mean loss), so
        the result equals B separate scalar `backward()` passes. Needs a `run` first; calling it
        twice accumulates twice, like two scalar `backward()` calls on the same graph.
        """
        if self._batch_size is None:
            raise RuntimeError("tape.backward() needs tape.run(batch) first")
        if weights is not None:
            if len(weights) != self._batch_size:
                raise ValueError(
                    f"tape.backward(weights) needs one weight per sample: {self._batch_size}, "
                    f"got {len(weights)}"
                )
            weights = _checked_weights(weights)
        grads = self._engine.backward(weights)
        if not isinstance(grads, list):
            grads = grads.tolist()  # the NumPy back end's array: floats for the loop below
        i = first_non_finite(grads)  # as the scalar backward: an overflowing gradient is an error
        if i is not None:
            raise ValueError(
                f"tape.backward: the gradient at params[{i}] (label {self.params[i].label!r}) overflows a "
                f"float: grad={grads[i]!r}; no parameter's grad was changed"
            )
        for p, g in zip(self.params, grads):
            p.grad += g


def _checked_weights(weights: Sequence[Any]) -> Sequence[Any]:
    """The per-sample seeds as finite floats (a NumPy array passes whole), else an error naming one."""
    dtype = getattr(weights, "dtype", None)
    if dtype is not None and getattr(weights, "ndim", 0) == 1 and dtype.kind in "iuf":
        total = float(weights.sum())  # type: ignore[attr-defined]
    elif set(map(type, weights)) == {float}:  # the common case: one C-level pass, no per-item call
        total = sum(weights)
    else:
        return [real_number(w, f"tape.backward(weights[{i}])") for i, w in enumerate(weights)]
    if total - total != 0.0:  # inf or nan somewhere (or the sum overflowed): name the first
        return [real_number(w, f"tape.backward(weights[{i}])") for i, w in enumerate(weights)]
    return weights


def compile(root: Value, inputs: Sequence[Value], params: Sequence[Value], backend: str = "python") -> Tape:
    """Record the graph of `root` once as a `Tape` that replays it over batches of inputs.

    `inputs` are the placeholder leaves a batch fills in (one column each), `params` the leaves
    whose gradients `tape.backward()` accumulates; every other leaf is a constant, its value
    read now. Every operation in the op table is supported, your own `autograd.op`s included;
    `relu`, `step`, `sign` and `abs` re-evaluate their branch for each sample. What cannot be
    replayed is a graph whose SHAPE depended on the placeholder values (a Python `if` on `.data`
    while building it): the tape records the branch taken for the placeholders. Use one-hot
    target inputs instead of indexing by the label. Nodes made by a `_backward` closure are refused.

    Raises ValueError when an input or parameter is not a leaf of root's graph, or when a Value is
    listed twice. `backend` is a name in `autograd.BACKENDS`: "python" (no dependency) or "numpy".
    """
    return Tape(root, inputs, params, backend=backend)
