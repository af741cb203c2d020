"""The pure-Python back end of the tape: one column of floats per slot, replayed one step at a time.

A slot's column holds its value in every sample of the batch, so the interpreter loops over the
steps, not over steps times samples (benchmarks/README.md has the figures). Each step runs its
op-table row's rule once for the whole batch: a built-in rule on `Batch` operands with `m=BATCH`,
whose arithmetic is C-level `map` over the samples (as the NumPy tape passes arrays and `numpy`);
a learner's rule once per sample, through `map`. A row marked `weighted_sum` ("wsum") has a fused
path, the sum of products per sample, whose derivatives are its operands. Backward multiplies whole columns of
derivatives by whole columns of adjoints. Parameters and constants, the same in every sample,
are kept once. tests/test_autograd_tape_python.py checks every built-in row on a Batch and every
replayed value against the table bit for bit. A failing batch is replayed again sample by sample
with `Op.evaluate`, so it raises the scalar engine's error for the first failing sample.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, repeat
from operator import add, itemgetter, mul
from types import SimpleNamespace
from typing import Any

from autograd import mathspace
from autograd.checks import first_non_finite, needs, real_numbers
from autograd.oprecord import Op
from autograd.tape_steps import Program, fail, rule_columns

# Step kinds of the replay loops.
WSUM, RULE = range(2)

Column = Sequence[float]  # one slot's value for every sample


class PythonEngine:
    """Replays a Program column by column: values in one column per slot, derivatives per step."""

    def __init__(self, program: Program) -> None:
        """Translate the steps into tuples the loops unpack, with each operand's kind decided once."""
        self.program = program
        self.first_input = program.first_step_slot - len(program.input_slots)  # slots below are shared
        shared = self.first_input
        params = program.n_params
        needs = program.needs_grad
        self.forward_code: list[tuple[Any, ...]] = []
        self.backward_code: list[tuple[Any, ...]] = []
        k = 0  # index of the step's derivative columns (a weighted sum stores none: its operands are)
        for s in program.steps:
            if s.kind.weighted_sum:
                ws, xs = s.inputs[0:-1:2], s.inputs[1::2]
                bias = s.inputs[-1] if len(s.inputs) % 2 else -1
                self.forward_code.append((WSUM, s.output, ws, xs, bias))
                # Edges in the operand order (w0, x0, w1, x1, ..., b) the scalar engine adds them in:
                # (target, slot of its slope, that slot is shared, the target is a parameter).
                edges = []
                for w, x in zip(ws, xs):
                    if needs[w]:
                        edges.append((w, x, x < shared, w < params))
                    if needs[x]:
                        edges.append((x, w, w < shared, x < params))
                b = bias if bias >= 0 and needs[bias] else -1
                if needs[s.output]:
                    self.backward_code.append((WSUM, s.output, tuple(edges), b, b < params))
                continue
            self.forward_code.append((RULE, s.output, s.kind, s.inputs, s.const, k))
            if needs[s.output]:  # (target or -1 when it needs no adjoint, the target is a parameter)
                targets = tuple((i, i < params) if needs[i] else (-1, False) for i in s.inputs)
                self.backward_code.append((RULE, s.output, targets, k))
            k += 1
        self.backward_code.reverse()
        self.n_rules = k
        self.size = 0
        self.shared: list[float] = []
        self.cols: list[Column | None] = []
        self.derivs: list[list[Column]] = []

    def run(self, columns: Sequence[Any], params: list[float]) -> list[float]:
        """Replay the steps over the batch; returns the root values and keeps every column."""
        program = self.program
        data = [_python_column(c, i) for i, c in enumerate(columns)]
        size = len(data[0])
        # The numbers as a list (a training loop may give them as a float64 array: `+` would add).
        given: Any = params
        if type(given) is not list:
            given = given.tolist() if hasattr(given, "tolist") else list(given)
        shared = given + program.constants
        first = self.first_input
        cols: list[Column | None] = [None] * len(program.nodes)
        cols[first : first + len(data)] = data
        derivs: list[list[Column]] = [[]] * self.n_rules
        self.size, self.shared, self.cols, self.derivs = 0, shared, cols, derivs  # readable only if it ends
        made: list[Column] = []  # every computed column: one finiteness check at the end
        try:
            for entry in self.forward_code:
                if entry[0] == WSUM:
                    _, out, ws, xs, bias = entry
                    # The weighted-sum rule, sum(map(mul, ws, xs), 0.0) + b, for every sample at once:
                    # a column of products per pair, zipped into one tuple per sample and summed, so
                    # the per-sample work is C-level (no Python-level map per sample).
                    products = [map(mul, self._lane(w, cols, size), self._lane(x, cols, size))
                                for w, x in zip(ws, xs)]
                    sums = map(sum, zip(*products) if products else repeat((), size), repeat(0.0, size))
                    total = list(sums if bias < 0 else map(add, sums, self._lane(bias, cols, size)))
                    cols[out] = total
                    made.append(total)
                    continue
                _, out, row, inputs, const, k = entry
                value, *slopes = self._rule(row, [self._column(i, cols, size) for i in inputs], const, size)
                cols[out] = value
                derivs[k] = slopes
                made.append(value)
                made += slopes
        except Exception:  # a learner's rule may raise anything: find its sample
            self._scan(data, shared)  # raises the scalar engine's error for the first failing sample
            raise  # the scan found nothing: keep the original error
        check = sum(map(sum, made))
        if check - check != 0.0:  # an inf or nan (a*b overflow), or a finite total that overflowed
            self._scan(data, shared)
        self.size = size
        return list(self._column(program.root_slot, cols, size))

    @staticmethod
    def _rule(row: Op, args: list[Column], const: float | None, size: int) -> list[Column]:
        """The value column and one derivative column per input of `row` on these operand columns."""
        if row.domain:  # the checks are a learner's too: per sample, and the scan names the sample
            per_sample = args if const is None else [*args, [const] * size]
            for ok, _, _ in row.domain:
                if not all(map(ok, *per_sample)):
                    raise ValueError(f"tape step {row.name!r}: an operand is outside the domain")
        if row.builtin and row.takes_m:  # the rule once, on whole columns (see `Batch`)
            batch = [Batch(a) for a in args]
            result = row.fn(*batch, m=BATCH) if const is None else row.fn(*batch, const, m=BATCH)
            return [r.items if type(r) is Batch else [r] * size for r in result]
        # A learner's rule may branch with `if`: on floats, once per sample, through map.
        results = list(map(row.fn, *args) if const is None else map(row.fn, *args, repeat(const, size)))
        return rule_columns(row, results, len(args))

    def _column(self, slot: int, cols: list[Column | None], size: int) -> Column:
        """Slot's column; a shared slot (parameter, constant) repeated for every sample."""
        col = cols[slot]
        return col if col is not None else [self.shared[slot]] * size

    def _lane(self, slot: int, cols: list[Column | None], size: int) -> Iterable[float]:
        """Slot's values for `map`: its column, or a shared slot's one value `size` times."""
        col = cols[slot]
        return col if col is not None else repeat(self.shared[slot], size)

    def _scan(self, data: list[list[float]], shared: list[float]) -> None:
        """Replay sample by sample with `Op.evaluate`: raise the first failing step's error, as the
        scalar engine would (the column replay saw the step first; this finds the sample)."""
        for sample, row in enumerate(zip(*data)):
            v = shared + list(row)
            for step in self.program.steps:
                operands = [v[i] for i in step.inputs]
                try:
                    v.append(step.kind.evaluate(operands, step.const)[0])
                except Exception as error:
                    fail(step, operands, sample, error)

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        if not slots:
            return [[] for _ in range(self.size)]
        return [list(r) for r in zip(*[self._column(s, self.cols, self.size) for s in slots])]

    def value_rows(self, slots: Sequence[int]) -> Any:
        """These slots' values from the last run as a (slots, B) float64 NumPy array, a row per slot."""
        import numpy  # only here: the rest of this back end needs no third-party library

        columns = [self._column(s, self.cols, self.size) for s in slots]
        return numpy.array(columns, dtype=numpy.float64).reshape(len(slots), self.size)

    def backward(self, weights: Sequence[float] | None) -> list[float]:
        """Reverse replay, column by column; parameter adjoints sum over the batch."""
        program = self.program
        size = self.size
        grads = [0.0] * program.n_params
        if size == 0:
            return grads
        derivs = self.derivs
        adjoints = _Adjoints(len(program.nodes), size)
        seed = [1.0] * size if weights is None else [float(w) for w in weights]
        root = program.root_slot
        if root < program.n_params:
            grads[root] += sum(seed)
        else:
            adjoints.give(root, 1.0, seed)
        for entry in self.backward_code:
            g = adjoints.take(entry[1])
            if g is None or not any(g):  # a dead relu, a satisfied hinge, in every sample: nothing flows
                continue
            if entry[0] == WSUM:
                self._backward_weighted(entry, g, adjoints, grads)
                continue
            _, _, targets, k = entry
            for (target, is_param), slope in zip(targets, derivs[k]):
                if target < 0:
                    continue
                if is_param:
                    grads[target] += sum(map(mul, slope, g))
                else:
                    adjoints.give(target, slope, g)
        return grads

    def _backward_weighted(self, entry: tuple[Any, ...], g: list[float], adjoints: _Adjoints,
                           grads: list[float]) -> None:
        """One weighted sum's adjoint `g` to its operands: d/dw = x, d/dx = w, d/db = 1."""
        _, _, edges, bias, bias_is_param = entry
        cols, shared, size = self.cols, self.shared, self.size
        # Where g is 0 (a dead relu, a satisfied hinge) nothing flows back: a weight's gradient
        # sums x * g over the other samples only (exact: the skipped terms are +-0.0), and an
        # input's adjoint is scattered into them when they are few (_Adjoints.scatter).
        live = list(compress(range(size), g))
        pick = itemgetter(*live) if 1 < len(live) <= size - size // 8 else None
        g_live = pick(g) if pick is not None else g
        sparse = len(live) <= _SPARSE * size
        for target, other, other_shared, is_param in edges:
            slope = shared[other] if other_shared else cols[other]
            if not is_param:
                if sparse and pick is not None:
                    adjoints.scatter(target, slope if other_shared else pick(slope), live, g_live)
                else:
                    adjoints.give(target, slope, g)
            elif other_shared:
                grads[target] += sum(map(mul, repeat(slope), g_live))
            else:
                grads[target] += sum(map(mul, slope if pick is None else pick(slope), g_live))
        if bias >= 0:
            if bias_is_param:
                grads[bias] += sum(g)
            else:
                adjoints.give(bias, 1.0, g)


class Batch:
    """One slot's values for every sample, with float arithmetic applied sample by sample through `map`.

    A built-in rule is written once over a math namespace `m`; the pure-Python tape calls it once
    per step with `Batch` operands and `m=BATCH`, as the NumPy tape does with arrays and `numpy`.
    Each operator maps the same float operation over the samples (C-level `map` with `operator`
    and `math` functions), so every sample's value is bit for bit the rule's on that sample's floats
    (tests/test_autograd_tape_python.py checks every built-in row). One call per step instead of
    one per sample, and no tuple per sample for the cycle collector to count.
    """

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Any]) -> None:
        """Wrap one value per sample (the list is not copied)."""
        self.items = items

    def __bool__(self) -> bool:
        """Refused: a rule that branches with `if` must use `m.where` to be replayed on a batch."""
        raise TypeError("a rule branched (if/and/or) on a whole batch: write the branch with m.where")

    __hash__ = None  # type: ignore[assignment]  # == compares per sample, like NumPy


def _lanes(args: Sequence[Any]) -> list[Any]:
    """Each argument as something `map` reads per sample: a Batch's items, a number repeated."""
    return [a.items if type(a) is Batch else repeat(a) for a in args]


def _forward(f: Callable[[Any, Any], Any]) -> Callable[[Batch, Any], Batch]:
    """`batch <op> other` as f(sample, other) for every sample."""

    def method(self: Batch, other: Any) -> Batch:
        return Batch(list(map(f, self.items, other.items if type(other) is Batch else repeat(other))))

    return method


def _reflected(f: Callable[[Any, Any], Any]) -> Callable[[Batch, Any], Batch]:
    """`number <op> batch` as f(number, sample) for every sample."""

    def method(self: Batch, other: Any) -> Batch:
        return Batch(list(map(f, repeat(other), self.items)))

    return method


def _elementwise(f: Callable[..., Any]) -> Callable[..., Any]:
    """f sample by sample when an argument is a Batch (numbers repeat), else f itself."""

    def apply(*args: Any) -> Any:
        if not any(type(a) is Batch for a in args):
            return f(*args)
        return Batch(list(map(f, *_lanes(args))))

    apply.__doc__ = f"{getattr(f, '__name__', f)!s} on every sample of a Batch."
    return apply


def _where(condition: Any, yes: Any, no: Any) -> Any:
    """`yes` where the condition holds, else `no`, sample by sample (mathspace.where on a Batch)."""
    if type(condition) is not Batch:
        return mathspace.where(condition, yes, no)
    c, y, n = _lanes((condition, yes, no))
    return Batch([a if test else b for test, a, b in zip(c, y, n)])


for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("pow", operator.pow)):
    setattr(Batch, f"__{_name}__", _forward(_op))
    setattr(Batch, f"__r{_name}__", _reflected(_op))
for _name, _op in (("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge),
                   ("eq", operator.eq), ("ne", operator.ne)):
    setattr(Batch, f"__{_name}__", _forward(_op))
for _name, _unary in (("neg", operator.neg), ("pos", operator.pos), ("abs", abs)):
    setattr(Batch, f"__{_name}__", _elementwise(_unary))

_SPECIAL: dict[str, Any] = {"where": _where, "zeros_like": mathspace.zeros_like}  # 0.0: the engine repeats it
BATCH: Any = SimpleNamespace(
    **{
        name: _SPECIAL.get(name, getattr(mathspace, name) if isinstance(getattr(mathspace, name), float)
                           else _elementwise(getattr(mathspace, name)))
        for name in mathspace.__all__
    }
)
"""The math namespace of `Batch` operands: every name of autograd.mathspace, sample by sample."""


_SPARSE = 0.6  # scatter an input's adjoint when at most this share of the samples has g != 0


class _Adjoints:
    """The interior slots' adjoints during one backward pass, each built in the order the scalar
    engine adds its terms: pending (slope, adjoint) terms summed per sample when the slot's step
    is reached, or a column the terms are scattered into when few samples carry one."""

    __slots__ = ("size", "sums", "terms")

    def __init__(self, n_slots: int, size: int) -> None:
        """No adjoint yet for any of `n_slots` slots, over `size` samples."""
        self.size = size
        # Pending terms: slope and adjoint column after each other (a shared slope as its one
        # number). Flat lists allocate no tuple or iterator per term, so no collection runs.
        self.terms: list[list[Any] | None] = [None] * n_slots
        self.sums: list[list[float] | None] = [None] * n_slots  # the columns being scattered into

    def give(self, target: int, slope: Any, g: Column) -> None:
        """Add slope * g to target's adjoint (slope a column, or one number for every sample)."""
        total = self.sums[target]
        if total is not None:
            self.sums[target] = list(map(add, total, map(mul, _samples(slope, self.size), g)))
            return
        terms = self.terms[target]
        if terms is None:
            self.terms[target] = [slope, g]
        else:
            terms += (slope, g)

    def scatter(self, target: int, slope: Any, live: list[int], g_live: Sequence[float]) -> None:
        """Add slope * g to target's adjoint in the `live` samples only (g is 0 in the others).

        Skipping slope * 0 = +-0.0 is exact: a per-sample sum starts at +0.0, so it is never -0.0,
        and adding +-0.0 leaves it bit for bit unchanged. It pays when a large share of the batch
        has g = 0 (dead relus, satisfied hinges), which grows as training goes on.
        """
        total = self.sums[target]
        if total is None:
            total = self.take(target) if self.terms[target] is not None else None
            total = [0.0] * self.size if total is None else total
            self.sums[target] = total
        for sample, value in zip(live, map(mul, _samples(slope, len(live)), g_live)):
            total[sample] += value

    def take(self, slot: int) -> list[float] | None:
        """Slot's adjoint column (None when nothing flowed to it), summed per sample from 0.0."""
        total = self.sums[slot]
        if total is not None:
            self.sums[slot] = None
            return total
        terms = self.terms[slot]
        if terms is None:
            return None
        self.terms[slot] = None
        size = self.size
        products = [map(mul, _samples(s, size), a) for s, a in zip(terms[0::2], terms[1::2])]
        if len(products) == 1:
            return list(products[0])
        # One zip of product columns, one sum per sample: the sum runs in C, instead of one
        # Python-level column addition per term.
        return list(map(sum, zip(*products), repeat(0.0, size)))


def _samples(slope: Any, size: int) -> Iterable[float]:
    """A slope column as it is, one number repeated for every sample."""
    return slope if isinstance(slope, (list, tuple)) else repeat(slope, size)


def _python_column(column: Any, index: int) -> list[float]:
    """A batch column as a list of finite floats (lists, tuples or a 1-D NumPy array)."""
    where = f"tape.run(batch column {index})"
    dtype = getattr(column, "dtype", None)
    if dtype is not None:  # a NumPy array: check the dtype once instead of every element
        if getattr(column, "ndim", 1) != 1 or dtype.kind not in "iuf":
            raise TypeError(needs(where, "a list or 1-D array of numbers", column))
        values: list[float] = [float(x) for x in column.tolist()]
    elif not set(map(type, column)) <= {float, int}:  # bools, strings, NumPy scalars: one by one
        return real_numbers(column, where)
    else:
        try:
            values = [float(x) for x in column]
        except OverflowError:  # an int beyond float range
            return real_numbers(column, where)
    if first_non_finite(values) is not None:
        return real_numbers(values, where)  # names the first inf or nan
    return values
