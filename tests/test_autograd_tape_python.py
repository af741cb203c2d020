"""The pure-Python tape's column replay: every built-in rule on a Batch and the fused wsum equal the
op table bit for bit, errors name the first failing sample, and sparse adjoints give exact gradients."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

import autograd
from autograd import FLOATS, TABLE, Op, Value, compile, mathspace, topological_order, weighted_sum
from autograd.tape_python import BATCH, Batch

BUILTINS = {name: row for name, row in TABLE.items() if row.builtin and name != "wsum"}
EXTREMES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -3e-300, 2.2250738585072014e-308, 0.1, -0.7, 1.0, 3.0,
            -2.5, 1e-8, -1e-8, 20.0, -40.0, 709.78, 710.0, -745.2, 1e10, 1e154, -1e154, 1e300, -1.7e308]
CONSTS = (2.0, 3.0, 0.5, -1.0, -2.0, 0.0, 1.0, 2.5, 1 / 3)  # the exponents n of x**n


def bits(x: Any) -> str:
    """The exact float, sign of zero included ('nan' and 'inf' too)."""
    return float(x).hex()


def per_sample(row: Op, columns: Sequence[Sequence[float]], const: float | None) -> list[Any]:
    """The row's rule on each sample's floats: (value, slopes...) or the exception type it raised."""
    out: list[Any] = []
    for operands in zip(*columns):
        args = (*operands, const) if const is not None else operands
        try:
            out.append(tuple(map(bits, row.fn(*args))))
        except (ArithmeticError, ValueError) as error:
            out.append(type(error))
    return out


def on_batch(row: Op, columns: Sequence[Sequence[float]], const: float | None, m: Any = BATCH) -> Any:
    """The row's rule called once on Batch operands: one (value, slopes...) tuple per sample."""
    args: list[Any] = [Batch(list(c)) for c in columns]
    if const is not None:
        args.append(const)
    result = row.fn(*args, m=m)
    lanes = [r.items if isinstance(r, Batch) else [r] * len(columns[0]) for r in result]
    return [tuple(map(bits, sample)) for sample in zip(*lanes)]


def mismatches(row: Op, columns: Sequence[Sequence[float]], const: float | None, m: Any = BATCH) -> list[str]:
    """Where the Batch evaluation differs from the rule per sample (an error must be raised alike)."""
    want = per_sample(row, columns, const)
    problems = []
    good = [i for i, w in enumerate(want) if isinstance(w, tuple)]
    got = on_batch(row, [[c[i] for i in good] for c in columns], const, m)
    for i, g in zip(good, got):
        if g != want[i]:
            problems.append(f"{row.name} sample {[c[i] for c in columns]} const {const}: {g} != {want[i]}")
    for i, w in enumerate(want):
        if not isinstance(w, tuple):  # the same error type, raised from inside the whole batch
            try:
                on_batch(row, [[*(c[j] for j in good[:3]), c[i]] for c in columns], const, m)
                problems.append(f"{row.name} at {[c[i] for c in columns]}: no {w.__name__} on a batch")
            except (ArithmeticError, ValueError) as error:
                if not isinstance(error, w):
                    problems.append(f"{row.name}: {type(error).__name__}, per sample {w.__name__}")
    return problems


def columns_for(row: Op, rng: random.Random) -> list[list[float]]:
    """Operand columns: every extreme against every extreme (binary rows), plus random values."""
    if row.arity == 1:
        return [EXTREMES + [rng.uniform(-5, 5) for _ in range(40)]]
    pairs = [(a, b) for a in EXTREMES for b in EXTREMES]
    pairs += [(rng.uniform(-5, 5), rng.uniform(-5, 5)) for _ in range(40)]
    return [[a for a, _ in pairs], [b for _, b in pairs]]


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_rule_on_a_batch_equals_the_rule_per_sample(name: str) -> None:
    """The rule run once on whole columns (m=BATCH) gives each sample's floats bit for bit, or its error."""
    row = BUILTINS[name]
    assert row.takes_m, f"{name}: a built-in rule must take the math namespace m"
    columns = columns_for(row, random.Random(name))
    for const in CONSTS if row.const is not None else (None,):
        assert mismatches(row, columns, const) == []


def test_the_bit_comparison_fails_for_a_namespace_off_by_one_ulp() -> None:
    """The check above can fail: exp one ulp high on a batch is reported."""
    names = {name: getattr(BATCH, name) for name in mathspace.__all__}
    names["exp"] = lambda x: Batch([math.nextafter(math.exp(v), math.inf) for v in x.items])
    problems = mismatches(TABLE["exp"], [[0.5, -1.0, 2.0]], None, m=SimpleNamespace(**names))
    assert len(problems) == 3


def test_batch_namespace_mirrors_mathspace() -> None:
    """BATCH has every name the float namespace has; on plain numbers each is the float function."""
    two_operands = ("maximum", "minimum", "power", "where")
    for name in mathspace.__all__:
        here, there = getattr(BATCH, name), getattr(mathspace, name)
        if isinstance(there, float):
            assert here == there
            continue
        args = (0.75, 2.0) if name in two_operands else (0.75,)
        args = (True, 1.0, 2.0) if name == "where" else args
        assert bits(here(*args)) == bits(there(*args)), name
    assert BATCH.where(Batch([1.0, -1.0]) > 0.0, Batch([3.0, 4.0]), 0.0).items == [3.0, 0.0]


def test_a_rule_cannot_branch_on_a_batch() -> None:
    """`if` on a Batch is a TypeError naming m.where, never a silent choice for every sample."""
    with pytest.raises(TypeError, match=r"m\.where"):
        bool(Batch([1.0]) > 0.0)
    assert (Batch([1.0, 2.0]) == 2.0).items == [False, True]
    with pytest.raises(TypeError):
        hash(Batch([1.0]))


# ---------------------------------------------------------------- the replay against the table


@pytest.fixture
def branching_op() -> Iterator[Op]:
    """A learner's rule that branches with `if` (fine on floats: the tape runs it per sample)."""

    @autograd.op(rule="2x if x > 0 else -1", name="t12_branchy")
    def branchy(x: float, m: Any = FLOATS) -> tuple[float, float]:
        """x^2 for x > 0, else -x; d/dx = 2x or -1."""
        if x > 0:
            return x * x, 2.0 * x
        return -x, -1.0

    yield branchy
    TABLE.pop("t12_branchy", None)


def graphs(branchy: Op) -> dict[str, Callable[[list[Value], list[Value]], Value]]:
    """Graphs over inputs x and params p that reach every replay path (fused wsum shapes included)."""
    return {
        "mlp": lambda x, p: weighted_sum(
            p[4:6], [weighted_sum(p[0:2], x[0:2], p[2]).relu(), weighted_sum(p[2:4], x[0:2]).tanh()], p[6]
        ).sigmoid(),
        "wsum of one pair, of shared operands only": lambda x, p: weighted_sum([p[0]], [x[0]])
        + weighted_sum(p[0:2], p[2:4], p[4]) * x[1],
        "wsum with interior weights and a reused slot": reused_interior_slot,
        "wide wsum": lambda x, p: weighted_sum([*p, *p], [*x, *x, *x, *x][: 2 * len(p)], p[1]).abs(),
        "every unary": lambda x, p: (x[0] * p[0]).exp() + (x[1] * x[1] + 1.0).log()
        + (x[0] * x[0] + 0.5).sqrt() + (x[1] * p[1]).step() + (x[0] * p[2]).sign() - (x[1] * p[3]) ** 3
        + (x[0] * x[0] + 1.0) ** (1 / 3),
        "binary": lambda x, p: p[0] / (x[0] * x[0] + 1.0) - (x[1] * x[1] + 2.0) ** p[1] * -x[0],
        "learner's op per sample": lambda x, p: branchy(x[0] * p[0] + x[1]) * branchy(p[1] - x[1]),
    }


def reused_interior_slot(x: list[Value], p: list[Value]) -> Value:
    """One interior node as a weight, an input and the bias of the same wsum."""
    t = x[0] * p[0]
    return weighted_sum([t, x[1]], [t, p[1] + x[1]], t)


def per_sample_table_values(tape: Any, rows: list[list[float]]) -> list[list[str]]:
    """Each step's value recomputed from its parents' replayed values by the table rule itself."""
    nodes = tape.nodes[tape.first_step_slot:]
    want: list[list[str]] = []
    for sample in rows:
        value_of = dict(zip(map(id, tape.nodes), sample))
        line = []
        for node, step in zip(nodes, tape.steps):
            operands = [value_of[id(p)] for p in node.parents]
            args = (*operands, step.const) if step.const is not None else operands
            line.append(bits(step.kind.fn(*args)[0]))
        want.append(line)
    return want


@pytest.mark.parametrize("size", [1, 2, 7, 64])
def test_replayed_values_equal_the_rows_per_sample_bit_for_bit(branching_op: Op, size: int) -> None:
    """Every step of every graph, fused wsum included, is the table rule on that sample's operands."""
    rng = random.Random(size)
    for name, build in graphs(branching_op).items():
        xs = [Value(0.5, label=f"x{i}") for i in range(4)]
        ps = [Value(rng.uniform(-2, 2), label=f"p{i}") for i in range(7)]
        root = build(xs, ps)
        in_graph = {id(v) for v in topological_order(root)}
        inputs = [x for x in xs if id(x) in in_graph]
        params = [p for p in ps if id(p) in in_graph]
        tape = compile(root, inputs, params, backend="python")
        columns = [[rng.choice([rng.uniform(-3, 3), rng.choice(EXTREMES[:12])]) for _ in range(size)]
                   for _ in inputs]
        tape.run(columns)
        rows = tape.values(tape.nodes)
        got = [list(map(bits, r[tape.first_step_slot:])) for r in rows]
        assert got == per_sample_table_values(tape, rows), name


def test_values_of_no_nodes_and_of_an_empty_batch() -> None:
    """values([]) gives one empty row per sample; an empty batch gives no rows and no gradient."""
    x, w, b = Value(0.0), Value(2.0), Value(0.5)
    tape = compile(weighted_sum([w], [x], b).relu(), [x], [w, b], backend="python")
    tape.run([[1.0, -3.0]])
    assert tape.values([]) == [[], []]
    assert tape.run([[]]) == []
    assert tape.values([w, x]) == []
    tape.backward()
    assert (w.grad, b.grad) == (0.0, 0.0)


# ---------------------------------------------------------------- errors, as the scalar engine gives them


def test_the_first_failing_sample_is_named_even_when_a_later_one_fails_earlier() -> None:
    """Sample 1 fails at the last step, sample 2 at the first: the error is sample 1's, as in B
    separate scalar passes (the column replay sees step order first, then finds the sample)."""
    x, y = Value(1.0, label="x"), Value(9.0, label="y")
    first = x.log()
    root = first + (y - 5.0).sqrt()
    tape = compile(root, [x, y], [], backend="python")
    with pytest.raises(ValueError) as caught:
        tape.run([[1.0, 2.0, -1.0], [9.0, 4.0, 9.0]])
    message = str(caught.value)
    assert "on sample 1" in message
    with pytest.raises(ValueError) as scalar:
        (Value(2.0).log() + (Value(4.0) - 5.0).sqrt())
    assert message.endswith(str(scalar.value))


def test_overflow_names_the_op_and_the_sample() -> None:
    """exp past the float range in one sample of many: a ValueError naming exp and that sample."""
    x = Value(0.0)
    tape = compile((x * 2.0).exp().relu(), [x], [], backend="python")
    with pytest.raises(ValueError, match=r"'exp'.*sample 3.*exp: e\^x at x=1000.0 overflows"):
        tape.run([[0.0, 1.0, 2.0, 500.0, 600.0]])
    tape = compile(weighted_sum([Value(1e200)], [x]), [x], [], backend="python")
    with pytest.raises(ValueError, match=r"'wsum'.*sample 1.*overflows"):
        tape.run([[1.0, 1e200]])


def test_a_finite_batch_whose_total_overflows_is_no_error() -> None:
    """The one finiteness check sums every column: a sum past the float range is looked into, not raised."""
    x, w = Value(0.0), Value(1.0)
    tape = compile(x * w, [x], [w], backend="python")
    big = [1.7e308, 1.7e308, -1e300]
    assert tape.run([big]) == big


# ---------------------------------------------------------------- gradients where little flows back


def hinge_mlp(x: Sequence[Value], p: Sequence[Value]) -> Value:
    """relu(1 - y * mlp(x)): dead relus and satisfied hinges leave most adjoints at 0."""
    h = [weighted_sum(p[3 * i:3 * i + 2], x[:2], p[3 * i + 2]).relu() for i in range(4)]
    return (1.0 - x[2] * weighted_sum(p[12:16], h, p[16])).relu()


@pytest.mark.parametrize("size", [1, 2, 3, 9, 50])
def test_gradients_with_mostly_zero_adjoints_equal_separate_scalar_passes(size: int) -> None:
    """Weight gradients summed only over the samples where something flows back are exact."""
    rng = random.Random(size)
    ps = [Value(rng.uniform(-1, 1)) for _ in range(17)]
    xs = [Value(0.5), Value(0.5), Value(1.0)]
    tape = compile(hinge_mlp(xs, ps), xs, ps, backend="python")
    columns = [[rng.uniform(-2, 2) for _ in range(size)], [rng.uniform(-2, 2) for _ in range(size)],
               [rng.choice([-1.0, 1.0]) for _ in range(size)]]
    weights = [rng.choice([0.0, 0.5, 1.0]) for _ in range(size)]
    tape.run(columns)
    tape.backward(weights)
    by_tape = [p.grad for p in ps]
    for p in ps:
        p.grad = 0.0
    for i in range(size):
        with autograd.accumulating():  # separate passes summed on purpose
            (hinge_mlp([Value(c[i]) for c in columns], ps) * weights[i]).backward()
    for t, s in zip(by_tape, [p.grad for p in ps]):
        assert t == pytest.approx(s, rel=1e-12, abs=1e-300)


def test_a_parameter_used_as_weight_input_and_bias_gets_every_edge() -> None:
    """w * w + w through one wsum: three edges into one parameter, for every sample."""
    w, x = Value(1.5), Value(1.0)
    tape = compile(weighted_sum([w, x], [w, w], w), [x], [w], backend="python")
    tape.run([[1.0, -2.0, 0.0]])
    tape.backward()
    assert w.grad == sum(2.0 * 1.5 + xi + 1.0 for xi in (1.0, -2.0, 0.0))


@pytest.mark.parametrize("size", [1, 5])
def test_gradients_of_every_graph_equal_separate_scalar_passes(branching_op: Op, size: int) -> None:
    """Parameters read by rules (not only by wsum), interior weights and learners' ops: 1e-12 relative."""
    rng = random.Random(size)
    for name, build in graphs(branching_op).items():
        xs = [Value(0.5) for _ in range(4)]
        ps = [Value(rng.uniform(-2, 2)) for _ in range(7)]
        root = build(xs, ps)
        in_graph = {id(v) for v in topological_order(root)}
        inputs = [x for x in xs if id(x) in in_graph]
        params = [p for p in ps if id(p) in in_graph]
        tape = compile(root, inputs, params, backend="python")
        columns = [[rng.uniform(-2, 2) for _ in range(size)] for _ in inputs]
        tape.run(columns)
        tape.backward()
        by_tape = [p.grad for p in params]
        for p in params:
            p.grad = 0.0
        for i in range(size):
            for x, c in zip(inputs, columns):
                x.data = c[i]
            with autograd.accumulating():  # separate passes summed on purpose
                build(xs, ps).backward()
        for t, s in zip(by_tape, [p.grad for p in params]):
            assert t == pytest.approx(s, rel=1e-12, abs=1e-300), name


def mixed_consumers(x: Sequence[Value], p: Sequence[Value], sparse_first: bool) -> Value:
    """h feeds a wsum whose adjoint is 0 in most samples (a mostly dead relu after it), a dense
    wsum and a product: its adjoint mixes scattered and summed terms, in either order."""
    h = (x[0] * p[0]).tanh()
    mostly_dead = weighted_sum([p[1]], [h], p[2]).relu()
    dense = weighted_sum([p[3], p[5]], [h, x[0]]) + h * p[4]
    return mostly_dead + dense if sparse_first else dense + mostly_dead


@pytest.mark.parametrize("sparse_first", [True, False])
def test_an_adjoint_mixing_scattered_and_summed_terms_equals_scalar_passes(sparse_first: bool) -> None:
    """Terms scattered into the few live samples and terms summed over all, in both orders."""
    rng = random.Random(7)
    ps = [Value(v) for v in (1.3, 2.0, -1.6, 0.7, -0.4, 0.9)]  # relu(2 h - 1.6) lives only where h > 0.8
    x = [Value(0.5)]
    tape = compile(mixed_consumers(x, ps, sparse_first), x, ps, backend="python")
    column = [rng.uniform(-2, 2) for _ in range(40)]
    tape.run([column])
    tape.backward()
    by_tape = [p.grad for p in ps]
    for p in ps:
        p.grad = 0.0
    for value in column:
        with autograd.accumulating():  # separate passes summed on purpose
            mixed_consumers([Value(value)], ps, sparse_first).backward()
    assert 0 < sum(1 for v in column if math.tanh(1.3 * v) > 0.8) < 0.6 * len(column)
    for t, s in zip(by_tape, [p.grad for p in ps]):
        assert t == pytest.approx(s, rel=1e-12, abs=1e-300)
