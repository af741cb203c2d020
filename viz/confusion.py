"""The confusion matrix of a classifier: counts[t][p] = how many samples of class t were predicted p.

`confusion_matrix(y_true, y_pred)` counts (plain Python; prints as a text table, displays as an
HTML table in Jupyter, `.save_html(path)` writes it as a page); `plot_confusion(y_true, y_pred,
path)` draws it with matplotlib (the `plots` extra, imported lazily), each cell annotated with its
count. The diagonal is what the model gets right; every count off it is a mistake, and its row
and column say which.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograd.files import FilePath, file_path, write_atomically
from viz.labels import page_text
from viz.pages import read_template
from viz.plots import _figure, _save

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _label_text(label: object) -> str:
    """A class label as text: "3", "cat"."""
    return str(label)


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts per (true class, predicted class): `counts[i][j]` for labels[i] predicted as labels[j]."""

    labels: list[Hashable]
    counts: list[list[int]]

    @property
    def total(self) -> int:
        """How many samples were counted."""
        return sum(map(sum, self.counts))

    @property
    def correct(self) -> int:
        """How many samples were predicted as their own class (the diagonal)."""
        return sum(self.counts[i][i] for i in range(len(self.labels)))

    @property
    def accuracy(self) -> float:
        """correct / total."""
        return self.correct / self.total

    def __str__(self) -> str:
        """A text table: rows are true classes, columns predictions; zeros shown as '.'."""
        names = [_label_text(label) for label in self.labels]
        width = max(4, *(len(n) for n in names), *(len(str(c)) for row in self.counts for c in row))
        head = "true \\ predicted"
        lines = [head + " " + " ".join(f"{n:>{width}}" for n in names)]
        for name, row in zip(names, self.counts):
            cells = " ".join(f"{c:>{width}}" if c else f"{'.':>{width}}" for c in row)
            lines.append(f"{name:>{len(head)}} {cells}")
        lines.append(f"accuracy {self.accuracy:.4f} ({self.correct} of {self.total} on the diagonal)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        """One line: the classes, the total and the accuracy."""
        return (
            f"<ConfusionMatrix of {len(self.labels)} classes, {self.total} samples, "
            f"accuracy {self.accuracy:.4f}>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's display: an HTML table, the diagonal in green and mistakes in red (labels escaped)."""
        cell = "padding: 0.15em 0.5em; text-align: right; border: 1px solid #e5e7eb;"
        names = [page_text(_label_text(label)) for label in self.labels]
        rows = []
        for i, (name, row) in enumerate(zip(names, self.counts)):
            tds = []
            for j, c in enumerate(row):
                colour = "#dcfce7" if i == j else ("#fee2e2" if c else "#ffffff")
                tds.append(f'<td style="{cell} background: {colour};">{c if c else "·"}</td>')
            rows.append(f'<tr><th style="{cell}">{name}</th>{"".join(tds)}</tr>')
        head = "".join(f'<th style="{cell}">{n}</th>' for n in names)
        return (
            f'<table style="border-collapse: collapse;"><caption>rows: true class, columns: predicted; '
            f"accuracy {self.accuracy:.4f}</caption>"
            f'<tr><th style="{cell}">true \\ predicted</th>{head}</tr>{"".join(rows)}</table>'
        )


    def save_html(self, path: FilePath, *, title: str = "confusion matrix") -> str:
        """Write the matrix as a standalone HTML page (the Jupyter table, a heading, what the cells
        mean; no script, nothing loaded), atomically; returns the path written."""
        if not isinstance(title, str):
            raise TypeError(f"ConfusionMatrix.save_html(title=...) must be a str, got {type(title).__name__}")
        target = file_path(path, "ConfusionMatrix.save_html(path)")
        fills = {"__TITLE__": page_text(title), "__TABLE__": self._repr_html_()}
        # One pass, so a title that reads "__TABLE__" stays text.
        page = re.sub("|".join(fills), lambda m: fills[m.group()], read_template("templates/confusion.html"))
        write_atomically(target, page.encode("utf-8"))
        return target


def _sequence(values: object, what: str) -> list[Any]:
    """`values` as a list (a list, tuple or NumPy array of labels), or TypeError naming `what`."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not hasattr(values, "__iter__"):
        raise TypeError(
            f"confusion_matrix({what}) must be a list of class labels, got {type(values).__name__}"
        )
    out = [v.item() if hasattr(v, "item") else v for v in values]  # NumPy scalars -> Python numbers
    for v in out:
        if not isinstance(v, Hashable) or (isinstance(v, float) and v != v):
            raise TypeError(f"confusion_matrix({what}) holds {v!r}, which is not a class label")
    return out


def confusion_matrix(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> ConfusionMatrix:
    """Count each (true, predicted) pair; `labels` fixes the classes and their order.

    Default labels: every class seen in either list, sorted (as text when they do not sort).
    A label outside an explicit `labels` is a ValueError naming it.
    """
    truth, guesses = _sequence(y_true, "y_true"), _sequence(y_pred, "y_pred")
    if len(truth) != len(guesses):
        raise ValueError(
            f"confusion_matrix needs as many predictions as labels, got {len(truth)} and {len(guesses)}"
        )
    if not truth:
        raise ValueError("confusion_matrix needs at least one sample, got empty y_true and y_pred")
    if labels is None:
        seen = list(dict.fromkeys([*truth, *guesses]))
        try:
            classes: list[Hashable] = sorted(seen)
        except TypeError:
            classes = sorted(seen, key=str)
    else:
        classes = _sequence(labels, "labels")
        if len(set(classes)) != len(classes):
            raise ValueError(f"confusion_matrix(labels=...) has repeated classes: {classes!r:.200}")
    where = {c: i for i, c in enumerate(classes)}
    counts = [[0] * len(classes) for _ in classes]
    for t, p in zip(truth, guesses):
        for label in (t, p):
            if label not in where:
                raise ValueError(f"confusion_matrix: class {label!r} is not in labels={classes!r:.200}")
        counts[where[t]][where[p]] += 1
    return ConfusionMatrix(classes, counts)


def _mathtext_safe(text: str) -> str:
    """`text` with "$" escaped, so matplotlib draws a label such as "$x$" literally, not as math."""
    return text.replace("$", r"\$")


def plot_confusion(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    path: FilePath | None = None,
    *,
    labels: Sequence[Hashable] | None = None,
    title: str | None = None,
    name: str = "class",
) -> Figure:
    """The confusion matrix as a picture: counts in blue, each cell labelled, mistakes in red.

    Rows are the true classes, columns the predictions; the title gives the accuracy. `name`
    names a class on the axes ("true digit"). `path=` saves it (format from the suffix). Needs
    matplotlib: pip install 'axongrad[plots]'.
    """
    matrix = confusion_matrix(y_true, y_pred, labels)
    for what, text in (("title", title), ("name", name)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"plot_confusion({what}=...) must be a str, got {type(text).__name__}")
    n = len(matrix.labels)
    side = min(12.0, 2.5 + 0.55 * n)
    fig = _figure("plot_confusion", figsize=(side + 1.2, side), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix.counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="samples", shrink=0.8)
    top = max(max(row) for row in matrix.counts)
    if n <= 30:  # a count in every cell while they stay readable
        for i in range(n):
            for j in range(n):
                c = matrix.counts[i][j]
                if c:
                    # White on dark cells; off the diagonal a mistake is red on light cells.
                    colour = "white" if c > top / 2 else ("black" if i == j else "#b91c1c")
                    ax.text(j, i, str(c), ha="center", va="center", color=colour,
                            fontsize=9, fontweight="normal" if i == j else "bold")
    names = [_mathtext_safe(_label_text(label)) for label in matrix.labels]
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(n), names)
    ax.set_xlabel(_mathtext_safe(f"predicted {name}"))
    ax.set_ylabel(_mathtext_safe(f"true {name}"))
    heading = title if title is not None else "confusion matrix"
    ax.set_title(f"{_mathtext_safe(heading)}: accuracy {matrix.accuracy:.4f} ({matrix.total} samples)")
    return _save(fig, path)
