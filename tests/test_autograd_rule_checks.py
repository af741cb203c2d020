"""Every engine checks a learner's rule: per sample in both tapes, the array forms against the rule,
check_op says when it checked nothing, op names are text, and a tape refuses stale slopes (issue 21)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

import autograd
from autograd import FLOATS, TABLE, Op, Value, check_op, compile, tape_forms

np = pytest.importorskip("numpy")

TAPES = ("python", "numpy")


def scalar_error(kind: Op, operands: list[float]) -> tuple[type[BaseException], str]:
    """The error the scalar engine raises applying `kind` to Values holding `operands`."""
    with pytest.raises(Exception) as info:
        kind(*[Value(x) for x in operands])
    return info.type, str(info.value)


def tape_for(kind: Op, backend: str, n_operands: int = 1) -> tuple[autograd.Tape, Value]:
    """kind(x, w, ...) compiled with x the input and w (0.5) the parameter: returns the tape and w."""
    x = Value(0.1, label="x")
    w = Value(0.5, label="w")
    rest = [Value(0.25, label=f"c{i}") for i in range(n_operands - 2)]
    out = kind(x) * w if n_operands == 1 else kind(x, w, *rest)
    return compile(out, [x], [w], backend=backend), w


def tape_error(kind: Op, backend: str, column: list[float], n_operands: int = 1) -> pytest.ExceptionInfo[Any]:
    """What tape.run raises on this batch column."""
    tape, _ = tape_for(kind, backend, n_operands)
    with pytest.raises(Exception) as info:
        tape.run([column])
    return info


# ---------------------------------------------------------------- 1. per-sample results in the tapes


@autograd.op(rule=("1", "1"))
def dropper(a: float, b: float) -> tuple[float, ...]:
    """The issue's rule: a short tuple when a >= 1."""
    return (a + b, 1.0, 1.0) if a < 1 else (a + b, 1.0)


@pytest.mark.parametrize("backend", TAPES)
def test_short_tuple_for_one_sample_is_the_scalar_error_naming_op_and_sample(backend: str) -> None:
    """The issue's repro: grad 0.0 instead of 2.0 before; now the scalar engine's TypeError, sample 1."""
    error, message = scalar_error(dropper, [1.5, 0.5])
    assert error is TypeError
    assert message == (
        "op 'dropper': its rule must return the value and one derivative per input (3 numbers), got 2 numbers"
    )
    info = tape_error(dropper, backend, [0.1, 1.5], n_operands=2)
    assert info.type is TypeError
    assert str(info.value) == f"tape step 'dropper' (slot 2) on sample 1: {message}"


@pytest.mark.parametrize("backend", TAPES)
def test_good_samples_still_give_the_scalar_engines_gradient(backend: str) -> None:
    """Where the rule is right for every sample, w.grad is the batch sum of d/db = 1: 2.0 for two samples."""
    tape, w = tape_for(dropper, backend, n_operands=2)
    values = tape.run([[0.1, 0.2]])
    tape.backward()
    assert [float(v) for v in values] == [0.1 + 0.5, 0.2 + 0.5]
    assert w.grad == 2.0


def unary(name: str, result: Callable[[float], Any]) -> Op:
    """A one-input op that returns (x, 1.0) for x < 1 and `result(x)` otherwise."""

    def rule(x: float) -> Any:
        return (x, 1.0) if x < 1 else result(x)

    rule.__name__ = name
    return autograd.op(rule, rule="1", name=name)


BAD_RESULTS: list[tuple[str, Callable[[float], Any], str]] = [
    ("one_tuple", lambda x: (x,), "got 1 numbers"),
    ("long_tuple", lambda x: (x, 1.0, 2.0), "got 3 numbers"),
    ("bare_number", lambda x: x, "got float"),
    ("none_result", lambda x: None, "got NoneType"),
    ("complex_value", lambda x: (x + 1j, 1.0), "needs real numbers, got complex (1.5+1j)"),
    ("complex_slope", lambda x: (x, 1j), "needs real numbers, got complex 1j"),
    ("bool_slope", lambda x: (x, True), "needs real numbers, got bool True"),
    ("str_value", lambda x: ("1.5", 1.0), "needs real numbers, got str '1.5'"),
    ("decimal_value", lambda x: (Decimal("1.5"), 1.0), "needs real numbers, got Decimal('1.5')"),
    ("array_value", lambda x: (np.array([x]), 1.0), "needs real numbers, got ndarray array([1.5])"),
]


@pytest.mark.parametrize("backend", TAPES)
@pytest.mark.parametrize(("name", "result", "words"), BAD_RESULTS, ids=[b[0] for b in BAD_RESULTS])
def test_bad_result_for_one_sample_is_the_scalar_error_in_every_tape(
    backend: str, name: str, result: Callable[[float], Any], words: str
) -> None:
    """Short or long tuples, bare numbers, complex, bool, str, Decimal, arrays: a TypeError naming
    the op and the sample, the scalar engine's words after the tape's prefix."""
    kind = unary(name, result)
    error, message = scalar_error(kind, [1.5])
    assert error is TypeError and words in message and f"op {name!r}" in message
    info = tape_error(kind, backend, [0.5, 0.25, 1.5])
    assert info.type is TypeError
    assert str(info.value) == f"tape step {name!r} (slot 2) on sample 2: {message}"


GOOD_TYPES: list[tuple[str, Callable[[float], Any]]] = [
    ("fraction", lambda x: (Fraction(3, 2) * Fraction(x), Fraction(3, 2))),
    ("numpy_scalar", lambda x: (np.float64(1.5) * x, np.float64(1.5))),
    ("numpy_int_slope", lambda x: (1.5 * x, np.int64(1))),
    ("int_slope", lambda x: (2 * x, 2)),
    ("list_result", lambda x: [1.5 * x, 1.5]),
]


@pytest.mark.parametrize("backend", TAPES)
@pytest.mark.parametrize(("name", "result"), GOOD_TYPES, ids=[g[0] for g in GOOD_TYPES])
def test_real_numbers_the_scalar_engine_accepts_give_its_numbers_in_every_tape(
    backend: str, name: str, result: Callable[[float], Any]
) -> None:
    """Fractions, NumPy scalars, ints, a list: taken as floats, as the scalar engine takes them."""
    kind = autograd.op(result, rule="1", name=name)
    samples = [0.5, 1.5, -2.0]
    tape, w = tape_for(kind, backend)
    values = tape.run([samples])
    tape.backward()
    expected_grad = 0.0
    for s in samples:  # the scalar engine, sample by sample: out = kind(x) * w
        x, wv = Value(s), Value(0.5)
        out = kind(x) * wv
        out.backward()
        assert float(values[samples.index(s)]) == out.data
        expected_grad += wv.grad
    assert w.grad == expected_grad
    assert isinstance(w.grad, float)


NON_FINITE: list[tuple[str, Callable[[float], Any], str]] = [
    ("nan_value", lambda x: (math.nan, 1.0), "gives NaN (its value is not a number)"),
    ("nan_slope", lambda x: (x, math.nan), "gives NaN (its local derivative d/dx is not a number)"),
    ("inf_value", lambda x: (math.inf, 1.0), "overflows a float (its value is not finite)"),
    ("inf_slope", lambda x: (x, -math.inf), "overflows a float (its local derivative d/dx is not finite)"),
]


@pytest.mark.parametrize("backend", TAPES)
@pytest.mark.parametrize(("name", "result", "words"), NON_FINITE, ids=[n[0] for n in NON_FINITE])
def test_nan_is_said_as_nan_and_inf_as_overflow_in_every_engine(
    backend: str, name: str, result: Callable[[float], Any], words: str
) -> None:
    """NaN is no overflow: the scalar engine and both tapes say which number, and which it was."""
    kind = unary(name, result)
    error, message = scalar_error(kind, [1.5])
    assert error is ValueError
    assert message == f"{name}: {name}(x) at x=1.5 {words}"
    info = tape_error(kind, backend, [0.5, 1.5])
    assert info.type is ValueError
    assert str(info.value) == f"tape step {name!r} (slot 2) on sample 1: {message}"


def test_nan_of_a_two_input_rule_names_the_derivative() -> None:
    """d/db, not just "a local derivative": the message names which input's slope is NaN."""

    @autograd.op(rule=("1", "?"))
    def half_nan(a: float, b: float) -> tuple[float, float, float]:
        return a + b, 1.0, math.nan

    with pytest.raises(ValueError, match=r"^half_nan: half_nan\(a, b\) at a=1.0, b=2.0 gives NaN "
                                         r"\(its local derivative d/db is not a number\)$"):
        half_nan(Value(1.0), Value(2.0))


@pytest.mark.parametrize("backend", TAPES)
def test_learners_own_error_names_op_and_sample_in_every_tape(backend: str) -> None:
    """A ValueError the rule raises itself reads the same, prefixed with the step and the sample."""

    @autograd.op(rule="1")
    def picky(x: float) -> tuple[float, float]:
        if x > 1:
            raise ValueError(f"picky: x must be <= 1, got {x}")
        return x, 1.0

    assert scalar_error(picky, [1.5]) == (ValueError, "picky: x must be <= 1, got 1.5")
    info = tape_error(picky, backend, [0.5, 0.75, 1.5])
    assert info.type is ValueError
    assert str(info.value) == "tape step 'picky' (slot 2) on sample 2: picky: x must be <= 1, got 1.5"


# ---------------------------------------------------------------- 2. array forms against the rule


def test_registration_refuses_a_vectorized_form_that_disagrees_with_the_rule() -> None:
    """The issue's `doubled`: 2x in the NumPy tape, 3x elsewhere; refused when it is registered."""
    with pytest.raises(ValueError) as info:

        @autograd.op(rule="1", vectorized=lambda x: (2 * x, np.full_like(x, 2.0)))
        def doubled(x: float) -> tuple[float, float]:
            return 3 * x, 3.0

    assert str(info.value).startswith(
        "op 'doubled': its vectorized form (used by the NumPy tape) must give the rule's numbers: "
        "vectorized form at x=-2.5: value -5 (rule -7.5), d/dx 2 (rule 3); "
    )


def test_registration_refuses_a_vectorized_form_of_the_wrong_shape() -> None:
    """A form that forgets the derivative is named at registration, not in a later run."""
    with pytest.raises(ValueError, match=re.escape(
        "op 'forgot': its vectorized form (used by the NumPy tape) must give the rule's numbers: "
        "vectorized form at 6 points raised TypeError: op 'forgot': its vectorized form must return "
        "the value and one derivative per input (2 arrays or numbers), got ndarray"
    )):
        autograd.op(lambda x: (3 * x, 3.0), rule="3", name="forgot", vectorized=lambda x: 3 * x)


def test_registration_accepts_an_agreeing_vectorized_form_and_its_numbers_match() -> None:
    """A right vectorized form (with a constant too) registers; the NumPy tape gives the scalar numbers."""

    @autograd.op(rule="n x^(n-1)", const="n", vectorized=lambda x, n: (x**n, n * x ** (n - 1)))
    def power(x: float, n: float) -> tuple[float, float]:
        return x**n, n * x ** (n - 1)

    assert check_op(power, points=[0.5, 1.5])
    x, w = Value(0.1), Value(0.5)
    tape = compile(power(x * w, 3.0), [x], [w], backend="numpy")
    tape.run([[1.0, 2.0]])
    tape.backward()
    assert w.grad == pytest.approx(3 * 0.5**2 * (1.0 + 8.0), rel=1e-14)  # d/dw sum (x w)^3


def test_registration_without_numpy_skips_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    """autograd imports nothing third-party: without numpy the form cannot run, so it is not compared."""
    monkeypatch.setattr(tape_forms, "numpy_or_none", lambda: None)
    row = autograd.op(lambda x: (3 * x, 3.0), rule="3", name="later", vectorized=lambda x: (2 * x, 2.0))
    assert tape_forms.form_disagreements(row, [(1.0,)], [None]) == []


def test_check_op_compares_the_vectorized_form_with_the_rule() -> None:
    """A form that agrees where registration looked but not at x=3 is caught by check_op, and falsy."""

    @autograd.op(rule="3", vectorized=lambda x: (np.where(x > 2.8, 2 * x, 3 * x), np.full_like(x, 3.0)))
    def sly(x: float) -> tuple[float, float]:
        return 3 * x, 3.0

    report = check_op(sly)
    assert not report
    assert report.form_failures == ["vectorized form at x=3: value 6 (rule 9)"]
    assert str(report) == (
        "sly: all 8 derivatives agree with central differences\n"
        "sly: its array form (used by the NumPy tape) disagrees with its rule\n"
        "  vectorized form at x=3: value 6 (rule 9)"
    )
    assert check_op(sly, points=[0.5, 1.0])  # where the two forms agree


def test_check_op_runs_an_m_rule_on_arrays_and_says_to_use_m_where() -> None:
    """An `if` in a rule taking m works on floats but not on the NumPy tape's arrays: check_op says so."""

    @autograd.op(rule="step")
    def branchy(x: float, m: Any = FLOATS) -> tuple[float, float]:
        return (x, 1.0) if x > 0 else (0.0, 0.0)

    report = check_op(branchy)
    assert not report
    assert report.failures == []
    (line,) = report.form_failures
    assert line.startswith("m= rule on NumPy arrays at 8 points raised ValueError: The truth value of an")
    assert line.endswith("(the rule branched with if/and/or on an array of samples: "
                         "write the branch with m.where(condition, yes, no))")


# ---------------------------------------------------------------- 3. the NumPy tape wraps NumPy's errors


def test_numpy_tape_if_in_an_m_rule_names_op_and_says_use_m_where() -> None:
    """"truth value ... ambiguous" becomes a TypeError naming the op, the form, and m.where."""

    @autograd.op(rule="step")
    def branchy(x: float, m: Any = FLOATS) -> tuple[float, float]:
        return (x, 1.0) if x > 0 else (0.0, 0.0)

    info = tape_error(branchy, "numpy", [1.0, -1.0])
    assert info.type is TypeError
    assert str(info.value).startswith(
        "tape step 'branchy' (slot 2): op 'branchy': its m= rule on NumPy arrays failed on arrays of 2 "
        "samples (each sample alone works on floats): ValueError: The truth value of an array"
    )
    assert str(info.value).endswith("write the branch with m.where(condition, yes, no))")
    tape, _ = tape_for(branchy, "python")  # the pure-Python tape runs a learner's rule per sample
    assert tape.run([[1.0, -1.0]]) == [0.5, 0.0]


def test_numpy_tape_if_in_a_domain_check_names_op() -> None:
    """A domain check written with `and` on arrays: the op, "domain check", and the fix."""

    @autograd.op(rule="1", domain=[(lambda x: x > -5 and x < 5, "x must be in (-5, 5), got {x}", ValueError)])
    def boxed(x: float) -> tuple[float, float]:
        return x, 1.0

    info = tape_error(boxed, "numpy", [1.0, 2.0])
    assert info.type is TypeError
    assert str(info.value).startswith("tape step 'boxed' (slot 2): op 'boxed': its domain check failed")
    assert "m.where" in str(info.value)


def test_numpy_tape_vectorized_form_errors_name_the_op() -> None:
    """A vectorized form that returns complex, the wrong shape, or raises only on arrays: named."""
    row = autograd.op(lambda x: (x, 1.0), rule="1", name="shifty")
    row.vectorized = lambda x: (x + 0j, np.ones_like(x))  # set after registration's check
    info = tape_error(row, "numpy", [1.0, 2.0])
    assert info.type is TypeError
    assert str(info.value) == (
        "tape step 'shifty' (slot 2): op 'shifty': its vectorized form failed on arrays of 2 samples "
        "(each sample alone works on floats): TypeError: op 'shifty': its vectorized form must return "
        "real numbers, got dtype complex128"
    )
    row.vectorized = lambda x: (x, np.ones(3))
    info = tape_error(row, "numpy", [1.0, 2.0])
    assert info.type is TypeError
    assert "must return arrays of the operands' shape (1, 2), got shape (3,)" in str(info.value)

    def strict(x: Any) -> Any:
        raise ValueError("only one sample at a time")

    row.vectorized = strict
    info = tape_error(row, "numpy", [1.0, 2.0])
    assert info.type is ValueError
    assert str(info.value).endswith("works on floats): ValueError: only one sample at a time")


def test_numpy_tape_finds_the_failing_sample_behind_an_array_error() -> None:
    """An m= rule whose NumPy call fails because one sample is bad: the scalar error for that sample."""

    @autograd.op(rule="1")
    def choosy(x: float, m: Any = FLOATS) -> tuple[Any, Any]:
        if isinstance(x, float) and x > 1:
            raise ValueError(f"choosy: x must be <= 1, got {x}")
        if not isinstance(x, float) and (x > 1).any():
            raise ValueError("choosy: some x > 1")
        return x, m.zeros_like(x) + 1.0

    info = tape_error(choosy, "numpy", [0.5, 0.25, 1.5])
    assert info.type is ValueError
    assert str(info.value) == "tape step 'choosy' (slot 2) on sample 2: choosy: x must be <= 1, got 1.5"


# ---------------------------------------------------------------- 4. check_op that checked nothing


def test_check_op_that_checked_nothing_says_so_and_why() -> None:
    """Always NaN, a domain that skips every point, points=[]: falsy, and the text says why."""

    @autograd.op(rule="1")
    def always_nan(x: float) -> tuple[float, float]:
        return math.nan, 1.0

    @autograd.op(rule="1", domain=[(lambda x: x > 100, "far needs x > 100, got x={x}", ValueError)])
    def far(x: float) -> tuple[float, float]:
        return x, 1.0

    report = check_op(always_nan)
    assert not report and report.checked == 0 and report.skipped == 8
    assert str(report) == (
        "always_nan: checked nothing: all 8 points were skipped (the rule raised or was not finite there, "
        "or central differences could not be taken); the first: at x=-3: always_nan: always_nan(x) at "
        "x=-3.0 gives NaN (its value is not a number)"
    )
    report = check_op(far)
    assert not report
    assert str(report).startswith("far: checked nothing: all 8 points were skipped")
    assert str(report).endswith("the first: at x=-3: far needs x > 100, got x=-3.0")
    report = check_op(far, points=[])
    assert not report
    assert str(report) == "far: checked nothing: no points to try (points is empty)"
    assert "agree" not in report._repr_markdown_()
    assert check_op(far, points=[150.0])  # a point inside the domain is checked


def test_check_op_names_bad_points() -> None:
    """A str, a bool or a NaN point is named; a NumPy scalar is a number."""
    with pytest.raises(TypeError, match=r"^check_op\(points\[1\]\) needs a number or a sequence"):
        check_op(autograd.ops.tanh, points=[0.5, "a"])
    with pytest.raises(TypeError, match=r"^check_op\(points\[0\]\[0\]\) needs a finite number, got bool"):
        check_op(autograd.ops.tanh, points=[[True]])
    with pytest.raises(ValueError, match=r"^check_op\(points\[0\]\) needs a finite number, got nan"):
        check_op(autograd.ops.tanh, points=[math.nan])
    assert check_op(autograd.ops.tanh, points=[np.float64(0.5), np.int64(1)]).checked == 2


# ---------------------------------------------------------------- 5. names are text

PRINTABLE = "a non-empty str of printable characters"
NAME = f"op(name) needs {PRINTABLE},"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": 123}, TypeError, f"{NAME} got 123"),
        ({"name": ""}, ValueError, f"{NAME} got str ''"),
        ({"name": "  "}, ValueError, f"{NAME} got str '  '"),
        ({"name": "a\nb"}, ValueError, f"{NAME} got str 'a\\nb'"),
        ({"name": b"x"}, TypeError, f"{NAME} got bytes b'x'"),
        ({"symbol": 5}, TypeError, f"op 'ok': op(symbol) needs {PRINTABLE}, got 5"),
        ({"rule": 5}, TypeError, "op 'ok': op(rule) needs a str or a list of str (one per input), got 5"),
        ({"latex": [None]}, TypeError, "op 'ok': op(latex) needs a str or a list of str (one per input), "
                                       "got list [None]"),
        ({"formula": ["f(x)"]}, TypeError, "op 'ok': op(formula) needs a str, got list ['f(x)']"),
    ],
)
def test_op_names_and_texts_are_validated(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    """op(name=123) made a node whose .op was an int; each text argument is checked, in checks.py words."""
    arguments: dict[str, Any] = {"rule": "1", **kwargs}

    def ok(x: float) -> tuple[float, float]:
        return x, 1.0

    with pytest.raises(error) as info:
        autograd.op(ok, **arguments)
    assert str(info.value) == message


def test_any_printable_name_is_kept_as_given() -> None:
    """Names need not be identifiers: "my op", "+", "σ" are the learner's choice, and .op shows them."""
    for name in ("my op", "+", "σ"):
        row = autograd.op(lambda x: (x, 1.0), rule="1", name=name)
        assert row(Value(1.0)).op == name
        assert TABLE.get(name) is not row  # a learner's op stays the learner's ("+" keeps the built-in)


# ---------------------------------------------------------------- 7. the Markdown report shows names as text


@pytest.mark.parametrize("name", ["x```", "```", "a````b", "`", "x``` <script>alert(1)</script>"])
def test_markdown_report_shows_a_name_with_fences_or_markup_verbatim(name: str) -> None:
    """An op name with backtick fences or markup stays text: one <pre> block whose content holds
    no markup (every < > & escaped) and reads back as the plain report."""

    @autograd.op(rule="1", name=name)
    def wrong(x: float) -> tuple[float, float]:
        return x, 2.0  # a wrong derivative: the name is printed once per failure too

    markdown = check_op(wrong)._repr_markdown_()
    assert markdown.startswith("<pre>") and markdown.endswith("</pre>")
    inner = markdown[len("<pre>") : -len("</pre>")]
    assert "<" not in inner and ">" not in inner
    assert html.unescape(inner) == str(check_op(wrong))


# ---------------------------------------------------------------- 8. a tape refuses stale slopes


@pytest.mark.parametrize("backend", TAPES)
def test_gradient_after_set_parameters_needs_a_new_run_then_equals_the_scalar_engine(backend: str) -> None:
    """gradient() after set_parameters used the last run's slopes (2e-6 off); now a RuntimeError,
    and after run() again the scalar engine's gradient at the new parameters."""
    x = Value(0.3, label="x")
    w = Value(0.8, label="w")
    b = Value(-0.2, label="b")
    tape = compile((x * w + b).tanh(), [x], [w, b], backend=backend)
    batch = [[0.3, -1.2, 2.0]]
    tape.run(batch)
    tape.gradient()
    tape.set_parameters([0.8 + 1e-5, -0.2])
    with pytest.raises(RuntimeError) as info:
        tape.gradient()
    assert str(info.value) == (
        "tape.gradient(): params[0] (label 'w') changed from 0.8 to 0.80001 since the last "
        "tape.run(batch), whose forward values the gradient needs: call tape.run(batch) again first "
        "(as after any set_parameters or optimizer step)"
    )
    b.data = 0.1  # by hand too; backward is refused the same way, and no grad changes
    with pytest.raises(RuntimeError, match=r"^tape\.backward\(\): params\[0\]"):
        tape.backward()
    assert w.grad == 0.0 and b.grad == 0.0
    tape.run(batch)
    grads = [float(g) for g in tape.gradient()]
    expected = [0.0, 0.0]
    for sample in batch[0]:
        ws, bs = Value(0.8 + 1e-5), Value(0.1)
        (Value(sample) * ws + bs).tanh().backward()
        expected = [expected[0] + ws.grad, expected[1] + bs.grad]
    assert grads == pytest.approx(expected, rel=1e-14)


# ---------------------------------------------------------------- the second adversarial pass


@pytest.mark.parametrize("backend", TAPES)
def test_an_int_beyond_float_range_is_named_as_the_overflowing_derivative(backend: str) -> None:
    """`return x, 10**400`: the scalar engine and both tapes name d/dx (the tape raised OverflowError)."""
    kind = unary("huge_slope", lambda x: (x, 10**400))
    error, message = scalar_error(kind, [1.5])
    assert (error, message) == (
        ValueError,
        "huge_slope: huge_slope(x) at x=1.5 overflows a float (its local derivative d/dx is not finite)",
    )
    info = tape_error(kind, backend, [0.5, 1.5])
    assert info.type is ValueError
    assert str(info.value) == f"tape step 'huge_slope' (slot 2) on sample 1: {message}"


@pytest.mark.parametrize("backend", TAPES)
def test_other_errors_of_a_rule_keep_their_type_with_a_note_naming_step_and_sample(backend: str) -> None:
    """A KeyError stays a KeyError (as in the scalar engine), noted with the step and the sample."""
    kind = unary("keyed", lambda x: {}["missing"])
    info = tape_error(kind, backend, [0.5, 1.5])
    assert info.type is KeyError
    if hasattr(info.value, "add_note"):
        assert info.value.__notes__ == ["(raised in tape step 'keyed' (slot 2) on sample 1)"]


def test_numpy_tape_nan_from_a_vectorized_form_says_the_forms_disagree() -> None:
    """NaN from the array form where the rule is finite: not "the rule gives a non-finite value"."""
    row = autograd.op(lambda x: (3 * x, 3.0), rule="3", name="holey")
    row.vectorized = lambda x: (np.where(x > 2.8, np.nan, 3 * x), np.full_like(x, 3.0))
    info = tape_error(row, "numpy", [0.5, 3.0])
    assert info.type is ValueError
    assert str(info.value) == (
        "tape step 'holey' (slot 2) on sample 1: op 'holey': its vectorized form gives a non-finite value "
        "at (3.0), where its rule on floats does not: the two forms disagree (check_op compares them)"
    )
    assert not check_op(row)


def test_check_op_reports_a_rule_that_raises_or_returns_complex_as_a_failure() -> None:
    """A TypeError, KeyError or complex result at a point is the rule's fault: a failure, not an escape."""
    raising = unary("raising", lambda x: x + "a")
    report = check_op(raising, points=[0.5, 1.5])
    assert not report
    assert report.failures == [
        "at x=1.5: the rule raised TypeError: unsupported operand type(s) for +: 'float' and 'str'"
    ]
    complex_rule = unary("complexish", lambda x: (x, 1j))
    report = check_op(complex_rule, points=[1.5])
    assert not report
    assert report.failures == [
        "at x=1.5: op 'complexish' (its rule's result) needs real numbers, got complex 1j"
    ]


def test_check_op_refuses_points_of_the_wrong_arity_and_nan_tolerances() -> None:
    """A two-number point for a one-input rule, rtol=nan (which would pass everything), atol < 0."""
    with pytest.raises(ValueError, match=re.escape(
        "check_op(points[0]) needs 1 number(s), one per operand of 'tanh', got tuple (1.0, 2.0)"
    )):
        check_op(autograd.ops.tanh, points=[(1.0, 2.0)])
    with pytest.raises(ValueError, match=r"^check_op\(rtol\) needs a finite number >= 0, got nan$"):
        check_op(autograd.ops.tanh, rtol=math.nan)
    with pytest.raises(ValueError, match=r"^check_op\(atol\) needs a finite number >= 0, got -1$"):
        check_op(autograd.ops.tanh, atol=-1)


def test_op_refuses_a_rule_or_vectorized_form_that_is_not_callable() -> None:
    """op(rule=...)(5) and vectorized="f" are named before anything runs."""
    with pytest.raises(TypeError, match=r"^op\(fn\) needs a function returning the value and .*, got 5$"):
        autograd.op(rule="1")(5)
    with pytest.raises(TypeError, match=r"^op 'vf': op\(vectorized\) needs a function of arrays, or None"):
        autograd.op(lambda x: (x, 1.0), rule="1", name="vf", vectorized="f")


@pytest.mark.parametrize("backend", TAPES)
def test_backward_twice_without_a_change_still_accumulates_twice(backend: str) -> None:
    """The stale-slope check refuses only changed parameters: two backward calls add twice, as documented."""
    x, w = Value(0.3), Value(0.8, label="w")
    tape = compile((x * w).tanh(), [x], [w], backend=backend)
    tape.run([[1.0, 2.0]])
    tape.backward()
    once = w.grad
    tape.backward()
    assert w.grad == 2 * once
    assert once == pytest.approx(sum(s * (1 - math.tanh(0.8 * s) ** 2) for s in (1.0, 2.0)), rel=1e-14)


@pytest.mark.parametrize("backend", TAPES)
def test_short_tuples_of_rules_with_a_constant_or_any_number_of_operands_are_named(backend: str) -> None:
    """The same check for `const=` rules (x**n) and rules over *operands."""

    @autograd.op(rule="n x^(n-1)", const="n")
    def pw(x: float, n: float) -> tuple[float, ...]:
        return (x**n, n * x ** (n - 1)) if x < 1 else (x**n,)

    @autograd.op(rule="1")
    def total(*xs: float) -> tuple[float, ...]:
        return (sum(xs), *[1.0] * len(xs)) if xs[0] < 1 else (sum(xs), 1.0)

    cases = [(lambda x, w: pw(x * w, 3.0), "pw[3]", 3, "(2 numbers), got 1 numbers"),
             (lambda x, w: total(x, w, w), "total", 2, "(4 numbers), got 2 numbers")]
    for build, step, slot, words in cases:
        x, w = Value(0.1), Value(0.5)
        tape = compile(build(x, w), [x], [w], backend=backend)
        with pytest.raises(TypeError) as info:
            tape.run([[0.5, 3.0]])
        name = step.split("[")[0]
        assert str(info.value) == (
            f"tape step {step!r} (slot {slot}) on sample 1: op {name!r}: its rule must return the value "
            f"and one derivative per input {words}"
        )


def test_op_names_a_malformed_domain_check() -> None:
    """A domain entry without its exception type, or not a list at all, is named when the op is defined."""

    def ok(x: float) -> tuple[float, float]:
        return x, 1.0

    with pytest.raises(TypeError, match=re.escape(
        "op 'ok': op(domain)[0] needs an (ok function, message, exception type) tuple, got tuple"
    )):
        autograd.op(ok, rule="1", domain=[(lambda x: x > 0, "needs x > 0")])
    with pytest.raises(TypeError, match=re.escape("op 'ok': op(domain) needs a list of (ok function, ")):
        autograd.op(ok, rule="1", domain="x > 0")  # type: ignore[arg-type]
    row = autograd.op(ok, rule="1", domain=[[lambda x: x > 0, "ok needs x > 0, got x={x}", ValueError]])
    with pytest.raises(ValueError, match=r"^ok needs x > 0, got x=-1.0$"):
        row(Value(-1.0))


@pytest.mark.parametrize("backend", TAPES)
def test_run_given_the_wrong_number_of_parameter_numbers_is_refused(backend: str) -> None:
    """tape.run(batch, params=[1.0]) on a tape of 3 parameters: never broadcast, never an IndexError."""
    x, w, b = Value(0.0, label="x"), Value(0.5, label="w"), Value(0.1, label="b")
    c = Value(2.0, label="c")
    tape = compile(w * x + b * c, [x], [w, b, c], backend=backend)
    wanted = r"^tape.run\(batch, params\) needs one number per parameter: 3, got 1$"
    with pytest.raises(ValueError, match=wanted):
        tape.run([[1.0, 2.0]], params=[1.0])
    numbers = [2.0, 0.0, 1.0] if backend == "python" else np.array([2.0, 0.0, 1.0])
    assert list(tape.run([[1.0, 2.0]], params=numbers)) == [2.0, 4.0]


@pytest.mark.parametrize("backend", TAPES)
def test_a_nan_batch_gradient_is_called_nan(backend: str) -> None:
    """Finite local derivatives whose products overflow to +inf on one sample and -inf on the other:
    the batch sum is NaN, and the error says NaN (not "overflows")."""

    @autograd.op(rule="1", name="steep")
    def steep(x: float) -> tuple[float, float]:
        return x, 1e308

    x, w = Value(0.0, label="x"), Value(1.0, label="w")
    tape = compile(steep(w * x), [x], [w], backend=backend)
    tape.run([[10.0, -10.0]])
    with pytest.raises(ValueError, match=r"the gradient at params\[0\] \(label 'w'\) is NaN: grad=nan"):
        tape.gradient()
