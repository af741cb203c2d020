"""A row's `into` form (its rule written into the NumPy tape's arrays) gives the rule's bits.

The NumPy tape calls `row.into(*operands, value, *slopes, m=numpy)` in place of the rule where a
built-in row has that form, so the form must give exactly the numbers of `row.fn(..., m=numpy)`:
every bit, signed zeros and infinities included, on every row of the table that has one.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest

from autograd import Value, compile, weighted_sum
from autograd.oprecord import TABLE, Op

np = pytest.importorskip("numpy")
tape_numpy = pytest.importorskip("autograd.tape_numpy")

INTO_ROWS = [row for row in TABLE.values() if row.into is not None]

EDGES = [-math.inf, -1e308, -2.5, -1.0, -1e-310, -0.0, 0.0, 5e-324, 1e-300, 0.25, 1.0, 3.0, 1e308, math.inf,
         math.nan]
"""Operands where a rewritten rule could slip: signed zeros, subnormals, the float range's ends, inf, NaN."""


def same_bits(a: Any, b: Any) -> Any:
    """Per element: the same 64 bits, or both NaN (a NaN's payload is not a number's meaning)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a.view(np.uint64) == b.view(np.uint64)) | (np.isnan(a) & np.isnan(b))


def operand_grid(row: Op) -> list[Any]:
    """Every combination of EDGES for the row's operands, as 2-D (1, n) arrays, one per operand."""
    width = row.arity or 2
    points = list(itertools.product(EDGES, repeat=width))
    return [np.asarray([[p[j] for p in points]]) for j in range(width)]


def test_the_relu_and_mul_rows_have_an_into_form() -> None:
    """At least relu and * have one (the loop below would check nothing otherwise)."""
    assert TABLE["relu"] in INTO_ROWS and TABLE["*"] in INTO_ROWS
    assert all(row.builtin and row.takes_m for row in INTO_ROWS)


@pytest.mark.parametrize("row", INTO_ROWS, ids=lambda row: row.name)
def test_into_form_writes_the_rules_bits(row: Op) -> None:
    """On every edge operand, into() writes into given arrays exactly what the rule returns."""
    operands = operand_grid(row)
    consts = [None] if row.const is None else [2.0, 3.0, 0.5, 0.0, -1.0]
    for const in consts:
        extra = [] if const is None else [const]
        with np.errstate(all="ignore"):
            want = row.fn(*operands, *extra, m=np)
            written = [np.full(operands[0].shape, 7.0) for _ in want]  # 7.0: any element left unwritten shows
            row.into(*operands, *extra, *written, m=np)
        for k, (w, got) in enumerate(zip(want, written)):
            expected = np.broadcast_to(np.asarray(w, dtype=np.float64), got.shape)
            bad = ~same_bits(expected, got)
            where = [float(o[0, int(np.argmax(bad))]) for o in operands]
            assert not bad.any(), f"{row.name}: output {k} at {where}: {got[bad][:3]} != {expected[bad][:3]}"


@pytest.mark.parametrize("row", INTO_ROWS, ids=lambda row: row.name)
def test_into_form_on_views_of_a_larger_buffer(row: Op) -> None:
    """The tape passes views (rows of one buffer): into() writes them and nothing around them."""
    rng = np.random.default_rng(3)
    width = row.arity or 2
    buffer = rng.normal(size=(width + 3 * (1 + width), 9, 40))
    operands = [buffer[j, 2:7, 5:35] for j in range(width)]
    outputs = [buffer[width + k, 2:7, 5:35] for k in range(1 + width)]
    before = buffer.copy()
    with np.errstate(all="ignore"):
        want = row.fn(*operands, m=np)
        row.into(*operands, *outputs, m=np)
    for w, got in zip(want, outputs):
        assert same_bits(np.broadcast_to(w, got.shape), got).all()
    untouched = np.ones(buffer.shape, dtype=bool)
    for k in range(1 + width):
        untouched[width + k, 2:7, 5:35] = False
    assert same_bits(buffer[untouched], before[untouched]).all()


def relu_net(seed: int) -> tuple[Any, list[Value]]:
    """A 2-8-8-1 relu network with a hinge loss, compiled on NumPy."""
    rng = random.Random(seed)
    xs = [Value(0.0), Value(0.0)]
    y = Value(1.0)
    params: list[Value] = []
    a: list[Value] = xs
    for width in (8, 8):
        layer = []
        for _ in range(width):
            ws = [Value(rng.gauss(0, 1)) for _ in a]
            b = Value(rng.gauss(0, 0.3))
            params += [*ws, b]
            layer.append(weighted_sum(ws, a, b).relu())
        a = layer
    out = [Value(rng.gauss(0, 1)) for _ in a]
    params += out
    root = (1.0 - y * weighted_sum(out, a)).relu()
    return compile(root, [*xs, y], params, backend="numpy"), params


def test_the_tape_with_into_forms_gives_the_bits_of_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Roots and gradients with relu's into form equal those of its rule run on arrays, bit for bit."""
    rng = np.random.default_rng(0)
    columns = [rng.normal(size=300), rng.normal(size=300), np.where(rng.random(300) < 0.5, -1.0, 1.0)]
    columns[0][:5] = 0.0  # some relus at their kink
    tape, _ = relu_net(1)
    got = tape.run(columns), tape.gradient()
    plain, _ = relu_net(1)
    for group in plain._engine.groups:  # the engine's private groups, on purpose
        if not group.kind.weighted_sum:
            group.into = None
    plain._engine.size = None  # bind again: blocks are planned for the rule
    want = plain.run(columns), plain.gradient()
    assert any(g.into is not None for g in tape._engine.groups if not g.kind.weighted_sum)
    for a, b in zip(got, want):
        assert a.tobytes() == b.tobytes()
