"""HIPS autograd shares our import name: nn and viz must say so instead of failing obscurely."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The repair that nn's and viz's ImportError and the README give (tested in a venv below).
REPAIR = "pip uninstall -y autograd && pip install --force-reinstall --no-deps axongrad"


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
    assert REPAIR in message and "pip install -e ." in message


def test_a_folder_without_init_is_named_as_such(tmp_path: Path) -> None:
    """What `pip uninstall autograd` leaves of a shared install: a namespace package, no __file__."""
    (tmp_path / "autograd").mkdir()
    (tmp_path / "autograd" / "value.py").write_text("", encoding="utf-8")
    (tmp_path / "nn").symlink_to(ROOT / "nn")  # nn beside the broken autograd, as in site-packages
    code = f"import sys\nsys.path[:0] = [{str(tmp_path)!r}]\nimport nn\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "found another one at a folder without __init__.py" in result.stderr
    assert REPAIR in result.stderr


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_our_autograd_imports_cleanly(package: str) -> None:
    """The same subprocess set-up without the stand-in imports fine (the check above can pass)."""
    code = f"import sys\nsys.path[:0] = [{str(ROOT)!r}]\nimport {package}\nprint('imported')\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "imported"


# ---------------------------------------------------------------- the whole sequence, in a throwaway venv


def shell(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command; its completed process (never raises on a non-zero exit)."""
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


def imports_ours(python: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`import nn, viz` in the venv; prints "ours" when the autograd they found is axongrad's."""
    code = "import nn, viz, autograd; print('ours' if autograd.__axongrad__ else '')"
    return shell([str(python), "-c", code], cwd)


def project_copy(tmp_path: Path) -> Path:
    """The files a build of axongrad needs, copied out so building writes nothing into the checkout."""
    src = tmp_path / "axongrad"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(ROOT / name, src / name)
    for package in ("autograd", "nn", "viz"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    return src


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["wheel", "editable"])
def test_the_advice_repairs_an_environment_hips_autograd_broke(tmp_path: Path, editable: bool) -> None:
    """Install axongrad, then HIPS autograd, then follow the error's advice: axongrad imports again."""
    src = project_copy(tmp_path)
    venv_made = shell([sys.executable, "-m", "venv", str(tmp_path / "venv")], tmp_path)
    if venv_made.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {venv_made.stderr.strip()[-200:]}")
    python = tmp_path / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    ours = [*pip, "-e", str(src)] if editable else [*pip, str(src)]
    installed = shell(ours, tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert imports_ours(python, tmp_path).stdout.strip() == "ours"

    hips = shell([*pip, "autograd"], tmp_path)  # HIPS autograd, from the package index
    if hips.returncode != 0:
        pytest.skip(f"HIPS autograd could not be installed (no package index?): {hips.stderr.strip()[-200:]}")
    broken = imports_ours(python, tmp_path)
    assert broken.returncode == 1 and "HIPS autograd" in broken.stderr and REPAIR in broken.stderr

    removed = shell([str(python), "-m", "pip", "uninstall", "-y", "-q", "autograd"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    after_uninstall = imports_ours(python, tmp_path)
    if editable:  # the checkout's files were never touched; HIPS's copy only came first
        assert after_uninstall.stdout.strip() == "ours", after_uninstall.stderr
    else:  # the shared autograd/__init__.py went with HIPS autograd
        assert after_uninstall.returncode == 1
        assert "a folder without __init__.py" in after_uninstall.stderr, after_uninstall.stderr

    # The advice: reinstall axongrad from where it came (here the copied folder, not the index).
    again = [*pip, "-e", str(src)] if editable else [*pip, "--force-reinstall", "--no-deps", str(src)]
    repaired = shell(again, tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    final = imports_ours(python, tmp_path)
    assert final.stdout.strip() == "ours", final.stderr
    check = shell([str(python), "-m", "pip", "check"], tmp_path)
    assert check.returncode == 0, check.stdout
