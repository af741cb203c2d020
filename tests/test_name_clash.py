"""HIPS autograd shares our import name: nn and viz must say so instead of failing obscurely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_foreign_autograd_is_reported(package: str, tmp_path: Path) -> None:
    """With another `autograd` first on sys.path, importing nn/viz raises an ImportError naming it."""
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "__init__.py").write_text('"""A stand-in for HIPS autograd."""\n', encoding="utf-8")
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT)!r}]\n"
        "try:\n"
        f"    import {package}\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "else:\n"
        "    print('imported')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    message = result.stdout
    assert "HIPS autograd" in message
    assert str(fake) in message
    assert "pip uninstall autograd" in message


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_our_autograd_imports_cleanly(package: str) -> None:
    """The same subprocess set-up without the stand-in imports fine (the check above can pass)."""
    code = f"import sys\nsys.path[:0] = [{str(ROOT)!r}]\nimport {package}\nprint('imported')\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "imported"
