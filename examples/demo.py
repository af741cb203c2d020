"""The README's demo: the posts' smallest network, x -> *w0 -> sigmoid -> *w1 -> sigmoid.

Builds E = 1/2 (Y' - Y)^2, runs backward and prints every node's value, gradient and the local
derivative on each edge into it.
"""

from __future__ import annotations

from autograd import Value, topological_order


def smallest_network(x: float = 1.5, w0: float = 0.8, w1: float = -0.4, y: float = 0.9) -> Value:
    """E for the posts' smallest network, with every node labelled as the posts name it."""
    X = Value(x, label="X")
    W0 = Value(w0, label="W0")
    W1 = Value(w1, label="W1")
    z0 = X * W0
    z0.label = "Z0"
    a0 = z0.sigmoid()
    a0.label = "a0"
    z1 = a0 * W1
    z1.label = "Z1"
    a1 = z1.sigmoid()
    a1.label = "Y'"
    E = 0.5 * (a1 - y) ** 2
    E.label = "E"
    return E


def main() -> None:
    """Print the smallest network's forward values, gradients and local derivatives."""
    E = smallest_network()
    E.backward()
    for node in topological_order(E):
        edges = ", ".join(
            f"d/d{p.label or p.op or 'const'}={d:.6g}" for p, d in zip(node.parents, node.local_grads)
        )
        name = node.label or node.op
        print(f"{name:>8} {node.op or 'leaf':>8}  data={node.data:+.6f}  grad={node.grad:+.6f}  {edges}")


if __name__ == "__main__":
    main()
