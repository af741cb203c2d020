"""nn's optimizers stepping one weights array: what `fit(engine="tape")` trains with (see nn.tape_fit).

`array_optimizer(optimizer, index)` wraps an `SGD` or an `Adam` (one whose `step` is nn's own; a
subclass that overrides it gets None). `step(w, g)` applies the optimizer's rule (`sgd_update`,
`adam_update`: the functions its `step` applies parameter by parameter) to every entry at once,
so the numbers are bit for bit those of `optimizer.step()` on Values. The optimizer object stays
the one place of lr, momentum, betas and weight decay (read at every step, so a schedule that
changes `optimizer.lr` is obeyed); its per-parameter state (SGD's momentum buffer, Adam's moments)
and Adam's step count `t` live here while fit trains: `publish()` writes them into the optimizer
(its lists, its `t`) and `absorb(w)` reads them back.

All or nothing, as `Optimizer.step`: the new weights and state are computed aside and checked;
when an entry is inf or NaN the optimizer's own ValueError is raised and nothing has changed.
The weights (`w`), the state arrays and the step count (`t`: Adam's while fit trains) are held
here together and committed by one assignment of all three, so a KeyboardInterrupt (delivered in
CPython at a call or a backward jump, never inside one statement of stores) leaves them all from
before the step or all from after it: what fit publishes when it is interrupted.
"""

from __future__ import annotations

from typing import Any

from autograd.checks import first_non_finite_entry
from nn.optim import SGD, Adam, Optimizer, adam_update, sgd_update


class ArrayOptimizer:
    """Steps the entries `index` of a weights array (None: all, in order) as `optimizer` would its Values."""

    def __init__(self, optimizer: Optimizer, index: Any, np: Any) -> None:
        """Keep the optimizer and read its state into arrays (the weights come with the first
        `absorb(w)` or `step(w, g)`)."""
        self.optimizer = optimizer
        self.index = index
        self.np = np
        self.w: Any = None
        self.state: list[Any] = []
        self.names: list[str | None] = []
        self.t = 0
        self.lr: object = None  # the last lr checked (a float is immutable: the same object is still valid)
        # Overflow is checked on the results, so numpy's warnings are off while the rule runs; the
        # errstate is made once (as a decorator it sets numpy's state for each call, per thread on numpy 2).
        self._quiet_update = np.errstate(over="ignore", invalid="ignore")(self._update)
        self.absorb(None)

    def _lists(self) -> list[list[float]]:
        """The optimizer's per-parameter state lists, in the order `_rule` reads them (subclasses)."""
        raise NotImplementedError

    def _count(self) -> int:
        """The optimizer's step count (subclasses that count steps)."""
        return 0

    def _publish_count(self) -> None:
        """Write the step count into the optimizer (subclasses that count steps)."""

    def absorb(self, w: Any) -> None:
        """Take the weights array `w` and read the optimizer's state lists and step count (a learner
        may have changed them): committed together, as a step is."""
        lists = self._lists()
        state = [self.np.array(values, dtype=self.np.float64) for values in lists]
        t = self._count()
        # Each array's name in messages, as the optimizer's `states()` names its list (None: a list
        # it does not use now, SGD's buffer without momentum, which is not checked).
        named = {id(values): name for name, values in self.optimizer.states().items()}
        names = [named.get(id(values)) for values in lists]
        self.w, self.state, self.t, self.names = w, state, t, names

    def publish(self) -> None:
        """Write the state arrays into the optimizer's lists (the same list objects) and its step count."""
        for values, array in zip(self._lists(), self.state):
            values[:] = array.tolist()
        self._publish_count()

    def _rule(self, w: Any, g: Any, lr: float, t: int) -> tuple[Any, list[Any]]:
        """The new weights and state arrays at step t (subclasses)."""
        raise NotImplementedError

    def step(self, w: Any, g: Any) -> Any:
        """The weights after a step from `w` with the gradient `g` (tape order), kept as `self.w` and
        returned (a new array: `w` is not written); on a ValueError nothing has changed."""
        opt = self.optimizer
        lr = opt.lr if opt.lr is self.lr else opt._check_lr()
        self.lr = lr
        index = self.index
        t = self.t + 1
        if index is None:
            weights, state = self._quiet_update(w, g, lr, t)
        else:
            new, state = self._quiet_update(w[index], g[index], lr, t)
            weights = w.copy()
            weights[index] = new
        # Every check passed: the one commit point (no call between these stores, see the module docstring).
        self.w, self.state, self.t = weights, state, t
        return weights

    def _update(self, old: Any, grad: Any, lr: float, t: int) -> tuple[Any, list[Any]]:
        """The new weights and state, or the optimizer's ValueError when an entry is inf or NaN."""
        new, state = self._rule(old, grad, lr, t)
        opt = self.optimizer
        # As Optimizer._check_step: a state that went bad is the cause, so it is named first (a
        # state the optimizer does not use now, SGD's buffer without momentum, is not checked).
        for name, array in [*zip(self.names, state), ("", new)]:
            if name is None:
                continue
            i = first_non_finite_entry(array)
            if i is not None:
                raise opt.overflow_error(i, name, float(array[i]), float(old[i]), float(grad[i]), lr)
        return new, state


class ArraySGD(ArrayOptimizer):
    """`SGD` on arrays: its momentum buffer is the state (kept while momentum is 0, as `SGD` keeps it)."""

    optimizer: SGD

    def _lists(self) -> list[list[float]]:
        """The momentum buffer, whether momentum is on or not (it may be turned on again)."""
        return [self.optimizer.velocity]

    def _rule(self, w: Any, g: Any, lr: float, t: int) -> tuple[Any, list[Any]]:
        """`sgd_update` on every entry at once (without momentum it returns the buffer unchanged)."""
        opt = self.optimizer
        new, velocity = sgd_update(w, g, self.state[0], lr, opt.momentum, opt.weight_decay)
        return new, [velocity]


class ArrayAdam(ArrayOptimizer):
    """`Adam` on arrays: its moments m and v are the state, its `t` the step count."""

    optimizer: Adam

    def _lists(self) -> list[list[float]]:
        """The moments m and v, in the order `_rule` reads them (a subclass may list its states otherwise)."""
        return [self.optimizer.m, self.optimizer.v]

    def _count(self) -> int:
        """Adam's steps so far."""
        return self.optimizer.t

    def _publish_count(self) -> None:
        """The steps that stood, counted as `Adam.step` counts them."""
        self.optimizer.t = self.t

    def _rule(self, w: Any, g: Any, lr: float, t: int) -> tuple[Any, list[Any]]:
        """`adam_update` on every entry at once, at step t."""
        m, v = self.state
        new, m, v = adam_update(w, g, m, v, lr, self.optimizer, t, self.np.sqrt)
        return new, [m, v]


def array_optimizer(optimizer: Optimizer, index: Any, np: Any) -> ArrayOptimizer | None:
    """The array form of nn's SGD or Adam (None for any other optimizer, or a subclass's own `step`)."""
    for cls, array_cls in ((SGD, ArraySGD), (Adam, ArrayAdam)):
        if isinstance(optimizer, cls) and type(optimizer).step is cls.step:
            return array_cls(optimizer, index, np)
    return None
