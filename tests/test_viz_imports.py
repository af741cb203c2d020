"""viz's dependency rule, read from the source with ast: autograd and graphviz only, never nn."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

VIZ = Path(__file__).resolve().parent.parent / "viz"
# Allowed only inside a function (imported lazily) or under TYPE_CHECKING. IPython: the live
# training view (viz/live.py) imports it only once it knows it runs in a Jupyter kernel.
OPTIONAL = {"matplotlib", "ipywidgets", "IPython"}


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(top-level module, line, at module level?) for every import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lazy: set[int] = set()
    for node in ast.walk(tree):
        is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        is_type_checking = isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        if is_function or is_type_checking:
            lazy.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name.split(".")[0], node.lineno, id(node) not in lazy) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno, id(node) not in lazy))
    return found


def test_viz_imports_only_autograd_graphviz_and_the_standard_library() -> None:
    problems = []
    for path in sorted(VIZ.glob("*.py")):
        for module, line, top_level in imports(path):
            where = f"viz/{path.name}:{line} imports {module}"
            if module == "nn":
                problems.append(f"{where}: viz must never import nn (read scopes/attributes instead)")
            elif module == "graphviz" and path.name != "dot.py":
                problems.append(f"{where}: only viz/dot.py may import graphviz")
            elif module in OPTIONAL:
                if top_level:
                    problems.append(f"{where}: optional packages are imported inside the function")
            elif module not in {"autograd", "viz", "graphviz", "_axongrad_clash"} | sys.stdlib_module_names:
                problems.append(f"{where}: not allowed in viz")
    assert not problems, "\n".join(problems)


def test_the_checker_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    source = "import nn\nfrom matplotlib import pyplot\n\ndef f():\n    import matplotlib\n"
    bad.write_text(source, encoding="utf-8")
    assert imports(bad) == [("nn", 1, True), ("matplotlib", 2, True), ("matplotlib", 5, False)]
