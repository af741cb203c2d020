"""StaleGradWarning: backward warns once when it adds onto grads another root's backward left."""

from __future__ import annotations

import math
import threading
import warnings

import pytest

import autograd
import nn
from autograd import Value

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def lecture_loop(model: nn.MLP, steps: int, zero_grad: bool) -> float:
    """Karpathy's loop: forward, squared error summed, backward, p.data -= 0.05 * p.grad."""
    loss = Value(0.0)
    for _ in range(steps):
        loss = sum(((model(x) - y) ** 2 for x, y in zip(XS, YS)), start=Value(0.0))  # type: ignore[operator]
        if zero_grad:
            model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    return loss.data


def test_a_loop_without_zero_grad_warns_exactly_once_at_the_users_line() -> None:
    model = nn.lecture.MLP(3, [4, 4, 1], seed=0)
    with pytest.warns(autograd.StaleGradWarning) as caught:
        lecture_loop(model, 10, zero_grad=False)
    assert len(caught) == 1
    assert caught[0].filename == __file__
    text = str(caught[0].message)
    assert "zero_grad()" in text and "autograd.accumulating()" in text
    assert "41 of 58 leaves" in text and "in scope 'L" in text


def test_the_same_loop_with_zero_grad_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lecture_loop(nn.lecture.MLP(3, [4, 4, 1], seed=0), 10, zero_grad=True)


def test_backward_twice_on_the_same_root_does_not_warn_and_still_accumulates() -> None:
    w = Value(3.0)
    loss = w * w
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward()
        loss.backward()
    assert w.grad == 12.0


def test_a_new_root_that_reuses_a_freed_roots_id_still_warns() -> None:
    w = Value(2.0)
    ids = set()
    with pytest.warns(autograd.StaleGradWarning) as caught:
        for k in range(5):
            loss = w * float(k + 1)
            ids.add(id(loss))
            loss.backward()
            del loss  # the next root is likely to get the same id
    assert len(caught) == 1
    assert w.grad == 1 + 2 + 3 + 4 + 5


def test_accumulating_sums_two_losses_without_a_warning() -> None:
    w = Value(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with autograd.accumulating():
            (w * 3.0).backward()
            (w * w).backward()
    assert w.grad == 3.0 + 4.0
    with pytest.warns(autograd.StaleGradWarning):  # outside the block the check is back
        (w * 5.0).backward()


def test_mending_the_loop_rearms_the_warning() -> None:
    w = Value(1.0)
    with pytest.warns(autograd.StaleGradWarning) as caught:
        (w * 2.0).backward()
        (w * 3.0).backward()  # warns
        (w * 4.0).backward()  # same run: quiet
        w.grad = 0.0
        (w * 5.0).backward()  # every leaf at zero: the run ends
        (w * 6.0).backward()  # a new mistake: warns again
    assert len(caught) == 2


def test_it_is_silenced_like_any_warning_and_is_a_userwarning() -> None:
    assert issubclass(autograd.StaleGradWarning, UserWarning)
    w = Value(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", autograd.StaleGradWarning)
        (w * 2.0).backward()
        (w * 3.0).backward()
    assert w.grad == 5.0


def test_each_thread_keeps_its_own_record() -> None:
    w = Value(1.0)
    (w * 2.0).backward()  # this thread's last root
    caught: list[list[warnings.WarningMessage]] = []

    def other() -> None:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            v = Value(1.0)
            loss = v * 3.0
            loss.backward()
            loss.backward()  # the same root in this thread: quiet
        caught.append(got)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert caught == [[]]


def test_a_bad_root_is_still_a_type_error() -> None:
    with pytest.raises(TypeError, match="needs a Value"):
        autograd.backward(3.0)


def test_fit_never_warns() -> None:
    xs, ys = nn.xor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.fit(nn.MLP(2, [3, 1], seed=0), xs, ys, epochs=3, record=1, progress=False)
        nn.diagnose(nn.MLP(2, [3, 1], seed=0), xs, ys)


def test_walking_or_drawing_between_two_backwards_of_one_root_does_not_warn() -> None:
    w = Value(3.0)
    loss = (w * w).tanh()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward()
        autograd.topological_order(loss)  # marks every node, as viz does when it draws
        loss.backward()
    assert w.grad == pytest.approx(2 * 6.0 * (1 - math.tanh(9.0) ** 2), rel=1e-12)
