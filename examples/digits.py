"""Handwritten digit recognition (post "Demystifying neural networks": X is a picture, Y' the digit).

The posts' motivating task, on scikit-learn's 1,797 handwritten digits (8x8 pictures, 64 pixels
scaled to [0, 1]): an MLP(64, [32, 10]) (32 ReLU neurons, 10 linear outputs, one per digit) trained
with the cross-entropy of the softmax of its outputs, by mini-batch gradient descent with momentum,
on a seeded 80% split. Reproduces:

- the held-out accuracy on the other 20% (at least 90% after the full run);
- the confusion matrix (row: true digit, column: predicted digit), printed, as a picture
  (confusion_matrix.png) and as a page (confusion_matrix.html);
- a picture of misclassified test digits with the network's guess;
- the model saved as JSON (`model.save`) and loaded back (`nn.load`) with identical predictions;
- the digit pad: one HTML page (viz.export_digit_pad) where you draw a digit and watch the trained
  network's ten probabilities change as you draw.

`--engine scalar|tape` chooses how nn.fit computes each batch; `--fast` trains on a subset (tests).
The last line printed is exactly `test accuracy: 0.XXXX`.

Run from the repository root:  .venv/bin/python examples/digits.py [--fast] [--out DIR] [--engine E]
(needs scikit-learn: pip install 'axongrad[data]')
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _output import check, output_dir, pyplot, save_figure

import nn
import viz

NAME = "digits"
SPLIT_SEED = 0
MODEL_SEED = 0
HIDDEN = 32
BATCH_SIZE = 32
LEARNING_RATE, MOMENTUM = 0.1, 0.9
EPOCHS, FAST_EPOCHS = 10, 5
FAST_TRAIN = 300  # training samples in the fast setting
MIN_ACCURACY, MIN_FAST_ACCURACY = 0.90, 0.75


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """--out DIR, --fast and --engine (scalar or tape), --epochs N."""
    parser = argparse.ArgumentParser(description=(__doc__ or NAME).strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="picture folder (default output/digits/)")
    parser.add_argument("--fast", action="store_true",
                        help=f"train on {FAST_TRAIN} samples (the tests' setting)")
    parser.add_argument("--engine", choices=("scalar", "tape"), default="scalar",
                        help="how nn.fit computes a batch (default scalar)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs (default {EPOCHS}, {FAST_EPOCHS} with --fast)")
    return parser.parse_args(None if argv is None else list(argv))


def load_data() -> tuple[list[list[float]], list[int]]:
    """nn.datasets.digits(), or SystemExit saying which extra to install."""
    try:
        return nn.digits()
    except ImportError as error:
        raise SystemExit(f"{NAME}: {error}") from None


def probabilities(model: nn.MLP, x: Sequence[float]) -> list[float]:
    """softmax of the model's ten outputs (the same numbers the digit pad shows)."""
    return [p.data for p in nn.softmax(model.outputs(x))]


def predict(model: nn.MLP, x: Sequence[float]) -> int:
    """The digit with the largest output."""
    return _argmax([v.data for v in model.outputs(x)])


def _argmax(outs: Sequence[float]) -> int:
    """The index of the largest number (the first one on ties)."""
    return max(range(len(outs)), key=outs.__getitem__)


def plot_misclassified(
    xs: Sequence[Sequence[float]], truth: Sequence[int], guesses: Sequence[int], probs: Sequence[float],
    path: Path, limit: int = 24,
) -> Path:
    """Up to `limit` misclassified test digits as 8x8 pictures, titled true -> predicted (probability)."""
    plt = pyplot(NAME)
    wrong = [i for i, (t, p) in enumerate(zip(truth, guesses)) if t != p][:limit]
    cols = 8
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.75 * rows + 0.5), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(wrong):
            ax.axis("off")
            continue
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("lightgrey")
        i = wrong[k]
        ax.imshow([list(xs[i][r * 8:(r + 1) * 8]) for r in range(8)], cmap="gray_r", vmin=0.0, vmax=1.0)
        ax.set_title(f"{truth[i]} → {guesses[i]} ({probs[i]:.0%})", fontsize=9, color="tab:red")
    fig.suptitle(f"misclassified test digits ({len(wrong)} shown): true → predicted (probability)")
    return save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the accuracy, the confusion matrix, the seconds per epoch and the files."""
    args = parse_args(argv)
    folder = output_dir(NAME, args.out)
    engines = getattr(nn, "ENGINES", {"scalar": None})
    if args.engine not in engines:
        raise SystemExit(
            f"{NAME}: nn.fit has no {args.engine!r} engine in this version of axongrad "
            f"(available: {', '.join(engines)}); run with --engine scalar"
        )
    xs, ys = load_data()
    x_train, x_test, y_train, y_test = nn.train_test_split(xs, ys, test_size=0.2, seed=SPLIT_SEED)
    if args.fast:
        x_train, y_train = x_train[:FAST_TRAIN], y_train[:FAST_TRAIN]
    epochs = args.epochs if args.epochs is not None else (FAST_EPOCHS if args.fast else EPOCHS)
    model = nn.MLP(64, [HIDDEN, 10], seed=MODEL_SEED)
    print(f"{len(xs)} digits of 8x8 pixels: {len(x_train)} for training, {len(x_test)} held out")
    print(f"MLP(64, [{HIDDEN}, 10]), {len(model.parameters())} parameters; cross_entropy, "
          f"SGD(lr={LEARNING_RATE:g}, momentum={MOMENTUM:g}), batches of {BATCH_SIZE}, "
          f"{epochs} epochs, engine {args.engine!r}")
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    history = nn.fit(model, x_train, y_train, loss="cross_entropy", optimizer=optimizer, epochs=epochs,
                     batch_size=BATCH_SIZE, seed=SPLIT_SEED, engine=args.engine)
    for k, (loss, acc, seconds) in enumerate(zip(history.loss, history.accuracy, history.time), start=1):
        print(f"  epoch {k:>2}  loss {loss:.4f}  training accuracy {acc or 0.0:.4f}  {seconds:.2f} s")
    per_epoch = sum(history.time) / len(history.time)
    print(f"  {per_epoch:.2f} s per epoch ({args.engine} engine)")

    # One forward pass per test digit gives the guess, the probabilities and the outputs that the
    # saved-and-loaded model must reproduce (each pass builds a graph of Values: ~0.6 ms).
    outputs = [model.outputs(x) for x in x_test]
    guesses = [_argmax([v.data for v in outs]) for outs in outputs]
    probs = [[p.data for p in nn.softmax(outs)] for outs in outputs]
    accuracy = sum(1 for t, p in zip(y_test, guesses) if t == p) / len(y_test)
    matrix = viz.confusion_matrix(y_test, guesses, labels=range(10))
    counts = matrix.counts
    print(f"\nConfusion matrix on the {len(x_test)} held-out digits:")
    print(matrix)
    wrong = sum(1 for t, p in zip(y_test, guesses) if t != p)
    print(f"  {wrong} misclassified")
    floor = MIN_FAST_ACCURACY if args.fast else MIN_ACCURACY
    check(accuracy >= floor, f"held-out accuracy >= {floor:g} (got {accuracy:.4f})")
    check(matrix.total == len(x_test), "the confusion matrix counts every test digit once")
    check(accuracy == nn.evaluate(model, x_test, y_test), "nn.evaluate agrees with the confusion matrix")

    model_path = folder / "digits_model.json"
    model.save(model_path)
    loaded = nn.load(model_path)
    identical = all(
        [v.data for v in loaded.outputs(x)] == [v.data for v in outs] for x, outs in zip(x_test, outputs)
    )
    print(f"\nSaved the model to {model_path.name} and loaded it back (nn.load): "
          f"identical outputs on every test digit: {identical}")
    check(identical, "the loaded model gives exactly the saved model's outputs")

    viz.plot_confusion(y_test, guesses, folder / "confusion_matrix.png", labels=range(10),
                       title="held-out digits", name="digit")
    matrix.save_html(folder / "confusion_matrix.html",
                     title="digits: confusion matrix on the held-out digits")
    files = [
        folder / "confusion_matrix.png",
        folder / "confusion_matrix.html",
        plot_misclassified(x_test, y_test, guesses, [probs[i][guesses[i]] for i in range(len(x_test))],
                           folder / "misclassified.png"),
        model_path,
        viz.export_digit_pad(model, folder / "digit_pad.html",
                         title=f"axongrad digit pad: draw a digit (test accuracy {accuracy:.4f})"),
    ]
    print(f"Digit pad (open in a browser, draw a digit): {files[-1]}")
    print(f"Pictures written to {folder}")
    print(f"test accuracy: {accuracy:.4f}")
    return {
        "accuracy": accuracy,
        "confusion": counts,
        "truth": list(y_test),
        "guesses": guesses,
        "misclassified": wrong,
        "seconds_per_epoch": per_epoch,
        "history": history,
        "identical_after_load": identical,
        "model": model,
        "engine": args.engine,
        "files": files,
        "folder": folder,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
