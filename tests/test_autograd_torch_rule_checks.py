"""The PyTorch tape checks a learner's rule as the NumPy tape does (issue 21): per sample, on tensors,
naming the op and the sample; and it keeps float64 digits without touching torch's default dtype."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from test_autograd_rule_checks import (
    BAD_RESULTS,
    GOOD_TYPES,
    NON_FINITE,
    dropper,
    scalar_error,
    tape_error,
    tape_for,
    unary,
)

import autograd
from autograd import FLOATS, TABLE, Op, Value, compile
from autograd.tape_torch import TorchMath, _float64_numbers, builtin_float64

torch = pytest.importorskip("torch", reason="needs torch: pip install 'axongrad[torch]'")
pytest.importorskip("numpy")

ARRAY_TAPES = ("numpy", "torch")


def on_torch(message: str) -> str:
    """The NumPy tape's message as the PyTorch tape words it (its m= rule runs on tensors)."""
    return message.replace("m= rule on NumPy arrays", "m= rule on PyTorch tensors")


def same_error(kind: Op, column: list[float], n_operands: int = 1) -> tuple[type[BaseException], str]:
    """What the torch tape raises on this column, asserted equal (type and words) to the NumPy tape's."""
    want = tape_error(kind, "numpy", column, n_operands)
    got = tape_error(kind, "torch", column, n_operands)
    assert got.type is want.type
    assert str(got.value) == on_torch(str(want.value))
    return got.type, str(got.value)


# ---------------------------------------------------------------- rules run per sample on floats


def test_the_issues_dropper_is_the_scalar_error_naming_op_and_sample() -> None:
    """Was torch's raw "expected sequence of length 3 at dim 1 (got 2)"; now the scalar engine's words."""
    _, message = scalar_error(dropper, [1.5, 0.5])
    assert same_error(dropper, [0.1, 1.5], n_operands=2) == (
        TypeError, f"tape step 'dropper' (slot 2) on sample 1: {message}"
    )


def test_good_samples_still_give_the_scalar_engines_gradient() -> None:
    """Where the rule is right for every sample, w.grad is 2.0 (d/db = 1 for two samples)."""
    tape, w = tape_for(dropper, "torch", n_operands=2)
    assert tape.run([[0.1, 0.2]]).tolist() == [0.1 + 0.5, 0.2 + 0.5]
    tape.backward()
    assert w.grad == 2.0


@pytest.mark.parametrize(("name", "result", "words"), BAD_RESULTS, ids=[b[0] for b in BAD_RESULTS])
def test_bad_result_for_one_sample_is_the_scalar_error(
    name: str, result: Callable[[float], Any], words: str
) -> None:
    """Short or long tuples, bare numbers, complex, bool, str, Decimal, arrays: as on the NumPy tape."""
    kind = unary(f"torch_{name}", result)
    error, message = scalar_error(kind, [1.5])
    assert error is TypeError and words in message
    assert same_error(kind, [0.5, 0.25, 1.5]) == (
        TypeError, f"tape step 'torch_{name}' (slot 2) on sample 2: {message}"
    )


@pytest.mark.parametrize(("name", "result"), GOOD_TYPES, ids=[g[0] for g in GOOD_TYPES])
def test_real_numbers_the_scalar_engine_accepts_give_its_numbers(
    name: str, result: Callable[[float], Any]
) -> None:
    """Fractions, NumPy scalars, ints, a list: the scalar engine's values and gradient, in float64."""
    kind = autograd.op(result, rule="1", name=f"torch_{name}")
    samples = [0.5, 1.5, -2.0]
    tape, w = tape_for(kind, "torch")
    values = tape.run([samples])
    tape.backward()
    assert values.dtype == torch.float64
    expected_grad = 0.0
    for i, s in enumerate(samples):
        wv = Value(0.5)
        out = kind(Value(s)) * wv
        out.backward()
        assert values[i].item() == out.data
        expected_grad += wv.grad
    assert w.grad == expected_grad


@pytest.mark.parametrize(("name", "result", "words"), NON_FINITE, ids=[n[0] for n in NON_FINITE])
def test_nan_is_said_as_nan_and_inf_as_overflow(
    name: str, result: Callable[[float], Any], words: str
) -> None:
    """The same ValueError as the scalar engine, prefixed with step and sample."""
    kind = unary(name, result)
    _, message = scalar_error(kind, [1.5])
    assert same_error(kind, [0.5, 1.5]) == (ValueError, f"tape step {name!r} (slot 2) on sample 1: {message}")


def test_learners_own_errors_name_op_and_sample() -> None:
    """A ValueError of the rule reads as the scalar engine's; a KeyError keeps its type, with a note."""

    @autograd.op(rule="1")
    def torch_picky(x: float) -> tuple[float, float]:
        if x > 1:
            raise ValueError(f"picky: x must be <= 1, got {x}")
        return x, 1.0

    assert same_error(torch_picky, [0.5, 0.75, 1.5]) == (
        ValueError, "tape step 'torch_picky' (slot 2) on sample 2: picky: x must be <= 1, got 1.5"
    )
    info = tape_error(unary("torch_keyed", lambda x: {}["missing"]), "torch", [0.5, 1.5])
    assert info.type is KeyError
    if hasattr(info.value, "add_note"):
        assert info.value.__notes__ == ["(raised in tape step 'torch_keyed' (slot 2) on sample 1)"]
    huge = unary("torch_huge_slope", lambda x: (x, 10**400))
    _, message = scalar_error(huge, [1.5])
    prefix = "tape step 'torch_huge_slope' (slot 2) on sample 1"
    assert same_error(huge, [0.5, 1.5]) == (ValueError, f"{prefix}: {message}")


# ---------------------------------------------------------------- rules taking m, run on tensors


@autograd.op(rule=("1", "1"))
def short_m(a: Any, b: Any, m: Any = FLOATS) -> tuple[Any, ...]:
    """The reviewer's case: right on floats, one derivative short on arrays (a silent grad 0 on torch)."""
    return (a + b, 1.0, 1.0) if isinstance(a, float) else (a + b, m.zeros_like(a) + 1.0)


def test_a_short_tuple_from_an_m_rule_on_tensors_is_named_not_a_zero_grad() -> None:
    """The Python tape gives w.grad 2.0 (it runs the rule per sample); torch gave 0, now names op and form."""
    tape, w = tape_for(short_m, "python", n_operands=2)
    tape.run([[0.1, 1.5]])
    tape.backward()
    assert w.grad == 2.0
    assert same_error(short_m, [0.1, 1.5], n_operands=2) == (
        TypeError,
        "tape step 'short_m' (slot 2): op 'short_m': its m= rule on PyTorch tensors failed on arrays of "
        "2 samples (each sample alone works on floats): TypeError: op 'short_m': its m= rule on PyTorch "
        "tensors must return the value and one derivative per input (3 arrays or numbers), got 2 items",
    )


@autograd.op(rule="1")
def complex_on_arrays(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """Real on floats, complex on arrays: only the array form is wrong."""
    return (x if isinstance(x, float) else x * (1 + 0j)), m.zeros_like(x) + 1.0


@autograd.op(rule="1")
def short_on_arrays(x: Any, m: Any = FLOATS) -> tuple[Any, ...]:
    """Right on floats, one derivative short on arrays."""
    return (x, 1.0) if isinstance(x, float) else (x,)


@autograd.op(rule="1")
def strict_on_arrays(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """A learner's ValueError raised only on arrays."""
    if not isinstance(x, float):
        raise ValueError("only one sample at a time")
    return x, 1.0


@pytest.mark.parametrize(
    ("kind", "error", "words"),
    [
        (complex_on_arrays, TypeError, "TypeError: op 'complex_on_arrays': its m= rule on PyTorch "
                                       "tensors must return real numbers, got dtype complex128"),
        (short_on_arrays, TypeError, "TypeError: op 'short_on_arrays': its m= rule on PyTorch tensors "
                                     "must return the value and one derivative per input "
                                     "(2 arrays or numbers), got 1 items"),
        (strict_on_arrays, ValueError, "ValueError: only one sample at a time"),
    ],
    ids=["complex", "short", "learners-valueerror"],
)
def test_an_m_rule_failing_only_on_tensors_names_op_and_form(kind: Op, error: type, words: str) -> None:
    """Was torch's "must be real number, not complex" or the learner's bare error: now the op, the form."""
    got = same_error(kind, [1.0, 2.0])
    assert got == (
        error,
        f"tape step {kind.name!r} (slot 2): op {kind.name!r}: its m= rule on PyTorch tensors failed on "
        f"arrays of 2 samples (each sample alone works on floats): {words}",
    )


def test_an_m_rule_failing_on_tensors_for_one_bad_sample_is_that_samples_error() -> None:
    """The array call fails because one sample is bad: the scalar engine's error for that sample."""

    @autograd.op(rule="1")
    def torch_choosy(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        if isinstance(x, float) and x > 1:
            raise ValueError(f"choosy: x must be <= 1, got {x}")
        if not isinstance(x, float) and bool((x > 1).any()):
            raise ValueError("choosy: some x > 1")
        return x, m.zeros_like(x) + 1.0

    assert same_error(torch_choosy, [0.5, 0.25, 1.5]) == (
        ValueError, "tape step 'torch_choosy' (slot 2) on sample 2: choosy: x must be <= 1, got 1.5"
    )


@pytest.mark.parametrize("backend", ARRAY_TAPES)
def test_an_if_on_tensors_says_to_write_the_branch_with_m_where(backend: str) -> None:
    """An `if` in an m= rule: a TypeError naming op and form, advising m.where (not another back end)."""

    @autograd.op(rule="step")
    def torch_branchy(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        return (x, 1.0) if x > 0 else (0.0, 0.0)

    info = tape_error(torch_branchy, backend, [1.0, -1.0])
    form = "m= rule on NumPy arrays" if backend == "numpy" else "m= rule on PyTorch tensors"
    assert info.type is TypeError
    assert str(info.value).startswith(
        f"tape step 'torch_branchy' (slot 2): op 'torch_branchy': its {form} failed on arrays of 2 samples "
        "(each sample alone works on floats): "
    )
    assert str(info.value).endswith("(the rule branched with if/and/or on an array of samples: "
                                    "write the branch with m.where(condition, yes, no))")
    assert "backend=" not in str(info.value)


@pytest.mark.parametrize("backend", ARRAY_TAPES)
def test_an_and_in_a_domain_check_names_op_and_says_use_m_where(backend: str) -> None:
    """A domain check with `and` on tensors was torch's bare error: now the op, "domain check", m.where."""

    @autograd.op(rule="1", domain=[(lambda x: x > -5 and x < 5, "x must be in (-5, 5), got {x}", ValueError)])
    def torch_boxed(x: float) -> tuple[float, float]:
        return x, 1.0

    info = tape_error(torch_boxed, backend, [1.0, 2.0])
    assert info.type is TypeError
    assert str(info.value).startswith(
        "tape step 'torch_boxed' (slot 2): op 'torch_boxed': its domain check failed on arrays of 2 samples"
    )
    assert str(info.value).endswith("write the branch with m.where(condition, yes, no))")


def test_a_domain_check_that_raises_for_one_sample_is_that_samples_error() -> None:
    """A check that raises on arrays because one sample is bad: the scalar engine's error there."""

    def ok(x: Any) -> Any:
        if not isinstance(x, float) and bool((x < 0).any()):
            raise ValueError("negative somewhere")
        return x >= 0

    row = autograd.op(lambda x: (x, 1.0), rule="1", name="torch_nonneg",
                      domain=[(ok, "torch_nonneg needs x >= 0, got x={x}", ValueError)])
    assert same_error(row, [0.5, -1.0]) == (
        ValueError, "tape step 'torch_nonneg' (slot 2) on sample 1: torch_nonneg needs x >= 0, got x=-1.0"
    )


def test_math_exp_on_a_tensor_says_to_compute_through_m() -> None:
    """math.exp(tensor) of many samples: the op, the form and m.exp; no advice to switch back end."""

    @autograd.op(rule="e^x")
    def torch_exp_math(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        e = math.exp(x)
        return e, e

    info = tape_error(torch_exp_math, "torch", [0.5, 1.0])
    assert info.type is TypeError
    assert str(info.value).startswith(
        "tape step 'torch_exp_math' (slot 2): op 'torch_exp_math': its m= rule on PyTorch tensors failed on "
        "arrays of 2 samples (each sample alone works on floats): ValueError: only one element tensors"
    )
    assert "compute through the namespace m: m.exp" in str(info.value)
    assert "backend=" not in str(info.value)


# ---------------------------------------------------------------- float64, per caller


@autograd.op(rule="0.3 if x > 0 else 0.1")
def torch_leak(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """0.3x for x > 0, else 0.1x, its slope a comparison times a number (float32 in torch by default)."""
    slope = (x > 0.0) * 0.3 + (x <= 0.0) * 0.1
    return x * slope, slope


@autograd.op(rule="1 if x > 0 else 0.1")
def torch_factories(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
    """Numbers torch makes itself in a rule: where with plain numbers, an int tensor divided by an int."""
    if isinstance(x, float):
        slope = 1.0 if x > 0 else 0.1
        return x * slope + 1 / 3, slope
    slope = torch.where(x > 0, 1.0, 0.1)
    third = torch.tensor(1) / 3 + (x > 0) * 0  # an int tensor over an int: torch's default float dtype
    return x * slope + third, slope


def test_numbers_torch_would_make_in_float32_keep_float64_digits() -> None:
    """`(x > 0) * 0.3`, `where(c, 1.0, 0.1)`, `int_tensor / 3`: the scalar engine's numbers exactly."""
    samples = [2.0, -4.0, 0.7]
    for kind in (torch_leak, torch_factories):
        x, w = Value(0.5), Value(1.0)
        tape = compile(kind(w * x), [x], [w], backend="torch")
        values = tape.run([samples])
        grad = tape.gradient()
        assert values.dtype == grad.dtype == torch.float64
        want_grad = 0.0
        for i, s in enumerate(samples):
            wv = Value(1.0)
            out = kind(wv * s)
            out.backward()
            assert values[i].item() == out.data, kind.name
            want_grad += wv.grad
        assert float(grad) == want_grad, kind.name
    assert torch.get_default_dtype() == torch.float32


def test_a_run_leaves_torchs_default_dtype_alone_in_other_threads() -> None:
    """While a rule runs on one thread, another thread's default dtype and bool * 0.2 stay float32
    (the tape once set the process-wide default to float64 for each run)."""
    inside, seen_by_other = threading.Event(), threading.Event()
    seen: list[Any] = []

    @autograd.op(rule="0.3 if x > 0 else 0.1")
    def torch_waits(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        if isinstance(x, torch.Tensor):  # on the tape's tensors: let the other thread look now
            inside.set()
            seen_by_other.wait(10)
        slope = (x > 0.0) * 0.2 + 0.1
        return x * slope, slope

    def other() -> None:
        inside.wait(10)
        seen.append(torch.get_default_dtype())
        seen.append((torch.tensor([True, False]) * 0.2).dtype)
        seen_by_other.set()

    thread = threading.Thread(target=other)
    thread.start()
    x, w = Value(0.5), Value(1.0)
    tape = compile(torch_waits(w * x), [x], [w], backend="torch")
    values = tape.run([[2.0, -4.0]])
    thread.join(10)
    assert seen == [torch.float32, torch.float32]
    assert values.tolist() == [torch_waits(2.0), torch_waits(-4.0)]
    assert values.dtype == torch.float64
    assert torch.get_default_dtype() == torch.float32


def test_a_learners_own_float32_tensor_is_left_as_torch_makes_it() -> None:
    """The mode widens only numbers torch made from its default dtype, not a tensor the rule made float32."""
    x = torch.tensor([1.0, -1.0], dtype=torch.float64)
    with _float64_numbers(torch)():
        assert ((x > 0) * 0.2).dtype == torch.float64
        assert torch.zeros(2).dtype == torch.float64
        assert torch.tensor([1, 2]).dtype == torch.int64  # integers stay integers
        assert (torch.ones(2, dtype=torch.float32) * 0.2).dtype == torch.float32
        assert (x > 0).dtype == torch.bool
    assert ((x > 0) * 0.2).dtype == torch.float32


def test_nan_from_an_m_rule_only_on_tensors_says_the_forms_disagree() -> None:
    """NaN on tensors where the rule on floats is finite: not "the rule gives a non-finite value"."""

    @autograd.op(rule="3")
    def torch_holey(x: Any, m: Any = FLOATS) -> tuple[Any, Any]:
        if isinstance(x, torch.Tensor):
            return m.where(x > 2.8, math.nan, 3 * x), m.zeros_like(x) + 3.0
        return 3 * x, 3.0

    info = tape_error(torch_holey, "torch", [0.5, 3.0])
    assert info.type is ValueError
    assert str(info.value) == (
        "tape step 'torch_holey' (slot 2) on sample 1: op 'torch_holey': its m= rule on PyTorch tensors "
        "gives a non-finite value at (3.0), where its rule on floats does not: the two forms disagree "
        "(check_op compares them)"
    )


BUILTIN_ROWS = {name: row for name, row in TABLE.items() if row.builtin and not row.weighted_sum}


@pytest.mark.parametrize("name", list(BUILTIN_ROWS))
def test_the_tables_rules_give_the_same_float64_numbers_without_the_mode(name: str) -> None:
    """The table's rows run without the float64 mode (its cost); each row's numbers on float64 tensors,
    through builtin_float64, are float64 and equal, bit for bit, to the same rule under the mode."""
    row = BUILTIN_ROWS[name]
    points = [-2.5, -1.0, -0.0, 0.0, 0.3, 1.0, 2.75]
    if row.domain:  # log, sqrt, /, **: inside their domains
        points = [0.3, 1.0, 2.75]
    args: list[Any] = [torch.tensor(points, dtype=torch.float64)[None, :] for _ in range(row.arity)]
    if row.const is not None:
        args.append(2.5)
    m = TorchMath(torch, torch.device("cpu"))
    plain = builtin_float64(torch, row.fn(*args, m=m))
    with _float64_numbers(torch)():
        moded = row.fn(*args, m=m)
    for got, want in zip(plain, moded):
        got_t, want_t = m.tensor(got), m.tensor(want)
        assert got_t.dtype == want_t.dtype == torch.float64, name
        assert torch.equal(got_t, want_t), name


def test_tapes_on_three_threads_keep_float64_and_a_failed_rule_leaves_no_mode_behind() -> None:
    """Three threads running learner rules at once each get the scalar engine's float64 numbers;
    a rule that raises inside the mode leaves the thread's own torch calls as torch makes them."""
    results: dict[int, list[float]] = {}

    def work(k: int) -> None:
        x, w = Value(0.5), Value(1.0)
        tape = compile(torch_leak(w * x), [x], [w], backend="torch")
        for _ in range(30):
            results[k] = tape.run([[2.0, -4.0, 0.7]]).tolist()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {k: [torch_leak(2.0), torch_leak(-4.0), torch_leak(0.7)] for k in range(3)}
    info = tape_error(strict_on_arrays, "torch", [1.0, 2.0])
    assert info.type is ValueError
    assert (torch.tensor([True]) * 0.2).dtype == torch.float32
    assert torch.get_default_dtype() == torch.float32
