"""The NumPy back end of the tape: each group of same-kind steps runs once on (steps, B) arrays.

Steps are grouped by depth (one more than the deepest input's) and by op-table row, so a layer's
activations are one call of the row's rule with `m=numpy` (the rule the scalar engine runs on
floats) and its weighted sums one matrix product (a ones row after a dense layer's inputs folds
its bias into the product: `_BiasFold`). Rules that take no `m` run per sample, or in
the array form a learner gave (`vectorized=`); a built-in row with an `into` form (relu, *) writes
its rule straight into the value and slope rows. Every number lives in buffers made once per
batch size, and each group's work is then bound to its views as a few calls (`forward_calls`,
`backward_calls`): the forward pass fills the values and slopes and checks them with one sum; the
backward pass writes each adjoint row's first contribution rather than adding it to a zeroed row
(`_FirstWrites` plans which). numpy is imported inside the functions that need it: `autograd`
itself imports nothing third-party.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn

from autograd.checks import needs, real_numbers
from autograd.oprecord import Op
from autograd.tape_forms import checked_arrays
from autograd.tape_steps import Program, TapeStep, fail, fail_on_arrays, layers, rule_columns

RULE_BLOCK = 8_000
"""Numbers per call of a row's rule (steps x samples): its temporaries stay small and in cache."""


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


def _strided(np: Any, base: Any, index: Any) -> Any:
    """A view of `base` equal to `base[index]` when the indices step regularly (rows and columns), else None.

    nn's parameters come neuron by neuron (w0..wK-1, b), so a layer's weight matrix is `base` read
    with a row stride of K + 1: one view made at compile time, read by the matrix product as it is
    (BLAS takes a leading dimension) and added into in place, instead of a gather every run.
    """
    index = np.asarray(index, dtype=np.intp)
    if index.size == 0 or index.ndim not in (1, 2):
        return None
    grid = index.reshape(index.shape[0], -1)
    start = int(grid[0, 0])
    s0 = int(grid[1, 0]) - start if grid.shape[0] > 1 else 1
    s1 = int(grid[0, 1]) - start if grid.shape[1] > 1 else 1
    if s0 <= 0 or s1 <= 0:
        return None
    expected = start + s0 * np.arange(grid.shape[0])[:, None] + s1 * np.arange(grid.shape[1])[None, :]
    if not np.array_equal(grid, expected):
        return None
    size = base.itemsize
    strides = (s0 * size, s1 * size)[: index.ndim] if index.ndim == 2 else (s0 * size,)
    return np.lib.stride_tricks.as_strided(base[start:], shape=index.shape, strides=strides)


def _bias_fold(
    np: Any, steps: Sequence[TapeStep], row: Sequence[int], engine: NumpyEngine
) -> tuple[list[int], Any] | None:
    """A dense layer's input rows and its [W | b] parameter indices (neurons, inputs + 1) when its
    bias can be folded into its product (see `_BiasFold`), else None.

    It can when every neuron reads the same consecutive value rows and has parameters for weights
    and bias, listed weights then bias (nn's order), each parameter once, so that [W | b] is one
    regular view of the parameters whose rows are adjacent entries.
    """
    if not steps[0].kind.weighted_sum or len(steps[0].inputs) % 2 == 0 or len(steps[0].inputs) < 3:
        return None
    x = [row[i] for i in steps[0].inputs[1::2]]
    if any(s.inputs[1::2] != steps[0].inputs[1::2] for s in steps):
        return None
    if x != list(range(x[0], x[0] + len(x))) or x[0] < engine.n_shared:
        return None
    grid = np.asarray([[*s.inputs[0:-1:2], s.inputs[-1]] for s in steps], dtype=np.intp)
    if int(grid.max()) >= engine.program.n_params or not _unique(grid.ravel().tolist()):
        return None
    view = _strided(np, engine.shared, grid)
    if view is None or view.strides[1] != view.itemsize:
        return None
    return x, grid


class _BiasFold:
    """A ones row after a dense layer's inputs folds its bias into the product: [W | b] @ [x; 1].

    NOTE: BLAS adds a layer's terms in its own order and rounding, folded or not (the fold adds the
    bias to them), so where the scalar engine's sum is exactly 0, at a relu's kink, a product can
    land a rounding away on the other side, and relu's slope differs there. Values agree to 1e-12;
    at a kink no engine built on BLAS matches the scalar engine's choice bit for bit.

    nn lists a neuron's parameters w0..wK-1, b, so [W | b] is one view of the parameters (and of
    their gradients), and the engine leaves a row of ones right after the layer's input rows. The
    forward pass is then one matrix product, and the weights' and bias's gradients another,
    adjoint @ [x; 1]^T: the bias add and the bias's batch sum are not separate calls.
    """

    def __init__(self, np: Any, grid: Any, inputs: slice, engine: NumpyEngine) -> None:
        """Views of [W | b] in the parameters and their gradients; `inputs`: the x rows, then the ones row."""
        self.params: list[int] = grid.ravel().tolist()
        self.shared = _strided(np, engine.shared, grid)
        self.grad = _strided(np, engine.grad, grid)
        self.inputs = inputs
        self.made = np.empty(grid.shape)  # the gradients when they are added, not written
        self.write = False  # set by plan_writes
        self.x_ones: Any = None  # set by bind

    def plan_writes(self, grad: _FirstWrites) -> None:
        """Claim the weights' and bias's gradients."""
        self.write = grad.claim(self.params, True)

    def bind(self, values: Any) -> None:
        """The view of the input rows and the ones row after them."""
        self.x_ones = values[self.inputs]

    def forward_call(self, np: Any, out: Any) -> Callable[[], object]:
        """sum_k w_k x_k + b for every neuron into `out`, as one call: [W | b] @ [x; 1] (for one
        sample, W @ x, then + b)."""
        if out.shape[1] == 1:
            # BLAS's matrix-vector kernel may round w x + b once (a fused multiply-add), where the
            # scalar engine rounds twice; at a relu's kink (w x = -b exactly) the one rounding
            # crosses it. The unfolded order is the scalar engine's there.
            return partial(self._one_sample, np, out)
        return partial(np.matmul, self.shared, self.x_ones, out)

    def _one_sample(self, np: Any, out: Any) -> None:
        """W @ x, then + b, for a batch of one sample."""
        np.add(np.matmul(self.shared[:, :-1], self.x_ones[:-1], out=out), self.shared[:, -1:], out=out)

    def backward(self, np: Any, adjoint: Any) -> None:
        """Weights' and bias's gradients (d/dw = x, d/db = 1): adjoint @ [x; 1]^T."""
        if self.write:
            np.matmul(adjoint, self.x_ones.T, out=self.grad)
        else:
            self.grad += np.matmul(adjoint, self.x_ones.T, out=self.made)


class _FirstWrites:
    """Plans the backward pass's writes into one array (adjoint rows, or parameter gradients).

    Contributions come in the order the backward pass makes them. The first one to a row is
    written with `=` (`out=`), so neither the zeroing of every row before each pass nor an add is
    paid; a row whose first contribution must be added (it is gathered, or only part of its block
    is new) or that is read without any contribution is zeroed at the start of the pass instead.
    """

    def __init__(self, written: Sequence[int] = ()) -> None:
        """Nothing claimed yet; `written` rows are set before the pass (the root's seeds)."""
        self.written: set[int] = set(written)
        self.zero: set[int] = set()

    def claim(self, rows: Sequence[int], writable: bool) -> bool:
        """Record one contribution to `rows`; True when it can be written (a view, every row new)."""
        write = writable and _unique(rows) and self.written.isdisjoint(rows)
        if not write:
            self.read(rows)
        self.written.update(rows)
        return write

    def read(self, rows: Sequence[int]) -> None:
        """`rows` are read (or added into) here: those without a contribution yet must start at zero."""
        self.zero.update(r for r in rows if r not in self.written)


class _Block:
    """One block of a group's rule call: the operand, output and slope views it reads and writes."""

    __slots__ = ("rows", "samples", "operands", "gathers", "gathered", "out", "slopes", "held")

    def __init__(
        self,
        rows: slice,
        samples: slice,
        operands: list[Any],
        gathers: list[Any],
        out: Any,
        slopes: list[Any],
    ) -> None:
        """Keep the views; `gathers[j]` indexes the values for an operand read by gathering, else None."""
        self.rows = rows
        self.samples = samples
        self.operands = operands
        self.gathers = gathers
        self.gathered = any(g is not None for g in gathers)
        self.out = out
        self.slopes = slopes
        self.held: list[float | None] = [None] * len(slopes)  # the constant each slope view holds


class _Group:
    """Steps of one row of the op table at one depth, executed together; indices are value-array rows.

    `_Elementwise` (one call of the row's rule) and `_WeightedSums` (matrix products) say how the
    group runs; the engine reads every group through the methods below.
    """

    def __init__(self, kind: Op, steps: list[TapeStep], engine: NumpyEngine) -> None:
        """The row each output writes and whether any of them leads to a parameter."""
        row = engine.row
        self.kind = kind
        self.steps = steps
        self.const = steps[0].const
        self.out_rows = [row[s.output] for s in steps]
        self.out = _index(self.out_rows)
        self.needed = any(engine.needs[r] for r in self.out_rows)
        self.slopes: list[slice] = []  # rows of the engine's slope array, one block per operand position

    def place_slopes(self, start: int) -> int:
        """Give each operand position a block of slope rows from `start`; returns the next free row."""
        return start

    def plan_writes(self, adj: _FirstWrites, grad: _FirstWrites) -> None:
        """Claim this group's backward contributions, in the order `backward` makes them."""
        raise NotImplementedError

    def rows_read_whole(self) -> list[int]:
        """Value rows this group reads with all B samples (a parameter read as one number is not)."""
        raise NotImplementedError

    def scratch_rows(self) -> int:
        """Rows of the engine's scratch buffer this group's backward products need."""
        raise NotImplementedError

    def bind(self, values: Any, slopes: Any, adj: Any, scratch: Any) -> None:
        """Views of this group's rows in the engine's buffers (made once per batch size)."""
        self.out_values = values[self.out]
        self.out_adj = adj[self.out]
        self.product = scratch[: self.scratch_rows()]

    def forward(self, engine: NumpyEngine, np: Any) -> None:
        """Compute the group's outputs into their rows (and keep its slopes)."""
        raise NotImplementedError

    def backward(self, engine: NumpyEngine, np: Any) -> None:
        """Push the group's adjoints to the rows it read (only those that depend on a parameter)."""
        raise NotImplementedError

    def forward_calls(self, engine: NumpyEngine, np: Any) -> list[Callable[[], object]]:
        """`forward` as calls with their views bound (after `bind`); a group of one NumPy call gives it."""
        return [partial(self.forward, engine, np)]

    def backward_calls(self, engine: NumpyEngine, np: Any) -> list[Callable[[], object]]:
        """`backward` as calls with their views bound (after `bind`): its NumPy calls where they are fixed."""
        return [partial(self.backward, engine, np)]


class _Elementwise(_Group):
    """Steps of one elementwise row (relu, +, a learner's op): its rule runs once per (steps, B) block."""

    def __init__(self, kind: Op, steps: list[TapeStep], engine: NumpyEngine) -> None:
        """Gather the rows each operand reads."""
        super().__init__(kind, steps, engine)
        row = engine.row
        self.into = kind.into  # the row's rule written into our arrays, when it has that form
        self.arg_rows = [[row[s.inputs[j]] for s in steps] for j in range(len(steps[0].inputs))]
        self.args = [_index(r) for r in self.arg_rows]
        self.args_unique = [_unique(r) for r in self.arg_rows]
        self.arg_needs = [any(engine.needs[r] for r in rows) for rows in self.arg_rows]
        self.arg_writes = [False] * len(self.args)  # set by plan_writes

    def place_slopes(self, start: int) -> int:
        """Give each operand position a block of slope rows from `start`; returns the next free row."""
        for _ in self.args:
            self.slopes.append(slice(start, start + len(self.steps)))
            start += len(self.steps)
        return start

    def plan_writes(self, adj: _FirstWrites, grad: _FirstWrites) -> None:
        """Claim this group's backward contributions, in the order `backward` makes them."""
        adj.read(self.out_rows)  # its adjoints are complete when it runs
        self.arg_writes = [
            needs and adj.claim(rows, isinstance(index, slice))
            for rows, index, needs in zip(self.arg_rows, self.args, self.arg_needs)
        ]

    def rows_read_whole(self) -> list[int]:
        """Value rows this group reads with all B samples (a parameter read as one number is not)."""
        return [r for rows in self.arg_rows for r in rows]

    def scratch_rows(self) -> int:
        """Rows of the engine's scratch buffer this group's backward products need."""
        return len(self.steps)  # slope * adjoint, one row per step

    def bind(self, values: Any, slopes: Any, adj: Any, scratch: Any) -> None:
        """Views of the operand, output and slope rows; the blocks the rule runs on."""
        super().bind(values, slopes, adj, scratch)
        self.slope_views = [slopes[rows] for rows in self.slopes]
        # For each operand position that leads to a parameter: its slope rows, the adjoint rows its
        # products go to (a view when they are consecutive, else None), their index, unique, and
        # whether the product is written there (the rows' first contribution) rather than added.
        self.pushes = [
            (self.slope_views[j], adj[i] if isinstance(i, slice) else None, i, self.args_unique[j],
             self.arg_writes[j])
            for j, i in enumerate(self.args)
            if self.arg_needs[j]
        ]
        self.plan = [self._block(values, rows, samples) for rows, samples in self._blocks(values.shape[1])]

    def _blocks(self, size: int) -> list[tuple[slice, slice]]:
        """(steps, samples) blocks of at most RULE_BLOCK numbers that cover the group's (steps, B) rows.

        The rule runs once per block: its temporaries (relu's rule makes four) stay small enough to
        be reused from the allocator's free lists and to stay in cache, instead of being fresh memory
        that page-faults at every call when B is large. Blocks take whole rows of samples while a
        row fits (each operand block is then one contiguous piece of memory), else a row at a time
        in pieces of samples. Elementwise, so the numbers are the same as in one call. A row's
        `into` form makes no temporaries: it runs on the whole group at once.
        """
        steps = len(self.steps)
        if self.into is not None and all(isinstance(i, slice) for i in self.args):
            return [(slice(0, steps), slice(0, size))]
        if size <= RULE_BLOCK:
            height = max(1, RULE_BLOCK // max(1, size))
            return [(slice(k, min(k + height, steps)), slice(0, size)) for k in range(0, steps, height)]
        return [
            (slice(k, k + 1), slice(i, min(i + RULE_BLOCK, size)))
            for k in range(steps)
            for i in range(0, size, RULE_BLOCK)
        ]

    def _block(self, values: Any, rows: slice, samples: slice) -> _Block:
        """One block's operand views (or what to gather where an operand's rows are not consecutive),
        output view and slope views in the engine's buffers."""
        operands: list[Any] = []
        gathers: list[Any] = []
        for index in self.args:
            if isinstance(index, slice):
                operands.append(values[index][rows, samples])
                gathers.append(None)
            else:
                operands.append(None)
                gathers.append((index[rows], samples))
        slopes = [view[rows, samples] for view in self.slope_views]
        return _Block(rows, samples, operands, gathers, self.out_values[rows, samples], slopes)

    # ------------------------------------------------------------ forward

    def forward(self, engine: NumpyEngine, np: Any) -> None:
        """Compute the group's outputs into their rows (and keep its slopes), checking the row's domain."""
        kind, const, into = self.kind, self.const, self.into
        for block in self.plan:
            args = block.operands
            if block.gathered:
                args = [a if g is None else engine.values[g] for a, g in zip(args, block.gathers)]
            if const is not None:
                args = [*args, const]
            if kind.domain:
                self._check_domain(engine, np, args, block)
            if into is not None:
                into(*args, block.out, *block.slopes, m=np)
                continue
            try:
                result = _rule(np, kind, args, const)
                if not kind.builtin:  # a learner's result: the right number of real arrays
                    shape = args[0].shape
                    result = checked_arrays(np, kind, result, len(self.args), shape, _form(kind))
            except Exception as error:
                engine.fail_rule(self, error, _form(kind))
            block.out[...] = result[0]
            for k, (view, d) in enumerate(zip(block.slopes, result[1:])):
                # A constant slope (the 1.0 of "+") is the same float object at every run: written once.
                if d is not block.held[k]:
                    view[...] = d
                    block.held[k] = d if isinstance(d, float) else None

    def _check_domain(self, engine: NumpyEngine, np: Any, args: list[Any], block: _Block) -> None:
        """The scalar engine's error for the first (step, sample) of `block` outside the row's domain."""
        for ok, _message, _error in self.kind.domain:
            try:
                good = np.asarray(ok(*args))
            except Exception as error:  # a learner's check may raise anything: name the op and sample
                engine.fail_rule(self, error, "domain check")
            if not good.all():
                engine.fail_first(np, self, ~np.broadcast_to(good, args[0].shape), block)

    # ------------------------------------------------------------ backward

    def backward(self, engine: NumpyEngine, np: Any) -> None:
        """Push the group's adjoints to the rows it read (only those that depend on a parameter)."""
        grad = self.out_adj
        for slopes, view, index, unique, write in self.pushes:
            if write:  # the rows' first contribution: the product goes straight there
                np.multiply(slopes, grad, out=view)
                continue
            product = np.multiply(slopes, grad, out=self.product)
            if view is not None:
                view += product
            else:
                _add(np, engine.adj, index, unique, product)

    def forward_calls(self, engine: NumpyEngine, np: Any) -> list[Callable[[], object]]:
        """The row's `into` form on the whole group when nothing else is to do (no gather, constant or
        domain check), else `forward`."""
        block = self.plan[0] if len(self.plan) == 1 else None
        if self.into is None or block is None or block.gathered or self.const is not None or self.kind.domain:
            return super().forward_calls(engine, np)
        return [partial(self.into, *block.operands, block.out, *block.slopes, m=np)]

    def backward_calls(self, engine: NumpyEngine, np: Any) -> list[Callable[[], object]]:
        """slope * adjoint written into each operand's adjoint rows when every product is written
        there (their first contribution), else `backward`."""
        if not all(write for *_, write in self.pushes):
            return super().backward_calls(engine, np)
        return [partial(np.multiply, slopes, self.out_adj, view) for slopes, view, *_ in self.pushes]


class _WeightedSums(_Group):
    """A group of weighted sums `sum_k w_k x_k + b`: a dense layer is one matrix product (its bias
    folded in where `_BiasFold` applies)."""

    def __init__(self, kind: Op, steps: list[TapeStep], engine: NumpyEngine) -> None:
        """Index arrays for a group of weighted sums; a dense layer becomes one matrix product."""
        super().__init__(kind, steps, engine)
        np = _numpy()
        row = engine.row
        ws = [list(map(row.__getitem__, s.inputs[0:-1:2])) for s in steps]
        xs = [list(map(row.__getitem__, s.inputs[1::2])) for s in steps]
        has_bias = len(steps[0].inputs) % 2 == 1
        self._bias_rows(np, [row[s.inputs[-1]] for s in steps] if has_bias else None, engine)
        self._weight_rows(np, ws, engine)
        self.x_flat = [x for r in xs for x in r]
        self.x_needs = any(map(engine.needs.__getitem__, self.x_flat))
        self.x_unique = _unique(self.x_flat)
        # A dense layer: every neuron reads the same inputs, so the group is one matmul.
        self.dense = self.scalar_weights and all(r == xs[0] for r in xs) and _unique(xs[0])
        self.x_index = _index(xs[0]) if self.dense else np.asarray(xs, dtype=np.intp)
        self.bias_write = self.x_write = self.w_write = False  # set by plan_writes
        self.fold: _BiasFold | None = None
        foldable = _bias_fold(np, steps, row, engine)
        if foldable is not None and foldable[0][-1] + 1 in engine.ones_rows:
            x, grid = foldable
            self.fold = _BiasFold(np, grid, slice(x[0], x[-1] + 2), engine)  # x rows and the ones row
        # An unfolded dense layer's weight gradient (neurons, inputs) is made here, not allocated
        # every run (a folded one's is made with its bias's, by the fold).
        self.dw = np.empty(self.w_index.shape) if self.dense and self.fold is None else None

    def _bias_rows(self, np: Any, bias: list[int] | None, engine: NumpyEngine) -> None:
        """Where the group's biases are read and their gradients added (None: sums without bias)."""
        self.bias = bias
        self.bias_index = _index(bias) if bias is not None else None
        self.bias_unique = bias is None or _unique(bias)
        self.bias_needs = bias is not None and any(engine.needs[b] for b in bias)
        # A bias that is a parameter or constant is read from `engine.shared` (a view when regular).
        self.scalar_bias = bias is not None and all(b < engine.n_shared for b in bias)
        self.bias_shared = self.bias_grad = None
        if self.scalar_bias and bias is not None:
            self.bias_index = np.asarray(bias, dtype=np.intp)
            self.bias_shared = _strided(np, engine.shared, bias)
            if self.bias_shared is not None:
                self.bias_shared = self.bias_shared[:, None]  # a column: added to every sample
            if self.bias_unique:
                self.bias_grad = _strided(np, engine.grad, bias)

    def _weight_rows(self, np: Any, ws: list[list[int]], engine: NumpyEngine) -> None:
        """Where the group's weights are read; parameters or constants as one (neurons, inputs) matrix."""
        self.w_flat = [w for r in ws for w in r]
        self.w_unique = _unique(self.w_flat)
        self.w_needs = any(map(engine.needs.__getitem__, self.w_flat))
        self.w_index = np.asarray(ws, dtype=np.intp)
        # Weights that are parameters or constants hold one value for the whole batch.
        self.scalar_weights = max(self.w_flat, default=-1) < engine.n_shared
        self.w_shared = self.w_grad = None
        if self.scalar_weights:
            self.w_shared = _strided(np, engine.shared, self.w_index)
            if self.w_unique:
                self.w_grad = _strided(np, engine.grad, self.w_index)
        # A matrix product written into a view whose rows' entries (a neuron's weights) are not adjacent
        # (parameters listed input by input) sums in another order than into a contiguous array and
        # would change the bits: such a layer's weight gradient is made in `dw` first.
        self.w_grad_direct = self.w_grad is not None and self.w_grad.strides[-1] == self.w_grad.itemsize

    def plan_writes(self, adj: _FirstWrites, grad: _FirstWrites) -> None:
        """Claim this group's backward contributions, in the order `backward` makes them."""
        adj.read(self.out_rows)  # its adjoints are complete when it runs
        if self.fold is not None:
            self.fold.plan_writes(grad)
            self.bias_write = self.w_write = self.fold.write
        elif self.bias is not None and self.bias_needs:
            into = grad if self.scalar_bias else adj
            self.bias_write = into.claim(self.bias, self.scalar_bias and self.bias_grad is not None)
        if not self.scalar_weights:
            adj.claim(self.w_flat, False)
            adj.claim(self.x_flat, False)
            return
        if self.x_needs:  # a dense layer's product W^T @ adjoint has one row per input
            inputs = self.x_flat[: len(self.x_flat) // len(self.steps)] if self.dense else self.x_flat
            self.x_write = adj.claim(inputs, isinstance(self.x_index, slice))
        if self.w_needs and self.fold is None:
            self.w_write = grad.claim(self.w_flat, self.w_grad is not None)

    def rows_read_whole(self) -> list[int]:
        """Value rows this group reads with all B samples (a parameter read as one number is not)."""
        bias = [] if self.scalar_bias or self.bias is None else self.bias
        return [*self.x_flat, *bias, *([] if self.scalar_weights else self.w_flat)]

    def scratch_rows(self) -> int:
        """Rows of the engine's scratch buffer this group's backward products need."""
        return len(self.x_flat) // len(self.steps) if self.dense else 0  # W^T @ adjoint: a row per input

    def bind(self, values: Any, slopes: Any, adj: Any, scratch: Any) -> None:
        """Views of the inputs' values and adjoints when their rows are consecutive."""
        super().bind(values, slopes, adj, scratch)
        consecutive = isinstance(self.x_index, slice)
        self.x_values = values[self.x_index] if consecutive else None
        self.x_adj = adj[self.x_index] if consecutive else None  # written or added into in place
        if self.fold is not None:
            self.fold.bind(values)

    # ------------------------------------------------------------ forward

    def _weight_matrix(self, engine: NumpyEngine) -> Any:
        """The (neurons, inputs) weight matrix of a group whose weights are parameters or constants."""
        return self.w_shared if self.w_shared is not None else engine.shared[self.w_index]

    def forward(self, engine: NumpyEngine, np: Any) -> None:
        """sum_k w_k x_k + b for every neuron of the group: one matmul for a dense layer."""
        v = engine.values
        out = self.out_values
        if self.fold is not None:
            self.fold.forward_call(np, out)()
            return
        if self.dense:
            x = self.x_values if self.x_values is not None else v[self.x_index]
            np.matmul(self._weight_matrix(engine), x, out=out)
        elif self.scalar_weights:
            out[...] = np.einsum("nk,nkb->nb", self._weight_matrix(engine), v[self.x_index])
        else:
            out[...] = (v[self.w_index] * v[self.x_index]).sum(axis=1)
        if self.bias_index is None:
            return
        if self.bias_shared is not None:
            np.add(out, self.bias_shared, out=out)
        elif self.scalar_bias:
            np.add(out, engine.shared[self.bias_index, None], out=out)
        else:
            np.add(out, v[self.bias_index], out=out)

    # ------------------------------------------------------------ backward

    def backward(self, engine: NumpyEngine, np: Any) -> None:
        """Push a group of weighted sums' adjoints: d/dw = x, d/dx = w, d/db = 1 (the weighted-sum rule)."""
        grad = self.out_adj
        adj, v = engine.adj, engine.values
        if self.fold is not None:
            self.fold.backward(np, grad)
        elif self.bias_index is not None and self.bias_needs:
            if not self.scalar_bias:
                _add(np, adj, self.bias_index, self.bias_unique, grad)
            elif self.bias_write:
                np.add.reduce(grad, axis=1, out=self.bias_grad)
            elif self.bias_grad is not None:
                self.bias_grad += np.add.reduce(grad, axis=1)
            else:
                np.add.at(engine.grad, self.bias_index, np.add.reduce(grad, axis=1))
        if not self.scalar_weights:
            w = v[self.w_index]
            x = v[self.x_index]
            _add(np, adj, self.w_index, False, x * grad[:, None, :])
            _add(np, adj, self.x_index, False, w * grad[:, None, :])
            return
        w = self._weight_matrix(engine)
        if self.dense:
            x = self.x_values if self.x_values is not None else v[self.x_index]
            if self.x_needs:
                times = self._times_for_inputs(np)
                if self.x_write:  # the inputs' first contribution: written straight into their rows
                    times(w.T, grad, out=self.x_adj)
                elif self.x_adj is not None:
                    self.x_adj += times(w.T, grad, out=self.product)
                else:
                    _add(np, adj, self.x_index, True, times(w.T, grad, out=self.product))
            if self.w_needs and self.fold is None:
                # The weight gradient goes straight into the gradient array (BLAS writes the strided
                # view) when a neuron's weights are adjacent in it; else it is made in dw, then copied.
                if self.w_write and self.w_grad_direct:
                    np.matmul(grad, x.T, out=self.w_grad)
                elif self.w_write and self.w_grad is not None:
                    self.w_grad[...] = np.matmul(grad, x.T, out=self.dw)
                else:
                    self._add_dw(engine, np, np.matmul(grad, x.T, out=self.dw))
            return
        x = v[self.x_index]
        if self.x_needs:
            _add(np, adj, self.x_index, self.x_unique, w[:, :, None] * grad[:, None, :])
        if self.w_needs:
            dw = np.einsum("nb,nkb->nk", grad, x)
            if self.w_write and self.w_grad is not None:
                self.w_grad[...] = dw
            else:
                self._add_dw(engine, np, dw)

    def _times_for_inputs(self, np: Any) -> Any:
        """The product W^T @ adjoint is made with: for one neuron an outer product (one term per
        entry, the same numbers), which an elementwise product makes faster than a matrix product."""
        return np.multiply if len(self.steps) == 1 else np.matmul

    def forward_calls(self, engine: NumpyEngine, np: Any) -> list[Callable[[], object]]:
        """A folded layer's product [W | b] @ [x; 1] (`_BiasFold.forward_call`), else `forward`."""
        if self.fold is None:
            return super().forward_calls(engine, np)
        return [self.fold.forward_call(np, self.out_values)]

    def backward_calls(self, engine: NumpyEngine, np: Any) -> list[Callable[[], object]]:
        """A folded dense layer whose products are written (not added): adjoint @ [x; 1]^T into the
        gradients, then W^T @ adjoint into the inputs' adjoints when they need it; else `backward`."""
        fold, w = self.fold, self.w_shared
        inputs_written = not self.x_needs or (self.x_write and w is not None)
        if fold is None or not fold.write or not self.dense or not inputs_written:
            return super().backward_calls(engine, np)
        calls: list[Callable[[], object]] = [partial(np.matmul, self.out_adj, fold.x_ones.T, fold.grad)]
        if self.x_needs and w is not None:
            times = self._times_for_inputs(np)
            calls.append(partial(times, w.T, self.out_adj, self.x_adj))
        return calls

    def _add_dw(self, engine: NumpyEngine, np: Any, dw: Any) -> None:
        """Add a weight gradient (neurons, inputs) into the parameter gradients."""
        if self.w_grad is not None:
            self.w_grad += dw
        else:
            np.add.at(engine.grad, self.w_index, dw)


def _rule(np: Any, kind: Op, args: list[Any], const: float | None) -> Sequence[Any]:
    """The row's rule on arrays: written once with `m`, a learner's array form, or per sample."""
    if kind.takes_m:
        return kind.fn(*args, m=np)  # type: ignore[no-any-return]
    if kind.vectorized is not None:
        return kind.vectorized(*args)  # type: ignore[no-any-return]
    arrays = args if const is None else args[:-1]
    per_sample = [kind.fn(*(float(a[i, j]) for a in arrays), *([] if const is None else [const]))
                  for i in range(arrays[0].shape[0]) for j in range(arrays[0].shape[1])]
    columns = np.asarray(rule_columns(kind, per_sample, len(arrays)), dtype=np.float64)
    return [c.reshape(arrays[0].shape) for c in columns]


def _form(kind: Op) -> str:
    """Which form of the row's rule the NumPy tape calls, for messages."""
    if kind.takes_m:
        return "m= rule on NumPy arrays"
    return "vectorized form" if kind.vectorized is not None else "rule"


def _add(np: Any, adj: Any, index: Any, unique: bool, x: Any) -> None:
    """adj[index] += x, adding repeated rows once per occurrence."""
    if unique or isinstance(index, slice):
        adj[index] += x
    else:
        np.add.at(adj, index, x)


class NumpyEngine:
    """Replays a Program on length-B float64 arrays, one array operation per group of steps."""

    def __init__(self, program: Program) -> None:
        """Group the steps by depth and op-table row and give each group consecutive rows."""
        np = self.np = _numpy()
        self.program = program
        # A parameter or constant is one number for the whole batch: `shared` holds them (refilled
        # from the parameters' .data at every run) and the matrix products read their weights and
        # biases from it. Only rows that other operations read whole get all B copies in the values
        # (a copy of every parameter per sample would grow with width times batch size).
        self.n_shared = program.n_params + len(program.constants)
        self.shared = np.empty(self.n_shared)
        self.shared[program.n_params :] = program.constants
        self.grad = np.zeros(self.n_shared)  # batch-summed gradients of the shared rows
        steps_by_group, row = layers(program)
        self._place_ones(np, steps_by_group, row)
        row = self.row
        self.needs = [False] * self.n_rows
        for slot, flag in enumerate(program.needs_grad):
            self.needs[row[slot]] = flag
        self.groups = [
            (_WeightedSums if steps[0].kind.weighted_sum else _Elementwise)(steps[0].kind, steps, self)
            for steps in steps_by_group
        ]
        # Every step's local derivatives (a weighted sum's are its operands: none stored) live in one
        # (edges, B) array right after the values in one buffer, so a run checks them all at once;
        # those of rows that keep finite numbers finite (relu's 0 and 1) come last, and the check
        # stops before them: such a slope can only be bad where the row's value is too (checked).
        n_slopes = 0
        for g in self.groups:
            if not g.kind.keeps_finite:
                n_slopes = g.place_slopes(n_slopes)
        self.n_checked_slopes = n_slopes
        for g in self.groups:
            if g.kind.keeps_finite:
                n_slopes = g.place_slopes(n_slopes)
        self.n_slopes = n_slopes
        whole: set[int] = {row[program.root_slot]}
        for g in self.groups:
            whole.update(g.rows_read_whole())
        shared_whole = sorted(r for r in whole if r < self.n_shared)
        self.whole_params = np.asarray([r for r in shared_whole if r < program.n_params], dtype=np.intp)
        self.whole_constants = np.asarray([r for r in shared_whole if r >= program.n_params], dtype=np.intp)
        self._plan_writes(np)
        self.checks_inputs_first = any(
            not g.kind.builtin or g.kind.domain for g in self.groups if not g.kind.weighted_sum
        )
        # Non-finite results are checked after each pass (one sum; overflow in backward shows up as
        # inf in the result, which Tape.backward names), so numpy's warnings are off while the passes
        # run. Each errstate is made once; as a decorator it sets numpy's state per call (per thread on
        # numpy 2; numpy 1.x keeps it on the object, and a tape is for one thread at a time: its buffers).
        self._quiet_forward = np.errstate(all="ignore")(self._forward)
        self._quiet_backward = np.errstate(over="ignore", invalid="ignore")(self._backward)
        self.size: int | None = None  # B of the buffers below, kept while batches keep that size
        self.values: Any = None
        self.slopes: Any = None
        self.adj: Any = None
        self.buffer: Any = None
        self.scratch: Any = None
        self.checked: Any = None
        self.ones: Any = None
        self.row_ones: Any = None
        self.forward_calls: list[Callable[[], object]] = []
        self.backward_calls: list[Callable[[], object]] = []

    def _place_ones(self, np: Any, steps_by_group: list[list[TapeStep]], row: list[int]) -> None:
        """Number the value rows: `layers`' rows (shared with the torch back end), with a row of ones
        after each block of rows that a dense layer whose bias folds (`_BiasFold`) reads as its inputs.

        A block ends where a group's outputs end (so every group's rows stay one slice) or among the
        batch's input rows, which `run` then writes in pieces (`input_pieces`). Sets `self.row`
        (slot -> row), `n_rows`, `ones_rows` and the input rows.
        """
        program = self.program
        first_input, first_step = program.input_slots[0], program.first_step_slot
        ends = {row[steps[-1].output] for steps in steps_by_group} | set(range(first_input, first_step))
        foldable = [_bias_fold(np, steps, row, self) for steps in steps_by_group]
        after = sorted({f[0][-1] for f in foldable if f is not None and f[0][-1] in ends})  # x's last row
        self.row: list[int] = [r + bisect_left(after, r) for r in row]  # rows after a ones row move down
        self.ones_rows: set[int] = {r + k + 1 for k, r in enumerate(after)}
        self.n_rows: int = len(row) + len(after)
        inputs = [self.row[s] for s in program.input_slots]
        self.input_rows = slice(inputs[0], inputs[-1] + 1)  # with the ones rows among them
        self.input_pieces: list[tuple[slice, slice]] = []  # (rows, batch columns) written together
        start = 0
        for k in range(1, len(inputs) + 1):
            if k == len(inputs) or inputs[k] != inputs[k - 1] + 1:
                self.input_pieces.append((slice(inputs[start], inputs[k - 1] + 1), slice(start, k)))
                start = k

    def _plan_writes(self, np: Any) -> None:
        """Which backward contributions are written rather than added, and what to zero before each pass."""
        adj = _FirstWrites([self.row[self.program.root_slot]])  # the root holds the seeds
        grad = _FirstWrites()
        for g in reversed(self.groups):
            if g.needed:
                g.plan_writes(adj, grad)
        adj.read(self.whole_params.tolist())  # summed into their gradients at the end
        grad.read(range(self.program.n_params))  # every parameter's gradient is returned
        self.adj_zero = np.asarray(sorted(adj.zero), dtype=np.intp)
        self.grad_zero = np.asarray(sorted(grad.zero), dtype=np.intp)

    def _allocate(self, np: Any, size: int) -> None:
        """Buffers for batches of `size` samples: values and slopes (one block), adjoints, scratch.

        Made again only when B changes. The scratch rows hold the backward pass's products (slope
        times adjoint, a dense layer's W^T @ adjoint) before they are added, so no step allocates
        a (rows, B) temporary. `run` and `backward` return copies: nothing a caller keeps is a buffer.
        """
        self.buffer = np.empty((self.n_rows + self.n_slopes, size))
        self.values = self.buffer[: self.n_rows]
        self.slopes = self.buffer[self.n_rows :]
        self.adj = np.empty((self.n_rows, size))
        self.scratch = np.empty((max([g.scratch_rows() for g in self.groups] + [0]), size))
        # The inputs, every step's values, the slopes that are checked (see `n_checked_slopes`).
        self.checked = self.buffer[self.input_rows.start : self.n_rows + self.n_checked_slopes]
        self.ones = np.ones(size)
        self.row_ones = np.ones(len(self.checked))
        self.values[self.whole_constants] = self.shared[self.whole_constants, None]  # never change
        self.values[sorted(self.ones_rows)] = 1.0  # no group writes them
        for g in self.groups:
            g.bind(self.values, self.slopes, self.adj, self.scratch)
        # Each pass is a list of calls with the groups' views bound: a group that is one or two NumPy
        # calls (a folded layer's product, relu's `into`, slope * adjoint) runs them with no Python
        # frame of its own, the others through their `forward`/`backward`.
        self.forward_calls = [call for g in self.groups for call in g.forward_calls(self, np)]
        needed = [g for g in reversed(self.groups) if g.needed]
        self.backward_calls = [call for g in needed for call in g.backward_calls(self, np)]
        self.size = size  # last: an allocation cut short (Ctrl-C) is made again at the next run

    # ------------------------------------------------------------ forward

    def run(self, columns: Sequence[Any], params: list[float]) -> Any:
        """Root values for the batch as a float64 array of length B; keeps every row for backward."""
        np = self.np
        program = self.program
        block = getattr(columns, "ndim", None) == 2 and columns.dtype == np.float64  # type: ignore[attr-defined]
        cols = columns if block else [self._column(np, c, i) for i, c in enumerate(columns)]
        size = len(cols[0])
        root = self.row[program.root_slot]
        if size != self.size:
            self.size = None  # a failed allocation leaves no half-bound groups in use
            self._allocate(np, size)
        values = self.values
        if size == 0:
            return values[root].copy()
        self.shared[: program.n_params] = params
        if len(self.whole_params):
            values[self.whole_params] = self.shared[self.whole_params, None]
        for rows, taken in self.input_pieces:
            values[rows] = cols[taken]
        total = self._quiet_forward(np, cols, values[self.input_rows])
        if total - total != 0.0:
            self._check_columns(np, cols)  # an input that is inf or NaN is named first
            self._explain(np, values, self.slopes)
        return values[root].copy()

    def _forward(self, np: Any, cols: Sequence[Any], inputs: Any) -> float:
        """Run every group: the sum of all inputs, values and slopes (inf, NaN stay in it)."""
        # A learner's op may loop on inf and a domain check would blame its step for an input's
        # NaN, so where the tape has either the inputs are checked before any step sees them (one
        # sum: an overflowing finite sum sends us to the exact check, which passes); built-in rows
        # just carry an inf or NaN on to the check after the steps, which names the input first.
        if self.checks_inputs_first:
            total = float(inputs.sum())
            if total - total != 0.0:
                self._check_columns(np, cols)
        for call in self.forward_calls:
            call()
        # The inputs, every computed value and every checked slope lie in one block of the buffer:
        # one matrix-vector product with ones sums it (BLAS, faster than a plain sum).
        return float(self.row_ones @ (self.checked @ self.ones))

    def _check_columns(self, np: Any, cols: Sequence[Any]) -> None:
        """A ValueError naming the first sample of the first batch column that is inf or NaN."""
        for i, column in enumerate(cols):
            if not np.isfinite(column).all():
                real_numbers(column.tolist(), f"tape.run(batch column {i})")

    @staticmethod
    def _column(np: Any, column: Any, index: int) -> Any:
        """One batch column as a 1-D float64 array, or a TypeError/ValueError naming it (finiteness aside)."""
        where = f"tape.run(batch column {index})"
        if not hasattr(column, "dtype") and not set(map(type, column)) <= {float}:
            column = real_numbers(column, where)  # ints become floats; a bool, str or 10**400 is named
        array = np.asarray(column)
        if array.ndim != 1 or array.dtype.kind not in "iuf":
            raise TypeError(needs(where, "a list or 1-D array of numbers", column))
        return array.astype(np.float64, copy=False)

    def fail_first(self, np: Any, g: _Group, bad: Any, block: _Block | None = None) -> None:
        """Raise the scalar engine's error for the first (step, sample) flagged in `bad`.

        `bad` covers the group's steps and samples in `block` (None: all of them).
        """
        k, local = np.unravel_index(int(np.argmax(bad)), bad.shape)
        if block is not None:
            k, local = k + block.rows.start, local + block.samples.start
        step, sample = g.steps[int(k)], int(local)
        fail(step, [self.value(i, sample) for i in step.inputs], sample)

    def fail_rule(self, g: _Group, error: Exception, form: str) -> NoReturn:
        """Raise for a group whose rule (or domain check) raised on arrays (tape_forms.fail_on_arrays:
        the scalar engine's error for the first sample that fails on floats, else the op and form)."""
        def operands(step: TapeStep, sample: int) -> list[float]:
            return [self.value(i, sample) for i in step.inputs]

        fail_on_arrays(g.steps, operands, self.size or 0, error, form)

    def value(self, slot: int, sample: int) -> float:
        """Slot `slot`'s value for one sample of the last run."""
        r = self.row[slot]
        return float(self.shared[r] if r < self.n_shared else self.values[r, sample])

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
                form = "" if step.kind.builtin or _form(step.kind) == "rule" else _form(step.kind)
                fail(step, [self.value(i, sample) for i in step.inputs], sample, form=form)

    # ------------------------------------------------------------ backward

    def value_rows(self, slots: Sequence[int]) -> Any:
        """These slots' values from the last run as a new (slots, B) float64 array, a row per slot."""
        rows = [self.row[s] for s in slots]
        picked = self.values[rows]  # a copy: the next run reuses the buffers
        for k, r in enumerate(rows):
            if r < self.n_shared:  # a parameter or constant: `shared` holds it for every sample
                picked[k] = self.shared[r]
        return picked

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        return self.value_rows(slots).T.tolist()  # type: ignore[no-any-return]

    def backward(self, weights: Sequence[float] | None) -> Any:
        """Adjoints for all rows at once; parameter gradients summed over the batch (a float64 array)."""
        np = self.np
        program = self.program
        n_params = program.n_params
        if self.size == 0:
            return np.zeros(n_params)
        adj = self.adj
        # Most rows get their first contribution written, not added (see _FirstWrites): zero the rest.
        if len(self.adj_zero):
            adj[self.adj_zero] = 0.0
        if len(self.grad_zero):
            self.grad[self.grad_zero] = 0.0
        root = self.row[program.root_slot]
        adj[root] = 1.0 if weights is None else np.asarray(weights, dtype=np.float64)  # nothing adds to it
        return self._quiet_backward(np, adj, n_params)

    def _backward(self, np: Any, adj: Any, n_params: int) -> Any:
        """Run every group's backward; the parameters' batch-summed gradients as a new array."""
        for call in self.backward_calls:
            call()
        # + 0.0 makes a copy and turns a -0.0 (a product written, not added to a zero) into 0.0.
        grads = self.grad[:n_params] + 0.0
        if len(self.whole_params):
            grads[self.whole_params] += adj[self.whole_params].sum(axis=1)
        return grads
