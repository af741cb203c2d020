"""The backward-steps page in headless Chromium: stepping moves the highlight, hostile labels stay text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser
from test_viz_graphs import HOSTILE, smallest

import viz
from viz.dot import HIGHLIGHT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]

# The id of the Value node outlined in red in the visible frame (dot writes the node id as <title>).
VISIBLE_HIGHLIGHT = f"""
const frame = [...document.querySelectorAll('#stage > .frame')].find(f => !f.hidden);
const nodes = [...frame.querySelectorAll('g.node')].filter(
    g => [...g.querySelectorAll('polygon')].some(p => p.getAttribute('stroke') === '{HIGHLIGHT}'));
return nodes.map(g => g.querySelector('title').textContent);
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


def test_next_moves_the_highlight_and_keys_go_back(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    g = smallest()
    for name, label in zip(["X", "W0", "Y", "E"], [HOSTILE[6], HOSTILE[7], HOSTILE[11], HOSTILE[1]]):
        g[name].label = label
    page = viz.save_backward_html(g["E"], tmp_path / "steps.html")
    browser.get(Path(page).as_uri())
    stage = browser.find_element(By.ID, "stage")
    nxt = browser.find_element(By.ID, "next")

    seen = []
    for step in range(8):
        assert stage.get_attribute("data-step") == str(step)
        node = stage.get_attribute("data-node")
        assert browser.execute_script(VISIBLE_HIGHLIGHT) == [node]  # the page shows what it says
        seen.append(node)
        if step < 7:
            nxt.click()
    assert len(set(seen[1:])) == 7  # every operation step highlights a different node
    assert nxt.get_attribute("disabled") is not None
    assert browser.find_element(By.ID, "caption").text.startswith("step 7/7: ")

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert stage.get_attribute("data-step") == "6"
    assert browser.execute_script(VISIBLE_HIGHLIGHT) == [seen[6]]
    browser.find_element(By.ID, "prev").click()
    assert stage.get_attribute("data-node") == seen[5]

    # Hostile labels are text: no dialog opened, no injected elements, the page's one script only.
    assert browser.execute_script("return document.querySelectorAll('script').length") == 1
    assert browser.execute_script("return document.querySelectorAll('img, b, iframe').length") == 0
    visible = browser.execute_script(
        "return [...document.querySelectorAll('#stage > .frame:not([hidden]) text')].map(t => t.textContent)"
    )
    assert HOSTILE[6] in visible and HOSTILE[11] in visible
    assert browser.title == "Backward pass of <b>bold</b>, step by step"
