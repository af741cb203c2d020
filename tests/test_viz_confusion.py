"""The confusion matrix: counts checked against a plain tally, its text and HTML forms, and the plot."""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

import viz

PNG = b"\x89PNG\r\n\x1a\n"
NO_MATPLOTLIB = "plot_confusion needs matplotlib (pip install 'axongrad[plots]')"


def labelled(n: int = 200, seed: int = 0) -> tuple[list[int], list[int]]:
    """Random true classes 0..4 and predictions that are right about 70% of the time."""
    rng = random.Random(seed)
    truth = [rng.randrange(5) for _ in range(n)]
    guesses = [t if rng.random() < 0.7 else rng.randrange(5) for t in truth]
    return truth, guesses


def test_counts_equal_a_plain_tally() -> None:
    truth, guesses = labelled()
    matrix = viz.confusion_matrix(truth, guesses)
    tally = Counter(zip(truth, guesses))
    assert matrix.labels == [0, 1, 2, 3, 4]
    assert matrix.counts == [[tally[(t, p)] for p in range(5)] for t in range(5)]
    assert matrix.total == 200
    assert matrix.accuracy == sum(t == p for t, p in zip(truth, guesses)) / 200


def test_labels_fix_the_classes_and_their_order() -> None:
    matrix = viz.confusion_matrix(["cat", "dog", "cat"], ["dog", "dog", "cat"], labels=["dog", "cat", "emu"])
    assert matrix.counts == [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match=r"class 'cow' is not in labels="):
        viz.confusion_matrix(["cow"], ["cat"], labels=["dog", "cat"])
    # Classes that do not sort together are ordered by their text.
    assert viz.confusion_matrix([1, "a"], ["a", 1]).labels == [1, "a"]


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="as many predictions as labels, got 2 and 1"):
        viz.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="at least one sample"):
        viz.confusion_matrix([], [])
    with pytest.raises(TypeError, match=r"\(y_true\) must be a list of class labels, got str"):
        viz.confusion_matrix("0101", [0, 1, 0, 1])
    with pytest.raises(TypeError, match=r"holds \[1\], which is not a class label"):
        viz.confusion_matrix([[1]], [1])
    with pytest.raises(TypeError, match="holds nan"):
        viz.confusion_matrix([float("nan")], [1.0])
    with pytest.raises(ValueError, match="repeated classes"):
        viz.confusion_matrix([1], [1], labels=[1, 1])


def test_text_and_html_forms() -> None:
    matrix = viz.confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1])
    text = str(matrix)
    assert text.splitlines()[0].split() == ["true", "\\", "predicted", "0", "1"]
    assert text.splitlines()[1].split() == ["0", "1", "1"]
    assert text.splitlines()[2].split() == ["1", ".", "2"]
    assert text.endswith("accuracy 0.7500 (3 of 4 on the diagonal)")
    assert repr(matrix) == "<ConfusionMatrix of 2 classes, 4 samples, accuracy 0.7500>"
    hostile = viz.confusion_matrix(["<script>alert(1)</script>", "a&b"], ["a&b", "a&b"])._repr_html_()
    assert "<script>" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "a&amp;b" in hostile


def test_plot_confusion_draws_every_count(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason=NO_MATPLOTLIB)
    truth, guesses = labelled()
    fig = viz.plot_confusion(truth, guesses, tmp_path / "confusion.png", title="held-out digits")
    assert (tmp_path / "confusion.png").read_bytes()[:8] == PNG
    ax = fig.axes[0]
    counts = viz.confusion_matrix(truth, guesses).counts
    written = sorted(int(t.get_text()) for t in ax.texts)
    assert written == sorted(c for row in counts for c in row if c)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    assert ax.get_title().startswith("held-out digits: accuracy ")
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    named = viz.plot_confusion(truth, guesses, name="digit").axes[0]
    assert named.get_xlabel() == "predicted digit" and named.get_ylabel() == "true digit"
    with pytest.raises(TypeError, match=r"plot_confusion\(name=\.\.\.\) must be a str, got int"):
        viz.plot_confusion(truth, guesses, name=3)  # type: ignore[arg-type]


def test_dollar_signs_in_labels_stay_literal(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason=NO_MATPLOTLIB)
    fig = viz.plot_confusion(["$x^2$", "b"], ["b", "b"], tmp_path / "c.png", title="$\\alpha$")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["\\$x^2\\$", "b"]  # matplotlib shows an escaped $ as a plain dollar sign
    assert fig.axes[0].get_title().startswith("\\$\\alpha\\$")


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plot_confusion needs matplotlib: pip install 'axongrad\[plots\]"):
        viz.plot_confusion([0, 1], [0, 1])


def test_save_html_writes_a_page_with_every_count_and_escapes_text(tmp_path: Path) -> None:
    matrix = viz.confusion_matrix(["<b>", "cat", "cat", "dog"], ["<b>", "dog", "cat", "dog"])
    path = matrix.save_html(tmp_path / "matrix.html", title='</title><script>alert("x")</script>')
    page = Path(path).read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;/title&gt;&lt;script&gt;" in page
    assert "&lt;b&gt;" in page and "<b>" not in page
    cells = re.findall(r"<td [^>]*>([^<]*)</td>", page)
    assert cells == ["1", "·", "·", "·", "1", "1", "·", "·", "1"]  # rows <b>, cat, dog
    assert "default-src 'none'" in page  # loads nothing
    with pytest.raises(TypeError, match=r"save_html\(title=...\) must be a str, got int"):
        matrix.save_html(tmp_path / "bad.html", title=3)  # type: ignore[arg-type]
    assert not (tmp_path / "bad.html").exists()
