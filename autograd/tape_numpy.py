"""The NumPy back end of the tape: each group of same-kind steps runs once on (steps, B) arrays.

Steps are grouped by depth (a step's depth is one more than its deepest input's) and kind, so a
layer's weighted sums become one matrix product and its activations one array call. numpy is
imported inside the functions that need it: `autograd` itself imports nothing third-party.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autograd.tape import (
    ABS,
    ADD,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    POWV,
    RELU,
    SIGMOID,
    SIGN,
    SQRT,
    STEP,
    SUB,
    TANH,
    WSUM,
    TapeStep,
    fail,
)

if TYPE_CHECKING:
    from autograd.tape import Tape


def _numpy() -> Any:
    """The numpy module, or an ImportError naming the extra to install."""
    try:
        import numpy
    except ImportError:
        raise ImportError("the NumPy tape back end needs numpy: pip install 'axongrad[numpy]'") from None
    return numpy


def _index(rows: Sequence[int]) -> Any:
    """A slice when `rows` are consecutive (a view, no copy), else an index array."""
    np = _numpy()
    if rows and list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return np.asarray(rows, dtype=np.intp)


def _unique(rows: Sequence[int]) -> bool:
    """True when no row repeats, so `A[rows] += x` adds every contribution."""
    return len(set(rows)) == len(rows)


class _Group:
    """Steps of one kind at one depth, executed together; indices are rows of the value array."""

    def __init__(self, code: int, steps: list[TapeStep], row: list[int], scalar: list[bool]) -> None:
        """Gather the rows each operand reads and the row each output writes."""
        self.code = code
        self.steps = steps
        self.exponent = steps[0].exponent
        self.out = _index([row[s.output] for s in steps])
        self.wsum_dense = False
        if code == WSUM:
            pairs = [(s.inputs[0:-1:2], s.inputs[1::2]) for s in steps]
            ws = [[row[w] for w in p[0]] for p in pairs]
            xs = [[row[x] for x in p[1]] for p in pairs]
            self.bias = [row[s.inputs[-1]] for s in steps] if len(steps[0].inputs) % 2 else None
            self.bias_index = _index(self.bias) if self.bias is not None else None
            self.bias_unique = self.bias is None or _unique(self.bias)
            # Weights that are parameters or constants hold one value for the whole batch.
            self.scalar_weights = all(scalar[w] for p in pairs for w in p[0])
            self.w_rows = ws
            self.w_flat = [w for r in ws for w in r]
            self.w_unique = _unique(self.w_flat)
            self.x_rows = xs
            # A dense layer: every neuron reads the same inputs, so the group is one matmul.
            self.wsum_dense = self.scalar_weights and all(r == xs[0] for r in xs) and _unique(xs[0])
            np = _numpy()
            self.w_index = np.asarray(ws, dtype=np.intp)
            self.x_index = _index(xs[0]) if self.wsum_dense else np.asarray(xs, dtype=np.intp)
            self.x_unique = _unique([x for r in xs for x in r])
        else:
            self.a_rows = [row[s.inputs[0]] for s in steps]
            self.a = _index(self.a_rows)
            self.a_unique = _unique(self.a_rows)
            if len(steps[0].inputs) > 1:
                self.b_rows = [row[s.inputs[1]] for s in steps]
                self.b = _index(self.b_rows)
                self.b_unique = _unique(self.b_rows)


class NumpyEngine:
    """Replays a tape on length-B float64 arrays, one array operation per group of steps."""

    def __init__(self, tape: Tape) -> None:
        """Group the steps by depth and kind and give each group consecutive rows."""
        _numpy()
        self.tape = tape
        n_leaves = tape.first_step_slot
        depth = [0] * len(tape.nodes)
        buckets: dict[tuple[int, int, int, float], list[TapeStep]] = {}
        for s in tape.steps:
            d = 1 + max(depth[i] for i in s.inputs)
            depth[s.output] = d
            arity = len(s.inputs) if s.code == WSUM else 0
            buckets.setdefault((d, s.code, arity, s.exponent), []).append(s)
        # Rows: leaves keep their slot numbers; each group's outputs get consecutive rows.
        row = list(range(len(tape.nodes)))
        nxt = n_leaves
        keys = sorted(buckets, key=lambda k: k[0])
        for key in keys:
            for s in buckets[key]:
                row[s.output] = nxt
                nxt += 1
        scalar = [i < tape.n_params + len(tape.constants) for i in range(len(tape.nodes))]
        self.groups = [_Group(k[1], buckets[k], row, scalar) for k in keys]
        self.row = row
        self.n_rows = len(tape.nodes)
        self.needs = [False] * self.n_rows
        for slot, flag in enumerate(tape.needs_grad):
            self.needs[row[slot]] = flag
        self.values: Any = None

    # ------------------------------------------------------------ forward

    def run(self, columns: Sequence[Any], params: list[float]) -> Any:
        """Root values for the batch as a float64 array of length B; keeps every row for backward."""
        np = _numpy()
        tape = self.tape
        cols = [self._column(np, c, i) for i, c in enumerate(columns)]
        size = len(cols[0])
        values = np.empty((self.n_rows, size))
        shared = np.asarray(params + tape.constants, dtype=np.float64)
        values[: len(shared)] = shared[:, None]
        if cols:
            values[tape.input_slots[0] : tape.input_slots[-1] + 1] = np.stack(cols)
        self.values = values
        if size == 0:
            return values[self.row[tape.root_slot]].copy()
        with np.errstate(all="ignore"):
            for g in self.groups:
                self._forward(np, g, values)
        if size:
            bad = ~np.isfinite(values[tape.first_step_slot :])
            if bad.any():
                self._explain(np, values)
        self.values = values
        return values[self.row[tape.root_slot]].copy()

    @staticmethod
    def _column(np: Any, column: Any, index: int) -> Any:
        """One batch column as a 1-D float64 array, or a TypeError/ValueError naming it."""
        array = np.asarray(column)
        if array.ndim != 1 or array.dtype.kind not in "iuf":
            raise TypeError(
                f"tape.run(batch): column {index} must be a 1-D list or array of real numbers, "
                f"got dtype {array.dtype} with shape {array.shape}"
            )
        array = array.astype(np.float64, copy=False)
        finite = np.isfinite(array)
        if not finite.all():
            j = int(np.argmin(finite))
            raise ValueError(f"tape.run(batch): column {index}, sample {j} is not finite: {array[j]!r}")
        return array

    def _forward(self, np: Any, g: _Group, v: Any) -> None:
        """Compute one group's outputs into their rows, checking the scalar engine's domains."""
        code = g.code
        if code == WSUM:
            if g.wsum_dense:
                z = v[g.w_index, 0] @ v[g.x_index]
            elif g.scalar_weights:
                z = np.einsum("nk,nkb->nb", v[g.w_index, 0], v[g.x_index])
            else:
                z = (v[g.w_index] * v[g.x_index]).sum(axis=1)
            if g.bias_index is not None:
                z += v[g.bias_index]
            v[g.out] = z
            return
        a = v[g.a]
        if code == RELU:
            v[g.out] = np.maximum(a, 0.0)
        elif code == TANH:
            v[g.out] = np.tanh(a)
        elif code == SIGMOID:
            e = np.exp(-np.abs(a))
            v[g.out] = np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
        elif code == MUL:
            v[g.out] = a * v[g.b]
        elif code == ADD:
            v[g.out] = a + v[g.b]
        elif code == SUB:
            v[g.out] = a - v[g.b]
        elif code == NEG:
            v[g.out] = -a
        elif code == DIV:
            b = v[g.b]
            self._check(np, g, b == 0.0, v)
            v[g.out] = a / b
        elif code == EXP:
            self._check(np, g, a > 709.78, v)
            v[g.out] = np.exp(a)
        elif code == LOG:
            self._check(np, g, a <= 0.0, v)
            v[g.out] = np.log(a)
        elif code == SQRT:
            self._check(np, g, a <= 0.0, v)
            v[g.out] = np.sqrt(a)
        elif code == POW:
            n = g.exponent
            bad = (a == 0.0) & (n < 0 or 0 < n < 1)
            if not float(n).is_integer():
                bad |= a < 0.0
            self._check(np, g, bad, v)
            v[g.out] = np.power(a, n)
        elif code == POWV:
            self._check(np, g, a <= 0.0, v)
            v[g.out] = np.power(a, v[g.b])
        elif code == STEP:
            v[g.out] = np.where(a >= 0.0, 1.0, 0.0)
        elif code == SIGN:
            v[g.out] = np.where(a >= 0.0, 1.0, -1.0)
        elif code == ABS:
            v[g.out] = np.abs(a)

    def _check(self, np: Any, g: _Group, bad: Any, v: Any) -> None:
        """Raise the scalar engine's error for the first (step, sample) flagged in `bad`."""
        if bad.any():
            k, sample = np.unravel_index(int(np.argmax(bad)), bad.shape)
            step = g.steps[int(k)]
            fail(step, [float(v[self.row[i], sample]) for i in step.inputs], int(sample))

    def _explain(self, np: Any, v: Any) -> None:
        """Name the first step (in tape order) whose value is not finite."""
        for step in self.tape.steps:
            values = v[self.row[step.output]]
            finite = np.isfinite(values)
            if not finite.all():
                sample = int(np.argmin(finite))
                fail(step, [float(v[self.row[i], sample]) for i in step.inputs], sample)

    # ------------------------------------------------------------ backward

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        picked = self.values[[self.row[s] for s in slots]]
        return [[float(x) for x in column] for column in picked.T]

    def backward(self, weights: Sequence[float] | None) -> list[float]:
        """Adjoints for all rows at once; parameter gradients summed over the batch."""
        np = _numpy()
        tape = self.tape
        v = self.values
        if v.shape[1] == 0:
            return [0.0] * tape.n_params
        adj = np.zeros_like(v)
        summed = np.zeros(self.n_rows)  # batch-summed adjoints of scalar weights (matmul path)
        root = self.row[tape.root_slot]
        adj[root] += 1.0 if weights is None else np.asarray(weights, dtype=np.float64)
        # Overflow shows up as inf in the result, which Tape.backward turns into a clear error.
        with np.errstate(over="ignore", invalid="ignore"):
            for g in reversed(self.groups):
                if not any(self.needs[self.row[s.output]] for s in g.steps):
                    continue
                self._backward(np, g, v, adj, summed)
            p = tape.n_params
            return (adj[:p].sum(axis=1) + summed[:p]).tolist()  # type: ignore[no-any-return]

    def _backward(self, np: Any, g: _Group, v: Any, adj: Any, summed: Any) -> None:
        """Push one group's output adjoints to its inputs' rows."""
        grad = adj[g.out]
        code = g.code
        if code == WSUM:
            if g.bias_index is not None:
                self._add(np, adj, g.bias_index, g.bias_unique, grad)
            if g.scalar_weights:
                w = v[g.w_index, 0]
                if g.wsum_dense:
                    x = v[g.x_index]
                    dw = grad @ x.T
                    dx = w.T @ grad
                    self._add(np, adj, g.x_index, True, dx)
                else:
                    x = v[g.x_index]
                    dw = np.einsum("nb,nkb->nk", grad, x)
                    self._add(np, adj, g.x_index, g.x_unique, w[:, :, None] * grad[:, None, :])
                if g.w_unique:
                    summed[g.w_index] += dw
                else:
                    np.add.at(summed, g.w_index, dw)
            else:
                w = v[g.w_index]
                x = v[g.x_index]
                self._add(np, adj, g.w_index, False, x * grad[:, None, :])
                self._add(np, adj, g.x_index, False, w * grad[:, None, :])
            return
        a = v[g.a]
        out = v[g.out]
        if code == RELU:
            da = grad * (a > 0.0)
        elif code == TANH:
            da = (1.0 - out * out) * grad
        elif code == SIGMOID:
            da = out * (1.0 - out) * grad
        elif code == MUL:
            self._add(np, adj, g.b, g.b_unique, a * grad)
            da = v[g.b] * grad
        elif code == ADD:
            self._add(np, adj, g.b, g.b_unique, grad)
            da = grad
        elif code == SUB:
            self._add(np, adj, g.b, g.b_unique, -grad)
            da = grad
        elif code == NEG:
            da = -grad
        elif code == DIV:
            b = v[g.b]
            self._add(np, adj, g.b, g.b_unique, (-a / (b * b)) * grad)
            da = (1.0 / b) * grad
        elif code == EXP:
            da = out * grad
        elif code == LOG:
            da = (1.0 / a) * grad
        elif code == SQRT:
            da = (0.5 / out) * grad
        elif code == POW:
            n = g.exponent
            da = np.zeros_like(a) if n == 0 else n * np.power(a, n - 1) * grad
        elif code == POWV:
            b = v[g.b]
            self._add(np, adj, g.b, g.b_unique, out * np.log(a) * grad)
            da = b * np.power(a, b - 1) * grad
        elif code == ABS:
            da = np.sign(a) * grad
        else:  # step and sign are flat: nothing flows back
            return
        self._add(np, adj, g.a, g.a_unique, da)

    @staticmethod
    def _add(np: Any, adj: Any, index: Any, unique: bool, x: Any) -> None:
        """adj[index] += x, adding repeated rows once per occurrence."""
        if unique or isinstance(index, slice):
            adj[index] += x
        else:
            np.add.at(adj, index, x)
