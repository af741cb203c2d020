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
_ATOM = re.compile(r"[\w'.]+")
_LATEX_INDEXED = re.compile(r"([A-Za-z]+)_?(\d+)('*)")


def value_names(order: Sequence[Value], params: Collection[Value] = ()) -> dict[Value, str]:
    """A name per node of `order` (topological): label, a constant's number, or "v1"/"p1" in order.

    Labels that repeat (nn's "w0" in every neuron) are prefixed by the node's scope
    ("L1.n0.w0"); any name still taken gets "#2", "#3" (constants may share their number).
    """
    labels = Counter(v.label for v in order if v.label)
    names: dict[Value, str] = {}
    taken: set[str] = set()
    counters: Counter[str] = Counter()
    repeats: Counter[str] = Counter({name: 1 for name in labels})
    for v in order:
        if v.label:
            name = f"{v.scope}.{v.label}" if labels[v.label] > 1 and v.scope else v.label
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
            repeats[base] += 1
            name = f"{base}#{repeats[base]}"
        taken.add(name)
        names[v] = name
    return names


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


def latex_name(name: str) -> str:
    """A node's name in LaTeX: "W0" -> "W_{0}", "Y'" -> "Y'", others as escaped upright text."""
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
    for token in re.findall(r"[\w'.]+|\s+|.", text):
        if _ATOM.fullmatch(token):
            word = token.isalpha() and len(token) > 1
            out.append(rf"\mathrm{{{token}}}" if word else latex_name(token))
        elif token in _LATEX_OPERATORS:
            out.append(_LATEX_OPERATORS[token])
        else:
            out.append(latex_char(token))
    return "".join(out)
