"""fit(..., record=k): every Frame's numbers against an independent re-run of training by hand."""

from __future__ import annotations

import json
import math
import re

import pytest

import nn
from autograd import Value, numerical_grad


def mean_loss(model: nn.MLP, xs: list[list[float]], ys: list[float]) -> Value:
    """The batch's mean squared error as one graph (as fit's scalar engine, written out again)."""
    total = sum((nn.squared_error(model(x), y) for x, y in zip(xs, ys)), start=0.0 * model.parameters()[0])
    return total * (1.0 / len(xs))


def test_frames_hold_the_weights_and_gradients_of_each_step_as_rerun_by_hand() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=1)
    history = nn.fit(model, xs, ys, optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=5, record=1,
                     progress=False)
    assert [f.step for f in history.frames] == [0, 1, 2, 3, 4]
    assert [f.epoch for f in history.frames] == [1, 2, 3, 4, 5]
    twin = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=1)
    for frame in history.frames:
        twin.zero_grad()
        loss = mean_loss(twin, xs, ys)
        loss.backward()
        assert frame.loss == pytest.approx(loss.data, rel=1e-12)
        for layer, record in zip(twin.layers, frame.layers):
            assert record.weights == [[w.data for w in n.w] for n in layer.neurons]
            assert record.biases == [n.b.data for n in layer.neurons]  # type: ignore[union-attr]
            for row, n in zip(record.weight_grads, layer.neurons):
                assert row == pytest.approx([w.grad for w in n.w], rel=1e-9)
            assert record.bias_grads == pytest.approx([n.b.grad for n in layer.neurons], rel=1e-9)  # type: ignore[union-attr]
        assert frame.accuracy == nn.evaluate(twin, xs, ys)
        for p in twin.parameters():
            p.data -= 0.5 * p.grad
    assert [f.name for f in history.frames[0].layers] == ["L1", "L2"]


def test_the_sample_delta_is_the_posts_closed_form_on_a_1_1_1_sigmoid_network() -> None:
    # E = 1/2 (a2 - y)^2, a2 = s(w2 a1 + b2), a1 = s(w1 x + b1):
    # delta2 = dE/dz2 = (a2 - y) a2 (1 - a2);  delta1 = dE/dz1 = delta2 w2 a1 (1 - a1).
    xs, ys = [[0.5], [-1.5]], [1.0, 0.0]
    model = nn.MLP(1, [1, 1], activation="sigmoid", output_activation="sigmoid", seed=3)
    history = nn.fit(model, xs, ys, lr=2.0, epochs=3, record=1, record_sample=1, progress=False)
    twin = nn.MLP(1, [1, 1], activation="sigmoid", output_activation="sigmoid", seed=3)
    for frame in history.frames:
        sample = frame.sample
        assert sample is not None and sample.index == 1 and sample.inputs == [-1.5] and sample.target == 0.0
        (w1,), (w2,) = twin.layers[0].neurons[0].w, twin.layers[1].neurons[0].w
        b1, b2 = twin.layers[0].neurons[0].b, twin.layers[1].neurons[0].b
        assert b1 is not None and b2 is not None
        a1 = 1 / (1 + math.exp(-(w1.data * -1.5 + b1.data)))
        a2 = 1 / (1 + math.exp(-(w2.data * a1 + b2.data)))
        delta2 = (a2 - 0.0) * a2 * (1 - a2)
        delta1 = delta2 * w2.data * a1 * (1 - a1)
        assert sample.neurons["L2.n0"]["a"] == pytest.approx(a2, rel=1e-12)
        assert sample.outputs == pytest.approx([a2], rel=1e-12)
        assert sample.neurons["L2.n0"]["delta"] == pytest.approx(delta2, rel=1e-9)
        assert sample.neurons["L1.n0"]["delta"] == pytest.approx(delta1, rel=1e-9)
        assert sample.neurons["L1.n0"]["z"] == pytest.approx(w1.data * -1.5 + b1.data, rel=1e-12)
        twin.zero_grad()
        mean_loss(twin, xs, ys).backward()
        for p in twin.parameters():
            p.data -= 2.0 * p.grad


def test_the_sample_delta_equals_central_differences_of_the_loss_in_each_bias() -> None:
    # dz/db = 1, so dE/dz of a neuron is dE/db: central differences on a 2-3-2 tanh network.
    xs, ys = nn.and_gate()
    model = nn.MLP(2, [3, 2], activation="tanh", seed=4)
    history = nn.fit(model, xs, [[y, 1 - y] for y in ys], epochs=1, record=1, record_sample=2, progress=False)
    frame = history.frames[0]
    assert frame.sample is not None
    twin = nn.MLP(2, [3, 2], activation="tanh", seed=4)
    x, y = xs[2], [ys[2], 1 - ys[2]]
    for layer in twin.layers:
        for n in layer.neurons:
            b = n.b
            assert b is not None

            def loss_at(point: list[float], b: Value = b) -> float:
                kept = b.data
                b.data = point[0]
                value = nn.squared_error(twin(x), y).data
                b.data = kept
                return value

            (expected,) = numerical_grad(loss_at, [b.data])
            assert frame.sample.neurons[n.name]["delta"] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_the_boundary_is_the_models_output_on_the_padded_grid() -> None:
    xs, ys = nn.moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    history = nn.fit(model, xs, ys, loss="hinge", lr=0.1, epochs=3, record=2, progress=False)
    first = history.frames[0].boundary
    assert first is not None and first.size == 25
    lo_x, hi_x = min(x for x, _ in xs), max(x for x, _ in xs)
    lo_y, hi_y = min(y for _, y in xs), max(y for _, y in xs)
    assert first.x_min == pytest.approx(lo_x - 0.1 * (hi_x - lo_x))
    assert first.y_max == pytest.approx(hi_y + 0.1 * (hi_y - lo_y))
    fresh = nn.MLP(2, [8, 1], seed=0)  # the weights of step 0
    for i in (0, 7, 24):
        for j in (0, 13, 24):
            px = first.x_min + j * (first.x_max - first.x_min) / 24
            py = first.y_min + i * (first.y_max - first.y_min) / 24
            assert first.values[i][j] == pytest.approx(fresh([px, py]).data, rel=1e-12)  # type: ignore[union-attr]
    assert history.frames[-1].boundary is not None
    assert history.frames[-1].boundary.values != first.values


def test_frames_come_every_k_steps_and_at_the_last_with_minibatches_and_until() -> None:
    xs, ys = nn.moons(20, noise=0.1, seed=1)
    model = nn.MLP(2, [4, 1], seed=0)
    seen: list[tuple[int, int]] = []
    history = nn.fit(model, xs, ys, loss="hinge", lr=0.05, epochs=3, batch_size=6, record=5,
                     on_frame=lambda h, f: seen.append((len(h.frames), f.step)), progress=False)
    # 4 batches per epoch, 12 steps (0..11): frames at 0, 5, 10 and the last, 11.
    assert [f.step for f in history.frames] == [0, 5, 10, 11]
    assert [f.epoch for f in history.frames] == [1, 2, 3, 3]
    assert seen == [(1, 0), (2, 5), (3, 10), (4, 11)]
    twin = nn.MLP(2, [4, 1], seed=0)
    assert history.frames[0].accuracy == nn.evaluate(twin, xs, ys)  # over the whole set, not the batch
    stopped = nn.fit(nn.MLP(2, [4, 1], seed=0), xs, ys, loss="hinge", lr=0.05, epochs=50, until=10.0,
                     record=7, progress=False)
    assert stopped.epochs == 1 and [f.step for f in stopped.frames] == [0]


def test_as_dict_is_plain_json_data() -> None:
    xs, ys = nn.xor()
    history = nn.fit(nn.MLP(2, [2, 1], seed=0), xs, ys, epochs=2, record=1, progress=False)
    data = history.frames[1].as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"step", "epoch", "loss", "accuracy", "layers", "boundary", "sample"}
    assert set(data["layers"][0]) == {"name", "weights", "biases", "weight_grads", "bias_grads"}
    assert set(data["boundary"]) == {"x_min", "x_max", "y_min", "y_max", "size", "values"}
    assert set(data["sample"]) == {"index", "inputs", "target", "outputs", "neurons"}
    assert set(data["sample"]["neurons"]["L1.n0"]) == {"z", "a", "delta"}
    data["layers"][0]["weights"][0][0] = 99.0  # a copy: the frame is unchanged
    data["sample"]["neurons"]["L1.n0"]["z"] = 99.0
    assert history.frames[1].layers[0].weights[0][0] != 99.0
    assert history.frames[1].sample is not None and history.frames[1].sample.neurons["L1.n0"]["z"] != 99.0


def test_without_record_nothing_is_kept_and_a_3_input_model_has_no_boundary() -> None:
    xs = [[0.0, 1.0, 2.0], [1.0, 0.0, -1.0]]
    assert nn.fit(nn.MLP(3, [2, 1], seed=0), xs, [1.0, -1.0], epochs=2, progress=False).frames == []
    history = nn.fit(nn.MLP(3, [2, 2], seed=0), xs, [0, 1], loss="cross_entropy", epochs=2, record=1,
                     progress=False)
    assert history.frames[0].boundary is None and history.frames[0].sample is not None
    assert history.frames[0].sample.target == 0
    assert json.dumps(history.frames[0].as_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"record": 0}, ValueError, "fit(record) needs an int >= 1, got 0"),
        ({"record": True}, TypeError, "fit(record) needs an int >= 1, got bool True"),
        ({"record": 1.5}, TypeError, "fit(record) needs an int >= 1, got 1.5"),
        ({"record": 1, "record_sample": 4}, ValueError, "fit(record_sample) needs an int in 0..3, got 4"),
        ({"record": 1, "record_sample": -1}, ValueError, "fit(record_sample) needs an int in 0..3, got -1"),
        (
            {"record": 1, "on_frame": "print"},
            TypeError,
            "fit(on_frame) needs None or a callable(history, frame), got str 'print'",
        ),
        ({"lr": 0.5, "optimizer": "x"}, TypeError, "fit(optimizer)"),
        ({"lr": -1.0}, ValueError, "lr"),
    ],
)
def test_bad_recording_arguments_are_named(
    kwargs: dict[str, object], error: type[Exception], words: str
) -> None:
    xs, ys = nn.xor()
    with pytest.raises(error, match=re.escape(words)):
        nn.fit(nn.MLP(2, [2, 1], seed=0), xs, ys, epochs=1, progress=False, **kwargs)  # type: ignore[arg-type]


def test_lr_and_an_optimizer_together_are_an_error() -> None:
    xs, ys = nn.xor()
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match=re.escape("both optimizer= and lr=0.5")):
        nn.fit(model, xs, ys, optimizer=nn.SGD(model.parameters(), lr=0.1), lr=0.5, progress=False)


def test_an_on_frame_error_stops_fit_with_that_error() -> None:
    xs, ys = nn.xor()
    calls: list[int] = []

    def boom(history: nn.History, frame: nn.Frame) -> None:
        calls.append(frame.step)
        raise RuntimeError("viz failed")

    with pytest.raises(RuntimeError, match="viz failed"):
        nn.fit(nn.MLP(2, [2, 1], seed=0), xs, ys, epochs=2, record=1, on_frame=boom, progress=False)
    assert calls == [0]


def test_the_tape_engine_records_the_same_frames_as_the_scalar_engine() -> None:
    xs, ys = nn.moons(16, noise=0.1, seed=2)
    runs = [
        nn.fit(nn.MLP(2, [4, 1], seed=0), xs, ys, loss="hinge", lr=0.1, epochs=3, batch_size=8, record=2,
               engine=engine, progress=False)
        for engine in ("scalar", "tape-python")
    ]
    scalar, tape = (r.frames for r in runs)
    assert [f.step for f in scalar] == [f.step for f in tape] == [0, 2, 4, 5]
    for a, b in zip(scalar, tape):
        assert a.loss == pytest.approx(b.loss, rel=1e-12)
        for la, lb in zip(a.layers, b.layers):
            for wa, wb, ga, gb in zip(la.weights, lb.weights, la.weight_grads, lb.weight_grads):
                assert wa == pytest.approx(wb, rel=1e-12)
                assert ga == pytest.approx(gb, rel=1e-9, abs=1e-15)
        assert a.sample is not None and b.sample is not None
        assert a.sample.outputs == pytest.approx(b.sample.outputs, rel=1e-9)
        for name, numbers in a.sample.neurons.items():
            assert numbers == pytest.approx(b.sample.neurons[name], rel=1e-9, abs=1e-15)
