"""scripts/setup.sh's decisions: which extras it installs, when it reinstalls, where PyTorch comes from.

Each test runs the real script in a copy of the repository's skeleton whose `.venv/bin/python` is a
stand-in that records its arguments, and with a stand-in `dot` on PATH: nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"
PIP = "-m pip install -q --disable-pip-version-check"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="scripts/setup.sh is a bash script")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A folder with scripts/setup.sh, pyproject.toml, a recording .venv/bin/python and a fake dot."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copyfile(ROOT / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    shutil.copyfile(ROOT / "pyproject.toml", root / "pyproject.toml")
    for path, body in [
        (root / ".venv" / "bin" / "python", f'#!/bin/sh\necho "$*" >> "{tmp_path / "pip.log"}"\n'),
        (tmp_path / "bin" / "dot", "#!/bin/sh\nexit 0\n"),
    ]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        path.chmod(0o755)
    return root


def setup(repo: Path, extras: str | None, find_links: str = "") -> list[str]:
    """Run setup.sh with AXONGRAD_EXTRAS=extras (None: unset); the pip commands it ran this time."""
    log = repo.parent / "pip.log"
    log.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("AXONGRAD_EXTRAS", "PIP_FIND_LINKS")}
    env["PATH"] = f"{repo.parent / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_FIND_LINKS"] = find_links
    if extras is not None:
        env["AXONGRAD_EXTRAS"] = extras
    done = subprocess.run(["bash", str(repo / "scripts" / "setup.sh")], env=env, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return log.read_text(encoding="utf-8").splitlines()


def test_default_extras_and_no_reinstall_when_nothing_changed(repo: Path) -> None:
    first = setup(repo, None)
    assert first == [f"{PIP} -e .[data,dev,plots]"]
    assert setup(repo, None) == []
    assert (repo / ".venv" / ".axongrad-installed").read_text(encoding="utf-8").split()[1] == "data,dev,plots"


def test_demo_extras_then_test_extras_add_up(repo: Path) -> None:
    assert setup(repo, "plots") == [f"{PIP} -e .[plots]"]
    assert setup(repo, "dev,plots,data") == [f"{PIP} -e .[data,dev,plots]"]
    assert setup(repo, "plots") == []  # the demo after the tests: everything it needs is there
    assert setup(repo, " plots , dev,plots") == []


def test_a_changed_pyproject_reinstalls_what_was_installed(repo: Path) -> None:
    setup(repo, "plots,data")
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n# changed\n")
    assert setup(repo, "plots") == [f"{PIP} -e .[data,plots]"]


def test_torch_comes_from_the_cpu_index_without_a_local_wheel(repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "wheels"
    empty.mkdir()
    ran = setup(repo, "plots,torch", find_links=str(empty))
    assert len(ran) == 2
    assert ran[0] == f"{PIP} torch==2.13.0 {CPU_INDEX}"
    assert ran[1].endswith("-e .[plots,torch]")


def test_a_local_torch_wheel_is_used_as_ci_does(repo: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    ran = setup(repo, "dev,torch", find_links=f"/nonexistent file://{wheels}")
    assert ran == [f"{PIP} -e .[dev,torch]"]


def test_another_torch_version_in_the_wheel_folder_does_not_count(repo: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "torch-2.1.0-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    assert CPU_INDEX in setup(repo, "torch", find_links=str(wheels))[0]


def test_the_pin_is_pyprojects() -> None:
    assert '"torch==2.13.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_demo_and_test_commands_ask_for_their_extras() -> None:
    demo = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    tests = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert 'AXONGRAD_EXTRAS="${AXONGRAD_EXTRAS:-plots}"' in demo
    assert 'AXONGRAD_EXTRAS="${AXONGRAD_EXTRAS:-dev,plots,data}"' in tests
