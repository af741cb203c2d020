"""Small data sets in pure Python, seeded: the logic gates, two moons, two circles; and sklearn's digits.

Each returns (xs, ys): xs a list of input lists of floats, ys a list of targets.
Target conventions:
- `xor()`, `and_gate()`: 0/1 (the posts' step and sigmoid outputs); `signed=True` gives -1/+1.
- `moons()`, `circles()`: -1/+1 (micrograd's demo maps sklearn's 0/1 with y*2-1, for the hinge
  loss); `signed=False` gives sklearn's 0/1. Label +1 (or 1) is sklearn's class 1.
- `digits()`: int class labels 0..9 (for cross_entropy).
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from autograd.checks import integer, real_number

T = TypeVar("T")
U = TypeVar("U")


def _labels(ys01: list[int], signed: bool) -> list[float]:
    """0/1 labels as floats, mapped to -1/+1 when `signed`."""
    return [float(2 * y - 1) if signed else float(y) for y in ys01]


def _check_n(n: object, noise: object, where: str) -> tuple[int, float]:
    """n >= 2 as int and noise >= 0 as float, or a TypeError/ValueError naming `where`."""
    return integer(n, f"{where}(n)", at_least=2), real_number(noise, f"{where}(noise)", at_least=0)


def xor(signed: bool = False) -> tuple[list[list[float]], list[float]]:
    """The four XOR cases: y = 1 when exactly one input is 1 (not linearly separable)."""
    xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return xs, _labels([0, 1, 1, 0], signed)


def and_gate(signed: bool = False) -> tuple[list[list[float]], list[float]]:
    """The four AND cases: y = 1 only when both inputs are 1 (one threshold neuron can learn it)."""
    xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return xs, _labels([0, 0, 0, 1], signed)


def _shuffled(
    xs: list[list[float]], ys: list[int], rng: random.Random
) -> tuple[list[list[float]], list[int]]:
    """xs and ys shuffled together."""
    order = list(range(len(xs)))
    rng.shuffle(order)
    return [xs[i] for i in order], [ys[i] for i in order]


def moons(
    n: int = 100, noise: float = 0.1, seed: int = 0, signed: bool = True
) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles (sklearn's make_moons layout), n points, Gaussian noise of std `noise`.

    The upper moon is label -1 (0 when not `signed`), the lower one +1 (sklearn's classes 0 and 1).
    """
    n, noise = _check_n(n, noise, "moons")
    rng = random.Random(seed)  # noqa: S311 (data, not cryptography)
    n_outer = n // 2
    n_inner = n - n_outer
    xs: list[list[float]] = []
    ys: list[int] = []
    for i in range(n_outer):
        t = math.pi * i / (n_outer - 1) if n_outer > 1 else 0.0
        xs.append([math.cos(t), math.sin(t)])
        ys.append(0)
    for i in range(n_inner):
        t = math.pi * i / (n_inner - 1) if n_inner > 1 else 0.0
        xs.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        ys.append(1)
    xs = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b in xs] if noise else xs
    xs, ys = _shuffled(xs, ys, rng)
    return xs, _labels(ys, signed)


def circles(
    n: int = 100, noise: float = 0.1, seed: int = 0, factor: float = 0.5, signed: bool = True
) -> tuple[list[list[float]], list[float]]:
    """A circle of radius `factor` (label +1) inside one of radius 1 (label -1): make_circles' layout."""
    n, noise = _check_n(n, noise, "circles")
    factor = real_number(factor, "circles(factor)", above=0, below=1)
    rng = random.Random(seed)  # noqa: S311 (data, not cryptography)
    n_outer = n // 2
    n_inner = n - n_outer
    xs: list[list[float]] = []
    ys: list[int] = []
    for count, radius, label in ((n_outer, 1.0, 0), (n_inner, float(factor), 1)):
        for i in range(count):
            t = 2.0 * math.pi * i / count
            xs.append([radius * math.cos(t), radius * math.sin(t)])
            ys.append(label)
    xs = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b in xs] if noise else xs
    xs, ys = _shuffled(xs, ys, rng)
    return xs, _labels(ys, signed)


DIGITS_CSV = ("datasets", "data", "digits.csv.gz")
"""Where scikit-learn keeps the digits inside its package: 1,797 lines of 64 pixels (0..16), label."""


def digits() -> tuple[list[list[float]], list[int]]:
    """scikit-learn's 1,797 8x8 handwritten digits: 64 pixels scaled to [0, 1] (/16), labels 0..9."""
    # Importing sklearn.datasets imports scipy, which costs more than reading the 1,797 lines: read
    # the CSV that load_digits() reads, from where sklearn ships it, and only when it is not there
    # ask load_digits() (the same numbers: a test compares the two).
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError("digits() needs scikit-learn: pip install 'axongrad[data]'")
    folders = list(spec.submodule_search_locations or ())
    path = Path(folders[0], *DIGITS_CSV) if folders else None
    if path is not None and path.is_file():
        return _read_digits_csv(path)
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("digits() needs scikit-learn: pip install 'axongrad[data]'") from error
    data = load_digits()
    xs = [[float(v) / 16.0 for v in row] for row in data.data]
    ys = [int(t) for t in data.target]
    return xs, ys


def _read_digits_csv(path: Path) -> tuple[list[list[float]], list[int]]:
    """The rows of sklearn's digits.csv.gz as (pixels / 16, label), or a ValueError naming the line."""
    xs: list[list[float]] = []
    ys: list[int] = []
    try:
        with gzip.open(path, "rt", encoding="ascii") as lines:
            for number, line in enumerate(lines, start=1):
                xs.append(_digit_row(line, f"digits(): {path} line {number}"))
                ys.append(int(xs[-1].pop()))
    except (OSError, EOFError, UnicodeDecodeError) as error:  # not gzip, cut short, not text
        raise ValueError(f"digits(): cannot read {path}: {error}") from error
    return xs, ys


def _digit_row(line: str, where: str) -> list[float]:
    """64 pixels in 0..16 scaled by 1/16, then the label 0..9 as a float, or a ValueError at `where`."""
    fields = line.split(",")
    if len(fields) != 65:
        raise ValueError(f"{where}: {len(fields)} fields, expected 64 pixels and a label")
    try:
        values = [float(v) for v in fields]
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if not all(0.0 <= v <= 16.0 for v in values[:64]):
        raise ValueError(f"{where}: a pixel outside 0..16")
    if values[64] not in range(10):
        raise ValueError(f"{where}: label {fields[64].strip()!r} is not a digit 0..9")
    return [v / 16.0 for v in values[:64]] + [values[64]]


def train_test_split(
    xs: Sequence[T], ys: Sequence[U], test_size: float = 0.2, seed: int = 0
) -> tuple[list[T], list[T], list[U], list[U]]:
    """Shuffle with `seed` and hold out a `test_size` fraction: (xs_train, xs_test, ys_train, ys_test)."""
    if len(xs) != len(ys):
        raise ValueError(f"train_test_split needs as many ys as xs, got {len(xs)} xs and {len(ys)} ys")
    test_size = real_number(test_size, "train_test_split(test_size)", above=0, below=1)
    n_test = max(1, round(len(xs) * test_size))
    if n_test >= len(xs):
        raise ValueError(
            f"train_test_split: {len(xs)} samples leave none for training with test_size={test_size}"
        )
    order = list(range(len(xs)))
    random.Random(seed).shuffle(order)  # noqa: S311 (shuffling, not cryptography)
    test, train = order[:n_test], order[n_test:]
    return [xs[i] for i in train], [xs[i] for i in test], [ys[i] for i in train], [ys[i] for i in test]
