"""Every picture the README, the tutorial and the demo make fits a 1,920-pixel screen with its text at
least 10 px high, or says in its caption that it is a poster (and which call draws a readable view).

SVGs are measured as a browser draws them at their own size: width in pt times 4/3, each <text>'s
font size times the SVG's scale (its width over its viewBox, times the scale of dot's top group).
PNGs are measured in pixels: dot writes them at 96 px per inch with the same fonts as its SVGs, so
only their width can differ. The README's blocks run once here as one program (as in
tests/test_docs_readme.py); the demo's drawing functions run in-process on a short training; the
tutorial's pictures are the committed docs/images/, which scripts/tutorial_images.py regenerates.
"""

from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from test_docs_readme import run  # noqa: F401 (the README's blocks run once: a fixture)

from viz.dot import POSTER_PX

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
MIN_TEXT_PX = 10
SVG = "{http://www.w3.org/2000/svg}"

pytestmark = [
    pytest.mark.dot,
    pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH"),
]


def svg_measure(text: str) -> tuple[float, float, bool]:
    """(width in px, smallest text height in px, whether its caption calls it a poster)."""
    root = ET.fromstring(text)  # noqa: S314 (dot's own output)
    width_pt = float(root.get("width", "0").removesuffix("pt"))
    view = [float(v) for v in root.get("viewBox", "0 0 1 1").split()]
    scale = width_pt / view[2] if view[2] else 1.0
    top = root.find(f"{SVG}g")
    match = re.search(r"scale\(([\d.]+)", top.get("transform", "") if top is not None else "")
    scale *= float(match.group(1)) if match else 1.0
    sizes = [float(t.get("font-size", "14")) for t in root.iter(f"{SVG}text")]
    words = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    return width_pt * 4 / 3, min(sizes) * scale * 4 / 3, "A poster: " in words


def png_width(path: Path) -> int:
    """A PNG's width in pixels (from its IHDR chunk)."""
    data = path.read_bytes()
    assert data[12:16] == b"IHDR", path.name
    return int.from_bytes(data[16:20], "big")


def check_folder(folder: Path) -> list[str]:
    """Every SVG and PNG in `folder` checked; returns one line per picture (name, size) for the log."""
    seen = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".svg":
            width, text_px, is_poster = svg_measure(path.read_text(encoding="utf-8"))
            assert is_poster or width <= POSTER_PX, f"{path.name} is {width:.0f} px wide and no poster"
            assert text_px >= MIN_TEXT_PX, f"{path.name}: text {text_px:.1f} px high"
            seen.append(f"{path.name} {width:.0f} px")
        elif path.suffix == ".png":
            assert png_width(path) <= POSTER_PX, f"{path.name} is {png_width(path)} px wide"
            seen.append(f"{path.name} {png_width(path)} px")
    return seen


def test_the_measure_sees_a_wide_picture_and_small_text() -> None:
    wide = '<svg xmlns="http://www.w3.org/2000/svg" width="2000pt" height="10pt" viewBox="0 0 2000 10">'
    assert svg_measure(wide + '<g><text font-size="10">a</text></g></svg>')[:2] == (2000 * 4 / 3, 10 * 4 / 3)
    shrunk = '<svg xmlns="http://www.w3.org/2000/svg" width="500pt" height="10pt" viewBox="0 0 2000 10">'
    assert svg_measure(shrunk + '<g transform="scale(1 1)"><text font-size="10">a</text></g></svg>')[1] < 10


def test_every_readme_picture_fits_a_screen(run: dict[str, Any]) -> None:  # noqa: F811
    seen = check_folder(run["folder"])
    assert any(name.startswith("E.svg") for name in seen) and len(seen) >= 5, seen


def test_every_demo_picture_fits_a_screen(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the demo plots with matplotlib (axongrad[plots])")
    examples = str(ROOT / "examples")
    if examples not in sys.path:
        sys.path.insert(0, examples)
    import demo

    demo.explain_smallest(tmp_path)
    demo.train_moons(tmp_path, 3)  # the pictures' layout does not depend on how long it trained
    seen = check_folder(tmp_path)
    assert len(seen) == 9, seen  # 4 smallest_*, moons: 2 plots, grouped svg + png, one neuron


def test_every_tutorial_picture_fits_a_screen() -> None:
    seen = check_folder(IMAGES)
    assert len(seen) == len(list(IMAGES.glob("*.png"))) > 10
