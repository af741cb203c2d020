"""Training histories with frames for the page and live-view tests: nn.fit(..., record=k) on moons.

`fit_history` is what a learner runs; `HandFrame`/`HandHistory` wrap hand-edited frame dicts (a
malformed field, hostile text, NaN) in the shape viz reads: `.frames` whose items have `as_dict()`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nn


@dataclass
class HandFrame:
    """A frame as FRAMES.md describes it; `as_dict()` returns a copy of the plain data."""

    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


@dataclass
class HandHistory:
    """What fit's History carries for the pages: per-epoch loss and accuracy, and the frames."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    frames: list[Any] = field(default_factory=list)


def fit_history(
    epochs: int = 24, record: int = 4, hidden: tuple[int, ...] = (8,), n: int = 40, lr: float = 0.2,
    on_frame: Callable[[Any, Any], object] | None = None,
) -> tuple[Any, list[list[float]], list[float]]:
    """nn.fit on n moons points (full batch: one step per epoch), a frame every `record` steps."""
    xs, ys = nn.moons(n, seed=0)
    model = nn.MLP(2, [*hidden, 1], activation="tanh", seed=0)
    history = nn.fit(model, xs, ys, optimizer=nn.SGD(model.parameters(), lr=lr), epochs=epochs,
                     record=record, on_frame=on_frame, progress=False)
    return history, xs, ys
