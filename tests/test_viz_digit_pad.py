"""The digit pad page: a self-contained export of the weights, and the page's forward pass in Chromium.

The browser tests draw strokes through the page's own pointer handlers (selenium's ActionChains
sends real mouse input), read the 64 values the page fed the network, and compare the page's
probabilities and prediction with the Python model's for exactly those 64 values.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser

import nn
from autograd import Value
from autograd.activations import LEAKY_SLOPE, TABLE
from viz.digit_pad import (
    ACTIVATIONS,
    INPUTS,
    TEMPLATE,
    digit_pad_html,
    export_digit_pad,
    mlp_as_lists,
    page_template,
)
from viz.labels import script_json

MODEL_JSON = re.compile(r'<script type="application/json" id="axongrad-model">(.*?)</script>', re.S)



def small_model(activation: str = "relu", output_activation: str = "linear", seed: int = 0) -> nn.MLP:
    """A seeded 64-12-10 MLP with non-zero biases (so a dropped bias would show)."""
    model = nn.MLP(64, [12, 10], activation=activation, output_activation=output_activation, seed=seed)
    for k, p in enumerate(model.parameters()):
        if p.label == "b":
            p.data = 0.05 * math.sin(k)
    return model


@pytest.fixture(scope="module")
def trained() -> nn.MLP:
    """A digits model trained for a few seconds (skipped without scikit-learn)."""
    pytest.importorskip("sklearn", reason="the digits data needs scikit-learn (pip install 'axongrad[data]')")
    xs, ys = nn.digits()
    model = nn.MLP(64, [16, 10], seed=0)
    nn.fit(model, xs[:400], ys[:400], loss="cross_entropy", optimizer=nn.SGD(model.parameters(), lr=0.1,
           momentum=0.9), epochs=4, batch_size=32, progress=False)
    return model


def python_probs(model: nn.MLP, x: list[float]) -> list[float]:
    """softmax of the Python model's outputs."""
    return [p.data for p in nn.softmax(model.outputs(x))]


def embedded(page: str) -> Any:
    """The model JSON embedded in the page."""
    match = MODEL_JSON.search(page)
    assert match is not None
    return json.loads(match.group(1))


# ---------------------------------------------------------------- the export, without a browser


def test_page_is_self_contained_and_embeds_the_exact_weights(tmp_path: Path) -> None:
    model = small_model()
    path = export_digit_pad(model, tmp_path / "pad.html")
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"<script[^>]*\bsrc=", page) and "@import" not in page and "url(" not in page
    data = embedded(page)
    assert data == mlp_as_lists(model)
    for layer, ours in zip(model.layers, data["layers"]):
        assert ours["weights"] == [[w.data for w in n.w] for n in layer.neurons]
        assert ours["biases"] == [n.b.data for n in layer.neurons if n.b is not None]
        assert ours["activations"] == [n.activation for n in layer.neurons]
    assert data["inputs"] == INPUTS == len(data["layers"][0]["weights"][0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable like any page, not mkstemp's 0600


def test_layers_without_bias_are_exported_as_zero_bias() -> None:
    model = nn.MLP(64, [5, 10], bias=[False, True], seed=1)
    data = mlp_as_lists(model)
    assert data["layers"][0]["biases"] == [0.0] * 5
    assert data["layers"][1]["biases"] == [n.b.data for n in model.layers[1].neurons if n.b is not None]


def test_hostile_title_and_json_cannot_break_out_of_the_page() -> None:
    hostile = "</script><script>alert('x')</script> & <!--"
    page = digit_pad_html(small_model(), title=hostile)
    assert "<script>alert" not in page and "<!--" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&#x27;x&#x27;)" in page
    page = digit_pad_html(small_model(), title="__MODEL_JSON__ __PEN__")
    assert "<title>__MODEL_JSON__ __PEN__</title>" in page and len(MODEL_JSON.findall(page)) == 1
    text = script_json({"label": hostile, "sep": "\u2028\u2029"})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"label": hostile, "sep": "\u2028\u2029"}


def test_export_replaces_atomically_and_keeps_the_old_page_on_error(tmp_path: Path) -> None:
    path = tmp_path / "pad.html"
    path.write_text("old page", encoding="utf-8")
    os.chmod(path, 0o640)
    export_digit_pad(small_model(seed=1), path)
    first = path.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the replaced file's mode is kept
    with pytest.raises(ValueError, match="64 pixels"):
        export_digit_pad(nn.MLP(2, [10], seed=0), path)
    assert path.read_text(encoding="utf-8") == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pad.html"]  # no temporary file left


def test_bad_models_raise_errors_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"layers\[0\]\.neurons\[0\]\.w has 2 weights.*64 pixels"):
        mlp_as_lists(nn.MLP(2, [10]))
    with pytest.raises(ValueError, match="10 outputs"):
        mlp_as_lists(nn.MLP(64, [4, 3]))
    with pytest.raises(TypeError, match=r"model\.layers"):
        mlp_as_lists(object())
    model = small_model()
    model.layers[1].neurons[3].w[2].data = float("nan")
    with pytest.raises(ValueError, match=r"layers\[1\]\.neurons\[3\]\.w\[2\] needs a finite number"):
        mlp_as_lists(model)
    model = small_model()
    model.layers[0].neurons[0].activation = "swish"
    with pytest.raises(ValueError) as info:
        mlp_as_lists(model)
    assert str(info.value) == (
        "export_digit_pad: layers[0].neurons[0].activation needs one of linear, step, sign, sigmoid, tanh, "
        "relu, leaky_relu, got str 'swish'"
    )
    with pytest.raises(TypeError, match="title"):
        digit_pad_html(small_model(), title=3)  # type: ignore[arg-type]


def test_the_page_implements_every_activation_of_the_table_and_no_other() -> None:
    """The page's ACT object has one function per row of autograd's activation table."""
    block = re.search(r"const ACT = \{(.*?)\n  \};", page_template(), re.S)
    assert block is not None
    names = re.findall(r"^    (\w+): function", block.group(1), re.M)
    assert names and sorted(names) == sorted(TABLE) and ACTIVATIONS == tuple(TABLE)
    page = digit_pad_html(small_model())
    assert f"const LEAKY_SLOPE = {LEAKY_SLOPE!r};" in page and "__" + "LEAKY_SLOPE__" not in page


def test_the_page_template_ships_as_package_data() -> None:
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    patterns = re.findall(r'"([^"]+)"', re.search(r"^viz = \[(.*)\]$", pyproject, re.M).group(1))  # type: ignore[union-attr]
    assert any(fnmatch.fnmatch(TEMPLATE, pattern) for pattern in patterns)
    assert page_template().startswith("<!DOCTYPE html>")


def test_viz_digit_pad_does_not_import_nn() -> None:
    source = (Path(__file__).resolve().parent.parent / "viz" / "digit_pad.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import nn|from nn\b)", source, re.M)


# ---------------------------------------------------------------- the page in headless Chromium


# Seconds a wait for the page polls before the test fails: long enough for any loaded machine, it
# only bounds a hang.
HANG_S = 30


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = missing_browser()
    if reason is not None:
        pytest.skip(reason)
    with chromium(tmp_path_factory.mktemp("chromium-profile"), "--window-size=1200,900") as driver:
        yield driver


def open_pad(driver: Any, model: nn.MLP, folder: Path) -> Any:
    """Export the page for `model`, load it, and return the drawing canvas element."""
    from selenium.webdriver.common.by import By

    page = export_digit_pad(model, folder / "pad.html")
    driver.get(page.resolve().as_uri())
    errors = driver.execute_script("return typeof window.axongrad === 'object' ? null : 'no hook';")
    assert errors is None
    return driver.find_element(By.ID, "pad")


def draw(driver: Any, canvas: Any, strokes: list[list[tuple[int, int]]], release_last: bool = True) -> None:
    """Draw polylines with the mouse; points are pixel offsets from the canvas centre."""
    from selenium.webdriver.common.action_chains import ActionChains

    for n, stroke in enumerate(strokes):
        actions = ActionChains(driver, duration=0)
        x0, y0 = stroke[0]
        actions.move_to_element_with_offset(canvas, x0, y0).click_and_hold()
        previous = stroke[0]
        for point in stroke[1:]:
            actions.move_by_offset(point[0] - previous[0], point[1] - previous[1])
            previous = point
        if release_last or n < len(strokes) - 1:
            actions.release()
        actions.perform()


def page_state(driver: Any) -> dict[str, Any]:
    """lastInput, lastProbs and lastLabel from the test hook, and the displayed prediction."""
    state: dict[str, Any] = driver.execute_script(
        "const a = window.axongrad; const p = document.getElementById('prediction');"
        "return {input: a.lastInput, probs: a.lastProbs, label: a.lastLabel,"
        "        shown: p.dataset.label, text: p.textContent};"
    )
    return state


SEVEN = [[(-60, -90), (-20, -90), (20, -90), (60, -90), (45, -50), (30, -10), (15, 30), (0, 70), (-10, 100)]]
ZERO = [[(0, -100), (-40, -80), (-60, -30), (-60, 30), (-40, 80), (0, 100), (40, 80), (60, 30), (60, -30),
         (40, -80), (0, -100)]]
ONE = [[(0, -100), (0, -50), (0, 0), (0, 50), (0, 100)]]
TWO = [[(-50, -60), (-30, -90), (10, -100), (45, -80), (50, -40), (20, 0), (-20, 40), (-55, 90), (-10, 90),
        (30, 90), (60, 90)]]
THREE = [[(-50, -90), (0, -100), (45, -80), (40, -30), (0, -5), (45, 20), (50, 70), (0, 100), (-50, 85)]]
FOUR = [[(20, -100), (-20, -30), (-60, 20), (0, 20), (60, 20)], [(30, -40), (30, 20), (30, 100)]]


@pytest.mark.browser
@pytest.mark.parametrize("strokes", [SEVEN, ZERO, ONE], ids=["seven", "zero", "one"])
@pytest.mark.parametrize("activations", [("relu", "linear"), ("sigmoid", "tanh")], ids=["relu", "sigmoid"])
def test_drawn_digit_prediction_equals_the_python_model(
    browser: Any, tmp_path: Path, strokes: list[list[tuple[int, int]]], activations: tuple[str, str]
) -> None:
    model = small_model(*activations)
    canvas = open_pad(browser, model, tmp_path)
    draw(browser, canvas, strokes)
    state = page_state(browser)
    x = state["input"]
    assert isinstance(x, list) and len(x) == INPUTS
    assert all(0.0 <= v <= 1.0 and v * 16 == round(v * 16) for v in x)  # sixteenths, like the data /16
    rows = [sum(x[r * 8:(r + 1) * 8]) for r in range(8)]
    assert rows[0] > 0 and rows[7] > 0  # like every sklearn digit, the drawing fills the box top to bottom
    expected = python_probs(model, x)
    assert state["probs"] == pytest.approx(expected, abs=1e-9, rel=0)
    label = max(range(10), key=expected.__getitem__)
    assert state["label"] == label and state["shown"] == str(label)
    assert state["text"].startswith(str(label))


@pytest.mark.browser
def test_vertical_stroke_is_centred_and_prediction_updates_while_drawing(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    canvas = open_pad(browser, small_model(), tmp_path)
    assert page_state(browser)["input"] is None and page_state(browser)["shown"] == ""
    draw(browser, canvas, ONE, release_last=False)  # the button is still held down
    # While drawing, the pad updates on the next animation frame: wait for a frame after the
    # last move (an update it scheduled runs first), then poll for the state. HANG_S only bounds
    # a hang; a loaded machine may take seconds to paint a frame.
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(null)));"
    )
    WebDriverWait(browser, HANG_S, poll_frequency=0.05).until(lambda d: page_state(d)["input"] is not None)
    x = page_state(browser)["input"]
    columns = [sum(x[r * 8 + c] for r in range(8)) for c in range(8)]
    assert columns[3] > 0 and columns[4] > 0 and columns[3] == pytest.approx(columns[4])  # centred
    assert columns[0] == columns[1] == columns[6] == columns[7] == 0
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).release().perform()
    browser.find_element("id", "clear").click()
    state = page_state(browser)
    assert state["input"] is None and state["probs"] is None and state["shown"] == ""


@pytest.mark.browser
def test_the_pages_activations_equal_the_tables(browser: Any, tmp_path: Path) -> None:
    """Each of the page's activation functions gives what the table's row gives a Value, to the bit."""
    open_pad(browser, small_model(), tmp_path)
    zs = [-30.0, -2.5, -1e-3, 0.0, 1e-3, 0.7, 2.5, 30.0]
    got = browser.execute_script(
        "const acts = window.axongrad.activations;"
        "return Object.keys(acts).sort().map(n => [n, arguments[0].map(z => acts[n](z))]);",
        zs,
    )
    assert [name for name, _ in got] == sorted(TABLE)
    for name, values in got:
        assert values == [TABLE[name].apply(Value(z)).data for z in zs], name


@pytest.mark.browser
def test_predict8x8_matches_python_on_real_digits(browser: Any, tmp_path: Path, trained: nn.MLP) -> None:
    xs, ys = nn.digits()
    open_pad(browser, trained, tmp_path)
    samples = xs[1500:1530]
    results = browser.execute_script(
        "return arguments[0].map(x => window.axongrad.predict8x8(x));", samples
    )
    right = 0
    for x, y, result in zip(samples, ys[1500:1530], results):
        expected = python_probs(trained, x)
        assert result["probs"] == pytest.approx(expected, abs=1e-12, rel=0)
        assert result["logits"] == pytest.approx([v.data for v in trained.outputs(x)], abs=1e-12, rel=0)
        assert result["label"] == max(range(10), key=expected.__getitem__)
        right += result["label"] == y
    assert right >= 20  # the trained model, run by the page, reads most held-out digits



@pytest.mark.browser
def test_drawn_digits_are_read_by_a_trained_model(browser: Any, tmp_path: Path, trained: nn.MLP) -> None:
    canvas = open_pad(browser, trained, tmp_path)
    read = {}
    for digit, strokes in ((0, ZERO), (1, ONE), (2, TWO), (3, THREE), (4, FOUR)):
        browser.find_element("id", "clear").click()
        draw(browser, canvas, strokes)
        state = page_state(browser)
        assert state["probs"] == pytest.approx(python_probs(trained, state["input"]), abs=1e-9, rel=0)
        read[digit] = state["label"]
    # The downsampling makes mouse drawings look like the training data: (nearly) all are read right.
    assert sum(1 for digit, label in read.items() if digit == label) >= 4, read
