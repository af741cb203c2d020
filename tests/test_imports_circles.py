"""No import circles between the modules of autograd/ and nn/ (and viz/), lazy imports included.

Every `import x.y` or `from x.y import z` (and `from x import y` naming a submodule) inside our
packages is an edge between files; a cycle fails naming the files in it. TYPE_CHECKING-only
imports are left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "viz")


def _module_of(path: Path) -> str:
    """autograd/value.py -> "autograd.value"; autograd/__init__.py -> "autograd"."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_of(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).glob("*.py"))}


def _edges(path: Path, known: set[str]) -> set[str]:
    """The modules of ours that `path` imports, at any depth of its code (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:  # `from autograd import ops` imports the module autograd.ops
                sub = f"{node.module}.{a.name}"
                if sub in known:
                    found.add(sub)
                elif node.module in known:
                    found.add(node.module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a list of modules, or None (iterative depth-first search)."""
    colour = dict.fromkeys(graph, 0)  # 0 new, 1 on the current path, 2 done
    for start in graph:
        if colour[start]:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        colour[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = 2
                stack.pop()
            elif colour[nxt] == 1:
                return [*path[path.index(nxt):], nxt]
            elif colour[nxt] == 0:
                colour[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    # A package's __init__ re-exports its modules; an edge from a module to its own package's
    # __init__ would make every such re-export a "circle", so `from autograd import x` counts as
    # an import of the module x when x is one, else of the package itself.
    return {name: _edges(path, known) - {name} for name, path in modules.items()}


def test_no_import_circles() -> None:
    graph = _graph()
    # Submodules importing their own package's __init__ (`from autograd import Value` inside nn)
    # is fine across packages; within one package it would be a circle through __init__.
    for name, targets in graph.items():
        package = name.split(".")[0]
        if "." in name and package in targets:
            pytest.fail(f"{name} imports its own package's __init__ ({package}): import the module instead")
    cycle = _cycle({k: {t for t in v if "." in t or t != k.split(".")[0]} for k, v in graph.items()})
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_checker_finds_a_circle() -> None:
    """The search itself can fail: a made-up a -> b -> c -> a graph has a circle."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
