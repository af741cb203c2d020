"""Section 1 and its companions: one training step per engine, its phases, issue 12's targets."""

from __future__ import annotations

import cProfile
import gc
import itertools
import math
import pstats
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from measure import (
    LEGEND,
    METER,
    Row,
    head_to_head,
    interleaved,
    metering,
    print_rows,
    ratio_line,
    target_line,
    torch_threads,
)
from workload import (
    ALPHA,
    LR,
    N_SAMPLES,
    SIZES,
    TAPE_BACKENDS,
    TARGET12_DIGITS_ACCURACY,
    TARGET12_DIGITS_SECONDS,
    TARGET12_MICROGRAD_STYLE,
    TARGET12_NN_MLP,
    TARGET12_NUMPY_TAPE_VS_TORCH,
    TARGET12_TAPE_VS_PLAIN,
    TARGET_MICROGRAD_VS_NUMPY_TAPE,
    TARGET_NUMPY_TAPE_VS_TORCH,
    TARGET_TAPE_VS_PLAIN,
    TARGET_VS_MICROGRAD,
    TARGET_VS_MICROGRAD_GC_OFF,
    TOLERANCE,
    Weights,
    check_step_engines,
    demo_loss,
    initial_weights,
    make_moons,
    make_tape_engine,
    make_torch_engine,
    phase_times,
    step_engines,
)

from autograd import Value, accumulate, topological_order

_ROOT = Path(__file__).resolve().parent.parent  # examples/ lives there


def step_graph(value_cls: Any, model: Any, xs: list[list[float]], ys: list[float]) -> Any:
    """The step's loss graph, built and back-propagated (what a step holds before it frees it)."""
    total = demo_loss(value_cls, model, xs, ys)
    total.backward()
    return total


def phased_step(model: Any, xs: list[list[float]], ys: list[float], lr: float, out: dict[str, float]) -> None:
    """`value_step` on axongrad with a timer (and collector time) around each phase."""
    clock = time.perf_counter
    marks: list[tuple[str, float, float]] = [("", clock(), METER.seconds)]

    def mark(name: str) -> None:
        marks.append((name, clock(), METER.seconds))

    total = demo_loss(Value, model, xs, ys)
    mark("forward (build graph)")
    model.zero_grad()
    mark("zero_grad")
    order = topological_order(total)
    mark("topological order")
    total.grad = 1.0  # a fresh graph: interior grads are 0, so this is all backward() resets
    accumulate(reversed(order))
    mark("chain-rule loop")
    for p in model.parameters():
        p.data -= lr * p.grad
    mark("SGD update")
    del order, total
    mark("freeing the graph")
    for (_, t0, g0), (name, t1, g1) in itertools.pairwise(marks):
        out[name] = out.get(name, 0.0) + (t1 - t0)
        out[name + " [gc]"] = out.get(name + " [gc]", 0.0) + (g1 - g0)


def print_breakdown(label: str, model: Any, xs: list[list[float]], ys: list[float], rounds: int) -> None:
    """Mean per-phase times of axongrad's step, with the collector on (as users run) and off."""
    print(f"  {label}")
    print(f"    {'phase':<24}{'gc on ms':>10}{'(in gc)':>9}{'gc off ms':>11}")
    results = []
    for enabled in (True, False):
        totals: dict[str, float] = {}
        for _ in range(rounds):
            gc.collect()
            METER.reset()
            if not enabled:
                gc.disable()
            try:
                with metering():
                    phased_step(model, xs, ys, 0.0, totals)
            finally:
                gc.enable()
        results.append({k: v / rounds for k, v in totals.items()})
    on, off = results
    for name in [k for k in on if not k.endswith("[gc]")]:
        in_gc = on[name + " [gc]"]
        print(f"    {name:<24}{on[name] * 1e3:>10.2f}{in_gc * 1e3:>9.2f}{off[name] * 1e3:>11.2f}")
    total_on = sum(v for k, v in on.items() if not k.endswith("[gc]"))
    total_off = sum(v for k, v in off.items() if not k.endswith("[gc]"))
    gc_on = sum(v for k, v in on.items() if k.endswith("[gc]"))
    print(f"    {'total':<24}{total_on * 1e3:>10.2f}{gc_on * 1e3:>9.2f}{total_off * 1e3:>11.2f}")


def print_torch_breakdown(weights: Weights, xs: list[list[float]], ys: list[float], rounds: int) -> None:
    """Where a batched PyTorch step goes at this size: phases by manual timers, then ops by profiler."""
    torch_engine = make_torch_engine(weights, xs, ys, threads=1)
    tape = make_tape_engine(weights, xs, ys, "numpy")
    if torch_engine is None or tape is None:
        print("  (needs torch and numpy)")
        return
    for engine in (torch_engine, tape):
        engine.step(0.0)  # warm-up
        samples = [phase_times(engine, 0.0) for _ in range(rounds)]
        total = sum(statistics.median(s[k] for s in samples) for k in samples[0])
        print(f"  {engine.name}: median phase times of {rounds} steps (sum {total * 1e6:,.0f} us)")
        for name in samples[0]:
            t = statistics.median(s[name] for s in samples)
            print(f"    {name:<28}{t * 1e6:>9,.0f} us{t / total:>6.0%}")
    import torch
    from torch.profiler import ProfilerActivity, profile

    steps = max(5, rounds)
    previous = torch.get_num_threads()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            torch_engine.step(0.0)
    torch.set_num_threads(previous)
    events = prof.key_averages()
    aten = [e for e in events if e.key.startswith("aten::")]
    autograd_nodes = [e for e in events if e.key.startswith("autograd::engine::evaluate_function")]
    calls = sum(e.count for e in aten) / steps
    self_us = sum(e.self_cpu_time_total for e in aten) / steps
    nodes = sum(e.count for e in autograd_nodes) / steps
    print(
        f"  torch.profiler over {steps} steps (its own overhead inflates times): {calls:.0f} aten op calls "
        f"per step (nested calls counted), {self_us:,.0f} us self CPU in them; {nodes:.0f} autograd "
        "nodes run by backward"
    )
    print("    top aten ops by self CPU per step:")
    for e in sorted(aten, key=lambda e: e.self_cpu_time_total, reverse=True)[:6]:
        print(
            f"    {e.key:<28}{e.count / steps:>5.0f} calls{e.self_cpu_time_total / steps:>9,.0f} us "
            f"({e.self_cpu_time_total / max(e.count, 1):,.1f} us per call)"
        )


def section_head_to_head(rounds: int) -> tuple[float, float] | None:
    """Section 1b: NumPy tape vs batched PyTorch float64 (1 thread), both alone on the step."""
    xs, ys = make_moons()
    weights = initial_weights()
    tape = make_tape_engine(weights, xs, ys, "numpy")
    torch_engine = make_torch_engine(weights, xs, ys, threads=1)
    if tape is None or torch_engine is None:
        return None
    print(
        f"\n1b. Head to head, the same step: NumPy tape vs batched PyTorch float64 with torch held at 1 "
        f"thread\n  ({rounds} rounds of ~50 ms of steps each, alternating; medians; NumPy's BLAS as "
        "installed)"
    )
    with torch_threads(1):
        tape.step(0.0)
        torch_engine.step(0.0)
        tape_s, torch_s = head_to_head(tape, torch_engine, rounds)
    print(f"  {tape.name:<48}{tape_s * 1e6:>9,.0f} us per step")
    print(f"  {torch_engine.name:<48}{torch_s * 1e6:>9,.0f} us per step")
    print(f"  NumPy tape / PyTorch (1 thread): {tape_s / torch_s:.2f}x")
    return tape_s, torch_s


def run_digits(timeout: float = 300.0) -> tuple[float, float, float] | None:
    """Run `examples/digits.py --engine tape` as a subprocess: (accuracy, whole-process s, s per epoch).

    The wall-clock time covers the whole process (interpreter start, imports, data loading,
    training, evaluation, pictures and the digit pad, written to a temporary folder). Returns
    None (and prints why) when the example fails or its output has no accuracy line.
    """
    import re
    import subprocess
    import tempfile

    script = _ROOT / "examples" / "digits.py"
    with tempfile.TemporaryDirectory(prefix="axongrad-digits-") as folder:
        command = [sys.executable, str(script), "--engine", "tape", "--out", folder]
        start = time.perf_counter()
        try:
            done = subprocess.run(  # noqa: S603 (our own example, our own interpreter)
                command, capture_output=True, text=True, timeout=timeout, cwd=_ROOT, check=False
            )
        except subprocess.TimeoutExpired:
            print(f"  examples/digits.py --engine tape took more than {timeout:g} s; no figure")
            return None
        seconds = time.perf_counter() - start
    accuracy = re.search(r"^test accuracy: ([0-9.]+)\s*$", done.stdout, re.MULTILINE)
    per_epoch = re.search(r"([0-9.]+) s per epoch", done.stdout)
    if done.returncode != 0 or accuracy is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        print(f"  examples/digits.py --engine tape failed (exit {done.returncode}): {' | '.join(tail)}")
        return None
    return float(accuracy.group(1)), seconds, float(per_epoch.group(1)) if per_epoch else math.nan


def print_issue12_targets(
    rows: Sequence[Row],
    digits: tuple[float, float, float] | None,
    versus_torch: tuple[float, float] | None = None,
) -> None:
    """Issue 12's table: each measured ratio (medians of section 1, or 1b's) beside its target."""
    by_name = {r.name: r for r in rows}
    mg_off = by_name.get("micrograd 0.1.0 (gc off)")
    pairs: list[tuple[str, str, str, float, bool]] = [
        ("NumPy tape / batched PyTorch float64, 1 thread (section 1)", TAPE_BACKENDS["numpy"],
         "batched PyTorch float64 (nn.Linear, 1 thread)", TARGET12_NUMPY_TAPE_VS_TORCH, True),
        ("pure-Python tape / plain floats (keep ~0.6x)", TAPE_BACKENDS["python"], "plain Python floats",
         TARGET12_TAPE_VS_PLAIN, True),
    ]
    print(f"  {'figure (MLP 2-16-16-1, 100 samples; medians)':<58}{'measured':>10}")
    if versus_torch is not None:
        ratio = versus_torch[0] / versus_torch[1]
        label = "NumPy tape / batched PyTorch float64, 1 thread (1b)"
        print(target_line(label, ratio, TARGET12_NUMPY_TAPE_VS_TORCH, True))
        # Section 1's PyTorch rows share the process with a 2-thread row and a gc.collect() after
        # every call; under load their times turn bimodal, so 1b's head-to-head carries the target.
        num, den = by_name.get(pairs[0][1]), by_name.get(pairs[0][2])
        if num is not None and den is not None:
            shown = f"{num.median / den.median:.2f}x"
            print(f"  {'  (section 1 rows, for comparison: no verdict)':<58}{shown:>10}")
        pairs = pairs[1:]
    for label, num, den, target, at_most in pairs:
        if num in by_name and den in by_name:
            print(target_line(label, by_name[num].median / by_name[den].median, target, at_most))
        else:
            print(f"  {label:<58}{'no row':>10}   (engine not available)")
    for label, name, target in (
        ("micrograd (gc off) / axongrad, micrograd-style code", "axongrad, micrograd-style code",
         TARGET12_MICROGRAD_STYLE),
        ("micrograd (gc off) / axongrad, nn.MLP", "axongrad, nn.MLP (weighted_sum)", TARGET12_NN_MLP),
    ):
        if mg_off is not None and name in by_name:
            print(target_line(label, mg_off.median / by_name[name].median, target, False))
        else:
            print(f"  {label:<58}{'no row':>10}")
    if digits is None:
        print(f"  {'examples/digits.py --engine tape':<58}{'not run':>10}")
        return
    accuracy, seconds, per_epoch = digits
    print(target_line("examples/digits.py --engine tape: held-out accuracy", accuracy,
                      TARGET12_DIGITS_ACCURACY, False, unit=""))
    print(target_line(f"  ... whole process (subprocess wall clock; {per_epoch:.2f} s per epoch)", seconds,
                      TARGET12_DIGITS_SECONDS, True, unit="s"))


def section_step(repeat: int, cprofile: bool) -> tuple[list[Row], str]:
    """Section 1: the training step."""
    xs, ys = make_moons()
    weights = initial_weights()
    engines, variant = step_engines(weights, xs, ys)
    loss = check_step_engines(engines)
    print(
        f"\n1. Training step: MLP {'-'.join(map(str, SIZES))}, {N_SAMPLES} samples, max-margin loss "
        f"+ {ALPHA:g} L2, backward, SGD (lr {LR:g})"
    )
    print(
        f"  all {len(engines)} engines agree with micrograd to {TOLERANCE:g} (loss {loss:.12f}, "
        f"{len(engines[-1].grads())} gradients)"
    )
    print(f"  weighted_sum variant: {variant}")
    if not any(e.name in TAPE_BACKENDS.values() for e in engines):
        print("  compiled tape (issue 6): not available, no row")
    contenders = [(e.name, "gc off" not in e.name, (lambda s=e.step: s(LR))) for e in engines]
    rows = interleaved(contenders, repeat)
    print(f"  medians of {repeat} interleaved rounds; all engines run with gc on unless the row says so")
    print(LEGEND)
    print_rows(rows)
    mg_on, mg_off = rows[0], rows[1]
    plain = next(r for r in rows if r.name.startswith("plain"))
    by_name = {r.name: r for r in rows}
    print("  ratios (medians):")
    for row in rows[2:]:
        if not row.name.startswith("axongrad,"):  # the scalar Value engines
            continue
        print(f"  [{row.name}]")
        print(ratio_line("micrograd (gc on) / axongrad", mg_on, row, TARGET_VS_MICROGRAD))
        print(ratio_line("micrograd (gc off) / axongrad", mg_off, row, TARGET_VS_MICROGRAD_GC_OFF))
        print(ratio_line("axongrad / plain floats", row, plain))
    print(ratio_line("[reference] micrograd (gc on) / plain floats", mg_on, plain))
    print_tape_ratios(by_name, mg_on, mg_off, plain)
    if cprofile:
        for engine in engines[2:4]:
            print(f"\n  cProfile of 5 steps: {engine.name}")
            profiler = cProfile.Profile()
            for _ in range(5):
                profiler.runcall(engine.step, LR)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    return rows, variant


def print_tape_ratios(by_name: dict[str, Row], mg_on: Row, mg_off: Row, plain: Row) -> None:
    """Issue 6's three speed targets for the compiled tape, each with its target, and context."""
    py_tape = by_name.get(TAPE_BACKENDS["python"])
    np_tape = by_name.get(TAPE_BACKENDS["numpy"])
    torch_rows = [r for name, r in by_name.items() if name.startswith("batched PyTorch")]
    torch_1 = next((r for r in torch_rows if r.name.endswith(" 1 thread)")), None)
    print("  [compiled tape: issue 6 targets]")
    if py_tape is not None:
        print(
            ratio_line("pure-Python tape / plain floats", py_tape, plain, TARGET_TAPE_VS_PLAIN, at_most=True)
        )
    if np_tape is not None:
        print(ratio_line("micrograd (gc on) / NumPy tape", mg_on, np_tape, TARGET_MICROGRAD_VS_NUMPY_TAPE))
        if torch_1 is not None:
            print(
                ratio_line(
                    "NumPy tape / batched PyTorch (1 thread)",
                    np_tape,
                    torch_1,
                    TARGET_NUMPY_TAPE_VS_TORCH,
                    at_most=True,
                )
            )
        else:
            print("  NumPy tape / batched PyTorch: no PyTorch row (torch not installed)")
    print("  [compiled tape: context]")
    if py_tape is not None:
        print(ratio_line("micrograd (gc on) / pure-Python tape", mg_on, py_tape))
        print(ratio_line("micrograd (gc off) / pure-Python tape", mg_off, py_tape))
    if np_tape is not None:
        print(ratio_line("micrograd (gc off) / NumPy tape", mg_off, np_tape))
        if py_tape is not None:
            print(ratio_line("pure-Python tape / NumPy tape", py_tape, np_tape))
        print(ratio_line("plain floats / NumPy tape", plain, np_tape))
        for row in torch_rows:
            if row is not torch_1:
                print(ratio_line(f"NumPy tape / PyTorch ({row.name.split(', ')[-1]}", np_tape, row))
    if torch_1 is not None:
        for row in torch_rows:
            if row is not torch_1:
                print(ratio_line(f"PyTorch ({row.name.split(', ')[-1]} / PyTorch (1 thread)", row, torch_1))
        print(ratio_line("plain floats / batched PyTorch (1 thread)", plain, torch_1))

