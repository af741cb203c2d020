"""`fit`: the posts' loop (forward, error, backpropagate, update) repeated for epochs, and `History`.

One epoch visits every sample once, in mini-batches (`batch_size`, shuffled with `seed`) or as one
full batch (`batch_size=None`). For each batch an engine computes the mean loss and the number of
correct predictions and leaves d(loss)/d(parameter) in every parameter's grad; the optimizer then
steps. The epoch's loss is the sample-weighted mean of its batch losses (each measured before that
batch's update), so with one full batch it is exactly the loss of the weights the epoch started with.

Accuracy (`accuracy="auto"`) is chosen once from the model's outputs and the targets:
- several outputs and int targets (classification, e.g. with cross_entropy): argmax == target;
- several outputs and one-hot list targets: argmax of output == argmax of target;
- one output and targets all in {-1, +1}: the signs agree (output > 0 means +1), as micrograd;
- one output and targets all in {0, 1}: output > 0.5 means 1 (a sigmoid's probability);
- anything else (regression): no accuracy, recorded as None.
Pass `accuracy=callable(prediction, target) -> bool` for another rule, or None to skip it.

`fit` never returns non-finite weights: a batch loss that is not finite, or an update that would
make a weight or the optimizer's state inf or NaN, is a ValueError naming the epoch, the batch, the
parameter and what to try (the optimizers undo such a step, so the model keeps its last finite
weights).

Progress (per epoch, or per batch when an epoch has several): a tqdm bar on a terminal, one output
updated in place in a Jupyter kernel, which a saved notebook keeps as one line (nn/progress.py).
Elsewhere (a log file, a pipe) and with progress=False: quiet.
"""

from __future__ import annotations

import functools
import html
import math
import random
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Protocol, TypeAlias

from autograd import BACKENDS, Value, collector_paused, first_non_finite, no_grad
from autograd.checks import integer, is_int, is_real, needs, real_number
from nn import frames
from nn import losses as _losses
from nn.doctor import checks, diagnose
from nn.frames import Frame
from nn.layers import MLP, Input, Output
from nn.optim import SGD, Optimizer, describe
from nn.progress import bar as _bar
from nn.progress import in_notebook as in_notebook  # re-exported: where it lived before
from nn.tape_engine import TapeEngine
from nn.tape_fit import ArraySteps, BatchRule

Loss: TypeAlias = Callable[[Any, Any], Value]
Accuracy: TypeAlias = Callable[[Output, Any], bool]
# An engine computes one batch: mean loss and correct count (None without accuracy), grads in params.
Samples: TypeAlias = "Sequence[Sequence[Input]]"
Engine: TypeAlias = "Callable[[MLP, Samples, Sequence[Any], Loss, Accuracy | None], tuple[float, int | None]]"

DEFAULT_LR = 0.1
"""The learning rate of the SGD that `fit` makes when given no optimizer."""

LOSSES: dict[str, Loss] = {
    "squared_error": _losses.squared_error,
    "mse": _losses.mse,
    "hinge": _losses.hinge,
    "binary_cross_entropy": _losses.binary_cross_entropy,
    "cross_entropy": _losses.cross_entropy,
}


def _short(x: object) -> str:
    """A number as 4 significant digits (anything else as a short repr): a display never raises."""
    if is_real(x):
        try:
            return f"{float(x):.4g}"
        except OverflowError:  # 10**400: shown by its repr below
            pass
    text = repr(x)
    return text if len(text) <= 20 else text[:19] + "\u2026"


def _percent(x: object) -> str:
    """An accuracy as a percentage, "" for None (not measured)."""
    if x is None:
        return ""
    if is_real(x):
        try:
            return f"{float(x):.1%}"
        except OverflowError:  # 10**400: shown by _short
            pass
    return _short(x)


@dataclass(repr=False)
class History:
    """What `fit` measured: per-epoch mean loss, accuracy (None when not measured) and seconds.

    `frames` holds the `nn.Frame`s of `fit(..., record=k)` (empty otherwise).

    Its repr is one line (epochs, first and final loss, final accuracy, total time); in Jupyter it
    displays as a short table. The full lists are `loss`, `accuracy` and `time`; to see the curve,
    `viz.plot_history(history)`.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """How many epochs ran (fewer than asked when `until` stopped the loop)."""
        return len(self.loss)

    def __repr__(self) -> str:
        """One line: History(epochs=300, loss 0.6931 -> 0.01213, accuracy 100.0%, 2.31 s)."""
        if not self.loss:
            return "History(epochs=0)"
        parts = [f"epochs={self.epochs}", f"loss {_short(self.loss[0])} -> {_short(self.loss[-1])}"]
        final = _percent(self.accuracy[-1]) if self.accuracy else ""
        if final:
            parts.append(f"accuracy {final}")
        try:
            parts.append(f"{math.fsum(self.time):.3g} s")
        except (TypeError, ValueError):
            pass  # a hand-edited time list: leave the total out rather than fail to display
        return f"History({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary line and a table of at most 6 epochs, first and last included."""
        n = self.epochs
        picks = sorted({round(k * (n - 1) / 5) for k in range(6)}) if n else []
        cell = '<td style="text-align:right">{}</td>'.format
        rows = "".join(
            "<tr>"
            + cell(e + 1)
            + cell(html.escape(_short(self.loss[e])))
            + cell(html.escape(_percent(self.accuracy[e]) if e < len(self.accuracy) else ""))
            + cell(html.escape(_short(self.time[e]) if e < len(self.time) else ""))
            + "</tr>"
            for e in picks
        )
        return (
            f"<div><code>{html.escape(repr(self))}</code>"
            + (
                f"<table><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>seconds</th></tr>{rows}</table>"
                if rows
                else ""
            )
            + "</div>"
        )


def scalar_batch(
    model: MLP, xs: Sequence[Sequence[Input]], ys: Sequence[Any], loss: Loss, accuracy: Accuracy | None
) -> tuple[float, int | None]:
    """The scalar engine: one graph of Values for the batch's mean loss, then backward.

    Returns (mean loss, correct predictions or None) and leaves d(mean loss)/dp in each p.grad
    (added to what is there: zero the grads first).
    """
    preds = [model(x) for x in xs]
    terms = [loss(p, y) for p, y in zip(preds, ys)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    mean = total * (1.0 / len(terms)) if len(terms) > 1 else total
    mean.backward()
    correct = None if accuracy is None else sum(1 for p, y in zip(preds, ys) if accuracy(p, y))
    return mean.data, correct


ENGINES: dict[str, Engine] = {
    "scalar": scalar_batch,
    "tape": TapeEngine(),
    **{f"tape-{name}": TapeEngine(name) for name in BACKENDS},
}
"""Engines by name; `fit(engine=...)` picks one: "tape" uses NumPy when it is installed, else Python,
and "tape-<name>" one back end of `autograd.BACKENDS`."""


def _argmax(values: Sequence[float]) -> int:
    """Index of the largest value (the first one on ties)."""
    return max(range(len(values)), key=values.__getitem__)


def _data(pred: Output) -> list[float]:
    """A model output as floats (a list even for one output)."""
    return [v.data for v in pred] if isinstance(pred, list) else [pred.data]


# Each accuracy rule below compares two labels: the one the outputs predict and the one the target
# means. The outputs are one sample's floats (a list) or, for fit(engine="tape"), a batch's as an
# array with a row per output and a column per sample (nn.tape_fit counts with BATCH_RULES): each
# prediction is written once for both, with ndarray methods only (this module imports no numpy).


def _predicted_class(outputs: Any) -> Any:
    """The index of the largest output (the first on ties); per column of an array."""
    return _argmax(outputs) if isinstance(outputs, list) else outputs.argmax(axis=0)


def _positive(outputs: Any) -> Any:
    """output > 0: the sign a -1/+1 target predicts; per column of an array."""
    return outputs[0] > 0.0


def _over_half(outputs: Any) -> Any:
    """output > 0.5: a sigmoid's probability says 1; per column of an array."""
    return outputs[0] > 0.5


def _hot_class(target: Any) -> int:
    """The class a one-hot target marks (the index of its largest entry)."""
    return _argmax(list(target))


def _positive_target(target: Any) -> bool:
    """target > 0: a -1/+1 target's sign."""
    return float(target) > 0.0


def _is_one(target: Any) -> bool:
    """target == 1, for 0/1 targets."""
    return float(target) == 1.0


def _class_index_accuracy(pred: Output, target: Any) -> bool:
    """argmax(outputs) == target class index."""
    return bool(_predicted_class(_data(pred)) == int(target))


def _one_hot_accuracy(pred: Output, target: Any) -> bool:
    """argmax(outputs) == argmax(target)."""
    return bool(_predicted_class(_data(pred)) == _hot_class(target))


def _sign_accuracy(pred: Output, target: Any) -> bool:
    """(output > 0) == (target > 0), for -1/+1 targets."""
    return bool(_positive(_data(pred)) == _positive_target(target))


def _threshold_accuracy(pred: Output, target: Any) -> bool:
    """(output > 0.5) == (target == 1), for 0/1 targets."""
    return bool(_over_half(_data(pred)) == _is_one(target))


BATCH_RULES: dict[Accuracy, BatchRule] = {
    _class_index_accuracy: (_predicted_class, int),
    _one_hot_accuracy: (_predicted_class, _hot_class),
    _sign_accuracy: (_positive, _positive_target),
    _threshold_accuracy: (_over_half, _is_one),
}
"""fit's own accuracy rules as (the labels an array of outputs predicts, the label of one target),
for fit(engine="tape") on arrays (nn.tape_fit): the same functions as the rules above."""


def auto_accuracy(model: MLP, ys: Sequence[Any]) -> Accuracy | None:
    """The accuracy rule for these targets (see the module docstring), or None for regression."""
    if model.layers[-1].nout > 1:
        if all(is_int(y) for y in ys):
            return _class_index_accuracy
        if all(
            isinstance(y, Sequence) and sorted(float(t) for t in y) == [0.0] * (len(y) - 1) + [1.0]
            for y in ys
        ):
            return _one_hot_accuracy
        return None
    if not all(is_real(y) for y in ys):
        return None
    labels = {float(y) for y in ys}
    if labels <= {-1.0, 1.0}:
        return _sign_accuracy
    if labels <= {0.0, 1.0}:
        return _threshold_accuracy
    return None


def _as_list(items: object, name: str) -> list[Any]:
    """A list of samples from a list, tuple or NumPy array (a TypeError for anything else)."""
    if isinstance(items, (str, bytes)) or not (hasattr(items, "__len__") and hasattr(items, "__iter__")):
        raise TypeError(needs(f"fit({name})", "a list", items))
    return [item.tolist() if hasattr(item, "tolist") else item for item in items]  # NumPy rows -> lists


def _resolve_loss(loss: Loss | str) -> Loss:
    """A loss callable from a callable or a name in LOSSES."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; valid names: {', '.join(LOSSES)}")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(needs("fit(loss)", "a callable or a loss name", loss))
    return loss


class Steps(Protocol):
    """How fit runs a batch and an update: through the parameter Values, or on arrays (nn.tape_fit)."""

    def begin_epoch(self, order: Sequence[int], shuffled: bool) -> None:
        """The epoch visits the samples in `order` (shuffled, or in their order)."""

    def batch(self, lo: int, hi: int) -> tuple[float, int | None]:
        """The epoch's samples lo..hi-1: (mean loss, correct count or None), gradients kept."""
        ...

    def step(self) -> None:
        """The optimizer's update; a ValueError when it fails or would leave a weight non-finite."""

    def publish(self) -> None:
        """The sync point: make the parameter Values hold the current weights and grads."""

    def absorb(self) -> None:
        """Read back weights, grads and optimizer state the learner's code may have changed."""


class _ValueSteps:
    """A batch and an update through the Values: zero_grad, the engine, optimizer.step (any engine)."""

    def __init__(self, run: _Run) -> None:
        """Steps for this fit call."""
        self.run = run
        self.order: Sequence[int] = []

    def begin_epoch(self, order: Sequence[int], shuffled: bool) -> None:
        """Keep the order the batches take their samples in."""
        self.order = order

    def batch(self, lo: int, hi: int) -> tuple[float, int | None]:
        """The engine on the batch's samples, after zeroing the grads it adds to."""
        run = self.run
        run.optimizer.zero_grad()
        idx = self.order[lo:hi]
        xs, ys = [run.xs[i] for i in idx], [run.ys[i] for i in idx]
        # The batch's graph holds no reference cycle, so the cycle collector's scans of it while it
        # is built find nothing to free: paused for the batch, as it was after.
        with collector_paused():
            return run.run_batch(run.model, xs, ys, run.loss_fn, run.acc_fn)

    def step(self) -> None:
        """The optimizer's own step, then every .data checked (an optimizer without nn.optim's check)."""
        self.run.optimizer.step()
        _check_weights(self.run.named, self.run.params)

    def publish(self) -> None:
        """Nothing: the Values are the weights."""

    def absorb(self) -> None:
        """Nothing: the Values are the weights."""


@dataclass
class _Run:
    """One fit call's checked arguments and what it derives from them once."""

    model: MLP
    xs: list[Any]
    ys: list[Any]
    loss_fn: Loss
    acc_fn: Accuracy | None
    optimizer: Optimizer
    epochs: int
    batch_size: int
    until: float | None
    run_batch: Engine
    record: int | None
    record_sample: int
    on_frame: Callable[[History, Frame], object] | None
    box: tuple[float, float, float, float] | None = None
    step: int = 0
    doctor: bool = False  # report the gradient doctor's findings (once, then False)
    steps: Steps = field(init=False)  # set by fit: _ValueSteps, or ArraySteps for a tape engine

    @functools.cached_property
    def batches(self) -> int:
        """Batches per epoch (read every batch: computed once)."""
        return -(-len(self.xs) // self.batch_size)

    @functools.cached_property
    def named(self) -> list[tuple[str, Value]]:
        """The model's named parameters, made when first read (a wide model's names take a while)."""
        return self.model.named_parameters()

    @property
    def params(self) -> list[Value]:
        """The model's parameters, in the order of `named`."""
        return [p for _, p in self.named]


def _check_data(model: object, xs: object, ys: object) -> tuple[list[Any], list[Any]]:
    """The samples as lists after checking the model, their types and their counts."""
    if not isinstance(model, MLP):
        raise TypeError(needs("fit(model)", "an MLP", model))
    xs_list, ys_list = _as_list(xs, "xs"), _as_list(ys, "ys")
    if len(xs_list) != len(ys_list):
        raise ValueError(f"fit needs as many targets as inputs, got {len(xs_list)} xs and {len(ys_list)} ys")
    if not xs_list:
        raise ValueError("fit needs at least one sample, got empty xs and ys")
    return xs_list, ys_list


def _check_loop(epochs: object, batch_size: object, until: object, seed: object, n: int) -> int:
    """Check epochs, batch_size, until and seed; return the batch size (n for None)."""
    integer(epochs, "fit(epochs)", at_least=1)
    if until is not None:
        real_number(until, "fit(until)")
    integer(seed, "fit(seed)")
    return n if batch_size is None else integer(batch_size, "fit(batch_size)", at_least=1, at_most=n)


def _check_accuracy(accuracy: object, model: MLP, ys: list[Any]) -> Accuracy | None:
    """The accuracy rule: 'auto' picks one for the targets, None skips it, a callable is used as is."""
    if accuracy == "auto":
        return auto_accuracy(model, ys)
    if accuracy is None or callable(accuracy):
        return accuracy
    raise ValueError(f"fit(accuracy) needs 'auto', None or a callable, got {accuracy!r}")


def _check_optimizer(optimizer: object, lr: object, model: MLP) -> Optimizer:
    """The optimizer given, or SGD(model.parameters(), lr) with lr defaulting to DEFAULT_LR."""
    if optimizer is None:
        return SGD(model.parameters(), lr=DEFAULT_LR if lr is None else lr)  # type: ignore[arg-type]
    if not isinstance(optimizer, Optimizer):
        raise TypeError(needs("fit(optimizer)", "an nn.optim Optimizer or None", optimizer))
    if lr is not None:
        raise ValueError(
            f"fit got both optimizer= and lr={lr!r}: lr sets the default SGD's rate; "
            "set optimizer.lr instead, or leave optimizer out"
        )
    return optimizer


def _check_recording(record: object, record_sample: object, on_frame: object, n: int) -> None:
    """record is None or an int >= 1, record_sample an index into xs, on_frame None or a callable."""
    if record is not None:
        integer(record, "fit(record)", at_least=1)
    integer(record_sample, "fit(record_sample)", at_least=0, at_most=n - 1)
    if on_frame is not None and not callable(on_frame):
        raise TypeError(needs("fit(on_frame)", "None or a callable(history, frame)", on_frame))


def fit(
    model: MLP,
    xs: Sequence[Sequence[Input]],
    ys: Sequence[Any],
    loss: Loss | str = "squared_error",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    until: float | None = None,
    progress: bool = True,
    seed: int = 0,
    accuracy: Accuracy | str | None = "auto",
    engine: str = "scalar",
    *,
    lr: float | None = None,
    record: int | None = None,
    record_sample: int = 0,
    on_frame: Callable[[History, Frame], object] | None = None,
) -> History:
    """Train `model` on (xs, ys) and return the per-epoch History.

    `loss(prediction, target)` scores one sample (a function or a name: squared_error, mse, hinge,
    binary_cross_entropy, cross_entropy); the batch loss is the mean. `optimizer` defaults to
    SGD(model.parameters(), lr=lr) with lr defaulting to DEFAULT_LR. `until` stops after the first
    epoch whose loss is below it, as the posts' loop does. `progress` shows a tqdm bar with the last
    epoch's loss on a terminal or in a Jupyter notebook (per batch when an epoch has several), and
    when training stalls or diverges prints the gradient doctor's findings in one line to stderr
    (`nn.diagnose` has the full report); progress=False keeps both quiet.
    A non-finite loss or update is a ValueError naming the epoch (see the module docstring).
    `engine` picks how a batch is computed: "scalar" (a graph of Values per batch, the default, for
    teaching) or "tape" (the sample graph compiled once with `autograd.compile` and
    replayed per batch, same gradients, much faster; see `nn.tape_engine`): "tape" uses the NumPy
    back end when numpy imports, "tape-python", "tape-numpy" and "tape-torch" pick one.
    On an array back end ("tape", "tape-numpy", "tape-torch") with nn's SGD or Adam, the data is checked and
    converted once per fit and the weights stay in one array while it trains (`nn.tape_fit`). The
    sync point: the parameter Values are brought up to date before each `on_frame` call (so .data,
    model(...) and model.save see the current weights there, and what it changes is trained on),
    before the gradient doctor looks, and when fit returns, raises or is interrupted; between those
    points another thread reading the model sees the numbers of the last sync.
    `record=k` keeps an `nn.Frame` every k optimizer steps (and at the last) in `history.frames`,
    with `record_sample`'s network; `on_frame(history, frame)` is called after each (see nn.frames).
    """
    if engine not in ENGINES:
        raise ValueError(f"fit: unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
    xs, ys = _check_data(model, xs, ys)
    n = len(xs)
    size = _check_loop(epochs, batch_size, until, seed, n)
    loss_fn = _resolve_loss(loss)
    acc_fn = _check_accuracy(accuracy, model, ys)
    opt = _check_optimizer(optimizer, lr, model)
    _check_recording(record, record_sample, on_frame, n)
    run = _Run(
        model, xs, ys, loss_fn, acc_fn, opt, epochs, size, until, ENGINES[engine], record, record_sample,
        on_frame,
    )
    run.steps = _steps(run)
    if record is not None and model.nin == 2:
        run.box = frames.boundary_box(xs)
    history = History()
    run.doctor = progress
    with _progress_bar(run, progress) as bar:
        try:
            _train(run, history, bar, random.Random(seed))  # noqa: S311 (shuffling, not cryptography)
        finally:  # returning, raising or interrupted: the Values hold the weights trained so far
            run.steps.publish()
    quiet_so_far = run.doctor  # the doctor has said nothing during training
    reported = run.doctor and _went_wrong(history) and _report_findings(run, history, "training ended")
    if quiet_so_far and not reported and (note := _still_falling(run, history)):
        print(note, file=sys.stderr)
    return history


def _steps(run: _Run) -> Steps:
    """A tape engine's batches and updates on arrays when it can (nn.tape_fit), else through the Values."""
    if isinstance(run.run_batch, TapeEngine):
        steps = ArraySteps.start(
            run.run_batch, run.model, run.xs, run.ys, run.loss_fn, run.acc_fn, run.optimizer, BATCH_RULES
        )
        if steps is not None:
            return steps
    return _ValueSteps(run)


@contextmanager
def _progress_bar(run: _Run, progress: bool) -> Iterator[Any]:
    """A bar per epoch, or per batch when an epoch has several; quiet where it cannot update (nn.progress)."""
    per_batch = run.batches > 1
    total = run.epochs * run.batches if per_batch else run.epochs
    bar = _bar(total, "batch" if per_batch else "epoch", progress)
    try:
        yield bar
    finally:
        bar.close()


def _train(run: _Run, history: History, bar: Any, shuffler: random.Random) -> None:
    """Run the epochs, appending to `history`, until they are done or `until` is reached."""
    order = list(range(len(run.xs)))
    for epoch in range(1, run.epochs + 1):
        start = time.perf_counter()
        shuffled = run.batch_size < len(order)
        if shuffled:
            shuffler.shuffle(order)
        run.steps.begin_epoch(order, shuffled)
        epoch_loss, correct = _epoch(run, history, bar, epoch, order)
        history.loss.append(epoch_loss)
        history.accuracy.append(None if run.acc_fn is None else correct / len(order))
        history.time.append(time.perf_counter() - start)
        if run.batches == 1:
            bar.update()
        if not bar.disable:  # formatting a hidden bar's postfix costs as much as a small step
            bar.set_postfix(epoch=epoch, loss=f"{epoch_loss:.4g}", refresh=False)
        if _stops(run, epoch, epoch_loss):
            break
        if run.doctor and _stalled(history.loss):
            _report_findings(run, history, f"the loss stopped improving by epoch {epoch}")


def _stops(run: _Run, epoch: int, epoch_loss: float) -> bool:
    """Whether this epoch is the last: the last asked for, or its loss is below `until`."""
    return epoch == run.epochs or (run.until is not None and epoch_loss < run.until)


def _epoch(run: _Run, history: History, bar: Any, epoch: int, order: list[int]) -> tuple[float, int]:
    """One pass over the samples in `order`, batch by batch: (sample-weighted mean loss, correct count)."""
    n = len(order)
    size = run.batch_size
    batches = run.batches
    loss_sum = 0.0
    correct = 0
    for b, lo in enumerate(range(0, n, size), start=1):
        hi = min(lo + size, n)
        batch_loss, batch_correct = _batch(run, lo, hi, epoch, b)
        loss_sum += batch_loss * (hi - lo)
        if batch_correct is not None:
            correct += batch_correct
        if run.record is not None:
            last = b == batches and _stops(run, epoch, loss_sum / n)
            _maybe_record(run, history, epoch, batch_loss, batch_correct, hi - lo, last)
        _update(run, epoch, b)
        if batches > 1:
            bar.update()
    return loss_sum / n, correct


def _where(run: _Run, epoch: int, b: int) -> str:
    """The start of a batch's error message: "fit: epoch 3 of 100, batch 2 of 4" (made only on an error)."""
    return f"fit: epoch {epoch} of {run.epochs}, batch {b} of {run.batches}"


def _batch(run: _Run, lo: int, hi: int, epoch: int, b: int) -> tuple[float, int | None]:
    """The epoch's samples lo..hi-1, forward and backward: (mean loss, correct count), grads kept."""
    try:
        batch_loss, batch_correct = run.steps.batch(lo, hi)
        if batch_loss - batch_loss != 0.0:
            raise ValueError(f"the batch loss is {batch_loss!r}")
    except ValueError as error:
        run.steps.publish()  # the hint reads the weights
        hint = _divergence_hint(run.named, epoch, b, run.optimizer.lr)
        raise ValueError(f"{_where(run, epoch, b)}: {_shorten(str(error))}{hint}") from error
    return batch_loss, batch_correct


def _update(run: _Run, epoch: int, b: int) -> None:
    """The optimizer's step, its errors and non-finite results named with the batch."""
    try:
        run.steps.step()
    except ValueError as error:
        raise ValueError(f"{_where(run, epoch, b)}: {error}") from error
    run.step += 1


def _maybe_record(
    run: _Run, history: History, epoch: int, loss: float, correct: int | None, size: int, last: bool
) -> None:
    """Append a Frame (and call on_frame) at steps 0, k, 2k, ... and at the last step (needs `record`)."""
    if run.record is None or not (last or run.step % run.record == 0):
        return
    run.steps.publish()  # the frame and on_frame read the model
    if run.acc_fn is None:
        accuracy = None
    elif size == len(run.xs):  # one full batch: the batch just counted it at these weights
        accuracy = (correct or 0) / size
    else:
        accuracy = frames.accuracy_of(run.model, run.xs, run.ys, run.acc_fn)
    i = run.record_sample
    frame = Frame(
        step=run.step,
        epoch=epoch,
        loss=loss,
        accuracy=accuracy,
        layers=frames.layer_frames(run.model),
        boundary=None if run.box is None else frames.boundary(run.model, run.box),
        sample=frames.sample_frame(run.model, i, run.xs[i], run.ys[i], run.loss_fn),
    )
    history.frames.append(frame)
    if run.on_frame is not None:
        run.on_frame(history, frame)
        run.steps.absorb()  # train on from what on_frame left (it may change weights or lr)


DOCTOR_SAMPLES = 200
"""At most this many samples (evenly spaced) go to the gradient doctor when fit reports."""


def _stalled(losses: list[float]) -> bool:
    """No epoch in the last quarter (at least 10) got 1% below the best loss before it."""
    window = max(10, len(losses) // 4)
    if len(losses) < 2 * window:
        return False
    return min(losses[-window:]) > 0.99 * min(losses[:-window])


FALLING = 1e-3
"""fit notes that the loss is still falling when it fell in most of the last tenth of the epochs and
by more than this share in all."""


def _still_falling(run: _Run, history: History) -> str:
    """A one-line note when the last epoch ran with the loss still falling and not every sample right."""
    losses = history.loss
    if len(losses) < 10 or len(losses) < run.epochs or (history.accuracy and history.accuracy[-1] == 1.0):
        return ""
    window = losses[-(len(losses) // 10) - 1 :]  # the last tenth of the epochs and the one before
    earlier = window[0]
    steps = list(pairwise(window))
    falling = sum(1 for a, b in steps if b < a) >= 0.7 * len(steps)  # mostly, not jumping around
    if not (falling and losses[-1] < (1 - FALLING) * earlier):
        return ""
    return (
        f"fit: the loss was still falling at the end ({earlier:.4g} -> {losses[-1]:.4g} over the last "
        f"{len(window) - 1} epochs): try more epochs= or a larger lr= (now {run.optimizer.lr:.3g})"
    )


def _went_wrong(history: History) -> bool:
    """Training ended short of every sample right while the loss stalled, rose or jumped around."""
    if history.accuracy and history.accuracy[-1] == 1.0:
        return False
    return _stalled(history.loss) or bool(checks.loss_curve(history.loss))


def _report_findings(run: _Run, history: History, why: str) -> bool:
    """The gradient doctor's findings in one line on stderr (nothing if it finds nothing); once per fit."""
    run.doctor = False
    if history.accuracy and history.accuracy[-1] == 1.0:
        return False
    run.steps.publish()  # the doctor reads the model
    n = len(run.xs)
    m = min(n, DOCTOR_SAMPLES)
    picks = [k * n // m for k in range(m)]
    try:
        report = diagnose(
            run.model, [run.xs[i] for i in picks], [run.ys[i] for i in picks], run.loss_fn,
            history=history, optimizer=run.optimizer,
        )
    except ValueError as error:  # e.g. a forward pass that overflows: say so, keep the trained model
        print(f"fit: {why}; the gradient doctor could not look: {error}", file=sys.stderr)
        return True
    if report:
        print(
            f"fit: {why}; the gradient doctor found {report.line()}; "
            "print(nn.diagnose(model, xs, ys, loss=..., history=history)) says what to try",
            file=sys.stderr,
        )
    return bool(report)


def _divergence_hint(named: list[tuple[str, Value]], epoch: int, batch: int, lr: float) -> str:
    """After some updates, the largest weight by name: a forward pass overflows when they diverged."""
    if epoch == 1 and batch == 1:
        return ""  # no update yet: the data or the model, not the training, is the cause
    name, largest = max(named, key=lambda item: abs(item[1].data))
    return (
        f" (after the updates so far the largest |weight| is {abs(largest.data):.3g}, {describe(largest)} "
        f"({name}); if that is large, training diverged: try a smaller learning rate than {lr:.3g})"
    )


# A tuple of many numbers in an operation's message (a weighted sum's 33 operands): summarised.
_LONG_TUPLE = re.compile(r"\(((?:[^(),]+, ){8,}[^(),]+)\)")


def _shorten(message: str) -> str:
    """The message with each long tuple of numbers as its length and largest |x| (the rest kept)."""

    def summary(match: re.Match[str]) -> str:
        try:
            numbers = [abs(float(part)) for part in match.group(1).split(", ")]
        except ValueError:
            return match.group(0)
        return f"({len(numbers)} numbers, the largest |x| {max(numbers):.3g})"

    return _LONG_TUPLE.sub(summary, message)


def _check_weights(named: list[tuple[str, Value]], params: list[Value]) -> None:
    """A ValueError when the step left a weight non-finite (an optimizer without nn.optim's own check)."""
    i = first_non_finite([p.data for p in params])
    if i is not None:
        name, p = named[i]
        raise ValueError(
            f"the optimizer step made {name} ({describe(p)}) {p.data!r} (grad={p.grad!r}); "
            "try a smaller learning rate"
        )


def evaluate(
    model: MLP, xs: Sequence[Sequence[Input]], ys: Sequence[Any], accuracy: Accuracy | str = "auto"
) -> float:
    """Fraction of samples the model gets right (same rules as fit), computed without gradients."""
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"evaluate needs equally many (>= 1) xs and ys, got {len(xs)} and {len(ys)}")
    acc_fn = auto_accuracy(model, ys) if accuracy == "auto" else accuracy
    if acc_fn is None or isinstance(acc_fn, str):
        raise ValueError(
            f"evaluate: no accuracy rule for these targets; pass accuracy=callable, got {accuracy!r}"
        )
    with no_grad():
        return sum(1 for x, y in zip(xs, ys) if acc_fn(model(x), y)) / len(xs)
