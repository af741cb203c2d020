"""docs/tutorial.md: its code runs top to bottom and prints what it shows; its pictures exist and regenerate.

The tutorial is run once per module by scripts/tutorial_images.py (its ```python blocks as one
program in a scratch folder, pictures copied to a temporary --out folder). Blocks whose first line
is `# needs: torch` are left out when torch is missing, and their shown output is not checked.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from autograd import numerical_grad

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
IMAGES = ROOT / "docs" / "images"
SCRIPT = ROOT / "scripts" / "tutorial_images.py"
PNG = b"\x89PNG\r\n\x1a\n"


def images_script() -> ModuleType:
    """scripts/tutorial_images.py as a module (scripts/ is not a package)."""
    folder = str(SCRIPT.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("tutorial_images")


def torch_installed() -> bool:
    """True when torch can be imported."""
    return importlib.util.find_spec("torch") is not None


def text() -> str:
    """The tutorial's markdown."""
    return TUTORIAL.read_text(encoding="utf-8")


def lines(output: str) -> list[str]:
    """Output compared line by line, trailing spaces and surrounding blank lines ignored."""
    return [line.rstrip() for line in output.strip("\n").splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One run of scripts/tutorial_images.py --out <tmp>: (the folder, what the run recorded)."""
    if shutil.which("dot") is None:
        pytest.skip("the tutorial renders diagrams with Graphviz's dot, which is not on PATH")
    pytest.importorskip("matplotlib", reason="the tutorial plots with matplotlib (axongrad[plots])")
    pytest.importorskip("sklearn", reason="the tutorial's digits need scikit-learn (axongrad[data])")
    out = tmp_path_factory.mktemp("tutorial_images")
    return out, images_script().main(["--out", str(out)])


# ---------------------------------------------------------------- the code runs and prints what is shown


@pytest.mark.dot
def test_every_block_runs_and_prints_what_the_tutorial_shows(run: tuple[Path, Any]) -> None:
    ti = images_script()
    blocks = ti.parse_blocks(text())
    _, result = run
    assert len(blocks) >= 20
    checked = 0
    for k, block in enumerate(blocks):
        if k in result.skipped:
            assert block.needs, f"block at line {block.fence + 1} was skipped without a needs marker"
            continue
        assert k in result.outputs, f"block at tutorial line {block.fence + 1} did not run"
        if block.shown_output is not None:
            assert lines(result.outputs[k]) == lines(block.shown_output), (
                f"block at tutorial line {block.fence + 1} printed something else than the tutorial shows"
            )
            checked += 1
    assert checked >= 15


@pytest.mark.dot
def test_script_writes_every_picture_the_tutorial_shows(run: tuple[Path, Any]) -> None:
    out, result = run
    names = images_script().image_names(text())
    assert len(names) >= 10
    written = {p.name for p in result.written}
    for name in names:
        if name in result.not_regenerated:
            assert not torch_installed(), f"{name} was not regenerated although torch is installed"
            continue
        assert name in written, name
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 2000, name
    if torch_installed():
        assert not result.skipped and not result.not_regenerated


def test_every_picture_the_tutorial_shows_is_committed_and_small() -> None:
    names = images_script().image_names(text())
    total = 0
    for name in names:
        path = IMAGES / name
        assert path.is_file(), f"docs/images/{name} is missing: run scripts/tutorial_images.py"
        data = path.read_bytes()
        assert data.startswith(PNG), name
        total += len(data)
    assert total < 500_000, f"docs/images/ holds {total} bytes of pictures; keep them small"
    leftovers = sorted(p.name for p in IMAGES.iterdir() if p.name not in names)
    assert not leftovers, f"docs/images/ holds pictures the tutorial does not show: {leftovers}"


def test_links_point_at_files_that_exist() -> None:
    for target in re.findall(r"\]\((\.\./[^)#\s]+)\)", text()):
        assert (TUTORIAL.parent / target).resolve().exists(), f"tutorial links to missing {target}"
    assert "](../README.md)" in text()


# ---------------------------------------------------------------- the numbers against independent references


def test_shown_gradients_equal_the_closed_forms_and_central_differences() -> None:
    def s(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    def error(w: list[float]) -> float:
        return 0.5 * (s(s(1.5 * w[0]) * w[1]) - 0.9) ** 2

    x, y, w0, w1 = 1.5, 0.9, 0.8, -0.4
    a0 = s(x * w0)
    y_pred = s(a0 * w1)
    common = (y_pred - y) * y_pred * (1 - y_pred)
    dw0, dw1 = common * w1 * a0 * (1 - a0) * x, common * a0
    shown = f"dE/dW0 = {dw0:.10f}   dE/dW1 = {dw1:.10f}"
    assert shown in text()  # backward's line and the closed forms' line
    assert f"closed forms: {shown}" in text()
    numeric = numerical_grad(error, [w0, w1])
    assert numeric == pytest.approx([dw0, dw1], rel=1e-7)
    assert f"E = {error([w0, w1]):.4f}" in text()
    assert f"Y' = {y_pred:.4f}" in text()


def test_shown_training_results() -> None:
    body = text()
    assert "loss 0.8836 -> 0.0008, accuracy 100%" in body  # micrograd's moons: 100% training accuracy
    accuracy = float(re.findall(r"^test accuracy: ([0-9.]+) on 359 unseen digits$", body, re.M)[0])
    assert 0.9 < accuracy < 1.0
    # axongrad and PyTorch follow the same path to rounding, and from_torch brings the same model back
    assert "\nthe losses of all 100 epochs agree to 1e-12: True\n" in body
    assert "\nsame outputs to 1e-12: True, accuracy 100%\n" in body


# ---------------------------------------------------------------- the script's machinery


def test_needs_marker_leaves_blocks_out_and_keeps_line_numbers() -> None:
    ti = images_script()
    md = "intro\n```python\nx = 1\n```\n\n```text\n\n```\n```python\n# needs: torch, numpy\ny = x\n```\n"
    blocks = ti.parse_blocks(md)
    assert [b.needs for b in blocks] == [(), ("torch", "numpy")]
    assert blocks[0].shown_output == ""
    assert blocks[1].shown_output is None
    assert ti.missing_needs(blocks[1], lambda m: m != "torch") == ("torch",)
    assert ti.missing_needs(blocks[0], lambda m: False) == ()
    program = ti.program(md, blocks, skip={1}).splitlines()
    assert program[2] == "x = 1"  # line 3 of the markdown is line 3 of the program
    assert program[1].startswith("print(") and not any("y = x" in line for line in program)
    assert ti.split_outputs(f"{ti.SEPARATOR}0\nhello\n{ti.SEPARATOR}1\n") == {0: "hello\n", 1: ""}


def test_unclosed_block_is_an_error_naming_the_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        images_script().parse_blocks("text\n```python\nx = 1\n")


def test_script_command_line_help() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0 and "--out" in done.stdout


# ---------------------------------------------------------------- setting up as the tutorial says


CPU_TORCH = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"


def bash_lines(markdown: str) -> list[str]:
    """The lines of every ```bash block of the markdown."""
    return [line.strip() for block in re.findall(r"^```bash\n(.*?)^```", markdown, re.M | re.S)
            for line in block.splitlines()]


def test_the_working_folder_is_ignored_by_git() -> None:
    """The tutorial's `mkdir -p FOLDER`: what a learner writes there never shows as untracked."""
    setup = re.compile(r"mkdir -p (\S+) && cd \1$")
    folders = [m.group(1) for line in bash_lines(text()) if (m := setup.match(line))]
    assert len(folders) == 1, "the tutorial sets up one working folder with `mkdir -p X && cd X`"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot ask git what it ignores")
    probe = f"{folders[0]}/tutorial.py"
    done = subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 0, f"git does not ignore {probe}"
    depth = folders[0].count("/") + 1
    assert f"{'../' * depth}.venv/bin/python tutorial.py" in text()


def test_pytorch_is_added_as_the_cpu_only_build_with_the_pinned_version() -> None:
    pin = re.findall(r'"torch==([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pin == ["2.13.0"]
    for doc in (text(), (ROOT / "README.md").read_text(encoding="utf-8")):
        commands = bash_lines(doc)
        assert f".venv/bin/python -m {CPU_TORCH}" in commands
        assert any(c.startswith("AXONGRAD_EXTRAS=") and "torch" in c and c.endswith("scripts/setup.sh")
                   for c in commands)
