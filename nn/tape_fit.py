"""fit(engine="tape") on arrays: the data converted once per fit, the weights in one array while it trains.

The per-batch engine (`nn.tape_engine.TapeEngine`) takes the batch as Python lists and leaves the
gradient in every parameter's `.grad`, so each batch pays for checking and converting its samples
and for copying every weight Value -> array -> Value. `ArraySteps` does that work once per fit:

- the samples are checked (the tape engine's checks, on every sample) and converted into one
  float64 array, one row per tape input (the features, then the encoded targets); an epoch
  gathers it in its shuffled order once and each batch is a view of it;
- the weights live in one float64 array `w` (in the tape's parameter order) and the batch gradient
  in `g` (`Tape.gradient`: no Value is touched); the optimizer steps on them as array expressions
  (`nn.array_optim`: nn's SGD and Adam, their overflow check and undo) and holds `w` with its state
  and step count, committed together (an interrupt never publishes half a step);
- accuracy by one of fit's own rules is counted on the outputs as an array; a rule of the
  learner's gets each sample's outputs as Values, as with the per-batch engine.

The sync point. While fit trains, the parameter Values keep the numbers of the last sync.
`publish()` writes `w` and `g` into every parameter's `.data` and `.grad` (and the optimizer's
state into its lists): fit calls it before any code of the learner's runs (`on_frame`, where
`model(...)`, `model.save(...)` and every `.data` see the current weights), before the gradient
doctor reads the model, and when fit ends: returning, raising or interrupted (KeyboardInterrupt).
`absorb()` reads them back after a callback, so weights, grads or optimizer state that a callback
changed are what training continues from. Another thread reading the model during fit sees the
numbers of the last sync.

Where the array form cannot be used (no numpy, the "python" back end, an optimizer other than
nn's SGD and Adam or one that does not hold every parameter of the model exactly once, or samples
the checks reject), `start` returns None and fit uses the per-batch engine, which raises any error at the
batch where the scalar engine would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autograd import Value, default_backend
from autograd.oprecord import Op
from autograd.tape_forms import numpy_or_none
from nn.array_optim import ArrayOptimizer, array_optimizer
from nn.layers import MLP
from nn.optim import Optimizer
from nn.tape_engine import TapeEngine, _Compiled, _feature_rows, _parameters, same_values

BatchRule = tuple[Callable[[Any], Any], Callable[[Any], Any]]
"""An accuracy rule on arrays: (the labels an (outputs x samples) array predicts, the label of one
target); a sample is counted right when the two are equal."""


def _as_array(np: Any, x: Any) -> Any:
    """A back end's result (an ndarray, a list, or another library's array) as a float64 ndarray."""
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x.tolist() if hasattr(x, "tolist") else x, dtype=np.float64)


def _left_to_right(values: Any) -> float:
    """The sum of the sample losses added left to right, as the scalar engine adds them (cumsum does)."""
    return float(values.cumsum()[-1])


def _row_on_array(np: Any, row: Op, x: Any, const: float | None) -> Any:
    """An op-table row's value on an array: its rule with m=numpy when it has one, else per entry."""
    args = (x,) if const is None else (x, const)
    if row.takes_m:
        return row.fn(*args, m=np)[0]
    return np.asarray([row.evaluate([v], const)[0] for v in x.tolist()])


def _stepper(optimizer: Optimizer, params: list[Value], np: Any) -> ArrayOptimizer | None:
    """The optimizer on arrays when it holds every parameter exactly once (in any order), else None.

    The scalar engine's zero_grad clears only the optimizer's parameters, so another parameter's
    .grad would sum over the batches: the Value path keeps that.
    """
    if same_values(optimizer.params, params):
        return array_optimizer(optimizer, None, np)  # the common case, told apart without a dict
    slot = {id(p): k for k, p in enumerate(params)}
    picks = [slot.get(id(p)) for p in optimizer.params]
    if sorted(picks, key=lambda k: -1 if k is None else k) != list(range(len(params))):
        return None
    whole = picks == list(range(len(params)))
    return array_optimizer(optimizer, None if whole else np.asarray(picks, dtype=np.intp), np)


class ArraySteps:
    """fit's batches and updates on arrays for one fit call (see the module docstring)."""

    def __init__(
        self,
        model: MLP,
        loss: Callable[[Any, Any], Value],
        compiled: _Compiled,
        data: Any,
        ys: Sequence[Any],
        accuracy: Callable[[Any, Any], bool] | None,
        rule: BatchRule | None,
        optimizer: ArrayOptimizer,
        np: Any,
    ) -> None:
        """Keep what `start` checked and converted; read the weights, grads and optimizer state."""
        self.np = np
        self.model = model
        self.loss = loss
        self.compiled = compiled
        self.tape = compiled.tape
        self.params = compiled.params
        self.data = data
        self.ys = ys
        self.accuracy = accuracy
        self.rule = rule
        self.labels = None if rule is None else np.asarray([rule[1](y) for y in ys])
        self.optimizer = optimizer  # holds the weights `w` too (committed with its state at each step)
        # Finite losses may sum past a float: fit then names the inf total, so numpy neither warns nor
        # raises there under a learner's np.errstate (made once; as a decorator it sets the state per call).
        self._total = np.errstate(over="ignore", invalid="ignore")(_left_to_right)
        tapes = [how for kind, how in compiled.readers if kind == "tape"]
        slot = {id(p): k for k, p in enumerate(self.params)} if tapes else {}
        # Outputs the loss does not use have tapes of their own, over some of the parameters.
        self.own = {
            k: np.asarray([slot[id(p)] for p in how.params], dtype=np.intp)
            for k, (kind, how) in enumerate(compiled.readers)
            if kind == "tape"
        }
        # Every output is a node of the loss's tape (no sigmoid read from its logit, no tape of its
        # own): the nodes' rows are the outputs, in order.
        self.outputs_read = all(kind == "slot" for kind, _ in compiled.readers)
        self.g: Any = None  # None until the first batch's gradient: the Values' grads are not read
        self.order: Sequence[int] = range(len(ys))
        self.batch_data = data
        self.batch_labels: Any = self.labels
        self._read_weights()  # `start` has just matched the compiled tape to the model
        # Whether the arrays hold numbers the Values do not (a batch or step ran since the last
        # publish or absorb): only then does publish write, so what a callback set before it raised
        # (best weights put back, the optimizer reset) is not overwritten by fit's final publish.
        self.ahead = False

    @classmethod
    def start(
        cls,
        engine: TapeEngine,
        model: MLP,
        xs: Sequence[Any],
        ys: Sequence[Any],
        loss: Callable[[Any, Any], Value],
        accuracy: Callable[[Any, Any], bool] | None,
        optimizer: Optimizer,
        rules: Mapping[Callable[[Any, Any], bool], BatchRule],
    ) -> ArraySteps | None:
        """The array form of this fit, or None where it cannot be used (see the module docstring)."""
        np = numpy_or_none()
        if np is None or (engine.backend or default_backend()) == "python":
            return None
        params = _parameters(model)  # the tape's parameter order
        stepper = _stepper(optimizer, params, np)
        if stepper is None:
            return None
        try:
            rows = _feature_rows(xs, model.nin)
            engine._validate(model, loss, ys)
            compiled = engine._compile(model, loss, rows[0], ys[0], params)
            features = np.asarray(rows, dtype=np.float64).T
            data = np.concatenate([features, np.asarray(compiled.encode(ys), dtype=np.float64)])
        except (TypeError, ValueError):
            return None  # the per-batch engine raises it, naming the batch as the scalar engine does
        rule = next((r for f, r in rules.items() if f is accuracy), None)
        return cls(model, loss, compiled, data, ys, accuracy, rule, stepper, np)

    @property
    def w(self) -> Any:
        """The weights array, in the tape's parameter order (the optimizer's: see `step`)."""
        return self.optimizer.w

    # ------------------------------------------------------------ the sync point

    def publish(self) -> None:
        """Write the weights and grads into the parameter Values, and the optimizer's state into its lists.

        A KeyboardInterrupt while writing (a loop over every parameter: Ctrl-C at the end of fit can
        land in it) writes them all again before it is raised, so no Value is left from before.
        """
        if not self.ahead:
            return
        try:
            self._write()
        except KeyboardInterrupt:
            self._write()
            raise
        self.ahead = False

    def _write(self) -> None:
        """`publish`'s writes: weights, grads, the optimizer's state and step count."""
        if self.g is None:  # no batch has run: the grads are the Values' own
            for p, x in zip(self.params, self.w.tolist()):
                p.data = x
        else:
            for p, x, g in zip(self.params, self.w.tolist(), self.g.tolist()):
                p.data = x
                p.grad = g
        self.optimizer.publish()

    def absorb(self) -> None:
        """Read the weights, grads and optimizer state back (the learner's code may have changed them)."""
        if not self.compiled.matches(self.model, self.loss, _parameters(self.model)):
            raise ValueError(
                "fit(engine='tape'): the model's structure or parameter Values changed during fit (in "
                "on_frame?); the compiled tape no longer describes it: change it between fits, or use "
                "engine='scalar'"
            )
        self._read_weights()
        self.g = self.np.array([p.grad for p in self.params], dtype=self.np.float64)
        self.ahead = False

    def _read_weights(self) -> None:
        """The parameters' .data into `w`, the optimizer's state lists into its arrays."""
        self.optimizer.absorb(self.np.array([p.data for p in self.params], dtype=self.np.float64))

    # ------------------------------------------------------------ training

    def begin_epoch(self, order: Sequence[int], shuffled: bool) -> None:
        """The epoch's samples in `order`: gathered once when shuffled, so every batch is a view."""
        self.order = order
        if shuffled:
            self.batch_data = self.data[:, order]
            self.batch_labels = None if self.labels is None else self.labels[order]

    def batch(self, lo: int, hi: int) -> tuple[float, int | None]:
        """Samples lo..hi-1 of the epoch: (mean loss, correct count or None); the gradient kept in `g`."""
        self.ahead = True
        np = self.np
        size = hi - lo
        columns = self.batch_data[:, lo:hi]
        values = _as_array(np, self.tape.run(columns, self.w))
        self.g = _as_array(np, self.tape.gradient(mean=True))  # the gradient of the mean loss
        total = self._total(values)
        mean = total * (1.0 / size) if size > 1 else total
        if self.accuracy is None:
            return mean, None
        outputs = self._outputs(columns)
        if self.rule is not None:
            return mean, int(np.count_nonzero(self.rule[0](outputs) == self.batch_labels[lo:hi]))
        single = len(outputs) == 1
        preds = [Value(r[0]) if single else [Value(v) for v in r] for r in outputs.T.tolist()]
        targets = [self.ys[i] for i in self.order[lo:hi]]
        return mean, sum(1 for p, y in zip(preds, targets) if self.accuracy(p, y))

    def _outputs(self, columns: Any) -> Any:
        """The model's outputs for the batch just run, as an (outputs x samples) array."""
        np = self.np
        compiled = self.compiled
        read = self.tape.value_rows(compiled.read)
        if self.outputs_read:
            return read
        out = []
        for k, (kind, how) in enumerate(compiled.readers):
            if kind == "slot":
                out.append(read[how])
            elif kind == "row":
                index, row, const = how
                out.append(_row_on_array(np, row, read[index], const))
            else:
                out.append(_as_array(np, how.run(columns[: compiled.n_inputs], self.w[self.own[k]])))
        return np.asarray(out, dtype=np.float64)

    def step(self) -> None:
        """The optimizer's update of the weights array (a ValueError leaves it as it was; it refuses
        a step that would leave a weight or its state non-finite). The optimizer keeps the new
        weights with its state and step count, committed in one statement: an interrupt leaves fit
        publishing all of the step or none of it."""
        self.ahead = True
        optimizer = self.optimizer
        optimizer.step(optimizer.w, self.g)
