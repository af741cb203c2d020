"""Adversarial probes of the engine (issue 10): threads, interrupts, backward overflow, odd numbers.

Each probe asserts the exact error type, that the message names the operation, and that nothing
was lost: recording still on in every thread, the scope tag back to "", grads as before.
"""

from __future__ import annotations

import asyncio
import dis
import math
import os
import random
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from types import CodeType, FrameType, TracebackType
from typing import Any

import pytest

import autograd.context as context
from autograd import (
    Value,
    accumulating,
    compile,
    current_scope,
    gradcheck,
    is_grad_enabled,
    no_grad,
    numerical_grad,
    scope,
    weighted_sum,
)

HUGE = 10**400
np = pytest.importorskip("numpy")


def _run_in_thread(fn: Callable[[], Any]) -> Any:
    """fn() in a fresh thread; its result, or its exception re-raised here."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def _fresh_state() -> tuple[bool, str]:
    """(recording, scope) as a brand-new thread sees them."""
    return _run_in_thread(lambda: (is_grad_enabled(), current_scope()))


# ====================================================================== threads


def _count_misses(n: int) -> tuple[int, int]:
    """Build n small graphs; (nodes made, nodes that recorded no parents)."""
    made = misses = 0
    for i in range(n):
        x = Value(float(i % 7) + 0.5)
        y = (x * 2.0 + 1.0).tanh()
        for node in (y, y.parents[0] if y.parents else y):
            made += 1
            misses += not node.parents
    return made, misses


def test_thread_inside_no_grad_does_not_stop_another_thread_recording() -> None:
    inside, leave = threading.Event(), threading.Event()
    seen: list[bool] = []

    def sit_in_no_grad() -> None:
        with no_grad():
            seen.append(is_grad_enabled())
            inside.set()
            leave.wait()
            seen.append(is_grad_enabled())
        seen.append(is_grad_enabled())

    holder = threading.Thread(target=sit_in_no_grad)
    holder.start()
    inside.wait()
    try:
        made, misses = _count_misses(20_000)  # all of it while the other thread is inside no_grad
        x = Value(3.0)
        y = x * x
        y.backward()
    finally:
        leave.set()
        holder.join()
    assert (made, misses) == (40_000, 0)
    assert x.grad == 6.0
    assert seen == [False, False, True]


def test_thread_toggling_no_grad_never_drops_another_threads_parents() -> None:
    stop = threading.Event()
    toggles = [0]

    def toggle() -> None:
        while not stop.is_set():
            with no_grad():
                with no_grad():
                    toggles[0] += 1

    other = threading.Thread(target=toggle)
    other.start()
    try:
        made, misses = _count_misses(20_000)
    finally:
        stop.set()
        other.join()
    assert misses == 0, f"{misses} of {made} nodes recorded no parents"
    assert toggles[0] > 0
    assert is_grad_enabled()


def test_threads_interleaving_no_grad_leave_recording_on_everywhere() -> None:
    rounds = 5_000
    barrier = threading.Barrier(2)
    after: list[tuple[bool, bool]] = []

    def interleave(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        inside_ok = True
        for _ in range(rounds):
            with no_grad():
                inside_ok &= not is_grad_enabled()
                if rng.random() < 0.5:
                    with no_grad():
                        inside_ok &= not is_grad_enabled()
            if rng.random() < 0.01:
                inside_ok &= is_grad_enabled()
        after.append((is_grad_enabled(), inside_ok))

    threads = [threading.Thread(target=interleave, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert after == [(True, True), (True, True)]
    assert is_grad_enabled()
    assert _fresh_state() == (True, "")


def test_thread_started_inside_no_grad_records() -> None:
    # Per thread, as PyTorch: a new thread starts with recording on whatever its parent was in.
    with no_grad(), scope("outer"):
        state = _fresh_state()
        made_here = Value(1.0) * 2.0
    assert state == (True, "")
    assert made_here.parents == ()


def test_scope_in_one_thread_does_not_tag_another_threads_values() -> None:
    inside, leave = threading.Event(), threading.Event()
    theirs: list[str] = []

    def sit_in_scope() -> None:
        with scope("theirs"):
            inside.set()
            leave.wait()
            theirs.append((Value(1.0) * 2.0).scope)
        theirs.append(Value(1.0).scope)

    other = threading.Thread(target=sit_in_scope)
    other.start()
    inside.wait()
    try:
        plain = [(Value(float(i)) + 1.0).scope for i in range(1000)]
        with scope("mine"):
            mine = (Value(1.0) * 3.0).scope
    finally:
        leave.set()
        other.join()
    assert set(plain) == {""}
    assert mine == "mine"
    assert theirs == ["theirs", ""]
    assert current_scope() == ""


def test_asyncio_task_inside_no_grad_across_await_does_not_stop_another_task() -> None:
    async def main() -> tuple[Value, Value, list[str], bool]:
        entered, release = asyncio.Event(), asyncio.Event()

        async def quiet() -> tuple[Value, str]:
            with no_grad(), scope("quiet"):
                entered.set()
                await release.wait()  # suspended inside both blocks while the other task runs
                return Value(2.0) * 3.0, current_scope()

        async def loud() -> tuple[Value, list[str]]:
            await entered.wait()
            x = Value(2.0)
            y = x * x + 1.0
            tags = [y.scope, current_scope()]
            release.set()
            await asyncio.sleep(0)
            y.backward()
            return x, tags

        (made_quiet, quiet_scope), (x, tags) = await asyncio.gather(quiet(), loud())
        return made_quiet, x, [*tags, quiet_scope], is_grad_enabled()

    made_quiet, x, tags, enabled_after = asyncio.run(main())
    assert made_quiet.parents == ()
    assert x.grad == 4.0
    assert tags == ["", "", "quiet"]
    assert enabled_after
    assert is_grad_enabled() and current_scope() == ""


def test_asyncio_task_created_inside_no_grad_inherits_it_and_leaving_does_not_leak() -> None:
    # contextvars rule: a task copies its creator's context, so it starts inside no_grad; a task
    # that leaves no_grad changes only its own copy.
    async def child_leaves() -> bool:
        context._NO_GRAD.set(None)  # as if its own no_grad exited
        return is_grad_enabled()

    async def main() -> tuple[bool, bool, bool]:
        with no_grad():
            inherited = await asyncio.create_task(asyncio.to_thread(is_grad_enabled))
            child = await asyncio.create_task(child_leaves())
            still = is_grad_enabled()
        return inherited, child, still

    # to_thread copies the context too (unlike threading.Thread)
    assert asyncio.run(main()) == (False, True, False)
    assert is_grad_enabled()


# ====================================================================== interrupts

_CONTEXT_FILE = context.__file__
_THIS_FILE = __file__


def _nested_blocks() -> Value:
    """User code with nested switches, the shape the issue's probe interrupted."""
    with no_grad():
        a = Value(1.0) * 2.0
        with scope("L1"):
            with no_grad():
                b = a + 1.0
            with scope("n3"):
                c = Value(2.0) * b
        d = c + 1.0
    with scope("L2"), no_grad(), scope("n0"):
        e = d * 2.0
    return e


def _exit_sequences(code: CodeType) -> frozenset[int]:
    """Offsets of each `with` block's normal exit: the three None arguments up to the call of __exit__.

    An interrupt there (the block is done, __exit__ not yet run) is outside the block's protection.
    """
    ops = list(dis.get_instructions(code))
    window: set[int] = set()
    for i in range(len(ops) - 3):
        if all(op.opname == "LOAD_CONST" and op.argval is None for op in ops[i : i + 3]):
            for op in ops[i:]:
                window.add(op.offset)
                if op.opname == "CALL":
                    break
    return frozenset(window)


_EXIT_WINDOW = _exit_sequences(_nested_blocks.__code__)


def _interrupt_at(k: int, *, opcodes: bool, in_exit: bool) -> bool:
    """Run _nested_blocks raising KeyboardInterrupt at its k-th traced event; True if it fired.

    Events are 'call', 'line' (and 'opcode' when asked) in _nested_blocks and autograd/context.py.
    `in_exit` False: every point except the exit window (a with's exit sequence, the __exit__
    methods); True: only those (where the exit callable being freed is what restores).
    """
    count = 0
    fired = False

    def hit() -> None:
        nonlocal count, fired
        count += 1
        if count == k:
            fired = True
            raise KeyboardInterrupt

    def local(frame: FrameType, event: str, arg: object) -> Any:
        if event in ("line", "opcode"):
            in_window = frame.f_code.co_name == "__exit__" or frame.f_lasti in _EXIT_WINDOW
            if in_window == in_exit:
                hit()
        return local

    def on_call(frame: FrameType, event: str, arg: object) -> Any:
        code = frame.f_code
        in_context = code.co_filename == _CONTEXT_FILE
        if not (in_context or code is _nested_blocks.__code__):
            return None
        frame.f_trace_opcodes = opcodes
        if (code.co_name == "__exit__") == in_exit:
            hit()
        return local

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        _nested_blocks()
    except KeyboardInterrupt:
        pass
    finally:
        sys.settrace(previous)
    return fired


def _heal() -> None:
    """Put both switches back (only after a probe that is known to leave them wrong)."""
    context._NO_GRAD.set(None)
    context._SCOPE.set(None)


@pytest.mark.parametrize("opcodes", [False, True], ids=["lines", "opcodes"])
def test_keyboard_interrupt_at_every_point_leaves_recording_on_and_scope_empty(opcodes: bool) -> None:
    bad = []
    k = 0
    while True:
        k += 1
        fired = _interrupt_at(k, opcodes=opcodes, in_exit=False)
        state = (is_grad_enabled(), current_scope())
        if state != (True, ""):
            bad.append((k, state))
            _heal()
        if not fired:
            break
    assert k > (150 if opcodes else 25)  # the probe really walked through the blocks
    assert bad == [], f"{len(bad)} of {k - 1} injection points left the switches wrong: {bad[:5]}"


def test_keyboard_interrupt_inside_exit_before_its_store() -> None:
    left_wrong = 0
    k = 0
    while _interrupt_at(k := k + 1, opcodes=True, in_exit=True):
        if (is_grad_enabled(), current_scope()) != (True, ""):
            left_wrong += 1
            _heal()
    assert k > 5
    assert left_wrong == 0, f"{left_wrong} of {k - 1} interrupts inside __exit__ left a switch wrong"


def _real_sigint_trials(blocks: Callable[[], None], batches: int) -> Iterator[tuple[bool, bool, str]]:
    """Loop `blocks` while another thread sends SIGINT at random moments.

    Yields, for each KeyboardInterrupt caught: (landed in context.py's __exit__, recording, scope).
    """
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are handled in the main thread only")
    main_id = threading.get_ident()
    armed = [False]
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if armed[0]:  # only inside the loop below: never in pytest's code or the except clause
            armed[0] = False
            raise KeyboardInterrupt

    def sender() -> None:
        rng = random.Random(10)
        while not stop.wait(rng.uniform(0.0, 0.002)):
            if rng.random() < 0.5:
                signal.pthread_kill(main_id, signal.SIGINT)
            else:
                os.kill(os.getpid(), signal.SIGINT)

    old = signal.signal(signal.SIGINT, handler)
    thread = threading.Thread(target=sender)
    thread.start()
    try:
        for _ in range(batches):
            try:
                armed[0] = True
                for _ in range(500):
                    blocks()
                armed[0] = False
            except KeyboardInterrupt as error:
                yield _landed_in_exit(error.__traceback__), is_grad_enabled(), current_scope()
                _heal()
    finally:
        armed[0] = False
        stop.set()
        thread.join()
        signal.signal(signal.SIGINT, old)


def _landed_in_exit(tb: TracebackType | None) -> bool:
    """True when the traceback passes through context.py's __exit__ (the known window)."""
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == _CONTEXT_FILE and code.co_name == "__exit__":
            return True
        tb = tb.tb_next
    return False


def _signal_blocks() -> None:
    with no_grad():
        with scope("a"):
            with no_grad():
                pass
            with scope("b"):
                pass


def test_real_sigint_outside_exit_leaves_recording_on() -> None:
    trials = list(_real_sigint_trials(_signal_blocks, batches=400))
    outside = [(on, tag) for in_exit, on, tag in trials if not in_exit]
    assert len(trials) > 20  # interrupts really landed
    assert outside == [(True, "")] * len(outside)


def test_real_sigint_never_leaves_recording_off() -> None:
    trials = list(_real_sigint_trials(_signal_blocks, batches=400))
    wrong = [t for t in trials if t[1:] != (True, "")]
    assert len(trials) > 20
    assert wrong == [], f"{len(wrong)} of {len(trials)} interrupts left a switch wrong"


# ====================================================================== backward overflow


def _overflowing_graph() -> tuple[Value, Value, Value, Value]:
    """u (a leaf) feeds w = (u * 1e300) * 1e300: finite forward, dw/du = 1e600 overflows."""
    u = Value(1e-300, "u")
    c = Value(1e300, "c")
    v = u * c
    v.label = "v"
    w = v * 1e300
    w.label = "w"
    return u, c, v, w


def test_backward_overflow_restores_accumulated_leaf_grads_and_names_the_node() -> None:
    u, c, v, w = _overflowing_graph()
    k = Value(3.0, "k")
    ok = u * 2.0 + c * 1e-300 + k * k  # a first, successful pass accumulates into u, c, k
    ok.backward()
    ok.backward()
    leaves = {"u": u, "c": c, "k": k}
    before = {name: leaf.grad for name, leaf in leaves.items()}
    assert before == {"u": 4.0, "c": 2e-300, "k": 12.0}
    with pytest.raises(ValueError, match=r"backward: the gradient at 'u' .*overflows a float") as info:
        with accumulating():  # on purpose: onto the grads `ok` left
            w.backward()
    assert "inf" in str(info.value)
    assert {name: leaf.grad for name, leaf in leaves.items()} == before
    assert (v.grad, w.grad) == (0.0, 0.0)
    with accumulating():
        ok.backward()  # the graph still works afterwards
    assert u.grad == 6.0 and k.grad == 18.0


def test_backward_nan_gradient_is_an_error_and_restores() -> None:
    # inf reaches relu at a negative input, whose local derivative is 0: 0 * inf is nan, also refused.
    p = Value(-1.0, "p")
    r = p.relu()
    out = ((r + 1e-300) * 1e300) * 1e300  # forward 1e300 is finite, d out/dr = 1e600 is not
    p.grad = 0.5
    nan_at_p = r"the gradient at 'p' \(data=-1.0\) is NaN: grad=nan; it began on the edge from '\*' .* to '\+'"  # noqa: E501
    with pytest.raises(ValueError, match=nan_at_p):
        with accumulating():  # on purpose: onto the grad set by hand
            out.backward()
    assert (p.grad, r.grad, out.grad) == (0.5, 0.0, 0.0)


def test_backward_finite_grads_whose_sum_overflows_are_fine() -> None:
    a, b = Value(1.0, "a"), Value(1.0, "b")
    out = a * 1.5e308 + b * 1.5e308 * 1e-308
    out.backward()
    assert (a.grad, b.grad) == (1.5e308, 1.5e308 * 1e-308)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_tape_backward_overflow_leaves_params_grads_unchanged(backend: str) -> None:
    u = Value(1e-300, "u")
    k = Value(2.0, "k")
    a = Value(1.0, "a")
    out = (u * a) * 1e300 + k * a
    tape = compile(out, [a], [u, k], backend=backend)
    tape.run([[1.0, 1.0]])
    tape.backward()
    before = (u.grad, k.grad)
    assert before == (2e300, 2.0)
    tape.run([[1e300, 1.0]])  # forward 1e300 finite; d out/du = a * 1e300 = 1e600
    with pytest.raises(ValueError, match=r"tape.backward: the gradient at params\[0\] \(label 'u'\)"):
        tape.backward()
    assert (u.grad, k.grad) == before
    tape.run([[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"params\[0\]"):
        tape.backward([1e308, 1.0])  # a finite weight whose product overflows
    assert (u.grad, k.grad) == before


# ====================================================================== huge and odd numbers

x0 = Value(2.0, "x")
_ARITH: dict[str, Callable[[Any], Any]] = {
    "+": lambda n: x0 + n,
    "r+": lambda n: n + x0,
    "-": lambda n: x0 - n,
    "r-": lambda n: n - x0,
    "*": lambda n: x0 * n,
    "r*": lambda n: n * x0,
    "/": lambda n: x0 / n,
    "r/": lambda n: n / x0,
    "**": lambda n: x0**n,
    "r**": lambda n: n**x0,
}
_OUT_OF_RANGE = {
    "10**400": HUGE,
    "-10**400": -HUGE,
    "Fraction(10**400, 3)": Fraction(HUGE, 3),
    "nan": float("nan"),
    "inf": float("inf"),
    "np.float64(inf)": np.float64("inf"),
    "np.longdouble(1e400)": np.longdouble("1e400"),
}
_NOT_REAL = {"True": True, "1j": 1j, "'2'": "2", "None": None, "Decimal('1.5')": Decimal("1.5")}


@pytest.mark.parametrize("number", list(_OUT_OF_RANGE.values()), ids=list(_OUT_OF_RANGE))
def test_value_out_of_range_is_value_error(number: object) -> None:
    with pytest.raises(ValueError, match=r"^Value\(data\) needs a finite number, got "):
        Value(number)  # type: ignore[arg-type]


@pytest.mark.parametrize("number", list(_NOT_REAL.values()), ids=list(_NOT_REAL))
def test_value_not_real_is_type_error(number: object) -> None:
    with pytest.raises(TypeError, match=r"^Value\(data\) needs a finite number, got "):
        Value(number)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", list(_ARITH))
@pytest.mark.parametrize("number", list(_OUT_OF_RANGE.values()), ids=list(_OUT_OF_RANGE))
def test_arithmetic_with_out_of_range_number_is_value_error(op: str, number: object) -> None:
    if op == "r**" and isinstance(number, Fraction):
        # Not ours: Fraction.__pow__ turns itself into a float before Value is asked.
        with pytest.raises(OverflowError, match="too large for a float"):
            _ARITH[op](number)
        return
    with pytest.raises(ValueError, match=r"needs a finite number, got ") as info:
        _ARITH[op](number)
    assert "operand" in str(info.value) or "exponent" in str(info.value)


@pytest.mark.parametrize("op", list(_ARITH))
@pytest.mark.parametrize("number", list(_NOT_REAL.values()), ids=list(_NOT_REAL))
def test_arithmetic_with_non_real_is_type_error_naming_the_operator(op: str, number: object) -> None:
    with pytest.raises(TypeError) as info:
        _ARITH[op](number)
    if isinstance(number, str) and op.removeprefix("r") in ("+", "*"):
        return  # str's own + and * answer ("can only concatenate str", "can't multiply sequence")
    symbol = op.removeprefix("r")
    assert f"for {symbol}" in str(info.value), str(info.value)


@pytest.mark.parametrize("op", ["+", "r-", "*", "r/", "r**"])
def test_huge_int_operand_message_names_the_operator(op: str) -> None:
    symbol = re.escape(op.removeprefix("r"))
    with pytest.raises(ValueError, match=rf"(^|[\s'(]){symbol}[\s':)]"):
        _ARITH[op](HUGE)


def test_exponent_huge_int_names_the_exponent() -> None:
    exponent = r"^a \*\* n \(the exponent n\) needs a finite number, got a 401-digit integer, beyond float"
    with pytest.raises(ValueError, match=exponent):
        x0 ** HUGE
    with pytest.raises(ValueError, match=r"a \*\* n \(the exponent n\)"):
        x0 ** Fraction(HUGE, 3)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: Value(709.78).exp(), None),
        (lambda: Value(710.0).exp(), "exp"),
        (lambda: Value(1e308) * 10, r"\*"),
        (lambda: Value(1e308) * Value(10.0), r"\*"),
        (lambda: np.float64(1e308) * Value(10.0), r"\*"),
        (lambda: Value(1e308) + 1e308, r"\+"),
        (lambda: Value(-1e308) - 1e308, "-"),
        (lambda: 1.0 / Value(5e-324), "/"),
        (lambda: Value(5e-324) ** -1, r"\*\*n"),
        (lambda: Value(5e-324).log(), "log"),  # d/dx = 1/x overflows
        (lambda: weighted_sum([Value(1e308)], [10.0]), "wsum"),
    ],
)
def test_float_overflow_is_value_error_naming_the_operation(
    make: Callable[[], Value], name: str | None
) -> None:
    if name is None:
        out = make()
        assert out.data == math.exp(709.78) and out.local_grads == (out.data,)
        return
    with pytest.raises(ValueError, match=rf"^{name}: .*overflows a float"):
        make()


@pytest.mark.parametrize(
    ("bad", "error"),
    [(HUGE, ValueError), (float("nan"), ValueError), (np.float64("inf"), ValueError), ("1", TypeError),
     (True, TypeError), (None, TypeError), (1j, TypeError)],
    ids=["10**400", "nan", "inf", "str", "True", "None", "1j"],
)
def test_weighted_sum_inputs(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="weighted_sum input"):
        weighted_sum([Value(1.0)], [bad])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="weighted_sum needs Value weights"):
        weighted_sum([bad], [1.0])  # type: ignore[list-item]
    if bad is None:
        return  # bias=None means no bias
    with pytest.raises(TypeError, match="weighted_sum needs a Value bias"):
        weighted_sum([Value(1.0)], [1.0], bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [(HUGE, ValueError, "a 401-digit integer, beyond float range (about 1.8e308)"),
     (-HUGE, ValueError, "a negative 401-digit integer, beyond float range (about 1.8e308)"),
     (float("nan"), ValueError, "nan"), (np.float64("-inf"), ValueError, "np.float64(-inf)"),
     ("1", TypeError, "str '1'"), (None, TypeError, "NoneType None"),
     (True, TypeError, "bool True"), (1j, TypeError, "complex 1j"), (Decimal(1), TypeError, "Decimal('1')")],
    ids=["10**400", "-10**400", "nan", "-inf", "str", "None", "True", "1j", "Decimal"],
)
def test_tape_columns_and_weights(
    backend: str, bad: object, error: type[Exception], words: str, request: pytest.FixtureRequest
) -> None:
    a, w = Value(1.0, "a"), Value(2.0, "w")
    tape = compile((a * w).tanh(), [a], [w], backend=backend)
    with pytest.raises(error) as column:
        tape.run([[1.0, bad]])
    assert str(column.value) == f"tape.run(batch column 0)[1] needs a finite number, got {words}"
    tape.run([[1.0, 2.0]])
    with pytest.raises(error) as weight:
        tape.backward([0.5, bad])  # type: ignore[list-item]
    assert str(weight.value) == f"tape.backward(weights)[1] needs a finite number, got {words}"
    assert w.grad == 0.0  # nothing accumulated by the refused calls


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"eps": HUGE}, ValueError, r"numerical_grad\(eps\) needs a finite number > 0, got a 401-digit"),
        ({"eps": float("inf")}, ValueError, r"numerical_grad\(eps\) needs a finite number > 0, got inf$"),
        ({"eps": float("nan")}, ValueError, r"numerical_grad\(eps\) needs a finite number > 0, got nan$"),
        ({"eps": "1e-6"}, TypeError, r"numerical_grad\(eps\) needs a finite number > 0, got str '1e-6'$"),
        ({"eps": None}, TypeError, r"numerical_grad\(eps\) needs a finite number > 0, got NoneType None$"),
        ({"eps": True}, TypeError, r"numerical_grad\(eps\) needs a finite number > 0, got bool True$"),
        ({"eps": 0}, ValueError, r"^numerical_grad\(eps\) needs a finite number > 0, got 0$"),
        ({"eps": -1e-6}, ValueError, r"^numerical_grad\(eps\) needs a finite number > 0, got -1e-06$"),
        ({"eps": 1e-320}, ValueError, r"the step h=3e-320 \(eps=1e-320\) cannot move xs\[0\]=-3.0"),
        ({"eps": 1e308}, ValueError, r"the step h=inf \(eps=1e\+308\) cannot move xs\[0\]=-3.0"),
    ],
)
def test_numerical_grad_and_gradcheck_eps(kwargs: dict[str, Any], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        numerical_grad(lambda p: p[0] * p[0], [-3.0], **kwargs)
    with pytest.raises(error, match=words):
        gradcheck(lambda v: v[0] * v[0], [-3.0], **kwargs)


@pytest.mark.parametrize(
    ("bad", "error"),
    [(HUGE, ValueError), (float("nan"), ValueError), ("1", TypeError), (True, TypeError)],
    ids=["10**400", "nan", "str", "True"],
)
def test_numerical_grad_points(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"numerical_grad\(xs\[1\]\)"):
        numerical_grad(lambda p: p[0] + p[1], [1.0, bad])  # type: ignore[list-item]


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize(("bad", "error"), [(float("nan"), ValueError), (-1.0, ValueError), ("0", TypeError)])
def test_gradcheck_tolerances_cannot_disable_the_check(
    name: str, bad: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=rf"gradcheck(\({name}\)| needs {name})"):
        gradcheck(lambda v: v[0] * 3.0, [1.0], **{name: bad})


# ---------------------------------------------------------------------- tiny numbers work


@pytest.mark.parametrize("x", [5e-324, 1e-310, 2.2250738585072014e-308, -4e-320])
def test_subnormal_inputs_give_closed_form_gradients(x: float) -> None:
    v = Value(x, "v")
    out = v * 4.0 + v.tanh() + v.sigmoid() + v * v + v.exp()
    out.backward()
    s = 1.0 / (1.0 + math.exp(-x))
    expected = 4.0 + (1.0 - math.tanh(x) ** 2) + s * (1.0 - s) + 2.0 * x + math.exp(x)
    assert v.grad == pytest.approx(expected, rel=1e-15)
    assert (v * 4.0).data == x * 4.0


def test_products_into_the_subnormal_range() -> None:
    x = Value(1e-160, "x")
    y = x * x  # 1e-320, subnormal
    z = Value(5e-324) * Value(5e-324)  # underflows to 0.0, as floats do
    y.backward()
    assert (y.data, x.grad) == (1e-160 * 1e-160, 2e-160)
    assert z.data == 0.0
    e = Value(-745.0).exp()
    assert (e.data, e.local_grads) == (5e-324, (5e-324,))
    s = Value(-745.0).sigmoid()
    assert s.local_grads == (5e-324,)


def test_tiny_points_agree_with_central_differences() -> None:
    def f(v: list[Value]) -> Value:
        return (v[0] * v[1]).tanh() + v[0].sigmoid() * v[1] + v[1] * v[1] + v[0].exp()

    assert gradcheck(f, [1e-310, -3e-300])
    assert gradcheck(f, [2.5e-308, 5e-324])


def test_recording_is_on_after_an_interrupt_in_the_exit_even_while_its_traceback_is_kept() -> None:
    """Jupyter keeps the last traceback (sys.last_traceback): the interrupted exit's frame stays
    alive, yet recording is on and the tag is gone, because the exit callable the state refers to
    was freed with the with statement's stack."""
    from autograd import context

    def interrupt_on_entering_an_exit(frame: FrameType, event: str, arg: object) -> Any:
        if event == "call" and frame.f_code.co_name == "_leave":
            raise KeyboardInterrupt
        return None

    kept: list[BaseException] = []
    for block in ("no_grad", "scope"):
        sys.settrace(interrupt_on_entering_an_exit)
        try:
            if block == "no_grad":
                with no_grad():
                    pass
            else:
                with scope("L9"):
                    pass
        except KeyboardInterrupt as error:
            kept.append(error)  # the traceback and its frames stay alive, as in a notebook
        finally:
            sys.settrace(None)
    assert len(kept) == 2 and all(e.__traceback__ is not None for e in kept)
    assert is_grad_enabled() and current_scope() == ""
    x = Value(1.0)
    y = x * 2.0
    assert y.parents and y.scope == ""  # the next graph records, untagged
    assert context.no_grad_now() is None  # reading the stale state healed it


def test_threads_running_backward_at_once_keep_their_walks_apart() -> None:
    """Each walk marks nodes with its own token: concurrent backward passes over separate graphs
    (switching threads every few bytecodes) give every thread the exact closed-form gradients."""
    import sys

    def work(seed: int, results: list[bool]) -> None:
        for k in range(30):
            a, b = Value(0.5 + seed, label="a"), Value(-1.5 - k, label="b")
            terms = [a * b + a * float(i) for i in range(300)]  # a wide graph: a long walk
            out = sum(terms[1:], terms[0])
            out.backward()
            # d/da = sum_i (b + i) = 300 b + 44850; d/db = 300 a
            results.append(a.grad == 300 * b.data + 44850.0 and b.grad == 300 * a.data)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        results: list[list[bool]] = [[] for _ in range(4)]
        threads = [threading.Thread(target=work, args=(i, results[i])) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert [len(r) for r in results] == [30] * 4
    assert all(all(r) for r in results)
