"""The NumPy tape's preallocated buffers: same bits whatever the batch sizes, and no result aliased.

The engine keeps its value, slope, adjoint and scratch arrays while batches keep their size, and
runs each rule on blocks of samples (`tape_numpy.RULE_BLOCK` numbers per call). None of that may
change a number, and nothing a caller keeps may be overwritten by a later run.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from autograd import Tape, Value, accumulating, compile, weighted_sum

np = pytest.importorskip("numpy")
tape_numpy = pytest.importorskip("autograd.tape_numpy")


def network(seed: int = 0) -> tuple[Tape, list[Value]]:
    """A 3-12-12-1 network (tanh, relu) with a hinge loss and a log term, compiled on NumPy."""
    rng = random.Random(seed)
    xs = [Value(0.1 * (i + 1), label=f"x{i}") for i in range(3)]
    y = Value(1.0, label="y")
    params: list[Value] = []
    a: list[Value] = xs
    for k, act in enumerate(("tanh", "relu")):
        layer = []
        for _ in range(12):
            ws = [Value(rng.gauss(0, 0.7)) for _ in a]
            b = Value(rng.gauss(0, 0.2))
            params += [*ws, b]
            layer.append(getattr(weighted_sum(ws, a, b), act)())
        a = layer if k == 0 else [v.sigmoid() for v in layer]
    out_w = [Value(rng.gauss(0, 0.5)) for _ in a]
    params += out_w
    score = weighted_sum(out_w, a)
    root = (1.0 - y * score).relu() + (score * score + 1.0).log()
    return compile(root, [*xs, y], params, backend="numpy"), params


def batch(size: int, seed: int) -> list[Any]:
    """Four columns (three inputs and a +-1 label) of `size` samples."""
    rng = np.random.default_rng(seed)
    columns = [rng.normal(size=size) for _ in range(3)]
    return [*columns, np.where(rng.random(size) < 0.5, -1.0, 1.0)]


def outcome(tape: Tape, columns: list[Any]) -> tuple[Any, Any]:
    """The roots and the mean's gradient of one run."""
    roots = tape.run(columns)
    size = len(columns[0])
    return roots, tape.gradient(np.full(size, 1.0 / size))


SIZES = [1, 7, 300, 2, 300, 1000]


def test_blocks_and_reused_buffers_give_bit_identical_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules in blocks of 5 numbers, buffers reused across sizes: the bits of one fresh whole-batch call."""
    monkeypatch.setattr(tape_numpy, "RULE_BLOCK", 10**9)  # every rule on the whole batch at once
    reference = [outcome(network()[0], batch(size, seed)) for seed, size in enumerate(SIZES)]
    monkeypatch.setattr(tape_numpy, "RULE_BLOCK", 5)  # 1 sample per block in the 12-wide layers
    tape, _ = network()
    for (seed, size), (want_roots, want_grad) in zip(enumerate(SIZES), reference):
        roots, grad = outcome(tape, batch(size, seed))  # one tape, batch sizes changing under it
        assert roots.tobytes() == want_roots.tobytes(), f"roots differ at B={size}"
        assert grad.tobytes() == want_grad.tobytes(), f"gradient differs at B={size}"


def test_default_blocks_agree_with_the_scalar_engine() -> None:
    """At a batch several blocks wide, gradients still equal B scalar passes (1e-12)."""
    tape, params = network()
    size = 2 * tape_numpy.RULE_BLOCK // 12 + 3
    columns = batch(size, 9)
    roots, grad = outcome(tape, columns)
    want = [0.0] * len(params)
    for i in range(size):
        for p in params:
            p.grad = 0.0
        xs = [Value(float(c[i])) for c in columns]
        root = _rebuild(tape, xs)
        assert math.isclose(root.data, float(roots[i]), rel_tol=1e-12, abs_tol=1e-300)
        with accumulating():  # constants shared by the samples' graphs keep grads; params are zeroed
            root.backward()
        want = [w + p.grad / size for w, p in zip(want, params)]
    for p in params:
        p.grad = 0.0
    assert all(math.isclose(g, w, rel_tol=1e-12, abs_tol=1e-15) for g, w in zip(grad.tolist(), want))


def _rebuild(tape: Tape, inputs: list[Value]) -> Value:
    """The tape's graph evaluated again as Values with `inputs` in place of its placeholders."""
    made: dict[int, Value] = {id(v): x for v, x in zip(tape.inputs, inputs)}
    for p in tape.params:
        made[id(p)] = p
    for node in tape.nodes:
        if id(node) in made:
            continue
        if not node.parents:
            made[id(node)] = node  # a constant
            continue
        args = [made[id(q)] for q in node.parents]
        const = [] if node.const is None else [node.const]
        made[id(node)] = node.operation(*args, *const)
    return made[id(tape.root)]


def test_results_kept_from_earlier_runs_are_never_overwritten() -> None:
    """A learner keeps run()'s roots and gradient(); later runs of any size leave them as they were."""
    tape, _ = network()
    roots_a, grad_a = outcome(tape, batch(300, 1))
    kept = roots_a.copy(), grad_a.copy()
    engine = tape._engine  # the NumPy engine: its buffers are private, checked here on purpose
    for kept_array in (roots_a, grad_a):
        for buffer in (engine.buffer, engine.adj, engine.scratch, engine.grad):
            assert not np.shares_memory(kept_array, buffer)
    outcome(tape, batch(300, 2))  # same size: the same buffers are written again
    outcome(tape, batch(17, 3))  # another size: new buffers
    outcome(tape, batch(300, 4))
    assert roots_a.tobytes() == kept[0].tobytes() and grad_a.tobytes() == kept[1].tobytes()


def test_an_error_in_a_later_block_names_the_right_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 samples: the bad sample 9 (third block) is named as sample 9, with its value."""
    monkeypatch.setattr(tape_numpy, "RULE_BLOCK", 4)
    x, w = Value(1.0), Value(2.0)
    tape = compile((w * x).log(), [x], [w], backend="numpy")
    column = [1.0] * 12
    column[9] = -0.5
    with pytest.raises(ValueError, match=r"sample 9.*log\(x\) needs x > 0, got x=-1.0"):
        tape.run([column])
    column[9] = 1.0
    assert tape.run([column]).tolist() == [math.log(2.0)] * 12  # the tape still works after the error
