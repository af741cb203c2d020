"""The posts' worked examples (examples 1-5): each main() in its fast setting, its claims re-checked."""

from __future__ import annotations

import importlib
import itertools
import math
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("matplotlib", reason="the examples draw with matplotlib (pip install 'axongrad[plots]')")

from autograd import Value, numerical_grad

pytestmark = pytest.mark.filterwarnings("error")  # the examples run without a warning
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = ["smallest_ann", "brute_force_vs_gradient", "threshold_to_bias", "step_vs_sigmoid",
           "multiply_with_neurons"]


def load(name: str) -> ModuleType:
    """Import examples/<name>.py (the examples folder is not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def run(name: str, out: Path) -> dict[str, Any]:
    """The example's main() in its fast setting, writing into `out`."""
    result: dict[str, Any] = load(name).main(["--fast", "--out", str(out)])
    return result


def assert_pictures(result: dict[str, Any], out: Path) -> None:
    """Every file the example reports exists in `out` and is not empty; PNGs are PNGs."""
    assert result["folder"] == out
    files = [Path(f) for f in result["files"]]
    assert files
    for f in files:
        assert f.parent == out and f.stat().st_size > 0, f
        if f.suffix == ".png":
            assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f
    if shutil.which("dot") is not None:
        dots = [f for f in files if f.suffix == ".dot"]
        for d in dots:
            assert d.with_suffix(".svg") in files and d.with_suffix(".png") in files


# ---------------------------------------------------------------- 1. smallest ANN


def test_smallest_ann_gradients_agree_three_ways(tmp_path: Path) -> None:
    ex = load("smallest_ann")
    result = run("smallest_ann", tmp_path)
    for b, c, n in zip(result["backward"], result["closed_form"], result["numerical"]):
        assert b == pytest.approx(c, abs=1e-9)
        assert b == pytest.approx(n, abs=1e-6)
    # An independent reference for the closed form itself: central differences of the float error.
    numeric = numerical_grad(lambda w: ex.error(w[0], w[1]), [ex.W0_START, ex.W1_START])
    assert result["closed_form"] == pytest.approx(numeric, abs=1e-7)
    assert_pictures(result, tmp_path)
    names = {f.name for f in result["files"]}
    assert {"graph_before_backward.dot", "graph_after_backward.dot", "error_per_step.png"} <= names


def test_smallest_ann_explain_is_the_posts_chain_rule(tmp_path: Path) -> None:
    ex = load("smallest_ann")
    result = run("smallest_ann", tmp_path)
    closed = dict(zip(("W0", "W1"), result["closed_form"]))
    expected_factors = {
        "W0": ["dE/dY'", "dY'/dZ1", "dZ1/da0", "da0/dZ0", "dZ0/dW0"],
        "W1": ["dE/dY'", "dY'/dZ1", "dZ1/dW1"],
    }
    z0 = ex.W0_START * ex.X
    a0 = ex.sigmoid(z0)
    z1 = ex.W1_START * a0
    # The post's factors on plain floats: (Y'-Y), s'(Z1), W1, s'(Z0), X  and  (Y'-Y), s'(Z1), a0.
    expected_values = {
        "W0": [ex.sigmoid(z1) - ex.Y, ex.sigmoid_slope(z1), ex.W1_START, ex.sigmoid_slope(z0), ex.X],
        "W1": [ex.sigmoid(z1) - ex.Y, ex.sigmoid_slope(z1), a0],
    }
    for name, explanation in result["explain"].items():
        (path,) = explanation.paths
        assert [str(f) for f in path.factors] == expected_factors[name]
        assert [f.value for f in path.factors] == pytest.approx(expected_values[name], abs=1e-14)
        assert explanation.total == pytest.approx(closed[name], abs=1e-15)
        assert f"dE/d{name}" in str(explanation)


def test_smallest_ann_training_lowers_error(tmp_path: Path) -> None:
    result = run("smallest_ann", tmp_path)
    errors = result["errors"]
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert errors[-1] < result["threshold"] <= 1e-3
    assert errors[0] > 100 * errors[-1]


def test_smallest_ann_matches_torch() -> None:
    torch = pytest.importorskip("torch", reason="needs torch: pip install 'axongrad[torch]'")
    ex = load("smallest_ann")
    w0 = torch.tensor(ex.W0_START, dtype=torch.float64, requires_grad=True)
    w1 = torch.tensor(ex.W1_START, dtype=torch.float64, requires_grad=True)
    e = 0.5 * (torch.sigmoid(w1 * torch.sigmoid(w0 * ex.X)) - ex.Y) ** 2
    e.backward()
    nodes = ex.network(ex.W0_START, ex.W1_START)
    nodes["E"].backward()
    assert nodes["E"].data == pytest.approx(e.item(), abs=1e-15)
    assert nodes["W0"].grad == pytest.approx(w0.grad.item(), abs=1e-14)
    assert nodes["W1"].grad == pytest.approx(w1.grad.item(), abs=1e-14)


# ---------------------------------------------------------------- 2. brute force vs gradient


def test_brute_force_vs_gradient_counts_and_paths(tmp_path: Path) -> None:
    ex = load("brute_force_vs_gradient")
    result = run("brute_force_vs_gradient", tmp_path)
    res = result["results"]
    assert res[1]["brute force"].evaluations == 100
    assert res[2]["brute force"].evaluations == 10_000
    assert res[3]["brute force"].evaluations == 10**3  # fast: a coarser 10-value grid, not 100^3
    assert result["counts"][3] == (10**6, False)  # ... so the 10^6 is extrapolated and says so
    assert result["counts"][9] == (10**18, False)
    for n in (1, 2, 3):
        numeric, backprop = res[n]["numerical gradient"], res[n]["backprop"]
        assert numeric.evaluations == 2 * n * ex.STEPS
        assert backprop.evaluations == backprop.backward_passes == ex.STEPS
        for p, q in zip(numeric.path, backprop.path):
            assert p == pytest.approx(q, abs=1e-5)
        for search in res[n].values():
            assert search.error < 1e-3
            assert search.error == pytest.approx(ex.error_of(n)(search.weights), abs=1e-15)
    assert_pictures(result, tmp_path)


def test_brute_force_grid_finds_the_grid_minimum() -> None:
    ex = load("brute_force_vs_gradient")
    best = ex.brute_force(1)
    f = ex.error_of(1)
    assert best.error == min(f([w]) for w in ex.grid(100))


def test_backprop_gradient_equals_central_differences() -> None:
    ex = load("brute_force_vs_gradient")
    first_step = ex.backprop_descent(3, steps=1)
    start = [ex.START[name] for name in ex.LEARNED[3]]
    grads = [(a - b) / ex.LEARNING_RATE for a, b in zip(start, first_step.path[1])]
    assert grads == pytest.approx(numerical_grad(ex.error_of(3), start), abs=1e-8)


# ---------------------------------------------------------------- 3. threshold to bias


def test_threshold_to_bias_forms_agree_and_gates(tmp_path: Path) -> None:
    result = run("threshold_to_bias", tmp_path)
    for (checked, on_threshold, bad) in result["grid"].values():
        assert checked > 0 and on_threshold > 0 and bad == 0
    expected = {
        "AND": {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 1},
        "OR": {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 1},
        "NAND": {(0, 0): 1, (0, 1): 1, (1, 0): 1, (1, 1): 0},
    }
    assert result["truth_tables"] == expected
    assert result["products"] == {bits: bits[0] * bits[1] * bits[2] for bits in result["products"]}
    assert len(result["products"]) == 8
    assert_pictures(result, tmp_path)


def test_threshold_fires_exactly_at_threshold() -> None:
    ex = load("threshold_to_bias")
    # 0.5 * 1 + 0.25 * 0 == 0.5 exactly: the post's neuron fires when the sum reaches T.
    assert ex.threshold_neuron((0.5, 0.25), (1.0, 0.0), 0.5) == 1.0
    assert ex.extra_input_neuron((0.5, 0.25), (1.0, 0.0), 0.5).data == 1.0
    assert ex.bias_neuron((0.5, 0.25), (1.0, 0.0), 0.5).data == 1.0
    assert ex.extra_input_neuron((0.5, 0.25), (0.875, 0.25), 0.5).data == 1.0  # 0.4375 + 0.0625
    assert ex.extra_input_neuron((0.5, 0.25), (0.875, 0.0), 0.5).data == 0.0  # just below


# ---------------------------------------------------------------- 4. step vs sigmoid


def test_step_vs_sigmoid(tmp_path: Path) -> None:
    result = run("step_vs_sigmoid", tmp_path)
    step, sigmoid = result["errors"]["step"], result["errors"]["sigmoid"]
    assert len(result["step_grads"]) == result["steps"]
    assert all(g == 0.0 for grads in result["step_grads"] for g in grads)
    assert step[0] > 0 and len(set(step)) == 1
    assert sigmoid[-1] < 0.5 * sigmoid[0]
    assert_pictures(result, tmp_path)


def test_sigmoid_slope_by_backward_equals_closed_form() -> None:
    ex = load("step_vs_sigmoid")
    for x in (-3.0, -0.5, 0.0, 1.25, 4.0):
        s = 1.0 / (1.0 + math.exp(-x))
        assert ex.slope_by_backward("sigmoid", x) == pytest.approx(s * (1 - s), abs=1e-15)
        assert ex.slope_by_backward("step", x) == 0.0


# ---------------------------------------------------------------- 5. multiply with neurons


def test_multiply_with_neurons(tmp_path: Path) -> None:
    result = run("multiply_with_neurons", tmp_path)
    for name, rows in result["table"].items():
        errors = [e for _, e in rows]
        assert all(b < a for a, b in itertools.pairwise(errors)), name
        assert errors[-1] < 1e-3
        assert result["slopes"][name] == pytest.approx(2.0, abs=0.1)
    for (u, v), (du, dv) in result["derivatives"].items():
        assert du == pytest.approx(v, abs=1e-3 * max(1.0, abs(v)))
        assert dv == pytest.approx(u, abs=1e-3 * max(1.0, abs(u)))
    assert_pictures(result, tmp_path)


def test_shifted_sigmoid_second_derivative() -> None:
    ex = load("multiply_with_neurons")
    for b in (-2.0, 0.5, 1.0, 3.0):
        f = ex.shifted_sigmoid(b)

        def sig(p: list[float], b: float = b) -> float:
            return 1.0 / (1.0 + math.exp(-(p[0] + b)))

        # Second central difference of f at 0, an independent reference for f''(0).
        h = 1e-4
        second = (sig([h]) - 2 * sig([0.0]) + sig([-h])) / (h * h)
        assert f.second_derivative_at_0 == pytest.approx(second, abs=1e-6)
    assert ex.shifted_sigmoid(0.0).second_derivative_at_0 == 0.0


def test_four_neuron_product_gradient_matches_numerical() -> None:
    ex = load("multiply_with_neurons")
    f = ex.shifted_sigmoid(1.0)
    u, v = Value(0.7), Value(-1.3)
    out = ex.four_neuron_product(u, v, 0.25, f)
    out.backward()
    numeric = numerical_grad(lambda p: ex.four_neuron_product(Value(p[0]), Value(p[1]), 0.25, f), [0.7, -1.3])
    assert [u.grad, v.grad] == pytest.approx(numeric, rel=1e-6)


# ---------------------------------------------------------------- standalone runs


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs_standalone(name: str, tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / f"{name}.py"), "--fast", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert str(tmp_path) in completed.stdout
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())


# ---------------------------------------------------------------- the shared example pieces


def test_save_diagram_without_dot_writes_dot_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output_helper = load("_output")
    graphviz = pytest.importorskip("graphviz")
    monkeypatch.setattr(output_helper.shutil, "which", lambda name: None)
    graph = graphviz.Digraph()
    graph.node("a")
    written = output_helper.save_diagram(graph, tmp_path, "g")
    assert written == [tmp_path / "g.dot"]
    assert (tmp_path / "g.dot").read_text(encoding="utf-8") == graph.source


def test_pyplot_names_the_extra_when_matplotlib_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    output_helper = load("_output")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'axongrad\[plots\]'"):
        output_helper.pyplot("smallest_ann")


def test_failed_claim_stops_with_its_message() -> None:
    output_helper = load("_output")
    with pytest.raises(SystemExit, match="claim failed: E falls"):
        output_helper.check(False, "E falls")
    output_helper.check(True, "nothing happens")
