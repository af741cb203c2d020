"""The scalar engine's step, piece by piece: the walk's order on graphs that push a node twice,
reflected operators against the rows, and nn's parameter lists against their names."""

from __future__ import annotations

import math
import random

import pytest

from autograd import Value, no_grad, ops, scope, topological_order
from nn import MLP, Layer, Neuron


def _reachable(root: Value) -> list[Value]:
    """Every node `root` depends on, found by a plain search (no order)."""
    found: dict[int, Value] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) not in found:
            found[id(node)] = node
            todo.extend(node.parents)
    return list(found.values())


def _check_order(root: Value) -> None:
    """topological_order(root): every reachable node once, each after all of its parents."""
    order = topological_order(root)
    place = {id(node): i for i, node in enumerate(order)}
    assert len(place) == len(order), "a node appears twice"
    assert set(place) == {id(n) for n in _reachable(root)}
    for node in order:
        for parent in node.parents:
            assert place[id(parent)] < place[id(node)], f"{parent!r} after its result {node!r}"
    assert order[-1] is root


def test_a_node_pushed_twice_before_it_is_opened_is_emitted_once_after_its_parents() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    d = c + c  # c is pushed twice (as both parents) before either copy is opened
    e = (d * c).relu() + c * a  # c again, deeper and shallower
    for root in (d, e):
        _check_order(root)
    e.backward()
    # e = relu(2 c^2) + c a with c = a b, the ramp on: e = 2 a^2 b^2 + a^2 b, so
    # de/da = 4 a b^2 + 2 a b and de/db = 4 a^2 b + a^2.
    x, y = a.data, b.data
    assert (a.grad, b.grad) == (4 * x * y * y + 2 * x * y, 4 * x * x * y + x * x) == (60.0, -44.0)


def test_random_dags_over_shared_nodes_walk_in_topological_order() -> None:
    rng = random.Random(23)
    for _ in range(30):
        pool = [Value(rng.uniform(-1, 1)) for _ in range(4)]
        for _ in range(40):
            x, y = rng.choice(pool), rng.choice(pool[-8:])
            pool.append(x * y if rng.random() < 0.5 else x + y)
        _check_order(pool[-1])


@pytest.mark.parametrize("left", [2.5, -3, 0, 7.0])
def test_a_number_on_the_left_gives_the_rows_numbers_and_a_constant_leaf(left: float) -> None:
    v = Value(-1.25)
    for made, row in ((left + v, ops.add), (left * v, ops.mul), (left - v, ops.sub)):
        value, da, db = row.fn(float(left), v.data)
        assert made.operation is row
        assert (made.data, made.local_grads) == (value, (da, db))
        constant, parent = made.parents
        assert constant.is_constant and constant.data == float(left) and parent is v


def test_numbers_beside_values_in_a_scope_and_no_grad_are_tagged_and_unrecorded() -> None:
    v = Value(1.5)
    with scope("L2"), no_grad():
        out = 2.0 * v + 1
    assert out.scope == "L2" and out.parents == () and out.operation is None
    with scope("L2"):
        out = 2.0 * v + 1
    assert out.scope == "L2" and [p.scope for p in out.parents] == ["L2", "L2"]


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 10**400])
def test_a_non_finite_or_huge_number_beside_a_value_names_the_operator(bad: float) -> None:
    for make, symbol in ((lambda: Value(1.0) + bad, "+"), (lambda: bad * Value(1.0), "*")):
        with pytest.raises(ValueError, match=rf"an operand of \{symbol} needs a finite number"):
            make()


def _models() -> list[Neuron | Layer | MLP]:
    """Neurons, layers and MLPs with and without biases."""
    return [
        Neuron(3, seed=1),
        Neuron(3, bias=False, seed=1),
        Layer(2, 4, seed=2),
        Layer(2, 4, bias=False, seed=2),
        MLP(2, [4, 3, 1], seed=3),
        MLP(2, [4, 3, 1], bias=[True, False, True], seed=3),
    ]


@pytest.mark.parametrize("model", _models(), ids=repr)
def test_parameters_are_the_named_parameters_in_order_and_a_fresh_list(model: Neuron | Layer | MLP) -> None:
    params = model.parameters()
    assert [id(p) for p in params] == [id(p) for _, p in model.named_parameters()]
    params.clear()
    assert len(model.parameters()) == len(model.named_parameters()) > 0
