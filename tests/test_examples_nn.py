"""The network examples (6-8: XOR, moons, digits): each main() run once, its claims re-checked."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("matplotlib", reason="the examples draw with matplotlib (pip install 'axongrad[plots]')")

import nn
from viz.digit_pad import mlp_as_lists

pytestmark = pytest.mark.filterwarnings("error")  # the examples run without a warning
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LAST_LINE = re.compile(r"test accuracy: 0\.\d{4}")
PNG = b"\x89PNG\r\n\x1a\n"
Run = tuple[dict[str, Any], str, Path]  # an example's result, its printed text, its output folder
NO_SKLEARN = "the digits data needs scikit-learn (pip install 'axongrad[data]')"


def load(name: str) -> ModuleType:
    """Import examples/<name>.py (the examples folder is not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def run(name: str, out: Path, *extra: str) -> tuple[dict[str, Any], str]:
    """main() of the example in its fast setting writing into `out`; its result and printed text."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result: dict[str, Any] = load(name).main(["--fast", "--out", str(out), *extra])
    return result, buffer.getvalue()


def assert_files(result: dict[str, Any], out: Path) -> set[str]:
    """Every reported file exists in `out` and is not empty; PNGs are PNGs. Returns the names."""
    assert result["folder"] == out
    files = [Path(f) for f in result["files"]]
    for f in files:
        assert f.parent == out and f.stat().st_size > 0, f
        if f.suffix == ".png":
            assert f.read_bytes()[:8] == PNG, f
    return {f.name for f in files}


# ---------------------------------------------------------------- 6. XOR


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("xor")
    result, text = run("xor", out)
    return result, text, out


def test_xor_one_neuron_never_separates_and_the_network_does(xor_run: Run) -> None:
    result, text, out = xor_run
    assert result["neuron_best_correct"] < 4 and result["neuron_correct"] < 4
    assert result["separating_triples"] == 0
    assert result["network_error"] < 0.01 and result["network_correct"] == 4
    assert result["network_epochs"] <= 2000
    assert "linearly separable" in text and "0 of 9261" in text
    assert {"boundary_one_neuron.png", "boundary_2_4_1_network.png", "error_per_epoch.png"} <= assert_files(
        result, out
    )


def test_xor_error_plot_counts_epochs_from_1_as_plot_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xor = load("xor")
    kept: list[Any] = []
    monkeypatch.setattr(xor, "save_figure", lambda fig, path: kept.append(fig) or path)
    xor.plot_errors([0.5, 0.4, 0.3], nn.History(loss=[0.2, 0.1]), tmp_path / "errors.png")
    neuron, network = kept[0].axes[0].lines[:2]
    assert list(neuron.get_xdata()) == [1, 2, 3] and list(network.get_xdata()) == [1, 2]
    assert list(network.get_ydata()) == [0.8, 0.4]  # fit's mean over 4 cases, times 4
    import matplotlib.pyplot as plt

    plt.close(kept[0])


def test_xor_no_line_separates_xor_but_one_separates_and() -> None:
    # An independent check of the brute-force argument: the same grid finds lines for AND.
    ex = load("xor")
    assert ex.separating_triples(steps=11) == (0, 11**3)
    xs, ys = nn.and_gate()
    w0, w1, b = 1.0, 1.0, -1.5
    assert all((w0 * x0 + w1 * x1 + b > 0) == (y == 1.0) for (x0, x1), y in zip(xs, ys))


def test_xor_network_error_is_the_posts_error() -> None:
    ex = load("xor")
    model = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=3)
    xs, ys = nn.xor()
    by_hand = sum(0.5 * (model.outputs(x)[0].data - y) ** 2 for x, y in zip(xs, ys))  # E = sum 1/2 (Y' - Y)^2
    assert ex.total_error(model, xs, ys) == pytest.approx(by_hand, rel=1e-12)


# ---------------------------------------------------------------- 7. moons


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("moons")
    result, text = run("moons", out)  # --fast only lowers the picture's resolution: training is in full
    return result, text, out


def test_moons_reaches_100_percent_training_accuracy(moons_run: Run) -> None:
    result, _, out = moons_run
    assert result["final_accuracy"] == 1.0
    assert len(result["loss"]) == 101 and result["final_loss"] < result["loss"][0] / 10
    assert result["parameters"] == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1  # 337, as micrograd's demo
    names = assert_files(result, out)
    assert {"decision_boundary.png", "loss_and_accuracy.png", "model_one_point_by_layer.dot"} <= names
    if shutil.which("dot") is not None:
        assert {"model_one_point_by_layer.svg", "model_one_point_by_layer.png"} <= names


def test_moons_loss_is_micrograds_hinge_plus_l2() -> None:
    ex = load("moons")
    model = nn.MLP(2, [16, 16, 1], seed=5)
    xs, ys = nn.moons(20, noise=0.1, seed=1)
    total, accuracy = ex.loss_and_accuracy(model, xs, ys)
    scores = [model.outputs(x)[0].data for x in xs]
    hinge = sum(max(0.0, 1.0 - y * s) for y, s in zip(ys, scores)) / len(xs)
    l2 = 1e-4 * sum(p.data**2 for p in model.parameters())
    assert total.data == pytest.approx(hinge + l2, rel=1e-12)
    assert accuracy == sum((s > 0) == (y > 0) for y, s in zip(ys, scores)) / len(xs)
    assert [ex.learning_rate(k) for k in (0, 50, 99)] == pytest.approx([1.0, 0.55, 0.109])


def test_moons_diagram_groups_by_layer(moons_run: Run) -> None:
    _, _, out = moons_run
    source = (out / "model_one_point_by_layer.dot").read_text(encoding="utf-8")
    for layer in ("L1", "L2", "L3"):
        assert f">{layer}<" in source or f"{layer}</" in source or f'"{layer}"' in source
    assert "loss" in source


# ---------------------------------------------------------------- 8. digits


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    pytest.importorskip("sklearn", reason=NO_SKLEARN)
    out = tmp_path_factory.mktemp("digits")
    result, text = run("digits", out)
    return result, text, out


def test_digits_accuracy_confusion_matrix_and_last_line(digits_run: Run) -> None:
    result, text, out = digits_run
    counts = result["confusion"]
    total = sum(map(sum, counts))
    assert total == 359  # the held-out 20% of 1,797
    assert result["accuracy"] == sum(counts[i][i] for i in range(10)) / total
    assert result["misclassified"] == total - sum(counts[i][i] for i in range(10))
    # viz.confusion_matrix's table is printed: a row per true digit, then the diagonal's share.
    diagonal = sum(counts[i][i] for i in range(10))
    assert f"accuracy {result['accuracy']:.4f} ({diagonal} of 359 on the diagonal)" in text
    assert "   9 " + " ".join(f"{c:>4}" if c else "   ." for c in counts[9]) in text
    assert result["accuracy"] >= 0.75  # fast setting: 300 training digits, 5 epochs
    lines = text.rstrip("\n").splitlines()
    assert LAST_LINE.fullmatch(lines[-1]) and lines[-1] == f"test accuracy: {result['accuracy']:.4f}"
    assert result["seconds_per_epoch"] > 0
    names = assert_files(result, out)
    assert {"confusion_matrix.png", "confusion_matrix.html", "misclassified.png", "digits_model.json",
            "digit_pad.html"} <= names


def test_digits_confusion_matrix_is_a_hand_count_of_its_predictions(digits_run: Run) -> None:
    result, text, out = digits_run
    truth, guesses = result["truth"], result["guesses"]
    model = result["model"]
    _, x_test, _, y_test = nn.train_test_split(*nn.digits(), test_size=0.2, seed=0)
    assert truth == list(y_test)
    # The predictions are the model's: the largest of its ten outputs, digit by digit.
    for x, guess in list(zip(x_test, guesses))[::37]:
        outs = [v.data for v in model.outputs(x)]
        assert guess == outs.index(max(outs))
    by_hand = [[0] * 10 for _ in range(10)]
    for t, p in zip(truth, guesses):
        by_hand[t][p] += 1
    assert result["confusion"] == by_hand
    assert sum(by_hand[t][t] for t in range(10)) == sum(1 for t, p in zip(truth, guesses) if t == p)
    # Printed as text: one row per true digit ("." for 0), and written as a page with every count.
    for t in range(10):
        row = " ".join(f"{c:>4}" if c else "   ." for c in by_hand[t])
        assert f"{t:>16} {row}" in text
    page = (out / "confusion_matrix.html").read_text(encoding="utf-8")
    cells = [int(c) for c in re.findall(r"<td [^>]*>(\d+)</td>", page)]
    assert cells == [c for row in by_hand for c in row if c]
    assert "Content-Security-Policy" in page and "<script" not in page


def test_digits_model_file_round_trips_and_the_pad_embeds_it(digits_run: Run) -> None:
    result, _, out = digits_run
    assert result["identical_after_load"]
    loaded = nn.load(out / "digits_model.json")
    model = result["model"]
    assert loaded.state_dict() == model.state_dict()
    xs, _ = nn.digits()
    for x in xs[:20]:
        assert [v.data for v in loaded.outputs(x)] == [v.data for v in model.outputs(x)]
    page = (out / "digit_pad.html").read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="axongrad-model">(.*?)</script>', page, re.S)
    assert match is not None and json.loads(match.group(1)) == mlp_as_lists(loaded)


@pytest.mark.skipif("tape" not in nn.ENGINES, reason="this nn has no tape engine yet")
def test_digits_tape_engine_trains_the_same_model(digits_run: Run, tmp_path: Path) -> None:
    scalar = digits_run[0]
    result, text = run("digits", tmp_path, "--engine", "tape")
    assert result["engine"] == "tape"
    # The tape replays the same arithmetic: the same losses per epoch, the same held-out accuracy.
    assert result["history"].loss == pytest.approx(scalar["history"].loss, rel=1e-9)
    assert result["accuracy"] == scalar["accuracy"]
    assert LAST_LINE.fullmatch(text.rstrip("\n").splitlines()[-1])


def test_digits_without_the_tape_engine_stops_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sklearn", reason=NO_SKLEARN)
    monkeypatch.setattr(nn, "ENGINES", {"scalar": nn.ENGINES["scalar"]})
    with pytest.raises(SystemExit, match=r"no 'tape' engine.*--engine scalar") as stop:
        run("digits", tmp_path, "--engine", "tape")
    assert stop.value.code not in (0, None)
    assert list(tmp_path.iterdir()) == []  # stopped before training or writing anything


# ---------------------------------------------------------------- each script as a program


@pytest.mark.parametrize("name", ["xor", "moons", "digits"])
def test_script_runs_from_the_command_line(name: str, tmp_path: Path) -> None:
    if name == "digits":
        pytest.importorskip("sklearn", reason=NO_SKLEARN)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / f"{name}.py"), "--fast", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Pictures written to {tmp_path}" in proc.stdout
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())
    if name == "digits":
        assert LAST_LINE.fullmatch(proc.stdout.rstrip("\n").splitlines()[-1])
