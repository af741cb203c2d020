"""The exercise page in headless Chromium: right numbers turn every verdict right, each planted
mistake shows the message Python gives, nothing loads from the network, hostile labels stay text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser
from test_viz_exercise import MISTAKE_CASES, neuron, posts, twice
from test_viz_graphs import HOSTILE

import viz
from autograd import Value
from viz.answers import parse_number
from viz.labels import fmt

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

WIDTH, HEIGHT = 1280, 800
# The element whose data-<attr> is the question name given (names may hold any character).
FIND = "return [...document.querySelectorAll('[data-{attr}]')].find(e => e.dataset.{attr} === arguments[0])"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("profile")) as driver:
        driver.set_window_size(WIDTH, HEIGHT)
        yield driver


def _open(browser: Any, ex: viz.Exercise, path: Path) -> None:
    browser.get(Path(ex.save_html(path)).resolve().as_uri())


def _type(browser: Any, name: str, text: str) -> Any:
    """Type `text` + Enter into the box whose data-answer is `name`; its verdict element."""
    from selenium.webdriver.common.keys import Keys

    box = browser.execute_script(FIND.format(attr="answer"), name)
    box.clear()
    box.send_keys(text + Keys.ENTER)
    return browser.execute_script(FIND.format(attr="verdict"), name)


def test_right_numbers_turn_every_verdict_right(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    ex = viz.exercise(posts()["E"])
    _open(browser, ex, tmp_path / "exercise.html")
    progress = browser.find_element(By.ID, "progress")
    assert progress.text == f"0 of {len(ex.questions)} right"
    # The first view at 1280 x 800 shows the diagram and the first questions' boxes.
    diagram = browser.find_element(By.ID, "diagram").rect
    first = browser.find_elements(By.CSS_SELECTOR, "[data-answer]")[0].rect
    assert diagram["height"] > 100 and diagram["y"] < HEIGHT
    assert first["y"] + first["height"] < HEIGHT
    browser.save_screenshot(str(tmp_path / "first-view.png"))
    for q in ex.items:
        verdict = _type(browser, q.name, fmt(q.answer))
        assert verdict.text.startswith("✓ Right: "), (q.name, verdict.text)
        assert verdict.text == "✓ " + ex.answer(q.name, fmt(q.answer)).message
    assert progress.text == f"{len(ex.questions)} of {len(ex.questions)} right"
    # A reveal shows the answer and its rule.
    browser.execute_script(
        "[...document.querySelectorAll('button.reveal')].find(b => b.dataset.reveal === 'd a0/d Z0').click()"
    )
    shown = browser.execute_script(FIND.format(attr="revealed"), "d a0/d Z0")
    assert shown.text == ex.reveal("d a0/d Z0")
    assert progress.text.endswith("right, 1 revealed")
    # Nothing was loaded from anywhere: the page is one file.
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_each_planted_mistake_shows_the_message_python_gives(browser: Any, tmp_path: Path) -> None:
    numeric = [case for case in MISTAKE_CASES if parse_number(case[2]) is not None]
    assert {case[3] for case in numeric} == {case[3] for case in MISTAKE_CASES}  # every kind, as a number
    for build in (posts, neuron, twice):
        cases = [case for case in numeric if case[0] is build]
        values = build()
        root = values.get("E") or values.get("o") or values["b"]
        ex = viz.exercise(root)
        _open(browser, ex, tmp_path / f"{build.__name__}.html")
        for _, name, text, kind, words in cases:
            verdict = _type(browser, name, text)
            expected = ex.answer(name, text)
            assert verdict.get_attribute("data-mistake") == kind == expected.mistake
            assert verdict.text == "✗ Wrong. " + expected.message
            for word in words:
                assert word in verdict.text
    # Text that is not a number says what to type, and is neither right nor wrong.
    verdict = _type(browser, "grad a", "a*2")
    assert verdict.get_attribute("data-state") == "unreadable" and "type a number" in verdict.text


def test_hostile_labels_stay_text(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    a = Value(2.0, HOSTILE[6])  # "<script>alert(1)</script>"
    b = Value(-1.0, HOSTILE[11])  # "<img src=x onerror=alert(2)>"
    c = a * b
    c.label = '</script><script>window.pwned = 1</script>"]{{SCRIPT}}'  # a template slot's name too
    ex = viz.exercise(c)
    _open(browser, ex, tmp_path / "hostile.html")
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2  # data + code
    assert browser.execute_script("return document.querySelectorAll('img, iframe').length") == 0
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.question label")]
    assert any(HOSTILE[6] in t for t in labels) and any(c.label in t for t in labels)
    name = ex.questions[0]
    assert name == f"d {c.label}/d {HOSTILE[6]}"
    verdict = _type(browser, name, "-1")
    assert verdict.text.startswith("✓ Right: ")
