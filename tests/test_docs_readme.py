"""README.md: every ```python block runs as written, alone, from an empty folder.

A learner copies one block at a time, so each block runs in a fresh namespace (its own imports,
its own set-up): the blocks are written as one program file each (scripts/tutorial_images.py's
machinery: line numbers in a traceback are README.md's) and run one after another by `runpy` in
one process, in a fresh temporary folder outside the repository. A block whose first line is
`# needs: torch` (module names, comma separated) is left out when one of them is missing; no other
block may be skipped. Where a ```text block follows a block, it is what that block prints. Every
file a block names in a string ("E.svg", "loss.png") is written.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SCRIPTS = ROOT / "scripts"
# A file a block writes: a string literal ending in one of these extensions.
WRITTEN = re.compile(r"""["']([\w.-]+\.(?:svg|png|pdf|html|json))["']""")


def blocks_module() -> ModuleType:
    """scripts/tutorial_images.py as a module: it parses and joins markdown code blocks."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module("tutorial_images")


def text() -> str:
    """The README's markdown."""
    return README.read_text(encoding="utf-8")


def lines(output: str) -> list[str]:
    """Output compared line by line, trailing spaces and surrounding blank lines ignored."""
    return [line.rstrip() for line in output.strip("\n").splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README's blocks run once as one program in an empty folder: outputs, skipped, the folder."""
    if shutil.which("dot") is None:
        pytest.skip("the README renders diagrams with Graphviz's dot, which is not on PATH")
    pytest.importorskip("matplotlib", reason="the README plots with matplotlib (axongrad[plots])")
    ti = blocks_module()
    body = text()
    blocks = ti.parse_blocks(body)
    skipped = {k for k, block in enumerate(blocks) if ti.missing_needs(block)}
    folder = tmp_path_factory.mktemp("readme")
    assert not folder.is_relative_to(ROOT) and not any(folder.iterdir())
    programs = []  # beside the folder: it stays empty
    for k in range(len(blocks)):
        if k not in skipped:
            alone = folder.parent / f"{folder.name}_readme_block{k}.py"
            alone.write_text(ti.program(body, blocks, set(range(len(blocks))) - {k}), encoding="utf-8")
            programs.append(str(alone))
    program = folder.parent / f"{folder.name}_readme_program.py"
    program.write_text(  # each block's globals are its own: nothing leaks from the block before
        f"import runpy\nfor block in {programs!r}:\n    runpy.run_path(block, run_name='__main__')\n",
        encoding="utf-8",
    )
    env = dict(os.environ, MPLBACKEND="Agg")  # files only, never a window
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-W", "error", str(program)], cwd=folder, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )
    assert done.returncode == 0, f"a README block failed (line numbers are README.md's):\n{done.stderr}"
    return {"blocks": blocks, "skipped": skipped, "outputs": ti.split_outputs(done.stdout), "folder": folder}


@pytest.mark.dot
def test_every_block_runs_alone_and_prints_what_is_shown(run: dict[str, Any]) -> None:
    blocks = run["blocks"]
    assert len(blocks) >= 4
    for k, block in enumerate(blocks):
        if k in run["skipped"]:
            assert block.needs, f"block at README line {block.fence + 1} was skipped without a needs marker"
            continue
        assert k in run["outputs"], f"block at README line {block.fence + 1} did not run"
        if block.shown_output is not None:
            assert lines(run["outputs"][k]) == lines(block.shown_output), (
                f"block at README line {block.fence + 1} printed something else than the README shows"
            )


@pytest.mark.dot
def test_every_file_a_block_names_is_written(run: dict[str, Any]) -> None:
    names = {
        name
        for k, block in enumerate(run["blocks"])
        if k not in run["skipped"]
        for name in WRITTEN.findall(block.code)
    }
    assert {"E.svg", "backward.html", "loss.png", "boundary.png"} <= names
    for name in sorted(names):
        path = run["folder"] / name
        assert path.is_file() and path.stat().st_size > 0, f"the README's code names {name} but wrote none"


def test_first_gradient_comment_matches_backward() -> None:
    """The first block's comment shows dE/dW0 and dE/dW1: they are what backward computes."""
    from autograd import Value

    X, W0, W1 = Value(1.5), Value(0.8), Value(-0.4)
    E = 0.5 * (((X * W0).sigmoid() * W1).sigmoid() - 0.9) ** 2
    E.backward()
    assert f"dE/dW0 = {str(W0.grad)[:7]}..., dE/dW1 = {str(W1.grad)[:8]}..." in text()


def test_the_needs_marker_is_the_tutorials() -> None:
    ti = blocks_module()
    blocks = ti.parse_blocks("```python\n# needs: torch\nimport torch\n```\n```python\nx = 1\n```\n")
    assert [b.needs for b in blocks] == [("torch",), ()]
    assert ti.missing_needs(blocks[0], lambda m: False) == ("torch",)


def test_the_examples_table_lists_every_example_and_no_helper() -> None:
    """Helpers (examples/_*.py) stay out of the list; every runnable example but the demo is in it."""
    listed = set(re.findall(r"^\| `(\w+\.py)` \|", text(), re.M))
    runnable = {p.name for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_")}
    assert "_output.py" not in listed and (ROOT / "examples" / "_output.py").is_file()
    assert listed == runnable - {"demo.py"}
