"""Fixtures shared by test files: `backend` runs a tape test on each back end (the torch extra's too)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["python", "numpy", "torch"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs on every back end; NumPy and PyTorch skip cleanly without numpy or torch."""
    if request.param != "python":
        pytest.importorskip(request.param)
    return str(request.param)
