"""`explain(root, wrt)`: d(root)/d(wrt) written out as the posts do, one chain-rule product per path.

    dE/dW0 = dE/da1 · da1/dZ1 · dZ1/da0 · da0/dZ0 · dZ0/dW0
           = -0.5763 · 0.2442 · -0.4 · 0.1779 · 1.5
           = 0.01502

Each path from `wrt` up to `root` contributes the product of the local derivatives along it; the
derivative is the sum over paths. Unlabelled intermediate nodes (the `a1 - Y` inside E) are folded
into the factor between the labelled nodes around them, so the factors are the quantities a learner
named. The total is computed exactly by the chain rule (like `backward`, on copies of the grads),
so it is right even when the paths are too many to list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograd import Value, topological_order
from autograd.checks import integer, needs
from viz.labels import fmt, fmt_factor, latex_inert
from viz.names import edge_rule, expression, is_sum, latex_expression, latex_name, value_names

MAX_PATHS = 64
# A folded node is written as its expression ("(Y' − Y)") up to this many characters.
MAX_EXPRESSION = 48


@dataclass(frozen=True)
class Factor:
    """One factor d(numerator)/d(denominator) of a path's product: its value and its rule from the
    op table, in plain text ("σ(Z1)(1 − σ(Z1))") and LaTeX (several rules multiplied when
    unlabelled nodes were folded into the factor)."""

    numerator: str
    denominator: str
    value: float
    rule: str = ""
    latex: str = ""

    def __str__(self) -> str:
        """ "da1/dZ1"."""
        return f"d{self.numerator}/d{self.denominator}"

    def latex_fraction(self) -> str:
        r"""\frac{\partial a_{1}}{\partial Z_{1}}."""
        return rf"\frac{{\partial {latex_name(self.numerator)}}}{{\partial {latex_name(self.denominator)}}}"


@dataclass(frozen=True)
class ChainPath:
    """One path from `wrt` to the root: its factors (root side first), their product, and the
    unlabelled nodes folded into those factors (`via`, wrt side first)."""

    factors: tuple[Factor, ...]
    product: float
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explanation:
    """d(root)/d(wrt): the listed paths, how many there are, and the exact total (= wrt.grad)."""

    root_name: str
    wrt_name: str
    paths: tuple[ChainPath, ...]
    path_count: int
    total: float

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython/Jupyter display: the chain rule as text (`str(self)`), not the dataclass fields."""
        printer.text(str(self))

    def _repr_latex_(self) -> str:
        """Jupyter display: the chain rule as mathematics (`latex()` between $$; no HTML markup in it)."""
        return f"$$\n{self.latex()}\n$$"

    def rules(self) -> str:
        """Each path's factors with their rules and numbers, one line per factor (plain text)."""
        lines = []
        for i, path in enumerate(self.paths, 1):
            if len(self.paths) > 1:
                lines.append(f"path {i}:")
            for f in path.factors:
                rule = f" = {f.rule}" if f.rule and f.rule != fmt(f.value) else ""
                lines.append(f"  {f}{rule} = {fmt(f.value)}")
        return "\n".join(lines)

    def latex(self) -> str:
        r"""The chain rule in LaTeX, as the posts write it: an `aligned` block with the factors'
        names, their rules, their numbers and the result (one such block per listed path).

        Labels and a learner op's `latex=` text never put < > " in it (`viz.labels.latex_inert`):
        a front end that inserts LaTeX as HTML shows it as text."""
        return latex_inert(self._latex())

    def _latex(self) -> str:
        """`latex()` before its last escaping step."""
        lhs = rf"\frac{{\partial {latex_name(self.root_name)}}}{{\partial {latex_name(self.wrt_name)}}}"
        if self.path_count == 0:
            return rf"{lhs} = 0 \quad \text{{(no path between them)}}"
        rows = []
        for i, path in enumerate(self.paths, 1):
            head = lhs if i == 1 else rf"\text{{path {i}}}"
            names = r" \cdot ".join(f.latex_fraction() for f in path.factors)
            rules = r" \cdot ".join(_latex_group(f.latex) for f in path.factors)
            numbers = r" \cdot ".join(fmt_factor(f.value) for f in path.factors)
            rows.append(rf"{head} &= {names} \\")
            rows.append(rf"&= {rules} \\")
            rows.append(rf"&= {numbers} \\")
            rows.append(rf"&= {fmt(path.product)}" + (r" \\" if i < len(self.paths) else ""))
        if self.path_count > 1:
            rows.append(rf"\\ {lhs} &= \text{{sum over {self.path_count} paths}} = {fmt(self.total)}")
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}"

    @property
    def omitted(self) -> int:
        """How many paths were not listed (more than the cap)."""
        return self.path_count - len(self.paths)

    def __str__(self) -> str:
        """The chain rule written out, with every factor's number."""
        lhs = f"d{self.root_name}/d{self.wrt_name}"
        if self.path_count == 0:
            unrelated = f"{self.root_name} does not depend on {self.wrt_name} (no path between them)"
            return f"{unrelated}, so\n{lhs} = 0"
        if len(self.paths) == 1 and self.path_count == 1:
            return _single(lhs, self.paths[0], self.total)
        lines = [
            f"{lhs}: {self.path_count} paths lead from {self.wrt_name} to {self.root_name}; "
            "the chain rule adds one product per path."
        ]
        for i, path in enumerate(self.paths, 1):
            names = " · ".join(str(f) for f in path.factors)
            numbers = " · ".join(fmt_factor(f.value) for f in path.factors)
            via = f" (via {', '.join(path.via)})" if path.via else ""
            lines.append(f"  path {i}{via}: {names} = {numbers} = {fmt(path.product)}")
        listed = [fmt_factor(p.product) for p in self.paths]
        if self.omitted:
            rest = self.total - sum(p.product for p in self.paths)
            lines.append(f"  ... and {self.omitted} more paths (not listed), together {fmt(rest)}")
            listed.append(fmt_factor(rest))
        lines.append(f"{lhs} = {' + '.join(listed)} = {fmt(self.total)}")
        return "\n".join(lines)


def _single(lhs: str, path: ChainPath, total: float) -> str:
    """The one-path layout: names, then numbers, then the result, aligned under '='."""
    pad = " " * len(lhs)
    names = " · ".join(str(f) for f in path.factors)
    numbers = " · ".join(fmt_factor(f.value) for f in path.factors)
    if len(path.factors) == 1 and str(path.factors[0]) == lhs:
        return f"{lhs} = {fmt(total)}"
    return f"{lhs} = {names}\n{pad} = {numbers}\n{pad} = {fmt(total)}"


def _latex_group(text: str) -> str:
    """A factor's LaTeX rule, bracketed when it is a sum or difference (so the product reads right)."""
    bare = text.strip()
    return rf"\left({bare}\right)" if is_sum(bare) else bare


def explain(root: Value, wrt: Value, *, max_paths: int = MAX_PATHS) -> Explanation:
    """d(root)/d(wrt) as a sum over paths of products of local derivatives (`str()` it to read it).

    Lists at most `max_paths` paths and says how many were left out; `.total` is exact and equals
    `wrt.grad` after `root.backward()` (when wrt's grad started at zero). Grads are not touched.
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        raise TypeError(needs("explain(root, wrt)", "two Values", (root, wrt)))
    limit = integer(max_paths, "explain(max_paths)", at_least=0)
    order = topological_order(root)
    names = value_names(order)
    grad = root_grads(order, root)
    if wrt not in grad:
        return Explanation(names[root], wrt.label or "wrt", (), 0, 0.0)
    paths = _enumerate(wrt, root, _children(order), limit)
    # Factors run between labelled nodes (unlabelled ones such as a constant's product fold into
    # them, as the posts write dE/dY'); with no labelled interior node, every node is a factor.
    labelled = {v for v in order if v.label and v.parents and v is not root}
    stops = labelled or {v for v in order if v.parents}
    listed = tuple(_fold(path, wrt, names, stops) for path in paths)
    return Explanation(names[root], names[wrt], listed, _path_counts(order, root)[wrt], grad[wrt])


def root_grads(order: list[Value], root: Value) -> dict[Value, float]:
    """d root / d v for every v of `order`, by the chain rule on copies (no .grad is touched).

    Accumulated in reverse topological order, so each node's total is complete before it is
    passed on; a node with no gradient passes nothing on (0 * inf would be nan, not 0).
    """
    grad = {v: 0.0 for v in order}
    grad[root] = 1.0
    for v in reversed(order):
        g = grad[v]
        if g:
            for p, d in zip(v.parents, v.local_grads):
                grad[p] += d * g
    return grad


def _path_counts(order: list[Value], root: Value) -> dict[Value, int]:
    """Number of paths from each node up to the root (over edges, so a*a counts twice)."""
    count: dict[Value, int] = {v: 0 for v in order}
    count[root] = 1
    for v in reversed(order):
        for p in v.parents:
            count[p] += count[v]
    return count


def _children(order: list[Value]) -> dict[Value, list[tuple[Value, float, int]]]:
    """For every node, the (child, local derivative, input index) of each edge leaving it."""
    children: dict[Value, list[tuple[Value, float, int]]] = {v: [] for v in order}
    for v in order:
        for k, (p, d) in enumerate(zip(v.parents, v.local_grads)):
            children[p].append((v, d, k))
    return children


Step = tuple[Value, float, int]  # (node reached, local derivative, which input of it the edge is)


def _enumerate(
    wrt: Value, root: Value, children: dict[Value, list[Step]], limit: int
) -> list[list[Step]]:
    """Up to `limit` paths from wrt to root, each a list of (node reached, local derivative, input)."""
    if limit == 0:
        return []
    if wrt is root:
        return [[]]
    # Iterative DFS over edges; every node in `children` reaches the root, so there are no dead
    # ends. A path is a linked list (node, d, previous link): no copying, even on deep chains.
    Link = tuple[Value, float, int, object]  # noqa: N806 (a local type alias)
    found: list[Link] = []
    stack: list[tuple[Value, Link | None]] = [(wrt, None)]
    while stack and len(found) < limit:
        node, link = stack.pop()
        for child, d, k in reversed(children[node]):
            step: Link = (child, d, k, link)
            if child is root:
                found.append(step)
            else:
                stack.append((child, step))
    paths = []
    for last in found[:limit]:
        path: list[Step] = []
        cursor: object = last
        while cursor is not None:
            child, d, k, cursor = cursor  # type: ignore[misc]
            path.append((child, d, k))
        paths.append(path[::-1])
    return paths


def _fold(path: list[Step], wrt: Value, names: dict[Value, str], stops: set[Value]) -> ChainPath:
    """Turn a path into factors between the `stops` nodes, root side first (the others folded in).

    A factor's rule is the product of its edges' rules; a folded node appears in them as its
    expression ("(Y' − Y)"), since it has no name the learner gave it.
    """
    factors: list[Factor] = []
    via: list[str] = []
    start = wrt
    value = 1.0
    product = 1.0
    plain: list[str] = []
    latex: list[str] = []
    folded = dict(names)
    raw = dict(names)
    for node, _, _ in path[:-1]:
        if node not in stops:
            # Spelled out while short; a long chain of unlabelled nodes keeps their names.
            text, plain_text = expression(node, raw, pretty=False), expression(node, folded)
            if len(text) <= MAX_EXPRESSION:
                raw[node], folded[node] = text, plain_text
    for i, (node, d, k) in enumerate(path):
        value *= d
        product *= d
        rule, _ = edge_rule(node, k, folded)
        inputs = {p: latex_expression(raw[p]) for p in node.parents}
        _, rule_latex = edge_rule(node, k, inputs, latex_names=False)
        if rule != "1" or not plain:
            plain.append(rule)
            latex.append(rule_latex)
        if node in stops or i == len(path) - 1:
            # Root side first, as the factors themselves are written.
            factors.append(
                Factor(
                    names[node], names[start], value, _product(plain[::-1]), _product(latex[::-1], r" \cdot ")
                )
            )
            start, value, plain, latex = node, 1.0, [], []
        else:
            via.append(names[node])
    if not path:
        factors.append(Factor(names[wrt], names[wrt], 1.0, "1", "1"))
    return ChainPath(tuple(reversed(factors)), product, tuple(via))


def _product(rules: list[str], dot: str = " · ") -> str:
    """Rules multiplied: "0.5 · 2 (Y' − Y)"; factors "1" dropped unless alone; sums bracketed."""
    kept = [r for r in rules if r not in ("1", "")] or rules[:1]
    if len(kept) == 1:
        return kept[0]
    return dot.join(f"({r})" if is_sum(r) else r for r in kept)
