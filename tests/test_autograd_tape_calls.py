"""The NumPy tape runs each pass as a list of calls with the groups' views bound (`forward_calls`,
`backward_calls`): the same NumPy calls as the groups' `forward`/`backward`, so the same bits."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Value, compile, op, weighted_sum

np = pytest.importorskip("numpy")
tape_numpy = pytest.importorskip("autograd.tape_numpy")


@op(rule="1 - y^2")
def _squash(x: float) -> tuple[float, float]:
    """A learner's op (no `m`, no into form): its group runs through `forward`."""
    y = x / (1.0 + abs(x))
    return y, (1.0 - abs(y)) ** 2


def _mlp(
    widths: list[int], act: Callable[[Value], Value], seed: int, bias: bool = True
) -> tuple[Any, list[Value]]:
    """A hinge-loss MLP 2 -> widths -> 1 on placeholders (x0, x1, -y), parameters neuron by neuron."""
    rng = random.Random(seed)
    xs = [Value(0.0), Value(0.0)]
    n = Value(-1.0)
    params: list[Value] = []
    a: list[Value] = xs
    for k, width in enumerate([*widths, 1]):
        layer = []
        for _ in range(width):
            ws = [Value(rng.gauss(0.0, 1.0)) for _ in a]
            b = Value(rng.gauss(0.0, 0.3)) if bias else None
            params += ws if b is None else [*ws, b]
            z = weighted_sum(ws, a, b)
            layer.append(z if k == len(widths) else act(z))
        a = layer
    return compile((1 + n * a[0]).relu(), [*xs, n], params, backend="numpy"), params


def _tied(seed: int) -> tuple[Any, list[Value]]:
    """Two layers sharing one weight row, read in a non-consecutive order: gathers and added gradients."""
    rng = random.Random(seed)
    xs = [Value(0.0) for _ in range(3)]
    ws = [Value(rng.gauss(0.0, 1.0)) for _ in range(3)]
    b = Value(0.1)
    h = [weighted_sum(ws, xs, b).relu(), weighted_sum(ws, [xs[2], xs[0], xs[1]], b).relu()]
    root = (h[0] * h[1] + h[0]).relu() + (h[1] - 0.5) ** 2
    return compile(root, xs, [*ws, b], backend="numpy"), [*ws, b]


CASES = {
    "relu": lambda: _mlp([16, 16], Value.relu, 1),
    "tanh": lambda: _mlp([5, 3], Value.tanh, 2),
    "no bias": lambda: _mlp([4], Value.relu, 3, bias=False),
    "learner op": lambda: _mlp([4, 4], _squash, 4),
    "log domain": lambda: _mlp([3], lambda z: (z * z + 1.0).log(), 5),
    "tied": lambda: _tied(6),
}


def _columns(tape: Any, size: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    columns = rng.normal(size=(len(tape.inputs), size))
    if len(tape.inputs) == 3 and size:
        columns[2] = np.where(rng.random(size) < 0.5, -1.0, 1.0)
    return columns


def _through_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every group runs through its `forward`/`backward` (the calls' fallback)."""
    for cls in (tape_numpy._Elementwise, tape_numpy._WeightedSums):
        monkeypatch.setattr(cls, "forward_calls", tape_numpy._Group.forward_calls)
        monkeypatch.setattr(cls, "backward_calls", tape_numpy._Group.backward_calls)


@pytest.mark.parametrize("case", list(CASES))
def test_the_bound_calls_give_the_bits_of_the_groups_methods(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values and gradients, bit for bit, at batch sizes 7, 100, 1 and 7 again (the calls rebound)."""
    tape, _ = CASES[case]()
    got = []
    for size in (7, 100, 1, 7):
        columns = _columns(tape, size, size)
        got.append((tape.run(columns).tobytes(), tape.gradient(mean=True).tobytes()))
    _through_methods(monkeypatch)
    plain, _ = CASES[case]()
    for (values, grads), size in zip(got, (7, 100, 1, 7)):
        columns = _columns(plain, size, size)
        assert plain.run(columns).tobytes() == values
        assert plain.gradient(mean=True).tobytes() == grads


def test_an_mlp_runs_its_layers_and_relus_as_bare_numpy_calls() -> None:
    """The fit's network: every group but "+" (its rule) is bound as NumPy calls, no method frame."""
    tape, _ = CASES["relu"]()
    tape.run(_columns(tape, 10, 0))
    engine = tape._engine  # the engine's private lists, on purpose
    through = [c.func.__self__.kind.name for c in [*engine.forward_calls, *engine.backward_calls]
               if getattr(c.func, "__name__", "") in ("forward", "backward")]
    assert through == ["+"]
    assert len(engine.forward_calls) == len(engine.groups)


def test_the_python_tape_agrees() -> None:
    """Independent reference: the pure-Python tape's values and gradients (1e-12)."""
    for case in CASES:
        tape, params = CASES[case]()
        columns = _columns(tape, 9, 3)
        values, grads = tape.run(columns), tape.gradient()
        ref = compile(tape.root, tape.inputs, params, backend="python")
        want = ref.run(columns.tolist())
        assert np.allclose(values, want, rtol=1e-12, atol=1e-12), case
        assert np.allclose(grads, ref.gradient(), rtol=1e-12, atol=1e-12), case


def test_an_allocation_cut_short_is_made_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the calls are bound for a new batch size: the next run at that size binds them
    again, instead of running calls bound to the old size's buffers."""
    tape, _ = CASES["relu"]()
    small, large = _columns(tape, 5, 1), _columns(tape, 50, 2)
    want = tape.run(large).tobytes(), tape.gradient().tobytes()
    tape.run(small)
    real = tape_numpy._WeightedSums.backward_calls

    def interrupted(self: Any, engine: Any, np_: Any) -> Any:
        monkeypatch.setattr(tape_numpy._WeightedSums, "backward_calls", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(tape_numpy._WeightedSums, "backward_calls", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tape.run(large)
    assert (tape.run(large).tobytes(), tape.gradient().tobytes()) == want
