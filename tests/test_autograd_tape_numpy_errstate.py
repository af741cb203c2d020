"""The NumPy tape silences numpy's float warnings only while its passes run, whatever the caller set.

Its forward and backward passes check for inf and NaN themselves (one sum per pass), so numpy's
warnings are off inside them; the errstates are made once per engine and applied per call. These
tests pin what that must keep: a learner's own `np.errstate(all="raise")` neither turns an overflow
inside the tape into a FloatingPointError nor is changed by a run, and each thread keeps its own.
"""

from __future__ import annotations

import threading
import warnings

import pytest

from autograd import Value, compile

np = pytest.importorskip("numpy")


def overflowing_tape() -> tuple[object, Value]:
    """w * x * x on NumPy (w the parameter): x = 1e200 overflows the forward pass; x = 1e154, the gradient."""
    x, w = Value(0.0), Value(1.0, label="w")
    return compile(w * x * x, [x], [w], backend="numpy"), w


def test_a_forward_overflow_is_the_tapes_error_under_the_callers_raise() -> None:
    """Under errstate(all='raise') the overflow is the tape's ValueError naming the step; the state stays."""
    tape, _ = overflowing_tape()
    before = np.geterr()
    with np.errstate(all="raise"):
        with pytest.raises(ValueError, match=r"'\*'.*sample 1.*overflows"):
            tape.run([[1.0, 1e200]])  # type: ignore[attr-defined]
        assert set(np.geterr().values()) == {"raise"}
    assert np.geterr() == before


def test_a_backward_overflow_is_the_gradients_error_under_the_callers_raise() -> None:
    """dw = x * x per sample sums past the largest float: tape.gradient's ValueError, not numpy's."""
    tape, w = overflowing_tape()
    w.data = 1e-300  # the forward values stay finite, the gradient x * x does not
    with np.errstate(all="raise"):
        tape.run([[1e154, 1e154, 1e154]])  # type: ignore[attr-defined]
        message = r"tape.gradient: the gradient at params\[0\] \(label 'w'\) overflows"
        with pytest.raises(ValueError, match=message):
            tape.gradient()  # type: ignore[attr-defined]
        assert np.geterr()["over"] == "raise" and np.geterr()["invalid"] == "raise"


def test_a_finite_run_warns_nothing_and_leaves_numpys_state_as_it_was() -> None:
    """A clean run and gradient emit no warning and leave np.geterr() exactly as before."""
    tape, _ = overflowing_tape()
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tape.run([[1.0, 2.0, -3.0]])  # type: ignore[attr-defined]
        assert tape.gradient().tolist() == [14.0]  # type: ignore[attr-defined]
    assert np.geterr() == before


def test_each_thread_keeps_its_own_errstate() -> None:
    """Runs in another thread (its own tape) do not change this thread's errstate, nor it theirs."""
    tape, _ = overflowing_tape()
    theirs, _ = overflowing_tape()
    seen: list[str] = []

    def other() -> None:
        with np.errstate(over="warn"):
            for _ in range(50):
                theirs.run([[1.0, 2.0]])  # type: ignore[attr-defined]
            seen.append(np.geterr()["over"])

    with np.errstate(over="raise"):
        thread = threading.Thread(target=other)
        thread.start()
        for _ in range(50):
            tape.run([[3.0]])  # type: ignore[attr-defined]
            assert np.geterr()["over"] == "raise"
        thread.join()
    assert seen == ["warn"]


@pytest.mark.parametrize("errstate", [{}, {"all": "raise"}])
def test_finite_gradients_whose_sum_overflows_are_returned_quietly(errstate: dict[str, str]) -> None:
    """Two gradients of 1e308 each are finite (their sum, the tape's finiteness check, is not): they
    are returned with no RuntimeWarning, and no FloatingPointError under the caller's raise."""
    x, a, b = Value(0.0), Value(1e-300), Value(1e-300)
    tape = compile(a * x + b * x, [x], [a, b], backend="numpy")
    with warnings.catch_warnings(), np.errstate(**errstate):
        warnings.simplefilter("error")
        tape.run([[1e308]])  # type: ignore[attr-defined]
        assert tape.gradient().tolist() == [1e308, 1e308]  # type: ignore[attr-defined]
