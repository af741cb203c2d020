"""Speed and memory of axongrad's engine against micrograd 0.1.0 and hand-written plain floats.

Run from the repository root:

    .venv/bin/python benchmarks/engine.py [--repeat N] [--quick] [--cprofile] [--sweep] [--no-digits]
    .venv/bin/python benchmarks/engine.py --targets [--repeat N] [--no-digits]   # issue 23's table only

Everything runs in one process and repetitions are interleaved (A, B, C, A, B, C, ...), so a
slow phase of the machine hits every engine alike; each row shows the median and the minimum.
Sections: (1) a training step of micrograd's demo MLP 2-16-16-1 over 100 samples with its
max-margin loss + 1e-4 L2 (build graph, backward, SGD update); (2) a 100,000-leaf sum; (3) a
1,000,000-node chain (micrograd's recursive topological sort cannot); (4) bytes per node
(tracemalloc); (5) objects the cycle collector tracks per node; (6) where axongrad's step spends
its time; (7) `examples/digits.py --engine tape` as a subprocess; then issue 12's targets, each
beside its figure; (8, with --sweep) NumPy tape vs batched PyTorch over batch 1..10,000 and width
4..256, with where PyTorch's time goes at the small size. micrograd comes from the `dev` extra:
pip install 'axongrad[dev]'.
"""


from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Iterable
from pathlib import Path

# issue 23's table is measured on 1 BLAS thread. OpenBLAS reads its thread count once, when numpy
# is imported (threadpoolctl cannot always change it later), so it is set here, before any import
# below can load numpy; a value the caller set is kept (the table's heading prints it).
if "--targets" in sys.argv[1:]:
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

# Run as a script from anywhere: make the repository's packages and these modules importable.
_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from measure import metering  # noqa: E402
from memory import section_chain, section_memory, section_wide  # noqa: E402
from step import print_breakdown, print_issue12_targets, run_digits, section_head_to_head, section_step  # noqa: E402
from sweep import section_sweep  # noqa: E402
from targets import section_targets  # noqa: E402
from workload import MEMORY_N, LocalMLP, initial_weights, make_moons, nn_mlp, torch_default_threads  # noqa: E402

from autograd import Value  # noqa: E402


def freeze_startup_heap() -> int:
    """Import the optional libraries the rows use, then `gc.freeze()` everything alive; the count.

    Importing torch adds about 150,000 objects the cycle collector tracks; every full collection
    would scan them, which roughly doubles micrograd's (gc on) step and makes the reclaim
    measurement (two gc.collect() calls subtracted) noisy by milliseconds. Frozen objects are
    skipped by every collection, as if the process had imported only what micrograd needs.
    """
    for name in ("numpy", "torch"):
        try:
            __import__(name)
        except ImportError:
            pass
    torch_default_threads()  # read torch's default before any row changes it
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def main(argv: Iterable[str] | None = None) -> None:
    """Parse the options and run every section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions of the step (default 15)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 20 s)")
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile of the axongrad steps")
    parser.add_argument(
        "--sweep", action="store_true",
        help="also sweep batch (1..10,000) and width (4..256): NumPy tape vs PyTorch (a few minutes)",
    )
    parser.add_argument(
        "--no-digits", action="store_true", help="skip running examples/digits.py --engine tape"
    )
    parser.add_argument(
        "--targets", action="store_true",
        help="only issue 23's target table (fit and tape vs PyTorch, digits, micrograd ratios)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    repeat = args.repeat if args.repeat is not None else (3 if args.quick else 15)
    if repeat < 1:
        parser.error(f"--repeat needs a positive number, got {repeat}")
    big_repeat = max(1, repeat // 5)
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}, "
        f"gc enabled: {gc.isenabled()}, thresholds {gc.get_threshold()}, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    frozen = freeze_startup_heap()
    print(
        f"gc.freeze(): the {frozen:,} objects alive after importing numpy and torch are exempt from "
        "collection, so their size does not slow every engine's collections"
    )
    started = time.perf_counter()
    if args.targets:
        with metering():
            section_targets(repeat, None if args.no_digits else run_digits)
        if args.sweep:
            section_sweep()
        print(f"\n(total run {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")
        return
    with metering():
        step_rows, _ = section_step(repeat, args.cprofile)
        versus_torch = section_head_to_head(repeat)
        section_wide(max(1, repeat // 3))
        section_chain(big_repeat)
        section_memory(MEMORY_N // 5 if args.quick else MEMORY_N)
        print(
            "\n6. Where axongrad's step goes (mean of "
            f"{max(3, repeat // 3)} steps; manual timers; 'in gc' = cycle collector time inside the phase)"
        )
        xs, ys = make_moons()
        weights = initial_weights()
        print_breakdown("micrograd-style code", LocalMLP(Value, weights), xs, ys, max(3, repeat // 3))
        fused = nn_mlp(weights) or LocalMLP(Value, weights, fused=True)
        print_breakdown(
            f"weighted_sum neuron ({type(fused).__module__}.{type(fused).__name__})",
            fused,
            xs,
            ys,
            max(3, repeat // 3),
        )
    digits = None
    if not args.no_digits:
        print("\n7. examples/digits.py --engine tape, run as a subprocess (whole process, wall clock)")
        digits = run_digits()
        if digits is not None:
            print(f"  test accuracy {digits[0]:.4f} in {digits[1]:.2f} s ({digits[2]:.2f} s per epoch)")
    print("\nIssue 12's targets (section 1's medians, 1b's head to head, section 7's run):")
    print_issue12_targets(step_rows, digits, versus_torch)
    if args.sweep:
        section_sweep()
    print(f"\n(total run {time.perf_counter() - started:.0f} s; gc enabled at exit: {gc.isenabled()}; "
          f"load average {os.getloadavg()[0]:.2f})")



if __name__ == "__main__":
    main()
