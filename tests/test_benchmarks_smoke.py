"""Smoke test of benchmarks/engine.py at a tiny size: every engine computes the same numbers (no timing)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("micrograd", reason="the benchmark compares with micrograd 0.1.0 (the dev extra)")

from autograd import Value

# benchmarks/ is not a package: its modules import each other by name, as when run as scripts.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import compare
import measure
import memory
import step
import sweep
import targets
import workload


@pytest.fixture(scope="module")
def tiny() -> tuple[list[list[float]], list[float], list]:
    """12 moons samples and micrograd's initial weights for a 2-4-3-1 network."""
    xs, ys = workload.make_moons(12, seed=3)
    weights = workload.initial_weights((2, 4, 3, 1), seed=5)
    # micrograd starts biases at 0; make them non-zero so bias gradients are exercised too
    weights = [[(w, 0.1 * (j - 1)) for j, (w, _) in enumerate(layer)] for layer in weights]
    return xs, ys, weights


def test_make_moons_is_seeded_with_labels_plus_minus_one() -> None:
    xs, ys = workload.make_moons(10, seed=1)
    assert (xs, ys) == workload.make_moons(10, seed=1)
    assert len(xs) == 10 and all(len(row) == 2 for row in xs)
    assert sorted(set(ys)) == [-1.0, 1.0]


def test_step_engines_agree_on_loss_and_gradients(tiny) -> None:
    xs, ys, weights = tiny
    mg_value, mg_mlp = workload._micrograd()
    micrograd_model = mg_mlp(2, [4, 3, 1])
    workload.load_weights(micrograd_model, weights)
    plain = workload.PlainMLP(weights)
    engines = [
        workload.value_engine("micrograd", mg_value, micrograd_model, xs, ys),
        workload.value_engine("binary", Value, workload.LocalMLP(Value, weights), xs, ys),
        workload.value_engine("fused", Value, workload.LocalMLP(Value, weights, fused=True), xs, ys),
        workload.Engine("plain", lambda lr: plain.step(xs, ys, lr), plain.grads),
    ]
    reference = workload.reference_result(engines[0])
    assert reference[0] > 0.0 and any(g != 0.0 for g in reference[1])
    for engine in engines[1:]:
        assert workload.disagreement(reference, engine) is None, engine.name
    # and the SGD update moves every engine's weights the same way
    losses = [engine.step(0.5) for engine in engines]
    after = [engine.step(0.0) for engine in engines]
    assert max(losses) - min(losses) < 1e-9
    assert max(after) - min(after) < 1e-9


def _micrograd_engine(xs: list[list[float]], ys: list[float], weights: list):
    """micrograd 0.1.0's MLP 2-4-3-1 holding `weights`, as a benchmark Engine."""
    mg_value, mg_mlp = workload._micrograd()
    model = mg_mlp(2, [4, 3, 1])
    workload.load_weights(model, weights)
    return workload.value_engine("micrograd", mg_value, model, xs, ys)


def _assert_same_training(reference_engine, engine) -> None:
    """`engine` matches micrograd's loss and gradients to 1e-9, before and after two SGD steps."""
    reference = workload.reference_result(reference_engine)
    assert reference[0] > 0.0 and any(g != 0.0 for g in reference[1])
    assert workload.disagreement(reference, engine) is None, engine.name
    for lr in (0.5, 0.3):
        expected, got = reference_engine.step(lr), engine.step(lr)
        assert got == pytest.approx(expected, abs=1e-9), engine.name
    assert workload.disagreement(workload.reference_result(reference_engine), engine) is None, engine.name


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_tape_engines_agree_with_micrograd(tiny, backend: str) -> None:
    if backend == "numpy":
        pytest.importorskip("numpy", reason="the NumPy tape back end needs numpy (the numpy extra)")
    xs, ys, weights = tiny
    engine = workload.make_tape_engine(weights, xs, ys, backend)
    assert engine is not None and engine.name == workload.TAPE_BACKENDS[backend]
    _assert_same_training(_micrograd_engine(xs, ys, weights), engine)


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_torch_engine_agrees_with_micrograd(tiny, threads: int) -> None:
    torch = pytest.importorskip("torch", reason="the batched PyTorch row needs torch (the torch extra)")
    xs, ys, weights = tiny
    before = torch.get_num_threads()
    engine = workload.make_torch_engine(weights, xs, ys, threads)
    assert engine is not None and f"{threads} thr" in engine.name
    _assert_same_training(_micrograd_engine(xs, ys, weights), engine)
    assert torch.get_num_threads() == before  # each step restores the process's thread count


def test_ratio_line_checks_floors_and_ceilings() -> None:
    def row(ms: float) -> object:
        return measure.Row("r", samples=[measure.Sample(ms / 1e3, 0.0, (0, 0, 0), 0.0, 0)])

    assert "target <= 3x: met" in measure.ratio_line("t", row(5.0), row(2.0), 3.0, at_most=True)
    assert "target <= 3x: MISSED" in measure.ratio_line("t", row(7.0), row(2.0), 3.0, at_most=True)
    assert "target >= 300x: MISSED" in measure.ratio_line("t", row(500.0), row(2.0), 300.0)
    assert "target >= 300x: met" in measure.ratio_line("t", row(700.0), row(2.0), 300.0)


def test_disagreement_catches_a_wrong_gradient(tiny) -> None:
    xs, ys, weights = tiny
    good = workload.value_engine("good", Value, workload.LocalMLP(Value, weights), xs, ys)
    reference = workload.reference_result(good)
    wrong = workload.Engine("wrong", good.step, lambda: [g + 1e-6 for g in good.grads()])
    assert "gradient of parameter 0" in workload.disagreement(reference, wrong)


def test_wide_sum_engines_agree() -> None:
    mg_value, _ = workload._micrograd()
    data = [0.25 * i - 1.0 for i in range(13)]  # odd length: exercises the carried element
    total, grads = memory.wide_sum_plain(data)
    assert total == pytest.approx(sum(data), abs=1e-12) and grads == [1.0] * 13
    for cls in (Value, mg_value):
        assert memory.wide_sum_values(cls, data) == (pytest.approx(total, abs=1e-12), [1.0] * 13)


def test_chain_gradients_and_micrograd_depth_limit() -> None:
    assert memory.chain(Value, 5_000) == (1.0, 5_000.0)
    mg_value, _ = workload._micrograd()
    assert memory.chain(mg_value, 50) == (1.0, 50.0)
    with pytest.raises(RecursionError):
        memory.chain(mg_value, 5_000)


def test_memory_counters_see_one_tracked_object_per_axongrad_node() -> None:
    mg_value, _ = workload._micrograd()
    build = memory.build_chain(Value, 2_000)
    assert memory.tracked_objects(build) == pytest.approx(2_002, abs=20)
    assert memory.tracked_objects(memory.build_chain(mg_value, 2_000)) > 3 * 2_000
    assert memory.traced_bytes(build) > 50 * 2_000
    assert memory.count_nodes(build()) == 2_002


def test_measure_reports_micrograd_cycles_and_no_axongrad_garbage() -> None:
    mg_value, _ = workload._micrograd()
    data = [float(i) for i in range(200)]
    gc.collect()  # what importing and earlier tests left is not this call's garbage
    clean = measure.measure(lambda: memory.wide_sum_values(Value, data))
    assert (clean.garbage, clean.cleanup_seconds) == (0, 0.0)  # no garbage: no reclaim charged
    cyclic = measure.measure(lambda: memory.wide_sum_values(mg_value, data))
    assert cyclic.garbage > 200
    assert measure.METER not in __import__("gc").callbacks  # measure() unregisters its hook


def test_a_call_that_left_no_garbage_is_charged_no_reclaim() -> None:
    # The first collection after a call is slower than the empty one by cache noise alone.
    assert measure.reclaim_seconds(0.004, 0.001, garbage=0) == 0.0
    assert measure.reclaim_seconds(0.004, 0.001, garbage=5) == pytest.approx(0.003)
    assert measure.reclaim_seconds(0.001, 0.004, garbage=5) == 0.0


def test_sweep_checks_and_times_tiny_cases() -> None:
    pytest.importorskip("numpy", reason="the sweep times the NumPy tape")
    pytest.importorskip("torch", reason="the sweep compares with batched PyTorch (the torch extra)")
    rows = sweep.sweep(widths=(3, 5), batches=(1, 7), budget=0.0)
    assert [(r.width, r.batch) for r in rows] == [(3, 1), (3, 7), (5, 1), (5, 7)]
    for r in rows:
        assert r.tape > 0.0 and r.torch > 0.0 and r.ratio == r.tape / r.torch
        assert set(r.tape_phases) == {
            "tape.run + loss sum", "tape.gradient", "L2 + SGD (arrays)", "set_parameters (Python loop)"
        }
        assert r.torch_tape is not None and r.torch_tape > 0.0  # the torch back end's column
        assert r.winner in ("numpy tape", "torch", "torch tape")
        assert r.fit is not None and r.fit[0] > 0.0 and r.fit[1] > 0.0  # what a learner runs: nn.fit
    sweep.print_sweep(rows)  # the table prints for any rows


def test_torch_tape_step_agrees_with_micrograd(tiny) -> None:
    pytest.importorskip("torch", reason="the sweep's torch tape column needs the torch extra")
    xs, ys, weights = tiny
    engine = workload.make_tape_engine(weights, xs, ys, "torch")
    assert engine is not None and engine.name == workload.TORCH_TAPE
    _assert_same_training(_micrograd_engine(xs, ys, weights), engine)


def test_issue23_fit_figures_time_the_step_and_show_the_setup_apart(capsys) -> None:
    pytest.importorskip("torch", reason="the fit rows compare with batched PyTorch (the torch extra)")
    step, setup, first = targets.fit_figures((2, 3, 3, 1), 8, 1.0, rounds=1)
    assert step.value > 0.0 and step.at_most and step.target == 1.0
    for figure in (setup, first):
        assert figure.target is None and figure.unit == "ms" and figure.value > 0.0 and figure.met
    assert "fit 2-3-3-1 x 8:" in capsys.readouterr().out
    made = targets.fit_engine((2, 3, 3, 1), 8)
    assert made is not None
    fit, model, (xs, ys) = made
    torch_engine = workload.make_torch_engine(targets.weights_of(model), xs, ys, threads=1, alpha=0.0)
    torch_loss = torch_engine.step(workload.LR)
    history, seconds = fit(3)
    assert abs(history.loss[0] - torch_loss) <= 1e-9  # the same first loss, as the check needs
    assert len(history.time) == 3 and seconds > sum(history.time)  # the setup is what the epochs are not


def test_issue23_paused_step_runs_with_the_collector_off() -> None:
    seen = []
    targets.paused(lambda lr: seen.append((lr, gc.isenabled())) or 0.0)()
    assert seen == [(workload.LR, False)]


def test_issue23_targets_print_each_figure_beside_its_target_and_load(capsys) -> None:
    figures = [
        targets.Figure("fit(engine='tape') step, 2-16-16-1, B=100 / PyTorch", 0.30, 0.33, True, 1.25),
        targets.Figure("micrograd (gc off) / nn.MLP step", 5.5, 6.0, False, 0.5),
        targets.Figure("examples/digits.py --engine tape, whole process", 2.4, 2.0, True, 3.0, "s"),
    ]
    targets.print_targets(figures)
    lines = capsys.readouterr().out.splitlines()
    assert "load" in lines[0]
    assert "0.30x" in lines[1] and "target <= 0.33x: met" in lines[1] and lines[1].endswith("1.25")
    assert "5.50x" in lines[2] and "target >= 6x: MISSED" in lines[2] and lines[2].endswith("0.50")
    assert "2.40 s" in lines[3] and "target <= 2 s: MISSED" in lines[3]
    assert [f.met for f in figures] == [True, False, False]
    targets.print_targets([targets.Figure("  ... setup per fit call", 12.5, None, True, 0.5, "ms")])
    line = capsys.readouterr().out.splitlines()[1]
    assert "12.5 ms" in line and "no target" in line and line.endswith("0.50")


def test_sweep_engines_agree_on_random_weights() -> None:
    pytest.importorskip("numpy", reason="the sweep times the NumPy tape")
    pytest.importorskip("torch", reason="the sweep compares with batched PyTorch (the torch extra)")
    weights = workload.random_weights((2, 6, 6, 1), seed=11)
    assert [len(layer) for layer in weights] == [6, 6, 1] and len(weights[1][0][0]) == 6
    assert all(abs(w) <= 1 / 6**0.5 for layer in weights[1:2] for ws, _ in layer for w in ws)
    xs, ys = workload.make_moons(9, seed=2)
    tape = workload.make_tape_engine(weights, xs, ys, "numpy")
    torch_engine = workload.make_torch_engine(weights, xs, ys, threads=1)
    assert workload.disagreement(workload.reference_result(tape), torch_engine) is None
    # a wrong engine is caught: the sweep would stop rather than time it
    wrong = workload.Engine(
        "wrong", torch_engine.step, lambda: [g * 1.001 + 1e-6 for g in torch_engine.grads()]
    )
    assert workload.disagreement(workload.reference_result(tape), wrong) is not None


def test_phase_times_name_every_phase_and_need_marks(tiny) -> None:
    xs, ys, weights = tiny
    tape = workload.make_tape_engine(weights, xs, ys, "python")
    phases = workload.phase_times(tape, 0.0)
    assert list(phases) == [
        "zero grads (Python loop)", "tape.run + loss sum", "tape.backward", "L2 + SGD (Python loop)"
    ]
    assert all(t >= 0.0 for t in phases.values())
    with pytest.raises(ValueError, match="does not record phases"):
        workload.phase_times(workload.Engine("plain", lambda lr: 0.0, list), 0.0)


def test_issue12_targets_print_each_ratio_beside_its_target(capsys) -> None:
    def row(name: str, ms: float) -> object:
        return measure.Row(name, samples=[measure.Sample(ms / 1e3, 0.0, (0, 0, 0), 0.0, 0)])

    rows = [
        row("micrograd 0.1.0 (gc off)", 100.0),
        row("axongrad, micrograd-style code", 40.0),
        row("axongrad, nn.MLP (weighted_sum)", 25.0),
        row("plain Python floats", 6.0),
        row(workload.TAPE_BACKENDS["python"], 3.6),
        row(workload.TAPE_BACKENDS["numpy"], 0.3),
        row("batched PyTorch float64 (nn.Linear, 1 thread)", 0.5),
    ]
    step.print_issue12_targets(rows, (0.961, 6.5, 0.11))
    out = capsys.readouterr().out
    assert "0.60x   target <= 0.5x: MISSED" in out  # 0.3 / 0.5
    assert "0.60x   target <= 0.7x: met" in out  # 3.6 / 6
    assert "2.50x   target >= 2x: met" in out
    assert "4.00x   target >= 5x: MISSED" in out
    assert "0.961   target >= 0.95: met" in out
    assert "6.50 s   target <= 5 s: MISSED" in out
    step.print_issue12_targets(rows[:1], None)
    assert "not run" in capsys.readouterr().out


def test_run_digits_parses_the_example_output(monkeypatch) -> None:
    import subprocess

    def fake_run(command, **kwargs):
        assert "--engine" in command and "tape" in command
        out = "  0.11 s per epoch (tape engine)\ntest accuracy: 0.9610\n"
        return subprocess.CompletedProcess(command, 0, out, "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    accuracy, seconds, per_epoch = step.run_digits()
    assert (accuracy, per_epoch) == (0.961, 0.11) and seconds >= 0.0

    def failing(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "Traceback\nSystemExit: digits: no sklearn\n")

    monkeypatch.setattr(subprocess, "run", failing)
    assert step.run_digits() is None


def test_head_to_head_times_both_engines_and_restores_torch_threads() -> None:
    calls: list[str] = []

    def engine(name: str, seconds: float) -> object:
        def step(lr: float) -> float:
            calls.append(name)
            import time

            time.sleep(seconds)
            return 0.0

        return workload.Engine(name, step, list)

    a, b = measure.head_to_head(engine("a", 0.002), engine("b", 0.0), rounds=3, block=0.0)
    assert a > b and a >= 0.002
    assert calls == ["a", "b"] * 3  # alternating, one step per block when the block is 0 s
    torch = pytest.importorskip("torch", reason="torch_threads needs torch")
    before = torch.get_num_threads()
    with measure.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_issue12_head_to_head_line_uses_its_own_figures(capsys) -> None:
    def row(name: str, ms: float) -> object:
        return measure.Row(name, samples=[measure.Sample(ms / 1e3, 0.0, (0, 0, 0), 0.0, 0)])

    rows = [
        row(workload.TAPE_BACKENDS["numpy"], 0.3), row("batched PyTorch float64 (nn.Linear, 1 thread)", 3.0)
    ]
    step.print_issue12_targets(rows, None, (0.0003, 0.0004))
    out = capsys.readouterr().out
    assert "(1b)" in out and "0.75x   target <= 0.5x: MISSED" in out
    # section 1's ratio (0.10x) is shown for comparison, without a verdict of its own
    assert "no verdict)" in out and "0.10x" in out and out.count("target <= 0.5x") == 1


# ---------------------------------------------------------------- compare.py (no valgrind here)


def test_compare_table_says_which_steps_stay_within_the_limit() -> None:
    """(1+k steps - 1 step) / k per step; 5% more is within, anything above is NO."""
    assert compare.per_step(100, 300, 2) == 100 and compare.per_step(100, 1100, 10) == 100
    per = {(0, "a"): 1000, (1, "a"): 1050, (0, "b"): 1000, (1, "b"): 1051}
    lines = compare.table(["base", "new"], ["a", "b"], per, 0.05)
    assert lines[1].split()[-2:] == ["1.050x", "yes"]
    assert lines[2].split()[-2:] == ["1.051x", "NO"]


def test_compare_child_runs_a_step_with_the_given_tree_first(tmp_path: Path) -> None:
    """The child imports autograd from the tree it is given, and refuses a tree that has none."""
    import subprocess

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "compare.py"
    root = script.parent.parent
    done = subprocess.run([sys.executable, str(script), "--child", str(root), "micrograd-style", "1"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok micrograd-style x1", done.stderr
    done = subprocess.run([sys.executable, str(script), "--child", str(root), "fit (tape)", "2"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok fit (tape) x2", done.stderr
    done = subprocess.run([sys.executable, str(script), "--child", str(tmp_path), "nn.MLP", "1"],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0 and f"not from {tmp_path}" in done.stderr


def test_targets_sets_one_blas_thread_before_numpy_is_imported_unless_the_caller_did() -> None:
    code = (
        "import sys; sys.argv = ['engine.py', '--targets']; sys.path.insert(0, 'benchmarks'); "
        "import engine, os; print(os.environ['OPENBLAS_NUM_THREADS'])"
    )
    root = Path(__file__).resolve().parent.parent
    for given, want in ((None, "1"), ("2", "2")):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        if given is not None:
            env["OPENBLAS_NUM_THREADS"] = given
        out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                             check=True, timeout=120).stdout.split()
        assert out[0] == want
