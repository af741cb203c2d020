"""Our import names are taken on PyPI too (HIPS `autograd`, `nn`, `viz`), and a learner's nn.py hides
ours: each clash says what happened and how to fix it, and the advice repairs a real environment."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import _axongrad_clash

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def python(code: str, cwd: Path, *, path: list[Path] | None = None, args: list[str] | None = None) -> Any:
    """Run Python code (or a script when `args` is given) in a child; its completed process."""
    env_path = ":".join(str(p) for p in (path or [ROOT]))
    command = [sys.executable, *(args or ["-c", code])]
    return subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=cwd, timeout=120,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )


# ---------------------------------------------------------------- HIPS autograd (nn and viz see it)


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_foreign_autograd_is_reported(package: str, tmp_path: Path) -> None:
    """With another `autograd` first on sys.path, importing nn/viz raises an ImportError naming it."""
    site = tmp_path / "site-packages"
    (site / "autograd").mkdir(parents=True)
    (site / "autograd" / "__init__.py").write_text('"""A stand-in for HIPS autograd."""\n', encoding="utf-8")
    done = python(f"import {package}", tmp_path, path=[site, ROOT])
    assert done.returncode == 1
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(f"ImportError: {package} needs axongrad's autograd package")
    assert "HIPS autograd" in message and str(site / "autograd" / "__init__.py") in message
    assert f"repair with: {_axongrad_clash.repair('autograd')} ;" in message
    assert "-m pip uninstall -y autograd" in message


def test_a_folder_without_init_is_named_as_such(tmp_path: Path) -> None:
    """What `pip uninstall autograd` leaves of a shared install: a namespace package, no __file__."""
    site = tmp_path / "site-packages"
    (site / "autograd").mkdir(parents=True)
    (site / "autograd" / "value.py").write_text("", encoding="utf-8")
    (site / "nn").symlink_to(ROOT / "nn")  # nn beside the broken autograd, as in site-packages
    shutil.copy(ROOT / "_axongrad_clash.py", site)
    done = python("import nn", tmp_path, path=[site])
    assert done.returncode == 1
    assert f"found another one at a folder without __init__.py ({site / 'autograd'})" in done.stderr
    assert "-m pip uninstall -y autograd" in done.stderr


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_our_autograd_imports_cleanly(package: str, tmp_path: Path) -> None:
    """The same set-up without the stand-in imports fine and warns of nothing (the checks can pass)."""
    done = python(f"import warnings; warnings.simplefilter('error'); import {package}; print('ok')", tmp_path)
    assert done.stdout.strip() == "ok" and done.stderr == "", done.stderr


# ---------------------------------------------------------------- PyPI's nn and viz (autograd sees them)


@pytest.mark.parametrize("name", ["nn", "viz"])
def test_an_installed_foreign_nn_or_viz_is_named_when_autograd_is_imported(name: str, tmp_path: Path) -> None:
    """PyPI's nn 0.1.1 (nn/__init__.py, nn/layers.py) or viz 0.0.5 first: `import autograd` warns."""
    site = tmp_path / "site-packages"
    (site / name).mkdir(parents=True)
    (site / name / "__init__.py").write_text(f'"""PyPI\'s {name}."""\n', encoding="utf-8")
    (site / name / "layers.py").write_text("", encoding="utf-8")
    code = f"import autograd\nimport {name}\nprint(hasattr({name}, 'MLP' if {name!r} == 'nn' else 'draw'))"
    done = python(code, tmp_path, path=[site, ROOT])
    assert done.returncode == 0 and done.stdout.strip() == "False"  # what a learner meets next
    assert f"NameClashWarning: 'import {name}' does not give axongrad's {name}" in done.stderr
    assert f"PyPI's `{name}` package" in done.stderr and str(site / name / "__init__.py") in done.stderr
    assert f"-m pip uninstall -y {name}" in done.stderr
    strict = python(f"import {name}\nimport autograd", tmp_path, path=[site, ROOT])  # nn imported first
    assert f"'import {name}' does not give axongrad's {name}" in strict.stderr


def test_our_nn_and_viz_do_not_warn_when_imported_first(tmp_path: Path) -> None:
    """autograd, imported by our nn while nn is half made, takes that nn for ours."""
    done = python("import warnings; warnings.simplefilter('error'); import viz, nn, autograd", tmp_path)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- a learner's nn.py / autograd.py


@pytest.mark.parametrize(
    ("name", "source", "lead", "python_said"),
    [  # Python alone says "partially initialized module 'nn' has no attribute 'MLP'" and the like
        ("nn", "import nn\nfrom autograd import Value\nmodel = nn.MLP(2, [1])\n",
         "'import nn' does not give axongrad's nn", "partially initialized module"),
        ("autograd", "import nn\nfrom autograd import Value\n",
         "nn needs axongrad's autograd package, but 'import autograd' found",
         "partially initialized module 'autograd'"),  # Python's own words kept at the end
    ],
)
def test_a_script_named_like_our_package_says_rename_it(
    tmp_path: Path, name: str, source: str, lead: str, python_said: str
) -> None:
    script = tmp_path / f"{name}.py"
    script.write_text(source, encoding="utf-8")
    done = python("", tmp_path, args=[str(script)])
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ImportError: {lead}")
    assert f"your file {script}" in last and f"Rename your file (e.g. my_{name}.py)" in last
    assert python_said in last


def test_a_module_named_viz_py_beside_the_script_is_named(tmp_path: Path) -> None:
    (tmp_path / "viz.py").write_text("", encoding="utf-8")
    done = python("import autograd", tmp_path, path=[tmp_path, ROOT])
    assert f"your file {tmp_path / 'viz.py'}" in done.stderr and "my_viz.py" in done.stderr


# ---------------------------------------------------------------- the repair command, from pip's record


class FakeDist:
    """A distribution's metadata files, as importlib.metadata reads them."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, name: str) -> str | None:
        return self.files.get(name)


@pytest.mark.parametrize(
    ("recorded", "command"),
    [
        (None, "install --force-reinstall --no-deps axongrad"),  # from a package index
        ({"url": "file:///home/me/axon%20grad", "dir_info": {}}, "--no-deps '/home/me/axon grad'"),
        ({"url": "file:///w/axongrad", "dir_info": {"editable": True}}, "install --no-deps -e /w/axongrad"),
        ({"url": "file:///d/axongrad-0.1.0-py3-none-any.whl", "archive_info": {}},
         "--force-reinstall --no-deps /d/axongrad-0.1.0-py3-none-any.whl"),
        ({"url": "https://github.com/o/axongrad", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
         "--no-deps git+https://github.com/o/axongrad@abc"),
    ],
)
def test_the_repair_reinstalls_from_where_pip_says_axongrad_came(
    monkeypatch: pytest.MonkeyPatch, recorded: dict[str, Any] | None, command: str
) -> None:
    files = {"INSTALLER": "pip\n"}
    if recorded is not None:
        files["direct_url.json"] = json.dumps(recorded)
    monkeypatch.setattr(_axongrad_clash.metadata, "distributions", lambda name: [FakeDist(files)])
    text = _axongrad_clash.repair("nn")
    assert text.startswith(f"{shlex.quote(sys.executable)} -m pip uninstall -y nn && ")
    assert text.endswith(command)


def test_a_checkout_that_is_not_installed_gets_the_uninstall_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout's own axongrad.egg-info (no INSTALLER) is no installation to reinstall from."""
    monkeypatch.setattr(_axongrad_clash.metadata, "distributions", lambda name: [FakeDist({})])
    assert _axongrad_clash.repair("viz").endswith("uninstall -y viz (axongrad itself is not installed here; "
                                                  "its folder stays as it is)")


def test_the_readme_names_all_three_clashes_and_the_commands_the_errors_give() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Name clash") :]
    section = section[: section.index("\n## ")]
    for other in ("HIPS autograd", "`nn`", "`viz`", "nn.py", "partially initialized module"):
        assert other in section, other
    for command in (
        "python -m pip uninstall -y autograd",
        "python -m pip install --force-reinstall --no-deps",
        "python -m pip install --no-deps -e .",
    ):
        assert command in section, command
    assert "pip install --force-reinstall --no-deps axongrad\n" not in section  # not on any index


# ---------------------------------------------------------------- the advice, followed in throwaway venvs


def shell(command: list[str] | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command (a string goes through bash); its completed process (never raises)."""
    return subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=cwd, timeout=300,
        shell=isinstance(command, str), executable="/bin/bash" if isinstance(command, str) else None,
    )


def project_copy(tmp_path: Path) -> Path:
    """The files a build of axongrad needs, copied out so building writes nothing into the checkout."""
    src = tmp_path / "axongrad"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "_axongrad_clash.py"):
        shutil.copyfile(ROOT / name, src / name)
    for package in ("autograd", "nn", "viz"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    return src


def fake_wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A minimal wheel of `name` holding `files` (PyPI's nn 0.1.1 ships nn/__init__.py, nn/layers.py)."""
    info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    contents[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in contents) + f"{info}/RECORD,,\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture(scope="module")
def axongrad_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """axongrad built once as a wheel from a copy of the checkout (pyproject decides what ships)."""
    folder = tmp_path_factory.mktemp("wheel")
    built = shell([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder),
                   str(project_copy(folder))], folder)
    if built.returncode != 0:
        pytest.skip(f"cannot build axongrad's wheel here: {built.stderr.strip()[-300:]}")
    (wheel,) = folder.glob("axongrad-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "_axongrad_clash.py" in archive.namelist()  # the check ships with the packages
    return wheel


def venv(tmp_path: Path) -> tuple[Path, list[str]]:
    """A throwaway virtual environment: its python and its `pip install` command."""
    made = shell([sys.executable, "-m", "venv", str(tmp_path / "venv")], tmp_path)
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {made.stderr.strip()[-200:]}")
    python_path = tmp_path / "venv" / "bin" / "python"
    return python_path, [str(python_path), "-m", "pip", "install", "-q", "--disable-pip-version-check"]


def ours(python_path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`import nn, viz` in the venv with warnings as errors; prints "ours" when all three are axongrad's."""
    code = "import warnings; warnings.simplefilter('error'); import nn, viz, autograd; print('ours')"
    return shell([str(python_path), "-c", code], cwd)


def advice(stderr: str) -> str:
    """The repair command an error or warning gave."""
    found = re.search(r"repair with: (.+?) ; or keep", stderr)
    assert found is not None, stderr
    return found.group(1)


def follow(command: str, python_path: Path, cwd: Path) -> None:
    """Run the advice as a learner pastes it; then all three import as ours and pip check passes."""
    repaired = shell(command, cwd)
    assert repaired.returncode == 0, repaired.stderr
    final = ours(python_path, cwd)
    assert final.stdout.strip() == "ours", final.stderr
    check = shell([str(python_path), "-m", "pip", "check"], cwd)
    assert check.returncode == 0, check.stdout


@pytest.mark.slow
def test_the_advice_repairs_what_hips_autograd_broke(tmp_path: Path, axongrad_wheel: Path) -> None:
    """Install axongrad's wheel, then HIPS autograd over it, then paste the command nn's error gives."""
    python_path, pip = venv(tmp_path)
    assert shell([*pip, str(axongrad_wheel)], tmp_path).returncode == 0  # with graphviz and tqdm
    hips = shell([*pip, "autograd"], tmp_path)  # HIPS autograd (and numpy), from the package index
    if hips.returncode != 0:
        pytest.skip(f"HIPS autograd could not be installed (no package index?): {hips.stderr.strip()[-200:]}")
    broken = ours(python_path, tmp_path)
    assert broken.returncode == 1 and "HIPS autograd" in broken.stderr
    command = advice(broken.stderr)
    assert str(axongrad_wheel) in command  # from where it came, not a package name no index has
    generic = command.replace(shlex.quote(str(python_path)), "python").replace(
        str(axongrad_wheel), "/path/to/axongrad"
    )
    for step in generic.split(" && "):  # the README's commands are these, with your paths
        assert step in README.read_text(encoding="utf-8"), step
    follow(command, python_path, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nn", "viz"])
def test_the_advice_repairs_what_pypis_nn_or_viz_broke(
    tmp_path: Path, axongrad_wheel: Path, name: str
) -> None:
    """PyPI's nn 0.1.1 (or viz 0.0.5) installed over axongrad: autograd's warning gives the repair."""
    python_path, pip = venv(tmp_path)
    assert shell([*pip, str(axongrad_wheel)], tmp_path).returncode == 0  # with graphviz and tqdm
    version = "0.1.1" if name == "nn" else "0.0.5"
    files = {f"{name}/__init__.py": f'"""PyPI\'s {name}."""\n', f"{name}/layers.py": ""}
    other = fake_wheel(tmp_path, name, version, files)
    assert shell([*pip, "--no-deps", str(other)], tmp_path).returncode == 0
    broken = ours(python_path, tmp_path)
    assert broken.returncode == 1 and f"'import {name}' does not give axongrad's {name}" in broken.stderr
    follow(advice(broken.stderr), python_path, tmp_path)
