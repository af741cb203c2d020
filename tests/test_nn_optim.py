"""Optimizers: updates equal the closed-form rules and PyTorch's; bad settings raise."""

from __future__ import annotations

import math

import pytest

import nn
from autograd import Value


def quadratic(params: list[Value]) -> Value:
    """E = sum (p_i - i)^2 * (i + 1), a loss with known gradient 2 (p_i - i)(i + 1)."""
    total = Value(0.0)
    for i, p in enumerate(params):
        total = total + (p - i) ** 2 * (i + 1)
    return total


def test_sgd_is_the_posts_update() -> None:
    p = [Value(1.0), Value(-2.0)]
    opt = nn.SGD(p, lr=0.1)
    quadratic(p).backward()
    opt.step()
    # w <- w - lr * dE/dw with dE/dw = 2 (w - i)(i + 1)
    assert [v.data for v in p] == pytest.approx([1.0 - 0.1 * 2 * 1.0, -2.0 - 0.1 * 2 * (-3.0) * 2])


def test_sgd_momentum_and_weight_decay_by_hand() -> None:
    p = [Value(1.0)]
    opt = nn.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)
    w, v = 1.0, 0.0
    for _ in range(3):
        opt.zero_grad()
        quadratic(p).backward()
        opt.step()
        g = 2 * w + 0.01 * w
        v = 0.9 * v + g
        w -= 0.1 * v
    assert p[0].data == pytest.approx(w, rel=1e-14)


def test_adam_by_hand() -> None:
    p = [Value(0.5)]
    opt = nn.Adam(p, lr=0.01)
    w, m, s = 0.5, 0.0, 0.0
    for t in range(1, 6):
        opt.zero_grad()
        quadratic(p).backward()
        opt.step()
        g = 2 * w
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        w -= 0.01 * (m / (1 - 0.9**t)) / (math.sqrt(s / (1 - 0.999**t)) + 1e-8)
    assert p[0].data == pytest.approx(w, rel=1e-14)


@pytest.mark.parametrize("kind", ["sgd", "sgd_momentum", "adam"])
def test_optimizers_match_pytorch(kind: str) -> None:
    torch = pytest.importorskip("torch", reason="needs torch: pip install 'axongrad[torch]'")
    start = [0.3, -1.2, 2.5]
    ours = [Value(x) for x in start]
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt: nn.Optimizer
    if kind == "sgd":
        opt, topt = nn.SGD(ours, lr=0.05), torch.optim.SGD([theirs], lr=0.05)
    elif kind == "sgd_momentum":
        opt = nn.SGD(ours, lr=0.05, momentum=0.8, weight_decay=0.1)
        topt = torch.optim.SGD([theirs], lr=0.05, momentum=0.8, weight_decay=0.1)
    else:
        opt, topt = nn.Adam(ours, lr=0.05), torch.optim.Adam([theirs], lr=0.05)
    weights = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    targets = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    for _ in range(10):
        opt.zero_grad()
        quadratic(ours).backward()
        opt.step()
        topt.zero_grad()
        ((theirs - targets) ** 2 * weights).sum().backward()
        topt.step()
    assert [v.data for v in ours] == pytest.approx(theirs.tolist(), rel=1e-12, abs=1e-12)


def test_zero_grad_clears_every_parameter() -> None:
    p = [Value(1.0), Value(2.0)]
    opt = nn.SGD(p, lr=0.1)
    quadratic(p).backward()
    opt.zero_grad()
    assert [v.grad for v in p] == [0.0, 0.0]


def test_lr_can_change_between_steps_but_stays_checked() -> None:
    p = [Value(1.0)]
    opt = nn.SGD(p, lr=0.1)
    opt.lr = -1.0
    with pytest.raises(ValueError, match=r"SGD.lr needs a finite number > 0, got -1.0"):
        opt.step()


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: nn.SGD(p, lr=0.0), ValueError, r"SGD\(lr\) needs a finite number > 0, got 0.0"),
        (lambda p: nn.SGD(p, lr=-0.1), ValueError, r"SGD\(lr\)"),
        (lambda p: nn.Adam(p, lr=0), ValueError, r"Adam\(lr\)"),
        (lambda p: nn.Adam(p, lr=math.inf), ValueError, r"Adam\(lr\)"),
        (lambda p: nn.SGD(p, lr="0.1"), TypeError, r"^SGD\(lr\) needs a finite number > 0, got str '0.1'$"),  # type: ignore[arg-type]
        (lambda p: nn.SGD(p, lr=0.1, momentum=1.0), ValueError, r"momentum.*\[0, 1\)"),
        (lambda p: nn.SGD(p, lr=0.1, weight_decay=-1.0), ValueError, "weight_decay"),
        (lambda p: nn.Adam(p, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda p: nn.Adam(p, eps=0.0), ValueError, "eps"),
        (lambda p: nn.SGD([], lr=0.1), ValueError, "at least one parameter"),
        (lambda p: nn.SGD([1.0], lr=0.1), TypeError, r"^SGD\(params\[0\]\) needs a Value, got 1.0$"),  # type: ignore[list-item]
    ],
)
def test_bad_optimizer_settings(make: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make([Value(1.0)])  # type: ignore[operator]


def overflow_cases() -> list[tuple[nn.Optimizer, list[Value], float, str]]:
    """(optimizer, params, grad, the cause its error names): updates that overflow a float."""
    sgd_p = [Value(1.0, label="w0"), Value(-2.0, label="w1")]
    mom_p = [Value(1.0, label="w0"), Value(-2.0, label="w1")]
    adam_p = [Value(1.0, label="w0"), Value(-2.0, label="w1")]
    return [
        (nn.SGD(sgd_p, lr=1e300), sgd_p, 1e10, "the update would make it -inf"),
        (nn.SGD(mom_p, lr=1e300, momentum=0.9), mom_p, 1e10, "the update would make it -inf"),
        (nn.Adam(adam_p, lr=0.1), adam_p, 1e160, "second moment v (running mean of grad^2) overflows"),
    ]


@pytest.mark.parametrize("case", range(3))
def test_an_update_that_overflows_is_undone_and_named(case: int) -> None:
    opt, params, grad, cause = overflow_cases()[case]
    params[0].grad, params[1].grad = 0.5, 0.25
    opt.step()  # one clean step first: the state to keep is not the initial one
    state = {k: list(v) for k, v in opt.states().items()}
    before = [p.data for p in params]
    t = getattr(opt, "t", None)
    params[1].grad = grad
    with pytest.raises(ValueError, match="params\\[1\\] \\(w1\\)") as info:
        opt.step()
    message = str(info.value)
    assert cause in message and f"grad={grad!r}" in message and "smaller learning rate" in message
    assert [p.data for p in params] == before  # undone: nothing half-updated
    assert {k: list(v) for k, v in opt.states().items()} == state
    assert getattr(opt, "t", None) == t
    params[1].grad = 0.25
    opt.step()  # and the optimizer goes on from where it was
    assert all(math.isfinite(p.data) for p in params) and [p.data for p in params] != before


def test_momentum_buffer_overflow_is_named_even_when_it_comes_first() -> None:
    p = Value(0.0, label="w")
    opt = nn.SGD([p], lr=1e-300, momentum=0.5)
    p.grad = 1.5e308
    opt.step()  # v = 1.5e308, w moves by 1.5e8: fine
    with pytest.raises(ValueError, match="momentum buffer overflows a float \\(inf"):
        opt.step()  # v = 0.75e308 + 1.5e308 = inf
    assert p.data == pytest.approx(-1.5e8) and opt.velocity == [1.5e308]


def test_adam_keeps_moving_where_v_hat_alone_would_overflow() -> None:
    """g = 1e155: v = (1 - b2) g^2 = 1e307 is finite but v / (1 - b2) is not; sqrt(v) / sqrt(1 - b2) is."""
    p = Value(1.0)
    opt = nn.Adam([p], lr=0.1)
    p.grad = 1e155
    opt.step()
    assert p.data == pytest.approx(1.0 - 0.1)  # Adam's first step is lr * sign(g)


def test_a_step_interrupted_halfway_is_undone() -> None:
    class Grad(float):
        """A grad that raises KeyboardInterrupt when the update reads it (an interrupt mid-loop)."""

        def __add__(self, other: object) -> float:
            raise KeyboardInterrupt

        __radd__ = __rmul__ = __mul__ = __add__

    for make in (lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.1)):
        params = [Value(float(i)) for i in range(4)]
        opt = make(params)
        for p in params:
            p.grad = 1.0
        opt.step()
        before = [p.data for p in params]
        state = {k: list(v) for k, v in opt.states().items()}
        params[2].grad = Grad(1.0)
        with pytest.raises(KeyboardInterrupt):
            opt.step()
        assert [p.data for p in params] == before  # parameters 0 and 1 were put back
        assert {k: list(v) for k, v in opt.states().items()} == state
