"""Fixtures shared by test files: `backend` runs a tape test on each back end (the torch extra's too),
`array_runs` records whether fit(engine="tape") trained on arrays."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(params=["python", "numpy", "torch"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs on every back end; NumPy and PyTorch skip cleanly without numpy or torch."""
    if request.param != "python":
        pytest.importorskip(request.param)
    return str(request.param)


@pytest.fixture
def array_runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per fit, whether the array form was used (so a test cannot pass on the fallback)."""
    from nn import tape_fit, train

    used: list[bool] = []
    start = tape_fit.ArraySteps.start

    def spy(*args: Any) -> tape_fit.ArraySteps | None:
        steps = start(*args)
        used.append(steps is not None)
        return steps

    monkeypatch.setattr(train.ArraySteps, "start", spy)
    return used
