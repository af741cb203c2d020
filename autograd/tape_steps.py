"""A graph recorded as a flat program: slots for every node, and one step per operation.

`Program(root, inputs, params)` numbers the graph's nodes (parameters, then constants, then
inputs, then one slot per operation in topological order) and lists each operation as a
`TapeStep` that holds its op-table row and constant. The back ends (tape_python, tape_numpy)
replay a Program; `autograd.tape.Tape` adds the public run/backward on top.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

from autograd.closure import is_closure_kind
from autograd.graph import topological_order
from autograd.oprecord import Op
from autograd.tape_forms import explain_array_error
from autograd.value import Value


class TapeStep(NamedTuple):
    """One recorded operation: `kind` (a row of the op table) reads `inputs` slots, writes `output`."""

    op: str
    inputs: tuple[int, ...]
    output: int
    kind: Op
    const: float | None = None  # the constant argument (the exponent of x**n), kept apart from the row


def fail(
    step: TapeStep, operands: Sequence[float], sample: int, cause: BaseException | None = None, form: str = ""
) -> None:
    """Raise the scalar engine's error for `step` on these operand values, naming the sample.

    `form` names the array form the engine ran instead of the rule, if it did (see `tape_forms.array_forms`).
    A rule that raises TypeError there (it returned a short tuple, a complex or a str, as
    `Op.shaped` checks) gives a TypeError; any other error type of a learner's rule (KeyError)
    passes through as the scalar engine raises it, with a note naming the step and sample.

    The row's rule is re-run on the failing operands by `Op.evaluate`, so the message is the one a
    scalar forward pass would give (`log(x) needs x > 0, got x=-2.0`), prefixed with where it happened.
    """
    where = f"tape step {step.op!r} (slot {step.output}) on sample {sample}"
    values = [float(v) for v in operands]
    try:
        step.kind.evaluate(values, step.const)
    except ZeroDivisionError as error:
        raise ZeroDivisionError(f"{where}: {error}") from cause
    except (ValueError, ArithmeticError) as error:
        raise ValueError(f"{where}: {error}") from cause
    except TypeError as error:  # a learner's rule returned the wrong shape or type, or raised it
        raise TypeError(f"{where}: {error}") from cause
    except Exception as error:  # any other error of a learner's rule keeps its type, with a note
        if hasattr(error, "add_note"):  # Python 3.11+
            error.add_note(f"(raised in {where})")
            raise
        raise RuntimeError(f"{where}: {type(error).__name__}: {error}") from error  # 3.10: named, not bare
    shown = ", ".join(f"{v!r}" for v in values)
    if form:  # the engine ran another form of the rule (`vectorized=`) than Op.evaluate does
        raise ValueError(
            f"{where}: op {step.kind.name!r}: its {form} gives a non-finite value at ({shown}), where its "
            "rule on floats does not: the two forms disagree (check_op compares them)"
        ) from cause
    raise ValueError(f"{where}: {step.op} of ({shown}) gives a non-finite value") from cause


def rule_columns(kind: Op, results: list[Any], n_operands: int) -> list[Sequence[float]]:
    """A learner's rule's per-sample results as columns (value, then one derivative per input).

    Checked as the scalar engine checks one result (`Op.shaped`): a tuple or list of exactly
    `n_operands + 1` real numbers for every sample. The common case, floats and ints in tuples of
    the right length, is checked with C-level passes over the batch; anything else (a short tuple,
    a NumPy scalar, a complex, a str) goes through `Op.shaped` sample by sample, which converts
    what the scalar engine accepts and raises its TypeError for the rest (the caller finds the
    sample). Without this, `zip` would cut every column to the shortest result.
    """
    width = n_operands + 1
    if set(map(type, results)) <= {tuple, list} and set(map(len, results)) <= {width}:
        columns: list[Sequence[float]] = list(zip(*results)) or [()] * width
        kinds = [set(map(type, c)) for c in columns]
        if all(k <= {float, int} for k in kinds):
            # ints (`return x, 1`) become floats here: an int beyond float range raises OverflowError,
            # which the engines answer with the scalar engine's error for its sample
            return [c if k <= {float} else tuple(map(float, c)) for c, k in zip(columns, kinds)]
    shaped = [kind.shaped(r, n_operands) for r in results]
    return list(zip(*shaped)) or [()] * width


class Program:
    """The graph of `root` as slots and steps (see the module docstring); checks what it is given."""

    def __init__(self, root: Value, inputs: Sequence[Value], params: Sequence[Value]) -> None:
        """Number the nodes and list the steps; raises on leaves that are not in root's graph."""
        if not isinstance(root, Value):
            raise TypeError(f"compile(root) needs a Value, got {type(root).__name__}")
        self.root = root
        self.inputs = _leaf_list(inputs, "inputs")
        self.params = _leaf_list(params, "params")
        if not self.inputs:
            raise ValueError("compile needs at least one input placeholder (the batch's columns)")
        if set(map(id, self.inputs)) & set(map(id, self.params)):
            raise ValueError("compile: a Value cannot be both an input and a parameter")

        order = topological_order(root)
        self._check_in_graph(order)
        chosen = set(map(id, self.inputs)) | set(map(id, self.params))
        leaves = [not v.parents for v in order]
        constants = [v for v, leaf in zip(order, leaves) if leaf and id(v) not in chosen]
        interior = [v for v, leaf in zip(order, leaves) if not leaf]

        self.nodes: list[Value] = [*self.params, *constants, *self.inputs, *interior]
        slot = dict(zip(map(id, self.nodes), range(len(self.nodes))))
        self._slot = slot
        self.n_params = len(self.params)
        self.constants = [v.data for v in constants]
        first_input = len(self.params) + len(constants)
        self.input_slots = list(range(first_input, first_input + len(self.inputs)))
        self.first_step_slot = len(self.nodes) - len(interior)
        self.steps: list[TapeStep] = [self._step(v, slot) for v in interior]
        self.root_slot = slot[id(root)]

        self.needs_grad = self._needs_grad()

    def _check_in_graph(self, order: list[Value]) -> None:
        """A ValueError naming the first input or parameter that root does not depend on."""
        in_graph = set(map(id, order))
        for name, group in (("inputs", self.inputs), ("params", self.params)):
            if in_graph.issuperset(map(id, group)):
                continue  # the common case, in one pass; the loop below names the first one missing
            for i, v in enumerate(group):
                if id(v) not in in_graph:
                    raise ValueError(
                        f"compile: {name}[{i}] (label {v.label!r}, data {v.data!r}) is not a leaf "
                        "of the graph of root (root does not depend on it)"
                    )

    def _needs_grad(self) -> list[bool]:
        """Per slot: does it need an adjoint (it is a parameter or depends on one)?"""
        needs = [False] * len(self.nodes)
        for i in range(self.n_params):
            needs[i] = True
        for s in self.steps:
            needs[s.output] = any(map(needs.__getitem__, s.inputs))
        return needs

    @staticmethod
    def _step(v: Value, slot: dict[int, int]) -> TapeStep:
        """The step that replays node `v`; a node whose slopes came from a closure cannot be replayed."""
        kind = v.operation
        if kind is None or is_closure_kind(kind):
            raise ValueError(
                f"compile: node {v.label or v.op!r} was made by a _backward closure "
                "(Value(data, children, op)), whose local derivatives are known at one point only; "
                "define the operation with @autograd.op so the tape can evaluate it for every sample"
            )
        return TapeStep(v.op, tuple(map(slot.__getitem__, map(id, v.parents))), slot[id(v)], kind, v.const)

    def slot_of(self, v: Value) -> int:
        """The slot of graph node `v`, or a ValueError when it is not a node of this program."""
        i = self._slot.get(id(v))
        if i is None or self.nodes[i] is not v:
            raise ValueError(f"tape.values: {v!r} (label {v.label!r}) is not a node of this tape")
        return i


def _leaf_list(values: Sequence[Value], name: str) -> list[Value]:
    """`values` as a list of distinct leaf Values, or a TypeError/ValueError naming the culprit."""
    if isinstance(values, Value) or not isinstance(values, Sequence):
        raise TypeError(f"compile({name}) needs a list of Values, got {type(values).__name__}")
    distinct = len(set(map(id, values))) == len(values)
    if distinct and all(isinstance(v, Value) and not v.parents for v in values):
        return list(values)  # the common case, checked in one pass; the loop below names a culprit
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



def layers(program: Program) -> tuple[list[list[TapeStep]], list[int]]:
    """The steps grouped for the array back ends, and each slot's row in their value arrays.

    A group is the steps of one op-table row (same operand count and constant) at one depth (one
    more than the deepest input's), so a layer's activations are one call of the row's rule on
    arrays; groups come in depth order. Rows: leaves keep their slot numbers, each group's outputs
    get consecutive rows (read and written as one slice).
    """
    depth = [0] * len(program.nodes)
    buckets: dict[tuple[int, int, int, float | None], list[TapeStep]] = {}
    for s in program.steps:
        d = 1 + max(map(depth.__getitem__, s.inputs))
        depth[s.output] = d
        buckets.setdefault((d, id(s.kind), len(s.inputs), s.const), []).append(s)
    row = list(range(len(program.nodes)))
    nxt = program.first_step_slot
    groups = [buckets[key] for key in sorted(buckets, key=lambda k: k[0])]
    for steps in groups:
        for s in steps:
            row[s.output] = nxt
            nxt += 1
    return groups, row


def fail_on_arrays(
    steps: Sequence[TapeStep], operands: Callable[[TapeStep, int], list[float]], size: int,
    error: Exception, form: str,
) -> NoReturn:
    """Raise for a group of `steps` whose rule (or domain check) raised `error` on arrays of `size`
    samples: the scalar engine's error for the first sample where a step fails on floats (as the
    pure-Python tape raises it, naming the sample); else, when every sample works on floats, `error`
    with the op, the form that failed and (for an `if` on an array) the fix. `operands(step, sample)`
    are the step's input values for one sample."""
    for sample in range(size):
        for step in steps:
            values = operands(step, sample)
            try:
                step.kind.evaluate(values, step.const)
            except Exception:
                fail(step, values, sample, error)
    step = steps[0]
    text = explain_array_error(error)
    wrong_types = isinstance(error, TypeError) or text != str(error)  # or an `if` on an array
    message = (
        f"tape step {step.op!r} (slot {step.output}): op {step.kind.name!r}: its {form} failed on "
        f"arrays of {size} samples (each sample alone works on floats): {type(error).__name__}: {text}"
    )
    if wrong_types:
        raise TypeError(message) from error
    raise ValueError(message) from error
