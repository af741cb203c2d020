"""What a learner reads when training goes its own way: a still-falling loss, an overflow, several outputs."""

from __future__ import annotations

import math
import re

import pytest

import nn
from autograd import Value

# ---------------------------------------------------------------- the loss still falling at the end


def test_fit_says_the_loss_is_still_falling_when_xor_ends_at_75_percent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The default SGD (lr 0.1, 100 epochs) leaves XOR at 75%: fit says to train longer or faster."""
    xs, ys = nn.xor()
    history = nn.fit(nn.MLP(2, [4, 1], seed=0), xs, ys)
    assert history.accuracy[-1] == 0.75
    note = capsys.readouterr().err
    assert note.count("\n") == 1
    assert note.startswith("fit: the loss was still falling at the end") and len(note) < 140
    earlier, last = history.loss[-11], history.loss[-1]
    assert f"({earlier:.4g} -> {last:.4g} over the last 10 epochs)" in note and last < earlier
    assert "try more epochs= or a larger lr= (now 0.1)" in note
    longer = nn.fit(nn.MLP(2, [4, 1], seed=0), xs, ys, epochs=1000, progress=False)  # the advice works
    assert longer.accuracy[-1] == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"progress": False},  # quiet means quiet
        {"epochs": 1000},  # every sample right: nothing to say
        {"until": 0.1},  # stopped on purpose
        {"epochs": 5},  # too short to judge
    ],
)
def test_fit_says_nothing_when_there_is_nothing_to_say(
    capsys: pytest.CaptureFixture[str], kwargs: dict[str, object]
) -> None:
    xs, ys = nn.xor()
    nn.fit(nn.MLP(2, [4, 1], seed=0), xs, ys, **kwargs)  # type: ignore[arg-type]
    assert "still falling" not in capsys.readouterr().err


def test_a_flat_loss_is_not_called_falling(capsys: pytest.CaptureFixture[str]) -> None:
    """A step network learns nothing (every gradient is 0): no "still falling" note."""
    xs, ys = nn.and_gate()
    history = nn.fit(nn.MLP(2, [1], activation="step", output_activation="step", seed=0), xs, ys)
    assert history.loss[0] == history.loss[-1]
    assert "still falling" not in capsys.readouterr().err


# ---------------------------------------------------------------- an overflow: short, with the weight's name


@pytest.mark.parametrize("engine", ["scalar", "tape-python"])
def test_an_overflow_is_short_and_names_the_largest_weight(engine: str) -> None:
    """Before: 700-900 characters, most of them a weighted sum's 33 operands, and no weight named."""
    xs, ys = nn.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    with pytest.raises(ValueError) as caught:
        nn.fit(model, xs, ys, loss="hinge", lr=1e200, epochs=30, progress=False, engine=engine)
    text = str(caught.value)
    assert len(text) < 400, text
    assert "(33 numbers, the largest |x| " in text  # the tuple, summarised
    name, weight = max(model.named_parameters(), key=lambda item: abs(item[1].data))
    assert f"largest |weight| is {abs(weight.data):.3g}, {weight.scope}.{weight.label} ({name})" in text
    assert "try a smaller learning rate than 1e+200" in text
    assert all(math.isfinite(p.data) for p in model.parameters())  # the last finite weights kept


def test_a_short_tuple_and_other_text_stay_as_they_were() -> None:
    from nn.train import _shorten

    assert _shorten("log(x) needs x > 0, got x=-2.0") == "log(x) needs x > 0, got x=-2.0"
    assert _shorten("at x=(1.0, 2.0) overflows") == "at x=(1.0, 2.0) overflows"
    many = "(" + ", ".join(["1e+300", "-inf", "nan", "0.5"] * 3) + ")"
    assert re.fullmatch(r"\(12 numbers, the largest \|x\| \S+\)", _shorten(many))
    words = "(" + ", ".join(["a"] * 12) + ")"
    assert _shorten(words) == words  # not numbers: kept


# ---------------------------------------------------------------- several outputs where one Value was needed


def test_backward_on_several_outputs_says_what_to_do() -> None:
    model = nn.MLP(2, [4, 3], seed=0)
    out = model([0.5, -1.0])
    assert isinstance(out, list) and out == list(out) and len(out) == 3  # still micrograd's plain list
    for use in (lambda: out.backward(), lambda: out.data, lambda: out.grad):  # type: ignore[union-attr]
        with pytest.raises(AttributeError, match=r"^'list' object has no attribute '\w+': the model gave a "
                           r"list of 3 Values, one per output neuron.*nn.cross_entropy\(out, target\)"):
            use()
    arithmetic = (lambda: out - 1.0, lambda: 1.0 - out, lambda: out**2, lambda: out / 2, lambda: -out,
                  lambda: out + 1.0, lambda: 1.0 + out, lambda: out * 2.0, lambda: 2.0 * out,
                  lambda: out * Value(2.0), lambda: Value(1.0) + out)
    for use in arithmetic:  # type: ignore[operator]
        with pytest.raises(TypeError, match="a list of 3 Values, one per output neuron"):
            use()
    joined, before = out + [1.0], [1.0] + out  # noqa: RUF005 (the list operators themselves)
    assert out * 2 == list(out) * 2 and joined == [*out, 1.0] and before == [1.0, *out]  # lists still
    assert sum(out).data == sum(v.data for v in out)  # sum() adds the Values, starting from 0
    with pytest.raises(AttributeError, match=r"^'list' object has no attribute 'nonsense'$"):
        out.nonsense  # type: ignore[union-attr]  # noqa: B018
    loss = nn.cross_entropy(out, 2)  # the hint's way works
    loss.backward()
    assert all(n.b is not None and n.b.grad != 0.0 for n in model.layers[-1].neurons)


def test_a_layer_of_several_neurons_gives_the_same_list() -> None:
    layer = nn.Layer(2, 2, seed=0)
    with pytest.raises(AttributeError, match="a list of 2 Values"):
        layer([1.0, 2.0]).backward()  # type: ignore[union-attr]
    assert isinstance(nn.MLP(2, [1], seed=0)([1.0, 2.0]), Value)  # one output: a Value, as before
