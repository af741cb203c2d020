"""The PyTorch back end of the tape: the NumPy back end's groups replayed on float64 tensors.

Steps are grouped as for NumPy (`tape_steps.layers`): a layer's activations are one call of the
op-table row's rule with `m` = `TorchMath` (the rule the scalar engine runs on floats, now on
tensors), its weighted sums one matrix product. The backward pass is the tape's own chain rule
over the slopes the rules returned, not torch.autograd, so a kink's derivative (relu'(0) = 0,
sign(0) = +1) is the table's. A learner's rule is checked as on the NumPy tape: per sample through
`rule_columns`, a tensor result through `tape_forms.checked_tensors`, and an error on tensors
answered by `tape_forms.fail_on_arrays` (the scalar engine's error for the failing sample, else
the op, the form and the fix). Numbers torch would make in its default float32 come out float64
under a per-thread torch function mode (`_float64_numbers`); torch's process-wide default dtype is
never touched. Tensors live on a GPU when torch sees one, else on the CPU. torch is imported inside
the functions that need it: `autograd` itself imports nothing third-party.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence
from typing import Any, NoReturn

from autograd.checks import needs, real_numbers
from autograd.oprecord import Op
from autograd.tape_forms import checked_tensors
from autograd.tape_steps import Program, TapeStep, fail, fail_on_arrays, layers, rule_columns

INSTALL = "the PyTorch tape back end needs torch: pip install 'axongrad[torch]'"


def _torch() -> Any:
    """The torch module, or an ImportError naming the extra to install."""
    try:
        import torch
    except ImportError:
        raise ImportError(INSTALL) from None
    return torch


class TorchMath:
    """The namespace `m` the op table's rules compute with on float64 tensors (mathspace's names).

    torch's own functions where they take tensors; `where`, `maximum` and `minimum` also take a
    plain number for either branch (as numpy's do), made a float64 tensor so nothing rounds to
    torch's default float32.
    """

    e = math.e
    pi = math.pi

    def __init__(self, torch: Any, device: Any) -> None:
        """Bind torch's elementwise functions and the device that numbers are made on."""
        self._torch = torch
        self._device = device
        for name in ("abs", "cos", "exp", "log", "log1p", "sin", "sqrt", "tanh", "zeros_like"):
            setattr(self, name, getattr(torch, name))

    def tensor(self, x: Any) -> Any:
        """`x` as a float64 tensor on the device (a tensor passes as it is)."""
        if isinstance(x, self._torch.Tensor):
            return x
        return self._torch.as_tensor(x, dtype=self._torch.float64, device=self._device)

    def power(self, x: Any, y: Any) -> Any:
        """x ** y elementwise."""
        return self._torch.pow(self.tensor(x), y)

    def maximum(self, a: Any, b: Any) -> Any:
        """The larger of a and b elementwise."""
        return self._torch.maximum(self.tensor(a), self.tensor(b))

    def minimum(self, a: Any, b: Any) -> Any:
        """The smaller of a and b elementwise."""
        return self._torch.minimum(self.tensor(a), self.tensor(b))

    def where(self, condition: Any, yes: Any, no: Any) -> Any:
        """`yes` where condition holds, else `no` (numpy.where on tensors)."""
        return self._torch.where(condition, self.tensor(yes), self.tensor(no))


@functools.cache
def _float64_numbers(torch: Any) -> type:
    """A torch function mode (per thread, unlike torch's process-wide default dtype) under which a
    number that torch would make in its default dtype (float32) is made in float64 instead.

    A rule on float64 tensors makes such numbers where no float tensor is an operand: `(x > 0) * 0.2`
    (a bool tensor times a number), `torch.where(x > 0, 1.0, 0.0)`, `torch.ones(3)`. Each call whose
    result came out in a lower float dtype from no lower float operand is made again with its numbers
    as float64 tensors (or its bool and integer tensors as float64, or dtype=float64 for a factory),
    so the digits are float64 from the start, not float32 widened afterwards.
    """

    class Float64Numbers(torch.overrides.TorchFunctionMode):  # type: ignore[misc]
        """Results torch would make in its default float dtype come out float64 (see _float64_numbers)."""

        def __torch_function__(
            self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None
        ) -> Any:
            """Call `func`; again with float64 numbers when its result took torch's default dtype."""
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            if not (isinstance(result, torch.Tensor) and result.is_floating_point()):
                return result
            if result.dtype == torch.float64 or "dtype" in kwargs or "out" in kwargs:
                return result
            flat = [*args, *(x for a in args if isinstance(a, (list, tuple)) for x in a)]
            tensors = [a for a in flat if isinstance(a, torch.Tensor)]
            if any(t.is_floating_point() for t in tensors):  # a learner's own lower-precision tensor
                return result
            device = tensors[0].device if tensors else None
            try:
                if not tensors:  # a factory: torch.ones(3), torch.tensor([0.5])
                    return func(*args, **kwargs, dtype=torch.float64)
                if any(_is_number(a) for a in args):  # bool_tensor * 0.2, where(cond, 1.0, 0.0)
                    wide = [torch.tensor(a, dtype=torch.float64, device=device) if _is_number(a) else a
                            for a in args]
                else:  # bool_tensor / int_tensor
                    wide = [a.to(torch.float64) if isinstance(a, torch.Tensor) else a for a in args]
                return func(*wide, **kwargs)
            except (TypeError, ValueError, RuntimeError):  # no float64 here: as torch made it
                return result

    return Float64Numbers


def builtin_float64(torch: Any, result: Sequence[Any]) -> Sequence[Any]:
    """A rule of the op table's result on float64 tensors, with any lower-precision tensor in it made
    float64. The table's rules make no number in torch's default dtype except 0 and 1 (relu's slope
    `positive * 1.0` is a float32 of 0s and 1s), which widen exactly; a test runs every row of the
    table with and without `_float64_numbers` and finds the same numbers. So the rules we ship run
    without the mode, whose handler runs on every torch call of a rule."""
    if all(not isinstance(r, torch.Tensor) or r.dtype == torch.float64 for r in result):
        return result
    return [r.to(torch.float64) if isinstance(r, torch.Tensor) else r for r in result]


def _is_number(x: Any) -> bool:
    """A plain int or float (not a bool): the numbers torch types by its default dtype."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _slice(torch: Any, rows: Sequence[int], device: Any) -> Any:
    """A slice when `rows` are consecutive (a view, no copy), else an index tensor."""
    if rows and list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return torch.tensor(list(rows), dtype=torch.long, device=device)


def _read(values: Any, index: Any) -> Any:
    """values[index] for a slice (a view) or an index tensor (a copy)."""
    return values[index] if isinstance(index, slice) else values.index_select(0, index)


class _Group:
    """Steps of one row of the op table at one depth, executed together on (steps, B) tensors."""

    def __init__(self, steps: list[TapeStep], engine: TorchEngine) -> None:
        """Index tensors for the rows each operand reads and the rows the outputs write."""
        row = engine.row
        self.kind: Op = steps[0].kind
        self.steps = steps
        self.const = steps[0].const
        self.out = _slice(engine.torch, [row[s.output] for s in steps], engine.device)  # consecutive
        self.needed = any(engine.needs[row[s.output]] for s in steps)
        self.slopes: list[Any] = []  # the rule's derivatives from the last run, one per operand
        if self.kind.weighted_sum:
            self._weighted_sums(engine)
        else:
            self._operands(engine)

    def _operands(self, engine: TorchEngine) -> None:
        """Where each operand position of a rule's group is read (a slice when consecutive)."""
        rows = [[engine.row[s.inputs[j]] for s in self.steps] for j in range(len(self.steps[0].inputs))]
        self.args = [_slice(engine.torch, r, engine.device) for r in rows]
        self.arg_needs = [any(engine.needs[r] for r in rs) for rs in rows]
        self.whole = [r for rs in rows for r in rs]

    def _weighted_sums(self, engine: TorchEngine) -> None:
        """Index tensors for a group of weighted sums; a dense layer becomes one matrix product."""
        torch, device, row, n_shared = engine.torch, engine.device, engine.row, engine.n_shared
        k = self.k = len(self.steps[0].inputs) // 2
        ws = [[row[w] for w in s.inputs[0 : 2 * k : 2]] for s in self.steps]
        xs = [[row[x] for x in s.inputs[1 : 2 * k : 2]] for s in self.steps]
        w_flat, x_flat = [w for r in ws for w in r], [x for r in xs for x in r]
        self.w_flat = torch.tensor(w_flat, dtype=torch.long, device=device)
        self.x_flat = torch.tensor(x_flat, dtype=torch.long, device=device)
        self.w_needs = any(engine.needs[w] for w in w_flat)
        self.x_needs = any(engine.needs[x] for x in x_flat)
        # Weights that are parameters or constants are one (neurons, inputs) matrix for the batch;
        # a dense layer (every neuron reads the same distinct inputs) is then one matrix product.
        self.shared_weights = all(w < n_shared for w in w_flat)
        self.dense = self.shared_weights and all(r == xs[0] for r in xs) and len(set(xs[0])) == len(xs[0])
        self.x_dense = _slice(torch, xs[0], device) if self.dense else None
        bias = [row[s.inputs[-1]] for s in self.steps] if len(self.steps[0].inputs) % 2 else None
        self.bias = None if bias is None else torch.tensor(bias, dtype=torch.long, device=device)
        self.shared_bias = bias is not None and all(b < n_shared for b in bias)
        self.bias_needs = bias is not None and any(engine.needs[b] for b in bias)
        whole_bias = [] if bias is None or self.shared_bias else bias
        self.whole = x_flat + whole_bias + ([] if self.shared_weights else w_flat)

    # ------------------------------------------------------------ forward

    def forward(self, engine: TorchEngine) -> None:
        """Compute the group's outputs into their rows and keep its slopes, checking the row's domain."""
        if self.kind.weighted_sum:
            self._forward_weighted(engine)
            return
        values = engine.values
        args = [_read(values, a) for a in self.args]
        if self.const is not None:
            args.append(self.const)
        torch, kind = engine.torch, self.kind
        for ok, _message, _error in kind.domain:
            try:
                with engine.numbers(kind):
                    good = torch.as_tensor(ok(*args), device=engine.device)
            except Exception as error:  # a learner's check may raise anything: name the op and sample
                engine.fail_rule(self, error, "domain check")
            if not bool(good.all()):
                engine.fail_first(self, ~good.expand_as(args[0]))
        try:
            result = self._rule(engine, args)
            if not kind.builtin:  # a learner's result: the right number of real tensors
                shape = tuple(args[0].shape)
                n, device = len(self.args), engine.device
                result = checked_tensors(torch, kind, result, n, shape, _form(kind), device)
        except Exception as error:  # a learner's rule may raise anything: name the op and sample
            engine.fail_rule(self, error, _form(kind))
        values[self.out] = result[0]
        self.slopes = list(result[1:])

    def _rule(self, engine: TorchEngine, args: list[Any]) -> Sequence[Any]:
        """The row's rule on tensors: written once with `m`, else run per sample on floats."""
        kind = self.kind
        if kind.builtin and kind.takes_m:  # the table's rules need no mode: see builtin_float64
            return builtin_float64(engine.torch, kind.fn(*args, m=engine.m))
        if kind.takes_m:
            with engine.numbers(kind):
                return kind.fn(*args, m=engine.m)  # type: ignore[no-any-return]
        torch = engine.torch
        operands = [a.tolist() for a in (args if self.const is None else args[:-1])]
        extra = [] if self.const is None else [self.const]
        n, size = len(operands[0]), len(operands[0][0])
        per_sample = [kind.fn(*(o[i][j] for o in operands), *extra) for i in range(n) for j in range(size)]
        columns = rule_columns(kind, per_sample, len(operands))  # checked as the scalar engine checks
        return [torch.tensor(c, dtype=torch.float64, device=engine.device).reshape(n, size) for c in columns]

    def _weights(self, engine: TorchEngine) -> Any:
        """The (neurons, inputs) weight matrix of a group whose weights are parameters or constants."""
        return engine.shared.index_select(0, self.w_flat).view(len(self.steps), self.k)

    def _forward_weighted(self, engine: TorchEngine) -> None:
        """sum_k w_k x_k + b for every neuron of the group: one matrix product for a dense layer."""
        torch, values = engine.torch, engine.values
        n = len(self.steps)
        out = values[self.out]
        if self.dense:
            torch.matmul(self._weights(engine), _read(values, self.x_dense), out=out)
        elif self.shared_weights:
            x = values.index_select(0, self.x_flat).view(n, self.k, engine.size)
            out.copy_(torch.einsum("nk,nkb->nb", self._weights(engine), x))
        else:
            x = values.index_select(0, self.x_flat).view(n, self.k, engine.size)
            w = values.index_select(0, self.w_flat).view(n, self.k, engine.size)
            out.copy_((w * x).sum(dim=1))
        if self.bias is None:
            return
        if self.shared_bias:
            out += engine.shared.index_select(0, self.bias)[:, None]
        else:
            out += values.index_select(0, self.bias)

    # ------------------------------------------------------------ backward

    def backward(self, engine: TorchEngine) -> None:
        """Push the group's adjoints to the rows it read: slope times adjoint, summed per row."""
        if self.kind.weighted_sum:
            self._backward_weighted(engine)
            return
        grad = engine.adj[self.out]
        for index, slope, wanted in zip(self.args, self.slopes, self.arg_needs):
            if wanted:
                engine.add(index, slope * grad)

    def _backward_weighted(self, engine: TorchEngine) -> None:
        """The weighted-sum rule's adjoints: d/dw = x, d/dx = w, d/db = 1."""
        values, n = engine.values, len(self.steps)
        grad = engine.adj[self.out]
        if self.bias is not None and self.bias_needs:
            if self.shared_bias:
                engine.grad.index_add_(0, self.bias, grad.sum(dim=1))
            else:  # a copy: torch refuses to add into adj from a view of adj
                engine.adj.index_add_(0, self.bias, grad.clone())
        if not self.shared_weights:
            x = values.index_select(0, self.x_flat).view(n, self.k, engine.size)
            w = values.index_select(0, self.w_flat).view(n, self.k, engine.size)
            engine.adj.index_add_(0, self.w_flat, (x * grad[:, None, :]).reshape(n * self.k, engine.size))
            engine.adj.index_add_(0, self.x_flat, (w * grad[:, None, :]).reshape(n * self.k, engine.size))
            return
        w = self._weights(engine)
        if self.dense:
            x = _read(values, self.x_dense)
            if self.x_needs:
                engine.add(self.x_dense, w.T @ grad)
            dw = grad @ x.T if self.w_needs else None
        else:
            x = values.index_select(0, self.x_flat).view(n, self.k, engine.size)
            if self.x_needs:
                dx = w[:, :, None] * grad[:, None, :]
                engine.adj.index_add_(0, self.x_flat, dx.reshape(n * self.k, engine.size))
            dw = engine.torch.einsum("nb,nkb->nk", grad, x) if self.w_needs else None
        if dw is not None:
            engine.grad.index_add_(0, self.w_flat, dw.reshape(-1))


def _form(kind: Op) -> str:
    """Which form of the row's rule the PyTorch tape calls, for messages."""
    return "m= rule on PyTorch tensors" if kind.takes_m else "rule"


class TorchEngine:
    """Replays a Program on (rows, B) float64 tensors, one tensor operation per group of steps."""

    def __init__(self, program: Program) -> None:
        """Group the steps, place their rows and pick the device (a GPU when torch sees one)."""
        torch = self.torch = _torch()
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.m = TorchMath(torch, self.device)
        self.float64_numbers = _float64_numbers(torch)
        self.program = program
        steps_by_group, self.row = layers(program)
        self.n_rows = len(program.nodes)
        self.needs = [False] * self.n_rows
        for slot, flag in enumerate(program.needs_grad):
            self.needs[self.row[slot]] = flag
        # As in the NumPy back end: parameters and constants are one number each in `shared`; only
        # the rows an operation reads whole get B copies in `values`.
        self.n_shared = program.n_params + len(program.constants)
        self.shared = torch.zeros(self.n_shared, dtype=torch.float64, device=self.device)
        self.shared[program.n_params :] = torch.tensor(program.constants, dtype=torch.float64)
        self.grad = torch.zeros(self.n_shared, dtype=torch.float64, device=self.device)
        self.groups = [_Group(steps, self) for steps in steps_by_group]
        whole = {r for g in self.groups for r in g.whole if r < self.n_shared}
        self.whole = torch.tensor(sorted(whole), dtype=torch.long, device=self.device)
        self.whole_params = torch.tensor(
            sorted(r for r in whole if r < program.n_params), dtype=torch.long, device=self.device
        )
        self.size: int | None = None
        self.values: Any = None
        self.adj: Any = None

    def numbers(self, kind: Op) -> Any:
        """The context a row's rule and domain checks run in: `_float64_numbers` for a learner's row,
        nothing for the table's own (their results pass through `builtin_float64`)."""
        return contextlib.nullcontext() if kind.builtin else self.float64_numbers()

    def add(self, index: Any, x: Any) -> None:
        """adj[index] += x, adding repeated rows once per occurrence."""
        if isinstance(index, slice):
            self.adj[index] += x
        else:
            self.adj.index_add_(0, index, x.expand(len(index), -1))

    # ------------------------------------------------------------ forward

    def run(self, columns: Sequence[Any], params: list[float]) -> Any:
        """Root values for the batch as a float64 tensor of length B (on the engine's device)."""
        torch, program = self.torch, self.program
        cols = [self._column(c, i) for i, c in enumerate(columns)]
        size = len(cols[0])
        if size != self.size:
            self.size = None  # a failed allocation leaves no half-made buffers in use
            self.values = torch.empty((self.n_rows, size), dtype=torch.float64, device=self.device)
            self.adj = torch.empty((self.n_rows, size), dtype=torch.float64, device=self.device)
            self.size = size
        values = self.values
        root = self.row[program.root_slot]
        if size == 0:
            return values[root].clone()
        self.shared[: program.n_params] = torch.tensor(params, dtype=torch.float64)
        if len(self.whole):
            values[self.whole] = self.shared[self.whole][:, None].expand(-1, size)
        first = program.input_slots[0]
        values[first : first + len(cols)] = torch.stack(cols)
        for g in self.groups:  # a learner's rule under float64_numbers, the table's widened: no float32
            g.forward(self)
        # One sum over every computed value and slope: inf or NaN stays in it (an overflowing sum
        # of finite numbers sends us to the exact check, which passes).
        sums = [values[program.first_step_slot :].sum()]
        sums += [s.sum() for g in self.groups for s in g.slopes if isinstance(s, torch.Tensor)]
        total = float(torch.stack(sums).sum()) + sum(
            s for g in self.groups for s in g.slopes if not isinstance(s, torch.Tensor)
        )
        if not math.isfinite(total):
            self._explain()
        return values[root].clone()

    def _column(self, column: Any, index: int) -> Any:
        """One batch column as a 1-D float64 tensor on the device, or a TypeError/ValueError naming it."""
        torch = self.torch
        where = f"tape.run(batch column {index})"
        if isinstance(column, torch.Tensor):
            if column.dim() != 1 or column.is_complex() or column.dtype == torch.bool:
                raise TypeError(needs(where, "a list or 1-D tensor of real numbers", column))
            tensor = column.to(device=self.device, dtype=torch.float64)
        else:
            if not hasattr(column, "dtype") and not set(map(type, column)) <= {float}:
                column = real_numbers(column, where)  # ints become floats; a bool, str or 10**400 is named
            array = column if hasattr(column, "dtype") else None
            if array is not None and (getattr(array, "ndim", 1) != 1 or array.dtype.kind not in "iuf"):
                raise TypeError(needs(where, "a list or 1-D array of numbers", column))
            tensor = torch.as_tensor(
                array.astype("float64") if array is not None else column, dtype=torch.float64
            ).to(self.device)
        if not bool(torch.isfinite(tensor).all()):
            real_numbers(tensor.tolist(), where)  # names the first inf or NaN
        return tensor

    def fail_first(self, g: _Group, bad: Any) -> None:
        """Raise the scalar engine's error for the first (step, sample) flagged in `bad`."""
        flat = int(bad.reshape(-1).to(self.torch.uint8).argmax())
        k, sample = divmod(flat, bad.shape[1])
        step = g.steps[k]
        fail(step, [self.value(i, sample) for i in step.inputs], sample)

    def fail_rule(self, g: _Group, error: Exception, form: str) -> NoReturn:
        """Raise for a group whose rule (or domain check) raised on tensors: the scalar engine's error
        for the first sample where it fails on floats, else `error` naming the op and the form."""
        rows: dict[int, list[float]] = {}  # one .tolist() per row read, not one tensor index per number

        def operands(step: TapeStep, sample: int) -> list[float]:
            out = []
            for slot in step.inputs:
                r = self.row[slot]
                if r not in rows and r < self.n_shared:  # a parameter or constant: one number
                    rows[r] = [float(self.shared[r])] * (self.size or 0)
                elif r not in rows:
                    rows[r] = self.values[r].tolist()
                out.append(rows[r][sample])
            return out

        fail_on_arrays(g.steps, operands, self.size or 0, error, form)

    def value(self, slot: int, sample: int) -> float:
        """Slot `slot`'s value for one sample of the last run."""
        r = self.row[slot]
        return float(self.shared[r] if r < self.n_shared else self.values[r, sample])

    def _explain(self) -> None:
        """Name the first step (in tape order) whose value or slope is not finite."""
        torch = self.torch
        position = {id(s): (g, k) for g in self.groups for k, s in enumerate(g.steps)}
        for step in self.program.steps:
            g, k = position[id(step)]
            finite = torch.isfinite(self.values[self.row[step.output]])
            for slope in g.slopes:
                s = self.m.tensor(slope)
                finite = finite & torch.isfinite(s[k] if s.dim() else s)
            if not bool(finite.all()):
                sample = int((~finite).to(torch.uint8).argmax())
                form = "" if step.kind.builtin or not step.kind.takes_m else _form(step.kind)
                fail(step, [self.value(i, sample) for i in step.inputs], sample, form=form)

    # ------------------------------------------------------------ backward

    def _picked(self, slots: Sequence[int]) -> Any:
        """These slots' values from the last run as a new (slots, B) float64 tensor on the device."""
        rows = [self.row[s] for s in slots]
        picked = self.values[rows].clone()
        for k, r in enumerate(rows):
            if r < self.n_shared:  # a parameter or constant: `shared` holds it for every sample
                picked[k] = self.shared[r]
        return picked

    def value_rows(self, slots: Sequence[int]) -> Any:
        """These slots' values from the last run as a (slots, B) float64 NumPy array, a row per slot."""
        return self._picked(slots).cpu().numpy()

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        return [list(sample) for sample in self._picked(slots).T.tolist()]

    def backward(self, weights: Sequence[float] | None) -> Any:
        """Batch-summed parameter gradients as a float64 tensor (on the engine's device)."""
        torch, program = self.torch, self.program
        n_params = program.n_params
        if not self.size:
            return torch.zeros(n_params, dtype=torch.float64, device=self.device)
        adj = self.adj
        adj[program.first_step_slot :] = 0.0
        if len(self.whole):
            adj[self.whole] = 0.0
        self.grad.zero_()
        root = self.row[program.root_slot]
        adj[root] = 1.0 if weights is None else self.m.tensor(weights)
        for g in reversed(self.groups):
            if g.needed:
                g.backward(self)
        grads = self.grad[:n_params].clone()
        if len(self.whole_params):
            grads.index_add_(0, self.whole_params, adj[self.whole_params].sum(dim=1))
        return grads
