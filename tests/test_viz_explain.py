"""viz.explain: d(root)/d(wrt) as a sum over paths of products of local derivatives, equal to .grad."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_viz_graphs import mlp_loss, smallest, smallest_closed_form

import viz
from autograd import Value, numerical_grad
from viz.labels import fmt


def test_smallest_network_reads_like_the_post() -> None:
    g = smallest()
    text = str(viz.explain(g["E"], g["W0"]))
    lines = text.splitlines()
    assert lines[0] == "dE/dW0 = dE/da1 · da1/dZ1 · dZ1/da0 · da0/dZ0 · dZ0/dW0"
    a0, a1 = g["a0"].data, g["a1"].data
    factors = [a1 - 1.0, a1 * (1 - a1), -0.4, a0 * (1 - a0), 1.5]  # E folds (a1 - Y) and the square
    expected = " · ".join(f"({fmt(f)})" if f < 0 else fmt(f) for f in factors)
    assert lines[1].strip() == f"= {expected}"
    dw0, _ = smallest_closed_form()
    assert lines[2].strip() == f"= {fmt(dw0)}"
    assert g["W0"].grad == 0.0  # explain does not run backward on the Values


def test_total_is_the_grad_after_backward_and_the_closed_form() -> None:
    g = smallest()
    result = viz.explain(g["E"], g["W1"])
    g["E"].backward()
    _, dw1 = smallest_closed_form()
    assert result.total == g["W1"].grad
    assert result.total == pytest.approx(dw1, rel=1e-12)
    assert result.path_count == 1 and result.omitted == 0
    assert [str(f) for f in result.paths[0].factors] == ["dE/da1", "da1/dZ1", "dZ1/dW1"]
    assert result.paths[0].product == pytest.approx(dw1, rel=1e-12)


def test_reused_value_gives_one_path_per_edge() -> None:
    a = Value(3.0, "a")
    b = a * a + a
    b.label = "b"
    result = viz.explain(b, a)
    assert result.path_count == 3
    assert sorted(p.product for p in result.paths) == [1.0, 3.0, 3.0]
    assert result.total == 7.0  # d(a² + a)/da = 2a + 1
    text = str(result)
    # No interior node is labelled, so every step is its own factor.
    assert "3 paths" in text and "db/dv1 · dv1/da = 1 · 3 = 3" in text
    assert text.endswith("db/da = 1 + 3 + 3 = 7")


def test_unlabelled_steps_fold_between_labelled_nodes() -> None:
    """Once an interior node is labelled, the unlabelled ones fold into factors (as the posts write)."""
    a = Value(3.0, "a")
    square = a * a
    square.label = "s"
    b = (square * 2.0).tanh() + 0.0
    b.label = "b"
    result = viz.explain(b, a)
    assert [str(f) for f in result.paths[0].factors] == ["db/ds", "ds/da"]
    assert "(via " in str(result)


def test_unrelated_value_and_the_root_itself() -> None:
    g = smallest()
    other = Value(2.0, "q")
    assert viz.explain(g["E"], other).total == 0.0
    assert "does not depend on q" in str(viz.explain(g["E"], other))
    assert viz.explain(g["E"], g["E"]).total == 1.0
    assert str(viz.explain(g["E"], g["E"])) == "dE/dE = 1"


def test_many_paths_are_capped_but_the_total_stays_exact() -> None:
    x = Value(0.3, "x")
    y = x
    for k in range(8):  # each layer doubles the number of paths: 2**8 = 256
        y = y * 0.9 + y.tanh()
        y.label = f"h{k}"
    result = viz.explain(y, x, max_paths=10)
    assert result.path_count == 256
    assert len(result.paths) == 10 and result.omitted == 246
    text = str(result)
    assert "246 more paths" in text
    y.backward()
    assert result.total == pytest.approx(x.grad, rel=1e-12)

    def f(xs: list[float]) -> float:
        v = xs[0]
        for _ in range(8):
            v = Value(v).tanh().data + v * 0.9
        return v

    assert result.total == pytest.approx(numerical_grad(f, [0.3])[0], rel=1e-6)


def test_deep_chain_needs_no_recursion() -> None:
    x = Value(1.0, "x")
    y = x
    for i in range(20_000):
        y = y * 1.0001
        if i == 9_999:
            y.label = "m"
    y.label = "y"
    result = viz.explain(y, x)
    assert result.path_count == 1
    # Unlabelled steps fold into the factors between the labelled nodes.
    assert [str(f) for f in result.paths[0].factors] == ["dy/dm", "dm/dx"]
    assert len(result.paths[0].via) == 19_998
    assert result.total == pytest.approx(1.0001**20_000, rel=1e-9)


def test_duplicate_labels_get_scoped_names() -> None:
    loss, params = mlp_loss((2, 2, 1))
    result = viz.explain(loss, params[0])
    assert str(result).startswith("dloss/dL1.n0.w0")
    loss.backward()
    assert result.total == pytest.approx(params[0].grad, rel=1e-12)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="two Values"):
        viz.explain(Value(1.0), 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^explain\(max_paths\) needs an int >= 0, got -1$"):
        viz.explain(Value(1.0), Value(1.0), max_paths=-1)
    with pytest.raises(TypeError, match=r"^explain\(max_paths\) needs an int >= 0, got str '3'$"):
        viz.explain(Value(1.0), Value(1.0), max_paths="3")  # type: ignore[arg-type]


OPS = ("+", "*", "-", "tanh", "sigmoid", "scale", "square")


def build(recipe: Sequence[tuple[str, int, int]], xs: Sequence[float | Value]) -> tuple[Value, list[Value]]:
    """A random DAG over a pool of shared leaves: each step combines two earlier nodes."""
    leaves = [x if isinstance(x, Value) else Value(x, f"x{i}") for i, x in enumerate(xs)]
    pool = list(leaves)
    for k, (op, i, j) in enumerate(recipe):
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if op == "+":
            c = a + b
        elif op == "*":
            c = a * b
        elif op == "-":
            c = a - b
        elif op == "scale":
            c = 0.7 * a
        elif op == "square":
            c = a**2
        else:
            c = getattr(a, op)()
        if k % 2:
            c.label = f"h{k}"
        pool.append(c)
    return pool[-1], leaves


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=4),
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=10
    ),
    st.integers(0, 3),
)
def test_stated_total_equals_grad_on_random_graphs(
    xs: list[float], recipe: list[tuple[str, int, int]], pick: int
) -> None:
    root, leaves = build(recipe, xs)
    wrt = leaves[pick % len(leaves)]
    result = viz.explain(root, wrt, max_paths=16)
    root.backward()
    assert result.total == pytest.approx(wrt.grad, rel=1e-9, abs=1e-12)
    if result.path_count and not result.omitted:
        assert sum(p.product for p in result.paths) == pytest.approx(result.total, rel=1e-9, abs=1e-12)
    assert str(result).splitlines()[-1].endswith(fmt(result.total))
    # an independent reference: central differences of the same function
    numeric = numerical_grad(lambda v: build(recipe, v)[0], xs)[pick % len(leaves)]
    assert result.total == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_jupyter_shows_the_chain_rule_not_the_dataclass_fields() -> None:
    pretty = pytest.importorskip("IPython.lib.pretty")
    g = smallest()
    explanation = viz.explain(g["E"], g["W0"])
    shown = pretty.pretty(explanation)
    assert shown == str(explanation)
    assert shown.startswith("dE/dW0 = dE/da1 · da1/dZ1") and "Factor(" not in shown
