"""The forgotten `zero_grad()`: a warning when backward adds onto grads another root's backward left.

Leaves accumulate across `backward()` calls, as in PyTorch: that is how two losses' gradients
are summed, and why a training loop must clear the parameters' grads before each backward. A loop
that forgets adds every step's gradients onto all the earlier ones (micrograd's most-asked
question), and the weights wander off while nothing looks wrong.

So `backward()` warns (StaleGradWarning) when a leaf of its graph already holds a non-zero grad
and the previous backward in this thread (or asyncio task) was of a different root. Rules:
- Once per run: after a warning, the next ones stay quiet until a backward finds every leaf at
  zero again (the loop was mended). A training loop without `zero_grad()` warns exactly once.
- Calling backward twice on the same root does not warn: the issue is another root's grads.
  (It adds the same gradients a second time, as PyTorch would with retain_graph=True.)
- To add gradients on purpose, run the backwards inside `with autograd.accumulating():`.
- To silence it: `warnings.simplefilter("ignore", autograd.StaleGradWarning)`.
- A Value takes attributes of your own, so `p.gard = 0` (a typo of `grad`) sets a new attribute
  and leaves the grad as it was: this warning is where that shows, and it names the attribute.

Cost: one C-level `any()` over the list of leaf grads `backward` reads anyway, and two context
variable reads; no field on Value, nothing per edge. "The same root" is the last root's id and
the grad of 1.0 its backward seeded (drawing or walking the graph in between changes neither), so
a new root that reuses a freed one's id (its grad is 0.0) is never mistaken for it.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class StaleGradWarning(UserWarning):
    """backward() added onto leaf grads an earlier backward of another root left (zero_grad() forgotten?)."""


# The id of the last backward's root, per thread/task.
_LAST: ContextVar[int | None] = ContextVar("axongrad_last_backward", default=None)
# True after a warning, until a backward finds every leaf grad at zero.
_WARNED: ContextVar[bool] = ContextVar("axongrad_stale_warned", default=False)
_ACCUMULATING: ContextVar[bool] = ContextVar("axongrad_accumulating", default=False)

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


@contextmanager
def accumulating() -> Iterator[None]:
    """`with accumulating():` backward calls inside add gradients on purpose: no StaleGradWarning."""
    token = _ACCUMULATING.set(True)
    try:
        yield
    finally:
        _ACCUMULATING.reset(token)


def same_root(root: Any) -> bool:
    """Whether `root` is the last backward's root (call it before backward's walk resets its grad)."""
    # A new node that reuses a freed root's id has grad 0.0; the last root keeps the 1.0 its
    # backward seeded until another backward through it (which becomes the last) resets it.
    return _LAST.get() == id(root) and (getattr(root, "_a", None) is None or root.grad == 1.0)


def check(root: Any, leaves: Sequence[Any], before: Sequence[float], again: bool) -> None:
    """After backward's walk: warn if `before` (the leaves' grads) holds another root's leftovers."""
    _LAST.set(id(root))
    if not any(before):
        _WARNED.set(False)  # every leaf at zero: a later mistake deserves its own warning
        return
    if again or _ACCUMULATING.get() or _WARNED.get():
        return
    _WARNED.set(True)
    i = next(k for k, g in enumerate(before) if g)
    leaf = leaves[i]
    name = repr(leaf.label) if leaf.label else "a leaf"
    where = f" in scope {leaf.scope!r}" if leaf.scope else ""
    count = sum(1 for g in before if g)
    warnings.warn(
        f"backward() added onto grads an earlier backward of another result left on {count} of "
        f"{len(leaves)} leaves ({name}{where} had grad={before[i]!r} before this call)"
        f"{typo_of_engine_name(leaves)}: call "
        "model.zero_grad() or optimizer.zero_grad() before each backward; to sum several losses' "
        "gradients on purpose, run the backwards inside `with autograd.accumulating():` "
        "(warned once per run; silence with warnings.simplefilter('ignore', autograd.StaleGradWarning))",
        StaleGradWarning,
        stacklevel=_caller_level(),
    )


def typo_of_engine_name(nodes: Sequence[Any]) -> str:
    """Words about an attribute of a learner's own on `nodes` that looks like a typo of an engine name
    (`p.gard = 0`), e.g. " (a leaf has an attribute 'gard' of your own: a typo of 'grad'?)"; else ""."""
    for node in nodes:
        own = getattr(node, "__dict__", None)
        if not own:
            continue
        names = [n for n in dir(type(node)) if not n.startswith("__")]
        for attribute in own:
            close = difflib.get_close_matches(attribute, names, n=1, cutoff=0.75)
            if close and attribute not in names:
                return f" (a leaf has an attribute {attribute!r} of your own: a typo of {close[0]!r}?)"
    return ""


def _caller_level() -> int:
    """The stacklevel of the first frame outside the autograd package (the user's backward call)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warned() -> bool:
    """Whether this thread's backward calls are in a run that StaleGradWarning warned about."""
    return _WARNED.get()


@contextmanager
def isolated(nodes: Sequence[Any]) -> Iterator[None]:
    """A backward inside leaves no trace: `nodes`' grads start at 0 and are put back, and so is this
    module's record of the last backward (for tools such as nn.diagnose that measure gradients)."""
    saved = [node.grad for node in nodes]
    last, warned_before = _LAST.get(), _WARNED.get()
    token = _ACCUMULATING.set(True)
    for node in nodes:
        node.grad = 0.0
    try:
        yield
    finally:
        _ACCUMULATING.reset(token)
        _LAST.set(last)
        _WARNED.set(warned_before)
        for node, grad in zip(nodes, saved):
            node.grad = grad
