"""nn's optimizers stepping one weights array: what `fit(engine="tape")` trains with (see nn.tape_fit).

`array_optimizer(optimizer, index)` wraps an `SGD` or an `Adam` (one whose `step` is nn's own; a
subclass that overrides it gets None). `step(w, g)` applies the optimizer's rule (`sgd_update`,
`adam_update`: the functions its `step` applies parameter by parameter) to every entry at once,
so the numbers are bit for bit those of `optimizer.step()` on Values. The optimizer object stays
the one place of lr, momentum, betas and weight decay (read at every step, so a schedule that
changes `optimizer.lr` is obeyed) and of Adam's step count `t`; its per-parameter state (SGD's
momentum buffer, Adam's moments) lives here as arrays while fit trains: `publish()` writes it into
the optimizer's lists and `absorb()` reads it back.

All or nothing, as `Optimizer.step`: the new weights and state are computed aside and checked;
when an entry is inf or NaN the optimizer's own ValueError is raised and nothing has changed.
"""

from __future__ import annotations

from typing import Any

from autograd.checks import first_non_finite_entry
from nn.optim import SGD, Adam, Optimizer, adam_update, sgd_update


class ArrayOptimizer:
    """Steps the entries `index` of a weights array (None: all, in order) as `optimizer` would its Values."""

    def __init__(self, optimizer: Optimizer, index: Any, np: Any) -> None:
        """Keep the optimizer and read its state into arrays."""
        self.optimizer = optimizer
        self.index = index
        self.np = np
        self.state: list[Any] = []
        self.lr: object = None  # the last lr checked (a float is immutable: the same object is still valid)
        # Overflow is checked on the results, so numpy's warnings are off while the rule runs; the
        # errstate is made once (as a decorator it sets numpy's state for each call, per thread on numpy 2).
        self._quiet_update = np.errstate(over="ignore", invalid="ignore")(self._update)
        self.absorb()

    def _lists(self) -> list[list[float]]:
        """The optimizer's per-parameter state lists, in the order of `self.state` (its `states()`)."""
        return list(self.optimizer.states().values())

    def absorb(self) -> None:
        """Read the optimizer's state lists (a learner may have changed them)."""
        self.state = [self.np.array(values, dtype=self.np.float64) for values in self._lists()]

    def publish(self) -> None:
        """Write the state arrays into the optimizer's lists (the same list objects)."""
        for values, array in zip(self._lists(), self.state):
            values[:] = array.tolist()

    def _rule(self, w: Any, g: Any, lr: float) -> tuple[Any, list[Any]]:
        """The new weights and state arrays (subclasses)."""
        raise NotImplementedError

    def step(self, w: Any, g: Any) -> Any:
        """The weights after a step from the gradient `g` (tape order); on a ValueError nothing has changed.

        Stepping every entry, the result is a new array (no copy back into `w`); stepping some
        entries (`index`), they are updated in `w`, which is returned.
        """
        opt = self.optimizer
        lr = opt.lr if opt.lr is self.lr else opt._check_lr()
        self.lr = lr
        index = self.index
        old, grad = (w, g) if index is None else (w[index], g[index])
        new, state = self._quiet_update(old, grad, lr)
        # Every check passed: commit (straight-line assignments, no call between them to interrupt).
        if index is not None:
            w[index] = new
        self.state = state
        self._committed()
        return new if index is None else w

    def _update(self, old: Any, grad: Any, lr: float) -> tuple[Any, list[Any]]:
        """The new weights and state, or the optimizer's ValueError when an entry is inf or NaN."""
        new, state = self._rule(old, grad, lr)
        opt = self.optimizer
        # As Optimizer._check_step: a state that went bad is the cause, so it is named first (a
        # state the optimizer does not use now, SGD's buffer without momentum, is not checked).
        for name, array in [*zip(opt.states(), state), ("", new)]:
            i = first_non_finite_entry(array)
            if i is not None:
                raise opt.overflow_error(i, name, float(array[i]), float(old[i]), float(grad[i]), lr)
        return new, state

    def _committed(self) -> None:
        """After a step stood (Adam counts it)."""


class ArraySGD(ArrayOptimizer):
    """`SGD` on arrays: its momentum buffer is the state (kept while momentum is 0, as `SGD` keeps it)."""

    optimizer: SGD

    def _lists(self) -> list[list[float]]:
        """The momentum buffer, whether momentum is on or not (it may be turned on again)."""
        return [self.optimizer.velocity]

    def _rule(self, w: Any, g: Any, lr: float) -> tuple[Any, list[Any]]:
        """`sgd_update` on every entry at once (without momentum it returns the buffer unchanged)."""
        opt = self.optimizer
        new, velocity = sgd_update(w, g, self.state[0], lr, opt.momentum, opt.weight_decay)
        return new, [velocity]


class ArrayAdam(ArrayOptimizer):
    """`Adam` on arrays: its moments m and v are the state; `t` stays on the optimizer."""

    optimizer: Adam

    def _rule(self, w: Any, g: Any, lr: float) -> tuple[Any, list[Any]]:
        """`adam_update` on every entry at once, at step t + 1."""
        m, v = self.state
        new, m, v = adam_update(w, g, m, v, lr, self.optimizer, self.optimizer.t + 1, self.np.sqrt)
        return new, [m, v]

    def _committed(self) -> None:
        """The step stood: count it, as `Adam.step` does."""
        self.optimizer.t += 1


def array_optimizer(optimizer: Optimizer, index: Any, np: Any) -> ArrayOptimizer | None:
    """The array form of nn's SGD or Adam (None for any other optimizer, or a subclass's own `step`)."""
    for cls, array_cls in ((SGD, ArraySGD), (Adam, ArrayAdam)):
        if isinstance(optimizer, cls) and type(optimizer).step is cls.step:
            return array_cls(optimizer, index, np)
    return None
