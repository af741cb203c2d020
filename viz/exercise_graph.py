"""The numbers an exercise checks against: a graph's forward values, local derivatives and grads.

At the forward point they are the Values' own `.data` and `.local_grads` (the op table's rules at
the forward values) and a backward pass of our own (no `.grad` is touched). At other points the
leaves are moved a little and every node is recomputed through its op-table row, so an answer
written as a formula can be checked where the inputs are different.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from autograd import Value, ops, topological_order
from viz.names import value_names
from viz.trace import CONSTANT, node_kind

# Rules with a kink: a point counts only when each such node's input keeps its sign (relu'(x) is 1
# on one side and 0 on the other; "1" is a right answer for relu' at x > 0).
_KINKED = (ops.relu, ops.step, ops.sign, ops.absolute)
POINTS = 4
TRIES = 40


@dataclass(frozen=True)
class Point:
    """A graph evaluated at one set of leaf values: each node's value, local derivatives and grad."""

    values: tuple[float, ...]
    locals: tuple[tuple[float, ...], ...]
    grads: tuple[float, ...]


class Graph:
    """A root's graph as index lists: order (leaves first), names, parents, and its forward point."""

    def __init__(self, root: Value) -> None:
        """Read `root`'s graph; the names are the ones viz's diagrams show."""
        self.order: list[Value] = topological_order(root)
        self.index = {v: i for i, v in enumerate(self.order)}
        names = value_names(self.order)
        self.names = [names[v] for v in self.order]
        self.name_of = names
        self.parents = [tuple(self.index[p] for p in v.parents) for v in self.order]
        self.root = self.index[root]
        self.constant = [node_kind(v, v is root) == CONSTANT for v in self.order]
        self.uses: list[list[tuple[int, int]]] = [[] for _ in self.order]
        for i, ps in enumerate(self.parents):
            for k, j in enumerate(ps):
                self.uses[j].append((i, k))
        values = tuple(v.data for v in self.order)
        local = tuple(tuple(v.local_grads) for v in self.order)
        self.forward = Point(values, local, self.backward(local))

    def backward(self, local: Sequence[Sequence[float]]) -> tuple[float, ...]:
        """Every node's grad from the local derivatives: the chain rule in reverse topological order."""
        grads = [0.0] * len(self.order)
        grads[self.root] = 1.0
        for i in range(len(self.order) - 1, -1, -1):
            g = grads[i]
            for j, d in zip(self.parents[i], local[i]):
                grads[j] += d * g
        return tuple(grads)

    def at(self, leaves: Sequence[float]) -> Point | None:
        """The graph recomputed with the leaves at `leaves` (per node; others ignored), None when an
        operation is undefined there, changes side of a kink, or cannot be recomputed (a closure)."""
        values = list(leaves)
        local: list[tuple[float, ...]] = []
        for i, v in enumerate(self.order):
            row = v.operation
            if row is None:
                local.append(())
                continue
            operands = [values[j] for j in self.parents[i]]
            try:
                result = row.evaluate(operands, v.const if row.const is not None else None)
            except (ArithmeticError, ValueError, TypeError):
                return None
            if row in _KINKED:
                before = self.forward.values[self.parents[i][0]]
                if (operands[0] > 0) != (before > 0) or (operands[0] < 0) != (before < 0):
                    return None
            values[i] = result[0]
            local.append(result[1:])
        return Point(tuple(values), tuple(local), self.backward(local))

    def others(self, seed: int, count: int = POINTS) -> list[Point]:
        """Up to `count` points with every leaf that is not a constant moved a little (seeded)."""
        rng = random.Random(seed)  # noqa: S311 (where to check a formula, not a secret)
        found: list[Point] = []
        for _ in range(TRIES):
            if len(found) == count:
                break
            leaves = [
                v.data if v.parents or self.constant[i]
                else v.data * (1.0 + rng.uniform(-0.3, 0.3)) + rng.uniform(-0.3, 0.3)
                for i, v in enumerate(self.order)
            ]
            point = self.at(leaves)
            if point is not None:
                found.append(point)
        return found

    def named(self, point: Point) -> dict[str, float]:
        """Node name -> value at `point` (constants keep their numbers)."""
        return dict(zip(self.names, point.values))
