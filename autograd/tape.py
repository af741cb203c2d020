"""The compiled tape: record a scalar graph once, then replay it over a whole batch of samples.

`compile(root, inputs, params)` turns a graph built once from placeholder input Values into a
`Tape`, a flat list of steps (operation, input slots, output slot) in topological order. Replaying
it needs no Values, so a batch costs a few float operations per step and sample (pure Python back
end) or one array operation per group of steps (NumPy back end, `autograd.tape_numpy`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from operator import itemgetter, mul
from typing import Any, NamedTuple, Protocol

from autograd import ops
from autograd.graph import topological_order
from autograd.value import Value, real_number

# ---------------------------------------------------------------- the tape's instruction set

# Small int codes for the pure-Python loop, most frequent first (the if/elif chain tests them in
# this order). Every autograd operation has one; an unknown op name is a compile-time ValueError.
WSUM, RELU, TANH, SIGMOID, MUL, ADD, SUB, NEG, DIV, EXP, LOG, SQRT, POW, POWV, STEP, SIGN, ABS = range(17)

CODES: dict[str, int] = {
    "wsum": WSUM,
    "relu": RELU,
    "tanh": TANH,
    "sigmoid": SIGMOID,
    "*": MUL,
    "+": ADD,
    "-": SUB,
    "neg": NEG,
    "/": DIV,
    "exp": EXP,
    "log": LOG,
    "sqrt": SQRT,
    "**": POWV,
    "step": STEP,
    "sign": SIGN,
    "abs": ABS,
}  # "**<n>" (a number exponent) is POW, recognised by its prefix.

# The rule in `ops` for each code: used to produce the scalar engine's exact error message.
_RULES: dict[int, Callable[..., tuple[float, ...]]] = {
    ADD: ops.add,
    SUB: ops.sub,
    MUL: ops.mul,
    DIV: ops.div,
    NEG: ops.neg,
    EXP: ops.exp,
    LOG: ops.log,
    SQRT: ops.sqrt,
    TANH: ops.tanh,
    SIGMOID: ops.sigmoid,
    RELU: ops.relu,
    STEP: ops.step,
    SIGN: ops.sign,
    ABS: ops.absolute,
    POWV: ops.power_value,
}


class TapeStep(NamedTuple):
    """One recorded operation: `op` (the autograd op name) reads `inputs` slots, writes `output`."""

    op: str
    inputs: tuple[int, ...]
    output: int
    code: int
    exponent: float = 0.0  # the number exponent of a "**<n>" step


def _exponent(node: Value) -> float:
    """The number exponent of a "**<n>" node, read from its op name (written exactly by Value)."""
    try:
        return float(node.op[2:])
    except ValueError:
        raise ValueError(f"compile: cannot read the exponent of op {node.op!r}") from None


def fail(step: TapeStep, operands: Sequence[float], sample: int, cause: BaseException | None = None) -> None:
    """Raise the scalar engine's error for `step` on these operand values, naming the sample.

    The rule from `ops` is re-run on the failing operands, so the message is the one a scalar
    forward pass would give (`log(x) needs x > 0, got x=-2.0`), prefixed with where it happened.
    """
    where = f"tape step {step.op!r} (slot {step.output}) on sample {sample}"
    values = [float(v) for v in operands]
    try:
        if step.code == WSUM:
            total = sum(w * x for w, x in zip(values[0::2], values[1::2]))
            total += values[-1] if len(values) % 2 else 0.0
            value = total
        elif step.code == POW:
            value = ops.power(values[0], step.exponent)[0]
        else:
            value = _RULES[step.code](*values)[0]
    except ZeroDivisionError as error:
        raise ZeroDivisionError(f"{where}: {error}") from cause
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{where}: {error}") from cause
    shown = ", ".join(f"{v!r}" for v in values)
    raise ValueError(f"{where}: {step.op} of ({shown}) gives a non-finite value {value!r}") from cause


# ---------------------------------------------------------------- back ends


class Engine(Protocol):
    """What a back end provides: a batched forward pass and the batch-summed parameter gradients."""

    def run(self, columns: Sequence[Any], params: list[float]) -> Any:
        """The root value of every sample; keeps what `backward` needs."""
        ...

    def backward(self, weights: Sequence[float] | None) -> list[float]:
        """Sum over the batch of weight_i * d(root_i)/d(param), one float per parameter."""
        ...

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run, one list per sample."""
        ...


class Tape:
    """A graph recorded once and replayed over batches (see `compile`).

    `steps` is the flat list of `TapeStep`s in topological order; `nodes[slot]` is the Value a
    slot came from (slots: parameters, then constants, then inputs, then one per step), so the
    original graph can still be drawn (`tape.root`).
    """

    def __init__(
        self, root: Value, inputs: Sequence[Value], params: Sequence[Value], backend: str = "python"
    ) -> None:
        """Compile the graph of `root` (see `compile` for what is supported)."""
        if not isinstance(root, Value):
            raise TypeError(f"compile(root) needs a Value, got {type(root).__name__}")
        self.root = root
        self.inputs = _leaf_list(inputs, "inputs")
        self.params = _leaf_list(params, "params")
        if not self.inputs:
            raise ValueError("compile needs at least one input placeholder (the batch's columns)")
        both = {id(v) for v in self.inputs} & {id(v) for v in self.params}
        if both:
            raise ValueError("compile: a Value cannot be both an input and a parameter")

        order = topological_order(root)
        in_graph = {id(v) for v in order}
        for name, group in (("inputs", self.inputs), ("params", self.params)):
            for i, v in enumerate(group):
                if id(v) not in in_graph:
                    raise ValueError(
                        f"compile: {name}[{i}] (label {v.label!r}, data {v.data!r}) is not a leaf "
                        "of the graph of root (root does not depend on it)"
                    )
        chosen = {id(v) for v in self.inputs} | {id(v) for v in self.params}
        constants = [v for v in order if not v.parents and id(v) not in chosen]
        interior = [v for v in order if v.parents]

        self.nodes: list[Value] = [*self.params, *constants, *self.inputs, *interior]
        slot = {id(v): i for i, v in enumerate(self.nodes)}
        self._slot = slot
        self.n_params = len(self.params)
        self.constants = [v.data for v in constants]
        first_input = len(self.params) + len(constants)
        self.input_slots = list(range(first_input, first_input + len(self.inputs)))
        self.first_step_slot = len(self.nodes) - len(interior)

        self.steps: list[TapeStep] = []
        for v in interior:
            op = v.op
            if op in CODES:
                code, exponent = CODES[op], 0.0
            elif op.startswith("**") and len(op) > 2:
                code, exponent = POW, _exponent(v)
            else:
                raise ValueError(
                    f"compile: unknown operation {op!r} (node label {v.label!r}); the tape replays "
                    f"{', '.join(sorted(CODES))} and '**<n>'"
                )
            args = tuple(slot[id(p)] for p in v.parents)
            self.steps.append(TapeStep(op, args, slot[id(v)], code, exponent))
        self.root_slot = slot[id(root)]

        # A slot needs an adjoint when it is a parameter or depends on one.
        needs = [False] * len(self.nodes)
        for i in range(self.n_params):
            needs[i] = True
        for s in self.steps:
            needs[s.output] = any(needs[a] for a in s.inputs)
        self.needs_grad = needs

        self.backend = backend
        self._engine: Engine
        if backend == "python":
            self._engine = PythonEngine(self)
        elif backend == "numpy":
            from autograd.tape_numpy import NumpyEngine

            self._engine = NumpyEngine(self)
        else:
            raise ValueError(f"Tape(backend) must be 'python' or 'numpy', got {backend!r}")
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
        result = self._engine.run(batch, [p.data for p in self.params])
        self._batch_size = sizes[0]
        return result

    def values(self, nodes: Sequence[Value]) -> list[list[float]]:
        """Each sample's values of these graph nodes from the last `run`, one list per sample."""
        if self._batch_size is None:
            raise RuntimeError("tape.values(nodes) needs tape.run(batch) first")
        slots = []
        for v in nodes:
            if id(v) not in self._slot or self.nodes[self._slot[id(v)]] is not v:
                raise ValueError(f"tape.values: {v!r} (label {v.label!r}) is not a node of this tape")
            slots.append(self._slot[id(v)])
        return self._engine.rows(slots)

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
            weights = [real_number(w, f"tape.backward(weights[{i}])") for i, w in enumerate(weights)]
        grads = self._engine.backward(weights)
        for i, g in enumerate(grads):
            if g - g != 0.0:  # as the scalar backward: an overflowing gradient is an error, not inf
                p = self.params[i]
                raise ValueError(
                    f"tape.backward: the gradient at params[{i}] (label {p.label!r}) overflows a float: "
                    f"grad={g!r}"
                )
        for p, g in zip(self.params, grads):
            p.grad += g


def compile(root: Value, inputs: Sequence[Value], params: Sequence[Value], backend: str = "python") -> Tape:
    """Record the graph of `root` once as a `Tape` that replays it over batches of inputs.

    `inputs` are the placeholder leaves a batch fills in (one column each), `params` the leaves
    whose gradients `tape.backward()` accumulates; every other leaf is a constant, its value
    read now. Every autograd operation is supported: + - * / neg, "**<n>" and "**", exp, log,
    sqrt, tanh, sigmoid, relu, step, sign, abs and "wsum" (`weighted_sum`). `relu`, `step`,
    `sign` and `abs` re-evaluate their branch for each sample. What cannot be replayed is a
    graph whose SHAPE depended on the placeholder values (a Python `if` on `.data` while
    building it): the tape records the branch taken for the placeholders. Use one-hot target
    inputs instead of indexing by the label.

    Raises ValueError when an input or parameter is not a leaf of root's graph, when a Value is
    listed twice, or on an operation the tape does not know. `backend` is "python" (no
    dependency) or "numpy" (needs numpy).
    """
    return Tape(root, inputs, params, backend=backend)


def _leaf_list(values: Sequence[Value], name: str) -> list[Value]:
    """`values` as a list of distinct leaf Values, or a TypeError/ValueError naming the culprit."""
    if isinstance(values, Value) or not isinstance(values, Sequence):
        raise TypeError(f"compile({name}) needs a list of Values, got {type(values).__name__}")
    seen: set[int] = set()
    for i, v in enumerate(values):
        if not isinstance(v, Value):
            raise TypeError(f"compile: {name}[{i}] must be a Value, got {type(v).__name__}")
        if v.parents:
            raise ValueError(
                f"compile: {name}[{i}] (label {v.label!r}, op {v.op!r}) is not a leaf: it was computed "
                "from other Values; pass the leaf Values the graph was built from"
            )
        if id(v) in seen:
            raise ValueError(f"compile: {name}[{i}] (label {v.label!r}) is listed twice")
        seen.add(id(v))
    return list(values)


def _python_column(column: Any, index: int) -> list[float]:
    """A batch column as a list of finite floats (lists, tuples or a 1-D NumPy array)."""
    dtype = getattr(column, "dtype", None)
    if dtype is not None:  # a NumPy array: check the dtype once instead of every element
        if getattr(column, "ndim", 1) != 1 or dtype.kind not in "iuf":
            raise TypeError(
                f"tape.run(batch): column {index} must be a 1-D array of real numbers, "
                f"got dtype {dtype} with shape {getattr(column, 'shape', '?')}"
            )
        values: list[float] = [float(x) for x in column.tolist()]
    else:
        kinds = set(map(type, column))
        if not kinds <= {float, int}:
            for j, x in enumerate(column):
                if isinstance(x, bool) or not isinstance(x, numbers.Real):
                    raise TypeError(
                        f"tape.run(batch): column {index}, sample {j} must be a real number, "
                        f"got {type(x).__name__}"
                    )
        values = [float(x) for x in column] if kinds != {float} else list(column)
    total = sum(values)
    if total - total != 0.0:  # inf or nan somewhere (or a finite overflow: then check each)
        for j, x in enumerate(values):
            if not math.isfinite(x):
                raise ValueError(f"tape.run(batch): column {index}, sample {j} is not finite: {x!r}")
    return values


class PythonEngine:
    """The pure-Python back end: one flat loop over the steps per sample, on plain floats.

    Slot values live in one list per sample (parameters and constants shared, inputs, then one
    appended per step, so a step's output slot is always the list's length). Derivatives are
    recomputed in `backward` from the stored values, with the same formulas as `ops`.
    """

    def __init__(self, tape: Tape) -> None:
        """Translate the tape's steps into tuples the loops unpack."""
        self.tape = tape
        n = len(tape.nodes)
        self.trash = n  # adjoints of slots that need none go here, so the loop never branches on it
        needs = tape.needs_grad
        self.forward_code: list[tuple[int, Any, Any, Any]] = []
        self.backward_code: list[tuple[int, int, Any, Any, int, int]] = []
        for s in tape.steps:
            a = s.inputs[0]
            b = s.inputs[1] if len(s.inputs) > 1 else -1
            if s.code == WSUM:
                pairs = list(zip(s.inputs[0:-1:2], s.inputs[1::2]))
                bias = s.inputs[-1] if len(s.inputs) % 2 else -1
                if len(pairs) >= 2:
                    ws = itemgetter(*(w for w, _ in pairs))
                    xs = itemgetter(*(x for _, x in pairs))
                    self.forward_code.append((WSUM, ws, xs, bias))
                else:  # itemgetter of one index returns a float, not a tuple: use the MANY path
                    self.forward_code.append((-1, tuple(pairs), None, bias))
                w_edges = tuple((w, x) for w, x in pairs if needs[w])
                x_edges = tuple((x, w) for w, x in pairs if needs[x])
                b_target = bias if bias >= 0 and needs[bias] else -1
                if needs[s.output]:
                    self.backward_code.append((WSUM, s.output, w_edges, x_edges, b_target, -1))
                continue
            extra: Any = s.exponent if s.code == POW else b
            self.forward_code.append((s.code, a, extra, s))
            if needs[s.output] and s.code not in (STEP, SIGN):
                ta = a if needs[a] else self.trash
                tb = b if b >= 0 and needs[b] else self.trash
                self.backward_code.append((s.code, s.output, a, extra, ta, tb))
        self.backward_code.reverse()
        self.saved: list[list[float]] = []

    def run(self, columns: Sequence[Any], params: list[float]) -> list[float]:
        """Replay the steps for each sample; returns the root values and keeps every slot value."""
        rows = zip(*[_python_column(c, i) for i, c in enumerate(columns)])
        shared = params + self.tape.constants
        first = self.tape.first_step_slot
        root = self.tape.root_slot
        code = self.forward_code
        exp, log, tanh = math.exp, math.log, math.tanh
        saved: list[list[float]] = []
        out: list[float] = []
        for sample, row in enumerate(rows):
            v = shared + list(row)
            put = v.append
            try:
                for op, a, b, c in code:
                    if op == WSUM:
                        put(sum(map(mul, a(v), b(v))) + v[c] if c >= 0 else sum(map(mul, a(v), b(v))))
                    elif op == RELU:
                        x = v[a]
                        put(x if x > 0.0 else 0.0)
                    elif op == TANH:
                        put(tanh(v[a]))
                    elif op == SIGMOID:
                        x = v[a]
                        if x >= 0.0:
                            put(1.0 / (1.0 + exp(-x)))
                        else:
                            e = exp(x)
                            put(e / (1.0 + e))
                    elif op == MUL:
                        put(v[a] * v[b])
                    elif op == ADD:
                        put(v[a] + v[b])
                    elif op == SUB:
                        put(v[a] - v[b])
                    elif op == NEG:
                        put(-v[a])
                    elif op == DIV:
                        put(v[a] / v[b])
                    elif op == EXP:
                        put(exp(v[a]))
                    elif op == LOG:
                        put(log(v[a]))
                    elif op == SQRT:
                        put(ops.sqrt(v[a])[0])
                    elif op == POW:
                        put(ops.power(v[a], b)[0])
                    elif op == POWV:
                        put(ops.power_value(v[a], v[b])[0])
                    elif op == STEP:
                        put(1.0 if v[a] >= 0.0 else 0.0)
                    elif op == SIGN:
                        put(1.0 if v[a] >= 0.0 else -1.0)
                    elif op == ABS:
                        put(abs(v[a]))
                    else:  # a weighted sum of fewer than two terms
                        total = 0.0
                        for w, x in a:
                            total += v[w] * v[x]
                        put(total + v[c] if c >= 0 else total)
            except (ArithmeticError, ValueError) as error:
                step = self.tape.steps[len(v) - first]
                fail(step, [v[i] for i in step.inputs], sample, error)
            check = sum(v[first:])
            if check - check != 0.0:  # an inf or nan (a*b overflow): find it, as the scalar engine would
                for step in self.tape.steps:
                    if not math.isfinite(v[step.output]):
                        fail(step, [v[i] for i in step.inputs], sample)
            saved.append(v)
            out.append(v[root])
        self.saved = saved
        return out

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        return [[v[s] for s in slots] for v in self.saved]

    def backward(self, weights: Sequence[float] | None) -> list[float]:
        """Reverse replay per sample; parameter adjoints accumulate across the batch."""
        n = len(self.tape.nodes)
        shared = self.tape.n_params
        adj = [0.0] * (n + 1)
        zeros = [0.0] * (n + 1 - shared)
        root = self.tape.root_slot
        code = self.backward_code
        for sample, v in enumerate(self.saved):
            adj[shared:] = zeros  # interior adjoints restart; parameter adjoints keep summing
            adj[root] += 1.0 if weights is None else weights[sample]
            for op, o, a, b, ta, tb in code:
                g = adj[o]
                if g == 0.0:  # a dead relu, a satisfied hinge: nothing flows back
                    continue
                if op == WSUM:
                    for w, x in a:
                        adj[w] += v[x] * g
                    for x, w in b:
                        adj[x] += v[w] * g
                    if ta >= 0:
                        adj[ta] += g
                elif op == RELU:
                    if v[a] > 0.0:
                        adj[ta] += g
                elif op == TANH:
                    t = v[o]
                    adj[ta] += (1.0 - t * t) * g
                elif op == SIGMOID:
                    s = v[o]
                    adj[ta] += s * (1.0 - s) * g
                elif op == MUL:
                    adj[ta] += v[b] * g
                    adj[tb] += v[a] * g
                elif op == ADD:
                    adj[ta] += g
                    adj[tb] += g
                elif op == SUB:
                    adj[ta] += g
                    adj[tb] += -1.0 * g
                elif op == NEG:
                    adj[ta] += -1.0 * g
                elif op == DIV:
                    y = v[b]
                    adj[ta] += (1.0 / y) * g
                    adj[tb] += (-v[a] / (y * y)) * g
                elif op == EXP:
                    adj[ta] += v[o] * g
                elif op == LOG:
                    adj[ta] += (1.0 / v[a]) * g
                elif op == SQRT:
                    adj[ta] += (0.5 / v[o]) * g
                elif op == POW:
                    adj[ta] += ops.power(v[a], b)[1] * g
                elif op == POWV:
                    _, da, db = ops.power_value(v[a], v[b])
                    adj[ta] += da * g
                    adj[tb] += db * g
                elif op == ABS:
                    x = v[a]
                    if x > 0.0:
                        adj[ta] += g
                    elif x < 0.0:
                        adj[ta] -= g
        return adj[:shared]
