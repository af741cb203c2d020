"""Ctrl-C at every point of some code, in turn: `interrupt_at_line(k, traced)` raises KeyboardInterrupt
before the k-th line run in the code objects `traced` accepts.

CPython delivers a real interrupt at a call or a backward jump; raising before every line is
stricter (it also splits a run of straight-line statements), so code that passes this passes that.
Shared by the tests of the scalar engine's switches and of fit's array steps.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CodeType
from typing import Any


def interrupt_at_line(k: int, traced: Callable[[CodeType], bool]) -> list[int]:
    """Trace the code `traced` accepts and raise KeyboardInterrupt before its k-th line (then stop
    tracing); returns the list whose one entry counts the lines seen. Call sys.settrace(None) after."""
    seen = [0]

    def line(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            seen[0] += 1
            if seen[0] == k:
                sys.settrace(None)
                raise KeyboardInterrupt
        return line

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return line if traced(frame.f_code) else None

    sys.settrace(calls)
    return seen
