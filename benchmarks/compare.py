"""Instructions per training step, an old commit beside the working tree, in one run (callgrind).

Run from the repository root:

    .venv/bin/python benchmarks/compare.py --base main     # any commit, branch or tag

The base is checked out into a temporary `git worktree`. For each tree (base, then this working
tree) and each step (micrograd's demo step in micrograd-style code on `Value`, the same step on
`nn.MLP`, and on the pure-Python and NumPy tapes; and what a learner runs, an epoch of
`nn.fit(engine="tape")` over the 100 samples in one batch: 1 or 1 + k epochs in one call, so the
call's setup is subtracted too), a fresh interpreter with that tree first on
`sys.path` runs the step under `valgrind --tool=callgrind`, once with 1 step and once with 1 + k
(k = 2 for the scalar steps, 10 and 50 for the smaller tape steps, 50 for fit): (I(1+k) - I(1)) / k is one
step's instructions, with the imports, the setup and the first step's warm-up subtracted
(PYTHONHASHSEED=0 and one BLAS thread, so the two runs differ only by the k extra steps). The
workload code (benchmarks/workload.py) is this working tree's in both, so only the engine differs.
Instruction counts, unlike times, do not move from run to run, so a 5% limit is meaningful.
Exits with status 1 when a step of the working tree costs more than --limit over the base.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

_HERE = Path(__file__).resolve().parent
STEPS = ("micrograd-style", "nn.MLP", "tape (python)", "tape (numpy)", "fit (tape)")
EXTRA = {"micrograd-style": 2, "nn.MLP": 2, "tape (python)": 10, "tape (numpy)": 50, "fit (tape)": 50}  # k
# One thread everywhere: a BLAS pool's idle threads spin, which callgrind would count.
THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
LIMIT = 0.05  # the "no slower by more than 5%"
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def run_child(tree: str, step: str, count: int) -> None:
    """In a fresh interpreter: import the engine from `tree`, then run `count` steps of `step`."""
    root = Path(tree).resolve()
    sys.path.insert(0, str(root))
    import autograd
    import nn

    for module in (autograd, nn):
        where = Path(module.__file__ or "").resolve()
        if root not in where.parents:
            raise SystemExit(f"compare: {module.__name__} came from {where}, not from {root}")
    sys.path.append(str(_HERE))  # the workload, after the tree: autograd and nn are imported already
    import workload

    xs, ys = workload.make_moons()
    weights = workload.initial_weights()
    if step == "micrograd-style":
        model = workload.LocalMLP(autograd.Value, weights)
        engine = workload.value_engine(step, autograd.Value, model, xs, ys)
    elif step == "nn.MLP":
        model = workload.nn_mlp(weights)
        if model is None:
            raise SystemExit(f"compare: nn.MLP does not build in {root}")
        engine = workload.value_engine(step, autograd.Value, model, xs, ys)
    elif step == "fit (tape)":
        model = workload.nn_mlp(weights)
        if model is None:
            raise SystemExit(f"compare: nn.MLP does not build in {root}")
        optimizer = nn.SGD(model.parameters(), lr=workload.LR)
        nn.fit(model, xs, ys, loss="hinge", optimizer=optimizer, epochs=count, batch_size=len(xs),
               progress=False, accuracy=None, engine="tape")
        print(f"ok {step} x{count}")
        return
    else:
        backend = "python" if step == "tape (python)" else "numpy"
        made = workload.make_tape_engine(weights, xs, ys, backend)
        if made is None:
            raise SystemExit(f"compare: the {backend} tape does not build in {root}")
        engine = made
    for _ in range(count):
        engine.step(workload.LR)
    print(f"ok {step} x{count}")


def instructions(tree: Path, step: str, count: int) -> int:
    """Instructions callgrind counts for a whole child process running `count` steps of `step`."""
    with tempfile.TemporaryDirectory(prefix="axongrad-compare-") as folder:
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable, str(Path(__file__).resolve()), "--child", str(tree), step, str(count),
        ]
        env = {**os.environ, **THREADS, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None or "ok " not in done.stdout:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"compare: {step!r} x{count} in {tree} failed (status {done.returncode}):\n{tail}")
    return int(found.group(1))


def per_step(one: int, more: int, extra: int) -> int:
    """One step's instructions from the counts of a 1-step and a (1 + extra)-step process."""
    return (more - one) // extra


def measure_trees(trees: Sequence[Path], steps: Sequence[str], workers: int) -> dict[tuple[int, str], int]:
    """(tree index, step) -> instructions per step, the callgrind runs spread over `workers` processes."""
    pairs = [(t, step) for t in range(len(trees)) for step in steps]
    jobs = [(t, step, count) for t, step in pairs for count in (1, 1 + EXTRA[step])]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(instructions, trees[key[0]], key[1], key[2]) for key in jobs}
        counts = {key: future.result() for key, future in futures.items()}
    return {
        (t, step): per_step(counts[t, step, 1], counts[t, step, 1 + EXTRA[step]], EXTRA[step])
        for t, step in pairs
    }


def table(
    labels: Sequence[str], steps: Sequence[str], per: dict[tuple[int, str], int], limit: float
) -> list[str]:
    """The report: instructions per step for base and working tree, their ratio and the verdict."""
    lines = [f"{'step':<18} {labels[0]:>16} {labels[1]:>16} {'new/base':>9}  within {limit:.0%}"]
    for step in steps:
        base, new = per[0, step], per[1, step]
        ratio = new / base if base else float("inf")
        verdict = "yes" if ratio <= 1.0 + limit else "NO"
        lines.append(f"{step:<18} {base / 1e6:>15.3f}M {new / 1e6:>15.3f}M {ratio:>8.3f}x  {verdict}")
    return lines


def git(*args: str) -> str:
    """Run git in the repository that holds this file; its stdout, or a RuntimeError with stderr."""
    command = ["git", "-C", str(_HERE.parent), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def main(argv: Iterable[str] | None = None) -> int:
    """Parse the options, measure both trees and print the table; 1 when a step got too slow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", help="the commit to compare against (checked out in a temporary worktree)")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS), help="which steps to count")
    parser.add_argument("--limit", type=float, default=LIMIT, help="allowed extra cost (default 0.05: 5%%)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="callgrind runs at once")
    parser.add_argument("--child", nargs=3, metavar=("TREE", "STEP", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.child:
        tree, step, count = args.child
        run_child(tree, step, int(count))
        return 0
    if not args.base:
        parser.error("--base COMMIT is required")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    commit = git("rev-parse", "--verify", f"{args.base}^{{commit}}")
    labels = [f"base {commit[:9]}", "working tree"]
    with tempfile.TemporaryDirectory(prefix="axongrad-base-") as folder:
        base = Path(folder) / "tree"
        git("worktree", "add", "--detach", str(base), commit)
        try:
            print(f"callgrind, instructions per step ((1+k steps - 1 step) / k); base {commit[:12]} "
                  f"({git('log', '-1', '--format=%s', commit)[:60]}) vs {_HERE.parent}")
            per = measure_trees([base, _HERE.parent], args.steps, max(1, args.workers))
        finally:
            git("worktree", "remove", "--force", str(base))
    lines = table(labels, args.steps, per, args.limit)
    print("\n".join(lines))
    return 1 if any(line.endswith("NO") for line in lines[1:]) else 0


if __name__ == "__main__":
    sys.exit(main())
