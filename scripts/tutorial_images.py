"""Regenerate every picture of docs/tutorial.md by running the tutorial's own code, block by block.

    .venv/bin/python scripts/tutorial_images.py              # writes docs/images/
    .venv/bin/python scripts/tutorial_images.py --out DIR    # writes DIR instead

The tutorial's ```python blocks become ONE program, run in order in a scratch folder: the
pictures are made by exactly the code a learner types. Every line of docs/tutorial.md that is not
code becomes a blank line (the opening fence of a block prints a marker that separates the blocks'
outputs), so a traceback's line numbers are the tutorial's line numbers. Each picture the tutorial
shows (`![...](images/NAME)`) is copied from the scratch folder to the output folder; PNGs are
reduced to a 256-colour palette so the committed images stay small.

A block whose first line is a marker comment such as `# needs: torch` (module names, comma
separated) is left out when one of those modules cannot be imported; the pictures it makes are then
not regenerated, and the script says so. tests/test_docs_tutorial.py runs this script and checks
every block's printed output against the ```text block that follows it in the tutorial.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
IMAGES = ROOT / "docs" / "images"

# The marker a block's first line may carry: "# needs: torch" or "# needs: torch, numpy".
NEEDS = re.compile(r"^#\s*needs:\s*(?P<modules>[\w., ]+?)\s*$")
# Markdown images inside the tutorial's folder: ![alt](images/name.png).
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(images/(?P<name>[^)\s]+)\)")
# Printed by the program at each block's opening fence, alone on its line.
SEPARATOR = "@@ axongrad tutorial block "


@dataclass(frozen=True)
class Block:
    """One ```python block: where its fence is (0-based line), its code, its needs, the output shown."""

    fence: int
    code: str
    needs: tuple[str, ...]
    shown_output: str | None


@dataclass
class Run:
    """What one run of the tutorial did: each block's printed output, skipped blocks, written files."""

    outputs: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, tuple[str, ...]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    not_regenerated: list[str] = field(default_factory=list)


def parse_blocks(text: str) -> list[Block]:
    """Every ```python block of the markdown `text`, with the ```text block right after it (if any)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```python":
            i += 1
            continue
        fence = i
        end = _closing_fence(lines, fence)
        code_lines = lines[fence + 1 : end]
        first = code_lines[0].strip() if code_lines else ""
        match = NEEDS.match(first)
        needs = tuple(m.strip() for m in match.group("modules").split(",") if m.strip()) if match else ()
        blocks.append(Block(fence, "\n".join(code_lines), needs, _output_after(lines, end)))
        i = end + 1
    return blocks


def _closing_fence(lines: list[str], fence: int) -> int:
    """Index of the ``` line closing the block opened at `fence` (ValueError naming the line if none)."""
    for j in range(fence + 1, len(lines)):
        if lines[j].strip() == "```":
            return j
    raise ValueError(f"tutorial line {fence + 1}: ```python block is never closed")


def _output_after(lines: list[str], end: int) -> str | None:
    """The ```text block that follows line `end` (only blank lines between), else None."""
    j = end + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines) or lines[j].strip() != "```text":
        return None
    close = _closing_fence(lines, j)
    return "\n".join(lines[j + 1 : close])


def image_names(text: str) -> list[str]:
    """The file names of the pictures the markdown `text` shows from images/, in order, once each."""
    return list(dict.fromkeys(m.group("name") for m in IMAGE_LINK.finditer(text)))


def module_available(name: str) -> bool:
    """True when `name` can be imported (checked without importing it)."""
    return importlib.util.find_spec(name) is not None


def missing_needs(block: Block, available: Callable[[str], bool] = module_available) -> tuple[str, ...]:
    """The modules a block needs that are not installed."""
    return tuple(m for m in block.needs if not available(m))


def program(text: str, blocks: Sequence[Block], skip: set[int]) -> str:
    """The blocks as one program, line for line with the tutorial (blocks in `skip` left out)."""
    lines = [""] * len(text.splitlines())
    for k, block in enumerate(blocks):
        if k in skip:
            continue
        lines[block.fence] = f"print({SEPARATOR + str(k)!r}, flush=True)"
        for offset, line in enumerate(block.code.splitlines(), start=1):
            lines[block.fence + offset] = line
    return "\n".join(lines) + "\n"


def split_outputs(stdout: str) -> dict[int, str]:
    """The program's stdout cut at the block markers: {block index: what that block printed}."""
    outputs: dict[int, str] = {}
    current: int | None = None
    for line in stdout.splitlines():
        if line.startswith(SEPARATOR):
            current = int(line[len(SEPARATOR) :])
            outputs[current] = ""
        elif current is not None:
            outputs[current] += line + "\n"
    return outputs


def run_tutorial(
    workdir: Path,
    tutorial: Path = TUTORIAL,
    available: Callable[[str], bool] = module_available,
    timeout: float = 900.0,
) -> Run:
    """Run the tutorial's blocks as one program in `workdir`; RuntimeError with the traceback if it fails."""
    text = tutorial.read_text(encoding="utf-8")
    blocks = parse_blocks(text)
    run = Run()
    for k, block in enumerate(blocks):
        missing = missing_needs(block, available)
        if missing:
            run.skipped[k] = missing
    script = workdir / "tutorial_program.py"
    script.write_text(program(text, blocks, set(run.skipped)), encoding="utf-8")
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"  # files only, never a window
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    result = subprocess.run(  # noqa: S603 (our interpreter running our own tutorial)
        [sys.executable, "-W", "error", script.name],  # any warning fails the tutorial
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"the tutorial's code failed (line numbers are {tutorial.name}'s):\n{result.stderr}"
        )
    run.outputs = split_outputs(result.stdout)
    return run


def shrink_png(src: Path, dst: Path) -> None:
    """Copy a PNG as a 256-colour palette image on white (a plain copy when Pillow is missing)."""
    try:
        from PIL import Image
    except ImportError:
        shutil.copyfile(src, dst)
        return
    with Image.open(src) as image:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        flat.quantize(colors=256).save(dst, optimize=True)


def main(argv: Sequence[str] | None = None) -> Run:
    """Run the tutorial, copy the pictures it shows to --out (default docs/images/), print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the pictures (docs/images/)")
    args = parser.parse_args(None if argv is None else list(argv))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    text = TUTORIAL.read_text(encoding="utf-8")
    blocks = parse_blocks(text)
    with tempfile.TemporaryDirectory(prefix="axongrad-tutorial-") as scratch:
        workdir = Path(scratch)
        run = run_tutorial(workdir)
        for name in image_names(text):
            made = workdir / name
            if not made.exists():
                makers = [k for k, b in enumerate(blocks) if name in b.code]
                if makers and all(k in run.skipped for k in makers):
                    needs = sorted({m for k in makers for m in run.skipped[k]})
                    print(f"not regenerated: {name} (needs {', '.join(needs)})")
                    run.not_regenerated.append(name)
                    continue
                raise RuntimeError(f"the tutorial shows images/{name}, but no block wrote {name}")
            target = out / name
            if made.suffix == ".png":
                shrink_png(made, target)
            else:
                shutil.copyfile(made, target)
            run.written.append(target)
    for k, missing in run.skipped.items():
        print(f"skipped the block at tutorial line {blocks[k].fence + 1} (needs {', '.join(missing)})")
    print(f"wrote {len(run.written)} images to {out}:")
    for path in run.written:
        print(f"  {path.name} ({path.stat().st_size // 1024} KB)")
    return run


if __name__ == "__main__":
    main(sys.argv[1:])
