"""Central differences, and the checks against them: `gradcheck` (a function), `check_op` (an operation)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autograd.checks import is_real, needs, real_number
from autograd.context import no_grad
from autograd.display import markdown_text
from autograd.oprecord import Op
from autograd.tape_forms import form_disagreements
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
    """What `check_op` found: falsy when any derivative disagrees, or when nothing was checked."""

    name: str
    checked: int
    failures: list[str] = field(default_factory=list)
    skipped: int = 0
    tried: int = 0
    skip_reasons: list[str] = field(default_factory=list)  # the first few, for the report
    form_failures: list[str] = field(default_factory=list)  # where the array form differs from the rule

    def __bool__(self) -> bool:
        """True when every checked derivative agreed, at least one was checked, and the array form agreed."""
        return not self.failures and not self.form_failures and self.checked > 0

    def __str__(self) -> str:
        """One line when all agree; why, when nothing was checked; else one line per disagreement."""
        lines = [self._summary(), *(f"  {line}" for line in self.failures)]
        if self.form_failures:
            lines.append(f"{self.name}: its array form (used by the NumPy tape) disagrees with its rule")
            lines += [f"  {line}" for line in self.form_failures]
        return "\n".join(lines)

    def _summary(self) -> str:
        """The first line: how many derivatives agree, or why none was checked."""
        why = f"; the first: {self.skip_reasons[0]}" if self.skip_reasons else ""
        if self.failures:
            wrong = f"{len(self.failures)} of {self.checked}"
            return f"{self.name}: {wrong} derivatives disagree with central differences"
        if self.checked:
            outside = ""
            if self.skipped:
                outside = f" ({self.skipped} skipped: outside its domain or not finite{why})"
            return f"{self.name}: all {self.checked} derivatives agree with central differences{outside}"
        if not self.tried:
            return f"{self.name}: checked nothing: no points to try (points is empty)"
        return (
            f"{self.name}: checked nothing: all {self.tried} points were skipped (the rule raised or was "
            f"not finite there, or central differences could not be taken){why}"
        )

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
    "d/dx at x=0.5: yours 0.622, central differences 0.378"; the report is falsy when any point fails
    or when nothing could be checked (its text then says why). Without `points`, the row's own
    (`Op.points`) or a grid across the real line. Points where the rule raises (outside its domain)
    are skipped and counted. A row with an array form (`vectorized=`, or a rule taking `m` run on
    NumPy arrays) is also run in that form on all the points at once and compared with the rule.
    """
    if not isinstance(kind, Op):
        raise TypeError(f"check_op needs an operation made by @autograd.op, got {type(kind).__name__}")
    for name, tol in (("rtol", rtol), ("atol", atol)):  # a nan tolerance would pass every derivative
        real_number(tol, f"check_op({name})", at_least=0)
    arity = kind.arity or 2
    default = kind.points or (UNARY_POINTS if arity == 1 else BINARY_POINTS)
    grid = [_point(kind, raw, i) for i, raw in enumerate(points if points is not None else default)]
    constants: Sequence[float | None] = [None] if kind.const is None else [
        real_number(c, f"check_op(consts[{i}])") for i, c in enumerate(consts or CONSTANTS)
    ]
    report = OpCheck(kind.name, 0)
    for point in grid:
        for const in constants:
            report.tried += 1
            _check_point(kind, point, const, rtol, atol, report)
    report.form_failures = form_disagreements(kind, grid, constants)
    return report


def _point(kind: Op, raw: object, index: int) -> list[float]:
    """One check_op point (a number, or a sequence of one number per operand) as finite floats."""
    where = f"check_op(points[{index}])"
    if is_real(raw):
        point = [real_number(raw, where)]
    elif isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
        raise TypeError(needs(where, "a number or a sequence of numbers (one per operand)", raw))
    else:
        point = [real_number(x, f"check_op(points[{index}][{i}])") for i, x in enumerate(raw)]
    if kind.arity and len(point) != kind.arity:
        raise ValueError(needs(where, f"{kind.arity} number(s), one per operand of {kind.name!r}", raw))
    return point


def _check_point(kind: Op, point: list[float], const: float | None, rtol: float, atol: float,
                 report: OpCheck) -> None:
    """Check every input's derivative of `kind` at one point, adding any disagreement to `report`."""
    try:
        raw = kind.fn(*point) if const is None else kind.fn(*point, const)
    except (ValueError, ArithmeticError) as error:  # outside its domain
        _skip(report, kind, point, const, error)
        return
    except Exception as error:  # a TypeError or KeyError in the rule is a fault of the rule: report it
        report.checked += 1
        raised = f"the rule raised {type(error).__name__}: {error}"
        report.failures.append(f"at {kind.at(point, const)}: {raised}")
        return
    size = len(raw) if isinstance(raw, (tuple, list)) else 1
    if size != len(point) + 1:
        report.checked += 1
        report.failures.append(
            f"at {kind.at(point, const)}: the rule returned {size} number{'s' * (size != 1)}; it must "
            f"return the value and one derivative per input ({len(point) + 1})"
        )
        return
    try:
        result = kind.evaluate(point, const)
    except (ValueError, ArithmeticError) as error:
        _skip(report, kind, point, const, error)
        return
    except TypeError as error:  # a complex, bool or str in the result: a fault of the rule, not the point
        report.checked += 1
        report.failures.append(f"at {kind.at(point, const)}: {error}")
        return

    def value_at(shifted: list[float]) -> float:
        return kind.evaluate(shifted, const)[0]

    for i, (yours, name) in enumerate(zip(result[1:], kind.names(len(point)))):
        x0 = point[i]

        # Step relative to the input itself (x(1 ± h)), so tiny inputs such as log at 1e-5 or a
        # divisor of 1e-170 are not stepped across their own scale: d/dt f(x(1+t)) at 0 is x f'(x).
        def along(t: list[float], i: int = i, x0: float = x0) -> float:
            moved = list(point)
            moved[i] = x0 * (1.0 + t[0]) if x0 != 0.0 else t[0]
            return value_at(moved)

        try:
            numeric = numerical_grad(along, [0.0])[0] / (x0 if x0 != 0.0 else 1.0)
        except (ValueError, ArithmeticError) as error:
            _skip(report, kind, point, const, error)
            continue
        report.checked += 1
        if abs(yours - numeric) > atol + rtol * abs(numeric):
            report.failures.append(
                f"d/d{name} at {kind.at(point, const)}: "
                f"yours {yours:.6g}, central differences {numeric:.6g}"
            )


def _skip(report: OpCheck, kind: Op, point: list[float], const: float | None, error: BaseException) -> None:
    """Count a point (or one derivative at it) that could not be checked, keeping the first reasons."""
    report.skipped += 1
    if len(report.skip_reasons) < 3:
        report.skip_reasons.append(f"at {kind.at(point, const)}: {error}")
