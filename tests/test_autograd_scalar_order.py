"""The iterative walk's order is micrograd's recursive `build_topo` order (parents in argument
order, each node once), on random graphs full of shared nodes: the walk's shortcut for a node
whose parents are all emitted already changes no position."""

from __future__ import annotations

import random

import pytest

from autograd import Value, topological_order, weighted_sum


def _build_topo(root: Value) -> list[Value]:
    """micrograd's recursive topological sort, over `parents` in argument order."""
    topo: list[Value] = []
    visited: set[int] = set()

    def visit(v: Value) -> None:
        if id(v) not in visited:
            visited.add(id(v))
            for p in v.parents:
                visit(p)
            topo.append(v)

    visit(root)
    return topo


def _random_graph(seed: int) -> Value:
    rng = random.Random(seed)
    pool = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(4)]
    for _ in range(60):
        kind = rng.randrange(4)
        a, b = rng.choice(pool), rng.choice(pool[-8:])
        if kind == 0:
            pool.append(a * b)
        elif kind == 1:
            pool.append(a + a)  # the same parent twice
        elif kind == 2:
            pool.append(b.tanh())
        else:
            ws = rng.sample(pool, 2)
            pool.append(weighted_sum(ws, [a, b], rng.choice([None, pool[0]])))
    return sum(pool[-6:], pool[1])


@pytest.mark.parametrize("seed", range(20))
def test_the_walk_gives_micrograds_order(seed: int) -> None:
    root = _random_graph(seed)
    assert topological_order(root) == _build_topo(root)


def _graphs() -> dict[str, Value]:
    """Graphs where the walk steps on to its first parent, its second only, or neither."""
    x, y = Value(0.5, "x"), Value(-1.5, "y")
    t = x.tanh()
    chain = sum((x * float(i) for i in range(1, 40)), y)  # micrograd's sum: a deep left chain
    return {
        "only the second parent waits": (x * y) + (x * (y + 1.0)),  # x is emitted when x * (...) is met
        "only the first parent waits": (x * y) * ((x + 1.0) + y),  # y is emitted when (...) + y is met
        "both wait": (x * y) + y,
        "both wait, first is shared": (t * y) + (t + y),
        "a parent twice": t * t,
        "no parent waits": (x + y) * (x + y) + x * y,
        "a chain": chain,
        "n-ary over waiting nodes": weighted_sum([x, y], [t, x * y], t.relu()),
        "n-ary nested": weighted_sum([x], [weighted_sum([y, t], [x, x])], None) * t,
    }


@pytest.mark.parametrize("name", list(_graphs()))
def test_the_walk_keeps_micrograds_order(name: str) -> None:
    root = _graphs()[name]
    assert topological_order(root) == _build_topo(root)
