"""A rule's array forms, as the NumPy tape calls them, checked against the rule on floats.

The NumPy tape runs a learner's row on whole (steps, B) arrays when it can: the `vectorized=`
form, or a rule taking `m` called with `m=numpy`. These are other code than the rule the scalar
engine and the pure-Python tape run, so they can give other numbers (`2*x` where the rule says
`3*x`) or fail only on arrays (an `if` on an array). `form_disagreements` runs each form on a
batch of points and compares it with the rule (registration and `check_op` call it);
`checked_arrays` is what the NumPy tape accepts from a form. numpy is imported inside functions
only: `autograd` itself imports nothing third-party.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd.oprecord import Op

Case = tuple[list[float], tuple[float, ...]]  # a point and the rule's (value, derivatives) there


def numpy_or_none() -> Any:
    """The numpy module when it is installed, else None."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def array_forms(row: Op) -> list[tuple[str, Callable[..., Any]]]:
    """The forms the NumPy tape calls on arrays in place of the rule per sample, with their names:
    ("vectorized form", f) when `vectorized=` was given, ("m= rule on NumPy arrays", f) for a
    learner's rule that takes `m`. Each f takes the operand arrays (and the constant)."""
    if row.vectorized is not None:
        return [("vectorized form", row.vectorized)]
    np = numpy_or_none()
    if row.takes_m and not row.builtin and np is not None:
        fn = row.fn
        return [("m= rule on NumPy arrays", lambda *args: fn(*args, m=np))]
    return []


def form_disagreements(
    row: Op, points: Sequence[Sequence[float]], consts: Sequence[float | None], rtol: float = 1e-9,
    atol: float = 1e-12,
) -> list[str]:
    """Where an array form gives other numbers than the rule on floats, one line per point
    ("vectorized form at x=0.5: value 1 (rule 1.5)"); [] without numpy. The points run as one
    batch, as the NumPy tape runs them; points where the rule itself raises are left out."""
    np = numpy_or_none()
    lines: list[str] = []
    if np is None:
        return lines
    for label, form in array_forms(row):
        for const in consts:
            by_width: dict[int, list[Case]] = {}
            for point in points:
                try:
                    want = row.evaluate(point, const)
                except (ValueError, ArithmeticError, TypeError):
                    continue
                by_width.setdefault(len(point), []).append((list(point), want))
            for width, cases in by_width.items():
                lines += _compare(np, row, label, form, width, cases, const, rtol, atol)
    return lines


def _compare(
    np: Any, row: Op, label: str, form: Callable[..., Any], width: int, cases: list[Case],
    const: float | None, rtol: float, atol: float,
) -> list[str]:
    """One batch call of `form` on these points, compared with the rule's results (`cases`)."""
    arrays = [np.asarray([[p[j] for p, _ in cases]], dtype=np.float64) for j in range(width)]
    shape = arrays[0].shape if arrays else (1, len(cases))
    where = row.at(cases[0][0], const) if len(cases) == 1 else f"{len(cases)} points"
    try:
        got = form(*arrays) if const is None else form(*arrays, const)
        columns = checked_arrays(np, row, got, width, shape, label)
    except Exception as error:  # a learner's form may raise anything: report it, naming the form
        return [f"{label} at {where} raised {type(error).__name__}: {explain_array_error(error)}"]
    names = ["value", *(f"d/d{n}" for n in row.names(width))]
    lines = []
    for k, (point, want) in enumerate(cases):
        wrong = [
            f"{name} {float(c[0, k]):.6g} (rule {w:.6g})"
            for name, c, w in zip(names, columns, want)
            if not abs(float(c[0, k]) - w) <= atol + rtol * abs(w)
        ]
        if wrong:
            lines.append(f"{label} at {row.at(point, const)}: {', '.join(wrong)}")
    return lines


def checked_arrays(
    np: Any, row: Op, result: Any, n_operands: int, shape: tuple[int, ...], label: str
) -> list[Any]:
    """An array form's result as (value, one derivative per input) float arrays of `shape`, else a
    TypeError naming the op and what came back (a tuple of the wrong length, complex, strings)."""
    want = f"the value and one derivative per input ({n_operands + 1} arrays or numbers)"
    if not isinstance(result, (tuple, list)) or len(result) != n_operands + 1:
        got = f"{len(result)} items" if isinstance(result, (tuple, list)) else type(result).__name__
        raise TypeError(f"op {row.name!r}: its {label} must return {want}, got {got}")
    columns = []
    for r in result:
        array = np.asarray(r)
        if array.dtype.kind not in "iuf":
            raise TypeError(f"op {row.name!r}: its {label} must return real numbers, got dtype {array.dtype}")
        try:
            columns.append(np.broadcast_to(array.astype(np.float64, copy=False), shape))
        except ValueError:
            raise TypeError(
                f"op {row.name!r}: its {label} must return arrays of the operands' shape {shape}, "
                f"got shape {array.shape}"
            ) from None
    return columns


def explain_array_error(error: BaseException) -> str:
    """An error raised by a rule on arrays, with the fix when it is an `if` on an array."""
    text = str(error)
    if "truth value of an array" in text:
        return (
            f"{text} (the rule branched with if/and/or on an array of samples: "
            "write the branch with m.where(condition, yes, no))"
        )
    return text
