"""The bug-hunt page in headless Chromium: checks colour each operation; guess, reveal; labels stay text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser
from test_viz_bug_hunt import hostile_graph
from test_viz_graphs import smallest

import viz
from viz.bug_hunt import RIGHT_FILL, WRONG_FILL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

# Fill of each operation oval, by the <title> dot gives it ("n3_op").
OVAL_FILLS = """
return Object.fromEntries([...document.querySelectorAll('#stage g.node')]
  .filter(g => g.querySelector('title').textContent.endsWith('_op'))
  .map(g => [g.querySelector('title').textContent, g.querySelector('ellipse').getAttribute('fill')]));
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        driver.set_window_size(1280, 900)
        yield driver


def test_checking_every_operation_finds_the_one_bug(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    hunt = viz.bug_hunt(smallest()["E"], seed=1)
    page = hunt.save_html(tmp_path / "hunt.html")
    browser.get(Path(page).as_uri())
    assert browser.find_element(By.ID, "progress").text == "checked 0 of 7"
    assert set(browser.execute_script(OVAL_FILLS).values()) == {"#e5e7eb"}  # nothing checked yet
    browser.save_screenshot(str(tmp_path / "first_view.png"))
    ids = {n.name: n.id for n in viz.trace(smallest()["E"])[0].nodes}
    # Click the oval of a1 in the picture, then the buttons of the rest.
    oval = next(g for g in browser.find_elements(By.CSS_SELECTOR, "#stage g.node")
                if g.find_element(By.TAG_NAME, "title").get_attribute("textContent") == f"{ids['a1']}_op")
    oval.click()
    verdict = browser.find_element(By.ID, "verdict")
    assert verdict.get_attribute("data-verdict") == "a1" and verdict.text.startswith("a1: ✓")
    browser.save_screenshot(str(tmp_path / "one_check.png"))
    for name in hunt.operations:
        browser.find_element(By.CSS_SELECTOR, f'button[data-check="{name}"]').click()
        shown = browser.find_element(By.ID, "verdict").text
        assert shown == hunt.check(name).message  # the page says what Python's check says
    fills = browser.execute_script(OVAL_FILLS)
    wrong = [name for name in hunt.operations if fills[f"{ids[name]}_op"] == WRONG_FILL]
    right = [name for name in hunt.operations if fills[f"{ids[name]}_op"] == RIGHT_FILL]
    assert wrong == ["Z0"] and len(right) == 6
    assert browser.find_element(By.ID, "progress").text == "checked 7 of 7 (6 ✓, 1 ✗)"
    texts = [t.get_attribute("textContent") for t in browser.find_elements(By.CSS_SELECTOR, "#stage text")]
    assert "✗ Z0" in texts and "✓ a1" in texts and "✗ ×" in texts
    browser.save_screenshot(str(tmp_path / "all_checked.png"))
    Select(browser.find_element(By.ID, "guess-name")).select_by_value("a0")
    browser.find_element(By.ID, "guess").click()
    guess = browser.find_element(By.ID, "guess-verdict")
    assert guess.text == "guess 1: Not a0: its local derivatives are right. Keep hunting."
    Select(browser.find_element(By.ID, "guess-name")).select_by_value("Z0")
    browser.find_element(By.ID, "guess").click()
    assert guess.text.startswith("guess 2: Found it: Z0") and guess.get_attribute("data-guess") == "Z0"
    browser.find_element(By.ID, "reveal").click()
    assert guess.text == hunt.reveal()
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_hostile_labels_stay_text_in_the_page(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    hunt = viz.bug_hunt(hostile_graph(), seed=0)
    page = hunt.save_html(tmp_path / "hostile.html", title="<script>alert('t')</script>")
    source = Path(page).read_text(encoding="utf-8")
    assert "<script>alert" not in source and "<img src=x" not in source
    browser.get(Path(page).as_uri())
    for k, name in enumerate(hunt.operations):
        button = browser.find_elements(By.CSS_SELECTOR, "#checks button")[k]
        assert button.get_attribute("data-check") == name
        button.click()
        assert browser.find_element(By.ID, "verdict").get_attribute("data-verdict") == name
    assert browser.title == "<script>alert('t')</script>"
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    buttons = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#checks button")]
    assert any("<script>" in b for b in buttons)
    assert any(b.endswith("two\\nlines 2") for b in buttons)  # shown as the diagram shows it
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
