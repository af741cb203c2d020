"""A learner's answer read safely: a number, or an expression in the graph's node names.

Expressions are parsed by Python's own parser (`ast.parse(text, mode="eval")`) and walked with a
whitelist: numbers, names of the graph's nodes, + - * / ** (`^` is read as a power, as learners
write it), unary minus, and calls of exp, log, tanh, sigmoid, sqrt, relu, abs. This module
evaluates the tree itself; user text never reaches `eval`. Long text, deep nesting and huge
exponents are refused with a message instead of an exception or a hang.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from autograd import ops
from autograd.checks import is_real

MAX_TEXT = 400
MAX_TREE_NODES = 200
# |exponent| above this is refused: 10 ** 10 ** 10 would take a bignum forever, and no derivative
# a learner writes needs it.
MAX_EXPONENT = 64.0
FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sigmoid": lambda x: float(ops.sigmoid.fn(x)[0]),  # the op table's value, not a second formula
    "sqrt": math.sqrt,
    "relu": lambda x: float(ops.relu.fn(x)[0]),
    "abs": abs,
}
# What learners type that Python spells differently: the minus sign, times, the sigmoid letter.
_SPELLINGS = {"−": "-", "–": "-", "×": "*", "·": "*", "⋅": "*", "σ": "sigmoid", "^": "**", "²": "**2",
              "³": "**3"}


class AnswerError(ValueError):
    """Text that is not a number nor an allowed expression; the message says what is wrong."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the names it uses and a function of their values (`evaluate`)."""

    text: str
    names: tuple[str, ...]
    tree: ast.expr

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The expression's value with each node name bound to `values` (AnswerError when undefined)."""
        try:
            result = _evaluate(self.tree, values)
        except (OverflowError, ZeroDivisionError, ValueError) as error:
            if isinstance(error, AnswerError):
                raise
            raise AnswerError(f"your expression cannot be computed here ({_reason(error)})") from None
        if not math.isfinite(result):
            raise AnswerError("your expression gives a number too large for a float here")
        return result


def _reason(error: Exception) -> str:
    """A short reason for an arithmetic failure."""
    if isinstance(error, ZeroDivisionError):
        return "it divides by zero"
    if isinstance(error, OverflowError):
        return "a number grows too large"
    return "a function gets a value outside its domain, such as log or sqrt of a negative number"


def normalise(text: str) -> str:
    """`text` with the learner's spellings made Python's ("−" -> "-", "×" -> "*", "^" -> "**")."""
    for spelled, python in _SPELLINGS.items():
        text = text.replace(spelled, python)
    return text.strip()


def parse_number(text: str) -> float | None:
    """`text` as a finite float when it is just a number ("-0.4", "1.5e-3"), else None.

    AnswerError for a number that is not finite ("nan", "inf", "1e999").
    """
    cleaned = normalise(text)
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", cleaned, re.I):
        return None
    value = float(cleaned)
    if not math.isfinite(value):
        raise AnswerError(
            f"{shorten_text(cleaned)!r} is not a finite number: give the derivative as a number such as -0.4"
        )
    return value


def significant_digits(text: str) -> tuple[int, float]:
    """(significant digits, half a unit in the last typed place) of a typed number ("0.178" -> 3, 0.0005)."""
    cleaned = normalise(text).lstrip("+-").lower()
    mantissa, _, exponent = cleaned.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    place = -len(fraction) + (int(exponent) if exponent else 0)
    return len(digits), 0.5 * 10.0**place


def agrees(text: str, given: float, target: float) -> bool:
    """True when a typed number `given` is `target` to 1e-3 relative, or `target` rounded to the digits
    typed (at least 3 significant): "0.178" for 0.17789 counts, "0.18" does not."""
    gap = abs(given - target)
    if gap <= 1e-3 * abs(target) + 1e-12:
        return True
    digits, half = significant_digits(text)
    return digits >= 3 and gap <= half * 1.0001 + 1e-12


def close(given: float, target: float) -> bool:
    """True when two computed values agree to 1e-6 relative (computed, not typed: no rounding)."""
    return abs(given - target) <= 1e-6 * max(abs(given), abs(target)) + 1e-12


def parse_expression(text: str, names: Sequence[str]) -> Expression:
    """`text` parsed into an `Expression` over the node `names`; AnswerError saying what is not allowed."""
    if not isinstance(text, str):
        raise AnswerError(f"an answer is text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise AnswerError(f"your answer is {len(text)} characters long; keep it under {MAX_TEXT}")
    cleaned = normalise(text)
    if not cleaned:
        raise AnswerError("the answer is empty: type a number or an expression such as 1 - a1**2")
    # Node names may hold characters Python's names cannot ("Y'", "L1.n0.w0"): each becomes an
    # identifier of its own before parsing, longest name first so "W10" is not read as "W1" and "0".
    usable = sorted((n for n in names if n and not _is_number(n)), key=len, reverse=True)
    ids = {f"_n{i}": n for i, n in enumerate(usable)}
    if usable:
        pattern = re.compile(
            r"(?<![\w.'])(" + "|".join(re.escape(n) for n in usable) + r")(?![\w'])(?!\s*\()"
        )
        by_name = {n: k for k, n in ids.items()}
        cleaned = pattern.sub(lambda m: by_name[m.group(1)], cleaned)
    try:
        tree = ast.parse(cleaned, mode="eval")
    except SyntaxError:
        raise AnswerError(
            f"cannot read {shorten_text(text)!r} as a formula: write it like 1 - a1**2 or W1*X"
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise AnswerError("your answer is nested too deeply to read") from None
    used: list[str] = []
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_TREE_NODES:
        raise AnswerError(f"your expression has more than {MAX_TREE_NODES} parts; write a shorter one")
    callees = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    for node in nodes:
        _allowed(node, ids, used, id(node) in callees)
    return Expression(text, tuple(dict.fromkeys(used)), _rename(tree.body, ids))


def shorten_text(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_number(name: str) -> bool:
    """True for a constant's name ("0.5", "-2", "1e-05")."""
    try:
        float(name)
    except ValueError:
        return False
    return True


_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _allowed(node: ast.AST, ids: Mapping[str, str], used: list[str], callee: bool) -> None:
    """Raise AnswerError unless `node` is one of the whitelisted kinds (see the module docstring)."""
    if isinstance(node, (ast.Expression, ast.Load)) or isinstance(node, _OPERATORS):
        return
    if isinstance(node, (ast.UAdd, ast.USub)):
        return
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, _OPERATORS):
            raise AnswerError("only + - * / and ** are allowed between terms")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise AnswerError("only a minus sign is allowed in front of a term")
        return
    if isinstance(node, ast.Constant):
        if not is_real(node.value):  # True and 1j are not numbers an answer may hold
            raise AnswerError(f"{node.value!r} is not a number; only numbers and node names are allowed")
        return
    if isinstance(node, ast.Name):
        if node.id in ids:
            used.append(ids[node.id])
            return
        if node.id in FUNCTIONS and callee:
            return
        if node.id in FUNCTIONS:
            raise AnswerError(f"{node.id} is a function: write {node.id}(...) with its argument")
        known = ", ".join(sorted(ids.values())[:20]) or "none"
        raise AnswerError(f"{shorten_text(node.id)!r} is not a node of this graph; its names are: {known}")
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords or len(node.args) != 1:
            allowed = ", ".join(FUNCTIONS)
            raise AnswerError(f"only these functions of one argument are allowed: {allowed}")
        return
    raise AnswerError(
        f"{type(node).__name__} is not allowed in an answer: use numbers, node names, + - * / **, "
        f"and {', '.join(FUNCTIONS)}"
    )


def _rename(node: ast.expr, ids: Mapping[str, str]) -> ast.expr:
    """The tree with each identifier replaced by the node name it stands for (ast.Name ids)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id in ids:
            child.id = ids[child.id]
    return node


def _evaluate(node: ast.expr, values: Mapping[str, float]) -> float:
    """The value of a whitelisted tree (parse_expression checked every node kind)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return float(FUNCTIONS[node.func.id](_evaluate(node.args[0], values)))
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, values)
        right = _evaluate(node.right, values)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        if abs(right) > MAX_EXPONENT:
            raise AnswerError(
                f"an exponent of {right:g} is too large; powers up to {MAX_EXPONENT:g} are allowed"
            )
        if left < 0 and not float(right).is_integer():
            raise ValueError("a negative number to a fractional power")
        return float(left**right)
    raise AnswerError(f"{type(node).__name__} is not allowed in an answer")
