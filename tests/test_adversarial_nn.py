"""Adversarial probes of nn (issue 10): training that overflows, a stale tape, model files attacked.

Every probe asserts the exact error type and that nothing was lost: the weights are as before the
failing step, the old model file is byte-for-byte the same and still loads, no temporary is left.
"""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import subprocess
import sys
import threading
import tracemalloc
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd import Value
from autograd.checks import BEYOND_FLOAT_RANGE as BEYOND
from autograd.files import _host_tag
from nn import serialize
from nn.tape_engine import TapeEngine
from nn.train import ENGINES

ROOT = Path(__file__).resolve().parent.parent


def weights(model: nn.MLP) -> list[float]:
    """Every parameter's value, in order."""
    return [p.data for p in model.parameters()]


# ---------------------------------------------------------------- training never returns inf


def sgd_huge(model: nn.MLP) -> nn.Optimizer:
    """An update lr * grad of about 1e308 * 1: past the largest float."""
    return nn.SGD(model.parameters(), lr=1e308)


def momentum_huge(model: nn.MLP) -> nn.Optimizer:
    """The same with momentum."""
    return nn.SGD(model.parameters(), lr=1e308, momentum=0.9)


@pytest.mark.parametrize("make", [sgd_huge, momentum_huge])
@pytest.mark.parametrize("engine", ["scalar", "tape-python"])
def test_fit_refuses_an_update_that_overflows(make: Any, engine: str) -> None:
    xs, ys = [[1.0, 2.0], [2.0, -1.0]], [100.0, -100.0]  # gradients of about 100: lr * grad > 1e308
    model = nn.MLP(2, [3, 1], seed=0)
    before = weights(model)
    with pytest.raises(ValueError, match=r"fit: epoch 1 of 5, batch 1 of 1: SGD\.step: params") as info:
        nn.fit(model, xs, ys, optimizer=make(model), epochs=5, progress=False, engine=engine)
    assert "smaller learning rate" in str(info.value) and "would make it" in str(info.value)
    assert "(L" in str(info.value)  # the parameter's neuron scope, e.g. (L1.n0.w1)
    assert weights(model) == before  # the step was undone: fit never leaves inf weights behind


def test_fit_refuses_adams_second_moment_overflow() -> None:
    """A 1e160 gradient: v = (1 - b2) g^2 overflows; Adam used to stop moving, silently."""
    model = nn.MLP(1, [1], seed=0)
    before = weights(model)
    opt = nn.Adam(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"second moment v .* overflows a float") as info:
        nn.fit(model, [[1.0]], [1e160], loss=lambda p, y: p * y, optimizer=opt, epochs=3, progress=False)
    assert "epoch 1 of 3" in str(info.value) and "grad=1e+160" in str(info.value)
    assert weights(model) == before and opt.t == 0 and opt.v == [0.0, 0.0]


def test_fit_checks_the_weights_a_custom_optimizer_leaves() -> None:
    class Exploding(nn.Optimizer):
        """An optimizer of the user's own, without nn.optim's check."""

        def step(self) -> None:
            """Multiply every update by 1e308."""
            for p in self.params:
                p.data -= self.lr * p.grad * 1e308

    xs, ys = nn.xor()
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"epoch 1 of 2, batch 1 of 1: the optimizer step made layers\.0\."):
        nn.fit(model, xs, ys, optimizer=Exploding(model.parameters(), lr=10.0), epochs=2, progress=False)


def test_a_forward_pass_overflowing_after_divergence_says_so() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [3, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=1e305)  # finite but absurd steps: the next forward overflows
    diverged = r"epoch 2 of 3.*largest \|weight\| is .*e\+30.*smaller learning rate"
    with pytest.raises(ValueError, match=diverged):
        nn.fit(model, xs, ys, optimizer=opt, epochs=3, progress=False)
    assert all(math.isfinite(w) for w in weights(model))


def test_the_first_batch_error_does_not_blame_the_learning_rate() -> None:
    model = nn.MLP(1, [1], seed=0)
    with pytest.raises(ValueError, match="epoch 1 of 1, batch 1 of 1: hinge needs a target") as info:
        nn.fit(model, [[1.0]], [3.0], loss="hinge", epochs=1, progress=False)
    assert "learning rate" not in str(info.value)


def test_an_interrupt_in_fit_leaves_finite_weights_of_a_whole_step() -> None:
    calls = 0

    def interrupting(p: Value, y: float) -> Value:
        """squared error, interrupted on the 7th call (the third epoch's first sample)."""
        nonlocal calls
        calls += 1
        if calls == 7:
            raise KeyboardInterrupt
        return (p - y) ** 2

    xs, ys = [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
    model = nn.MLP(1, [1], seed=0)
    reference = nn.MLP(1, [1], seed=0)
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, xs, ys, loss=interrupting, epochs=5, progress=False)
    nn.fit(reference, xs, ys, loss=lambda p, y: (p - y) ** 2, epochs=2, progress=False)
    assert weights(model) == weights(reference)  # exactly two whole steps, nothing half done


# ---------------------------------------------------------------- the tape engine follows the model


def change_activation(model: nn.MLP) -> None:
    """One hidden neuron becomes tanh (the issue's probe: 0.148 against 0.045)."""
    model.layers[0].neurons[0].activation = "tanh"


def change_layer_activation(model: nn.MLP) -> None:
    """The output layer becomes sigmoid."""
    for n in model.layers[-1].neurons:
        n.activation = "sigmoid"


def drop_bias(model: nn.MLP) -> None:
    """A neuron loses its bias."""
    model.layers[0].neurons[1].b = None


def new_weight_value(model: nn.MLP) -> None:
    """A parameter replaced by a new Value of the same value (identity, not value, changed)."""
    n = model.layers[1].neurons[0]
    n.w[0] = Value(n.w[0].data, label="w0")


@pytest.mark.parametrize("change", [change_activation, change_layer_activation, drop_bias, new_weight_value])
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_tape_engine_recompiles_when_the_model_changes(
    change: Any, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("numpy") if backend == "numpy" else None
    monkeypatch.setitem(ENGINES, "tape", TapeEngine(backend))  # a fresh cache for this test
    xs, ys = nn.xor()
    losses = {}
    for engine in ("tape", "scalar"):
        model = nn.MLP(2, [3, 1], seed=1)
        nn.fit(model, xs, ys, epochs=2, progress=False, engine=engine)
        change(model)
        losses[engine] = nn.fit(model, xs, ys, epochs=2, progress=False, engine=engine).loss
    assert losses["tape"] == pytest.approx(losses["scalar"], rel=1e-12)


def test_one_tape_engine_alternating_between_two_models() -> None:
    engine = TapeEngine("python")
    xs, ys = nn.xor()
    a, b = nn.MLP(2, [3, 1], seed=1), nn.MLP(2, [4, 1], activation="tanh", seed=2)
    for model in (a, b, a, b):
        got, _ = engine(model, xs, ys, nn.squared_error, None)
        assert got == pytest.approx(sum(nn.squared_error(model(x), y).data for x, y in zip(xs, ys)) / 4)


# ---------------------------------------------------------------- saving never loses a file


def saved(tmp_path: Path) -> tuple[Path, bytes, dict[str, float]]:
    """A good model file, its bytes and its weights."""
    path = tmp_path / "model.json"
    model = nn.MLP(3, [4, 2], seed=0)
    model.save(path)
    return path, path.read_bytes(), model.state_dict()


def assert_intact(path: Path, content: bytes, state: dict[str, float]) -> None:
    """The old file is unchanged, still loads, and no temporary is left next to it."""
    assert path.read_bytes() == content
    assert nn.load(path).state_dict() == state
    assert sorted(os.listdir(path.parent)) == [path.name]


BAD_WEIGHTS: list[tuple[object, type[Exception], str]] = [
    (True, TypeError, "needs a finite number, got bool True"),
    ("0.5", TypeError, "needs a finite number, got str '0.5'"),
    (None, TypeError, "needs a finite number, got NoneType None"),
    (math.inf, ValueError, "needs a finite number, got inf"),
    (-math.inf, ValueError, "needs a finite number, got -inf"),
    (math.nan, ValueError, "needs a finite number, got nan"),
    (10**400, ValueError, "needs a finite number, got a 401-digit integer" + BEYOND),
    (Fraction(10**400, 3), ValueError, "needs a finite number, got Fraction(1000"),
    (1 + 2j, TypeError, "needs a finite number, got complex (1+2j)"),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_WEIGHTS)
def test_save_checks_every_weight_before_writing(
    tmp_path: Path, bad: object, error: type[Exception], message: str
) -> None:
    path, content, state = saved(tmp_path)
    model = nn.MLP(3, [4, 2], seed=9)
    model.layers[1].neurons[1].w[2].data = bad  # type: ignore[assignment]
    with pytest.raises(
        error, match=r"save: weights\[1\]\[1\]\.w\[2\] \(layers\.1\.neurons\.1\.w\.2\)"
    ) as info:
        model.save(path)
    assert str(info.value).startswith(f"save: weights[1][1].w[2] (layers.1.neurons.1.w.2) {message}")
    assert_intact(path, content, state)


def test_save_accepts_other_real_numbers_as_floats(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    model = nn.MLP(2, [1], seed=0)
    model.layers[0].neurons[0].w[0].data = np.float32(0.5)
    model.layers[0].neurons[0].w[1].data = Fraction(1, 4)  # type: ignore[assignment]
    model.layers[0].neurons[0].b.data = 3  # type: ignore[union-attr]
    model.save(tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json").state_dict() == {
        "layers.0.neurons.0.w.0": 0.5,
        "layers.0.neurons.0.w.1": 0.25,
        "layers.0.neurons.0.b": 3.0,
    }


def mixed_activation(model: nn.MLP) -> None:
    """One neuron of a layer changed its activation: the file holds one per layer."""
    model.layers[0].neurons[2].activation = "tanh"


def mixed_bias(model: nn.MLP) -> None:
    """One neuron of a layer lost its bias."""
    model.layers[0].neurons[1].b = None


def extra_weight(model: nn.MLP) -> None:
    """A neuron with one weight too many for its layer's inputs."""
    model.layers[1].neurons[0].w.append(Value(0.1))


def unknown_activation(model: nn.MLP) -> None:
    """Every neuron of the first layer with a made-up activation."""
    for n in model.layers[0].neurons:
        n.activation = "swish"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (mixed_activation, "layer 1 mixes neurons (layers.0.neurons.2 is 'tanh'"),
        (mixed_bias, "layer 1 mixes neurons (layers.0.neurons.1 is 'relu', bias False"),
        (extra_weight, "layers.1.neurons.0 has 5 weights, but its layer reads 4 inputs"),
        (unknown_activation, "layers.0.neurons.0 has an unknown activation 'swish'"),
    ],
)
def test_save_refuses_a_model_the_file_cannot_describe(tmp_path: Path, change: Any, message: str) -> None:
    path, content, state = saved(tmp_path)
    model = nn.MLP(3, [4, 2], seed=9)
    change(model)
    with pytest.raises(ValueError) as info:
        model.save(path)
    assert message in str(info.value)
    assert_intact(path, content, state)


def test_save_over_a_directory_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "model.json").mkdir()
    with pytest.raises(OSError):
        nn.MLP(2, [1], seed=0).save(tmp_path / "model.json")
    assert os.listdir(tmp_path) == ["model.json"] and (tmp_path / "model.json").is_dir()


def test_save_from_another_thread(tmp_path: Path) -> None:
    """Signal handlers can only be set in the main thread: a save elsewhere must still work."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            nn.MLP(2, [1], seed=0).save(tmp_path / "t.json")
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == [] and nn.load(tmp_path / "t.json").nin == 2


def test_save_leaves_the_sigterm_handler_as_it_found_it(tmp_path: Path) -> None:
    def mine(signum: int, frame: object) -> None:
        """A handler of the user's own."""

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        nn.MLP(2, [1], seed=0).save(tmp_path / "a.json")
        assert signal.getsignal(signal.SIGTERM) is mine  # left in charge, not replaced
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        nn.MLP(2, [1], seed=0).save(tmp_path / "a.json")
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored after the save
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------- interrupted saves, in real processes

SAVER = """
import sys
import nn
model = nn.MLP(20, [200, 200, 1], seed=0)
model.save(sys.argv[1])
print("ready", flush=True)
while True:
    model.save(sys.argv[1])
"""


def start_saver(path: Path) -> subprocess.Popen[bytes]:
    """A process that saves a 44k-weight model to `path` over and over (each save takes a while)."""
    process = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    return process


def temporaries(directory: Path) -> list[str]:
    """The hidden temporary files of saves in `directory`."""
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and SIGKILL are POSIX signals")
def test_sigterm_during_save_removes_the_temporary_and_terminates(tmp_path: Path) -> None:
    import time

    path = tmp_path / "model.json"
    for trial in range(8):
        process = start_saver(path)
        time.sleep(0.02 * trial)  # land at different points of the save loop (not a timing assertion)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == -signal.SIGTERM  # terminated as SIGTERM terminates
        assert temporaries(tmp_path) == []
        assert nn.load(path).nin == 20


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and process ids are POSIX")
def test_the_next_save_removes_temporaries_of_killed_saves(tmp_path: Path) -> None:
    import time

    path = tmp_path / "model.json"
    for trial in range(4):
        process = start_saver(path)
        time.sleep(0.03 * trial)
        process.kill()  # SIGKILL: nothing can clean up
        process.wait(timeout=60)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    dead_pid = int(dead.stdout)
    ours = f"axongrad-{_host_tag()}"
    planted = {
        f".model.json.{ours}-{dead_pid}-0123456789ab.tmp": True,  # a finished process: removed
        f".model.json.{ours}-{os.getppid()}-0123456789ab.tmp": False,  # a live process (pytest's parent)
        f".model.json.{ours}-{os.getpid()}-0123456789ab.tmp": False,  # this process: maybe another thread
        f".other.json.{ours}-{dead_pid}-0123456789ab.tmp": False,  # another target's
        f".model.json.axongrad-00000000-{dead_pid}-0123456789ab.tmp": False,  # another machine's
        f".model.json.{dead_pid}.0123456789ab.tmp": False,  # an earlier version's name: could be yours
        ".model.json.k2j4_x9q.tmp": False,  # the mkstemp name of earlier versions: could be yours
        ".model.json.notes.tmp": False,  # not a name save makes
    }
    for name in planted:
        (tmp_path / name).write_text("partial")
    nn.MLP(2, [1], seed=0).save(path)
    assert temporaries(tmp_path) == sorted(name for name, removed in planted.items() if not removed)
    assert nn.load(path).nin == 2


@pytest.mark.skipif(os.name != "posix", reason="the umask is POSIX")
@pytest.mark.parametrize("umask", [0o077, 0o022, 0o002])
def test_new_model_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    code = f"import os, nn; os.umask({umask}); nn.MLP(2, [1]).save({str(tmp_path / 'm.json')!r})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o666 & ~umask


# ---------------------------------------------------------------- loading is bounded and precise


def model_text(**changes: Any) -> str:
    """A valid model file's text with top-level or architecture fields replaced."""
    data = serialize.to_dict(nn.MLP(2, [3, 1], seed=0))
    for key, value in changes.items():
        (data["architecture"] if key in data["architecture"] else data)[key] = value
    return json.dumps(data)


@pytest.mark.parametrize("nesting", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_deeply_nested_json_is_a_value_error(tmp_path: Path, nesting: str) -> None:
    (tmp_path / "deep.json").write_text('{"format": ' + nesting + "}")
    with pytest.raises(ValueError, match="nests JSON too deeply"):
        nn.load(tmp_path / "deep.json")
    data = serialize.to_dict(nn.MLP(2, [3, 1], seed=0))
    data["architecture"]["sizes"][0] = "DEEP"
    (tmp_path / "deep2.json").write_text(json.dumps(data).replace('"DEEP"', nesting))  # in the architecture
    with pytest.raises(ValueError, match="nests JSON too deeply"):
        nn.load(tmp_path / "deep2.json")
    data = serialize.to_dict(nn.MLP(2, [3, 1], seed=0))
    data["weights"][0][0]["w"][0] = "DEEP"
    (tmp_path / "deep3.json").write_text(json.dumps(data).replace('"DEEP"', nesting))  # deep inside a weight
    with pytest.raises(ValueError, match=r"'weights' and what follows hold 1000\d\d JSON items .* need 23$"):
        nn.load(tmp_path / "deep3.json")  # refused from its brackets' count, before the parser recurses


@pytest.mark.parametrize(
    ("digits", "field"),
    [
        ("1" + "0" * 400, "weights[0][0].w[0] needs a finite number, got a 401-digit integer" + BEYOND),
        ("-" + "9" * 400, "weights[0][0].w[0] needs a finite number, got a 400-digit integer" + BEYOND),
        # past Python's int() digit limit
        ("7" * 5000, "weights[0][0].w[0] needs a finite number, got a 5000-digit integer" + BEYOND),
        ("1e400", "weights[0][0].w[0] needs a finite number, got inf"),
    ],
)
def test_a_huge_number_in_a_model_file_names_its_field(tmp_path: Path, digits: str, field: str) -> None:
    data = serialize.to_dict(nn.MLP(2, [3, 1], seed=0))
    data["weights"][0][0]["w"][0] = "HUGE"
    (tmp_path / "m.json").write_text(json.dumps(data).replace('"HUGE"', digits))
    with pytest.raises(ValueError) as info:
        nn.load(tmp_path / "m.json")
    assert str(info.value) == f"model file: {field}"


def test_a_long_integer_that_fits_a_float_is_a_weight(tmp_path: Path) -> None:
    data = serialize.to_dict(nn.MLP(2, [3, 1], seed=0))
    data["weights"][0][0]["w"][0] = "HUGE"
    (tmp_path / "m.json").write_text(json.dumps(data).replace('"HUGE"', "1" * 305))
    assert nn.load(tmp_path / "m.json").layers[0].neurons[0].w[0].data == float("1" * 305)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nin": int("9" * 400)}, "architecture.nin needs an int >= 1, got a 400-digit integer"),
        (
            {"version": int("1" * 400)},
            "'version' needs 1 (the version this axongrad reads), got a 400-digit integer",
        ),
        ({"format": "x" * 1_000_000}, "'format' needs 'axongrad-model', got str 'xxxx"),
        (
            {"activations": ["relu" * 100_000, "linear"]},
            "activations[0] needs one of linear, step, sign, sigmoid, tanh, relu, leaky_relu, "
            "got str 'relurelu",
        ),
    ],
)
def test_bad_huge_fields_give_short_messages(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    (tmp_path / "m.json").write_text(model_text(**changes))
    with pytest.raises(ValueError) as info:
        nn.load(tmp_path / "m.json")
    assert message in str(info.value) and len(str(info.value)) < 300


def zeros_file(path: Path, nin: int, hidden: int) -> int:
    """A model file of nin * hidden + hidden weights all written as `0` (2 bytes each); its size."""
    row = '{"w":[' + ",".join(["0"] * nin) + '],"b":null}'
    with path.open("w") as f:
        f.write(
            f'{{"format":"axongrad-model","version":1,"architecture":{{"nin":{nin},"sizes":[{hidden},1],'
            '"activations":["relu","linear"],"bias":[false,false]},"weights":[['
        )
        f.write(",".join([row] * hidden))
        f.write('],[{"w":[' + ",".join(["0"] * hidden) + '],"b":null}]]}')
    return path.stat().st_size


def test_loading_a_file_of_many_tiny_weights_is_refused_within_a_few_times_its_size(tmp_path: Path) -> None:
    """The issue's probe, halved: 10 MB of weights written as `0` took 141 times its size in memory.

    Now the declared count is refused before a Value is built; parsing costs about 4 times the size.
    """
    path = tmp_path / "zeros.json"
    size = zeros_file(path, 2000, 1200)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="declares 2401200 weights and biases, more than max_parameters"):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * size


def test_max_parameters_lets_a_trusted_large_model_load(tmp_path: Path) -> None:
    path = tmp_path / "zeros.json"
    zeros_file(path, 30, 20)  # 620 weights
    with pytest.raises(ValueError, match="more than max_parameters=600"):
        nn.load(path, max_parameters=600)
    model = nn.load(path, max_parameters=620)
    assert model.sizes == [20, 1] and set(weights(model)) == {0.0}
    for bad, error in [
        (0, ValueError),
        (-5, ValueError),
        (True, TypeError),
        (1.5, TypeError),
        ("9", TypeError),
    ]:
        with pytest.raises(error, match="max_parameters"):
            nn.load(path, max_parameters=bad)  # type: ignore[arg-type]


def test_a_file_larger_than_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "sparse.json"
    with path.open("wb") as f:
        f.truncate(serialize.MAX_BYTES_PER_PARAMETER * serialize.MAX_PARAMETERS + 1)  # sparse: no disk used
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="load reads at most 128000000 bytes"):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # refused from the size alone, not read


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_without_a_size_is_refused_unread() -> None:
    with pytest.raises(OSError, match="cannot read '/dev/zero': it is a character device, not a regular"):
        nn.load("/dev/zero", max_parameters=100)
