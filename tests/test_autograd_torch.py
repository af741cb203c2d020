"""Cross-check against PyTorch float64: the expression table and random DAGs, every op."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from expressions import DAG_OPS, EXPRESSIONS, VALUES, Dag, Expr, dags, value_grads
from hypothesis import HealthCheck, assume, given, settings

from autograd import Value

torch = pytest.importorskip("torch", reason="needs torch: pip install 'axongrad[torch]'")


def _wsum(ws: Sequence[Any], xs: Sequence[Any], b: Any = None) -> Any:
    total = ws[0] * xs[0]
    for w, x in zip(ws[1:], xs[1:]):
        total = total + w * x
    return total if b is None else total + b


class TORCH:
    """The expression namespace on float64 tensors.

    NOTE: torch.sign(0) = 0 while the posts' sign(0) = +1, and step is built from torch.sign, so
    these two are compared away from 0 only; torch's relu'(0) = abs'(0) = 0 match ours.
    """

    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    sqrt = staticmethod(torch.sqrt)
    tanh = staticmethod(torch.tanh)
    sigmoid = staticmethod(torch.sigmoid)
    relu = staticmethod(torch.relu)
    step = staticmethod(lambda t: (torch.sign(t) + 1) / 2)
    sign = staticmethod(torch.sign)
    abs = staticmethod(torch.abs)
    wsum = staticmethod(_wsum)


def torch_grads(fn: Any, point: Sequence[float]) -> tuple[float, list[float]]:
    """Value and gradient of fn(TORCH, *leaves) by torch.autograd in float64."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = fn(TORCH, *leaves)
    out.backward()
    return out.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


def ours(fn: Any, point: Sequence[float]) -> tuple[float, list[float]]:
    """The same through Values."""
    leaves = [Value(x) for x in point]
    out = fn(VALUES, *leaves)
    out.backward()
    return out.data, [v.grad for v in leaves]


def agree(a: float, b: float, tol: float = 1e-9) -> bool:
    """|a - b| <= tol * max(1, |b|)."""
    return abs(a - b) <= tol * max(1.0, abs(b))


CASES = [(e, p) for e in EXPRESSIONS for p in e.points]


@pytest.mark.parametrize(("expr", "point"), CASES, ids=[f"{e.name}{p}" for e, p in CASES])
def test_expression_table_matches_torch(expr: Expr, point: tuple[float, ...]) -> None:
    """Every table expression: value and gradients equal PyTorch float64 to 1e-9."""
    value, grads = ours(expr.fn, point)
    t_value, t_grads = torch_grads(expr.fn, point)
    assert agree(value, t_value), (value, t_value)
    for g, t in zip(grads, t_grads):
        assert agree(g, t), (expr.name, point, grads, t_grads)


@pytest.mark.parametrize("method", ["relu", "abs"])
def test_kink_convention_at_zero_matches_torch(method: str) -> None:
    """relu'(0) = abs'(0) = 0 in both engines."""
    v = Value(0.0)
    getattr(v, method)().backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    getattr(torch, method)(t).backward()
    assert v.grad == t.grad.item() == 0.0


@pytest.mark.parametrize("op", DAG_OPS, ids=[op.name for op in DAG_OPS])
@pytest.mark.parametrize("point", [(0.7, -1.3, 0.4), (-1.9, 0.25, 1.1), (1.6, 1.6, -0.5)])
def test_each_dag_op_matches_torch(op: Any, point: tuple[float, float, float]) -> None:
    """Every DAG op, operands reused ((x, x, y) pattern), against torch."""
    idx = (0, 1, 0)[: op.arity]
    dag = Dag(point[:2], ((op.name, idx), ("mul", (2, 0))))
    assert dag.is_safe()
    value, grads = value_grads(dag)
    t_value, t_grads = torch_grads(lambda ns, *xs: dag.evaluate(ns, xs)[0], dag.leaves)
    assert agree(value, t_value)
    for g, t in zip(grads, t_grads):
        assert agree(g, t), (op.name, grads, t_grads)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(dags())
def test_random_dags_match_torch(dag: Dag) -> None:
    """Random DAGs with shared subexpressions: value and leaf gradients equal torch to 1e-9."""
    assume(dag.is_safe())
    value, grads = value_grads(dag)
    t_value, t_grads = torch_grads(lambda ns, *xs: dag.evaluate(ns, xs)[0], dag.leaves)
    assert agree(value, t_value), (value, t_value)
    for g, t in zip(grads, t_grads):
        assert agree(g, t), (grads, t_grads)
