"""Optimizers: gradient descent w <- w - lr * dE/dw (SGD, with momentum) and Adam, PyTorch's rules."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from autograd import Value


def _positive(value: object, where: str) -> float:
    """`value` as a finite float > 0, or a TypeError/ValueError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} needs a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{where} needs a finite number > 0, got {value!r}")
    return number


def _in_range(value: object, where: str, low: float, high: float, high_open: bool) -> float:
    """`value` as a float in [low, high) or [low, high], or a TypeError/ValueError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} needs a number, got {type(value).__name__} {value!r}")
    number = float(value)
    ok = low <= number < high if high_open else low <= number <= high
    if not (math.isfinite(number) and ok):
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{where} needs a number in {interval}, got {value!r}")
    return number


class Optimizer:
    """Holds the parameters and the learning rate; subclasses define `step`."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        """Keep the parameters (a list, in order) and a positive learning rate."""
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} needs at least one parameter, got none")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__} params[{i}] must be a Value, got {type(p).__name__}")
        self.lr = _positive(lr, f"{type(self).__name__}(lr)")

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 before the next backward pass."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its grad."""
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    def _check_lr(self) -> float:
        """The current lr (it may be changed between steps for a schedule), checked again."""
        return _positive(self.lr, f"{type(self).__name__}.lr")


class SGD(Optimizer):
    """Gradient descent with optional momentum and L2 weight decay (PyTorch's formulation).

    g = grad + weight_decay * w;  v = momentum * v + g;  w <- w - lr * v.
    With momentum=0 and weight_decay=0 this is the posts' update w <- w - lr * dE/dw.
    """

    def __init__(
        self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        """Momentum in [0, 1), weight_decay >= 0."""
        super().__init__(params, lr)
        self.momentum = _in_range(momentum, "SGD(momentum)", 0.0, 1.0, high_open=True)
        self.weight_decay = _in_range(weight_decay, "SGD(weight_decay)", 0.0, math.inf, high_open=True)
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        """One update of every parameter."""
        lr = self._check_lr()
        momentum, decay, velocity = self.momentum, self.weight_decay, self.velocity
        for i, p in enumerate(self.params):
            g = p.grad + decay * p.data if decay else p.grad
            if momentum:
                g = velocity[i] = momentum * velocity[i] + g
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch's: bias-corrected running means of g and g^2.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w <- w - lr * m_hat / (sqrt(v_hat) + eps)
    with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t). `eps` only keeps the step finite when
    v_hat is 0 (a parameter whose gradient has always been 0).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        """betas in [0, 1), eps > 0, weight_decay >= 0 (added to the gradient, like PyTorch's Adam)."""
        super().__init__(params, lr)
        if not isinstance(betas, tuple) or len(betas) != 2:
            raise TypeError(f"Adam(betas) needs a pair of numbers, got {betas!r}")
        self.betas = (
            _in_range(betas[0], "Adam(betas[0])", 0.0, 1.0, high_open=True),
            _in_range(betas[1], "Adam(betas[1])", 0.0, 1.0, high_open=True),
        )
        self.eps = _positive(eps, "Adam(eps)")
        self.weight_decay = _in_range(weight_decay, "Adam(weight_decay)", 0.0, math.inf, high_open=True)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def step(self) -> None:
        """One update of every parameter."""
        lr = self._check_lr()
        b1, b2 = self.betas
        self.t += 1
        c1 = 1.0 - b1**self.t
        c2 = 1.0 - b2**self.t
        m, v, eps, decay = self.m, self.v, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad + decay * p.data if decay else p.grad
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)
