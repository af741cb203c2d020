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
from autograd.checks import first_non_finite, first_non_finite_entry, needs, real_numbers
from autograd.tape_steps import Program, TapeStep
from autograd.value import Value

__all__ = ["Tape", "TapeStep", "compile"]


class Tape(Program):
    """A graph recorded once and replayed over batches (see `compile`).

    `steps` is the flat list of `TapeStep`s in topological order; `nodes[slot]` is the Value a
    slot came from (slots: parameters, then constants, then inputs, then one per step), so the
    original graph can still be drawn (`tape.root`). A tape runs one batch at a time: it keeps the
    last run's numbers for `gradient` (the NumPy back end in buffers it reuses), so threads that
    share one tape take turns (a lock around `run` and `gradient`), or compile a tape each.
    """

    def __init__(
        self, root: Value, inputs: Sequence[Value], params: Sequence[Value], backend: str = "python"
    ) -> None:
        """Compile the graph of `root` (see `compile` for what is supported)."""
        super().__init__(root, inputs, params)
        self.backend = backend
        self._engine: Engine = engine_for(self, backend)
        self._batch_size: int | None = None
        self._run_params: list[float] | None = []  # the parameters' .data at the last run (None: given)
        self._seeds: Any = None  # the last mean=True seeds (see _mean_seeds)
        # The gradient's finiteness sum (see _gradient) may overflow on finite entries: on NumPy it is
        # taken with numpy's warnings off, so a learner's np.errstate neither warns nor raises there
        # (the errstate made once; as a decorator it sets numpy's state per call, per thread on numpy 2).
        self._first_bad: Any = first_non_finite_entry
        if backend == "numpy":
            self._first_bad = _numpy().errstate(over="ignore", invalid="ignore")(first_non_finite_entry)
        # A parameter that is inf or NaN shows in the value of a weighted sum that reads it (inf * x
        # is inf or NaN), which every back end checks after its forward pass; a row such as tanh,
        # step, relu (of -inf), exp (of -inf) or a division can turn it into a finite number. So the
        # parameters are checked at each run (one C-level sum) only when one of them is read by no
        # weighted sum: never for nn's layers, whose every weight and bias is in one.
        in_sums = {i for s in self.steps if s.kind.weighted_sum for i in s.inputs}
        self._checks_params = not in_sums.issuperset(range(self.n_params))

    def __repr__(self) -> str:
        """Tape(steps=..., inputs=..., params=..., backend=...)."""
        return (
            f"Tape(steps={len(self.steps)}, inputs={len(self.inputs)}, params={len(self.params)}, "
            f"backend={self.backend!r})"
        )

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Refused (pickle, copy.copy and copy.deepcopy all ask here): a TypeError naming the way out.

        The back end's calls are bound to this tape's buffers, so a copy would write into them (a
        run of the copy changing this tape's results), and axongrad saves nothing with pickle.
        """
        raise TypeError(
            "a compiled Tape cannot be copied or pickled: it holds buffers bound to its calls (a copy "
            "would share them with this tape); compile the graph again for a tape of its own: "
            f"autograd.compile(tape.root, tape.inputs, tape.params, backend={self.backend!r})"
        )

    def run(self, batch: Sequence[Any], params: Any = None) -> Any:
        """The root value for each of the B samples (a list of floats; an ndarray or tensor on NumPy, torch).

        `batch` holds one column per input (in the order given to `compile`), each a list or a
        1-D NumPy array of length B. Parameters are read from their `.data` now, so updates made
        by an optimizer between runs are seen; or from `params`, a float64 array of their numbers
        in `params` order, trusted as it is (a training loop that keeps its weights in one array).
        """
        # One 2-D array, a row per input (a training loop's batch): only its row count to check.
        block = getattr(batch, "ndim", None) == 2
        if not block and (
            isinstance(batch, (str, bytes))
            or (not isinstance(batch, Sequence) and not hasattr(batch, "shape"))
        ):
            raise TypeError(needs("tape.run(batch)", "a sequence of columns", batch))
        if len(batch) != len(self.inputs):
            raise ValueError(
                f"tape.run(batch) needs one column per input: {len(self.inputs)} columns, got {len(batch)}"
            )
        if block:
            size = batch.shape[1]  # type: ignore[attr-defined]
        else:
            sizes = []
            for i, column in enumerate(batch):
                if isinstance(column, (str, bytes, Value)) or not hasattr(column, "__len__"):
                    what = "a list or 1-D array of numbers"
                    raise TypeError(needs(f"tape.run(batch column {i})", what, column))
                sizes.append(len(column))
            if len(set(sizes)) > 1:
                raise ValueError(f"tape.run(batch): columns must have equal lengths, got lengths {sizes}")
            size = sizes[0]
        self._batch_size = None  # a failed run leaves nothing to read
        # Given numbers are the caller's to keep current (a loop that keeps its weights in one
        # array); read from .data, they are kept so a later gradient() can see they went stale.
        if params is not None and len(params) != len(self.params):
            raise ValueError(
                f"tape.run(batch, params) needs one number per parameter: {len(self.params)}, "
                f"got {len(params)}"
            )
        numbers = [p.data for p in self.params] if params is None else params
        if self._checks_params:
            self._check_params(numbers, given=params is not None)
        result = self._engine.run(batch, numbers)
        self._batch_size = size
        self._run_params = numbers if params is None else None
        return result

    def _check_params(self, numbers: Any, given: bool) -> None:
        """A ValueError naming the first parameter that is inf or NaN, as the scalar engine names an
        operand that is (see `_checks_params` in `__init__` for when this runs)."""
        i = first_non_finite(numbers) if isinstance(numbers, Sequence) else self._first_bad(numbers)
        if i is None:
            return
        x = float(numbers[i])
        where = "tape.run(batch, params)" if given else "tape.run"
        hint = "" if given else f" (a Value's .data set to {x!r} by hand?)"
        named = f"params[{i}] (label {self.params[i].label!r}) is {x!r}"
        raise ValueError(f"{where}: {named}, which is not a finite number{hint}")

    def values(self, nodes: Sequence[Value]) -> list[list[float]]:
        """Each sample's values of these graph nodes from the last `run`, one list per sample."""
        if self._batch_size is None:
            raise RuntimeError("tape.values(nodes) needs tape.run(batch) first")
        return self._engine.rows([self.slot_of(v) for v in nodes])

    def value_rows(self, nodes: Sequence[Value]) -> Any:
        """The last `run`'s values of these graph nodes as one float64 NumPy array, a row per node
        (B columns): what `values` gives, transposed, without a Python float per sample (needs numpy)."""
        if self._batch_size is None:
            raise RuntimeError("tape.value_rows(nodes) needs tape.run(batch) first")
        np = _numpy()  # here, so that a missing numpy is named on every back end
        slots = [self.slot_of(v) for v in nodes]
        if not slots:
            return np.empty((0, self._batch_size))
        return self._engine.value_rows(slots)

    def backward(self, weights: Sequence[float] | None = None, *, mean: bool = False) -> None:
        """Accumulate into each parameter's `.grad` the batch sum of d(root)/d(param).

        Sample i's root is seeded with 1 (or `weights[i]`; `mean=True` seeds each with 1/B: the
        gradient of the batch's mean), so the result equals B separate scalar `backward()` passes.
        Needs a `run` first; calling it twice accumulates twice, like two scalar `backward()` calls.
        """
        grads = self._gradient(weights, mean, "tape.backward")
        for p, g in zip(self.params, grads if isinstance(grads, list) else grads.tolist()):
            p.grad += g

    def gradient(self, weights: Sequence[float] | None = None, *, mean: bool = False) -> Any:
        """The batch sum of d(root)/d(param) that `backward` would add, returned; no `.grad` changes.

        One number per parameter (in `params` order): a float64 NumPy array on the "numpy" back
        end, a list of floats on "python". Seeds and checks as `backward`. Like PyTorch's
        `torch.autograd.grad`: with `parameter_data` and `set_parameters` a step runs on arrays.
        """
        return self._gradient(weights, mean, "tape.gradient")

    def _mean_seeds(self, size: int) -> Any:
        """1/B for each of the B samples: a float64 array on "numpy" (made once per B), else a list.

        Made here, they are finite by construction: no check per batch."""
        seeds = self._seeds
        if seeds is None or len(seeds) != size:
            seeds = [1.0 / size] * size if size else []
            if self.backend == "numpy":
                seeds = _numpy().asarray(seeds, dtype=float)
            self._seeds = seeds
        return seeds

    def _gradient(self, weights: Sequence[float] | None, mean: bool, where: str) -> Any:
        """The engine's batch-summed gradients after checking the seeds, or an error naming `where`."""
        if self._batch_size is None:
            raise RuntimeError(f"{where}() needs tape.run(batch) first")
        self._check_unchanged(where)
        if mean:
            if weights is not None:
                raise ValueError(f"{where}(weights, mean=True): give the weights or mean=True, not both")
            weights = self._mean_seeds(self._batch_size)
        elif weights is not None:
            if len(weights) != self._batch_size:
                raise ValueError(
                    f"{where}(weights) needs one weight per sample: {self._batch_size}, got {len(weights)}"
                )
            weights = _checked_weights(weights, where)
        grads = self._engine.backward(weights)
        # As the scalar backward: an overflowing gradient is an error. An array is checked with one
        # C-level sum (inf or NaN stays in it; a sum that overflows only sends us to the exact scan).
        i = first_non_finite(grads) if isinstance(grads, list) else self._first_bad(grads)
        if i is not None:
            g = float(grads[i])
            what = "is NaN" if g != g else "overflows a float"
            raise ValueError(
                f"{where}: the gradient at params[{i}] (label {self.params[i].label!r}) {what}: "
                f"grad={g!r}; no parameter's grad was changed"
            )
        return grads

    def _check_unchanged(self, where: str) -> None:
        """A RuntimeError when a parameter's .data changed since the last run (set_parameters, an
        optimizer step): the local derivatives kept from that run belong to the old values."""
        if self._run_params is None:
            return  # the last run was given its parameters' numbers: the caller keeps them current
        now = [p.data for p in self.params]
        if now == self._run_params:
            return
        i = next(i for i, (a, b) in enumerate(zip(now, self._run_params)) if a != b)
        raise RuntimeError(
            f"{where}(): params[{i}] (label {self.params[i].label!r}) changed from {self._run_params[i]!r} "
            f"to {now[i]!r} since the last tape.run(batch), whose forward values the gradient needs: "
            "call tape.run(batch) again first (as after any set_parameters or optimizer step)"
        )

    def parameter_data(self) -> Any:
        """Every parameter's `.data` now, as a float64 NumPy array in `params` order (needs numpy)."""
        return _numpy().asarray([p.data for p in self.params], dtype=float)

    def set_parameters(self, data: Sequence[float], grads: Sequence[float] | None = None) -> None:
        """Set each parameter's `.data` (and `.grad`) from `data[i]` (and `grads[i]`), in `params` order.

        Both are lists or 1-D arrays of len(params) finite real numbers; anything else is a
        TypeError or ValueError naming the argument and entry, and then no Value is changed. The
        write is one pass over the parameters: the end of a training step done on arrays.
        """
        new_data = self._parameter_numbers(data, "data")
        if grads is None:
            for p, x in zip(self.params, new_data):
                p.data = x
            return
        new_grads = self._parameter_numbers(grads, "grads")
        for p, x, g in zip(self.params, new_data, new_grads):
            p.data = x
            p.grad = g

    def _parameter_numbers(self, numbers: Sequence[float], name: str) -> list[float]:
        """`numbers` as len(params) finite floats, or a TypeError/ValueError naming the entry."""
        where, n = f"tape.set_parameters({name})", len(self.params)
        dtype = getattr(numbers, "dtype", None)
        if dtype is not None and getattr(numbers, "ndim", 0) == 1 and dtype.kind in "iuf":
            values: list[float] = numbers.astype(float).tolist()  # type: ignore[attr-defined]  # one dtype check
        elif isinstance(numbers, Sequence) and set(map(type, numbers)) <= {float}:  # no per-item call
            values = list(numbers)
        else:
            return real_numbers(numbers, where, length=n)  # names the argument and the first bad entry
        if len(values) != n:
            real_numbers(values, where, length=n)  # raises: the wrong length
        i = first_non_finite(values)
        if i is not None:
            raise ValueError(
                f"{needs(f'{where}[{i}]', 'a finite number', values[i])} (params[{i}], label "
                f"{self.params[i].label!r}); no parameter was changed"
            )
        return values


def _numpy() -> Any:
    """The numpy module, or an ImportError naming the extra to install."""
    try:
        import numpy
    except ImportError:
        raise ImportError(
            "tape.parameter_data and tape.value_rows need numpy: pip install 'axongrad[numpy]'"
        ) from None
    return numpy


def _checked_weights(weights: Sequence[Any], where: str) -> Sequence[Any]:
    """The per-sample seeds as finite floats (a NumPy array passes whole), else an error naming one."""
    dtype = getattr(weights, "dtype", None)
    if dtype is not None and getattr(weights, "ndim", 0) == 1 and dtype.kind in "iuf":
        total = float(weights.sum())  # type: ignore[attr-defined]
    elif set(map(type, weights)) == {float}:  # the common case: one C-level pass, no per-item call
        total = sum(weights)
    else:
        return real_numbers(weights, f"{where}(weights)")  # names the first bad weight
    if total - total != 0.0:  # inf or nan somewhere (or the sum overflowed): name the first
        return real_numbers(weights, f"{where}(weights)")  # names the first bad weight
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
    listed twice. `backend` is a name in `autograd.BACKENDS`: "python" (no dependency), "numpy"
    (arrays; `run` and `gradient` return float64 ndarrays) or "torch" (float64 tensors, on a GPU
    when torch sees one; `run` and `gradient` return tensors on that device).
    """
    return Tape(root, inputs, params, backend=backend)
