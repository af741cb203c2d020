"""Property tests: random expression DAGs over shared leaves; backprop equals central differences."""

from __future__ import annotations

from expressions import DAG_OPS, FLOATS, VALUES, Dag, Op, dags, value_grads
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd import Value, gradcheck, numerical_grad, topological_order

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@SETTINGS
@given(dags())
def test_forward_on_values_equals_forward_on_floats(dag: Dag) -> None:
    """The DAG's value through Values equals the same DAG on plain floats (math)."""
    assume(dag.is_safe())
    expected, _ = dag.evaluate(FLOATS, dag.leaves)
    got, _ = value_grads(dag)
    assert abs(got - expected) <= 1e-12 * max(1.0, abs(expected))


@SETTINGS
@given(dags())
def test_dag_gradients_equal_central_differences(dag: Dag) -> None:
    """Backprop through the DAG equals central differences of its float form (step scaled to x)."""
    assume(dag.is_safe())
    _, grads = value_grads(dag)
    numeric = numerical_grad(lambda p: dag.evaluate(FLOATS, p)[0], dag.leaves)
    for g, n in zip(grads, numeric):
        assert abs(g - n) <= 1e-6 + 1e-4 * abs(n), (g, n)
    assert gradcheck(lambda vs: dag.evaluate(VALUES, vs)[0], dag.leaves, atol=1e-6, rtol=1e-4)


@SETTINGS
@given(dags())
def test_dag_structure_is_consistent(dag: Dag) -> None:
    """Every node: parents and local grads of equal length; topological order valid; reuse kept."""
    assume(dag.is_safe())
    leaves = [Value(x) for x in dag.leaves]
    out, nodes = dag.evaluate(VALUES, leaves)
    order = topological_order(out)
    position = {id(v): i for i, v in enumerate(order)}
    assert len(position) == len(order)
    for i, node in enumerate(order):
        assert len(node.parents) == len(node.local_grads)
        assert all(position[id(p)] < i for p in node.parents)
    # Every step's result feeds the output, so each appears in the order exactly once; a leaf
    # appears exactly when some step uses it.
    steps = nodes[len(leaves) :]
    assert all(id(n) in position for n in steps)
    used = {i for _, idx in dag.steps for i in idx if i < len(leaves)}
    assert {i for i, leaf in enumerate(leaves) if id(leaf) in position} == used


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.sampled_from(DAG_OPS),
    st.tuples(*[st.floats(-3.0, 3.0, allow_nan=False).map(lambda x: round(x, 4))] * 2),
)
def test_each_dag_op_alone_with_reused_operand(op: Op, xs: tuple[float, float]) -> None:
    """Each op with a repeated operand, (x), (x, x) or (x, x, y): both edges reach the same leaf."""
    idx = ((0,), (0, 0), (0, 0, 1))[op.arity - 1]
    dag = Dag(xs, ((op.name, idx),))
    assume(dag.is_safe())
    _, grads = value_grads(dag)
    numeric = numerical_grad(lambda p: dag.evaluate(FLOATS, p)[0], dag.leaves)
    for g, n in zip(grads, numeric):
        assert abs(g - n) <= 1e-6 + 1e-4 * abs(n), (op.name, g, n)
