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

What makes an operation special is said by its row, never by who it is: `arity` 0 takes any
number of operands; `weighted_sum` marks a sum of products over (w0, x0, w1, x1, ..., [b]) whose
derivatives are its own operands, which the tapes replay as sums of products (the NumPy tape as
one matrix product per layer) and diagrams draw term by term; `points` are where tests and
`check_op` try it; `into` (built-in rows) is the rule written into given arrays, which the NumPy
tape calls in its place. The tapes and viz read these attributes, so a new row needs no edit
elsewhere.

Names: `TABLE` holds the built-in rows. A learner's op is not entered there: it may take any name,
a built-in's too ("tanh", or a "softplus" a later release adds), and stays the learner's own row
(its nodes, symbol, rule and tape function are theirs) while built-in uses stay built-in. A
built-in row pickles by name; a learner's row by where it is defined (module and qualified name),
as Python pickles functions.
"""

from __future__ import annotations

import importlib
import inspect
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, overload

from autograd.checks import is_real, needs, real_number
from autograd.tape_forms import form_disagreements

# A domain check: (ok(*operands) -> bool or bool array, message template, exception type).
Domain = tuple[Callable[..., Any], str, type[Exception]]

TABLE: dict[str, Op] = {}
"""The built-in operations (autograd/ops.py) by name; a learner's own ops are theirs, not entered here."""

Point = tuple[float, ...]  # one operand tuple where a rule is tried


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
        "weighted_sum",
        "points",
        "into",
        "keeps_finite",
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
        weighted_sum: bool = False,
        points: Sequence[Point] = (),
        into: Callable[..., None] | None = None,
        keeps_finite: bool = False,
    ) -> None:
        """Describe `fn` (see `op` for the arguments); reads the operand names from its signature."""
        names, nary, self.takes_m = _signature(fn, name, const)
        if weighted_sum and not nary:
            raise ValueError(f"op {name!r}: a weighted sum takes *operands (w0, x0, w1, x1, ..., [b])")
        for point in points:
            if not nary and len(point) != len(names):
                raise ValueError(f"op {name!r}: test point {point!r} needs {len(names)} operand(s)")
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
        # A sum of products over (w0, x0, w1, x1, ..., [b]): d/dw_i = x_i, d/dx_i = w_i, d/db = 1.
        self.weighted_sum = weighted_sum
        # Where check_op tries the rule (empty: its grids across the real line).
        where = f"op {name!r}: test point"
        self.points = tuple(tuple(real_number(x, f"{where} {p!r}") for x in p) for p in points)
        # A built-in row's rule written into the NumPy tape's arrays, `into(*operands, value, *slopes,
        # m=numpy)`: no temporaries (tests/test_autograd_tape_numpy_forms.py checks it bit for bit).
        self.into = into
        # A built-in row that gives a finite value and finite derivatives whenever its operands are
        # finite (relu, tanh, ...; tested on every such row): the NumPy tape's check after the
        # forward pass skips its slopes, which can only be bad where its value is too. A learner's
        # row is always checked whole.
        self.keeps_finite = keeps_finite and builtin

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
            if not is_real(r):
                raise TypeError(needs(f"op {self.name!r} (its rule's result)", "real numbers", r))
        return tuple(map(_as_float, result))

    def overflow(self, operands: Sequence[float], const: float | None, result: Sequence[float]) -> ValueError:
        """The error for a non-finite value or derivative, naming the operation, its operands and
        which number it was: NaN (not a number) is said as NaN, inf as an overflow."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.bindings(operands, const).items())
        bad = next((i for i, r in enumerate(result) if not math.isfinite(r)), 0)
        names = self.names(len(result) - 1)
        what = "value" if bad == 0 else f"local derivative d/d{names[bad - 1]}"
        if math.isnan(result[bad]):
            return ValueError(
                f"{self.name}: {self.formula} at {shown} gives NaN (its {what} is not a number)"
            )
        return ValueError(
            f"{self.name}: {self.formula} at {shown} overflows a float (its {what} is not finite)"
        )

    def names(self, n: int) -> list[str]:
        """The operand names for n operands: the rule's own, or x0, x1, ... for a rule over *operands."""
        return list(self.operands) if self.arity else [f"x{i}" for i in range(n)]

    def at(self, point: Sequence[float], const: float | None = None) -> str:
        """Where, for messages: "x=0.5" or "a=1, b=2" (and the constant, "n=3")."""
        parts = [f"{n}={x:g}" for n, x in zip(self.names(len(point)), point)]
        if self.const is not None and const is not None:
            parts.append(f"{self.const}={const:g}")
        return ", ".join(parts)

    # ------------------------------------------------------------ copies and pickles

    def __copy__(self) -> Op:
        """A row is one of a kind: a copied graph shares the table's rows (`node.operation is ops.mul`)."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Op:
        """A row is one of a kind: a deep-copied graph shares the table's rows."""
        return self

    def __reduce__(self) -> tuple[Callable[..., Op], tuple[str, ...]]:
        """A built-in by name; a learner's op by module and qualified name (as pickle does functions)."""
        if self.builtin and TABLE.get(self.name) is self:
            return row_named, (self.name,)
        module, qualname = self.fn.__module__, self.fn.__qualname__
        if "<" in qualname or _defined_at(module, qualname) is not self:
            raise TypeError(
                f"cannot pickle the operation {self.name!r}: {module}.{qualname} is not this operation; "
                "define it with @autograd.op at the top level of a module (or notebook) under its "
                "function's name, so loading can find it there"
            )
        return learner_row, (module, qualname)

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


def _signature(fn: Callable[..., Any], name: str, const: str | None) -> tuple[list[str], bool, bool]:
    """A rule's operand names, whether it takes *operands, and whether it takes the namespace `m`."""
    params = inspect.signature(fn).parameters.values()
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_m = any(p.name == "m" and p.default is not p.empty for p in params)
    if takes_m and "m" in names:
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
    return names, nary, takes_m


def row_named(name: str) -> Op:
    """The built-in row called `name`: how a pickled Value finds a built-in operation again."""
    row = TABLE.get(name)
    if row is None:
        raise ValueError(
            f"no built-in operation {name!r} in this version of autograd "
            "(the Values were pickled by a version that had it)"
        )
    return row


def learner_row(module: str, qualname: str) -> Op:
    """A learner's row where it is defined: how a pickled Value finds a learner's operation again."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise ValueError(
            f"cannot load the operation {module}.{qualname}: its module does not import ({error}); "
            "define the operation before loading Values made by it"
        ) from None
    row = _defined_at(module, qualname)
    if row is None:
        raise ValueError(
            f"cannot load the operation {module}.{qualname}: no @autograd.op of that name there; "
            "define it before loading Values made by it"
        )
    return row


def _check_weighted_sum(row: Op) -> None:
    """A ValueError unless `row`'s rule is the weighted sum the tapes replay in its place.

    The tapes compute a `weighted_sum` row as sums of products without calling its rule, so the
    rule must be exactly that: checked on operands whose products and sums are exact in binary.
    """
    for operands in ((0.5, -1.25, 2.0, 0.75), (0.5, -1.25, 2.0, 0.75, -3.0)):
        n = len(operands) - len(operands) % 2
        ws, xs = operands[0:n:2], operands[1:n:2]
        slopes = [s for w, x in zip(ws, xs) for s in (x, w)] + [1.0] * (len(operands) % 2)
        want = (sum(w * x for w, x in zip(ws, xs)) + sum(operands[n:]), *slopes)
        try:
            got = row.shaped(row.fn(*operands), len(operands))
        except (TypeError, ValueError, ArithmeticError) as error:
            got = (type(error).__name__,)  # type: ignore[assignment]
        if got != want:
            raise ValueError(
                f"op {row.name!r}: weighted_sum=True needs the rule to return w0*x0 + w1*x1 + ... (+ b) "
                f"and the derivatives (x0, w0, x1, w1, ..., [1]); at {operands} it returned {got}, not {want}"
            )


def _check_array_forms(row: Op) -> None:
    """A ValueError when the row's `vectorized=` form disagrees with its rule at a few points."""
    if row.vectorized is None:
        return
    if row.points:
        points: Sequence[Sequence[float]] = row.points
    elif row.arity == 1:
        points = [(x,) for x in (-2.5, -1.0, -0.25, 0.25, 1.0, 2.5)]
    elif row.arity == 2:
        points = [(a, b) for a in (-1.5, -0.5, 0.5, 1.5) for b in (-1.25, 0.75, 2.0)]
    else:
        points = [(0.5, -1.25, 2.0, 0.75), (0.5, -1.25, 2.0, 0.75, -3.0)]
    consts = [None] if row.const is None else [2.0, 3.0, 0.5]
    lines = form_disagreements(row, points, consts)
    if lines:
        shown = "; ".join(lines[:3]) + ("; ..." if len(lines) > 3 else "")
        raise ValueError(
            f"op {row.name!r}: its vectorized form (used by the NumPy tape) must give the rule's "
            f"numbers: {shown}"
        )


def _as_float(r: Any) -> float:
    """A real number as a float; an int or Fraction beyond float range as +-inf (then named as overflow)."""
    try:
        return float(r)
    except OverflowError:
        return math.inf if r > 0 else -math.inf


def _domains(domain: object, where: str) -> tuple[Domain, ...]:
    """The domain checks as a tuple of (ok, message, exception type), else a TypeError naming the entry."""
    what = "a list of (ok function, message, exception type) checks"
    if isinstance(domain, (str, bytes)) or not isinstance(domain, Sequence):
        raise TypeError(needs(where, what, domain))
    for i, entry in enumerate(domain):
        if not (
            isinstance(entry, (tuple, list)) and len(entry) == 3 and callable(entry[0])
            and isinstance(entry[1], str)
            and isinstance(entry[2], type) and issubclass(entry[2], Exception)
        ):
            raise TypeError(needs(f"{where}[{i}]", "an (ok function, message, exception type) tuple", entry))
    return tuple((ok, message, error) for ok, message, error in domain)


def _label(text: object, where: str) -> str:
    """A name or symbol: a non-empty str of printable characters (it shows in messages and diagrams)."""
    what = "a non-empty str of printable characters"
    if not isinstance(text, str):
        raise TypeError(needs(where, what, text))
    if not text.strip() or not text.isprintable():
        raise ValueError(needs(where, what, text))
    return text


def _text(text: object, where: str) -> str:
    """A text argument as it is when it is a str, else a TypeError naming it."""
    if not isinstance(text, str):
        raise TypeError(needs(where, "a str", text))
    return text


def _texts(texts: object, where: str) -> tuple[str, ...]:
    """A rule text (str) or a list of them, one per input, as a tuple; else a TypeError naming it."""
    items = (texts,) if isinstance(texts, str) else texts
    if not isinstance(items, (list, tuple)) or not all(isinstance(t, str) for t in items):
        raise TypeError(needs(where, "a str or a list of str (one per input)", texts))
    return tuple(items)


def _defined_at(module: str, qualname: str) -> Op | None:
    """The Op at `module.qualname` if the module is loaded and holds one there, else None."""
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, Op) else None


def _real(x: Any, row: Op, index: int) -> float:
    """A number argument as a finite float, else TypeError/ValueError naming the op and position."""
    return real_number(x, f"{row.name}(argument {index})")


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
    weighted_sum: bool = ...,
    points: Sequence[Sequence[float]] = ...,
    _builtin: bool = ...,
    _into: Callable[..., None] | None = ...,
    _keeps_finite: bool = ...,
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
    weighted_sum: bool = ...,
    points: Sequence[Sequence[float]] = ...,
    _builtin: bool = ...,
    _into: Callable[..., None] | None = ...,
    _keeps_finite: bool = ...,
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
    weighted_sum: bool = False,
    points: Sequence[Sequence[float]] = (),
    _builtin: bool = False,
    _into: Callable[..., None] | None = None,
    _keeps_finite: bool = False,
) -> Op | Callable[[Callable[..., Any]], Op]:
    """Register `fn` (returning value and d/d each input) as an operation; returns the callable `Op`.

    `rule` is the derivative as plain text, one per input ("1 - tanh(x)^2"); `latex` the same in
    LaTeX; `symbol` what diagrams show (default: the name); `domain` a list of (ok, message,
    exception) checks run before `fn`; `const` names a last parameter that is a number fixed when
    the node is made (an exponent); `vectorized` an array form for the NumPy tape;
    `weighted_sum=True` marks a rule over (w0, x0, w1, x1, ..., [b]) returning the sum of products
    and the operands swapped pairwise as derivatives (see the module docstring); `points` are
    operand tuples where `check_op` tries the rule. Any name is yours, a built-in's included: your
    op is a new row, and the built-in keeps its own.
    """

    def register(f: Callable[..., Any]) -> Op:
        if not callable(f):
            raise TypeError(needs("op(fn)", "a function returning the value and derivatives", f))
        key = _label(getattr(f, "__name__", "op") if name is None else name, "op(name)")
        if vectorized is not None and not callable(vectorized):
            raise TypeError(needs(f"op {key!r}: op(vectorized)", "a function of arrays, or None", vectorized))
        texts = _texts(rule, f"op {key!r}: op(rule)")
        latexes = texts if latex is None else _texts(latex, f"op {key!r}: op(latex)")
        row = Op(
            f,
            name=key,
            symbol=key if symbol is None else _label(symbol, f"op {key!r}: op(symbol)"),
            texts=texts,
            latex=latexes,
            formula="" if formula is None else _text(formula, f"op {key!r}: op(formula)"),
            domain=_domains(domain, f"op {key!r}: op(domain)"),
            const=const,
            vectorized=vectorized,
            builtin=_builtin,
            weighted_sum=weighted_sum,
            points=tuple(tuple(p) for p in points),
            into=_into,
            keeps_finite=_keeps_finite,
        )
        if not row.formula:
            row.formula = f"{key}({', '.join(row.operands)})"
        if row.arity and len(texts) != row.arity:
            raise ValueError(f"op {key!r}: give one rule text per input ({row.arity}), got {len(texts)}")
        if row.weighted_sum:
            _check_weighted_sum(row)
        _check_array_forms(row)
        if _builtin:
            if key in TABLE:
                raise ValueError(f"built-in op {key!r} is defined twice")
            TABLE[key] = row
        return row

    return register if fn is None else register(fn)
