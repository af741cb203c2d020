"""A compiled Tape is not copied or pickled: a copy would share the buffers its bound calls write.

The way out the error names, compiling the graph again, gives a tape of its own: running it changes
neither the first tape's results nor its gradients.
"""

from __future__ import annotations

import copy
import importlib.util
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Tape, Value, compile, weighted_sum

BACKENDS = ["python"] + [name for name in ("numpy", "torch") if importlib.util.find_spec(name)]

REFUSED = (
    r"^a compiled Tape cannot be copied or pickled: it holds buffers bound to its calls \(a copy "
    r"would share them with this tape\); compile the graph again for a tape of its own: "
    r"autograd\.compile\(tape\.root, tape\.inputs, tape\.params, backend='(python|numpy|torch)'\)$"
)

COPIERS: dict[str, Callable[[Any], Any]] = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": pickle.dumps,
    "pickle-protocol-0": lambda t: pickle.dumps(t, protocol=0),
    "deepcopy-in-a-dict": lambda t: copy.deepcopy({"tape": t}),
}


def _tape(backend: str) -> Tape:
    """tanh(w . x + b) * w0 over two inputs, compiled on `backend`."""
    xs = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    ws = [Value(0.3, label="w0"), Value(-0.7, label="w1")]
    b = Value(0.1, label="b")
    root = weighted_sum(ws, xs, b).tanh() * ws[0]
    return compile(root, xs, [*ws, b], backend=backend)


def _floats(x: Any) -> list[float]:
    """A back end's result (list, ndarray or tensor) as Python floats."""
    return [float(v) for v in (x.tolist() if hasattr(x, "tolist") else x)]


@pytest.mark.parametrize("how", COPIERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_copying_or_pickling_a_tape_is_a_clear_type_error(backend: str, how: str) -> None:
    """copy, deepcopy (also of something holding the tape) and pickle: one TypeError naming the way out."""
    tape = _tape(backend)
    tape.run([[0.5, 1.0], [-1.0, 2.0]])
    with pytest.raises(TypeError, match=REFUSED):
        COPIERS[how](tape)
    # The refused copy left the tape working.
    assert len(_floats(tape.gradient(mean=True))) == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_way_out_is_a_tape_of_its_own(backend: str) -> None:
    """The tape compiled again from tape.root, tape.inputs and tape.params shares no buffer: running it
    on other samples changes neither the first tape's last values nor its gradient."""
    tape = _tape(backend)
    batch = [[0.5, 1.0, -0.25], [-1.0, 2.0, 0.75]]
    values = _floats(tape.run(batch))
    expected = _floats(tape.gradient(mean=True))
    again = compile(tape.root, tape.inputs, tape.params, backend=tape.backend)
    other = _floats(again.run([[3.0, -2.0], [0.1, 0.2]]))
    assert other != values[:2]
    assert _floats(again.gradient(mean=True)) != expected
    assert _floats(tape.gradient(mean=True)) == expected
    assert [row[0] for row in tape.values([tape.root])] == values
    # An independent reference for the first tape's gradient: one scalar backward per sample, on fresh Values.
    grads = [0.0] * 3
    for x0, x1 in zip(*batch):
        ws = [Value(p.data) for p in tape.params]
        (weighted_sum(ws[:2], [Value(x0), Value(x1)], ws[2]).tanh() * ws[0]).backward()
        grads = [g + w.grad / 3 for g, w in zip(grads, ws)]
    assert expected == pytest.approx(grads, rel=1e-12, abs=1e-15)
