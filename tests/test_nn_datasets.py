"""Datasets: shapes, seeding, target conventions, the digits loader and its missing-extra message."""

from __future__ import annotations

import builtins
import importlib.util
import math

import pytest

import nn


def test_logic_gates() -> None:
    xs, ys = nn.xor()
    assert xs == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert ys == [0.0, 1.0, 1.0, 0.0]
    assert nn.xor(signed=True)[1] == [-1.0, 1.0, 1.0, -1.0]
    assert nn.and_gate()[1] == [0.0, 0.0, 0.0, 1.0]
    assert nn.and_gate(signed=True)[1] == [-1.0, -1.0, -1.0, 1.0]


@pytest.mark.parametrize("make", [nn.moons, nn.circles])
def test_two_class_sets_are_seeded_and_balanced(make: object) -> None:
    xs, ys = make(101, noise=0.1, seed=3)  # type: ignore[operator]
    assert len(xs) == len(ys) == 101 and all(len(x) == 2 for x in xs)
    assert all(isinstance(v, float) for x in xs for v in x)
    assert sorted(set(ys)) == [-1.0, 1.0]
    assert ys.count(-1.0) == 50 and ys.count(1.0) == 51
    assert make(101, noise=0.1, seed=3) == (xs, ys)  # type: ignore[operator]
    assert make(101, noise=0.1, seed=4) != (xs, ys)  # type: ignore[operator]
    assert sorted(set(make(10, seed=0, signed=False)[1])) == [0.0, 1.0]  # type: ignore[operator]


def test_noise_free_moons_lie_on_their_half_circles() -> None:
    xs, ys = nn.moons(40, noise=0.0, seed=0)
    for (a, b), y in zip(xs, ys):
        if y < 0:  # upper moon: unit circle around (0, 0), b >= 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower moon: unit circle around (1, 0.5), b <= 0.5
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_noise_free_circles_have_their_radii() -> None:
    xs, ys = nn.circles(40, noise=0.0, seed=0, factor=0.3)
    for (a, b), y in zip(xs, ys):
        assert math.hypot(a, b) == pytest.approx(1.0 if y < 0 else 0.3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nn.moons(1), r"moons\(n\)"),
        (lambda: nn.moons(10, noise=-0.1), r"moons\(noise\)"),
        (lambda: nn.circles(10, noise=math.inf), r"circles\(noise\)"),
        (lambda: nn.circles(10, factor=1.0), r"circles\(factor\)"),
        (lambda: nn.train_test_split([1, 2], [1], 0.5), "2 xs and 1 ys"),
        (lambda: nn.train_test_split([1, 2], [1, 2], 1.0), "test_size"),
    ],
)
def test_bad_dataset_arguments(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_train_test_split_partitions_and_is_seeded() -> None:
    xs = list(range(10))
    ys = [x * 10 for x in xs]
    x_train, x_test, y_train, y_test = nn.train_test_split(xs, ys, test_size=0.2, seed=1)
    assert len(x_test) == 2 and sorted(x_train + x_test) == xs
    assert [x * 10 for x in x_train] == y_train and [x * 10 for x in x_test] == y_test
    assert nn.train_test_split(xs, ys, test_size=0.2, seed=1) == (x_train, x_test, y_train, y_test)


def test_digits_scaled_to_unit_interval() -> None:
    pytest.importorskip("sklearn")
    xs, ys = nn.digits()
    assert len(xs) == len(ys) == 1797 and all(len(x) == 64 for x in xs)
    assert min(min(x) for x in xs) == 0.0 and max(max(x) for x in xs) == 1.0
    assert sorted(set(ys)) == list(range(10)) and all(type(y) is int for y in ys)


def test_digits_without_scikit_learn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def blocked(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    real_find_spec = importlib.util.find_spec

    def not_found(name: str, *args: object, **kwargs: object) -> object:
        return None if name == "sklearn" else real_find_spec(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", blocked)
    monkeypatch.setattr(importlib.util, "find_spec", not_found)
    with pytest.raises(ImportError, match=r"pip install 'axongrad\[data\]'"):
        nn.digits()


def _load_digits_lists() -> tuple[list[list[float]], list[int]]:
    """sklearn's own load_digits(), scaled and listed the way nn.digits() documents."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return [[float(v) / 16.0 for v in row] for row in data.data], [int(t) for t in data.target]


def test_digits_read_from_the_csv_equal_load_digits() -> None:
    pytest.importorskip("sklearn")
    assert nn.digits() == _load_digits_lists()


def test_digits_falls_back_to_load_digits_when_the_csv_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    import nn.datasets

    read: list[object] = []
    monkeypatch.setattr(nn.datasets, "DIGITS_CSV", ("datasets", "data", "no-such-file.csv.gz"))
    monkeypatch.setattr(nn.datasets, "_read_digits_csv", read.append)
    assert nn.digits() == _load_digits_lists()
    assert read == []  # the CSV reader was not used


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("0," * 64 + "3,4\n", "66 fields"),
        ("0," * 63 + "x,3\n", "could not convert"),
        ("0," * 63 + "17,3\n", "a pixel outside 0..16"),
        ("0," * 63 + "nan,3\n", "a pixel outside 0..16"),
        ("0," * 64 + "10\n", "label '10' is not a digit"),
        ("0," * 64 + "2.5\n", "label '2.5' is not a digit"),
    ],
)
def test_digits_csv_reader_names_the_bad_line(tmp_path, line: str, problem: str) -> None:
    import gzip

    import nn.datasets

    path = tmp_path / "digits.csv.gz"
    with gzip.open(path, "wt", encoding="ascii") as out:
        out.write("0," * 64 + "7\n" + line)
    with pytest.raises(ValueError, match=f"line 2: {problem}"):
        nn.datasets._read_digits_csv(path)


def test_digits_csv_reader_refuses_a_file_that_is_not_gzip(tmp_path) -> None:
    import nn.datasets

    path = tmp_path / "digits.csv.gz"
    path.write_bytes(b"0,1,2\n")
    with pytest.raises(ValueError, match="cannot read"):
        nn.datasets._read_digits_csv(path)
    good = tmp_path / "good.csv.gz"
    import gzip

    with gzip.open(good, "wt", encoding="ascii") as out:
        out.write("0," * 63 + "16,9\n")
    assert nn.datasets._read_digits_csv(good) == ([[0.0] * 63 + [1.0]], [9])
