"""`neighbourhood(root, "L2.n3")`: one neuron, what flows in (inputs and weights) and where its output goes.

A 2-16-16-1 network drawn whole is too large to read; this view is one neuron of it: each input
with the weight it is multiplied by (value and grad), the neuron's z, output and δ = ∂E/∂z, and
each neuron that reads its output with the weight it uses and that neuron's δ, which is exactly
what the posts' hidden delta δ_j = s'(z_j) · Σ_k w_jk δ_k adds up.
"""

from __future__ import annotations

from autograd import Value
from viz.deltas import deltas
from viz.dot import COLOURS, DELTA_FILL, Diagram, new_diagram, value_table
from viz.labels import dot_text, fmt
from viz.trace import INPUT, INTERMEDIATE, ROOT


def neighbourhood(root: Value, neuron: str, *, evaluation: int = 0) -> Diagram:
    """The diagram of one neuron (its scope, "L2.n3"), its inputs and weights and its readers.

    Numbers are this pass's (δ and grads as `backward` gives them); ValueError for an unknown
    neuron, naming the neurons there are.
    """
    found = deltas(root, neuron, evaluation=evaluation)
    g = new_diagram("LR", f"neuron {neuron}: inputs × weights → z → output; δ = ∂E/∂z")
    rows = [
        ("z", fmt(found.z), ""),
        ("s'(z)", fmt(found.slope), ""),
        ("δ = ∂E/∂z", fmt(found.delta), ""),
    ]
    if found.bias is not None:
        rows.append(("∂E/∂b = δ", fmt(found.bias), ""))
    table = value_table(neuron, rows, COLOURS[ROOT][0], DELTA_FILL)
    g.node("neuron", table, shape="plaintext", margin="0")
    for i, w in enumerate(found.weights):
        box = value_table(w.input, [("value", fmt(w.input_value), "")], COLOURS[INPUT][0])
        g.node(f"in{i}", box, shape="plaintext", margin="0")
        g.edge(f"in{i}", "neuron", label=f"<{dot_text(f'× {w.weight} = {fmt(w.weight_value)}')}<BR/>"
               f"{dot_text(f'∂E/∂{w.weight} = δ·{w.input} = {fmt(w.grad)}')}>")
    for k, t in enumerate(found.terms):
        reader = value_table(t.neuron, [("δ", fmt(t.delta), "")], COLOURS[INTERMEDIATE][0], DELTA_FILL)
        g.node(f"out{k}", reader, shape="plaintext", margin="0")
        g.edge("neuron", f"out{k}", label=f"<{dot_text(f'{t.weight} = {fmt(t.weight_value)}')}>")
    if found.output_layer or found.other:
        g.node("rest", value_table("to the loss", [("∂E/∂a", fmt(found.upstream), "")], COLOURS[INPUT][0]),
               shape="plaintext", margin="0")
        g.edge("neuron", "rest")
    return g
