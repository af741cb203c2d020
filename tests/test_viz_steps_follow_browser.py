"""The backward-steps page follows the step: in a 1,280 x 900 Chromium window the step's node is in
sight at every step, inside the scroll container, with its text at least 10 px high; "fit" fits."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser
from test_viz_exercise import neuron
from test_viz_graphs import smallest

import viz
from autograd import Value

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

# Where the visible frame's active node is: its rectangle, the stage's, the window's size, and the
# height in pixels of its smallest text (font size times the scale the SVG is drawn at).
ACTIVE = """
const stage = document.getElementById('stage');
const frame = [...document.querySelectorAll('#stage > .frame')].find(f => !f.hidden);
const id = stage.getAttribute('data-node');
const g = [...frame.querySelectorAll('g.node')].find(g => g.querySelector('title').textContent === id);
const r = g.getBoundingClientRect();
const s = stage.getBoundingClientRect();
const px = [...g.querySelectorAll('text')].map(
    t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
return {node: [r.left, r.top, r.right, r.bottom], stage: [s.left, s.top, s.right, s.bottom],
        window: [innerWidth, innerHeight], text: Math.min(...px),
        svg: frame.querySelector('svg').getBoundingClientRect().width,
        scroll: [stage.scrollWidth, stage.clientWidth, stage.scrollHeight, stage.clientHeight]};
"""


# Calls back once the page has rendered twice: every layout, resize-observer callback and scroll of
# the first rendered frame is done (observers run after a frame's animation callbacks, before paint).
PAINTED = """
const done = arguments[arguments.length - 1];
requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile", "--window-size=1280,900") as driver:
        driver.set_window_size(1280, 900)
        yield driver


def inside(inner: list[float], outer: list[float]) -> bool:
    """True when rectangle `inner` (left, top, right, bottom) lies within `outer`."""
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def lecture_neuron() -> Value:
    """The lecture's neuron o = tanh(x1*w1 + x2*w2 + b), after backward."""
    o = neuron()["o"]
    o.backward()
    return o


def smallest_network() -> Value:
    """The posts' smallest network's error E, after backward."""
    e = smallest()["E"]
    e.backward()
    return e


@pytest.mark.parametrize("make", [smallest_network, lecture_neuron], ids=["smallest", "lecture-neuron"])
def test_every_step_shows_its_node_readably(browser: Any, tmp_path: Path, make: Any) -> None:
    from selenium.webdriver.common.by import By

    root = make()
    page = viz.save_backward_html(root, tmp_path / "steps.html")
    browser.get(Path(page).as_uri())
    stage = browser.find_element(By.ID, "stage")
    last = int(browser.find_element(By.ID, "slider").get_attribute("max"))
    # Several steps' nodes are far apart: following must actually move the stage.
    first = browser.execute_script(ACTIVE)
    assert first["scroll"][2] > first["scroll"][3], "the picture should be taller than the stage here"
    seen = set()
    for step in range(last + 1):
        assert stage.get_attribute("data-step") == str(step)
        where = browser.execute_script(ACTIVE)
        window = [0, 0, *where["window"]]
        assert inside(where["node"], window), f"step {step}: node {where['node']} outside {window}"
        assert inside(where["node"], where["stage"]), f"step {step}: node outside the stage {where}"
        assert where["text"] >= 10, f"step {step}: text {where['text']:.1f} px"
        seen.add(browser.execute_script("return document.getElementById('stage').scrollTop"))
        if step < last:
            browser.find_element(By.ID, "next").click()
    assert len(seen) > 1  # the stage scrolled to follow
    # Going back by key follows too.
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue012" * last)  # ArrowLeft
    where = browser.execute_script(ACTIVE)
    assert stage.get_attribute("data-step") == "0" and inside(where["node"], where["stage"])


def test_fit_shows_the_whole_picture_and_100_percent_restores_it(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    page = viz.save_backward_html(smallest_network(), tmp_path / "steps.html")
    browser.get(Path(page).as_uri())
    before = browser.execute_script(ACTIVE)
    browser.find_element(By.ID, "zoom-fit").click()
    fitted = browser.execute_script(ACTIVE)
    width, client_w, height, client_h = fitted["scroll"]
    assert width <= client_w and height <= client_h  # nothing to scroll: the whole picture shows
    assert fitted["svg"] < before["svg"]
    assert browser.find_element(By.ID, "zoom").text != "100%"
    browser.find_element(By.ID, "zoom-reset").click()
    again = browser.execute_script(ACTIVE)
    assert browser.find_element(By.ID, "zoom").text == "100%" and again["text"] >= 10
    assert inside(again["node"], again["stage"])
    # "−" never shrinks the text below 10 px.
    for _ in range(6):
        browser.find_element(By.ID, "zoom-out").click()
    assert browser.execute_script(ACTIVE)["text"] >= 9.99


def notebook_page(tmp_path: Path, style: str = "") -> Path:
    """A page standing for a notebook: a tall cell, then the inline player in an output `<div>`
    with the given `style`."""
    shown = viz.backward_steps(smallest_network())._repr_html_()
    host = tmp_path / "notebook.html"
    host.write_text(
        '<!DOCTYPE html><html><body><div style="height:300px">cell</div>'
        f'<div id="output" style="{style}">{shown}</div></body></html>',
        encoding="utf-8",
    )
    return host


def test_the_inline_player_follows_inside_its_frame(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    # A notebook shows the steps as an iframe among other outputs: a tall cell above it.
    browser.get(notebook_page(tmp_path).as_uri())
    frame = browser.find_element(By.TAG_NAME, "iframe")
    browser.switch_to.frame(frame)
    try:
        # The frame's script may run before the notebook lays the frame out; the player follows
        # once its stage has a size, before that first frame is painted: read what was painted.
        browser.execute_async_script(PAINTED)
        last = int(browser.find_element(By.ID, "slider").get_attribute("max"))
        for step in range(last + 1):
            where = browser.execute_script(ACTIVE)
            assert inside(where["node"], [0, 0, *where["window"]]), f"step {step}: {where}"
            assert inside(where["node"], where["stage"]) and where["text"] >= 10, f"step {step}: {where}"
            if step < last:
                browser.find_element(By.ID, "next").click()
    finally:
        browser.switch_to.default_content()
    assert browser.execute_script("return window.scrollY") == 0  # the notebook itself never jumps


def test_a_player_loaded_in_a_hidden_output_follows_once_shown(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    # A collapsed output (or a frame not laid out yet when its script runs, which the inline test
    # above met 2 runs in 20) has no layout: the first scroll cannot happen then. Before the fix the
    # player's script stopped there with a TypeError: step 0 was never shown ("previous" stayed
    # enabled) and, unless the frame's window was resized afterwards, never scrolled to.
    browser.get(notebook_page(tmp_path, "display: none").as_uri())
    browser.execute_script("document.getElementById('output').style.display = 'block'")
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        browser.execute_async_script(PAINTED)
        where = browser.execute_script(ACTIVE)
        assert inside(where["node"], [0, 0, *where["window"]]), f"step 0: {where}"
        assert inside(where["node"], where["stage"]) and where["text"] >= 10, f"step 0: {where}"
        assert browser.find_element(By.ID, "prev").get_attribute("disabled") is not None
        browser.find_element(By.ID, "next").click()
        where = browser.execute_script(ACTIVE)
        assert inside(where["node"], where["stage"]), f"step 1: {where}"
    finally:
        browser.switch_to.default_content()
