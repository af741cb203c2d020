"""Headless Chromium for the page tests: why it cannot run here, and how to start it."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (a stated skip reason), or None."""
    if not os.path.exists(CHROMIUM):
        return f"headless Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    if not os.path.exists(CHROMEDRIVER):
        return f"chromedriver is not installed at {CHROMEDRIVER} (Debian: apt-get install chromium-driver)"
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install 'axongrad[browser]')"
    return None


def start_chromium(profile: Path, *extra_args: str) -> Any:
    """A selenium driver for Debian's headless Chromium with a fresh profile and no background network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra_args,
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@contextmanager
def chromium(profile: Path, *extra_args: str) -> Iterator[Any]:
    """`start_chromium` for a `with` block (a fixture's body): the driver quits when the block ends."""
    driver = start_chromium(profile, *extra_args)
    try:
        yield driver
    finally:
        driver.quit()
