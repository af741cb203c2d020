"""nn.diagnose, the gradient doctor: the failures the issue measured, each found and named with numbers."""

from __future__ import annotations

import html
import math

import pytest

import autograd
import nn
from autograd import Value

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def lecture_loop(model: nn.MLP, steps: int = 100, lr: float = 0.05) -> Value:
    """Karpathy's loop on his four samples: squared error summed, zero_grad, backward, p -= lr * grad."""
    loss = Value(0.0)
    for _ in range(steps):
        loss = sum(((model(x) - y) ** 2 for x, y in zip(XS, YS)), start=Value(0.0))  # type: ignore[operator]
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return loss


def relu_z(model: nn.MLP, x: list[float]) -> dict[str, float]:
    """Every neuron's z = w.x + b on one sample, computed here in floats."""
    zs, h = {}, x
    for layer in model.layers:
        out = []
        for n in layer.neurons:
            z = sum(w.data * v for w, v in zip(n.w, h)) + (n.b.data if n.b is not None else 0.0)
            zs[n.name] = z
            out.append(max(z, 0.0) if n.activation == "relu" else z)
        h = out
    return zs


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_the_lecture_loop_with_nn_mlp_is_diagnosed_as_dead_relus_by_neuron(seed: int) -> None:
    # Measured: with nn.MLP (ReLU) seeds 0, 1 and 4 end at loss 4.0 (2 and 3 learn).
    model = nn.MLP(3, [4, 4, 1], seed=seed)
    loss = lecture_loop(model)
    assert loss.data == pytest.approx(4.0, abs=1e-9)
    report = nn.diagnose(model, XS, YS)
    assert report and report.kinds[0] == "dead-relu" and "constant-output" in report.kinds
    dead = report.findings[0]
    # Independently: the neurons named are exactly the ReLUs with z <= 0 on every sample.
    zs = [relu_z(model, x) for x in XS]
    hidden = [n for layer in model.layers[:-1] for n in layer.neurons]
    expected = [n.name for n in hidden if all(z[n.name] <= 0 for z in zs)]
    assert dead.neurons == expected and len(expected) >= 6
    assert f"{len(expected)} of 8 ReLU neurons have z <= 0 on all 4 samples" in dead.summary
    assert report.neurons[: len(expected)] == expected
    text = str(report)
    assert "no gradient reaches its weights" in text and "nn.lecture.MLP" in text
    # The same graph, handed over as the last loss Value, names the same neurons.
    from_graph = nn.diagnose(loss)
    assert from_graph.findings[0].kind == "dead-relu" and from_graph.neurons == expected


def test_the_lectures_tanh_mlp_learns_and_has_no_dead_neurons() -> None:
    model = nn.lecture.MLP(3, [4, 4, 1], seed=0)
    loss = lecture_loop(model)
    assert loss.data < 0.05
    assert "dead-relu" not in nn.diagnose(model, XS, YS).kinds


def test_a_sigmoid_network_started_with_huge_weights_is_saturated() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [6, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    for p in model.parameters():
        p.data *= 60.0
    report = nn.diagnose(model, xs, ys)
    finding = next(f for f in report.findings if f.kind == "saturated")
    # Independently: a hidden unit whose s(z)(1 - s(z)) < 0.0025 on at least 3 of the 4 samples.
    flat = []
    for n in model.layers[0].neurons:
        slopes = []
        for x in xs:
            z = sum(w.data * v for w, v in zip(n.w, x)) + n.b.data  # type: ignore[union-attr]
            s = 1 / (1 + math.exp(-z))
            slopes.append(s * (1 - s))
        if sum(d < 0.0025 for d in slopes) >= 3:
            flat.append(n.name)
    assert finding.neurons == flat and len(flat) >= 3
    assert "slope" in finding.meaning and "step" in finding.meaning
    fresh = nn.MLP(2, [6, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    assert "saturated" not in nn.diagnose(fresh, xs, ys).kinds


def test_a_step_network_is_saturated_everywhere() -> None:
    xs, ys = nn.and_gate()
    model = nn.MLP(2, [2, 1], activation="step", output_activation="sigmoid", seed=0)
    finding = nn.diagnose(model, xs, ys).findings[0]
    assert finding.kind == "saturated" and finding.neurons == ["L1.n0", "L1.n1"]


def test_lr_100_on_moons_is_a_learning_rate_too_large_and_fit_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    xs, ys = nn.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=100.0)
    history = nn.fit(model, xs, ys, loss="hinge", optimizer=optimizer, epochs=30)
    assert history.accuracy[-1] == 0.5
    report = nn.diagnose(model, xs, ys, loss="hinge", history=history, optimizer=optimizer)
    assert report.kinds[0] == "learning-rate"
    assert f"rose from {history.loss[0]:.4g} to {history.loss[-1]:.4g}" in report.findings[0].summary
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fit: ") and "learning-rate" in lines[0]
    assert "nn.diagnose" in lines[0]


def test_an_oscillating_loss_and_a_large_update_ratio_are_learning_rate_findings() -> None:
    report = nn.diagnose(nn.MLP(2, [2, 1], seed=0), [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0],
                         history=[1.0, 0.5, 0.9, 0.45, 0.95, 0.5, 0.9, 0.6])
    assert report.kinds[0] == "learning-rate" and "went up on 3 of 7 epochs" in report.findings[0].summary
    falling = nn.diagnose(nn.MLP(2, [2, 1], seed=0), [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0],
                          history=[1.0, 0.5, 0.3, 0.2, 0.15])
    assert "learning-rate" not in falling.kinds
    # lr * mean|dE/dw| / mean|w| computed here from a fresh backward of the mean loss.
    model = nn.MLP(3, [4, 1], activation="tanh", seed=0)
    loss = sum((nn.squared_error(model(x), y) for x, y in zip(XS, YS)), start=Value(0.0)) * 0.25
    model.zero_grad()
    loss.backward()
    ws = [w for n in model.layers[1].neurons for w in n.w]
    ratio = 1000.0 * sum(abs(w.grad) for w in ws) / sum(abs(w.data) for w in ws)
    report = nn.diagnose(model, XS, YS, lr=1000.0)
    assert report.kinds == ["learning-rate"]
    assert report.findings[0].numbers["L2 update/weight"] == pytest.approx(ratio, rel=1e-9)
    assert "learning-rate" not in nn.diagnose(model, XS, YS, lr=1e-4).kinds


def test_vanishing_gradients_through_a_deep_sigmoid_stack() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [4] * 10 + [1], activation="sigmoid", seed=0)
    report = nn.diagnose(model, xs, ys)
    finding = next(f for f in report.findings if f.kind == "vanishing")
    assert finding.numbers["L1 mean |dE/dw|"] < 1e-3 * finding.numbers["L11 mean |dE/dw|"]


def test_exploding_gradients_when_the_first_layer_is_tiny_in_a_linear_chain() -> None:
    # z_k = w_k z_(k-1): dE/dw_k = delta_out * x * prod_(j != k) w_j, so |dE/dw_1| / |dE/dw_3| = |w_3 / w_1|.
    model = nn.MLP(1, [1, 1, 1], activation="linear", bias=False, seed=0)
    for layer, w in zip(model.layers, (1e-5, 1.0, 1.0)):
        layer.neurons[0].w[0].data = w
    finding = nn.diagnose(model, [[1.0], [2.0]], [1.0, 2.0]).findings[0]
    assert finding.kind == "exploding"
    ratio = finding.numbers["L1 mean |dE/dw|"] / finding.numbers["L3 mean |dE/dw|"]
    assert ratio == pytest.approx(1e5, rel=1e-9)


@pytest.mark.parametrize(
    ("loss", "ys", "output", "words"),
    [
        ("hinge", [0.0, 1.0, 1.0, 0.0], "linear", "hinge needs labels -1 and +1, got 0, 1"),
        ("binary_cross_entropy", [-1.0, 1.0, 1.0, -1.0], "sigmoid", "needs targets in [0, 1], got -1, 1"),
        ("binary_cross_entropy", [0.0, 1.0, 1.0, 0.0], "linear", "the output neuron is linear"),
        ("squared_error", [-1.0, 1.0, 1.0, -1.0], "sigmoid", "sigmoid (0 to 1) but the targets reach -1, 1"),
        ("mse", [0.0, 2.0, 2.0, 0.0], "tanh", "a tanh (-1 to 1)"),
    ],
)
def test_labels_that_do_not_fit_the_loss_or_the_output(
    loss: str, ys: list[float], output: str, words: str
) -> None:
    xs, _ = nn.xor()
    model = nn.MLP(2, [3, 1], output_activation=output, seed=0)
    report = nn.diagnose(model, xs, ys, loss=loss)
    assert report.kinds == ["labels"] and words in report.findings[0].summary


def test_fitting_labels_raise_no_labels_finding() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    assert "labels" not in nn.diagnose(model, xs, ys, loss="binary_cross_entropy").kinds


def test_stale_grads_on_a_hand_built_graph() -> None:
    w, x = Value(0.5, "w"), Value(2.0, "x")
    loss = (w * x).tanh()
    assert "stale-grad" not in nn.diagnose(loss).kinds  # backward not called yet: nothing to compare
    loss.backward()
    assert "stale-grad" not in nn.diagnose(loss).kinds  # the grads are this loss's
    with pytest.warns(autograd.StaleGradWarning):
        other = (w * x * 3.0).tanh()
        other.backward()
    finding = nn.diagnose(other).findings[-1]
    assert finding.kind == "stale-grad" and "'w' has grad" in finding.summary
    expected = 3 * 2.0 * (1 - math.tanh(3.0) ** 2)
    assert finding.numbers["fresh"] == pytest.approx(expected, rel=1e-12)


def test_a_model_diagnosed_after_a_stale_warning_says_so() -> None:
    model = nn.MLP(3, [2, 1], seed=0)
    with pytest.warns(autograd.StaleGradWarning):
        for _ in range(2):
            sum((nn.squared_error(model(x), y) for x, y in zip(XS, YS)), start=Value(0.0)).backward()  # type: ignore[union-attr]
    assert "stale-grad" in nn.diagnose(model, XS, YS).kinds
    model.zero_grad()
    sum((nn.squared_error(model(x), y) for x, y in zip(XS, YS)), start=Value(0.0)).backward()  # type: ignore[union-attr]
    assert "stale-grad" not in nn.diagnose(model, XS, YS).kinds


def test_diagnosing_changes_no_weight_and_no_grad() -> None:
    model = nn.MLP(3, [4, 4, 1], seed=0)
    loss = lecture_loop(model, steps=3)
    before = [(p.data, p.grad) for p in model.parameters()]
    inner = [(n.data, n.grad) for n in autograd.topological_order(loss)]
    nn.diagnose(model, XS, YS)
    nn.diagnose(loss)
    assert [(p.data, p.grad) for p in model.parameters()] == before
    assert [(n.data, n.grad) for n in autograd.topological_order(loss)] == inner


def test_the_report_prints_displays_escaped_and_is_falsy_when_nothing_was_found() -> None:
    x = Value(-2.0, "x")
    h = (x * 1.0).relu()
    h.scope = "<script>alert(1)</script>"
    loss = h + 1.0
    report = nn.diagnose(loss)
    assert report.neurons == ["<script>alert(1)</script>"]
    page = report._repr_html_()
    assert "<script>" not in page and html.escape("<script>alert(1)</script>") in page
    assert "dead-relu" in str(report) and "dead-relu" in repr(report) and len(report) == 1
    clean = nn.diagnose((Value(1.0) * 2.0).tanh())
    assert not clean and str(clean).startswith("Gradient doctor: nothing found")
    assert "nothing found" in clean._repr_html_()
    assert set(nn.doctor.KINDS) >= {
        "dead-relu", "saturated", "vanishing", "exploding", "learning-rate", "constant-output", "labels",
        "stale-grad",
    }


def test_bad_calls_are_named() -> None:
    with pytest.raises(TypeError, match=r"diagnose needs an nn\.MLP"):
        nn.diagnose("model")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs the samples"):
        nn.diagnose(nn.MLP(2, [1], seed=0))
    with pytest.raises(TypeError, match="takes no xs or ys"):
        nn.diagnose(Value(1.0), [[1.0]], [1.0])
    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        nn.diagnose(nn.MLP(2, [1], seed=0), [[1.0, 2.0]], [1.0], loss="l2")
    with pytest.raises(TypeError, match="History or a list of losses"):
        nn.diagnose(nn.MLP(2, [1], seed=0), [[1.0, 2.0]], [1.0], history="loss")


def test_fit_prints_nothing_extra_when_training_goes_fine(capsys: pytest.CaptureFixture[str]) -> None:
    # The README's XOR settings.
    model = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    xs, ys = nn.datasets.xor()
    nn.fit(model, xs, ys, loss="squared_error", optimizer=nn.SGD(model.parameters(), lr=5.0), epochs=2000,
           until=0.01)
    assert capsys.readouterr().err == ""


def test_fit_reports_a_stall_once_and_progress_false_keeps_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    # The lecture's data and network through fit: every ReLU dies early and the loss stays at 0.5.
    nn.fit(nn.MLP(3, [4, 4, 1], seed=0), XS, YS, lr=0.4, epochs=100)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the loss stopped improving by epoch 20" in err[0]
    assert "dead-relu (8 of 8 ReLU neurons" in err[0] and "constant-output" in err[0]
    nn.fit(nn.MLP(3, [4, 4, 1], seed=0), XS, YS, lr=0.4, epochs=100, progress=False)
    assert capsys.readouterr().err == ""
