"""Speed and memory of axongrad's engine against micrograd 0.1.0 and hand-written plain floats.

Run from the repository root:

    .venv/bin/python benchmarks/engine.py [--repeat N] [--quick] [--cprofile] [--sweep] [--no-digits]

Everything runs in one process and repetitions are interleaved (A, B, C, A, B, C, ...), so a
slow phase of the machine hits every engine alike; each row shows the median and the minimum.
Sections: (1) a training step of micrograd's demo MLP 2-16-16-1 over 100 samples with its
max-margin loss + 1e-4 L2 (build graph, backward, SGD update); (2) a 100,000-leaf sum; (3) a
1,000,000-node chain (micrograd's recursive topological sort cannot); (4) bytes per node
(tracemalloc); (5) objects the cycle collector tracks per node; (6) where axongrad's step spends
its time; (7) `examples/digits.py --engine tape` as a subprocess; then issue 12's targets, each
beside its figure; (8, with --sweep) NumPy tape vs batched PyTorch over batch 1..10,000 and width
4..256, with where PyTorch's time goes at the small size. micrograd comes from the `dev` extra:
pip install 'axongrad[dev]'.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import itertools
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script from anywhere: make the repository's packages importable.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import autograd  # noqa: E402
from autograd import Value, accumulate, topological_order, weighted_sum  # noqa: E402

SEED = 1337
SIZES = (2, 16, 16, 1)  # micrograd's demo network
N_SAMPLES = 100
ALPHA = 1e-4  # micrograd's demo L2 strength
LR = 0.1
WIDE_N = 100_000
CHAIN_N = 1_000_000
MICROGRAD_CHAIN_N = 10_000
MEMORY_N = 100_000
TOLERANCE = 1e-9
TARGET_VS_MICROGRAD = 10.0
TARGET_VS_MICROGRAD_GC_OFF = 2.0
TARGET_BYTES_RATIO = 1 / 3
TARGET_TAPE_VS_PLAIN = 3.0  # issue 6: pure-Python tape at most 3x the hand-written floats
TARGET_MICROGRAD_VS_NUMPY_TAPE = 300.0  # issue 6: NumPy tape at least 300x faster than micrograd
TARGET_NUMPY_TAPE_VS_TORCH = 5.0  # issue 6: NumPy tape within 5x of batched PyTorch float64
# Issue 12's targets (one run of this script prints each ratio beside its target).
TARGET12_NUMPY_TAPE_VS_TORCH = 0.5  # NumPy tape at most half batched PyTorch float64's time (1 thread)
TARGET12_TAPE_VS_PLAIN = 0.7  # "keep" the pure-Python tape at about 0.6x the hand-written floats
TARGET12_MICROGRAD_STYLE = 2.0  # micrograd (gc off) / axongrad, micrograd-style code
TARGET12_NN_MLP = 5.0  # micrograd (gc off) / axongrad, nn.MLP
TARGET12_DIGITS_ACCURACY = 0.95  # examples/digits.py --engine tape: held-out accuracy at least
TARGET12_DIGITS_SECONDS = 5.0  # ... and the whole process in at most this many seconds
SWEEP_WIDTHS = (4, 16, 64, 256)  # --sweep: MLP 2-W-W-1
SWEEP_BATCHES = (1, 10, 100, 1000, 10_000)
SWEEP_BUDGET = 0.4  # --sweep: seconds of timed steps per engine and case (at least 2 steps)

# Weights as plain data: one list per layer of (weights, bias) per neuron, micrograd's order.
Weights = list[list[tuple[list[float], float]]]


def _micrograd() -> tuple[Any, Any]:
    """micrograd's Value and MLP, or SystemExit saying which extra installs them."""
    try:
        import micrograd.engine
        import micrograd.nn
    except ImportError as error:
        raise SystemExit(
            f"benchmarks/engine.py needs micrograd 0.1.0 ({error}): pip install 'axongrad[dev]'"
        ) from error
    return micrograd.engine.Value, micrograd.nn.MLP


# ====================================================================== data and models


def make_moons(
    n: int = N_SAMPLES, noise: float = 0.1, seed: int = SEED
) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles like scikit-learn's make_moons, labels -1/+1, pure Python."""
    rng = random.Random(seed)
    n_outer = n // 2
    points: list[tuple[float, float, float]] = []
    for i in range(n_outer):
        t = math.pi * i / max(n_outer - 1, 1)
        points.append((math.cos(t), math.sin(t), -1.0))
    for i in range(n - n_outer):
        t = math.pi * i / max(n - n_outer - 1, 1)
        points.append((1.0 - math.cos(t), 0.5 - math.sin(t), 1.0))
    rng.shuffle(points)
    xs = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b, _ in points]
    ys = [y for _, _, y in points]
    return xs, ys


def initial_weights(sizes: Sequence[int] = SIZES, seed: int = SEED) -> Weights:
    """The weights micrograd's own MLP draws (random.uniform(-1, 1), biases 0) from `seed`."""
    _, mg_mlp = _micrograd()
    state = random.getstate()
    random.seed(seed)
    try:
        model = mg_mlp(sizes[0], list(sizes[1:]))
    finally:
        random.setstate(state)
    return [[([w.data for w in n.w], float(n.b.data)) for n in layer.neurons] for layer in model.layers]


def load_weights(model: Any, weights: Weights) -> None:
    """Copy `weights` into any model with micrograd's attributes (layers, neurons, w, b)."""
    if len(model.layers) != len(weights):
        raise ValueError(f"model has {len(model.layers)} layers, weights have {len(weights)}")
    for layer, layer_weights in zip(model.layers, weights):
        if len(layer.neurons) != len(layer_weights):
            raise ValueError(f"layer has {len(layer.neurons)} neurons, weights have {len(layer_weights)}")
        for neuron, (w, b) in zip(layer.neurons, layer_weights):
            if len(neuron.w) != len(w):
                raise ValueError(f"neuron has {len(neuron.w)} weights, expected {len(w)}")
            for p, value in zip(neuron.w, w):
                p.data = value
            neuron.b.data = b


def grads_of(model: Any) -> list[float]:
    """Every parameter's gradient in micrograd's order (per neuron: w..., b)."""
    return [float(p.grad) for layer in model.layers for n in layer.neurons for p in (*n.w, n.b)]


class LocalNeuron:
    """micrograd's Neuron on any Value class; `fused` uses axongrad's one-node weighted_sum."""

    def __init__(self, value_cls: Any, w: list[float], b: float, nonlin: bool, fused: bool) -> None:
        """A neuron with the given weights and bias."""
        self.w = [value_cls(x) for x in w]
        self.b = value_cls(b)
        self.nonlin = nonlin
        self.fused = fused

    def __call__(self, x: Sequence[Any]) -> Any:
        """relu(w . x + b), or the linear sum for the output neuron."""
        if self.fused:
            act = weighted_sum(self.w, x, self.b)
        else:
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # micrograd's line
        return act.relu() if self.nonlin else act


class LocalLayer:
    """micrograd's Layer."""

    def __init__(self, neurons: list[LocalNeuron]) -> None:
        """A layer of the given neurons."""
        self.neurons = neurons

    def __call__(self, x: Sequence[Any]) -> Any:
        """Every neuron on x; one Value when the layer has one neuron."""
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out


class LocalMLP:
    """micrograd's MLP (ReLU hidden layers, linear output) built from given weights."""

    def __init__(self, value_cls: Any, weights: Weights, fused: bool = False) -> None:
        """An MLP holding `weights`; `fused` makes each neuron one weighted_sum node."""
        last = len(weights) - 1
        self.layers = [
            LocalLayer([LocalNeuron(value_cls, w, b, i != last, fused) for w, b in layer])
            for i, layer in enumerate(weights)
        ]

    def __call__(self, x: Sequence[Any]) -> Any:
        """The network's output on x."""
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Any]:
        """Weights and biases, micrograd's order."""
        return [p for layer in self.layers for n in layer.neurons for p in (*n.w, n.b)]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.parameters():
            p.grad = 0.0


def nn_mlp(weights: Weights) -> Any | None:
    """nn.MLP(2, [16, 16, 1]) holding `weights`, or None while nn is missing or not working."""
    try:
        from nn import MLP

        model = MLP(SIZES[0], list(SIZES[1:]))
        load_weights(model, weights)
        return model
    except Exception:  # nn is being written in parallel: any failure means "use the local model"
        return None


# ====================================================================== one training step


def demo_loss(value_cls: Any, model: Any, xs: list[list[float]], ys: list[float]) -> Any:
    """micrograd's demo loss on any Value engine: mean max-margin over the samples + ALPHA * L2."""
    inputs = [list(map(value_cls, row)) for row in xs]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def value_step(value_cls: Any, model: Any, xs: list[list[float]], ys: list[float], lr: float) -> float:
    """micrograd's demo step on any Value engine: max-margin + L2, backward, SGD; returns the loss."""
    total = demo_loss(value_cls, model, xs, ys)
    model.zero_grad()
    total.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return float(total.data)


class PlainMLP:
    """The same network, loss, backward and update written by hand on Python floats."""

    def __init__(self, weights: Weights) -> None:
        """Copy `weights` into per-layer weight rows and biases."""
        self.rows = [[list(w) for w, _ in layer] for layer in weights]
        self.biases = [[b for _, b in layer] for layer in weights]
        self.row_grads: list[list[list[float]]] = [[[0.0] * len(r) for r in layer] for layer in self.rows]
        self.bias_grads: list[list[float]] = [[0.0] * len(layer) for layer in self.biases]

    def step(self, xs: list[list[float]], ys: list[float], lr: float) -> float:
        """Forward, manual backprop (every sample, even at zero loss), L2, SGD; returns the loss."""
        rows, biases = self.rows, self.biases
        last = len(rows) - 1
        row_grads = [[[0.0] * len(r) for r in layer] for layer in rows]
        bias_grads = [[0.0] * len(layer) for layer in biases]
        inv_n = 1.0 / len(xs)
        data_loss = 0.0
        for x, y in zip(xs, ys):
            acts = [x]
            zs = []
            a = x
            for li in range(last + 1):
                z = [sum((wi * ai for wi, ai in zip(row, a)), b) for row, b in zip(rows[li], biases[li])]
                zs.append(z)
                a = z if li == last else [v if v > 0.0 else 0.0 for v in z]
                acts.append(a)
            margin = 1.0 + -y * a[0]
            if margin > 0.0:
                data_loss += margin
                delta = [-y * inv_n]
            else:
                delta = [0.0]
            for li in range(last, -1, -1):
                a_prev = acts[li]
                layer_rows, layer_row_grads, layer_bias_grads = rows[li], row_grads[li], bias_grads[li]
                for j, d in enumerate(delta):
                    layer_bias_grads[j] += d
                    grow = layer_row_grads[j]
                    for i, ai in enumerate(a_prev):
                        grow[i] += d * ai
                if li:
                    z_prev = zs[li - 1]
                    delta = [
                        sum(layer_rows[j][i] * d for j, d in enumerate(delta)) if z_prev[i] > 0.0 else 0.0
                        for i in range(len(a_prev))
                    ]
        reg = 0.0
        for layer_rows, layer_biases, layer_row_grads, layer_bias_grads in zip(
            rows, biases, row_grads, bias_grads
        ):
            for j, (row, grow) in enumerate(zip(layer_rows, layer_row_grads)):
                for i, w in enumerate(row):
                    reg += w * w
                    grow[i] += 2.0 * ALPHA * w
                    row[i] = w - lr * grow[i]
                b = layer_biases[j]
                reg += b * b
                layer_bias_grads[j] += 2.0 * ALPHA * b
                layer_biases[j] = b - lr * layer_bias_grads[j]
        self.row_grads, self.bias_grads = row_grads, bias_grads
        return data_loss * inv_n + ALPHA * reg

    def grads(self) -> list[float]:
        """Gradients of the last step, micrograd's order."""
        return [
            g
            for layer_row_grads, layer_bias_grads in zip(self.row_grads, self.bias_grads)
            for grow, gb in zip(layer_row_grads, layer_bias_grads)
            for g in (*grow, gb)
        ]


# A step that records (phase name, perf_counter()) after each phase into the list it is given.
MarkedStep = Callable[[float, "list[tuple[str, float]] | None"], float]


@dataclass
class Engine:
    """One contender: `step(lr)` runs a training step and returns the loss; `grads()` reads them.

    `marked`, when given, is the same step taking a list to which it appends (phase, time) marks.
    """

    name: str
    step: Callable[[float], float]
    grads: Callable[[], list[float]]
    marked: MarkedStep | None = None


def phase_times(engine: Engine, lr: float) -> dict[str, float]:
    """Seconds of each phase of one step of `engine` (it needs a `marked` step)."""
    if engine.marked is None:
        raise ValueError(f"phase_times: engine {engine.name!r} does not record phases")
    marks: list[tuple[str, float]] = [("", time.perf_counter())]
    engine.marked(lr, marks)
    return {name: t1 - t0 for (_, t0), (name, t1) in itertools.pairwise(marks)}


def _gc_off(step: Callable[[float], float]) -> Callable[[float], float]:
    """`step` with the cycle collector disabled while it runs (re-enabled after)."""

    def run(lr: float) -> float:
        gc.disable()
        try:
            return step(lr)
        finally:
            gc.enable()

    return run


def value_engine(name: str, value_cls: Any, model: Any, xs: list[list[float]], ys: list[float]) -> Engine:
    """An Engine running `value_step` on `model`."""
    return Engine(name, lambda lr: value_step(value_cls, model, xs, ys, lr), lambda: grads_of(model))


TAPE_BACKENDS = {"python": "axongrad tape (pure Python)", "numpy": "axongrad tape (NumPy)"}


def make_tape_engine(
    weights: Weights, xs: list[list[float]], ys: list[float], backend: str = "python"
) -> Engine | None:
    """The step on a compiled tape (issue 6): the graph is built and compiled once, then replayed.

    The graph of one sample's hinge loss relu(1 - y * mlp(x)) is built once from placeholder
    inputs (x0, x1, y) and the parameter Values holding `weights` (each neuron one
    `weighted_sum` node), and compiled with `autograd.compile(root, [x0, x1, y], params,
    backend)`. Each step runs the tape over the batch's columns and takes the gradient of the
    mean (seeds 1/B), adds the L2 term's value and gradient 2 * ALPHA * p, and applies SGD. On
    the NumPy back end this is done on arrays (`tape.gradient`, `tape.parameter_data`, then
    `tape.set_parameters` writes every Value's new .data and .grad); on the pure-Python one by
    zeroing the grads, `tape.backward` and a loop over the parameters. Returns None (no row) when
    `autograd.compile` is missing or the back end cannot be used (numpy not installed).
    """
    if not hasattr(autograd, "compile"):
        return None
    layers = [[([Value(w) for w in row], Value(b)) for row, b in layer] for layer in weights]
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    inputs = [Value(0.0, label=f"x{i}") for i in range(len(xs[0]))]
    y = Value(1.0, label="y")
    a: list[Value] = inputs
    last = len(layers) - 1
    for k, layer in enumerate(layers):
        z = [weighted_sum(ws, a, b) for ws, b in layer]
        a = z if k == last else [v.relu() for v in z]
    root = (1 + -y * a[0]).relu()
    columns: list[Any] = [[row[i] for row in xs] for i in range(len(xs[0]))] + [list(ys)]
    try:
        tape = autograd.compile(root, [*inputs, y], params, backend=backend)
        if backend == "numpy":
            import numpy as np

            columns = [np.asarray(column, dtype=np.float64) for column in columns]
    except ImportError:
        return None
    mean = [1.0 / len(xs)] * len(xs)
    l2 = 2.0 * ALPHA
    clock = time.perf_counter

    def marked(lr: float, marks: list[tuple[str, float]] | None) -> float:
        if backend == "numpy":
            data_loss = float(tape.run(columns).sum()) / len(xs)
            if marks is not None:
                marks.append(("tape.run + loss sum", clock()))
            # The step on arrays: the gradient comes back as an array (no .grad touched), L2 and
            # SGD are two NumPy expressions, and one pass writes every Value's new .data and .grad.
            grad = tape.gradient(mean)
            if marks is not None:
                marks.append(("tape.gradient", clock()))
            w = tape.parameter_data()
            grad += l2 * w
            reg = float(w @ w)
            if marks is not None:
                marks.append(("L2 + SGD (arrays)", clock()))
            tape.set_parameters(w - lr * grad, grad)
            if marks is not None:
                marks.append(("set_parameters (Python loop)", clock()))
            return data_loss + ALPHA * reg
        for p in params:
            p.grad = 0.0
        if marks is not None:
            marks.append(("zero grads (Python loop)", clock()))
        data_loss = float(sum(tape.run(columns))) / len(xs)
        if marks is not None:
            marks.append(("tape.run + loss sum", clock()))
        tape.backward(mean)
        if marks is not None:
            marks.append(("tape.backward", clock()))
        reg = 0.0
        for p in params:
            w = p.data
            reg += w * w
            p.grad += l2 * w
            p.data = w - lr * p.grad
        if marks is not None:
            marks.append(("L2 + SGD (Python loop)", clock()))
        return data_loss + ALPHA * reg

    return Engine(
        TAPE_BACKENDS[backend], lambda lr: marked(lr, None), lambda: [p.grad for p in params], marked
    )


def make_torch_engine(
    weights: Weights, xs: list[list[float]], ys: list[float], threads: int = 1
) -> Engine | None:
    """The step in batched PyTorch float64: nn.Linear/ReLU layers holding `weights`, whole batch at once.

    Same loss (hinge mean + ALPHA * sum of squared parameters), `loss.backward()`, SGD under
    `no_grad`. Every step runs with `torch.set_num_threads(threads)` and restores the previous
    count after (a fraction of a microsecond each), so rows with different thread counts can be
    interleaved and the process's setting is left alone.
    Returns None when torch is not installed (the `torch` extra).
    """
    try:
        import torch
    except ImportError:
        return None
    layers: list[Any] = []
    for k, layer in enumerate(weights):
        linear = torch.nn.Linear(len(layer[0][0]), len(layer), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([w for w, _ in layer], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([b for _, b in layer], dtype=torch.float64))
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    params: list[Any] = list(model.parameters())  # Any: their .grad is set after backward
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys, dtype=torch.float64)

    clock = time.perf_counter

    def marked(lr: float, marks: list[tuple[str, float]] | None) -> float:
        previous = torch.get_num_threads()
        if previous != threads:
            torch.set_num_threads(threads)
        try:
            model.zero_grad(set_to_none=True)
            if marks is not None:
                marks.append(("zero_grad", clock()))
            scores = model(x).squeeze(1)
            if marks is not None:
                marks.append(("forward (Linear, ReLU)", clock()))
            loss: Any = torch.relu(1.0 - y * scores).mean() + ALPHA * sum((p * p).sum() for p in params)
            if marks is not None:
                marks.append(("loss (hinge mean + L2)", clock()))
            loss.backward()
            if marks is not None:
                marks.append(("loss.backward()", clock()))
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
            if marks is not None:
                marks.append(("SGD update (no_grad)", clock()))
            value = float(loss.item())
            if marks is not None:
                marks.append(("loss.item()", clock()))
            return value
        finally:
            if previous != threads:
                torch.set_num_threads(previous)

    def grads() -> list[float]:
        """Every parameter's gradient, micrograd's order."""
        out: list[float] = []
        linears: list[Any] = [m for m in model if isinstance(m, torch.nn.Linear)]
        for linear in linears:  # micrograd's order: per neuron its weights, then its bias
            for row, b in zip(linear.weight.grad.tolist(), linear.bias.grad.tolist()):
                out.extend((*row, b))
        return out

    plural = "" if threads == 1 else "s"
    return Engine(
        f"batched PyTorch float64 (nn.Linear, {threads} thread{plural})",
        lambda lr: marked(lr, None),
        grads,
        marked,
    )


@functools.cache
def torch_default_threads() -> int | None:
    """torch's intra-op thread count before this script first changes it, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    return int(torch.get_num_threads())


def step_engines(weights: Weights, xs: list[list[float]], ys: list[float]) -> tuple[list[Engine], str]:
    """Every step contender from the same weights, micrograd first; and which fused model ran."""
    mg_value, mg_mlp = _micrograd()

    def micrograd_model() -> Any:
        state = random.getstate()
        model = mg_mlp(SIZES[0], list(SIZES[1:]))
        random.setstate(state)
        load_weights(model, weights)
        return model

    mg_on, mg_off = micrograd_model(), micrograd_model()
    plain = PlainMLP(weights)
    engines = [
        value_engine("micrograd 0.1.0 (gc on)", mg_value, mg_on, xs, ys),
        Engine(
            "micrograd 0.1.0 (gc off)",
            _gc_off(lambda lr: value_step(mg_value, mg_off, xs, ys, lr)),
            lambda: grads_of(mg_off),
        ),
        value_engine("axongrad, micrograd-style code", Value, LocalMLP(Value, weights), xs, ys),
    ]
    variant = "local weighted_sum MLP (nn.MLP not importable)"
    model = nn_mlp(weights)
    if model is not None:
        nn_engine = value_engine("axongrad, nn.MLP (weighted_sum)", Value, model, xs, ys)
        problem = disagreement(reference_result(engines[0]), nn_engine)
        if problem is None:
            engines.append(nn_engine)
            variant = "nn.MLP(2, [16, 16, 1]) from the nn package"
        else:
            variant = f"local weighted_sum MLP (nn.MLP disagrees with micrograd: {problem})"
    if len(engines) == 3:
        engines.append(
            value_engine("axongrad, weighted_sum neuron", Value, LocalMLP(Value, weights, fused=True), xs, ys)
        )
    engines.append(Engine("plain Python floats", lambda lr: plain.step(xs, ys, lr), plain.grads))
    for backend in TAPE_BACKENDS:
        tape = make_tape_engine(weights, xs, ys, backend)
        if tape is None:
            print(f"  (no row for {TAPE_BACKENDS[backend]}: autograd.compile or its back end is missing)")
        else:
            engines.append(tape)
    default_threads = torch_default_threads()
    if default_threads is None:
        print("  (no batched PyTorch row: torch is not installed; pip install 'axongrad[torch]')")
    else:
        # The first torch row of each round pays ~0.4 ms of cold caches after the Python engines;
        # the default-thread row goes first so the 1-thread row the target uses is the warm one.
        for threads in sorted({1, default_threads}, reverse=True):
            torch_engine = make_torch_engine(weights, xs, ys, threads)
            if torch_engine is not None:
                engines.append(torch_engine)
    return engines, variant


def reference_result(engine: Engine) -> tuple[float, list[float]]:
    """The loss and gradients of one step with lr = 0 (the weights do not move)."""
    return engine.step(0.0), engine.grads()


def disagreement(reference: tuple[float, list[float]], engine: Engine) -> str | None:
    """None when `engine` computes the reference loss and gradients to 1e-9, else what differs."""
    ref_loss, ref_grads = reference
    loss, grads = reference_result(engine)
    if abs(loss - ref_loss) > TOLERANCE * max(1.0, abs(ref_loss)):
        return f"loss {loss!r} != {ref_loss!r}"
    if len(grads) != len(ref_grads):
        return f"{len(grads)} gradients, expected {len(ref_grads)}"
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        if abs(g - r) > TOLERANCE * max(1.0, abs(r)):
            return f"gradient of parameter {i} is {g!r}, expected {r!r}"
    return None


def check_step_engines(engines: list[Engine]) -> float:
    """Abort unless every engine matches the first (micrograd) to 1e-9; returns the loss.

    Runs each engine once with lr = 0, which also serves as the warm-up round.
    """
    reference = reference_result(engines[0])
    for engine in engines[1:]:
        problem = disagreement(reference, engine)
        if problem is not None:
            raise SystemExit(f"{engine.name} disagrees with {engines[0].name}: {problem}")
    gc.collect()
    return reference[0]


# ====================================================================== wide sum and chain


def tree_sum(values: list[Any]) -> Any:
    """Pairwise sum (depth log2 n), so micrograd's recursive topological sort can handle it."""
    while len(values) > 1:
        paired = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]


def wide_sum_values(value_cls: Any, data: list[float]) -> tuple[float, list[float]]:
    """Build n leaves and their pairwise sum (n - 1 '+' nodes), backward; the total and leaf grads."""
    leaves = [value_cls(x) for x in data]
    total = tree_sum(leaves)
    total.backward()
    return float(total.data), [float(v.grad) for v in leaves]


def wide_sum_plain(data: list[float]) -> tuple[float, list[float]]:
    """The same pairwise sum and its backward pass by hand on floats."""
    levels = [data]
    while len(levels[-1]) > 1:
        v = levels[-1]
        paired = [v[i] + v[i + 1] for i in range(0, len(v) - 1, 2)]
        if len(v) % 2:
            paired.append(v[-1])
        levels.append(paired)
    grads = [1.0]
    for level in reversed(levels[:-1]):
        below = [0.0] * len(level)
        for i in range(len(level) // 2):
            below[2 * i] = below[2 * i + 1] = grads[i]
        if len(level) % 2:
            below[-1] = grads[-1]  # the carried odd element
        grads = below
    return levels[-1][0], grads


def chain(value_cls: Any, n: int) -> tuple[float, float]:
    """y = x + c + c + ... (n '+' nodes in a line), backward; returns dy/dx and dy/dc."""
    x = value_cls(0.5)
    c = value_cls(1e-6)
    y = x
    for _ in range(n):
        y = y + c
    y.backward()
    return float(x.grad), float(c.grad)


def micrograd_max_chain(limit: int) -> int:
    """The longest chain micrograd can backward (binary search up to `limit`)."""
    mg_value, _ = _micrograd()
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            chain(mg_value, mid)
            lo = mid
        except RecursionError:
            hi = mid - 1
    return lo


# ====================================================================== timing


class GcMeter:
    """A gc.callbacks hook: every collection's start time, duration, generation and yield."""

    def __init__(self) -> None:
        """A meter with no collections recorded."""
        self.seconds = 0.0
        self.events: list[tuple[float, float, int, int]] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        """Called by the collector at the start and stop of every collection."""
        now = time.perf_counter()
        if phase == "start":
            self._start = now
        else:
            self.seconds += now - self._start
            self.events.append((self._start, now - self._start, info["generation"], info["collected"]))

    def reset(self) -> None:
        """Forget every collection recorded so far."""
        self.seconds = 0.0
        self.events = []


METER = GcMeter()


@contextmanager
def metering() -> Iterator[GcMeter]:
    """METER registered in gc.callbacks for the duration (nested uses register it once)."""
    added = METER not in gc.callbacks
    if added:
        gc.callbacks.append(METER)
    try:
        yield METER
    finally:
        if added:
            gc.callbacks.remove(METER)


@dataclass
class Sample:
    """One timed call: wall time, collector time and runs inside it, and reclaiming its garbage."""

    seconds: float
    gc_seconds: float
    gc_runs: tuple[int, int, int]
    cleanup_seconds: float
    garbage: int


@dataclass
class Row:
    """All samples of one contender; `charge_cleanup` adds reclaiming its garbage to its time."""

    name: str
    charge_cleanup: bool = True
    samples: list[Sample] = field(default_factory=list)

    def totals(self) -> list[float]:
        """Seconds per sample: the call, plus collecting the garbage it left when charged."""
        return [s.seconds + (s.cleanup_seconds if self.charge_cleanup else 0.0) for s in self.samples]

    @property
    def median(self) -> float:
        """Median total time, seconds."""
        return statistics.median(self.totals())

    @property
    def best(self) -> float:
        """Minimum total time, seconds."""
        return min(self.totals())


def measure(fn: Callable[[], object]) -> Sample:
    """Time fn() (a graph it builds is freed inside, when fn returns), then collect its garbage.

    The collection after the call is timed separately, minus a second collection's time (the
    cost of scanning the rest of the process): what reclaiming the call's cyclic garbage costs.
    micrograd's graphs are reference cycles, which users' later steps pay for in automatic
    collections (consecutive micrograd steps take about step + this); axongrad's graphs are freed
    by reference counting inside the call. Nothing between the call and the collection allocates
    an object the collector tracks, so no automatic collection can run in between.
    """
    with metering():
        METER.reset()
        start = time.perf_counter()
        fn()
        end = time.perf_counter()
        gc.collect()
        done = time.perf_counter()
        gc.collect()
        baseline = time.perf_counter() - done
    # A collection can start right after the call (the first tracked allocation once a gc-off
    # call re-enables the collector): split collections by start time, not by where we read.
    inside = [e for e in METER.events if e[0] < end]
    after = [e for e in METER.events if e[0] >= end]
    runs = [sum(1 for e in inside if e[2] == generation) for generation in range(3)]
    return Sample(
        seconds=end - start,
        gc_seconds=sum(e[1] for e in inside),
        gc_runs=(runs[0], runs[1], runs[2]),
        cleanup_seconds=max(0.0, done - end - baseline),
        garbage=sum(e[3] for e in after),
    )


def interleaved(contenders: Sequence[tuple[str, bool, Callable[[], object]]], repeat: int) -> list[Row]:
    """Run every contender `repeat` times in turn (A, B, C, A, B, C, ...).

    Each contender is (name, charge_cleanup, fn); callers run each once beforehand (their
    correctness check), which is the warm-up.
    """
    rows = [Row(name, charge) for name, charge, _ in contenders]
    gc.collect()
    for _ in range(repeat):
        for row, (_, _, fn) in zip(rows, contenders):
            row.samples.append(measure(fn))
    return rows


def print_rows(rows: list[Row]) -> None:
    """The compact timing table."""
    width = max(34, *(len(row.name) + 2 for row in rows))
    print(
        f"  {'engine':<{width}}{'call ms':>9}{'in gc':>8}{'gc runs':>13}{'+reclaim':>9}{'objects':>10}"
        f"{'total ms':>10}{'min':>9}"
    )
    for row in rows:
        samples = row.samples
        runs = "/".join(f"{statistics.median(s.gc_runs[g] for s in samples):g}" for g in range(3))
        reclaim = statistics.median(s.cleanup_seconds for s in samples) * 1e3
        print(
            f"  {row.name:<{width}}{statistics.median(s.seconds for s in samples) * 1e3:>9.2f}"
            f"{statistics.median(s.gc_seconds for s in samples) * 1e3:>8.2f}{runs:>13}"
            f"{(f'{reclaim:.2f}' if row.charge_cleanup else f'({reclaim:.0f})'):>9}"
            f"{statistics.median(s.garbage for s in samples):>10,.0f}"
            f"{row.median * 1e3:>10.2f}{row.best * 1e3:>9.2f}"
        )


LEGEND = (
    "  call = the timed call (build, backward, update, and freeing by refcount); in gc = cycle-collector\n"
    "  time inside it, gc runs = its collections per generation 0/1/2; +reclaim = gc.collect() of the\n"
    "  garbage it left (net of an empty collect), objects = how many; total = call + reclaim, except\n"
    "  'gc off' rows, which by definition never pay the collector (their reclaim is in parentheses)"
)


def ratio_line(
    label: str, numerator: Row, denominator: Row, target: float | None = None, at_most: bool = False
) -> str:
    """'label: 12.3x (of minima 12.1x)   target >= 10x: met', from two rows' medians (and minima).

    The target is a floor (ratio >= target), or a ceiling (ratio <= target) when `at_most`.
    """
    ratio = numerator.median / denominator.median
    text = f"  {label:<50}{ratio:>8.2f}x  (of minima {numerator.best / denominator.best:.2f}x)"
    if target is not None:
        met = ratio <= target if at_most else ratio >= target
        text += f"   target {'<=' if at_most else '>='} {target:g}x: {'met' if met else 'MISSED'}"
    return text


# ====================================================================== memory


def traced_bytes(build: Callable[[], object]) -> int:
    """Bytes (tracemalloc) still held after build() while its result is alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()  # drop cycles made while building (micrograd's recursive build_topo)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    gc.collect()
    return after - before


def tracked_objects(build: Callable[[], object]) -> int:
    """Growth of the objects the cycle collector tracks while build()'s result is alive."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        kept = build()
        after = len(gc.get_objects())
    finally:
        if enabled:
            gc.enable()
    del kept
    gc.collect()
    return after - before


def build_chain(value_cls: Any, n: int) -> Callable[[], object]:
    """A builder of an n-node '+' chain, n + 2 nodes with its two leaves (no backward: micrograd can't)."""

    def build() -> object:
        x, c = value_cls(0.5), value_cls(1e-6)
        y = x
        for _ in range(n):
            y = y + c
        return y

    return build


def count_nodes(root: Any) -> int:
    """Nodes reachable from root through `.parents` (axongrad) or `._prev` (micrograd)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for p in node.parents if isinstance(node, Value) else node._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def step_graph(value_cls: Any, model: Any, xs: list[list[float]], ys: list[float]) -> Any:
    """The step's loss graph, built and back-propagated (what a step holds before it frees it)."""
    total = demo_loss(value_cls, model, xs, ys)
    total.backward()
    return total


# ====================================================================== where the time goes


def phased_step(model: Any, xs: list[list[float]], ys: list[float], lr: float, out: dict[str, float]) -> None:
    """`value_step` on axongrad with a timer (and collector time) around each phase."""
    clock = time.perf_counter
    marks: list[tuple[str, float, float]] = [("", clock(), METER.seconds)]

    def mark(name: str) -> None:
        marks.append((name, clock(), METER.seconds))

    total = demo_loss(Value, model, xs, ys)
    mark("forward (build graph)")
    model.zero_grad()
    mark("zero_grad")
    order = topological_order(total)
    mark("topological order")
    total.grad = 1.0  # a fresh graph: interior grads are 0, so this is all backward() resets
    accumulate(reversed(order))
    mark("chain-rule loop")
    for p in model.parameters():
        p.data -= lr * p.grad
    mark("SGD update")
    del order, total
    mark("freeing the graph")
    for (_, t0, g0), (name, t1, g1) in itertools.pairwise(marks):
        out[name] = out.get(name, 0.0) + (t1 - t0)
        out[name + " [gc]"] = out.get(name + " [gc]", 0.0) + (g1 - g0)


def print_breakdown(label: str, model: Any, xs: list[list[float]], ys: list[float], rounds: int) -> None:
    """Mean per-phase times of axongrad's step, with the collector on (as users run) and off."""
    print(f"  {label}")
    print(f"    {'phase':<24}{'gc on ms':>10}{'(in gc)':>9}{'gc off ms':>11}")
    results = []
    for enabled in (True, False):
        totals: dict[str, float] = {}
        for _ in range(rounds):
            gc.collect()
            METER.reset()
            if not enabled:
                gc.disable()
            try:
                with metering():
                    phased_step(model, xs, ys, 0.0, totals)
            finally:
                gc.enable()
        results.append({k: v / rounds for k, v in totals.items()})
    on, off = results
    for name in [k for k in on if not k.endswith("[gc]")]:
        in_gc = on[name + " [gc]"]
        print(f"    {name:<24}{on[name] * 1e3:>10.2f}{in_gc * 1e3:>9.2f}{off[name] * 1e3:>11.2f}")
    total_on = sum(v for k, v in on.items() if not k.endswith("[gc]"))
    total_off = sum(v for k, v in off.items() if not k.endswith("[gc]"))
    gc_on = sum(v for k, v in on.items() if k.endswith("[gc]"))
    print(f"    {'total':<24}{total_on * 1e3:>10.2f}{gc_on * 1e3:>9.2f}{total_off * 1e3:>11.2f}")


# ====================================================================== issue 12: sweep, digits


def random_weights(sizes: Sequence[int], seed: int = SEED) -> Weights:
    """Weights uniform in +-1/sqrt(fan-in), biases 0, for any sizes (no micrograd needed)."""
    rng = random.Random(seed)
    weights: Weights = []
    for nin, nout in itertools.pairwise(sizes):
        scale = 1.0 / math.sqrt(nin)
        weights.append([([rng.uniform(-scale, scale) for _ in range(nin)], 0.0) for _ in range(nout)])
    return weights


@contextmanager
def blas_threads(limit: int) -> Iterator[str]:
    """NumPy's BLAS limited to `limit` threads (threadpoolctl) while inside; says what happened."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield "NumPy's BLAS threads unchanged (threadpoolctl not installed)"
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield f"NumPy's BLAS limited to {limit} thread{'s' if limit != 1 else ''} (threadpoolctl)"


def median_step_seconds(step: Callable[[float], float], budget: float, at_least: int = 1) -> float:
    """Median seconds of step(LR) over about `budget` seconds of calls (at least `at_least` calls)."""
    times: list[float] = []
    spent = 0.0
    while len(times) < at_least or spent < budget:
        start = time.perf_counter()
        step(LR)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


@dataclass
class SweepRow:
    """One case of the sweep: MLP 2-W-W-1 over B samples, seconds per step of each engine."""

    width: int
    batch: int
    tape: float
    torch: float
    tape_phases: dict[str, float]

    @property
    def ratio(self) -> float:
        """NumPy tape / PyTorch (below 1: the tape is faster)."""
        return self.tape / self.torch


def sweep(
    widths: Sequence[int] = SWEEP_WIDTHS, batches: Sequence[int] = SWEEP_BATCHES, budget: float = SWEEP_BUDGET
) -> list[SweepRow]:
    """NumPy tape vs batched PyTorch float64 (1 thread) on MLP 2-W-W-1 for every width and batch.

    Each case checks that both engines compute the same loss and gradients (1e-9, else SystemExit),
    then times the two alternately (tape, torch, tape, ...) for about `budget` seconds each.
    Returns [] when numpy, torch or `autograd.compile` is missing.
    """
    rows: list[SweepRow] = []
    for width in widths:
        weights = random_weights((2, width, width, 1), seed=SEED + width)
        for batch in batches:
            xs, ys = make_moons(batch, seed=SEED + batch)
            tape = make_tape_engine(weights, xs, ys, "numpy")
            torch_engine = make_torch_engine(weights, xs, ys, threads=1)
            if tape is None or torch_engine is None:
                return []
            problem = disagreement(reference_result(tape), torch_engine)
            if problem is not None:
                raise SystemExit(
                    f"sweep 2-{width}-{width}-1, {batch} samples: PyTorch and the tape differ: {problem}"
                )
            tape_times: list[float] = []
            torch_times: list[float] = []
            for _ in range(2):  # two alternating halves, so a slow phase of the machine hits both
                tape_times.append(median_step_seconds(tape.step, budget / 2))
                torch_times.append(median_step_seconds(torch_engine.step, budget / 2))
            phases = [phase_times(tape, LR) for _ in range(3 if min(tape_times) < budget / 10 else 1)]
            rows.append(
                SweepRow(
                    width,
                    batch,
                    min(tape_times),
                    min(torch_times),
                    {k: statistics.median(p[k] for p in phases) for k in phases[0]},
                )
            )
            del tape, torch_engine
            gc.collect()
    return rows


def print_sweep(rows: Sequence[SweepRow]) -> None:
    """The sweep as a table: ms per step of each engine, their ratio, and the tape step's phases."""
    print(
        f"  {'MLP':<14}{'samples':>8}{'tape ms':>10}{'torch ms':>10}{'tape/torch':>11}"
        f"{'  tape phases: run':>19}{'backward':>10}{'py loops':>10}"
    )
    for r in rows:
        loops = sum(v for k, v in r.tape_phases.items() if "Python loop" in k)
        total = max(sum(r.tape_phases.values()), 1e-12)
        run = r.tape_phases.get("tape.run + loss sum", 0.0)
        back = r.tape_phases.get("tape.backward", r.tape_phases.get("tape.gradient", 0.0))
        winner = "tape" if r.ratio < 1.0 else "torch"
        print(
            f"  {f'2-{r.width}-{r.width}-1':<14}{r.batch:>8,}{r.tape * 1e3:>10.3f}{r.torch * 1e3:>10.3f}"
            f"{r.ratio:>10.2f}x{run / total:>19.0%}{back / total:>10.0%}{loops / total:>10.0%}  {winner}"
        )
    print(
        "  tape/torch < 1: the NumPy tape is faster. Tape phases (one step, shares of it): tape.run (+ the\n"
        "  loss sum), tape.gradient (the batch gradient as an array), and the step's own Python loop over\n"
        "  the parameters (set_parameters writing .data and .grad); the last grows with W^2"
    )


def print_torch_breakdown(weights: Weights, xs: list[list[float]], ys: list[float], rounds: int) -> None:
    """Where a batched PyTorch step goes at this size: phases by manual timers, then ops by profiler."""
    torch_engine = make_torch_engine(weights, xs, ys, threads=1)
    tape = make_tape_engine(weights, xs, ys, "numpy")
    if torch_engine is None or tape is None:
        print("  (needs torch and numpy)")
        return
    for engine in (torch_engine, tape):
        engine.step(0.0)  # warm-up
        samples = [phase_times(engine, 0.0) for _ in range(rounds)]
        total = sum(statistics.median(s[k] for s in samples) for k in samples[0])
        print(f"  {engine.name}: median phase times of {rounds} steps (sum {total * 1e6:,.0f} us)")
        for name in samples[0]:
            t = statistics.median(s[name] for s in samples)
            print(f"    {name:<28}{t * 1e6:>9,.0f} us{t / total:>6.0%}")
    import torch
    from torch.profiler import ProfilerActivity, profile

    steps = max(5, rounds)
    previous = torch.get_num_threads()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            torch_engine.step(0.0)
    torch.set_num_threads(previous)
    events = prof.key_averages()
    aten = [e for e in events if e.key.startswith("aten::")]
    autograd_nodes = [e for e in events if e.key.startswith("autograd::engine::evaluate_function")]
    calls = sum(e.count for e in aten) / steps
    self_us = sum(e.self_cpu_time_total for e in aten) / steps
    nodes = sum(e.count for e in autograd_nodes) / steps
    print(
        f"  torch.profiler over {steps} steps (its own overhead inflates times): {calls:.0f} aten op calls "
        f"per step (nested calls counted), {self_us:,.0f} us self CPU in them; {nodes:.0f} autograd "
        "nodes run by backward"
    )
    print("    top aten ops by self CPU per step:")
    for e in sorted(aten, key=lambda e: e.self_cpu_time_total, reverse=True)[:6]:
        print(
            f"    {e.key:<28}{e.count / steps:>5.0f} calls{e.self_cpu_time_total / steps:>9,.0f} us "
            f"({e.self_cpu_time_total / max(e.count, 1):,.1f} us per call)"
        )


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to `count` while inside (nothing without torch)."""
    try:
        import torch
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def head_to_head(first: Engine, second: Engine, rounds: int, block: float = 0.05) -> tuple[float, float]:
    """Seconds per step of two engines: the median over `rounds` of each one's median over ~`block` s.

    The engines alternate in blocks of steps (A for `block` s, then B, then A, ...), timed with
    perf_counter only (no gc.collect between calls, unlike section 1's rows), so a step's time is
    not mixed with the collector's or another row's thread pool.
    """
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(median_step_seconds(first.step, block))
        b.append(median_step_seconds(second.step, block))
    return statistics.median(a), statistics.median(b)


def section_head_to_head(rounds: int) -> tuple[float, float] | None:
    """Section 1b: NumPy tape vs batched PyTorch float64 (1 thread), both alone on the step."""
    xs, ys = make_moons()
    weights = initial_weights()
    tape = make_tape_engine(weights, xs, ys, "numpy")
    torch_engine = make_torch_engine(weights, xs, ys, threads=1)
    if tape is None or torch_engine is None:
        return None
    print(
        f"\n1b. Head to head, the same step: NumPy tape vs batched PyTorch float64 with torch held at 1 "
        f"thread\n  ({rounds} rounds of ~50 ms of steps each, alternating; medians; NumPy's BLAS as "
        "installed)"
    )
    with torch_threads(1):
        tape.step(0.0)
        torch_engine.step(0.0)
        tape_s, torch_s = head_to_head(tape, torch_engine, rounds)
    print(f"  {tape.name:<48}{tape_s * 1e6:>9,.0f} us per step")
    print(f"  {torch_engine.name:<48}{torch_s * 1e6:>9,.0f} us per step")
    print(f"  NumPy tape / PyTorch (1 thread): {tape_s / torch_s:.2f}x")
    return tape_s, torch_s


def run_digits(timeout: float = 300.0) -> tuple[float, float, float] | None:
    """Run `examples/digits.py --engine tape` as a subprocess: (accuracy, whole-process s, s per epoch).

    The wall-clock time covers the whole process (interpreter start, imports, data loading,
    training, evaluation, pictures and the digit pad, written to a temporary folder). Returns
    None (and prints why) when the example fails or its output has no accuracy line.
    """
    import re
    import subprocess
    import tempfile

    script = _ROOT / "examples" / "digits.py"
    with tempfile.TemporaryDirectory(prefix="axongrad-digits-") as folder:
        command = [sys.executable, str(script), "--engine", "tape", "--out", folder]
        start = time.perf_counter()
        try:
            done = subprocess.run(  # noqa: S603 (our own example, our own interpreter)
                command, capture_output=True, text=True, timeout=timeout, cwd=_ROOT, check=False
            )
        except subprocess.TimeoutExpired:
            print(f"  examples/digits.py --engine tape took more than {timeout:g} s; no figure")
            return None
        seconds = time.perf_counter() - start
    accuracy = re.search(r"^test accuracy: ([0-9.]+)\s*$", done.stdout, re.MULTILINE)
    per_epoch = re.search(r"([0-9.]+) s per epoch", done.stdout)
    if done.returncode != 0 or accuracy is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        print(f"  examples/digits.py --engine tape failed (exit {done.returncode}): {' | '.join(tail)}")
        return None
    return float(accuracy.group(1)), seconds, float(per_epoch.group(1)) if per_epoch else math.nan


def target_line(label: str, value: float, target: float, at_most: bool, unit: str = "x") -> str:
    """'label   value   target <= t: met' for one of issue 12's figures."""
    met = value <= target if at_most else value >= target
    shown = f"{value:.2f}{unit}" if unit == "x" else f"{value:.3f}" if unit == "" else f"{value:.2f} {unit}"
    goal = f"{target:g}{unit}" if unit in ("x", "") else f"{target:g} {unit}"
    verdict = "met" if met else "MISSED"
    return f"  {label:<58}{shown:>10}   target {'<=' if at_most else '>='} {goal}: {verdict}"


def print_issue12_targets(
    rows: Sequence[Row],
    digits: tuple[float, float, float] | None,
    versus_torch: tuple[float, float] | None = None,
) -> None:
    """Issue 12's table: each measured ratio (medians of section 1, or 1b's) beside its target."""
    by_name = {r.name: r for r in rows}
    mg_off = by_name.get("micrograd 0.1.0 (gc off)")
    pairs: list[tuple[str, str, str, float, bool]] = [
        ("NumPy tape / batched PyTorch float64, 1 thread (section 1)", TAPE_BACKENDS["numpy"],
         "batched PyTorch float64 (nn.Linear, 1 thread)", TARGET12_NUMPY_TAPE_VS_TORCH, True),
        ("pure-Python tape / plain floats (keep ~0.6x)", TAPE_BACKENDS["python"], "plain Python floats",
         TARGET12_TAPE_VS_PLAIN, True),
    ]
    print(f"  {'figure (MLP 2-16-16-1, 100 samples; medians)':<58}{'measured':>10}")
    if versus_torch is not None:
        ratio = versus_torch[0] / versus_torch[1]
        label = "NumPy tape / batched PyTorch float64, 1 thread (1b)"
        print(target_line(label, ratio, TARGET12_NUMPY_TAPE_VS_TORCH, True))
        # Section 1's PyTorch rows share the process with a 2-thread row and a gc.collect() after
        # every call; under load their times turn bimodal, so 1b's head-to-head carries the target.
        num, den = by_name.get(pairs[0][1]), by_name.get(pairs[0][2])
        if num is not None and den is not None:
            shown = f"{num.median / den.median:.2f}x"
            print(f"  {'  (section 1 rows, for comparison: no verdict)':<58}{shown:>10}")
        pairs = pairs[1:]
    for label, num, den, target, at_most in pairs:
        if num in by_name and den in by_name:
            print(target_line(label, by_name[num].median / by_name[den].median, target, at_most))
        else:
            print(f"  {label:<58}{'no row':>10}   (engine not available)")
    for label, name, target in (
        ("micrograd (gc off) / axongrad, micrograd-style code", "axongrad, micrograd-style code",
         TARGET12_MICROGRAD_STYLE),
        ("micrograd (gc off) / axongrad, nn.MLP", "axongrad, nn.MLP (weighted_sum)", TARGET12_NN_MLP),
    ):
        if mg_off is not None and name in by_name:
            print(target_line(label, mg_off.median / by_name[name].median, target, False))
        else:
            print(f"  {label:<58}{'no row':>10}")
    if digits is None:
        print(f"  {'examples/digits.py --engine tape':<58}{'not run':>10}")
        return
    accuracy, seconds, per_epoch = digits
    print(target_line("examples/digits.py --engine tape: held-out accuracy", accuracy,
                      TARGET12_DIGITS_ACCURACY, False, unit=""))
    print(target_line(f"  ... whole process (subprocess wall clock; {per_epoch:.2f} s per epoch)", seconds,
                      TARGET12_DIGITS_SECONDS, True, unit="s"))



# ====================================================================== main


def section_step(repeat: int, cprofile: bool) -> tuple[list[Row], str]:
    """Section 1: the training step."""
    xs, ys = make_moons()
    weights = initial_weights()
    engines, variant = step_engines(weights, xs, ys)
    loss = check_step_engines(engines)
    print(
        f"\n1. Training step: MLP {'-'.join(map(str, SIZES))}, {N_SAMPLES} samples, max-margin loss "
        f"+ {ALPHA:g} L2, backward, SGD (lr {LR:g})"
    )
    print(
        f"  all {len(engines)} engines agree with micrograd to {TOLERANCE:g} (loss {loss:.12f}, "
        f"{len(engines[-1].grads())} gradients)"
    )
    print(f"  weighted_sum variant: {variant}")
    if not any(e.name in TAPE_BACKENDS.values() for e in engines):
        print("  compiled tape (issue 6): not available, no row")
    contenders = [(e.name, "gc off" not in e.name, (lambda s=e.step: s(LR))) for e in engines]
    rows = interleaved(contenders, repeat)
    print(f"  medians of {repeat} interleaved rounds; all engines run with gc on unless the row says so")
    print(LEGEND)
    print_rows(rows)
    mg_on, mg_off = rows[0], rows[1]
    plain = next(r for r in rows if r.name.startswith("plain"))
    by_name = {r.name: r for r in rows}
    print("  ratios (medians):")
    for row in rows[2:]:
        if not row.name.startswith("axongrad,"):  # the scalar Value engines
            continue
        print(f"  [{row.name}]")
        print(ratio_line("micrograd (gc on) / axongrad", mg_on, row, TARGET_VS_MICROGRAD))
        print(ratio_line("micrograd (gc off) / axongrad", mg_off, row, TARGET_VS_MICROGRAD_GC_OFF))
        print(ratio_line("axongrad / plain floats", row, plain))
    print(ratio_line("[reference] micrograd (gc on) / plain floats", mg_on, plain))
    print_tape_ratios(by_name, mg_on, mg_off, plain)
    if cprofile:
        for engine in engines[2:4]:
            print(f"\n  cProfile of 5 steps: {engine.name}")
            profiler = cProfile.Profile()
            for _ in range(5):
                profiler.runcall(engine.step, LR)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    return rows, variant


def print_tape_ratios(by_name: dict[str, Row], mg_on: Row, mg_off: Row, plain: Row) -> None:
    """Issue 6's three speed targets for the compiled tape, each with its target, and context."""
    py_tape = by_name.get(TAPE_BACKENDS["python"])
    np_tape = by_name.get(TAPE_BACKENDS["numpy"])
    torch_rows = [r for name, r in by_name.items() if name.startswith("batched PyTorch")]
    torch_1 = next((r for r in torch_rows if r.name.endswith(" 1 thread)")), None)
    print("  [compiled tape: issue 6 targets]")
    if py_tape is not None:
        print(
            ratio_line("pure-Python tape / plain floats", py_tape, plain, TARGET_TAPE_VS_PLAIN, at_most=True)
        )
    if np_tape is not None:
        print(ratio_line("micrograd (gc on) / NumPy tape", mg_on, np_tape, TARGET_MICROGRAD_VS_NUMPY_TAPE))
        if torch_1 is not None:
            print(
                ratio_line(
                    "NumPy tape / batched PyTorch (1 thread)",
                    np_tape,
                    torch_1,
                    TARGET_NUMPY_TAPE_VS_TORCH,
                    at_most=True,
                )
            )
        else:
            print("  NumPy tape / batched PyTorch: no PyTorch row (torch not installed)")
    print("  [compiled tape: context]")
    if py_tape is not None:
        print(ratio_line("micrograd (gc on) / pure-Python tape", mg_on, py_tape))
        print(ratio_line("micrograd (gc off) / pure-Python tape", mg_off, py_tape))
    if np_tape is not None:
        print(ratio_line("micrograd (gc off) / NumPy tape", mg_off, np_tape))
        if py_tape is not None:
            print(ratio_line("pure-Python tape / NumPy tape", py_tape, np_tape))
        print(ratio_line("plain floats / NumPy tape", plain, np_tape))
        for row in torch_rows:
            if row is not torch_1:
                print(ratio_line(f"NumPy tape / PyTorch ({row.name.split(', ')[-1]}", np_tape, row))
    if torch_1 is not None:
        for row in torch_rows:
            if row is not torch_1:
                print(ratio_line(f"PyTorch ({row.name.split(', ')[-1]} / PyTorch (1 thread)", row, torch_1))
        print(ratio_line("plain floats / batched PyTorch (1 thread)", plain, torch_1))


def section_wide(repeat: int) -> None:
    """Section 2: a wide sum."""
    mg_value, _ = _micrograd()
    rng = random.Random(SEED)
    data = [rng.uniform(-1.0, 1.0) for _ in range(WIDE_N)]
    results = {
        "axongrad": wide_sum_values(Value, data),
        "micrograd": wide_sum_values(mg_value, data),
        "plain": wide_sum_plain(data),
    }
    for name, (total, grads) in results.items():
        if abs(total - results["plain"][0]) > TOLERANCE or any(g != 1.0 for g in grads):
            raise SystemExit(f"wide sum: {name} computes a different total or gradient")
    print(
        f"\n2. Wide sum: {WIDE_N:,} leaves summed pairwise ({WIDE_N - 1:,} '+' nodes, depth "
        f"{math.ceil(math.log2(WIDE_N))}), build + backward; all agree (every leaf grad 1)"
    )
    mg_off = _gc_off(lambda _lr: wide_sum_values(mg_value, data)[0])
    rows = interleaved(
        [
            ("micrograd 0.1.0 (gc on)", True, lambda: wide_sum_values(mg_value, data)),
            ("micrograd 0.1.0 (gc off)", False, lambda: mg_off(0.0)),
            ("axongrad", True, lambda: wide_sum_values(Value, data)),
            ("plain Python floats", True, lambda: wide_sum_plain(data)),
        ],
        repeat,
    )
    print(LEGEND)
    print_rows(rows)
    print(ratio_line("micrograd (gc on) / axongrad", rows[0], rows[2]))
    print(ratio_line("micrograd (gc off) / axongrad", rows[1], rows[2]))
    print(ratio_line("axongrad / plain floats", rows[2], rows[3]))


def section_chain(repeat: int) -> None:
    """Section 3: a deep chain."""
    mg_value, _ = _micrograd()
    dx, dc = chain(Value, CHAIN_N)
    if dx != 1.0 or dc != float(CHAIN_N):
        raise SystemExit(f"chain: axongrad gives dy/dx={dx}, dy/dc={dc}, expected 1 and {CHAIN_N}")
    print(f"\n3. Chain: y = x + c + c + ... ({CHAIN_N:,} '+' nodes), build + backward (+ freeing)")
    rows = interleaved([("axongrad", True, lambda: chain(Value, CHAIN_N))], repeat)
    print_rows(rows)
    per_node = rows[0].median / CHAIN_N * 1e9
    print(f"  axongrad: {per_node:.0f} ns per node; dy/dx = 1, dy/dc = {CHAIN_N:,}: correct")
    try:
        chain(mg_value, MICROGRAD_CHAIN_N)
        print(f"  micrograd: a {MICROGRAD_CHAIN_N:,}-node chain worked (unexpected)")
    except RecursionError as error:
        deepest = micrograd_max_chain(MICROGRAD_CHAIN_N)
        print(
            f"  micrograd: a {MICROGRAD_CHAIN_N:,}-node chain fails in backward() with RecursionError "
            f"({error}); its recursive topological sort handles at most {deepest:,} nodes "
            f"(sys.getrecursionlimit() = {sys.getrecursionlimit()})"
        )


def section_memory(memory_n: int = MEMORY_N) -> None:
    """Sections 4 and 5: bytes and collector-tracked objects per node."""
    mg_value, _ = _micrograd()
    xs, ys = make_moons()
    weights = initial_weights()
    print(
        "\n4. Bytes per node (tracemalloc; chains as built, step graphs after backward) and"
        "\n5. objects the cycle collector tracks per node (len(gc.get_objects()) growth, gc off)"
    )
    print(f"  {'graph':<44}{'nodes':>9}{'MB':>7}{'bytes/node':>12}{'gc objs/node':>14}")
    results: dict[str, tuple[float, float]] = {}
    graphs: list[tuple[str, Callable[[], object], int]] = [
        (f"axongrad chain {memory_n:,}", build_chain(Value, memory_n), memory_n + 2),
        (f"micrograd chain {memory_n:,}", build_chain(mg_value, memory_n), memory_n + 2),
    ]
    step_models: list[tuple[str, Any, Any]] = [
        ("axongrad step, micrograd-style code", Value, LocalMLP(Value, weights)),
        ("axongrad step, weighted_sum neuron", Value, LocalMLP(Value, weights, fused=True)),
    ]
    model = nn_mlp(weights)
    if model is not None:
        step_models.append(("axongrad step, nn.MLP", Value, model))
    _, mg_mlp = _micrograd()
    mg_model = mg_mlp(SIZES[0], list(SIZES[1:]))
    load_weights(mg_model, weights)
    step_models.append(("micrograd step", mg_value, mg_model))
    for name, cls, m in step_models:
        nodes = count_nodes(step_graph(cls, m, xs, ys))
        graphs.append((name, functools.partial(step_graph, cls, m, xs, ys), nodes))
    for name, build, nodes in graphs:
        total_bytes = traced_bytes(build)
        per_node = total_bytes / nodes
        objs = tracked_objects(build) / nodes
        results[name] = (per_node, objs)
        print(f"  {name:<44}{nodes:>9,}{total_bytes / 1e6:>7.1f}{per_node:>12.1f}{objs:>14.2f}")
    ax, mg = results[f"axongrad chain {memory_n:,}"], results[f"micrograd chain {memory_n:,}"]
    ratio = ax[0] / mg[0]
    print(
        f"  chain bytes per node axongrad / micrograd: {ratio:.3f} (target <= {TARGET_BYTES_RATIO:.3f}: "
        f"{'met' if ratio <= TARGET_BYTES_RATIO else 'MISSED'}); "
        f"gc-tracked objects per node {ax[1]:.2f} vs {mg[1]:.2f}"
    )
    ax_step = [v for k, v in results.items() if k.startswith("axongrad step")]
    mg_step = results["micrograd step"]
    for (name, _, _), (b, _) in zip(step_models, ax_step):
        print(f"  {name} bytes per node / micrograd step's: {b / mg_step[0]:.3f}")


def section_sweep(
    widths: Sequence[int] = SWEEP_WIDTHS, batches: Sequence[int] = SWEEP_BATCHES, budget: float = SWEEP_BUDGET
) -> list[SweepRow]:
    """Section 8 (--sweep): where PyTorch's time goes at 2-16-16-1 x 100, then the batch/width table."""
    print("\n8. Sweep: NumPy tape vs batched PyTorch float64 (1 thread), MLP 2-W-W-1, same loss and step")
    print(f"  where the time goes at the small size (MLP {'-'.join(map(str, SIZES))}, {N_SAMPLES} samples):")
    xs, ys = make_moons()
    with blas_threads(1) as blas:
        print_torch_breakdown(random_weights(SIZES), xs, ys, 31)
        print(f"  every case checked first (loss and gradients agree to {TOLERANCE:g}); {blas};")
        print(f"  seconds per step: the lower median of two alternating halves of ~{budget:g} s each")
        started = time.perf_counter()
        rows = sweep(widths, batches, budget)
    if not rows:
        print("  (no sweep: needs numpy, torch and autograd.compile)")
        return rows
    print_sweep(rows)
    print(f"  (sweep took {time.perf_counter() - started:.0f} s)")
    return rows


def freeze_startup_heap() -> int:
    """Import the optional libraries the rows use, then `gc.freeze()` everything alive; the count.

    Importing torch adds about 150,000 objects the cycle collector tracks; every full collection
    would scan them, which roughly doubles micrograd's (gc on) step and makes the reclaim
    measurement (two gc.collect() calls subtracted) noisy by milliseconds. Frozen objects are
    skipped by every collection, as if the process had imported only what micrograd needs.
    """
    for name in ("numpy", "torch"):
        try:
            __import__(name)
        except ImportError:
            pass
    torch_default_threads()  # read torch's default before any row changes it
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def main(argv: Iterable[str] | None = None) -> None:
    """Parse the options and run every section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions of the step (default 15)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 20 s)")
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile of the axongrad steps")
    parser.add_argument(
        "--sweep", action="store_true",
        help="also sweep batch (1..10,000) and width (4..256): NumPy tape vs PyTorch (a few minutes)",
    )
    parser.add_argument(
        "--no-digits", action="store_true", help="skip running examples/digits.py --engine tape"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    repeat = args.repeat if args.repeat is not None else (3 if args.quick else 15)
    if repeat < 1:
        parser.error(f"--repeat needs a positive number, got {repeat}")
    big_repeat = max(1, repeat // 5)
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}, "
        f"gc enabled: {gc.isenabled()}, thresholds {gc.get_threshold()}, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    frozen = freeze_startup_heap()
    print(
        f"gc.freeze(): the {frozen:,} objects alive after importing numpy and torch are exempt from "
        "collection, so their size does not slow every engine's collections"
    )
    started = time.perf_counter()
    with metering():
        step_rows, _ = section_step(repeat, args.cprofile)
        versus_torch = section_head_to_head(repeat)
        section_wide(max(1, repeat // 3))
        section_chain(big_repeat)
        section_memory(MEMORY_N // 5 if args.quick else MEMORY_N)
        print(
            "\n6. Where axongrad's step goes (mean of "
            f"{max(3, repeat // 3)} steps; manual timers; 'in gc' = cycle collector time inside the phase)"
        )
        xs, ys = make_moons()
        weights = initial_weights()
        print_breakdown("micrograd-style code", LocalMLP(Value, weights), xs, ys, max(3, repeat // 3))
        fused = nn_mlp(weights) or LocalMLP(Value, weights, fused=True)
        print_breakdown(
            f"weighted_sum neuron ({type(fused).__module__}.{type(fused).__name__})",
            fused,
            xs,
            ys,
            max(3, repeat // 3),
        )
    digits = None
    if not args.no_digits:
        print("\n7. examples/digits.py --engine tape, run as a subprocess (whole process, wall clock)")
        digits = run_digits()
        if digits is not None:
            print(f"  test accuracy {digits[0]:.4f} in {digits[1]:.2f} s ({digits[2]:.2f} s per epoch)")
    print("\nIssue 12's targets (section 1's medians, 1b's head to head, section 7's run):")
    print_issue12_targets(step_rows, digits, versus_torch)
    if args.sweep:
        section_sweep()
    print(f"\n(total run {time.perf_counter() - started:.0f} s; gc enabled at exit: {gc.isenabled()}; "
          f"load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
