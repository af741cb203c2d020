"""The pure-Python back end of the tape: one flat loop over the steps per sample, on plain floats.

Each step calls its op-table row's rule (the same function the scalar engine calls), which gives
the value and the local derivatives; the derivatives are kept per sample and multiplied in
backward. Only "wsum" has a fast path, one sum of products per neuron whose derivatives are the
operands themselves (checked against the table by tests/test_autograd_optable.py).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from operator import itemgetter, mul
from typing import Any

from autograd import ops
from autograd.tape_steps import Program, fail, n_derivs

# Step kinds of the replay loop, most frequent first.
WSUM, UNARY, BINARY, CHECKED, GENERIC = range(5)


class PythonEngine:
    """Replays a Program sample by sample: values in one list per sample, derivatives in another."""

    def __init__(self, program: Program) -> None:
        """Translate the steps into tuples the loops unpack."""
        self.program = program
        self.trash = len(program.nodes)  # adjoints of slots that need none go here: no branch in the loop
        needs = program.needs_grad
        self.forward_code: list[tuple[int, Any, Any, Any]] = []
        self.backward_code: list[tuple[int, int, Any, Any, int]] = []
        self.first_deriv: list[int] = []  # per step, the index of its first stored derivative
        k = 0
        for s in program.steps:
            self.first_deriv.append(k)
            if s.kind is ops.wsum:
                self._wsum(s.inputs, s.output, needs)
                continue
            self.forward_code.append(self._forward_entry(s))
            targets = tuple(i if needs[i] else self.trash for i in s.inputs)
            if needs[s.output]:  # backward's kind is the number of inputs (WSUM is 0, never an arity)
                self.backward_code.append((len(targets), s.output, targets, None, k))
            k += n_derivs(s)
        self.backward_code.reverse()
        self.saved: list[list[float]] = []
        self.derivs: list[list[float]] = []

    @staticmethod
    def _forward_entry(s: Any) -> tuple[int, Any, Any, Any]:
        """(kind, rule, first input, second input or constant) for one non-wsum step."""
        kind = s.kind
        if kind.domain or kind.const is not None:
            return (CHECKED, kind, s.inputs, s.const)
        if len(s.inputs) == 1:
            return (UNARY, kind.fn, s.inputs[0], None)
        if len(s.inputs) == 2 and kind.arity == 2:
            return (BINARY, kind.fn, s.inputs[0], s.inputs[1])
        return (GENERIC, kind.fn, s.inputs, None)

    def _wsum(self, inputs: tuple[int, ...], output: int, needs: list[bool]) -> None:
        """Forward and backward entries of one weighted sum (w0, x0, w1, x1, ..., [b])."""
        pairs = list(zip(inputs[0:-1:2], inputs[1::2]))
        bias = inputs[-1] if len(inputs) % 2 else -1
        if len(pairs) >= 2:
            ws = itemgetter(*(w for w, _ in pairs))
            xs = itemgetter(*(x for _, x in pairs))
            self.forward_code.append((WSUM, ws, xs, bias))
        else:  # itemgetter of one index returns a float, not a tuple: take the generic path
            self.forward_code.append((WSUM, None, tuple(pairs), bias))
        w_edges = tuple((w, x) for w, x in pairs if needs[w])
        x_edges = tuple((x, w) for w, x in pairs if needs[x])
        b_target = bias if bias >= 0 and needs[bias] else -1
        if needs[output]:
            self.backward_code.append((WSUM, output, (w_edges, x_edges), b_target, -1))

    def run(self, columns: Sequence[Any], params: list[float]) -> list[float]:
        """Replay the steps for each sample; returns the root values and keeps every value and slope."""
        program = self.program
        rows = zip(*[_python_column(c, i) for i, c in enumerate(columns)])
        shared = params + program.constants
        first = program.first_step_slot
        root = program.root_slot
        code = self.forward_code
        saved: list[list[float]] = []
        derivs: list[list[float]] = []
        out: list[float] = []
        for sample, row in enumerate(rows):
            v = shared + list(row)
            d: list[float] = []
            put = v.append
            slope = d.append
            try:
                for op, f, a, b in code:
                    if op == WSUM:
                        if f is not None:
                            total = sum(map(mul, f(v), a(v)))
                        else:
                            total = 0.0
                            for w, x in a:
                                total += v[w] * v[x]
                        put(total + v[b] if b >= 0 else total)
                    elif op == UNARY:
                        y, dy = f(v[a])
                        put(y)
                        slope(dy)
                    elif op == BINARY:
                        y, da, db = f(v[a], v[b])
                        put(y)
                        slope(da)
                        slope(db)
                    else:
                        operands = [v[i] for i in a]
                        if op == CHECKED:
                            f.check(operands, b)
                            result = f.fn(*operands) if b is None else f.fn(*operands, b)
                        else:
                            result = f(*operands)
                        put(result[0])
                        d += result[1:]
            except (ArithmeticError, ValueError) as error:
                step = program.steps[len(v) - first]
                fail(step, [v[i] for i in step.inputs], sample, error)
            check = sum(v[first:]) + sum(d)
            if check - check != 0.0:  # an inf or nan (a*b overflow): find it, as the scalar engine would
                self._explain(v, d, sample)
            saved.append(v)
            derivs.append(d)
            out.append(v[root])
        self.saved = saved
        self.derivs = derivs
        return out

    def _explain(self, v: list[float], d: list[float], sample: int) -> None:
        """Raise the scalar engine's error for the first step whose value or derivative is not finite."""
        for step, k in zip(self.program.steps, self.first_deriv):
            slopes = d[k : k + n_derivs(step)]
            if not all(math.isfinite(x) for x in (v[step.output], *slopes)):
                fail(step, [v[i] for i in step.inputs], sample)

    def rows(self, slots: Sequence[int]) -> list[list[float]]:
        """Each sample's values of these slots from the last run."""
        return [[v[s] for s in slots] for v in self.saved]

    def backward(self, weights: Sequence[float] | None) -> list[float]:
        """Reverse replay per sample; parameter adjoints accumulate across the batch."""
        program = self.program
        shared = program.n_params
        adj = [0.0] * (len(program.nodes) + 1)
        zeros = [0.0] * (len(adj) - shared)
        root = program.root_slot
        code = self.backward_code
        for sample, (v, d) in enumerate(zip(self.saved, self.derivs)):
            adj[shared:] = zeros  # interior adjoints restart; parameter adjoints keep summing
            adj[root] += 1.0 if weights is None else weights[sample]
            for op, o, targets, bias, k in code:
                g = adj[o]
                if g == 0.0:  # a dead relu, a satisfied hinge: nothing flows back
                    continue
                if op == WSUM:
                    w_edges, x_edges = targets
                    for w, x in w_edges:
                        adj[w] += v[x] * g
                    for x, w in x_edges:
                        adj[x] += v[w] * g
                    if bias >= 0:
                        adj[bias] += g
                elif op == 1:
                    adj[targets[0]] += d[k] * g
                elif op == 2:
                    adj[targets[0]] += d[k] * g
                    adj[targets[1]] += d[k + 1] * g
                else:
                    for j, t in enumerate(targets):
                        adj[t] += d[k + j] * g
        return adj[:shared]


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
        try:
            values = [float(x) for x in column] if kinds != {float} else list(column)
        except OverflowError:
            raise ValueError(f"tape.run(batch): column {index} holds an int too large for a float") from None
    total = sum(values)
    if total - total != 0.0:  # inf or nan somewhere (or a finite overflow: then check each)
        for j, x in enumerate(values):
            if not math.isfinite(x):
                raise ValueError(f"tape.run(batch): column {index}, sample {j} is not finite: {x!r}")
    return values
