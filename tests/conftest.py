"""Fixtures shared by test files: `backend` runs a tape test on each back end."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["python", "numpy"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs on both back ends; the NumPy one skips cleanly without numpy."""
    if request.param == "numpy":
        pytest.importorskip("numpy")
    return str(request.param)
