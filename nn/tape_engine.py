"""The tape engine of `fit`: compile one sample's graph (model and loss) once, replay it per batch.

A network's graph has the same shape for every sample, so `TapeEngine` builds it ONCE from
placeholder Values (one per input feature, one per target column), compiles it with
`autograd.compile` and then, for every batch, runs the tape over the batch's columns and calls
`tape.backward(weights=[1/B] * B)`: the gradient of the batch's mean loss, the same numbers
(to rounding) as the scalar engine's graph of Values, without creating a Value per operation.

Targets become inputs of the graph, so its shape never depends on a label:
- cross_entropy: one 0/1 input per class (the one-hot target) and
  log sum_k e^(z_k - c) - sum_k t_k (z_k - c), where the shift c = max_k z_k is computed IN the
  graph by a tree of max(a, b) = b + relu(a - b) (relu re-evaluates per sample). Any c gives the
  same value (it cancels, as sum_k t_k = 1) and d(loss)/dc = 1 - sum softmax = 0, so the gradient
  is the scalar engine's; with c the per-sample max every exponent is <= 0 and no logit overflows.
- squared_error, mse, hinge: the loss's own formula with a target input in place of each number
  (hinge's enters negated, -y, so the graph is relu(1 + (-y) * score) with no step computing -y).
- binary_cross_entropy: needs a sigmoid output; computed from its logit z as
  m + log(e^-m + e^(z - m)) - t z with m = relu(z): softplus(z) - t z, exact for every z, with
  slope sigmoid(z) - t everywhere (also at z = 0, where relu'(0) = 0 is harmless).
- any other loss callable is called with target placeholder Values; it must compute with them
  only through Value operations (no Python `if` on `.data`: the tape would record one branch).

Engine names in `fit`: "tape" (NumPy back end when numpy imports, else pure Python),
"tape-python" and "tape-numpy".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import repeat
from typing import Any

from autograd import BACKENDS, Tape, Value, compile, default_backend, ops, topological_order, weighted_sum
from autograd.checks import first_non_finite, is_real, needs, sequence
from nn import losses as _losses
from nn.activations import CUSTOM
from nn.layers import MLP, _check_inputs

NAMED_LOSSES = (
    _losses.cross_entropy,
    _losses.squared_error,
    _losses.mse,
    _losses.hinge,
    _losses.binary_cross_entropy,
)
"""The losses compiled from their own tape formulations (see the module docstring)."""

SUGGESTION = "use engine='scalar' for this model and loss"


def _parameters(model: MLP) -> list[Value]:
    """model.parameters() without building the names (checked at every fit call and batch: kept cheap)."""
    params: list[Value] = []
    for layer in model.layers:
        for n in layer.neurons:
            params += n.w  # one C-level extend per neuron, not a Python step per weight
            if n.b is not None:
                params.append(n.b)
    return params


def same_values(a: list[Value], b: list[Value]) -> bool:
    """True when the two lists hold the same Value objects in the same order.

    `==` on lists compares items by identity first and Value keeps object identity as equality
    (no `__eq__`), so this is one C-level pass: a wide model's 67,000 parameters are checked at
    every fit call.
    """
    return len(a) == len(b) and a == b


def _structure(model: MLP) -> tuple[object, ...]:
    """What the compiled graph depends on besides the parameter Values: sizes and each activation
    (a learner's op by its object too: the cell that defines it run again is a new rule)."""
    return (
        model.nin,
        *(
            (n.activation, CUSTOM.get(n.activation) if type(n.activation) is str else None, len(n.w))
            for layer in model.layers
            for n in layer.neurons
        ),
    )


def _max(values: Sequence[Value]) -> Value:
    """max of the values as graph operations: pairwise max(a, b) = b + relu(a - b), in a tree."""
    level = list(values)
    while len(level) > 1:
        pairs = [level[i + 1] + (level[i] - level[i + 1]).relu() for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(level) - len(level) % 2 :]
    return level[0]


def _target(y: object, where: str) -> float:
    """A target entry as a finite float, or an error naming the sample."""
    return _losses.target_number(y, f"fit(engine='tape'): {where}")


# A target encoder turns the batch's targets into the target columns of the tape.
Encoder = Callable[[Sequence[Any]], list[list[float]]]


def _one_hot(n: int) -> Encoder:
    """Class indices 0..n-1 as n one-hot columns."""

    def encode(ys: Sequence[Any]) -> list[list[float]]:
        """One column per class, 1.0 where the sample's label is that class."""
        columns = [[0.0] * len(ys) for _ in range(n)]
        for i, y in enumerate(ys):
            columns[int(y)][i] = 1.0
        return columns

    return encode


def _finite_floats(values: Sequence[Any]) -> bool:
    """True when every value is a finite float (one C-level pass for the types, then one sum)."""
    return set(map(type, values)) <= {float} and first_non_finite(values) is None


def _numbers(width: int, scalar: bool) -> Encoder:
    """Targets that are numbers (`scalar`) or sequences of `width` numbers, as `width` columns (a custom
    loss's targets: its graph was recorded for the first target's shape, so every target has it)."""

    def encode(ys: Sequence[Any]) -> list[list[float]]:
        """One column per target entry; a ValueError when a target has another length."""
        if scalar:
            if _finite_floats(ys):  # the common case: nothing to convert, no message to prepare
                return [list(ys)]
            return [[_target(y, f"sample {i}") for i, y in enumerate(ys)]]
        for i, y in enumerate(ys):
            sequence(y, f"fit(engine='tape') target {i}", "numbers (as target 0)", length=width)
        return [[_target(y[k], f"sample {i}") for i, y in enumerate(ys)] for k in range(width)]

    return encode


def _entry_columns(width: int) -> Encoder:
    """Targets a named loss has accepted (a number, or a sequence of `width` numbers, mixed as the scalar
    engine takes them) as `width` columns."""

    def encode(ys: Sequence[Any]) -> list[list[float]]:
        """One column per target entry."""
        if width == 1 and _finite_floats(ys):  # the common case: nothing to convert, no message to prepare
            return [list(ys)]
        rows = [_entry_row(y, width, i) for i, y in enumerate(ys)]
        return [list(column) for column in zip(*rows)]

    return encode


def _entry_row(y: object, width: int, i: int) -> list[float]:
    """Target i's `width` entries as floats (a Value's is refused: the scalar engine would backpropagate
    into it, the tape reads numbers)."""
    items = _losses.target_entries(y)
    if len(items) != width:  # the named losses' check has refused it before: kept for a direct call
        raise ValueError(f"fit(engine='tape') target {i} needs {width} numbers, got {len(items)}")
    if any(isinstance(t, Value) for t in items):
        what = "numbers, not Values (the tape does not backpropagate into a target)"
        where = f"fit(engine='tape') target {i}"
        raise TypeError(needs(where, what, y) + f"; pass its .data, or {SUGGESTION}")
    return [_target(t, f"sample {i}") for t in items]


def _negated(encode: Encoder) -> Encoder:
    """`encode`, each target entry negated (exact: -1.0 and 1.0 swap)."""

    def negated(ys: Sequence[Any]) -> list[list[float]]:
        """The encoded columns with every entry's sign flipped."""
        return [[-v for v in column] for column in encode(ys)]

    return negated


def _placeholders(y0: Any, prefix: str) -> tuple[Any, list[Value], Encoder]:
    """Placeholder Values shaped like target y0 (a number or a list), their list, and the encoder."""
    if isinstance(y0, (str, bytes)) or not (isinstance(y0, Sequence) or is_real(y0)):
        what = "numbers or lists of numbers as targets"
        raise TypeError(needs("fit(engine='tape')", what, y0) + f"; {SUGGESTION}")
    if isinstance(y0, Sequence):
        ts = [Value(_target(t, "sample 0"), label=f"{prefix}{k}") for k, t in enumerate(y0)]
        return ts, ts, _numbers(len(ts), scalar=False)
    t = Value(_target(y0, "sample 0"), label=prefix)
    return t, [t], _numbers(1, scalar=True)


def _entry_placeholders(y0: Any, width: int) -> tuple[list[Value], Encoder]:
    """A named loss's `width` target placeholders, set to y0's entries, and the encoder of its targets."""
    row = _entry_row(y0, width, 0)
    ts = [Value(t, label="t" if width == 1 else f"t{k}") for k, t in enumerate(row)]
    return ts, _entry_columns(width)


def _is_named(loss: Callable[[Any, Any], Value]) -> bool:
    """Whether `loss` is one of nn's named losses (compiled from its formula, any target shape)."""
    return any(loss is f for f in NAMED_LOSSES)


def _target_shape(loss: Callable[[Any, Any], Value], y0: Any) -> int | None:
    """What a compiled loss graph depends on in its first target: nothing for a named loss (it reads
    any shape the loss accepts); a custom loss's, -1 for a number, else the sequence's length."""
    if _is_named(loss):
        return None
    return len(y0) if isinstance(y0, Sequence) and not isinstance(y0, (str, bytes)) else -1


def _loss_graph(
    loss: Callable[[Any, Any], Value], outs: list[Value], y0: Any
) -> tuple[Value, list[Value], Encoder]:
    """The loss of one sample as a graph with target placeholders: (root, placeholders, encoder)."""
    pred: Any = outs[0] if len(outs) == 1 else outs
    if loss is _losses.cross_entropy:
        ts = [Value(1.0 if k == y0 else 0.0, label=f"t{k}") for k in range(len(outs))]
        c = _max(outs)
        shifted = [z - c for z in outs]
        root = _losses.sum_values([d.exp() for d in shifted]).log() - _weighted(ts, shifted)
        return root, ts, _one_hot(len(outs))
    if loss is _losses.squared_error or loss is _losses.mse:
        ts, encode = _entry_placeholders(y0, len(outs))
        terms = [(p - t) ** 2 for p, t in zip(outs, ts)]
        scale = 0.5 if loss is _losses.squared_error else 1.0 / len(terms)
        root = _losses.sum_values(terms) * scale
        return root, ts, encode
    if loss is _losses.hinge:
        # The target enters negated: -y is data, so no step of every batch computes it.
        ts, encode = _entry_placeholders(y0, 1)
        t = ts[0]
        t.data = -t.data
        t.label = "-t"
        return (1 + t * outs[0]).relu(), ts, _negated(encode)
    if loss is _losses.binary_cross_entropy:
        p = outs[0]
        if p.operation is not ops.sigmoid:
            raise ValueError(
                "fit(engine='tape') compiles binary_cross_entropy only for a sigmoid output "
                "(MLP(..., output_activation='sigmoid')): on other outputs the loss drops the log "
                f"term its target zeroes, a per-sample choice the tape cannot record; {SUGGESTION}"
            )
        (z,) = p.parents
        ts, encode = _entry_placeholders(y0, 1)
        m = z.relu()
        return m + ((-m).exp() + (z - m).exp()).log() - ts[0] * z, ts, encode
    target, ts, encode = _placeholders(y0, "t")
    name = getattr(loss, "__name__", type(loss).__name__)
    try:
        root = loss(pred, target)
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(
            f"fit(engine='tape') cannot compile loss {name!r}: called with placeholder Values as "
            f"targets it raised {type(error).__name__}: {error}; {SUGGESTION}"
        ) from error
    if not isinstance(root, Value):
        raise ValueError(
            f"fit(engine='tape') cannot compile loss {name!r}: it returned {type(root).__name__}, "
            f"not a Value; {SUGGESTION}"
        )
    return root, ts, encode


def _weighted(ws: Sequence[Value], xs: Sequence[Value]) -> Value:
    """sum_k w_k x_k as one "wsum" node (exact for one-hot weights: the other terms are 0)."""
    return weighted_sum(list(ws), list(xs))


class _Compiled:
    """One model and loss compiled: the tape, how to encode targets, how to read the outputs."""

    def __init__(
        self,
        model: MLP,
        loss: Callable[[Any, Any], Value],
        params: list[Value],
        x0: list[float],
        y0: Any,
        backend: str,
    ) -> None:
        """Build the sample graph from placeholders set to the first sample and compile it."""
        self.model = model
        self.loss = loss
        self.params = params
        self.structure = _structure(model)
        xs = [Value(x, label=f"x{i}") for i, x in enumerate(x0)]
        outs = model.outputs(xs)
        root, ts, self.encode = _loss_graph(loss, outs, y0)
        self.tape = self._compile(root, [*xs, *ts], params, backend)
        slot = {id(v): i for i, v in enumerate(self.tape.nodes)}
        # How to read each output after a run: its slot, a one-input operation of a slot (the
        # sigmoid whose logit binary_cross_entropy reads), or a tape of its own (an output the
        # loss does not use).
        self.readers: list[tuple[str, Any]] = []
        self.read: list[Value] = []
        for o in outs:
            if id(o) in slot:
                self.readers.append(("slot", len(self.read)))
                self.read.append(o)
            elif o.operation is not None and o.operation.arity == 1 and id(o.parents[0]) in slot:
                self.readers.append(("row", (len(self.read), o.operation, o.const)))
                self.read.append(o.parents[0])
            else:
                seen = {id(v) for v in topological_order(o)}
                own = [p for p in params if id(p) in seen]
                self.readers.append(("tape", self._compile(o, xs, own, backend)))
        self.n_inputs = len(xs)
        self.single = len(outs) == 1
        self.target_shape = _target_shape(loss, y0)

    @staticmethod
    def _compile(root: Value, inputs: list[Value], params: list[Value], backend: str) -> Tape:
        """autograd.compile, its ValueError reworded to say which engine to use instead."""
        try:
            return compile(root, inputs, params, backend=backend)
        except ValueError as error:
            raise ValueError(
                f"fit(engine='tape') cannot compile this model and loss: {error}; {SUGGESTION}"
            ) from error

    def matches(self, model: MLP, loss: Callable[[Any, Any], Value], params: list[Value]) -> bool:
        """True for the same model object, loss, parameter Values and structure (see `_structure`)."""
        return (
            self.model is model
            and self.loss is loss
            and same_values(params, self.params)
            and _structure(model) == self.structure  # e.g. a neuron's activation changed since
        )

    def predictions(self, columns: Any, size: int) -> list[Any]:
        """Every sample's outputs as Values (a Value for one output, else a list), for accuracy."""
        rows = self.tape.values(self.read) if self.read else [[] for _ in range(size)]
        extra: dict[int, list[float]] = {}
        for k, (kind, how) in enumerate(self.readers):
            if kind == "tape":
                extra[k] = list(how.run(columns[: self.n_inputs]))
        preds: list[Any] = []
        for i in range(size):
            out: list[Value] = []
            for k, (kind, how) in enumerate(self.readers):
                if kind == "slot":
                    out.append(Value(rows[i][how]))
                elif kind == "row":
                    index, row, const = how
                    out.append(Value(row.evaluate([rows[i][index]], const)[0]))
                else:
                    out.append(Value(float(extra[k][i])))
            preds.append(out[0] if self.single else out)
        return preds


def _feature_rows(xs: Sequence[Any], nin: int) -> list[Sequence[float]]:
    """The batch's inputs as rows of nin numbers (Values read as their data), as the MLP checks them."""
    rows: list[Sequence[float]] = []
    for x in xs:
        if type(x) is not list or len(x) != nin:  # a plain list of nin skips the call
            x = _check_inputs(x, nin, "MLP")  # the scalar engine's check and wording
        # map(isinstance, ...) keeps the per-number check in C: it runs for every number of every batch.
        has_value = any(map(isinstance, x, repeat(Value)))
        rows.append([v.data if isinstance(v, Value) else v for v in x] if has_value else x)
    return rows


class TapeEngine:
    """A `fit` engine that compiles the sample graph once and replays it per batch (see module doc).

    Called like the scalar engine: engine(model, xs, ys, loss, accuracy) -> (mean loss, correct or
    None), leaving d(mean loss)/dp in every p.grad. The compiled tape is kept and reused while the
    model object, the loss, the model's parameter Values and its structure (sizes, activations) stay
    the same (new weights, e.g. after an optimizer step or `load_state_dict`, are read at every run).
    """

    def __init__(self, backend: str | None = None) -> None:
        """`backend`: "python", "numpy" or None (numpy when importable, chosen at the first call)."""
        if backend is not None and backend not in BACKENDS:
            raise ValueError(needs("TapeEngine(backend)", f"{', '.join(BACKENDS)} or None", backend))
        self.backend = backend
        self._compiled: _Compiled | None = None
        # The targets a named loss has accepted, for (loss, outputs): checked once, not at every batch.
        self._checked: tuple[Callable[[Any, Any], Value], int, set[Hashable]] | None = None

    def __repr__(self) -> str:
        """TapeEngine(backend=...)."""
        return f"TapeEngine(backend={self.backend!r})"

    def __call__(
        self,
        model: MLP,
        xs: Sequence[Any],
        ys: Sequence[Any],
        loss: Callable[[Any, Any], Value],
        accuracy: Callable[[Any, Any], bool] | None,
    ) -> tuple[float, int | None]:
        """Mean loss and correct predictions of the batch; adds d(mean loss)/dp to each p.grad."""
        if not xs or len(xs) != len(ys):
            raise ValueError(
                f"the tape engine needs equally many (>= 1) xs and ys, got {len(xs)} and {len(ys)}"
            )
        rows = _feature_rows(xs, model.nin)
        self._validate(model, loss, ys)  # before compiling: a bad target is the loss's error, not the tape's
        compiled = self._compile(model, loss, rows[0], ys[0])
        size = len(rows)
        columns: Any
        if compiled.tape.backend == "numpy":
            import numpy as np

            columns = np.concatenate([np.asarray(rows, dtype=np.float64).T, np.asarray(compiled.encode(ys))])
        else:
            columns = [list(c) for c in zip(*rows)] + compiled.encode(ys)
        values = compiled.tape.run(columns)
        compiled.tape.backward(mean=True)
        total = 0.0
        for v in values.tolist() if hasattr(values, "tolist") else values:
            total += v  # left to right, as the scalar engine adds the sample losses
        mean = total * (1.0 / size) if size > 1 else total
        if accuracy is None:
            return mean, None
        preds = compiled.predictions(columns, size)
        return mean, sum(1 for p, y in zip(preds, ys) if accuracy(p, y))

    def _compile(
        self,
        model: MLP,
        loss: Callable[[Any, Any], Value],
        x0: Sequence[float],
        y0: Any,
        params: list[Value] | None = None,
    ) -> _Compiled:
        """The cached compilation when it is for this model and loss, else a new one.

        `params`: `_parameters(model)` when the caller has just made it (a wide model's takes a while).
        """
        if not isinstance(model, MLP):
            raise TypeError(needs("fit(engine='tape', model)", "an MLP", model))
        if params is None:
            params = _parameters(model)
        compiled = self._compiled  # read once: another thread's fit may replace it meanwhile
        if (
            compiled is None
            or not compiled.matches(model, loss, params)
            or compiled.target_shape != _target_shape(loss, y0)  # a custom loss's graph is per shape
        ):
            backend = self.backend or default_backend()
            self._compiled = None
            compiled = self._compiled = _Compiled(model, loss, params, [float(x) for x in x0], y0, backend)
        return compiled

    def _validate(self, model: MLP, loss: Callable[[Any, Any], Value], ys: Sequence[Any]) -> None:
        """Check each new target with the loss itself, so bad targets raise the scalar engine's error."""
        if not _is_named(loss):
            return  # a custom loss: its targets were shaped by the placeholders; the encoder checks them
        if not isinstance(model, MLP):
            raise TypeError(needs("fit(engine='tape', model)", "an MLP", model))
        width = model.layers[-1].nout
        checked = self._checked  # read once: another thread's fit may replace it meanwhile
        if checked is None or checked[0] is not loss or checked[1] != width:
            checked = self._checked = (loss, width, set())
        validated = checked[2]
        dummy: Any = [0.5] * width if width > 1 else 0.5
        for y in ys:
            # The type is part of the key: 1, 1.0 and True hash alike but the losses tell them apart.
            key: Hashable = tuple((type(t), t) for t in y) if isinstance(y, (list, tuple)) else (type(y), y)
            try:
                if key in validated:
                    continue
            except TypeError:  # unhashable: check it every time
                key = None
            loss(dummy, y)
            if key is not None:
                validated.add(key)
