"""Everything special about an operation lives in its row; a learner's op is theirs, whatever its name.

A new n-ary or fused op, defined here and nowhere else, is replayed by both tapes and drawn by viz
through its row's attributes alone; no module outside the op table asks which row a node has; a
learner may name an op like a built-in ("tanh", or a "softplus" a later release adds) and it stays
theirs (values, symbol, rule, tape), pickled by where it is defined.
"""

from __future__ import annotations

import ast
import copy
import math
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import autograd
import viz
from autograd import FLOATS, TABLE, Value, compile, ops, scope, topological_order
from viz.names import edge_rule, expression, symbol_of, term_of, value_names

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("python", "numpy")


# ---------------------------------------------------------------- a new fused op, known by its row


@autograd.op(symbol="w·x", rule=("x_i", "w_i", "1"), formula="Σ w_i x_i + b", weighted_sum=True,
             name="t20_dot", points=[(0.5, 2.0, -1.0), (1.5, -0.25, 2.0, 4.0)])
def t20_dot(*operands: float, m: Any = FLOATS) -> tuple[float, ...]:
    """w0*x0 + w1*x1 + ... (+ b), written out independently of ops.wsum."""
    n = len(operands) - len(operands) % 2
    total = 0.0
    slopes: list[float] = []
    for w, x in zip(operands[0:n:2], operands[1:n:2]):
        total = total + w * x
        slopes += [x, w]
    if len(operands) % 2:
        total = total + operands[-1]
        slopes.append(1.0)
    return (total, *slopes)


@autograd.op(symbol="Σ", rule="1", formula="x_1 + x_2 + ...", name="t20_total")
def t20_total(*operands: float, m: Any = FLOATS) -> tuple[float, ...]:
    """x_1 + x_2 + ...; d/dx_i = 1 (n-ary, not a weighted sum)."""
    return (sum(operands, 0.0), *(1.0 for _ in operands))


def network(x: list[Value], params: list[Value]) -> Value:
    """Two t20_dot neurons over x (tanh), summed by t20_total, squared: only the new rows and built-ins."""
    hidden = []
    for k in range(2):
        with scope(f"L1.n{k}"):
            w = params[3 * k : 3 * k + 2]
            hidden.append(t20_dot(w[0], x[0], w[1], x[1], params[3 * k + 2]).tanh())
    return t20_total(*hidden, x[0]) ** 2


def scalar_run(params: list[float], batch: list[list[float]]) -> tuple[list[float], list[float]]:
    """Per-sample scalar engine: root values and the batch-summed parameter gradients."""
    values, grads = [], [0.0] * len(params)
    for sample in zip(*batch):
        ps = [Value(p) for p in params]
        root = network([Value(v) for v in sample], ps)
        root.backward()
        values.append(root.data)
        grads = [g + p.grad for g, p in zip(grads, ps)]
    return values, grads


PARAMS = [0.5, -1.25, 0.25, 2.0, 0.75, -0.5]
BATCH = [[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.75, 3.0]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_weighted_sum_row_is_replayed_by_the_tapes_through_its_row(backend: str) -> None:
    """The tapes replay t20_dot (weighted_sum=True) and t20_total (n-ary) as the scalar engine does."""
    if backend == "numpy":
        pytest.importorskip("numpy")
    params = [Value(p, label=f"p{i}") for i, p in enumerate(PARAMS)]
    xs = [Value(0.0, label="x0"), Value(0.0, label="x1")]
    tape = compile(network(xs, params), xs, params, backend=backend)
    assert {s.kind for s in tape.steps} >= {t20_dot, t20_total}
    want_values, want_grads = scalar_run(PARAMS, BATCH)
    got = [float(v) for v in tape.run(BATCH)]
    assert got == pytest.approx(want_values, rel=1e-13)
    tape.backward()
    assert [p.grad for p in params] == pytest.approx(want_grads, rel=1e-12)


def test_the_numpy_tape_groups_a_new_weighted_sum_row_as_one_matrix_product() -> None:
    """Both t20_dot neurons read the same inputs: one dense group, as a layer of "wsum"s would be."""
    pytest.importorskip("numpy")
    params = [Value(p, label=f"p{i}") for i, p in enumerate(PARAMS)]
    xs = [Value(0.0, label="x0"), Value(0.0, label="x1")]
    tape = compile(network(xs, params), xs, params, backend="numpy")
    groups = [g for g in tape._engine.groups if g.kind is t20_dot]  # type: ignore[attr-defined]
    assert len(groups) == 1 and len(groups[0].steps) == 2 and groups[0].dense is True


def test_a_weighted_sum_row_whose_rule_is_not_one_is_refused() -> None:
    """weighted_sum=True promises the tapes a sum of products: a rule that is not one is a ValueError."""
    with pytest.raises(ValueError, match=r"op 't20_bad': weighted_sum=True needs the rule"):
        autograd.op(lambda *o, m=FLOATS: (sum(o), *(1.0 for _ in o)), rule="1", weighted_sum=True,
                    name="t20_bad")
    with pytest.raises(ValueError, match=r"op 't20_unary': a weighted sum takes \*operands"):
        autograd.op(lambda x: (x, 1.0), rule="1", weighted_sum=True, name="t20_unary")


def test_viz_draws_a_new_weighted_sum_row_term_by_term() -> None:
    """Diagram symbol, edge rules, terms, expression and the δ node come from the row's attributes."""
    w0, x0 = Value(0.5, label="w0"), Value(2.0, label="x0")
    w1, x1 = Value(-1.0, label="w1"), Value(3.0, label="x1")
    z = t20_dot(w0, x0, w1, x1)
    names = value_names(topological_order(z))
    assert symbol_of(z) == "w·x"
    assert [edge_rule(z, k, names)[0] for k in range(4)] == ["x0", "w0", "x1", "w1"]
    assert term_of(z, 2, names) == "w1·x1"
    assert expression(z, names) == "w0·x0 + w1·x1"
    z.backward()
    data, _ = viz.trace(z)
    root = data.by_id[data.root]
    assert root.weighted_sum and root.symbol == "w·x"
    assert [e.term for e in data.edges] == ["w0·x0", "w0·x0", "w1·x1", "w1·x1"]
    assert "w·x" in viz.draw(z).source


def test_deltas_finds_a_neuron_made_by_a_new_weighted_sum_row() -> None:
    """viz.deltas finds the neuron's z by the row's `weighted_sum`, not by which row it is."""
    params = [Value(p, label=f"p{i}") for i, p in enumerate(PARAMS)]
    root = network([Value(0.5, label="x0"), Value(1.5, label="x1")], params)
    found = viz.deltas(root, "L1.n1")
    z = 2.0 * 0.5 + 0.75 * 1.5 - 0.5
    assert found.z == pytest.approx(z, rel=1e-15)
    assert [w.input_value for w in found.weights] == [0.5, 1.5]


def test_viz_draws_a_new_n_ary_row_by_its_rule() -> None:
    """An n-ary row that is not a weighted sum: one edge per operand, each with the row's rule."""
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    s = t20_total(a, b, c)
    assert (s.data, s.local_grads) == (6.0, (1.0, 1.0, 1.0))
    data, _ = viz.trace(s)
    assert not data.by_id[data.root].weighted_sum and data.by_id[data.root].symbol == "Σ"
    assert [(e.rule, e.term) for e in data.edges] == [("1", ""), ("1", ""), ("1", "")]


def test_check_op_tries_an_n_ary_row_at_its_own_points() -> None:
    """check_op reads `Op.points`: every derivative at each point (3 + 4 operands) is checked."""
    report = autograd.check_op(t20_dot)
    assert report and report.checked == 7


# ---------------------------------------------------------------- nothing asks which row a node has

PRODUCT = ("autograd", "nn", "viz")
TABLE_MODULES = {"autograd/ops.py", "autograd/oprecord.py"}
# (file, row) pairs that may be asked about by identity, on purpose. The losses know the built-in
# sigmoid's math (binary cross-entropy from its logit), so a learner's own "sigmoid" is never
# mistaken for it; Value's + and * are the one marked fast path the issue allows (checked bit for
# bit against the rows by tests/test_autograd_optable.py). The exercise's catalogue of learners'
# mistakes names the rules they are about (σ' given as σ, tanh' as 1 − x², a product's other
# factor, sub's sign). Machinery (tapes, diagrams) never asks.
ALLOWED = {
    ("nn/losses.py", "sigmoid"), ("nn/tape_engine.py", "sigmoid"),
    ("autograd/value.py", "add"), ("autograd/value.py", "mul"),
    ("viz/mistakes.py", "sigmoid"), ("viz/mistakes.py", "tanh"),
    ("viz/mistakes.py", "mul"), ("viz/mistakes.py", "sub"),
}


def row_identity_questions(source: str) -> list[tuple[int, str]]:
    """(line, row) of each comparison against a specific row: `ops.<row>`, or "?" for `TABLE[...]`
    and for an op name compared with a string (`node.op == "wsum"`)."""

    def rows(node: ast.AST) -> list[str]:
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [r for e in node.elts for r in rows(e)]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ops":
            return [node.attr]
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "TABLE":
            return ["?"]
        return []

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        found += [(node.lineno, r) for o in operands for r in rows(o)]
        strings = any(isinstance(o, ast.Constant) and isinstance(o.value, str) for o in operands)
        if strings and any(isinstance(o, ast.Attribute) and o.attr == "op" for o in operands):
            found.append((node.lineno, "?"))
    return found


def test_no_module_outside_the_table_asks_which_row_a_node_has() -> None:
    """No `is ops.wsum`, `== TABLE["tanh"]` or `.op == "wsum"` in autograd, nn or viz (but the table)."""
    problems = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).glob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in TABLE_MODULES:
                continue
            for line, row in sorted(set(row_identity_questions(path.read_text(encoding="utf-8")))):
                if (rel, row) not in ALLOWED:
                    problems.append(f"{rel}:{line} asks about row {row!r}")
    assert problems == []


@pytest.mark.parametrize(
    "code", ["if v.operation is ops.wsum: pass", "ok = row in (ops.relu, ops.step)",
             "def f(v):\n    return v.operation == TABLE['tanh']", "if node.op == 'wsum': pass"]
)
def test_the_row_identity_check_can_fail(code: str) -> None:
    """The scan above flags each way of asking which row a node has."""
    assert row_identity_questions(code)


# ---------------------------------------------------------------- a learner's op named like a built-in


def test_a_learner_tanh_is_theirs_and_the_builtin_stays_builtin() -> None:
    """A learner's "tanh" (twice the real one): their row, symbol, rule and tape; x.tanh() is built-in."""

    @autograd.op(symbol="my tanh", rule="2 (1 - tanh(x)^2)", name="tanh")
    def my_tanh(x: float) -> tuple[float, float]:
        """2 tanh(x); d/dx = 2 (1 - tanh(x)^2), so it cannot pass for the built-in."""
        t = math.tanh(x)
        return 2.0 * t, 2.0 * (1.0 - t * t)

    assert TABLE["tanh"] is ops.tanh
    x = Value(0.3, label="x")
    mine, builtin = my_tanh(x), x.tanh()
    assert (mine.op, builtin.op) == ("tanh", "tanh")
    assert mine.operation is my_tanh and builtin.operation is ops.tanh
    assert mine.data == pytest.approx(2 * math.tanh(0.3), rel=1e-15)
    names = value_names(topological_order(mine))
    assert symbol_of(mine) == "my tanh" and symbol_of(builtin) == "tanh"
    assert edge_rule(mine, 0, names)[0].startswith("2 ")
    root = mine + builtin
    for backend in BACKENDS:
        if backend == "numpy":
            pytest.importorskip("numpy")
        tape = compile(root, [x], [], backend=backend)
        got = [float(v) for v in tape.run([[0.3, -1.0]])]
        assert got == pytest.approx([3 * math.tanh(0.3), 3 * math.tanh(-1.0)], rel=1e-14)


def readme_softplus_cell() -> autograd.Op:
    """The README's softplus cell, as a learner's notebook runs it."""

    @autograd.op(symbol="softplus", rule="1 / (1 + e^-x)", latex=r"\frac{1}{1 + e^{-x}}")
    def softplus(x: float) -> tuple[float, float]:
        """softplus(x) = log(1 + e^x), a smooth relu; d/dx = 1/(1 + e^-x)."""
        return math.log1p(math.exp(x)), 1 / (1 + math.exp(-x))

    return softplus


def test_a_builtin_added_later_breaks_no_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A release that adds a built-in "softplus" (simulated) leaves the README's cell working and theirs."""
    monkeypatch.setattr(autograd.oprecord, "TABLE", dict(TABLE))
    before = readme_softplus_cell()

    @autograd.op(symbol="sp", rule="σ(x)", name="softplus", _builtin=True)
    def released(x: float, m: Any = FLOATS) -> tuple[float, float]:
        """The new built-in softplus."""
        return m.log1p(m.exp(x)), 1 / (1 + m.exp(-x))

    assert autograd.oprecord.TABLE["softplus"] is released
    after = readme_softplus_cell()  # the notebook, re-run on the new release
    for mine in (before, after):
        s = mine(Value(0.3, label="x"))
        assert s.operation is mine and mine is not released and s.operation.symbol == "softplus"
        assert s.data == pytest.approx(math.log1p(math.exp(0.3)), rel=1e-15)
    assert autograd.oprecord.TABLE["softplus"] is released


# ---------------------------------------------------------------- copies and pickles of a learner's row

LEARNER_MODULE = '''
"""A learner's module: an op named like a built-in, and one that is reassigned."""
import math

import autograd


@autograd.op(symbol="my tanh", rule="2 (1 - tanh(x)^2)", name="tanh")
def double_tanh(x):
    """2 tanh(x)."""
    t = math.tanh(x)
    return 2.0 * t, 2.0 * (1.0 - t * t)


@autograd.op(rule="1", name="first")
def replaced(x):
    """Replaced below: the row made here is no longer at t20_learner.replaced."""
    return x, 1.0


old_replaced = replaced


@autograd.op(rule="2", name="second")
def replaced(x):
    """2x."""
    return 2.0 * x, 2.0
'''


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The learner's module t20_learner, importable from tmp_path."""
    (tmp_path / "t20_learner.py").write_text(textwrap.dedent(LEARNER_MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "t20_learner", raising=False)
    import t20_learner  # type: ignore[import-not-found]

    yield t20_learner
    sys.modules.pop("t20_learner", None)


def test_a_learner_row_named_like_a_builtin_pickles_as_theirs(learner: Any) -> None:
    """Pickled and copied, the learner's "tanh" stays their row and the built-in stays built-in."""
    x = Value(0.3)
    y = learner.double_tanh(x) + x.tanh()
    loaded = pickle.loads(pickle.dumps(y))  # noqa: S301 (our own bytes)
    for twin in (loaded, copy.deepcopy(y), copy.copy(y)):
        mine, builtin = twin.parents
        assert mine.operation is learner.double_tanh and builtin.operation is ops.tanh


def test_a_learner_row_loads_in_a_fresh_process(learner: Any, tmp_path: Path) -> None:
    """Loading imports the learner's module: the graph backpropagates through their rule there."""
    x = Value(0.3)
    blob = pickle.dumps(learner.double_tanh(x) + x.tanh())
    code = (
        "import pickle, sys\n"
        f"y = pickle.loads({blob!r})\n"
        "(mine, builtin) = y.parents\n"
        "from autograd import Value\n"
        "x = Value(0.3)\n"
        "(mine.operation(x) + builtin.operation(x)).backward()\n"
        "print(mine.operation.symbol, builtin.operation.symbol, repr(x.grad))\n"
    )
    env_path = f"{tmp_path}:{ROOT}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.split()
    t = math.tanh(0.3)
    assert out[:3] == ["my", "tanh", "tanh"]
    assert float(out[3]) == pytest.approx(3.0 * (1.0 - t * t), rel=1e-15)


def test_a_pickled_n_ary_node_backpropagates() -> None:
    """A pickled weighted sum (and a learner's node, recorded n-ary) backpropagates after loading."""
    w, x = Value(1.5), Value(2.0)
    y = pickle.loads(pickle.dumps(autograd.weighted_sum([w], [x]) * 1.0))  # noqa: S301 (our own bytes)
    y.backward()
    assert [p.grad for p in y.parents[0].parents] == [2.0, 1.5]


def test_a_learner_row_that_cannot_be_found_again_is_refused_when_pickled(learner: Any) -> None:
    """A row made inside a function, or no longer at its module path, is a TypeError that says why."""
    with pytest.raises(TypeError, match=r"cannot pickle the operation 'first': t20_learner\.replaced is not"):
        pickle.dumps(learner.old_replaced(Value(1.0)))
    local = autograd.op(lambda x: (x, 1.0), rule="1", name="t20_local")
    with pytest.raises(TypeError, match=r"cannot pickle the operation 't20_local'.*top level"):
        pickle.dumps(local)
    assert pickle.loads(pickle.dumps(learner.replaced)) is learner.replaced  # noqa: S301 (our own bytes)


def test_loading_a_learner_row_whose_module_is_gone_names_it() -> None:
    """A pickle whose learner module cannot be imported is a ValueError naming the operation."""
    from autograd.oprecord import learner_row

    with pytest.raises(ValueError, match=r"cannot load the operation t20_missing_module\.f: its module"):
        learner_row("t20_missing_module", "f")
    with pytest.raises(ValueError, match=r"cannot load the operation math\.sqrt: no @autograd\.op"):
        learner_row("math", "sqrt")


@pytest.mark.parametrize(
    ("points", "error", "message"),
    [([("a",)], TypeError, r"op 't20_pts': test point \('a',\) needs a finite number, got str 'a'"),
     ([(1.0, 2.0)], ValueError, r"op 't20_pts': test point \(1.0, 2.0\) needs 1 operand")],
)
def test_bad_test_points_name_the_op(points: list[Any], error: type[Exception], message: str) -> None:
    """A row's test points are numbers, as many as its operands: else an error naming the op."""
    with pytest.raises(error, match=message):
        autograd.op(lambda x: (x, 1.0), rule="1", name="t20_pts", points=points)
