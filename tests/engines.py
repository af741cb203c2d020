"""Run one graph in every engine (scalar Values, the pure-Python, NumPy and, with torch, PyTorch tapes).

`run_engines(build, point)` builds `build(leaves)` from leaves holding `point` in the scalar engine
and back-propagates; for each tape it builds the same graph at a safe point, compiles it with the
leaves as parameters (times a placeholder input fed 1.0, which changes no number), sets the leaves
to `point` and replays it. Each engine gives an `Outcome`: the value and the leaves' gradients, or
the type and message of the error it raised. Shared by the op-table and engine-agreement tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec

from autograd import Value, compile, topological_order

# The PyTorch tape joins when torch is installed (the `torch` extra, as CI installs it).
TAPES = ("python", "numpy", *(("torch",) if find_spec("torch") is not None else ()))
ENGINES = ("scalar", *TAPES)
RTOL = 1e-12
ATOL = 1e-300

Build = Callable[[list[Value]], Value]


@dataclass
class Outcome:
    """What one engine gave: value and gradients, or the error it raised."""

    value: float | None = None
    grads: list[float] = field(default_factory=list)
    error: type[BaseException] | None = None
    message: str = ""


def scalar_outcome(build: Build, point: Sequence[float]) -> tuple[Outcome, Value | None]:
    """The scalar engine's outcome at `point`, and the root Value (None when it raised)."""
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    try:
        root = build(leaves)
        root.backward()
    except (ValueError, ArithmeticError) as error:
        return Outcome(error=type(error), message=str(error)), None
    return Outcome(root.data, [v.grad for v in leaves]), root


def tape_outcome(build: Build, point: Sequence[float], backend: str, safe: Sequence[float]) -> Outcome:
    """A tape's outcome: the graph is built at `safe`, then the leaves are set to `point` and replayed."""
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(safe)]
    node = build(leaves)
    seed = Value(1.0, label="seed")
    in_graph = {id(v) for v in topological_order(node)}
    params = [v for v in leaves if id(v) in in_graph]
    tape = compile(node * seed, [seed], params, backend=backend)
    for v, x in zip(leaves, point):
        v.data = x
    try:
        out = tape.run([[1.0]])
        tape.backward()
    except (ValueError, ArithmeticError) as error:
        return Outcome(error=type(error), message=str(error))
    return Outcome(float(out[0]), [v.grad for v in leaves])


def run_engines(
    build: Build, point: Sequence[float], safe: Sequence[float] | None = None
) -> dict[str, Outcome]:
    """Every engine's outcome for `build` at `point` (tapes compiled at `safe`, default 0.7, 1.3, ...)."""
    safe = safe if safe is not None else [0.7 + 0.6 * i for i in range(len(point))]
    results = {"scalar": scalar_outcome(build, point)[0]}
    for backend in TAPES:
        results[backend] = tape_outcome(build, point, backend, safe)
    return results


def close(a: float, b: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """|a - b| <= atol + rtol * max(|a|, |b|) (both finite)."""
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def disagreements(
    results: dict[str, Outcome],
    value_atol: float = ATOL,
    grad_atol: Sequence[float] | None = None,
) -> list[str]:
    """How the tapes' outcomes differ from the scalar engine's (empty when all agree)."""
    ref = results["scalar"]
    problems = []
    for name in TAPES:
        got = results[name]
        if ref.error is not None or got.error is not None:
            if ref.error is not got.error:
                problems.append(
                    f"{name}: error {getattr(got.error, '__name__', None)} ({got.message}) but scalar "
                    f"{getattr(ref.error, '__name__', None)} ({ref.message})"
                )
            continue
        assert ref.value is not None and got.value is not None
        if not close(ref.value, got.value, atol=max(value_atol, ATOL)):
            problems.append(f"{name}: value {got.value!r}, scalar {ref.value!r}")
        for i, (r, g) in enumerate(zip(ref.grads, got.grads)):
            atol = ATOL if grad_atol is None else max(grad_atol[i], ATOL)
            if not close(r, g, atol=atol):
                problems.append(f"{name}: d/dx{i} {g!r}, scalar {r!r}")
    return problems
