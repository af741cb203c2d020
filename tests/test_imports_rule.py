"""The dependency rule, checked by parsing every import in autograd/, nn/ and viz/ with ast.

    autograd  <-  nn        autograd imports nothing of ours and nothing third-party
        ^                   nn imports autograd only (never viz)
        +-------  viz       viz imports autograd and graphviz (only in viz/dot.py); never nn

"Lazy" imports (inside a function, or under `if TYPE_CHECKING:`) do not run when the package is
imported, so optional extras may appear there: numpy in autograd's tape* files and torch in its
tape_torch.py (the PyTorch back end); numpy, sklearn, torch, tqdm and IPython in nn; matplotlib,
numpy, IPython, selenium and ipywidgets in viz. tqdm is a core
dependency, so nn may also import it at module level. Failures name the file and line.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"autograd", "nn", "viz"}
STDLIB = set(sys.stdlib_module_names)

# package -> (third-party allowed at module level, third-party allowed lazily)
THIRD_PARTY = {
    "autograd": (set(), {"numpy", "torch"}),  # numpy only in files named tape*, torch in tape_torch.py
    "nn": ({"tqdm"}, {"numpy", "sklearn", "torch", "tqdm", "IPython"}),  # IPython: fit's notebook progress
    "viz": ({"graphviz"}, {"graphviz", "matplotlib", "numpy", "IPython", "selenium", "ipywidgets"}),
}
# package -> which of our packages it may import (besides itself)
OUR_DEPS = {"autograd": set(), "nn": {"autograd"}, "viz": {"autograd"}}
# The one top-level module all three may import: it checks that the other two names are ours.
CLASH = "_axongrad_clash"


@dataclass(frozen=True)
class Import:
    """One imported top-level module name and where it appears."""

    module: str
    line: int
    lazy: bool


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, package: str) -> list[Import]:
    """Every import in `source` as top-level module names; relative imports count as `package`."""
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(a.name.split(".")[0], node.lineno, lazy) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            top = package if node.level else (node.module or "").split(".")[0]
            found.append(Import(top, node.lineno, lazy))
        for child in ast.iter_child_nodes(node):
            child_lazy = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(node, ast.If) and _is_type_checking(node.test) and child in node.body:
                child_lazy = True
            visit(child, child_lazy)

    visit(ast.parse(source), False)
    return found


def violations(source: str, package: str, filename: str) -> list[str]:
    """The rule's complaints about one file of `package` (messages include the line)."""
    problems = []
    module_level, lazy_ok = THIRD_PARTY[package]
    for imp in imports_of(source, package):
        where = f"{package}/{filename}:{imp.line}"
        name = imp.module
        if name == "__future__" or name == package or name == CLASH:
            continue
        if name in OURS:
            if name not in OUR_DEPS[package]:
                problems.append(f"{where}: {package} must not import {name}")
            continue
        if name in STDLIB:
            continue
        # third-party
        if name == "graphviz" and not (package == "viz" and filename == "dot.py"):
            problems.append(f"{where}: graphviz may be imported only in viz/dot.py")
        elif package == "autograd" and not (imp.lazy and _tape_back_end_import(name, filename)):
            problems.append(
                f"{where}: autograd imports third-party {name!r} (only a function-level numpy "
                "import in a tape* file, or torch in tape_torch.py, is allowed)"
            )
        elif imp.lazy and name not in lazy_ok:
            problems.append(f"{where}: {package} lazily imports {name!r}, not an allowed optional extra")
        elif not imp.lazy and name not in module_level:
            problems.append(
                f"{where}: {package} imports third-party {name!r} at module level (import it inside "
                "the function that needs it)"
            )
    return problems


def package_files() -> list[tuple[str, Path]]:
    """(package, file) for every .py file under autograd/, nn/ and viz/."""
    return [(pkg, path) for pkg in sorted(OURS) for path in sorted((ROOT / pkg).rglob("*.py"))]


def test_the_dependency_rule_holds() -> None:
    """No file in autograd/, nn/ or viz/ breaks the rule (all offences listed at once)."""
    files = package_files()
    assert any(pkg == "autograd" for pkg, _ in files)
    problems = []
    for pkg, path in files:
        rel = path.relative_to(ROOT / pkg).as_posix()
        problems += violations(path.read_text(encoding="utf-8"), pkg, rel)
    assert not problems, "dependency rule broken:\n" + "\n".join(problems)


def _tape_back_end_import(name: str, filename: str) -> bool:
    """True for what a tape back end may import inside a function: numpy, and torch in its own file."""
    if name == "torch":
        return filename == "tape_torch.py"
    return name == "numpy" and filename.startswith("tape")


# ---------------------------------------------------------------- the checker can fail


@pytest.mark.parametrize(
    ("package", "filename", "source", "expected"),
    [
        ("autograd", "value.py", "import numpy\n", "autograd/value.py:1: autograd imports third-party"),
        ("autograd", "value.py", "def f():\n    import numpy\n", "autograd/value.py:2"),
        ("autograd", "tape.py", "import numpy as np\n", "autograd/tape.py:1"),
        ("autograd", "tape_numpy.py", "def f():\n    import torch\n", "'torch'"),
        ("autograd", "tape_torch.py", "import torch\n", "autograd/tape_torch.py:1"),
        ("autograd", "graph.py", "from nn import MLP\n", "autograd must not import nn"),
        ("autograd", "graph.py", "import viz.dot\n", "autograd must not import viz"),
        ("nn", "layers.py", "import viz\n", "nn/layers.py:1: nn must not import viz"),
        ("nn", "plots.py", "def f():\n    from viz import dot\n", "nn must not import viz"),
        ("nn", "layers.py", "import numpy as np\n", "at module level"),
        ("nn", "layers.py", "try:\n    import torch\nexcept ImportError:\n    pass\n", "nn/layers.py:2"),
        ("nn", "train.py", "def f():\n    import matplotlib\n", "lazily imports 'matplotlib'"),
        ("nn", "layers.py", "import graphviz\n", "graphviz may be imported only in viz/dot.py"),
        ("viz", "trace.py", "import graphviz\n", "viz/trace.py:1: graphviz"),
        ("viz", "steps.py", "from nn.layers import MLP\n", "viz must not import nn"),
        ("viz", "plots.py", "import matplotlib.pyplot as plt\n", "at module level"),
        ("viz", "explain.py", "class A:\n    import numpy\n", "viz/explain.py:2"),
    ],
)
def test_the_checker_flags_bad_imports(package: str, filename: str, source: str, expected: str) -> None:
    """Each kind of offence is reported with its file and line."""
    problems = violations(source, package, filename)
    assert len(problems) == 1
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("package", "filename", "source"),
    [
        ("autograd", "tape_numpy.py", "def f():\n    import numpy\n"),
        ("autograd", "value.py", "import math\nfrom collections.abc import Sequence\nfrom . import ops\n"),
        ("autograd", "graph.py", "from autograd.value import Value\n"),
        ("nn", "layers.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n"),
        ("nn", "train.py", "from tqdm import tqdm\nimport autograd\n"),
        ("nn", "datasets.py", "def f():\n    from sklearn.datasets import load_digits\n"),
        ("viz", "dot.py", "import graphviz\nfrom autograd import Value\n"),
        ("viz", "plots.py", "def f():\n    import matplotlib.pyplot as plt\n"),
    ],
)
def test_the_checker_accepts_allowed_imports(package: str, filename: str, source: str) -> None:
    """Stdlib, our own allowed packages, and lazy optional extras pass."""
    assert violations(source, package, filename) == []


def test_the_clash_check_imports_only_the_standard_library() -> None:
    """_axongrad_clash must work when autograd, nn or viz is someone else's: stdlib only (it imports
    `autograd` only inside the function that checks whose it is)."""
    source = (ROOT / f"{CLASH}.py").read_text(encoding="utf-8")
    imports = imports_of(source, CLASH)
    foreign = [imp for imp in imports if imp.module not in STDLIB | {"__future__"}]
    assert foreign and all(imp.module == "autograd" and imp.lazy for imp in foreign), foreign
