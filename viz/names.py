"""What every view calls a node, and its operation's symbol and rule text read from the op table.

One naming for the diagram, `explain` and the steps page: a Value's label; a constant's number
("0.5"); "v1", "v2", ... for unlabelled results and "p1", ... for unlabelled parameters, numbered
in topological order from the leaves, so the same graph gets the same names in every view.
The symbol and the derivative rule come from the node's op-table row (`Value.operation`), with the
operands' names filled in: mul's rule "b" on the edge from X in X * W0 reads "W0".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence

from autograd import Op, Value
from viz.labels import fmt, latex_char, latex_text, pretty_rule, superscript

# Superscript forms of the letters a row's constant may be called ("xⁿ" shows n as "ⁿ").
_LETTER_SUPERSCRIPTS = {"n": "ⁿ", "m": "ᵐ", "k": "ᵏ", "p": "ᵖ", "a": "ᵃ", "b": "ᵇ", "c": "ᶜ"}
# A name that reads as one factor without parentheses: "W0", "Y'", "L1.n0.w0", "0.5".
_ATOM = re.compile(r"[\w'.]+(?:\[\d+\])?")
_LATEX_INDEXED = re.compile(r"([A-Za-z]+)_?(\d+)('*)")


ROOT_NAME = "root"
"""What every view calls an unlabelled root: the Value the picture or the derivative is about."""


def qualified_label(v: Value) -> str:
    """`v`'s label with its scope in front ("L1.n0.w0"); a label its scope already ends with (nn
    labels a neuron's output "L1.n0" inside scope "L1.n0") is not repeated: "L1.n0", not "L1.n0.L1.n0"."""
    return _qualified(v.label, v.scope)


def _qualified(label: str, scope: str) -> str:
    """`qualified_label` from the label and scope read once."""
    if not scope:
        return label
    if scope == label or scope.endswith("." + label):
        return scope
    return f"{scope}.{label}"


def _base_names(order: Sequence[Value]) -> dict[Value, str]:
    """Each labelled Value's name before copies are numbered: its label, qualified by its scope
    when the label repeats in the graph (nn's "w0" in every neuron)."""
    labelled = [(v, label) for v in order if (label := v.label)]  # a property: read once per node
    counts = Counter(label for _, label in labelled)
    return {
        v: _qualified(label, v.scope) if counts[label] > 1 else label for v, label in labelled
    }


def sample_numbers(order: Sequence[Value]) -> dict[Value, int]:
    """For labelled Values whose name repeats in `order` once per sample of a batch (each neuron's
    output, each input, each sample's loss): which sample each is, 0, 1, 2, ... in topological order.

    A loss that adds its samples in order (`sum(loss(model(x), y) for x, y in zip(xs, ys))`, as
    nn and the lecture do) visits sample 0's Values first, so copy k is the one computed on xs[k].
    Copies count as samples when they are alike (all leaves, or all made by the same operation)
    and the second is not computed from the first; other repeats (a label given to a leaf and to
    a result built from it) are not numbered here. Values whose name is unique are not in the result.
    """
    return _sample_numbers(_base_names(order))


def _sample_numbers(bases: dict[Value, str]) -> dict[Value, int]:
    """`sample_numbers` from the base names (`_base_names`, in topological order)."""
    copies: dict[str, list[Value]] = {}
    for v, base in bases.items():
        copies.setdefault(base, []).append(v)
    numbers: dict[Value, int] = {}
    for same in copies.values():
        if len(same) > 1 and _samples_alike(same):
            numbers.update((v, k) for k, v in enumerate(same))
    return numbers


def _samples_alike(copies: list[Value]) -> bool:
    """True when `copies` (one name, topological order) look like one Value per sample: the same
    kind of node, and the second not computed from the first (a walk over the second's ancestors,
    which in a batch is one sample's part of the graph)."""
    if len({v.op for v in copies}) > 1:
        return False
    first, second = copies[0], copies[1]
    seen = {second}
    stack = [second]
    while stack:
        for p in stack.pop().parents:
            if p is first:
                return False
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return True


def value_names(order: Sequence[Value], params: Collection[Value] = ()) -> dict[Value, str]:
    """A name per node of `order` (topological, root last): label, a constant's number, "root" for
    an unlabelled root, or "v1"/"p1" in order.

    Labels that repeat (nn's "w0" in every neuron) are prefixed by the node's scope
    ("L1.n0.w0"); a name that still repeats is one Value per sample of a batch and gets its sample
    number (`sample_numbers`): "L1.n0[2]", "x0[2]" for the copies computed on xs[2]. Any name
    still taken (a label that looks like one of ours) gets "#2", "#3" (constants may share their number).
    """
    return names_and_samples(order, params)[0]


def names_and_samples(
    order: Sequence[Value], params: Collection[Value] = ()
) -> tuple[dict[Value, str], dict[Value, int]]:
    """`value_names(order, params)` and `sample_numbers(order)`, computed together."""
    bases = _base_names(order)
    samples = _sample_numbers(bases)
    names: dict[Value, str] = {}
    taken: set[str] = set()
    counters: Counter[str] = Counter()
    repeats: Counter[str] = Counter()
    root = order[-1] if order else None
    for v in order:
        name = bases.get(v)
        if name is not None:
            if v in samples:
                name = f"{name}[{samples[v]}]"
        elif v is root:
            name = ROOT_NAME
        elif v.parents or not (v.is_constant or v in params):  # results and your unlabelled Values
            counters["v"] += 1
            name = f"v{counters['v']}"
        elif v in params:
            counters["p"] += 1
            name = f"p{counters['p']}"
        else:
            names[v] = fmt(v.data)  # a number arithmetic turned into a leaf is its own name
            continue
        base = name
        while name in taken:  # a per-name counter: a label repeated n times costs n, not n²
            repeats[base] = repeats[base] + 1 if repeats[base] else 2
            name = f"{base}#{repeats[base]}"
        taken.add(name)
        names[v] = name
    return names, samples


def symbol_of(v: Value) -> str:
    """The symbol `v`'s operation shows ("×", "x²", "Σ wx" for a sum without bias); "" for a leaf."""
    row = v.operation
    if row is None:
        return ""
    symbol = row.symbol
    if row.weighted_sum and len(v.parents) % 2 == 0:
        symbol = symbol.replace("+b", "")
    if row.const is not None and v.const is not None:
        value = fmt(v.const)
        raised = _LETTER_SUPERSCRIPTS.get(row.const)
        if raised and raised in symbol:
            small = superscript(value)
            symbol = symbol.replace(raised, small) if small else symbol.replace(raised, "^" + value)
        else:
            symbol = _substitute(symbol, {row.const: value})
    return symbol


def _paired(v: Value, index: int) -> int | None:
    """For a weighted sum (w0, x0, w1, x1, ..., [b]): the position of the other factor of the
    term at `index`, None for the bias."""
    n = len(v.parents)
    if index >= n - n % 2:
        return None
    return index + 1 if index % 2 == 0 else index - 1


def edge_rule(
    v: Value, index: int, names: dict[Value, str], *, latex_names: bool = True
) -> tuple[str, str]:
    """(plain, LaTeX) rule for d v / d (input `index`), with the operands' names filled in.

    `latex_names=False`: `names` are LaTeX already (the plain rule is then of no use).
    """
    row = v.operation
    if row is None:
        return "", ""
    parents = v.parents
    factor = _latex_factor if latex_names else _latex_bracket
    if row.weighted_sum:
        other = _paired(v, index)
        if other is None:
            return "1", "1"
        name = names[parents[other]]
        return name, factor(name)
    plain = row.texts[min(index, len(row.texts) - 1)]
    latex = row.latex[min(index, len(row.latex) - 1)]
    bound = _bindings(row, v, names)
    return (
        pretty_rule(_substitute(plain, {k: _factor(n) for k, n in bound.items()})),
        tidy_latex(_substitute(latex, {k: factor(n) for k, n in bound.items()})),
    )


_LATEX_DIFFERENCE = re.compile(r"\^\{(-?\d+(?:\.\d+)?) ?- ?(\d+(?:\.\d+)?)\}")
_LATEX_POWER_ONE = re.compile(r"\^\{1\}")


def tidy_latex(text: str) -> str:
    """A filled-in LaTeX rule tidied like `pretty_rule`: "x^{2-1}" -> "x"."""
    text = _LATEX_DIFFERENCE.sub(lambda m: "^{" + f"{float(m.group(1)) - float(m.group(2)):g}" + "}", text)
    return _LATEX_POWER_ONE.sub("", text)


def is_sum(text: str) -> bool:
    """True when `text` is a sum or difference at its top level ("a − b", not "(a − b) c")."""
    depth = 0
    for i, char in enumerate(text):
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif depth == 0 and i > 0 and char in "+−-" and text[i - 1] == " " and text[i + 1 : i + 2] == " ":
            return True
    return False


def _latex_bracket(text: str) -> str:
    """LaTeX `text` in left/right brackets when it is more than one term or starts with a minus."""
    return rf"\left({text}\right)" if re.search(r"\s|[-+]", text) else text


def term_of(v: Value, index: int, names: dict[Value, str]) -> str:
    """The weighted-sum term input `index` of `v` belongs to ("w0·x0", "+ b"); "" for other ops."""
    if v.operation is None or not v.operation.weighted_sum:
        return ""
    other = _paired(v, index)
    parents = v.parents
    if other is None:
        return f"+ {names[parents[index]]}"
    w, x = (index, other) if index % 2 == 0 else (other, index)
    return f"{_factor(names[parents[w]])}·{_factor(names[parents[x]])}"


def _bindings(row: Op, v: Value, names: dict[Value, str]) -> dict[str, str]:
    """The row's operand names (and constant) -> the names of `v`'s inputs (and the constant's value)."""
    bound = dict(zip(row.operands, (names[p] for p in v.parents)))
    if row.const is not None and v.const is not None:
        bound[row.const] = fmt(v.const)
    return bound


def _substitute(text: str, bound: dict[str, str]) -> str:
    """`text` with each whole-word operand name replaced, in one pass (a -> "b" is not replaced again)."""
    if not bound:
        return text
    pattern = re.compile(
        r"(?<![\w\\])(" + "|".join(re.escape(k) for k in sorted(bound, key=len, reverse=True)) + r")(?![\w])"
    )
    return pattern.sub(lambda m: bound[m.group(1)], text)


def _factor(name: str) -> str:
    """`name` ready to sit in a formula: parenthesised unless it is one token ("(-1)", "(a b)")."""
    return name if _ATOM.fullmatch(name) and not name.startswith("-") else f"({name})"


_SAMPLE_SUFFIX = re.compile(r"(.+)\[(\d+)\]")


def latex_name(name: str) -> str:
    """A node's name in LaTeX: "W0" -> "W_{0}", "Y'" -> "Y'", a sample's copy "x0[2]" ->
    "x_{0}^{(2)}" (the usual superscript for a sample), others as escaped upright text."""
    sample = _SAMPLE_SUFFIX.fullmatch(name)
    if sample:
        return f"{latex_name(sample.group(1))}^{{({sample.group(2)})}}"
    match = _LATEX_INDEXED.fullmatch(name)
    if match:
        return f"{match.group(1)}_{{{match.group(2)}}}{match.group(3)}"
    if re.fullmatch(r"[A-Za-z]'*|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", name):
        return name
    return latex_text(name)


def _latex_factor(name: str) -> str:
    """`latex_name(name)`, parenthesised unless one token."""
    text = latex_name(name)
    return text if _ATOM.fullmatch(name) and not name.startswith("-") else rf"\left({text}\right)"


def expression(v: Value, names: dict[Value, str], pretty: bool = True) -> str:
    """`v`'s operation written with its inputs' names, from the row's formula ("Y' − Y", "σ(Z0)");
    `pretty=False` keeps "^2" and "-" (for `latex_expression`)."""
    row = v.operation
    if row is None:
        return names[v]
    if row.weighted_sum:
        parents = v.parents
        terms = [term_of(v, i, names) for i in range(0, len(parents) - len(parents) % 2, 2)]
        if len(parents) % 2:
            terms.append(term_of(v, len(parents) - 1, names))
        return " + ".join(terms).replace("+ + ", "+ ")
    bound = {k: _factor(n) for k, n in _bindings(row, v, names).items()}
    text = _substitute(row.formula, bound)
    return pretty_rule(text) if pretty else text


_LATEX_OPERATORS = {
    "·": r" \cdot ", "σ": r"\sigma", "Σ": r"\sum ", "−": "-", "√": r"\sqrt ", "×": r" \times ",
}


def latex_expression(text: str) -> str:
    """A plain formula with names ("Y' − Y", "0.5 · 2 (v1)") as LaTeX: names via `latex_name`."""
    out = []
    for token in re.findall(r"[\w'.]+(?:\[\d+\])?|\s+|.", text):
        if _ATOM.fullmatch(token):
            word = token.isalpha() and len(token) > 1
            out.append(rf"\mathrm{{{token}}}" if word else latex_name(token))
        elif token in _LATEX_OPERATORS:
            out.append(_LATEX_OPERATORS[token])
        else:
            out.append(latex_char(token))
    return "".join(out)
