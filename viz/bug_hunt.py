"""A bug hunt: one wrong local derivative planted in your graph's numbers; find it by checking nodes.

    hunt = viz.bug_hunt(E, seed=0)   # same seed, same bug
    hunt.draw()                      # the diagram with the planted numbers: ∂ on each edge, grads
    hunt.check("v3")                 # v3's local derivatives against central differences of its op
    hunt.guess("v3")                 # is v3 the node with the bug?
    hunt.reveal()                    # which rule was wrong, how, and which grads it spoilt

The hunt works on plain data (a `Trace` of your graph): the planted derivative and the gradients
recomputed with it live in the hunt, never in your Values, so your graph stays as it was. A check
differences the node's operation forward (its op-table row) at the node's inputs; the diagram
colours each checked operation green with ✓ when the planted derivatives agree, red with ✗ when
they do not (the mark is in the label too, for readers who cannot tell the colours apart).
"""

from __future__ import annotations

import dataclasses
import html
import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from autograd import Value, numerical_grad
from autograd.checks import integer
from autograd.files import FilePath, file_path, write_atomically
from viz.dot import RENDER_TIMEOUT, Diagram, build, root_value, svg_of
from viz.labels import dot_text, fmt, page_text, script_json
from viz.pages import inline_svg, read_template, script_csp
from viz.trace import Edge, Node, Trace, trace

# Bug kinds, each a way to get one input's local derivative wrong.
SIGN = "sign"
OTHER_INPUT = "other input"
FORWARD_VALUE = "forward value"
FACTOR = "forgotten factor"
KINDS = (SIGN, OTHER_INPUT, FORWARD_VALUE, FACTOR)
KIND_TEXT = {
    SIGN: "a sign flip",
    OTHER_INPUT: "the other input's derivative",
    FORWARD_VALUE: "the forward value instead of the derivative",
    FACTOR: "a forgotten factor",
}

RIGHT_FILL, RIGHT_BORDER = "#bbf7d0", "#15803d"
WRONG_FILL, WRONG_BORDER = "#fecaca", "#b91c1c"
RTOL, ATOL = 1e-4, 1e-6
HUNT_HINT = "Hunt in one sample's loss (a smaller graph), or raise max_nodes."
# A kink (relu at 0) has no derivative; either side's slope, within this tolerance, counts as right.
ONE_SIDED_TOL = 1e-3


@dataclass(frozen=True)
class Bug:
    """The planted bug: on `node`, d node/d `input` (argument `index`) went from `right` to `planted`."""

    node: str
    node_id: str
    index: int
    input: str
    kind: str
    right: float
    planted: float
    rule: str


@dataclass(frozen=True)
class Verdict:
    """A check's or a guess's answer: truthy when right; `.message` says why.

    A check's `rows` hold, per input: its name, the graph's (planted) local derivative, the
    central difference, and whether they agree.
    """

    name: str
    right: bool
    message: str
    rows: tuple[tuple[str, float, float, bool], ...] = ()

    def __bool__(self) -> bool:
        """True when the node's derivatives agree (check) or the guess found the bug (guess)."""
        return self.right

    def __str__(self) -> str:
        """The message."""
        return self.message

    # Jupyter and the REPL show the message itself, not the fields.
    __repr__ = __str__


class BugHunt:
    """One planted wrong local derivative in a copy of a graph's numbers, and the tools to find it."""

    def __init__(self, root: Value, seed: int, kinds: Sequence[str], max_nodes: int) -> None:
        """Trace `root`, plant one bug of one of `kinds` chosen by `seed`, recompute the gradients."""
        self.seed = seed
        data, order = trace(root, max_nodes=max_nodes, hint=HUNT_HINT)
        self._order = order
        self._data = data
        self._ids = {node.name: node.id for node in data.nodes}
        self._index = {node.id: i for i, node in enumerate(data.nodes)}
        self._inputs: dict[str, list[Edge]] = {}
        for edge in data.edges:
            self._inputs.setdefault(edge.dst, []).append(edge)
        self._true_grads = self._grads({})
        self._operations = tuple(
            n.name for n in data.nodes if self._inputs.get(n.id) and self._checkable(n.id)
        )
        self._planted: dict[tuple[str, int], float] = {}
        self._bug = _plant(self, random.Random(seed), kinds)  # noqa: S311 (a puzzle, not cryptography)
        self._planted[self._bug.node_id, self._bug.index] = self._bug.planted
        self._grads_planted = self._grads(self._planted)
        self.checked: dict[str, Verdict] = {}
        self.guesses: list[str] = []
        self.revealed = False

    # ------------------------------------------------------------ numbers

    def _grads(self, planted: dict[tuple[str, int], float]) -> dict[str, float]:
        """Every node's grad by the chain rule from the root (grad 1), with `planted` derivatives."""
        grads = {node.id: 0.0 for node in self._data.nodes}
        grads[self._data.root] = 1.0
        for node in reversed(self._data.nodes):
            g = grads[node.id]
            for edge in self._inputs.get(node.id, ()):
                grads[edge.src] += planted.get((edge.dst, edge.index), edge.local) * g
        return grads

    def _local(self, node_id: str, index: int) -> float:
        """The local derivative of input `index` of node `node_id` as the hunt's graph has it (planted)."""
        edge = self._inputs[node_id][index]
        return self._planted.get((node_id, index), edge.local)

    @property
    def operations(self) -> list[str]:
        """The names of the nodes you can check: every node an operation made, leaves first."""
        return list(self._operations)

    @property
    def grads(self) -> dict[str, float]:
        """Each node's grad as the buggy backward computed it, by name."""
        return {n.name: self._grads_planted[n.id] for n in self._data.nodes}

    def _checkable(self, node_id: str) -> bool:
        """True when the node's op-table row can evaluate its forward (not a _backward closure's node)."""
        v = self._order[self._index[node_id]]
        row = v.operation
        if row is None:
            return False
        try:
            row.evaluate([p.data for p in v.parents], v.const)
        except (ValueError, TypeError, ArithmeticError):
            return False
        return True

    def _node(self, name: str, what: str) -> Node:
        """The node named `name`, else a ValueError listing the names there are."""
        if not isinstance(name, str):
            got = type(name).__name__
            raise TypeError(f"{what} needs a node name (str) as the diagram shows it, got {got}")
        node_id = self._ids.get(name)
        if node_id is None:
            shown = ", ".join(self.operations[:20]) + (" …" if len(self.operations) > 20 else "")
            raise ValueError(f"{what}: no node named {name!r}; the operations you can check: {shown}")
        return self._data.by_id[node_id]

    def _slopes(self, node_id: str) -> list[tuple[float, float, float]]:
        """Per input: (central, left-sided, right-sided) differences of the node's op at its inputs."""
        v = self._order[self._index[node_id]]
        row = v.operation
        if row is None:
            return []
        xs = [p.data for p in v.parents]
        const = v.const

        def f(point: list[float]) -> float:
            return row.evaluate(point, const)[0]

        result = []
        central = numerical_grad(f, xs)
        here = f(list(xs))
        for k, x in enumerate(xs):
            h = 1e-6 * max(1.0, abs(x))
            up, down = list(xs), list(xs)
            up[k], down[k] = x + h, x - h
            result.append((central[k], (here - f(down)) / h, (f(up) - here) / h))
        return result

    # ------------------------------------------------------------ what the learner does

    def check(self, name: str) -> Verdict:
        """Compare node `name`'s local derivatives (as planted) with central differences of its operation."""
        verdict = self._verdict(name)
        self.checked[name] = verdict
        return verdict

    def _verdict(self, name: str) -> Verdict:
        """What `check(name)` says, without recording it."""
        node = self._node(name, "check")
        if not self._inputs.get(node.id):
            raise ValueError(
                f"check: {name!r} is a leaf (an input, parameter or constant): it has no local "
                f"derivatives; check an operation instead, e.g. {', '.join(self.operations[:5])}"
            )
        if not self._checkable(node.id):
            raise ValueError(
                f"check: {name!r} was made by {node.op!r}, whose forward cannot be evaluated again "
                "(a _backward closure's node); use autograd.check_backward on the function that built it"
            )
        try:
            slopes = self._slopes(node.id)
        except (ValueError, ArithmeticError) as error:
            raise ValueError(f"check: cannot difference {name!r} at its inputs ({error})") from None
        lines, rows, right = [], [], True
        for edge, (central, left, rightside) in zip(self._inputs[node.id], slopes):
            ours = self._local(node.id, edge.index)
            src = self._data.by_id[edge.src].name
            ok = abs(ours - central) <= ATOL + RTOL * abs(central) or any(
                abs(ours - side) <= ONE_SIDED_TOL * max(1.0, abs(side)) for side in (left, rightside)
            )
            right = right and ok
            rows.append((src, ours, central, ok))
            mark = "✓" if ok else "✗"
            lines.append(
                f"{mark} d{name}/d{src}: the graph says {fmt(ours)}, central differences of "
                f"{node.symbol or node.op} say {fmt(central)}"
            )
        head = (
            f"{name}: ✓ its local derivatives agree with central differences"
            if right else f"{name}: ✗ a local derivative disagrees with central differences"
        )
        return Verdict(name, right, "\n".join([head, *(f"  {line}" for line in lines)]), tuple(rows))

    def guess(self, name: str) -> Verdict:
        """Say which node holds the bug; the verdict is truthy when it does."""
        node = self._node(name, "guess")
        self.guesses.append(name)
        if node.id == self._bug.node_id:
            return Verdict(
                name, True,
                f"Found it in {len(self.guesses)} guess(es): {name} carried the planted bug. "
                "hunt.reveal() shows which derivative and the rule.",
            )
        if not self._inputs.get(node.id):
            text = f"Not {name}: a leaf has no local derivative; the bug is in an operation"
            return Verdict(name, False, text)
        seen = self.checked.get(name)
        hint = " (its check was ✓)" if seen else " (try hunt.check(name) first)"
        return Verdict(name, False, f"Not {name}: its local derivatives are right{hint}. Keep hunting.")

    def reveal(self) -> str:
        """The planted bug: where, what it should be, the grads it spoilt (then drawn outlined)."""
        self.revealed = True
        return self._reveal_text()

    def _reveal_text(self) -> str:
        """What `reveal()` says, without marking the hunt revealed."""
        bug = self._bug
        rule = f" = {bug.rule}" if bug.rule and bug.rule != fmt(bug.right) else ""
        spoilt = [
            f"{n.name}.grad {fmt(self._grads_planted[n.id])} (right: {fmt(self._true_grads[n.id])})"
            for n in self._data.nodes
            if not n.n_parents and _differs(self._grads_planted[n.id], self._true_grads[n.id])
        ]
        effect = "; ".join(spoilt[:6]) + (" …" if len(spoilt) > 6 else "") if spoilt else "no leaf's grad"
        return (
            f"The bug was on {bug.node}: d{bug.node}/d{bug.input} was {fmt(bug.planted)} "
            f"({KIND_TEXT[bug.kind]}); the rule says ∂{rule} = {fmt(bug.right)}. "
            f"It made these grads wrong: {effect}."
        )

    # ------------------------------------------------------------ the picture

    def status(self) -> str:
        """One line: how many operations are checked, which were ✓ and ✗."""
        marks = ", ".join(f"{'✓' if v else '✗'} {name}" for name, v in self.checked.items())
        total = len(self.operations)
        return f"checked {len(self.checked)} of {total} operations" + (f": {marks}" if marks else "")

    def draw(self, legend: bool = False) -> Diagram:
        """The graph with the planted numbers; each checked operation green ✓ or red ✗, the rest plain."""
        caption = (
            f"Bug hunt (seed {self.seed}): one local derivative ∂ below is wrong, and so are the grads "
            "it feeds. hunt.check(name) differences a node's operation: ✓ green agrees, ✗ red does not.\n"
            + self.status()
        )
        if self.revealed:
            caption += f"\nrevealed: the bug was on {self._bug.node} (red outline)"
        return self._diagram(self.checked, self.revealed, legend, caption)

    def _diagram(self, checked: dict[str, Verdict], revealed: bool, legend: bool,
                 caption: str | None, rankdir: str = "TB") -> Diagram:
        """The diagram with `checked` nodes marked (and the bug outlined when `revealed`)."""
        nodes = []
        for node in self._data.nodes:
            verdict = checked.get(node.name)
            name = node.name if verdict is None else f"{'✓' if verdict else '✗'} {node.name}"
            nodes.append(dataclasses.replace(node, name=name, grad=self._grads_planted[node.id]))
        edges = []
        for edge in self._data.edges:
            local = self._local(edge.dst, edge.index)
            edges.append(
                dataclasses.replace(edge, local=local, contribution=local * self._grads_planted[edge.dst])
            )
        data = Trace(tuple(nodes), tuple(edges), self._data.root, True, {n.id: n for n in nodes})
        hot = [self._bug.node_id] if revealed else []
        # rules=False: an edge reading "∂ = W0 = -0.5" beside W0 = 0.5 would give the bug away.
        g = build(data, rules=False, legend=legend, caption=caption, highlight=hot, rankdir=rankdir,
                  hot=hot[0] if hot else None)
        for node in self._data.nodes:
            verdict = checked.get(node.name)
            if verdict is None or not node.op:
                continue
            fill, border = (RIGHT_FILL, RIGHT_BORDER) if verdict else (WRONG_FILL, WRONG_BORDER)
            mark = "✓" if verdict else "✗"
            # A second statement for the same DOT node overrides the attributes build() gave it.
            g.node(f"{node.id}_op", f"<{dot_text(f'{mark} {node.symbol or node.op}')}>", style="filled",
                   fillcolor=fill, color=border, penwidth="2")
        return g

    def html(self, *, title: str | None = None, rankdir: str | None = None,
             timeout: float = RENDER_TIMEOUT) -> str:
        """The hunt as one standalone HTML page (see `save_html`)."""
        return hunt_page(self, title, rankdir, timeout)

    def save_html(self, path: FilePath, *, title: str | None = None,
                  rankdir: str | None = None, timeout: float = RENDER_TIMEOUT) -> str:
        """Write the hunt as one standalone page (no kernel, no network) and return its path.

        The page starts with nothing checked: click an operation to check it, guess, reveal.
        Every verdict is computed here, in Python; the page only shows them. `rankdir` None
        picks "TB" or "LR", whichever fits the page's picture area better. Needs Graphviz's dot.
        """
        text = self.html(title=title, rankdir=rankdir, timeout=timeout)
        target = file_path(path, "BugHunt.save_html(path)")
        write_atomically(target, text.encode("utf-8"))
        return target

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter shows the current diagram (and the status line as text)."""
        bundle = dict(self.draw()._repr_mimebundle_())
        bundle["text/plain"] = f"<bug hunt, seed {self.seed}: {self.status()}>"
        return bundle

    def __repr__(self) -> str:
        """The seed and the status line."""
        return f"<bug hunt, seed {self.seed}: {self.status()}>"


def _differs(x: float, y: float) -> bool:
    """True when x and y differ beyond rounding."""
    return abs(x - y) > ATOL + RTOL * max(abs(x), abs(y))


def _wrong_value(hunt: BugHunt, node: Node, edge: Edge, kind: str) -> float | None:
    """What `kind` turns the derivative on `edge` into, or None when it does not apply or changes nothing."""
    v = hunt._order[hunt._index[node.id]]
    row = v.operation
    right = edge.local
    siblings = hunt._inputs[node.id]
    wrong: float | None = None
    if kind == SIGN:
        wrong = -right
    elif kind == OTHER_INPUT and len(siblings) == 2:
        wrong = siblings[1 - edge.index].local
    elif kind == FORWARD_VALUE:
        wrong = node.data
    elif kind == FACTOR and row is not None:
        if row.const is not None and v.const not in (None, 0.0, 1.0, -1.0):
            wrong = right / float(v.const or 1.0)  # n·xⁿ⁻¹ written xⁿ⁻¹
        elif row.name == "*":
            wrong = 1.0  # d(a·b)/da written 1, as if it were a + b
    if wrong is None or not math.isfinite(wrong):
        return None
    # Plant only what a check can see: far from the right value at the scale of both.
    if abs(wrong - right) <= 1e-2 * max(1.0, abs(right)):
        return None
    return wrong


def _plant(hunt: BugHunt, rng: random.Random, kinds: Sequence[str]) -> Bug:
    """Choose a bug kind (among those that apply somewhere), then a node and input, by `rng`."""
    by_kind: dict[str, list[tuple[Node, Edge, float]]] = {k: [] for k in kinds}
    for node in hunt._data.nodes:
        if not hunt._inputs.get(node.id) or not hunt._checkable(node.id):
            continue
        for edge in hunt._inputs[node.id]:
            for kind in kinds:
                wrong = _wrong_value(hunt, node, edge, kind)
                if wrong is not None:
                    by_kind[kind].append((node, edge, wrong))
    # A bug where no gradient flows (a dead relu's input) changes nothing the learner could notice.
    for kind, found in by_kind.items():
        flowing = [c for c in found if hunt._true_grads[c[0].id] != 0.0]
        by_kind[kind] = flowing or found
    usable = [k for k in kinds if by_kind[k]]
    if not usable:
        raise ValueError(
            "bug_hunt: this graph has no operation a bug can be planted in (it needs at least one "
            "operation whose forward the op table can evaluate, with a non-zero local derivative)"
        )
    kind = rng.choice(usable)
    node, edge, wrong = rng.choice(by_kind[kind])
    src = hunt._data.by_id[edge.src].name
    return Bug(node.name, node.id, edge.index, src, kind, edge.local, wrong, edge.rule)


def bug_hunt(
    root: object, seed: int = 0, *, kinds: Sequence[str] = KINDS, max_nodes: int = 200
) -> BugHunt:
    """Plant one wrong local derivative (chosen by `seed`) in a copy of `root`'s graph: find it.

    `kinds` are the bugs that may be planted: "sign", "other input", "forward value", "forgotten
    factor". Your Values are never changed. See the module docstring for check/guess/reveal/draw.
    """
    value = root_value(root)
    integer(seed, "bug_hunt(seed)")
    if isinstance(kinds, str):
        kinds = (kinds,)
    chosen = list(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen:
        names = ", ".join(map(repr, KINDS))
        raise ValueError(f"bug_hunt(kinds=...) takes some of {names}, got {list(kinds)!r}")
    integer(max_nodes, "bug_hunt(max_nodes)", at_least=1)
    return BugHunt(value, seed, chosen, max_nodes)


# The page's picture area in px (beside the panel, on a 1280-px-wide window); 1 pt = 4/3 px.
PAGE_AREA = (800.0, 1000.0)
_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"')


def _page_svg(hunt: BugHunt, rankdir: str | None, timeout: float) -> str:
    """The unchecked diagram's <svg> element, laid out `rankdir`, or the way that needs less shrinking."""
    deadline = time.monotonic() + timeout
    laid_out: list[tuple[float, str]] = []
    for way in (rankdir,) if rankdir is not None else ("TB", "LR"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise ValueError(f"dot needs more than {timeout:g} s for this hunt's page; pass a larger timeout")
        svg = svg_of(hunt._diagram({}, False, False, None, way), timeout=left)
        svg = inline_svg(svg)
        size = _SIZE.search(svg[:2000])
        shrink = (
            max(float(size.group(1)) * 4 / 3 / PAGE_AREA[0], float(size.group(2)) * 4 / 3 / PAGE_AREA[1])
            if size else 1.0
        )
        laid_out.append((shrink, svg))
    return min(laid_out, key=lambda pair: pair[0])[1]


def hunt_page(hunt: BugHunt, title: str | None, rankdir: str | None, timeout: float) -> str:
    """The page: template + the unchecked diagram's SVG + every verdict as escaped JSON + the script."""
    svg = _page_svg(hunt, rankdir, timeout)
    ops = []
    for name in hunt.operations:
        node = hunt._node(name, "page")
        verdict = hunt._verdict(name)
        ops.append({
            "name": name, "id": node.id, "right": verdict.right, "message": verdict.message,
            # The texts dot draws for the name and the symbol (after its escaping and shortening).
            "shown": html.unescape(dot_text(name)), "symbol": html.unescape(dot_text(node.symbol or node.op)),
        })
    bug = hunt._bug.node
    guesses = {
        o["name"]: f"Found it: {bug} carried the planted bug. Reveal shows which derivative and the rule."
        if o["name"] == bug else f"Not {o['name']}: its local derivatives are right. Keep hunting."
        for o in ops
    }
    colours = {"right_fill": RIGHT_FILL, "right_border": RIGHT_BORDER,
               "wrong_fill": WRONG_FILL, "wrong_border": WRONG_BORDER}
    data = {
        "operations": ops, "bug": bug, "guesses": guesses, "reveal": hunt._reveal_text(), "colours": colours,
    }
    script = read_template("templates/bug_hunt.js")
    values = {
        "csp": script_csp(script),
        "title": page_text(title or f"Bug hunt (seed {hunt.seed}): find the wrong local derivative"),
        "seed": str(hunt.seed), "count": str(len(ops)), "svg": svg, "data": script_json(data),
        "script": script, **colours,
    }
    # One pass: a value (an SVG holding a label "{{data}}") is never scanned for placeholders again.
    template = read_template("templates/bug_hunt.html")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
