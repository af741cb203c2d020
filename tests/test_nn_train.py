"""fit and History: the results the issue asks for (XOR, moons, digits), the loop's rules, bad input."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

import nn
from autograd import Value
from nn.train import _percent, _short, auto_accuracy


def total_squared_error(model: nn.MLP, xs: list[list[float]], ys: list[float]) -> float:
    """E = sum over the samples of 1/2 (Y' - Y)^2, computed afresh."""
    return sum(nn.squared_error(model(x), y).data for x, y in zip(xs, ys))


def test_xor_reaches_squared_error_below_001_within_2000_epochs() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    before = total_squared_error(model, xs, ys)
    opt = nn.SGD(model.parameters(), lr=5.0)
    # Full-batch gradient descent; the epoch loss is the mean over 4 samples, so until=0.01/4.
    history = nn.fit(
        model, xs, ys, loss="squared_error", optimizer=opt, epochs=2000, until=0.0025, progress=False
    )
    assert history.epochs <= 2000
    assert history.epochs < 2000  # it stopped early because the error fell below the threshold
    after = total_squared_error(model, xs, ys)
    assert before > 0.4 and after < 0.01
    assert history.loss[0] == pytest.approx(before / 4)  # the first epoch measures the initial weights
    assert [round(model(x).data) for x in xs] == [0, 1, 1, 0]  # type: ignore[union-attr]
    assert history.accuracy[-1] == 1.0


def test_moons_with_micrograd_demo_setup_reaches_100_percent() -> None:
    # micrograd's demo.ipynb: MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2, lr 1.0 - 0.9 k / 100, 100 steps.
    xs, ys = nn.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=1.0)
    accuracy = 0.0
    for k in range(100):
        scores = [model(x) for x in xs]
        losses = [nn.hinge(s, y) for s, y in zip(scores, ys)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        assert isinstance(total, Value)
        accuracy = sum((y > 0) == (s.data > 0) for y, s in zip(ys, scores)) / len(ys)  # type: ignore[union-attr]
        opt.zero_grad()
        total.backward()
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
    assert accuracy == 1.0
    assert nn.evaluate(model, xs, ys) == 1.0


@pytest.mark.slow
def test_digits_reach_90_percent_on_held_out_20_percent() -> None:
    pytest.importorskip("sklearn")
    xs, ys = nn.digits()
    x_train, x_test, y_train, y_test = nn.train_test_split(xs, ys, test_size=0.2, seed=0)
    assert len(x_test) == 359
    model = nn.MLP(64, [32, 10], seed=0)
    opt = nn.Adam(model.parameters(), lr=0.01)
    start = time.perf_counter()
    history = nn.fit(
        model, x_train, y_train, loss="cross_entropy", optimizer=opt, epochs=3, batch_size=32, progress=False
    )
    elapsed = time.perf_counter() - start
    print(f"digits: {elapsed / history.epochs:.2f} s per epoch (scalar engine), loss {history.loss}")
    assert history.loss[-1] < history.loss[0]
    assert history.accuracy[-1] is not None and history.accuracy[-1] > 0.9
    assert nn.evaluate(model, x_test, y_test) >= 0.90


def test_history_records_every_epoch() -> None:
    xs, ys = nn.and_gate()
    model = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
    history = nn.fit(model, xs, ys, epochs=5, progress=False)
    assert history.epochs == 5
    assert len(history.loss) == len(history.accuracy) == len(history.time) == 5
    assert all(t >= 0 for t in history.time)
    assert history.loss == sorted(history.loss, reverse=True)  # full-batch GD on a convex-ish problem


def test_epoch_loss_is_the_mean_before_the_update() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [3, 1], activation="tanh", seed=1)
    expected = sum(nn.mse(model(x), y).data for x, y in zip(xs, ys)) / 4
    history = nn.fit(
        model, xs, ys, loss=nn.mse, optimizer=nn.SGD(model.parameters(), lr=0.1), epochs=1, progress=False
    )
    assert history.loss == [pytest.approx(expected)]


def test_full_batch_step_equals_manual_gradient_descent() -> None:
    xs, ys = nn.xor()
    a = nn.MLP(2, [3, 1], activation="sigmoid", seed=4)
    b = nn.MLP(2, [3, 1], activation="sigmoid", seed=4)
    nn.fit(a, xs, ys, optimizer=nn.SGD(a.parameters(), lr=0.5), epochs=1, progress=False)
    total = sum(nn.squared_error(b(x), y) for x, y in zip(xs, ys)) * 0.25
    assert isinstance(total, Value)
    b.zero_grad()
    total.backward()
    for p in b.parameters():
        p.data -= 0.5 * p.grad
    assert a.state_dict() == pytest.approx(b.state_dict(), rel=1e-14)


def test_mini_batches_are_seeded() -> None:
    xs, ys = nn.moons(20, seed=1)
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [4, 1], seed=0)
        nn.fit(model, xs, ys, loss="hinge", epochs=3, batch_size=6, progress=False, seed=5)
        runs.append(model.state_dict())
    assert runs[0] == runs[1]
    other = nn.MLP(2, [4, 1], seed=0)
    nn.fit(other, xs, ys, loss="hinge", epochs=3, batch_size=6, progress=False, seed=6)
    assert other.state_dict() != runs[0]


def test_until_stops_early() -> None:
    xs, ys = nn.and_gate()
    model = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
    history = nn.fit(model, xs, ys, epochs=500, until=1e9, progress=False)
    assert history.epochs == 1


def test_progress_is_quiet_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    xs, ys = nn.and_gate()
    nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3, progress=True)
    nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def fake_kernel(monkeypatch: pytest.MonkeyPatch, with_kernel: bool = True) -> None:
    """Make `nn.train.in_notebook` see an IPython shell (a Jupyter kernel's has a `kernel`)."""
    import sys
    import types

    shell = types.SimpleNamespace(kernel=object()) if with_kernel else types.SimpleNamespace()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    # No IPython.display here: fit falls back to tqdm on stderr (nn.progress; tests/test_nn_progress.py
    # and tests/test_nn_progress_notebook.py cover the display a real kernel gets).
    monkeypatch.setitem(sys.modules, "IPython.display", None)


def test_notebook_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    from nn.train import in_notebook

    assert not in_notebook()  # pytest is no kernel
    fake_kernel(monkeypatch, with_kernel=False)  # terminal IPython: stderr decides, as before
    assert not in_notebook()
    fake_kernel(monkeypatch)
    assert in_notebook()


def test_progress_shows_in_a_notebook_per_epoch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kernel(monkeypatch)
    xs, ys = nn.and_gate()
    history = nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "fit" in err and "3/3" in err and "epoch" in err
    assert f"loss={history.loss[-1]:.4g}" in err  # the bar shows the last epoch's loss


def test_progress_in_a_notebook_moves_per_batch_on_long_epochs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kernel(monkeypatch)
    xs, ys = nn.and_gate()  # 4 samples in batches of 2: 2 batches per epoch, 3 epochs
    nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3, batch_size=2, progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "batch" in err


def test_progress_false_is_quiet_in_a_notebook(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kernel(monkeypatch)
    xs, ys = nn.and_gate()
    nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3, batch_size=2, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_shows_in_a_real_kernel_like_subprocess() -> None:
    """A child process whose stderr is a pipe (as in a kernel) with IPython's kernel hook in place."""
    import subprocess
    import sys

    code = (
        "import sys, types\n"
        "shell = types.SimpleNamespace(kernel=object())\n"
        "sys.modules['ipykernel'] = types.ModuleType('ipykernel')\n"
        "ip = types.ModuleType('IPython'); ip.get_ipython = lambda: shell; sys.modules['IPython'] = ip\n"
        "import nn\n"
        "xs, ys = nn.and_gate()\n"
        "nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=4)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    err = done.stderr.decode()  # bytes: text=True would turn tqdm's carriage returns into newlines
    assert done.returncode == 0, err
    assert "4/4" in err and "\r" in err and "\n" not in err.rstrip("\n")  # one line, redrawn in place


def test_history_repr_is_one_line_summary() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    history = nn.fit(model, xs, ys, optimizer=nn.SGD(model.parameters(), lr=5.0), epochs=300, progress=False)
    text = repr(history)
    assert "\n" not in text and len(text) < 120
    assert text.startswith("History(epochs=300, ")
    assert f"loss {history.loss[0]:.4g} -> {history.loss[-1]:.4g}" in text
    assert f"accuracy {history.accuracy[-1]:.1%}" in text
    assert text.endswith(f"{sum(history.time):.3g} s)")
    assert repr(nn.History()) == "History(epochs=0)"
    regression = nn.History(loss=[2.0, 1.0], accuracy=[None, None], time=[0.5, 0.25])
    assert repr(regression) == "History(epochs=2, loss 2 -> 1, 0.75 s)"


def test_history_html_is_a_short_table() -> None:
    n = 1000
    losses = [1.0 / (k + 1) for k in range(n)]
    history = nn.History(loss=losses, accuracy=[k / n for k in range(n)], time=[0.01] * n)
    page = history._repr_html_()
    assert page.count("<tr>") == 7  # the header and six epochs, first and last among them
    cell = '<td style="text-align:right">{}</td>'.format
    assert cell(1) in page and cell(1000) in page
    assert "-&gt;" in page and "->" not in page  # the summary line is escaped
    assert len(page) < 2000
    odd = nn.History(loss=["<b>"], accuracy=[None], time=["x"])  # type: ignore[list-item]
    assert "<b>" not in odd._repr_html_() and "History(epochs=1" in repr(odd)


def test_accuracy_rules() -> None:
    one = nn.MLP(2, [1], seed=0)
    many = nn.MLP(2, [3], seed=0)
    assert auto_accuracy(one, [-1.0, 1.0]).__name__ == "_sign_accuracy"  # type: ignore[union-attr]
    assert auto_accuracy(one, [0.0, 1.0, 1]).__name__ == "_threshold_accuracy"  # type: ignore[union-attr]
    assert auto_accuracy(one, [0.3, 2.0]) is None
    assert auto_accuracy(many, [0, 2, 1]).__name__ == "_class_index_accuracy"  # type: ignore[union-attr]
    assert auto_accuracy(many, [[0, 1, 0], [1, 0, 0]]).__name__ == "_one_hot_accuracy"  # type: ignore[union-attr]
    assert auto_accuracy(many, [[0.2, 0.5, 0.1]]) is None
    sign = auto_accuracy(one, [-1.0, 1.0])
    assert sign is not None and sign(Value(0.2), 1.0) and not sign(Value(-0.2), 1.0)
    threshold = auto_accuracy(one, [0.0, 1.0])
    assert threshold is not None and threshold(Value(0.6), 1.0) and threshold(Value(0.4), 0.0)
    argmax = auto_accuracy(many, [0, 1])
    assert argmax is not None and argmax([Value(0.1), Value(2.0), Value(0.3)], 1)


def test_custom_and_disabled_accuracy() -> None:
    xs, ys = nn.and_gate()
    model = nn.MLP(2, [1], seed=0)
    always = nn.fit(model, xs, ys, epochs=2, progress=False, accuracy=lambda p, y: True)
    assert always.accuracy == [1.0, 1.0]
    none = nn.fit(model, xs, ys, epochs=2, progress=False, accuracy=None)
    assert none.accuracy == [None, None]
    regression = nn.fit(model, xs, [0.5, 0.2, 0.1, 0.9], epochs=1, progress=False)
    assert regression.accuracy == [None]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"engine": "gpu"}, ValueError, "unknown engine 'gpu'; valid engines: scalar, tape"),
        ({"ys": [0.0, 1.0]}, ValueError, "4 xs and 2 ys"),
        ({"epochs": 0}, ValueError, r"^fit\(epochs\) needs an int >= 1, got 0$"),
        ({"epochs": True}, TypeError, r"^fit\(epochs\) needs an int >= 1, got bool True$"),
        ({"batch_size": 0}, ValueError, r"^fit\(batch_size\) needs an int in 1\.\.4, got 0$"),
        ({"batch_size": 5}, ValueError, r"^fit\(batch_size\) needs an int in 1\.\.4, got 5$"),
        ({"batch_size": 2.0}, TypeError, r"^fit\(batch_size\) needs an int in 1\.\.4, got 2\.0$"),
        ({"until": float("nan")}, ValueError, r"^fit\(until\) needs a finite number, got nan$"),
        ({"until": "0.1"}, TypeError, r"^fit\(until\) needs a finite number, got str '0\.1'$"),
        ({"loss": "nope"}, ValueError, "unknown loss 'nope'; valid names: squared_error, mse"),
        ({"loss": 3}, TypeError, "loss"),
        ({"optimizer": "sgd"}, TypeError, "optimizer"),
        ({"accuracy": "sometimes"}, ValueError, "accuracy"),
        ({"seed": 1.5}, TypeError, r"^fit\(seed\) needs an int, got 1\.5$"),
    ],
)
def test_bad_fit_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    xs, ys = nn.and_gate()
    args: dict[str, object] = {"xs": xs, "ys": ys, "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        nn.fit(nn.MLP(2, [1], seed=0), **args)  # type: ignore[arg-type]


def test_fit_rejects_empty_data_and_bad_targets() -> None:
    model = nn.MLP(2, [3], seed=0)
    with pytest.raises(ValueError, match="at least one sample"):
        nn.fit(model, [], [], progress=False)
    with pytest.raises(ValueError, match=r"cross_entropy\(target_index\) needs an int in 0..2, got 3$"):
        nn.fit(model, [[0.0, 1.0]], [3], loss="cross_entropy", progress=False)
    with pytest.raises(ValueError, match=r"MLP needs a list of 2 numbers or Values, got list of 3$"):
        nn.fit(model, [[0.0, 1.0, 2.0]], [1], loss="cross_entropy", progress=False)


def test_numpy_arrays_are_accepted_like_lists() -> None:
    np = pytest.importorskip("numpy")
    xs, ys = nn.moons(30, seed=2)
    a = nn.MLP(2, [4, 1], seed=0)
    b = nn.MLP(2, [4, 1], seed=0)
    ha = nn.fit(a, xs, ys, loss="hinge", epochs=3, progress=False)
    hb = nn.fit(b, np.array(xs), np.array(ys, dtype=np.int64), loss="hinge", epochs=3, progress=False)
    assert ha.loss == hb.loss and ha.accuracy == hb.accuracy
    assert a(np.array([0.1, 0.2])).data == a([0.1, 0.2]).data  # type: ignore[union-attr]


def test_progress_bar_shows_the_loss_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, fit draws a tqdm bar whose postfix is the current loss."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    xs, ys = nn.and_gate()
    history = nn.fit(nn.MLP(2, [1], seed=0), xs, ys, epochs=3, progress=True)
    text = screen.getvalue()
    assert "3/3" in text
    assert f"loss={history.loss[-1]:.4g}" in text


@pytest.mark.parametrize(
    ("value", "short", "percent"),
    [
        (0.123456, "0.1235", "12.3%"),
        (Fraction(1, 3), "0.3333", "33.3%"),  # any real number, as autograd.checks.is_real says
        (True, "True", "True"),  # a bool is not a number here
        (10**400, "1" + "0" * 18 + "\u2026", "1" + "0" * 18 + "\u2026"),  # beyond float range: no error
        (None, "None", ""),
    ],
)
def test_progress_numbers_are_shown_and_never_raise(value: object, short: str, percent: str) -> None:
    """The progress bar's number helpers: is_real decides what is a number; nothing they get raises."""
    assert (_short(value), _percent(value)) == (short, percent)
