"""Is the `autograd`, `nn` or `viz` Python found axongrad's? If not: what happened, and the repair.

Our three import names are taken on PyPI too: `autograd` by HIPS autograd, `nn` (0.1.1, which ships
nn/__init__.py and nn/layers.py) and `viz` (0.0.5). Installed after axongrad, such a package
overwrites the files the two share; found first on sys.path (a checkout installed with
`pip install -e .`), it hides ours. A learner's own script named nn.py or autograd.py hides ours
too, and then Python says only "partially initialized module".

This module sits beside the three packages (a top-level module of the axongrad distribution), so
each can use it even when one of the others is not ours: nn and viz check the autograd they
imported, and autograd checks that `nn` and `viz` would be ours. It imports only the standard
library. Each of our packages sets `__axongrad__ = True` on its first line of code: the marker.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import sys
import warnings
from importlib import metadata
from types import ModuleType
from urllib.parse import unquote, urlparse

__all__ = [
    "MARKER", "NameClashWarning", "autograd_error", "check_neighbours", "explain_failed_import",
    "import_error", "is_ours", "message", "repair",
]

MARKER = "__axongrad__"
"""The module attribute (set to True) that every axongrad package defines."""

OTHERS = {
    "autograd": "HIPS autograd, which uses the same import name",
    "nn": "PyPI's `nn` package, which uses the same import name",
    "viz": "PyPI's `viz` package, which uses the same import name",
}


class NameClashWarning(UserWarning):
    """`import nn` or `import viz` would find a module that is not axongrad's."""


def _python() -> str:
    """The command that runs this environment's Python (its pip is the one to repair with)."""
    return shlex.quote(sys.executable) if sys.executable else "python"


def _source() -> tuple[str, bool] | None:
    """Where the installed axongrad came from (what pip recorded), and whether it is editable.

    None when no installed copy is found: a checkout's own axongrad.egg-info (no INSTALLER file)
    is a build's leftover, not an installation.
    """
    try:
        found = [d for d in metadata.distributions(name="axongrad") if d.read_text("INSTALLER")]
        if not found:
            return None
        recorded = found[0].read_text("direct_url.json")
    except OSError:
        return None
    if not recorded:
        return "axongrad", False  # from a package index
    try:
        data = json.loads(recorded)
    except ValueError:
        return None
    url = str(data.get("url", ""))
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        return f"{vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else ""), False
    dir_info = data.get("dir_info")
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    parsed = urlparse(url)
    return (unquote(parsed.path) if parsed.scheme == "file" else url), editable


def repair(name: str) -> str:
    """The shell command that removes the other `name` package and puts axongrad's files back."""
    pip = f"{_python()} -m pip"
    uninstall = f"{pip} uninstall -y {name}"
    source = _source()
    if source is None:  # not installed: a checkout on sys.path (PYTHONPATH, a notebook's folder)
        return f"{uninstall} (axongrad itself is not installed here; its folder stays as it is)"
    where, editable = source
    if editable:
        return f"{uninstall} && {pip} install --no-deps -e {shlex.quote(where)}"
    return f"{uninstall} && {pip} install --force-reinstall --no-deps {shlex.quote(where)}"


def _location(module: ModuleType) -> str:
    """Where a module came from, for a message: its file, or what a folder without one means."""
    path = getattr(module, "__file__", None)
    if path:
        return str(path)
    folders = list(getattr(module, "__path__", []))
    where = f" ({folders[0]})" if folders else ""
    return f"a folder without __init__.py{where}"


def _own_file(path: str | None, name: str) -> bool:
    """A plain name.py file (a learner's script or module), not a package's __init__.py."""
    return bool(path) and os.path.basename(str(path)) == f"{name}.py"


def _installed(where: str) -> bool:
    """Whether a location is inside an environment's packages (else it is a learner's own folder)."""
    return "site-packages" in where or "dist-packages" in where


def message(name: str, where: str, lead: str) -> str:
    """What happened when `import name` found `where` (a file or folder) instead of axongrad's package.

    `lead` says who noticed: "nn needs axongrad's autograd package, but 'import autograd' found".
    """
    if _own_file(where, name):
        return (
            f"{lead} your file {where}: a file named {name}.py in your script's folder (or the current "
            f"folder) comes first on sys.path and hides axongrad's {name}, so Python imports your file "
            f"instead (and, when that file imports {name} itself, says 'partially initialized module'). "
            f"Rename your file (e.g. my_{name}.py) and delete any {name}.*.pyc beside it in __pycache__."
        )
    if not _installed(where):
        return (
            f"{lead} {where}, which is neither axongrad's {name} nor an installed package: a folder named "
            f"{name} in your script's folder (or the current folder) comes first on sys.path. Rename it, "
            "or run from another folder."
        )
    return (
        f"{lead} another one at {where} (probably {OTHERS[name]}). 'pip uninstall {name}' alone also "
        f"deletes files the two share; repair with: {repair(name)} ; or keep the two in separate "
        "virtual environments."
    )


def _lead(name: str, needed_by: str) -> str:
    """The start of an ImportError: who needed which package and what the import found."""
    return f"{needed_by} needs axongrad's {name} package, but 'import {name}' found"


def is_ours(module: ModuleType) -> bool:
    """Whether a module carries axongrad's marker."""
    return getattr(module, MARKER, False) is True


def import_error(name: str, module: ModuleType, needed_by: str) -> ImportError:
    """The ImportError saying what happened when `module` (imported as `name`) is not axongrad's."""
    return ImportError(message(name, _location(module), _lead(name, needed_by)))


def explain_failed_import(name: str, needed_by: str, error: ImportError) -> ImportError:
    """The ImportError to raise when `import name` itself failed: a clearer one when a file hides ours."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return error
    origin = spec.origin if spec is not None else None
    if origin is not None and _own_file(origin, name):
        return ImportError(f"{message(name, origin, _lead(name, needed_by))} (Python said: {error})")
    return error


def autograd_error(needed_by: str) -> ImportError | None:
    """Import autograd for nn or viz: None when it is axongrad's, else the ImportError to raise."""
    try:
        import autograd
    except ImportError as error:  # e.g. a learner's autograd.py that imports nn: say so
        clearer = explain_failed_import("autograd", needed_by, error)
        if clearer is not error:
            clearer.__cause__ = error
        return clearer
    return None if is_ours(autograd) else import_error("autograd", autograd, needed_by)


def _would_be_ours(name: str) -> tuple[bool, str]:
    """Whether `import name` would find axongrad's package (read, never run), and where it is."""
    module = sys.modules.get(name)
    if module is not None:
        return is_ours(module), _location(module)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return True, ""  # nothing we can read: say nothing
    if spec is None:
        return True, ""  # not installed: autograd alone is fine
    if spec.origin in (None, "namespace"):  # a folder without __init__.py, e.g. after `pip uninstall nn`
        folders = list(spec.submodule_search_locations or [])
        return False, "a folder without __init__.py" + (f" ({folders[0]})" if folders else "")
    if spec.origin in ("built-in", "frozen"):
        return True, ""
    try:
        with open(spec.origin, encoding="utf-8") as file:
            return f"{MARKER} = True" in file.read(20_000), spec.origin
    except (OSError, UnicodeDecodeError):
        return True, ""


def check_neighbours(names: tuple[str, ...] = ("nn", "viz")) -> None:
    """Warn when `import nn` or `import viz` would find another package (autograd checks at import).

    A learner's nn.py that imports nn and then autograd is already broken (Python's "partially
    initialized module" comes next): that is an ImportError here, saying why.
    """
    for name in names:
        ours, where = _would_be_ours(name)
        if ours:
            continue
        lead = f"'import {name}' does not give axongrad's {name} (autograd is fine): it found"
        text = message(name, where, lead)
        spec = getattr(sys.modules.get(name), "__spec__", None)
        if _own_file(where, name) and getattr(spec, "_initializing", False):
            raise ImportError(text)
        warnings.warn(text, NameClashWarning, stacklevel=2)
