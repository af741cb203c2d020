"""The training replay page in headless Chromium: every frame shows the recorded numbers, nothing loads."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser
from test_viz_training_page import HOSTILE, hostile_history
from training_frames import HandFrame, HandHistory, fit_history

import viz

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
]

# Every element that shows a number of the current frame: its data-field and data-value.
SHOWN = """
return [...document.querySelectorAll('[data-field]')].map(e => [e.getAttribute('data-field'),
                                                             e.getAttribute('data-value')]);
"""
# The boundary canvas's pixels, as a data URL (compared between frames).
PIXELS = "return document.getElementById('boundary').toDataURL();"


@pytest.fixture(scope="module")
def recorded() -> tuple[HandHistory, list[list[float]], list[float]]:
    return fit_history(epochs=31, record=5, hidden=(6, 4))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        screen = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
        yield driver


def expected_fields(frame: dict[str, Any]) -> dict[str, Any]:
    """What the page must show for a frame, by data-field, straight from the recorded frame."""
    want: dict[str, Any] = {
        "step": frame["step"], "epoch": frame["epoch"], "loss": frame["loss"], "accuracy": frame["accuracy"],
    }
    sample = frame["sample"]
    want["target"] = sample["target"]
    want.update({f"input.{k}": x for k, x in enumerate(sample["inputs"])})
    want.update({f"output.{k}": x for k, x in enumerate(sample["outputs"])})
    for name, values in sample["neurons"].items():
        want.update({f"{name}.{key}": values[key] for key in ("z", "a", "delta")})
    for layer in frame["layers"]:
        name = layer["name"]
        for prefix, weights, biases in ((name, layer["weights"], layer["biases"]),
                                        (name + ".grad", layer["weight_grads"], layer["bias_grads"])):
            for j, row in enumerate(weights):
                want.update({f"{prefix}.w.{j}.{k}": w for k, w in enumerate(row)})
                want[f"{prefix}.b.{j}"] = biases[j]
    return want


def same(field: str, shown: str, recorded: Any) -> bool:
    """The page's data-value (JavaScript's shortest round-trip text) is exactly the recorded value."""
    if field == "target":  # any JSON data, shown as JSON text
        return bool(json.loads(shown) == recorded)
    if recorded is None:
        return shown == ""
    if isinstance(recorded, float) and math.isnan(recorded):
        return shown == "NaN"
    return float(shown) == recorded


def test_the_slider_visits_every_frame_and_shows_its_numbers(
    recorded: Any, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    history, xs, ys = recorded
    page = viz.save_training_html(history, tmp_path / "training.html", xs=xs, ys=ys)
    browser.get(Path(page).as_uri())
    slider = browser.find_element(By.ID, "slider")
    assert slider.get_attribute("max") == str(len(history.frames) - 1) == "6"
    pictures = []
    for i, frame in enumerate(history.frames):
        if i:
            slider.send_keys(Keys.ARROW_RIGHT)  # the slider itself moves one frame
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-frame") == str(i)
        assert browser.find_element(By.ID, "counter").text == f"frame {i + 1} / 7"
        shown = dict(browser.execute_script(SHOWN))
        want = expected_fields(frame.as_dict())
        assert set(shown) == set(want)  # every recorded number is on the page, nothing else
        wrong = {k: (shown[k], want[k]) for k in want if not same(k, shown[k], want[k])}
        assert not wrong, f"frame {i}: {wrong}"
        pictures.append(browser.execute_script(PIXELS))
    # The decision boundary moves: the first and last pictures differ, and so does each step's.
    assert len(set(pictures)) == len(pictures)
    # The loss curve marks the current step: its marker sits at the last step's x at the end.
    marker_x = float(browser.find_element(By.ID, "curve-marker").get_attribute("x1"))
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.HOME)
    slider.send_keys(Keys.HOME)
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-frame") == "0"
    assert float(browser.find_element(By.ID, "curve-marker").get_attribute("x1")) < marker_x
    # Nothing was fetched from anywhere: no resource entries at all.
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.get_log("browser") == []  # no script error, no CSP violation


def test_play_runs_to_the_last_frame_and_pause_stops(recorded: Any, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    page = viz.save_training_html(recorded[0], tmp_path / "training.html")
    browser.get(Path(page).as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    Select(browser.find_element(By.ID, "speed")).select_by_visible_text("fast")
    play = browser.find_element(By.ID, "play")
    play.click()
    assert play.text == "❚❚ pause"
    WebDriverWait(browser, 10).until(lambda _: body.get_attribute("data-frame") == "6")
    WebDriverWait(browser, 5).until(lambda _: play.text == "▶ play")  # it stops at the end
    assert browser.find_element(By.ID, "slider").get_attribute("value") == "6"
    # From the end, play starts over, and a second click pauses. Both clicks run in one script: at
    # the fast speed the whole replay takes 0.3 s, which two WebDriver clicks on a loaded machine
    # can take, and then the second click started a finished replay over instead of pausing it.
    browser.execute_script("arguments[0].click(); arguments[0].click();", play)
    assert play.text == "▶ play"
    stopped = body.get_attribute("data-frame")
    assert stopped == "0"  # it started over
    time.sleep(0.3)
    assert body.get_attribute("data-frame") == stopped
    # Space plays and pauses, also while the play button has the focus (not twice). At the slow
    # speed the replay cannot reach its last frame (where it stops by itself) between two presses.
    from selenium.webdriver.common.keys import Keys

    Select(browser.find_element(By.ID, "speed")).select_by_visible_text("slow")
    play.send_keys(Keys.SPACE)
    assert play.text == "❚❚ pause"
    body.send_keys(Keys.SPACE)
    assert play.text == "▶ play"


def test_hostile_labels_and_targets_stay_text(recorded: Any, browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    history = hostile_history(recorded)
    page = viz.save_training_html(history, tmp_path / "training.html", title=HOSTILE)
    browser.get(Path(page).as_uri())
    browser.find_element(By.ID, "slider").send_keys(Keys.ARROW_RIGHT)  # frame 1 has the NaN loss
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (reading it raises when no dialog opened)
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    assert browser.execute_script("return document.querySelectorAll('img, iframe, b script').length") == 0
    assert browser.find_element(By.ID, "title").text.startswith('</script><script>alert("x")')
    target = browser.execute_script("return document.querySelector('[data-field=\"target\"]').textContent")
    assert target == HOSTILE
    loss = browser.find_element(By.CSS_SELECTOR, '#stats [data-field="loss"]')
    assert loss.text == "NaN" and loss.get_attribute("data-value") == "NaN"
    layer_names = browser.execute_script(
        "return [...document.querySelectorAll('#heatmaps h3')].map(h => h.textContent)"
    )
    assert layer_names[0].startswith(HOSTILE + " weights")
    assert browser.get_log("browser") == []


def test_screenshots_first_view_and_after_scrubbing(recorded: Any, browser: Any, tmp_path: Path) -> None:
    """What a learner sees at 1280 x 800: everything the page is for is on the first screen."""
    from selenium.webdriver.common.by import By

    history, xs, ys = recorded
    page = viz.save_training_html(history, tmp_path / "training.html", xs=xs, ys=ys)
    browser.get(Path(page).as_uri())
    browser.save_screenshot(str(tmp_path / "first.png"))
    for element in ("curve", "boundary", "network", "heatmaps", "slider", "play"):
        box = browser.find_element(By.ID, element).rect
        assert box["y"] + min(box["height"], 120) <= 800, f"{element} is below the first screen: {box}"
        assert box["x"] + box["width"] <= 1280, f"{element} is wider than the window: {box}"
    browser.execute_script(
        "var s = document.getElementById('slider'); s.value = s.max; s.dispatchEvent(new Event('input'));"
    )
    browser.save_screenshot(str(tmp_path / "last.png"))
    assert (tmp_path / "first.png").stat().st_size > 10_000


def test_one_frame_with_nan_and_huge_numbers_draws_without_errors(
    recorded: Any, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    d = recorded[0].frames[-1].as_dict()
    d["boundary"]["values"][3][4] = math.nan
    d["boundary"]["values"][5][5] = math.inf
    d["layers"][0]["weights"][0][0] = 1e308
    d["sample"]["neurons"]["L1.n0"]["delta"] = -math.inf
    d["accuracy"] = None
    page = viz.save_training_html(HandHistory(frames=[HandFrame(d)]), tmp_path / "one.html")
    browser.get(Path(page).as_uri())
    assert browser.find_element(By.ID, "counter").text == "frame 1 / 1"
    shown = dict(browser.execute_script(SHOWN))
    assert shown["L1.w.0.0"] == "1e+308" and shown["L1.n0.delta"] == "-Infinity"
    assert shown["accuracy"] == ""
    assert browser.find_element(By.CSS_SELECTOR, '#stats [data-field="accuracy"]').text == "not measured"
    assert browser.get_log("browser") == []  # no script error on NaN, inf or a one-point curve
