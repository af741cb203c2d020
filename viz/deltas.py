"""`deltas(root, "L1.n0")`: the posts' delta rules for one neuron, with the numbers of this pass.

Post 002 names δ = ∂E/∂z for a neuron with weighted sum z and output a = s(z):

    output neuron   δ = ∂E/∂a · s'(z)              (for E = 1/2 (Y' − Y)^2, ∂E/∂a = Y' − Y)
    hidden neuron   δ_j = s'(z_j) · Σ_k w_jk δ_k    (k: the neurons that read a_j)
    weights         ∂E/∂w_i = δ · x_i
    bias            ∂E/∂b = δ

A neuron is found by its scope (nn names them "L1.n0", layers from 1); its z is the weighted-sum
node (op "wsum") made in that scope. The numbers are d(root)/d(node) computed by the chain rule on
copies, like `explain`: they equal `.grad` after one `root.backward()` from zero grads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograd import Value, topological_order
from autograd.checks import integer, needs
from viz.explain import explain, root_grads
from viz.labels import fmt, fmt_factor, latex_inert
from viz.names import edge_rule, latex_name, value_names


@dataclass(frozen=True)
class Term:
    """One neuron k that reads this neuron's output: its weight w_jk and its δ_k."""

    neuron: str
    weight: str
    weight_value: float
    delta: float


@dataclass(frozen=True)
class WeightGrad:
    """∂E/∂w_i = δ · x_i for one weight of the neuron."""

    weight: str
    input: str
    input_value: float
    grad: float
    weight_value: float = 0.0


@dataclass(frozen=True)
class Deltas:
    """The delta rules of one neuron evaluation: δ, how it arises, and the gradients it gives."""

    neuron: str
    output_layer: bool
    z: float
    delta: float
    slope: float
    slope_rule: str
    upstream: float
    upstream_rule: str
    terms: tuple[Term, ...]
    other: float
    weights: tuple[WeightGrad, ...]
    bias: float | None
    evaluation: int
    evaluations: int

    def __str__(self) -> str:
        """The rules written out with this pass's numbers."""
        which = "output neuron" if self.output_layer else "hidden neuron"
        lines = [f"neuron {self.neuron} ({which}), z = {fmt(self.z)}"]
        if self.evaluations > 1:
            lines[0] += f"; evaluation {self.evaluation + 1} of {self.evaluations}"
        if self.output_layer:
            lines += [
                "δ = ∂E/∂z = ∂E/∂a · s'(z)",
                f"  = ({self.upstream_rule}) · ({self.slope_rule})",
                f"  = {fmt_factor(self.upstream)} · {fmt_factor(self.slope)}",
                f"  = {fmt(self.delta)}",
            ]
        else:
            names = " + ".join(f"{t.weight} · δ({t.neuron})" for t in self.terms)
            numbers = " + ".join(f"{fmt_factor(t.weight_value)} · {fmt_factor(t.delta)}" for t in self.terms)
            if self.other:
                names += " + (other uses of a)"
                numbers += f" + {fmt_factor(self.other)}"
            lines += [
                "δ_j = s'(z_j) · Σ_k w_jk δ_k",
                f"  = ({self.slope_rule}) · ({names})",
                f"  = {fmt_factor(self.slope)} · ({numbers})",
                f"  = {fmt(self.delta)}",
            ]
        lines.append("∂E/∂w_i = δ · x_i:")
        for w in self.weights:
            lines.append(
                f"  ∂E/∂{w.weight} = δ · {w.input} = {fmt_factor(self.delta)} · {fmt_factor(w.input_value)}"
                f" = {fmt(w.grad)}"
            )
        if self.bias is not None:
            lines.append(f"∂E/∂b = δ = {fmt(self.bias)}")
        if self.evaluations > 1:
            lines.append(
                f"(the neuron ran {self.evaluations} times in this graph: each weight's .grad adds "
                "δ · x_i over all of them)"
            )
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython: the text form."""
        printer.text(str(self))

    def _repr_latex_(self) -> str:
        """Jupyter: the rules as mathematics."""
        return f"$$\n{self.latex()}\n$$"

    def latex(self) -> str:
        """The rules in LaTeX (an `aligned` block): rule, numbers, result, then the gradients."""
        rows = []
        if self.output_layer:
            rows.append(r"\delta &= \frac{\partial E}{\partial a}\, s'(z) \\")
        else:
            rows.append(r"\delta_j &= s'(z_j) \sum_k w_{jk}\, \delta_k \\")
            sums = " + ".join(
                f"{fmt_factor(t.weight_value)} \\cdot {fmt_factor(t.delta)}" for t in self.terms
            )
            if self.other:
                sums += f" + {fmt_factor(self.other)}"
            rows.append(rf"&= {fmt_factor(self.slope)} \cdot \left({sums}\right) \\")
        if self.output_layer:
            rows.append(rf"&= {fmt_factor(self.upstream)} \cdot {fmt_factor(self.slope)} \\")
        rows.append(rf"&= {fmt(self.delta)} \\")
        for w in self.weights:
            rows.append(
                rf"\frac{{\partial E}}{{\partial {latex_name(w.weight)}}} "
                rf"&= \delta \cdot {latex_name(w.input)}"
                rf" = {fmt_factor(self.delta)} \cdot {fmt_factor(w.input_value)} = {fmt(w.grad)} \\"
            )
        if self.bias is not None:
            rows.append(rf"\frac{{\partial E}}{{\partial b}} &= \delta = {fmt(self.bias)}")
        return latex_inert("\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}")


def deltas(root: Value, neuron: str, *, evaluation: int = 0) -> Deltas:
    """The delta rules of the neuron whose scope is `neuron` ("L2.n0"), with this pass's numbers.

    `evaluation` picks which run of the neuron when the graph computes it several times (a
    batch). ValueError when no weighted sum was made in that scope, naming the scopes there are.
    """
    if not isinstance(root, Value):
        raise TypeError(needs("deltas(root)", "a Value", root))
    if not isinstance(neuron, str):
        raise TypeError(needs("deltas(neuron)", 'a scope name such as "L1.n0"', neuron))
    order = topological_order(root)
    sums = _weighted_sums_of(order, neuron)
    evaluation = integer(evaluation, "deltas(evaluation)", at_least=0, at_most=len(sums) - 1)
    names = value_names(order)
    grad = root_grads(order, root)
    consumers = _consumers(order)
    z = sums[evaluation]
    a, slope, rules = _through_activation(z, neuron, consumers, names)
    terms, other = _downstream(a, neuron, consumers, names, grad)
    weights, bias = _weight_grads(z, neuron, names, grad)
    return Deltas(
        neuron=neuron,
        output_layer=not terms,
        z=z.data,
        delta=grad[z],
        slope=slope,
        slope_rule=" · ".join(rules) or "1 (no activation)",
        upstream=grad[a],
        upstream_rule=_upstream_rule(root, a),
        terms=terms,
        other=other,
        weights=weights,
        bias=bias,
        evaluation=evaluation,
        evaluations=len(sums),
    )


def _is_weighted_sum(v: Value) -> bool:
    """Whether `v` is a neuron's z: a node made by a weighted-sum row (w0, x0, w1, x1, ..., [b])."""
    return v.operation is not None and v.operation.weighted_sum


def _weighted_sums_of(order: list[Value], neuron: str) -> list[Value]:
    """Every weighted sum made in scope `neuron`, or a ValueError naming the neurons the graph has."""
    sums = [v for v in order if _is_weighted_sum(v) and v.scope == neuron]
    if not sums:
        scopes = sorted({v.scope for v in order if _is_weighted_sum(v) and v.scope})
        shown = ", ".join(scopes[:12]) + (" ..." if len(scopes) > 12 else "")
        raise ValueError(
            f"deltas: no neuron {neuron!r} in this graph (no weighted sum made in that scope); "
            f"its neurons are: {shown or 'none (the graph has no nn neurons)'}"
        )
    return sums


def _consumers(order: list[Value]) -> dict[Value, list[tuple[Value, int]]]:
    """For every node, the (child, parent index) pairs of the nodes that read it."""
    consumers: dict[Value, list[tuple[Value, int]]] = {v: [] for v in order}
    for v in order:
        for k, p in enumerate(v.parents):
            consumers[p].append((v, k))
    return consumers


def _through_activation(
    z: Value, neuron: str, consumers: dict[Value, list[tuple[Value, int]]], names: dict[Value, str]
) -> tuple[Value, float, list[str]]:
    """The output a reached from z up the activation's one-input nodes in the neuron's scope.

    Returns (a, s'(z) as the product of the local derivatives on the way, their rules).
    """
    a, slope = z, 1.0
    rules: list[str] = []
    while True:
        nxt = [(c, k) for c, k in consumers[a] if c.scope == neuron and len(c.parents) == 1]
        if len(nxt) != 1 or len(consumers[a]) != 1:
            return a, slope, rules
        child, k = nxt[0]
        slope *= child.local_grads[k]
        rules.append(edge_rule(child, k, {**names, a: "z"})[0])
        a = child


def _downstream(
    a: Value,
    neuron: str,
    consumers: dict[Value, list[tuple[Value, int]]],
    names: dict[Value, str],
    grad: dict[Value, float],
) -> tuple[tuple[Term, ...], float]:
    """The neurons k that read a as an input (w_jk, δ_k), and the sum of a's other uses."""
    terms: list[Term] = []
    other = 0.0
    for child, k in consumers[a]:
        if _is_weighted_sum(child) and child.scope != neuron and k % 2 == 1:
            w = child.parents[k - 1]
            terms.append(Term(child.scope or names[child], names[w], w.data, grad[child]))
        else:
            other += child.local_grads[k] * grad[child]
    return tuple(terms), other


def _weight_grads(
    z: Value, neuron: str, names: dict[Value, str], grad: dict[Value, float]
) -> tuple[tuple[WeightGrad, ...], float | None]:
    """∂E/∂w_i = δ · x_i for every (w_i, x_i) pair of z's parents, and ∂E/∂b = δ when there is a bias."""
    parents = z.parents
    pairs = len(parents) - len(parents) % 2
    weights = tuple(
        WeightGrad(
            w.label if w.label and w.scope == neuron else names[w], names[x], x.data, grad[z] * x.data, w.data
        )
        for w, x in zip(parents[0:pairs:2], parents[1:pairs:2])
    )
    return weights, grad[z] if len(parents) % 2 else None


def _upstream_rule(root: Value, a: Value) -> str:
    """∂E/∂a's rule from `explain` when one path leads from a to the root, else "∂E/∂a"."""
    if a is root:
        return "1"
    found = explain(root, a, max_paths=2)
    if found.path_count != 1:
        return "∂E/∂a"
    return " · ".join(f.rule for f in found.paths[0].factors if f.rule) or "∂E/∂a"
