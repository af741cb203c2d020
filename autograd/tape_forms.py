"""A rule's array forms, as the NumPy tape calls them, checked against the rule on floats.

The NumPy tape runs a learner's row on whole (steps, B) arrays when it can: the `vectorized=`
form, or a rule taking `m` called with `m=numpy`. These are other code than the rule the scalar
engine and the pure-Python tape run, so they can give other numbers (`2*x` where the rule says
`3*x`) or fail only on arrays (an `if` on an array). `form_disagreements` runs each form on a
batch of points and compares it with the rule (registration and `check_op` call it);
`checked_arrays` is what the NumPy tape accepts from a form (`checked_tensors` the PyTorch tape),
and `explain_array_error` the fix an error on arrays needs (`tape_steps.fail_on_arrays` raises it).
numpy is imported inside functions only: `autograd` itself imports nothing third-party.
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
    columns = []
    for r in _result_items(row, result, n_operands, label):
        array = np.asarray(r)
        if array.dtype.kind not in "iuf":
            raise _not_real(row, label, str(array.dtype))
        try:
            columns.append(np.broadcast_to(array.astype(np.float64, copy=False), shape))
        except ValueError:
            raise _wrong_shape(row, label, shape, array.shape) from None
    return columns


def checked_tensors(
    torch: Any, row: Op, result: Any, n_operands: int, shape: tuple[int, ...], label: str, device: Any
) -> list[Any]:
    """`checked_arrays` for the PyTorch tape: the result as float64 tensors of `shape` on `device`,
    else the same TypeError (dtypes named as NumPy names them: complex128, bool)."""
    columns = []
    for r in _result_items(row, result, n_operands, label):
        if isinstance(r, torch.Tensor):
            tensor = r
        else:
            try:  # the dtype the item has (a Python float is made float64 below, never float32)
                tensor = torch.as_tensor(r)
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(
                    f"op {row.name!r}: its {label} must return real numbers, got {type(r).__name__}"
                ) from None
        if tensor.dtype.is_complex or tensor.dtype == torch.bool:
            raise _not_real(row, label, str(tensor.dtype).removeprefix("torch."))
        if not isinstance(r, torch.Tensor):
            tensor = torch.as_tensor(r, dtype=torch.float64)
        try:
            columns.append(torch.broadcast_to(tensor.to(device=device, dtype=torch.float64), shape))
        except RuntimeError:
            raise _wrong_shape(row, label, shape, tuple(tensor.shape)) from None
    return columns


def _result_items(row: Op, result: Any, n_operands: int, label: str) -> Sequence[Any]:
    """`result` when it is a tuple or list of the value and one derivative per input, else a TypeError."""
    want = f"the value and one derivative per input ({n_operands + 1} arrays or numbers)"
    if not isinstance(result, (tuple, list)) or len(result) != n_operands + 1:
        got = f"{len(result)} items" if isinstance(result, (tuple, list)) else type(result).__name__
        raise TypeError(f"op {row.name!r}: its {label} must return {want}, got {got}")
    return result


def _not_real(row: Op, label: str, dtype: str) -> TypeError:
    """The error for an array form that returned complex, bool or other non-real numbers."""
    return TypeError(f"op {row.name!r}: its {label} must return real numbers, got dtype {dtype}")


def _wrong_shape(row: Op, label: str, shape: tuple[int, ...], got: tuple[int, ...]) -> TypeError:
    """The error for an array form whose result does not broadcast to the operands' shape."""
    return TypeError(
        f"op {row.name!r}: its {label} must return arrays of the operands' shape {shape}, got shape {got}"
    )


def explain_array_error(error: BaseException) -> str:
    """An error raised by a rule on arrays (or tensors), with the fix when it is an `if` on an array
    or a function of one number (math.exp) on a tensor."""
    text = str(error)
    # NumPy's words, then torch's (`if tensor`, `and`/`or` on tensors)
    if "truth value of an array" in text or "Boolean value of Tensor with more than one" in text:
        return (
            f"{text} (the rule branched with if/and/or on an array of samples: "
            "write the branch with m.where(condition, yes, no))"
        )
    if "only one element tensors can be converted to Python scalars" in text:  # math.exp(tensor)
        return (
            f"{text} (the rule called a function of one number, such as math.exp or float, on a tensor of "
            "samples: compute through the namespace m: m.exp, m.where, ...: autograd.mathspace's names)"
        )
    return text
