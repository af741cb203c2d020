"""`Op`, one row of the operation table, and `op`, the decorator that registers a row.

A row holds everything about one operation, written once: its name, arity, the symbol diagrams
show, its rule (a function returning the forward value and the local derivative for each input),
its domain checks with their messages, and the derivative rule as text (plain and LaTeX) for
learners. The built-in operations (`autograd/ops.py`) and a learner's own are registered alike:

    @autograd.op(symbol="softplus", rule="1 / (1 + e^-x)")
    def softplus(x):
        return math.log1p(math.exp(x)), 1 / (1 + math.exp(-x))   # value, d/dx

A rule that takes a keyword `m` (a math namespace: `autograd.FLOATS` by default) is written once
for floats and NumPy arrays alike (`m.exp`, `m.where`): the NumPy tape passes `m=numpy`. Any other
rule runs per sample in the NumPy tape (slower) unless `vectorized=` gives an array form.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, overload

from autograd.checks import real_number

# A domain check: (ok(*operands) -> bool or bool array, message template, exception type).
Domain = tuple[Callable[..., Any], str, type[Exception]]

TABLE: dict[str, Op] = {}
"""Every registered operation by name: the built-ins (autograd/ops.py) and the learner's own."""


class Op:
    """One operation: value and local derivatives (`fn`), domain, symbol and rule text, written once."""

    __slots__ = (
        "name",
        "arity",
        "operands",
        "const",
        "symbol",
        "fn",
        "texts",
        "latex",
        "formula",
        "domain",
        "takes_m",
        "vectorized",
        "builtin",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        symbol: str,
        texts: tuple[str, ...],
        latex: tuple[str, ...],
        formula: str,
        domain: tuple[Domain, ...],
        const: str | None,
        vectorized: Callable[..., Any] | None,
        builtin: bool,
    ) -> None:
        """Describe `fn` (see `op` for the arguments); reads the operand names from its signature."""
        params = inspect.signature(fn).parameters.values()
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.takes_m = any(p.name == "m" and p.default is not p.empty for p in params)
        if self.takes_m and "m" in names:
            names.remove("m")
        if const is not None:
            if not names or names[-1] != const:
                raise ValueError(f"op {name!r}: the constant {const!r} must be the rule's last parameter")
            names.pop()
        nary = any(p.kind is p.VAR_POSITIONAL for p in params)
        if not nary and len(names) not in (1, 2):
            raise ValueError(
                f"op {name!r}: a rule takes one or two operands (or *operands), got parameters {names}"
            )
        self.name = name
        self.arity = 0 if nary else len(names)  # 0: any number of operands (wsum)
        self.operands = tuple(names) if names else ("x",)
        self.const = const
        self.symbol = symbol
        self.fn = fn
        self.texts = texts
        self.latex = latex
        self.formula = formula
        self.domain = domain
        self.vectorized = vectorized
        self.builtin = builtin

    def __repr__(self) -> str:
        """Op('tanh', d/dx = 1 - tanh(x)^2)."""
        rules = ", ".join(f"d/d{n} = {t}" for n, t in zip(self.operands, self.texts))
        return f"Op({self.name!r}, {rules})"

    # ------------------------------------------------------------ evaluating on floats

    def display(self, const: float | None) -> str:
        """The name a node shows as `.op`: the name, with the constant for "**n" ("**2")."""
        if const is None:
            return self.name
        short = f"{const:g}"
        text = short if float(short) == const else repr(const)
        # x ** n keeps micrograd's "**2"; any other op with a constant shows it in brackets.
        return "**" + text if self.name == "**n" else f"{self.name}[{text}]"

    def check(self, operands: Sequence[Any], const: float | None = None) -> None:
        """Raise the row's domain error for float operands outside the domain (message names them)."""
        args = (*operands, const) if self.const is not None else tuple(operands)
        for ok, message, error in self.domain:
            if not ok(*args):
                raise error(message.format(**self.bindings(operands, const)))

    def bindings(self, operands: Sequence[Any], const: float | None = None) -> dict[str, Any]:
        """Operand names to values, for messages: {"a": 1.0, "b": 0.0} (and the constant)."""
        named: dict[str, Any] = dict(zip(self.operands, operands)) if self.arity else {"x": tuple(operands)}
        if self.const is not None:
            named[self.const] = const
        return named

    def evaluate(self, operands: Sequence[float], const: float | None = None) -> tuple[float, ...]:
        """(value, d/d operand_0, ...) on floats: domain checked, non-finite results a ValueError."""
        self.check(operands, const)
        args = (*operands, const) if self.const is not None else tuple(operands)
        try:
            result = self.shaped(self.fn(*args), len(operands))
        except OverflowError:  # math.exp and math.pow raise it where NumPy would give inf
            raise self.overflow(operands, const, [math.inf]) from None
        if not all(math.isfinite(r) for r in result):
            raise self.overflow(operands, const, result)
        return result

    def shaped(self, result: Any, n_operands: int) -> tuple[float, ...]:
        """The rule's result as (value, one derivative per input), else a TypeError naming the op."""
        if not isinstance(result, (tuple, list)) or len(result) != n_operands + 1:
            got = f"{len(result)} numbers" if isinstance(result, (tuple, list)) else type(result).__name__
            raise TypeError(
                f"op {self.name!r}: its rule must return the value and one derivative per input "
                f"({n_operands + 1} numbers), got {got}"
            )
        for r in result:
            if isinstance(r, bool) or not isinstance(r, numbers.Real):
                raise TypeError(f"op {self.name!r}: its rule returned {type(r).__name__}, not a real number")
        return tuple(float(r) for r in result)

    def overflow(self, operands: Sequence[float], const: float | None, result: Sequence[float]) -> ValueError:
        """The error for a non-finite value or derivative, naming the operation and its operands."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.bindings(operands, const).items())
        what = "value" if not math.isfinite(result[0]) else "local derivative"
        return ValueError(
            f"{self.name}: {self.formula} at {shown} overflows a float (its {what} is not finite)"
        )

    # ------------------------------------------------------------ copies and pickles

    def __copy__(self) -> Op:
        """A row is one of a kind: a copied graph shares the table's rows (`node.operation is ops.mul`)."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Op:
        """A row is one of a kind: a deep-copied graph shares the table's rows."""
        return self

    def __reduce__(self) -> tuple[Callable[[str], Op], tuple[str]]:
        """Pickled by name: loading looks the row up in the table of the process that loads it."""
        if TABLE.get(self.name) is not self:
            raise TypeError(f"cannot pickle the operation {self.name!r}: it is not a row of autograd's table")
        return row_named, (self.name,)

    # ------------------------------------------------------------ calling it

    def __call__(self, *args: Any) -> Any:
        """On Values: a recorded node (numbers become constants). On numbers: the value alone."""
        for a in args:
            apply = getattr(type(a), "_apply_op", None)
            if apply is not None:
                return apply(self, args)
        operands, const = self.split(args)
        return self.evaluate([_real(x, self, i) for i, x in enumerate(operands)], const)[0]

    def split(self, args: Sequence[Any]) -> tuple[Sequence[Any], float | None]:
        """(operands, constant) from call arguments, checking their number."""
        want = (self.arity or len(args)) + (self.const is not None)
        if len(args) != want or not args:
            raise TypeError(f"{self.name} takes {want} argument(s), got {len(args)}")
        if self.const is None:
            return args, None
        return args[:-1], _real(args[-1], self, len(args) - 1)


def row_named(name: str) -> Op:
    """The table's row called `name`: how a pickled Value finds its operation again."""
    row = TABLE.get(name)
    if row is None:
        raise ValueError(
            f"no operation {name!r} in autograd's table: register it (autograd.op) "
            "before loading Values made by it"
        )
    return row


def _real(x: Any, row: Op, index: int) -> float:
    """A number argument as a finite float, else TypeError/ValueError naming the op and position."""
    return real_number(x, f"{row.name}: argument {index}")


@overload
def op(
    fn: Callable[..., Any],
    *,
    rule: str | Sequence[str],
    symbol: str | None = ...,
    latex: str | Sequence[str] | None = ...,
    formula: str | None = ...,
    name: str | None = ...,
    domain: Sequence[Domain] = ...,
    const: str | None = ...,
    vectorized: Callable[..., Any] | None = ...,
    _builtin: bool = ...,
) -> Op: ...


@overload
def op(
    fn: None = ...,
    *,
    rule: str | Sequence[str],
    symbol: str | None = ...,
    latex: str | Sequence[str] | None = ...,
    formula: str | None = ...,
    name: str | None = ...,
    domain: Sequence[Domain] = ...,
    const: str | None = ...,
    vectorized: Callable[..., Any] | None = ...,
    _builtin: bool = ...,
) -> Callable[[Callable[..., Any]], Op]: ...


def op(
    fn: Callable[..., Any] | None = None,
    *,
    rule: str | Sequence[str],
    symbol: str | None = None,
    latex: str | Sequence[str] | None = None,
    formula: str | None = None,
    name: str | None = None,
    domain: Sequence[Domain] = (),
    const: str | None = None,
    vectorized: Callable[..., Any] | None = None,
    _builtin: bool = False,
) -> Op | Callable[[Callable[..., Any]], Op]:
    """Register `fn` (returning value and d/d each input) as an operation; returns the callable `Op`.

    `rule` is the derivative as plain text, one per input ("1 - tanh(x)^2"); `latex` the same in
    LaTeX; `symbol` what diagrams show (default: the name); `domain` a list of (ok, message,
    exception) checks run before `fn`; `const` names a last parameter that is a number fixed when
    the node is made (an exponent); `vectorized` an array form for the NumPy tape.
    """

    def register(f: Callable[..., Any]) -> Op:
        key = name or f.__name__
        texts = (rule,) if isinstance(rule, str) else tuple(rule)
        latexes = texts if latex is None else (latex,) if isinstance(latex, str) else tuple(latex)
        row = Op(
            f,
            name=key,
            symbol=symbol or key,
            texts=texts,
            latex=latexes,
            formula=formula or "",
            domain=tuple(domain),
            const=const,
            vectorized=vectorized,
            builtin=_builtin,
        )
        if not row.formula:
            row.formula = f"{key}({', '.join(row.operands)})"
        if row.arity and len(texts) != row.arity:
            raise ValueError(f"op {key!r}: give one rule text per input ({row.arity}), got {len(texts)}")
        old = TABLE.get(key)
        if old is not None and old.builtin:
            raise ValueError(f"op {key!r}: a built-in operation has that name; choose another")
        TABLE[key] = row  # a learner re-running a notebook cell redefines their own op
        return row

    return register if fn is None else register(fn)
