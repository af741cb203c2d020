"""Central differences, and the checks against them: `gradcheck` (a function), `check_op` (an operation)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd.checks import real_number
from autograd.context import no_grad
from autograd.display import markdown_text
from autograd.oprecord import Op
from autograd.value import Value


def _as_float(result: object, where: str) -> float:
    """A function's result as a finite float (a Value gives its .data)."""
    return real_number(result.data if isinstance(result, Value) else result, f"{where}: f's result")


def numerical_grad(
    f: Callable[[list[float]], float | Value], xs: Sequence[float], eps: float = 1e-6
) -> list[float]:
    """Central differences (f(x+h) - f(x-h)) / 2h for each input, with h = eps * max(1, |x|)."""
    eps = real_number(eps, "numerical_grad(eps)", above=0)
    point = [real_number(x, f"numerical_grad(xs[{i}])") for i, x in enumerate(xs)]
    grads = []
    for i, x in enumerate(point):
        h = eps * max(1.0, abs(x))
        if x + h == x or x - h == x or not math.isfinite(2.0 * h):  # the difference would read 0 or inf
            raise ValueError(
                f"numerical_grad: the step h={h!r} (eps={eps!r}) cannot move xs[{i}]={x!r} within float "
                "range: use an eps near 1e-6"
            )
        point[i] = x + h
        up = _as_float(f(list(point)), "numerical_grad")
        point[i] = x - h
        down = _as_float(f(list(point)), "numerical_grad")
        point[i] = x
        grads.append((up - down) / (2.0 * h))
    return grads


def backprop_grad(f: Callable[[list[Value]], Value], xs: Sequence[float]) -> list[float]:
    """d f / d x_i for each input by one backward pass through fresh leaf Values."""
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = f(leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    return [leaf.grad for leaf in leaves]


def gradcheck(
    f: Callable[[list[Value]], Value],
    xs: Sequence[float],
    atol: float = 1e-6,
    rtol: float = 1e-4,
    eps: float = 1e-6,
) -> bool:
    """True when backprop through `f` matches central differences at `xs` for every input.

    Raises AssertionError with a per-input table otherwise (|backprop - numeric| > atol + rtol*|numeric|).
    """
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if real_number(tol, f"gradcheck({name})") < 0:  # a nan tolerance would pass every gradient
            raise ValueError(f"gradcheck needs {name} >= 0, got {name}={tol!r}")
    analytic = backprop_grad(f, xs)

    def on_floats(point: list[float]) -> Value:
        with no_grad():
            return f([Value(x) for x in point])

    numeric = numerical_grad(on_floats, xs, eps=eps)
    rows = [
        (i, float(x), a, n)
        for i, (x, a, n) in enumerate(zip(xs, analytic, numeric))
        if abs(a - n) > atol + rtol * abs(n)
    ]
    if rows:
        table = "\n".join(
            f"  x{i:<4} {x:>14.6g} {a:>16.9g} {n:>16.9g} {abs(a - n):>12.3g}" for i, x, a, n in rows
        )
        header = f"  {'input':<5} {'value':>14} {'backprop':>16} {'numerical':>16} {'|diff|':>12}"
        raise AssertionError(
            f"gradcheck: {len(rows)} of {len(analytic)} gradients disagree "
            f"(atol={atol}, rtol={rtol}):\n{header}\n{table}"
        )
    return True


# ---------------------------------------------------------------- checking an operation's rule

UNARY_POINTS = (-3.0, -1.5, -0.5, -0.1, 0.1, 0.5, 1.5, 3.0)
BINARY_POINTS = tuple((a, b) for a in (-2.0, -0.5, 0.5, 2.0) for b in (-1.5, -0.3, 0.3, 1.5))
CONSTANTS = (2.0, 3.0, 0.5, -1.0)


@dataclass
class OpCheck:
    """What `check_op` found: falsy when any derivative disagrees with central differences."""

    name: str
    checked: int
    failures: list[str] = field(default_factory=list)
    skipped: int = 0

    def __bool__(self) -> bool:
        """True when every checked derivative agreed."""
        return not self.failures and self.checked > 0

    def __str__(self) -> str:
        """One line when all agree, else one line per disagreement."""
        if not self.failures:
            outside = f" ({self.skipped} outside its domain skipped)" if self.skipped else ""
            return f"{self.name}: all {self.checked} derivatives agree with central differences{outside}"
        head = (
            f"{self.name}: {len(self.failures)} of {self.checked} derivatives "
            "disagree with central differences"
        )
        return "\n".join([head, *(f"  {line}" for line in self.failures)])

    def _repr_markdown_(self) -> str:
        """Jupyter shows the same text, verbatim (no HTML markup can come from a name in it)."""
        return markdown_text(str(self))


def check_op(
    kind: Op,
    points: Sequence[float | Sequence[float]] | None = None,
    consts: Sequence[float] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> OpCheck:
    """Compare an operation's derivatives with central differences at points across its domain.

    `kind` is what `autograd.op` returned (or a row of `autograd.ops`). Each disagreement reads
    "d/dx at x=0.5: yours 0.622, central differences 0.378"; the report is falsy when any point fails.
    Without `points`, the row's own (`Op.points`) or a grid across the real line.
    Points where the rule raises (outside its domain) are skipped and counted.
    """
    if not isinstance(kind, Op):
        raise TypeError(f"check_op needs an operation made by @autograd.op, got {type(kind).__name__}")
    arity = kind.arity or 2
    default = kind.points or (UNARY_POINTS if arity == 1 else BINARY_POINTS)
    grid: Sequence[Any] = points if points is not None else default
    constants: Sequence[float | None] = [None] if kind.const is None else list(consts or CONSTANTS)
    report = OpCheck(kind.name, 0)
    for raw in grid:
        point = [float(raw)] if isinstance(raw, (int, float)) else [float(x) for x in raw]
        for const in constants:
            _check_point(kind, point, const, rtol, atol, report)
    return report


def _check_point(kind: Op, point: list[float], const: float | None, rtol: float, atol: float,
                 report: OpCheck) -> None:
    """Check every input's derivative of `kind` at one point, adding any disagreement to `report`."""
    try:
        raw = kind.fn(*point) if const is None else kind.fn(*point, const)
    except (ValueError, ArithmeticError):
        report.skipped += 1
        return
    size = len(raw) if isinstance(raw, (tuple, list)) else 1
    if size != len(point) + 1:
        report.checked += 1
        report.failures.append(
            f"at {_where(kind, point, const)}: the rule returned {size} number{'s' * (size != 1)}; it must "
            f"return the value and one derivative per input ({len(point) + 1})"
        )
        return
    try:
        result = kind.evaluate(point, const)
    except (ValueError, ArithmeticError):
        report.skipped += 1
        return

    def value_at(shifted: list[float]) -> float:
        return kind.evaluate(shifted, const)[0]

    for i, (yours, name) in enumerate(zip(result[1:], _names(kind, len(point)))):
        x0 = point[i]

        # Step relative to the input itself (x(1 ± h)), so tiny inputs such as log at 1e-5 or a
        # divisor of 1e-170 are not stepped across their own scale: d/dt f(x(1+t)) at 0 is x f'(x).
        def along(t: list[float], i: int = i, x0: float = x0) -> float:
            moved = list(point)
            moved[i] = x0 * (1.0 + t[0]) if x0 != 0.0 else t[0]
            return value_at(moved)

        try:
            numeric = numerical_grad(along, [0.0])[0] / (x0 if x0 != 0.0 else 1.0)
        except (ValueError, ArithmeticError):
            report.skipped += 1
            continue
        report.checked += 1
        if abs(yours - numeric) > atol + rtol * abs(numeric):
            report.failures.append(
                f"d/d{name} at {_where(kind, point, const)}: "
                f"yours {yours:.6g}, central differences {numeric:.6g}"
            )


def _names(kind: Op, n: int) -> list[str]:
    """The operand names of `kind` (x0, x1, ... for n-ary rules)."""
    return list(kind.operands) if kind.arity else [f"x{i}" for i in range(n)]


def _where(kind: Op, point: list[float], const: float | None) -> str:
    """"x=0.5" or "a=1, b=2" (with the constant)."""
    names = _names(kind, len(point))
    parts = [f"{n}={x:g}" for n, x in zip(names, point)]
    if kind.const is not None:
        parts.append(f"{kind.const}={const:g}")
    return ", ".join(parts)
