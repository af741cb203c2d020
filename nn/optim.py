"""Optimizers: gradient descent w <- w - lr * dE/dw (SGD, with momentum) and Adam, PyTorch's rules.

Each rule is written once, as a function of numbers (`sgd_update`, `adam_update`) that works on
floats and, unchanged, on NumPy arrays: `step` applies it parameter by parameter, and
`fit(engine="tape")` to every weight at once (see `nn.array_optim`), with the same float operations.

Every `step` is all or nothing: when an update would leave a parameter or the optimizer's state
(SGD's momentum buffer, Adam's moments) infinite or NaN, the step is undone and a ValueError names
the parameter, the cause and what to try. A float overflows silently, so without this check
training goes on with weights at -inf, or Adam stops moving a parameter whose v overflowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from autograd import Value, first_non_finite
from autograd.checks import needs, real_number, sequence

_data_of = attrgetter("data")


def sgd_update(
    w: Any, grad: Any, velocity: Any, lr: float, momentum: float, weight_decay: float
) -> tuple[Any, Any]:
    """SGD's rule on a weight (a float or an array): (new w, new momentum buffer).

    g = grad + weight_decay * w;  velocity = momentum * velocity + g (used as g when momentum > 0);
    w - lr * g.
    """
    g = grad + weight_decay * w if weight_decay else grad
    if momentum:
        g = velocity = momentum * velocity + g
    return w - lr * g, velocity


def adam_update(
    w: Any, grad: Any, m: Any, v: Any, lr: float, adam: Adam, t: int, sqrt: Callable[[Any], Any] = math.sqrt
) -> tuple[Any, Any, Any]:
    """Adam's rule on a weight (a float or an array) at step t: (new w, new m, new v).

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w - lr * m_hat / (sqrt(v_hat) + eps), with
    g = grad + weight_decay * w and the bias corrections of `Adam.corrections(t)`. `sqrt` is
    math.sqrt for floats, numpy.sqrt for arrays (both correctly rounded: the same numbers).
    """
    b1, b2 = adam.betas
    c1, root_c2 = adam.corrections(t)
    g = grad + adam.weight_decay * w if adam.weight_decay else grad
    m = b1 * m + (1.0 - b1) * g
    v = b2 * v + (1.0 - b2) * g * g
    return w - lr * (m / c1) / (sqrt(v) / root_c2 + adam.eps), m, v


def describe(p: Value) -> str:
    """A parameter's name for messages: its scope and label as nn sets them (e.g. "L1.n3.w0")."""
    return ".".join(part for part in (p.scope, p.label) if part) or "unlabelled"


class Optimizer:
    """Holds the parameters and the learning rate; subclasses define `step`."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        """Keep the parameters (a list, in order) and a positive learning rate."""
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} needs at least one parameter, got none")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(needs(f"{type(self).__name__}(params[{i}])", "a Value", p))
        self.lr = real_number(lr, f"{type(self).__name__}(lr)", above=0)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 before the next backward pass."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its grad."""
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    def _check_lr(self) -> float:
        """The current lr (it may be changed between steps for a schedule), checked again."""
        return real_number(self.lr, f"{type(self).__name__}.lr", above=0)

    def states(self) -> dict[str, list[float]]:
        """The per-parameter state lists by their name in messages (none here; see SGD and Adam)."""
        return {}

    def _snapshot(self) -> tuple[list[float], list[list[float]]]:
        """The parameters' values and copies of the state lists, to undo a step that overflows."""
        return list(map(_data_of, self.params)), [s[:] for s in self.states().values()]

    def _check_step(self, before: tuple[list[float], list[list[float]]], lr: float) -> None:
        """After an update: undo it and raise a ValueError if a parameter or state is not finite."""
        data = list(map(_data_of, self.params))
        states = self.states()
        # A state that went bad is the cause (v overflowed, so the step of w vanished): look there first.
        bad = [(name, first_non_finite(values)) for name, values in states.items()]
        name, i = next(((n, j) for n, j in bad if j is not None), ("", first_non_finite(data)))
        if i is None:
            return
        error = self.overflow_error(
            i, name, states[name][i] if name else data[i], before[0][i], self.params[i].grad, lr
        )
        self._restore(before)
        raise error

    def overflow_error(
        self, i: int, state: str, value: float, data: float, grad: float, lr: float
    ) -> ValueError:
        """The error of a step undone because params[i] (`state` "") or its `state` would become `value`.

        `data` and `grad` are the parameter's numbers the step started from.
        """
        was = f"data={data!r}, grad={grad!r}, lr={lr!r}"
        if state:
            cause = f"its {state} overflows a float ({value!r}; {was})"
        else:
            cause = f"the update would make it {value!r} ({was})"
        hint = (
            "the grad itself is not finite (set by hand, or an overflow in backward): check the loss"
            if grad - grad != 0.0
            else "try a smaller learning rate (or scale the inputs and targets)"
        )
        return ValueError(
            f"{type(self).__name__}.step: params[{i}] ({describe(self.params[i])}): {cause}; the step "
            f"was undone (parameters and optimizer state are as before it): {hint}"
        )

    def _restore(self, before: tuple[list[float], list[list[float]]]) -> None:
        """Put back the parameters and states of `_snapshot` (a step that failed or was interrupted)."""
        for p, x in zip(self.params, before[0]):
            p.data = x
        for values, copy in zip(self.states().values(), before[1]):
            values[:] = copy


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
        self.momentum = real_number(momentum, "SGD(momentum)", at_least=0, below=1)
        self.weight_decay = real_number(weight_decay, "SGD(weight_decay)", at_least=0)
        self.velocity = [0.0] * len(self.params)

    def states(self) -> dict[str, list[float]]:
        """The momentum buffer (when momentum > 0)."""
        return {"momentum buffer": self.velocity} if self.momentum else {}

    def step(self) -> None:
        """One update of every parameter (undone, with a ValueError, if anything overflows)."""
        lr = self._check_lr()
        before = self._snapshot()
        momentum, decay, velocity = self.momentum, self.weight_decay, self.velocity
        try:  # all or nothing, also for a KeyboardInterrupt halfway through the parameters
            for i, p in enumerate(self.params):
                p.data, velocity[i] = sgd_update(p.data, p.grad, velocity[i], lr, momentum, decay)
        except BaseException:
            self._restore(before)
            raise
        self._check_step(before, lr)


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch's: bias-corrected running means of g and g^2.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w <- w - lr * m_hat / (sqrt(v_hat) + eps)
    with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t). `eps` only keeps the step finite when
    v_hat is 0 (a parameter whose gradient has always been 0). sqrt(v_hat) is computed as
    sqrt(v) / sqrt(1 - b2^t), as PyTorch does: v / (1 - b2^t) alone could overflow while v does not.
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
        b1, b2 = sequence(betas, "Adam(betas)", "numbers", length=2, kind="tuple")
        self.betas = (
            real_number(b1, "Adam(betas[0])", at_least=0, below=1),
            real_number(b2, "Adam(betas[1])", at_least=0, below=1),
        )
        self.eps = real_number(eps, "Adam(eps)", above=0)
        self.weight_decay = real_number(weight_decay, "Adam(weight_decay)", at_least=0)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def corrections(self, t: int) -> tuple[float, float]:
        """The bias corrections at step t: 1 - b1^t and sqrt(1 - b2^t) (see the class docstring)."""
        b1, b2 = self.betas
        return 1.0 - b1**t, math.sqrt(1.0 - b2**t)

    def states(self) -> dict[str, list[float]]:
        """The running means of g (m) and of g^2 (v)."""
        return {
            "first moment m (running mean of grad)": self.m,
            "second moment v (running mean of grad^2)": self.v,
        }

    def step(self) -> None:
        """One update of every parameter (undone, with a ValueError, if anything overflows)."""
        lr = self._check_lr()
        before = self._snapshot()
        t = self.t + 1
        m, v = self.m, self.v
        try:  # all or nothing, also for a KeyboardInterrupt halfway through the parameters
            for i, p in enumerate(self.params):
                p.data, m[i], v[i] = adam_update(p.data, p.grad, m[i], v[i], lr, self, t)
        except BaseException:
            self._restore(before)
            raise
        self._check_step(before, lr)
        self.t = t  # counted only once the step has stood
