"""No function in autograd/, nn/ or viz/ is too tangled to read: radon rates none of them E or F.

radon's cyclomatic complexity counts the independent paths through a function (every `if`, loop,
`and`/`or`, `except` adds one). Its ranks: A 1-5, B 6-10, C 11-20, D 21-30, E 31-40, F 41 and up.
A function rated E or F does several things at once; break it into named steps, one idea each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

radon_complexity = pytest.importorskip(
    "radon.complexity", reason="the complexity check needs radon: pip install 'axongrad[dev]'"
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "viz")
WORST_ALLOWED = "D"


def rated(source: str) -> list[tuple[str, int, str, int]]:
    """(name, line, rank, complexity) of every function and method in `source` (classes are not rated)."""
    return [
        (block.fullname, block.lineno, radon_complexity.cc_rank(block.complexity), block.complexity)
        for block in radon_complexity.cc_visit(source)
        if not hasattr(block, "methods")  # radon lists a class's methods as blocks of their own too
    ]


def test_the_checker_catches_a_tangled_function() -> None:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(45))
    (entry,) = rated(f"def tangled(x):\n{branches}\n    return -1\n")
    assert entry[0] == "tangled" and entry[2] == "F"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_rated_e_or_f(package: str) -> None:
    too_complex = [
        f"{path.relative_to(ROOT)}:{line} {name} is rated {rank} ({complexity})"
        for path in sorted((ROOT / package).glob("*.py"))
        for name, line, rank, complexity in rated(path.read_text(encoding="utf-8"))
        if rank > WORST_ALLOWED
    ]
    assert not too_complex, "break these into named steps:\n" + "\n".join(too_complex)
