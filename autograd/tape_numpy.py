"""The NumPy back end of the tape: each group of same-kind steps runs once on (steps, B) arrays.

Steps are grouped by depth (one more than the deepest input's) and by op-table row, so a layer's
activations are one call of the row's rule with `m=numpy` (the rule the scalar engine runs on
floats) and its weighted sums one matrix product. Rules that take no `m` run per sample, or in
the array form a learner gave (`vectorized=`). numpy is imported inside the functions that need
it: `autograd` itself imports nothing third-party.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd import ops
from autograd.oprecord import Op
from autograd.tape_steps import Program, TapeStep, fail


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
    """Steps of one row of the op table at one depth, executed together; indices are value-array rows."""

    def __init__(self, kind: Op, steps: list[TapeStep], row: list[int], scalar: list[bool]) -> None:
        """Gather the rows each operand reads and the row each output writes."""
        self.kind = kind
        self.steps = steps
        self.const = steps[0].const
        self.out = _index([row[s.output] for s in steps])
        self.wsum_dense = False
        self.slopes: list[slice] = []  # rows of the engine's slope array, one block per operand position
        if kind is ops.wsum:
            self._weighted_sums(steps, row, scalar)
            return
        self.arg_rows = [[row[s.inputs[j]] for s in steps] for j in range(len(steps[0].inputs))]
        self.args = [_index(r) for r in self.arg_rows]
        self.args_unique = [_unique(r) for r in self.arg_rows]

    def _weighted_sums(self, steps: list[TapeStep], row: list[int], scalar: list[bool]) -> None:
        """Index arrays for a group of weighted sums; a dense layer becomes one matrix product."""
        np = _numpy()
        pairs = [(s.inputs[0:-1:2], s.inputs[1::2]) for s in steps]
        ws = [[row[w] for w in p[0]] for p in pairs]
        xs = [[row[x] for x in p[1]] for p in pairs]
        self.bias = [row[s.inputs[-1]] for s in steps] if len(steps[0].inputs) % 2 else None
        self.bias_index = _index(self.bias) if self.bias is not None else None
        self.bias_unique = self.bias is None or _unique(self.bias)
        # Weights that are parameters or constants hold one value for the whole batch.
        self.scalar_weights = all(scalar[w] for p in pairs for w in p[0])
        self.w_flat = [w for r in ws for w in r]
        self.x_flat = [x for r in xs for x in r]
        self.w_unique = _unique(self.w_flat)
        # A dense layer: every neuron reads the same inputs, so the group is one matmul.
        self.wsum_dense = self.scalar_weights and all(r == xs[0] for r in xs) and _unique(xs[0])
        self.w_index = np.asarray(ws, dtype=np.intp)
        self.x_index = _index(xs[0]) if self.wsum_dense else np.asarray(xs, dtype=np.intp)
        self.x_unique = _unique(self.x_flat)


class NumpyEngine:
    """Replays a Program on length-B float64 arrays, one array operation per group of steps."""

    def __init__(self, program: Program) -> None:
        """Group the steps by depth and op-table row and give each group consecutive rows."""
        _numpy()
        self.program = program
        depth = [0] * len(program.nodes)
        buckets: dict[tuple[int, int, int, float | None], list[TapeStep]] = {}
        for s in program.steps:
            d = 1 + max(depth[i] for i in s.inputs)
            depth[s.output] = d
            buckets.setdefault((d, id(s.kind), len(s.inputs), s.const), []).append(s)
        # Rows: leaves keep their slot numbers; each group's outputs get consecutive rows.
        row = list(range(len(program.nodes)))
        nxt = program.first_step_slot
        keys = sorted(buckets, key=lambda k: k[0])
        for key in keys:
            for s in buckets[key]:
                row[s.output] = nxt
                nxt += 1
        scalar = [i < program.n_params + len(program.constants) for i in range(len(program.nodes))]
        self.groups = [_Group(buckets[k][0].kind, buckets[k], row, scalar) for k in keys]
        # Every non-wsum step's local derivatives live in one (edges, B) array, so a run checks
        # them all with one isfinite call.
        n_slopes = 0
        for g in self.groups:
            if g.kind is not ops.wsum:
                for _ in g.args:
                    g.slopes.append(slice(n_slopes, n_slopes + len(g.steps)))
                    n_slopes += len(g.steps)
        self.n_slopes = n_slopes
        self.slopes: Any = None
        self.row = row
        self.n_rows = len(program.nodes)
        # A parameter or constant is one number for the whole batch. The matrix products read it
        # from column 0 only, so only rows that other operations read whole get all B copies
        # (a 2-256-256-1 network over 1,000 samples filled 535 MB of copies before).
        self.n_shared = program.n_params + len(program.constants)
        whole: set[int] = {row[program.root_slot]}
        for g in self.groups:
            if g.kind is not ops.wsum:
                whole.update(r for rows in g.arg_rows for r in rows)
                continue
            whole.update(g.x_flat)
            whole.update(g.bias or ())
            if not g.scalar_weights:
                whole.update(g.w_flat)
        np = _numpy()
        self.whole = np.asarray(sorted(r for r in whole if r < self.n_shared), dtype=np.intp)
        self.whole_params = self.whole[self.whole < program.n_params]
        self.needs = [False] * self.n_rows
        for slot, flag in enumerate(program.needs_grad):
            self.needs[row[slot]] = flag
        self.values: Any = None

    # ------------------------------------------------------------ forward

    def run(self, columns: Sequence[Any], params: list[float]) -> Any:
        """Root values for the batch as a float64 array of length B; keeps every row for backward."""
        np = _numpy()
        program = self.program
        cols = [self._column(np, c, i) for i, c in enumerate(columns)]
        size = len(cols[0])
        values = np.empty((self.n_rows, size))
        self.values = values
        self.slopes = slopes = np.empty((self.n_slopes, size))
        if size == 0:
            return values[self.row[program.root_slot]].copy()
        shared = np.asarray(params + program.constants, dtype=np.float64)
        values[: self.n_shared, 0] = shared  # what the matrix products read
        values[self.whole] = shared[self.whole, None]  # rows other operations read whole
        values[program.input_slots[0] : program.input_slots[-1] + 1] = np.stack(cols)
        with np.errstate(all="ignore"):
            for g in self.groups:
                self._forward(np, g, values, slopes)
        if not (np.isfinite(values[program.first_step_slot :]).all() and np.isfinite(slopes).all()):
            self._explain(np, values, slopes)
        return values[self.row[program.root_slot]].copy()

    @staticmethod
    def _column(np: Any, column: Any, index: int) -> Any:
        """One batch column as a 1-D float64 array, or a TypeError/ValueError naming it."""
        if not hasattr(column, "dtype"):  # a list: bools and huge ints would convert silently or oddly
            kinds = set(map(type, column))
            if bool in kinds:
                raise TypeError(f"tape.run(batch): column {index} holds a bool; pass numbers (1.0, not True)")
            if int in kinds and any(type(x) is int and not -2**1023 < x < 2**1024 for x in column):
                raise ValueError(f"tape.run(batch): column {index} holds an int too large for a float")
        try:
            array = np.asarray(column)
        except OverflowError:
            raise ValueError(f"tape.run(batch): column {index} holds an int too large for a float") from None
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

    def _forward(self, np: Any, g: _Group, v: Any, slopes: Any) -> None:
        """Compute one group's outputs into their rows (and keep its slopes), checking the row's domain."""
        if g.kind is ops.wsum:
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
        args = [v[a] for a in g.args]
        if g.const is not None:
            args.append(g.const)
        for ok, _message, _error in g.kind.domain:
            good = np.asarray(ok(*args))
            if not good.all():
                self._fail_first(np, g, ~np.broadcast_to(good, args[0].shape), v)
        result = self._rule(np, g.kind, args, g.const)
        v[g.out] = result[0]
        for rows, d in zip(g.slopes, result[1:]):
            slopes[rows] = d  # a constant slope (1.0 of "+") broadcasts

    @staticmethod
    def _rule(np: Any, kind: Op, args: list[Any], const: float | None) -> Sequence[Any]:
        """The row's rule on arrays: written once with `m`, a learner's array form, or per sample."""
        if kind.takes_m:
            return kind.fn(*args, m=np)  # type: ignore[no-any-return]
        if kind.vectorized is not None:
            return kind.vectorized(*args)  # type: ignore[no-any-return]
        arrays = args if const is None else args[:-1]
        per_sample = [kind.fn(*(float(a[i, j]) for a in arrays), *([] if const is None else [const]))
                      for i in range(arrays[0].shape[0]) for j in range(arrays[0].shape[1])]
        columns = np.asarray(per_sample, dtype=np.float64).T
        return [c.reshape(arrays[0].shape) for c in columns]

    def _fail_first(self, np: Any, g: _Group, bad: Any, v: Any) -> None:
        """Raise the scalar engine's error for the first (step, sample) flagged in `bad`."""
        k, sample = np.unravel_index(int(np.argmax(bad)), bad.shape)
        step = g.steps[int(k)]
        fail(step, [float(v[self.row[i], sample]) for i in step.inputs], int(sample))

    def _explain(self, np: Any, v: Any, slopes: Any) -> None:
        """Name the first step (in tape order) whose value or slope is not finite."""
        position = {id(s): (g, k) for g in self.groups for k, s in enumerate(g.steps)}
        for step in self.program.steps:
            g, k = position[id(step)]
            finite = np.isfinite(v[self.row[step.output]])
            for rows in g.slopes:
                finite = finite & np.isfinite(slopes[rows.start + k])
            if not finite.all():
                sample = int(np.argmin(finite))
                fail(step, [float(v[self.row[i], sample]) for i in step.inputs], sample)

    # ------------------------------------------------------------ backward

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        rows = [self.row[s] for s in slots]
        picked = self.values[rows]
        for k, r in enumerate(rows):
            if r < self.n_shared:  # a parameter or constant: column 0 holds it for every sample
                picked[k] = self.values[r, 0]
        return [[float(x) for x in column] for column in picked.T]

    def backward(self, weights: Sequence[float] | None) -> list[float]:
        """Adjoints for all rows at once; parameter gradients summed over the batch."""
        np = _numpy()
        program = self.program
        v = self.values
        if v.shape[1] == 0:
            return [0.0] * program.n_params
        adj = np.zeros_like(v)
        summed = np.zeros(self.n_rows)  # batch-summed adjoints of scalar weights (matmul path)
        adj[self.row[program.root_slot]] += 1.0 if weights is None else np.asarray(weights, dtype=np.float64)
        # Overflow shows up as inf in the result, which Tape.backward turns into a clear error.
        with np.errstate(over="ignore", invalid="ignore"):
            for g in reversed(self.groups):
                if not any(self.needs[self.row[s.output]] for s in g.steps):
                    continue
                if g.kind is ops.wsum:
                    self._backward_wsum(np, g, v, adj, summed)
                    continue
                grad = adj[g.out]
                for index, unique, rows in zip(g.args, g.args_unique, g.slopes):
                    self._add(np, adj, index, unique, self.slopes[rows] * grad)
            grads = summed[: program.n_params].copy()
            grads[self.whole_params] += adj[self.whole_params].sum(axis=1)  # other rows stayed 0
            return grads.tolist()  # type: ignore[no-any-return]

    def _backward_wsum(self, np: Any, g: _Group, v: Any, adj: Any, summed: Any) -> None:
        """Push a group of weighted sums' adjoints: d/dw = x, d/dx = w, d/db = 1 (as ops.wsum says)."""
        grad = adj[g.out]
        if g.bias_index is not None:
            self._add(np, adj, g.bias_index, g.bias_unique, grad)
        if not g.scalar_weights:
            w = v[g.w_index]
            x = v[g.x_index]
            self._add(np, adj, g.w_index, False, x * grad[:, None, :])
            self._add(np, adj, g.x_index, False, w * grad[:, None, :])
            return
        w = v[g.w_index, 0]
        x = v[g.x_index]
        if g.wsum_dense:
            dw = grad @ x.T
            self._add(np, adj, g.x_index, True, w.T @ grad)
        else:
            dw = np.einsum("nb,nkb->nk", grad, x)
            self._add(np, adj, g.x_index, g.x_unique, w[:, :, None] * grad[:, None, :])
        if g.w_unique:
            summed[g.w_index] += dw
        else:
            np.add.at(summed, g.w_index, dw)

    @staticmethod
    def _add(np: Any, adj: Any, index: Any, unique: bool, x: Any) -> None:
        """adj[index] += x, adding repeated rows once per occurrence."""
        if unique or isinstance(index, slice):
            adj[index] += x
        else:
            np.add.at(adj, index, x)
