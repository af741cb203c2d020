"""Sections 2-5: a wide sum, a long chain, bytes and GC-tracked objects per node."""

from __future__ import annotations

import functools
import gc
import math
import random
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

from measure import LEGEND, interleaved, print_rows, ratio_line
from step import step_graph
from workload import (
    CHAIN_N,
    MEMORY_N,
    MICROGRAD_CHAIN_N,
    SEED,
    SIZES,
    TARGET_BYTES_RATIO,
    TOLERANCE,
    WIDE_N,
    LocalMLP,
    _gc_off,
    _micrograd,
    initial_weights,
    load_weights,
    make_moons,
    nn_mlp,
)

from autograd import Value


def tree_sum(values: list[Any]) -> Any:
    """Pairwise sum (depth log2 n), so micrograd's recursive topological sort can handle it."""
    while len(values) > 1:
        paired = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]


def wide_sum_values(value_cls: Any, data: list[float]) -> tuple[float, list[float]]:
    """Build n leaves and their pairwise sum (n - 1 '+' nodes), backward; the total and leaf grads."""
    leaves = [value_cls(x) for x in data]
    total = tree_sum(leaves)
    total.backward()
    return float(total.data), [float(v.grad) for v in leaves]


def wide_sum_plain(data: list[float]) -> tuple[float, list[float]]:
    """The same pairwise sum and its backward pass by hand on floats."""
    levels = [data]
    while len(levels[-1]) > 1:
        v = levels[-1]
        paired = [v[i] + v[i + 1] for i in range(0, len(v) - 1, 2)]
        if len(v) % 2:
            paired.append(v[-1])
        levels.append(paired)
    grads = [1.0]
    for level in reversed(levels[:-1]):
        below = [0.0] * len(level)
        for i in range(len(level) // 2):
            below[2 * i] = below[2 * i + 1] = grads[i]
        if len(level) % 2:
            below[-1] = grads[-1]  # the carried odd element
        grads = below
    return levels[-1][0], grads


def chain(value_cls: Any, n: int) -> tuple[float, float]:
    """y = x + c + c + ... (n '+' nodes in a line), backward; returns dy/dx and dy/dc."""
    x = value_cls(0.5)
    c = value_cls(1e-6)
    y = x
    for _ in range(n):
        y = y + c
    y.backward()
    return float(x.grad), float(c.grad)


def micrograd_max_chain(limit: int) -> int:
    """The longest chain micrograd can backward (binary search up to `limit`)."""
    mg_value, _ = _micrograd()
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            chain(mg_value, mid)
            lo = mid
        except RecursionError:
            hi = mid - 1
    return lo


def traced_bytes(build: Callable[[], object]) -> int:
    """Bytes (tracemalloc) still held after build() while its result is alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()  # drop cycles made while building (micrograd's recursive build_topo)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    gc.collect()
    return after - before


def tracked_objects(build: Callable[[], object]) -> int:
    """Growth of the objects the cycle collector tracks while build()'s result is alive."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        kept = build()
        after = len(gc.get_objects())
    finally:
        if enabled:
            gc.enable()
    del kept
    gc.collect()
    return after - before


def build_chain(value_cls: Any, n: int) -> Callable[[], object]:
    """A builder of an n-node '+' chain, n + 2 nodes with its two leaves (no backward: micrograd can't)."""

    def build() -> object:
        x, c = value_cls(0.5), value_cls(1e-6)
        y = x
        for _ in range(n):
            y = y + c
        return y

    return build


def count_nodes(root: Any) -> int:
    """Nodes reachable from root through `.parents` (axongrad) or `._prev` (micrograd)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for p in node.parents if isinstance(node, Value) else node._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def section_wide(repeat: int) -> None:
    """Section 2: a wide sum."""
    mg_value, _ = _micrograd()
    rng = random.Random(SEED)
    data = [rng.uniform(-1.0, 1.0) for _ in range(WIDE_N)]
    results = {
        "axongrad": wide_sum_values(Value, data),
        "micrograd": wide_sum_values(mg_value, data),
        "plain": wide_sum_plain(data),
    }
    for name, (total, grads) in results.items():
        if abs(total - results["plain"][0]) > TOLERANCE or any(g != 1.0 for g in grads):
            raise SystemExit(f"wide sum: {name} computes a different total or gradient")
    print(
        f"\n2. Wide sum: {WIDE_N:,} leaves summed pairwise ({WIDE_N - 1:,} '+' nodes, depth "
        f"{math.ceil(math.log2(WIDE_N))}), build + backward; all agree (every leaf grad 1)"
    )
    mg_off = _gc_off(lambda _lr: wide_sum_values(mg_value, data)[0])
    rows = interleaved(
        [
            ("micrograd 0.1.0 (gc on)", True, lambda: wide_sum_values(mg_value, data)),
            ("micrograd 0.1.0 (gc off)", False, lambda: mg_off(0.0)),
            ("axongrad", True, lambda: wide_sum_values(Value, data)),
            ("plain Python floats", True, lambda: wide_sum_plain(data)),
        ],
        repeat,
    )
    print(LEGEND)
    print_rows(rows)
    print(ratio_line("micrograd (gc on) / axongrad", rows[0], rows[2]))
    print(ratio_line("micrograd (gc off) / axongrad", rows[1], rows[2]))
    print(ratio_line("axongrad / plain floats", rows[2], rows[3]))


def section_chain(repeat: int) -> None:
    """Section 3: a deep chain."""
    mg_value, _ = _micrograd()
    dx, dc = chain(Value, CHAIN_N)
    if dx != 1.0 or dc != float(CHAIN_N):
        raise SystemExit(f"chain: axongrad gives dy/dx={dx}, dy/dc={dc}, expected 1 and {CHAIN_N}")
    print(f"\n3. Chain: y = x + c + c + ... ({CHAIN_N:,} '+' nodes), build + backward (+ freeing)")
    rows = interleaved([("axongrad", True, lambda: chain(Value, CHAIN_N))], repeat)
    print_rows(rows)
    per_node = rows[0].median / CHAIN_N * 1e9
    print(f"  axongrad: {per_node:.0f} ns per node; dy/dx = 1, dy/dc = {CHAIN_N:,}: correct")
    try:
        chain(mg_value, MICROGRAD_CHAIN_N)
        print(f"  micrograd: a {MICROGRAD_CHAIN_N:,}-node chain worked (unexpected)")
    except RecursionError as error:
        deepest = micrograd_max_chain(MICROGRAD_CHAIN_N)
        print(
            f"  micrograd: a {MICROGRAD_CHAIN_N:,}-node chain fails in backward() with RecursionError "
            f"({error}); its recursive topological sort handles at most {deepest:,} nodes "
            f"(sys.getrecursionlimit() = {sys.getrecursionlimit()})"
        )


def section_memory(memory_n: int = MEMORY_N) -> None:
    """Sections 4 and 5: bytes and collector-tracked objects per node."""
    mg_value, _ = _micrograd()
    xs, ys = make_moons()
    weights = initial_weights()
    print(
        "\n4. Bytes per node (tracemalloc; chains as built, step graphs after backward) and"
        "\n5. objects the cycle collector tracks per node (len(gc.get_objects()) growth, gc off)"
    )
    print(f"  {'graph':<44}{'nodes':>9}{'MB':>7}{'bytes/node':>12}{'gc objs/node':>14}")
    results: dict[str, tuple[float, float]] = {}
    graphs: list[tuple[str, Callable[[], object], int]] = [
        (f"axongrad chain {memory_n:,}", build_chain(Value, memory_n), memory_n + 2),
        (f"micrograd chain {memory_n:,}", build_chain(mg_value, memory_n), memory_n + 2),
    ]
    step_models: list[tuple[str, Any, Any]] = [
        ("axongrad step, micrograd-style code", Value, LocalMLP(Value, weights)),
        ("axongrad step, weighted_sum neuron", Value, LocalMLP(Value, weights, fused=True)),
    ]
    model = nn_mlp(weights)
    if model is not None:
        step_models.append(("axongrad step, nn.MLP", Value, model))
    _, mg_mlp = _micrograd()
    mg_model = mg_mlp(SIZES[0], list(SIZES[1:]))
    load_weights(mg_model, weights)
    step_models.append(("micrograd step", mg_value, mg_model))
    for name, cls, m in step_models:
        nodes = count_nodes(step_graph(cls, m, xs, ys))
        graphs.append((name, functools.partial(step_graph, cls, m, xs, ys), nodes))
    for name, build, nodes in graphs:
        total_bytes = traced_bytes(build)
        per_node = total_bytes / nodes
        objs = tracked_objects(build) / nodes
        results[name] = (per_node, objs)
        print(f"  {name:<44}{nodes:>9,}{total_bytes / 1e6:>7.1f}{per_node:>12.1f}{objs:>14.2f}")
    ax, mg = results[f"axongrad chain {memory_n:,}"], results[f"micrograd chain {memory_n:,}"]
    ratio = ax[0] / mg[0]
    print(
        f"  chain bytes per node axongrad / micrograd: {ratio:.3f} (target <= {TARGET_BYTES_RATIO:.3f}: "
        f"{'met' if ratio <= TARGET_BYTES_RATIO else 'MISSED'}); "
        f"gc-tracked objects per node {ax[1]:.2f} vs {mg[1]:.2f}"
    )
    ax_step = [v for k, v in results.items() if k.startswith("axongrad step")]
    mg_step = results["micrograd step"]
    for (name, _, _), (b, _) in zip(step_models, ax_step):
        print(f"  {name} bytes per node / micrograd step's: {b / mg_step[0]:.3f}")

