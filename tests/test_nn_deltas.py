"""The posts' delta rules, derived by hand with plain floats, equal backprop on a 3-4-2 sigmoid MLP.

Output layer k: delta_k = (Y'_k - Y_k) s'(z_k), dE/dw_jk = delta_k * O_j, dE/db_k = delta_k.
Hidden layer j: delta_j = s'(z_j) sum_k w_jk delta_k, dE/dw_ij = delta_j * x_i, dE/db_j = delta_j.
with s'(z) = s(z)(1 - s(z)) and E = 1/2 sum_k (Y'_k - Y_k)^2.
"""

from __future__ import annotations

import math

import pytest

import nn


def s(z: float) -> float:
    """Sigmoid on floats."""
    return 1.0 / (1.0 + math.exp(-z))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backprop_equals_the_posts_deltas(seed: int) -> None:
    model = nn.MLP(3, [4, 2], activation="sigmoid", output_activation="sigmoid", seed=seed)
    hidden, output = model.layers
    for layer in model.layers:  # non-zero biases, so the bias terms matter
        for j, n in enumerate(layer.neurons):
            assert n.b is not None
            n.b.data = 0.1 * (j + 1) * (-1) ** j
    x = [0.5, -1.2, 0.8]
    target = [1.0, 0.0]

    # Forward pass with floats only.
    w_ij = [[w.data for w in n.w] for n in hidden.neurons]  # w_ij[j][i]
    b_j = [n.b.data for n in hidden.neurons if n.b is not None]
    z_j = [sum(w * xi for w, xi in zip(w_ij[j], x)) + b_j[j] for j in range(4)]
    o_j = [s(z) for z in z_j]
    w_jk = [[w.data for w in n.w] for n in output.neurons]  # w_jk[k][j]
    b_k = [n.b.data for n in output.neurons if n.b is not None]
    z_k = [sum(w * o for w, o in zip(w_jk[k], o_j)) + b_k[k] for k in range(2)]
    y_k = [s(z) for z in z_k]

    # The posts' deltas.
    delta_k = [(y_k[k] - target[k]) * s(z_k[k]) * (1 - s(z_k[k])) for k in range(2)]
    delta_j = [s(z_j[j]) * (1 - s(z_j[j])) * sum(w_jk[k][j] * delta_k[k] for k in range(2)) for j in range(4)]

    # Backprop through the library.
    model.zero_grad()
    error = nn.squared_error(model(x), target)
    assert error.data == pytest.approx(0.5 * sum((y - t) ** 2 for y, t in zip(y_k, target)), rel=1e-14)
    error.backward()

    for k, n in enumerate(output.neurons):
        for j, w in enumerate(n.w):
            assert w.grad == pytest.approx(delta_k[k] * o_j[j], rel=1e-12, abs=1e-15)
        assert n.b is not None and n.b.grad == pytest.approx(delta_k[k], rel=1e-12, abs=1e-15)
    for j, n in enumerate(hidden.neurons):
        for i, w in enumerate(n.w):
            assert w.grad == pytest.approx(delta_j[j] * x[i], rel=1e-12, abs=1e-15)
        assert n.b is not None and n.b.grad == pytest.approx(delta_j[j], rel=1e-12, abs=1e-15)
