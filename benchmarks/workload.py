"""The workload every benchmark measures: the moons data, the weights, each engine's training step.

micrograd's demo (MLP 2-16-16-1 over 100 moons samples, max-margin loss + 1e-4 L2, SGD) written
for every engine: micrograd 0.1.0, axongrad in micrograd's style and with `weighted_sum`, nn.MLP,
plain floats, both tapes and batched PyTorch; `step_engines` builds them and checks they agree.
"""

from __future__ import annotations

import functools
import gc
import itertools
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script from anywhere: make the repository's packages and these modules importable.
_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)


import autograd  # noqa: E402
from autograd import Value, weighted_sum  # noqa: E402

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
TORCH_TAPE = "axongrad tape (PyTorch back end)"  # the sweep's extra column (not in section 1's rows)


def make_tape_engine(
    weights: Weights, xs: list[list[float]], ys: list[float], backend: str = "python"
) -> Engine | None:
    """The step on a compiled tape (issue 6): the graph is built and compiled once, then replayed.

    The graph of one sample's hinge loss relu(1 - y * mlp(x)) is built once from placeholder
    inputs (x0, x1, y) and the parameter Values holding `weights` (each neuron one
    `weighted_sum` node), and compiled with `autograd.compile(root, [x0, x1, y], params,
    backend)`. Each step runs the tape over the batch's columns and takes the gradient of the
    mean (seeds 1/B), adds the L2 term's value and gradient 2 * ALPHA * p, and applies SGD. On
    the NumPy and PyTorch back ends this is done on arrays, the seeds too (`tape.gradient`,
    `tape.parameter_data`, then `tape.set_parameters` writes every Value's new .data and .grad);
    on the pure-Python one by
    zeroing the grads, `tape.backward` and a loop over the parameters. Returns None (no row) when
    `autograd.compile` is missing or the back end cannot be used (numpy or torch not installed).
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
        if backend in ("numpy", "torch"):
            import numpy as np

            columns = [np.asarray(column, dtype=np.float64) for column in columns]
        if backend == "torch":
            import torch

            columns = [torch.from_numpy(column) for column in columns]
    except ImportError:
        return None
    mean: Any = [1.0 / len(xs)] * len(xs)
    if backend in ("numpy", "torch"):  # the array step seeds with an array too: one C-level check
        import numpy as np

        mean = np.full(len(xs), 1.0 / len(xs))
    l2 = 2.0 * ALPHA
    clock = time.perf_counter

    def marked(lr: float, marks: list[tuple[str, float]] | None) -> float:
        if backend in ("numpy", "torch"):
            data_loss = float(tape.run(columns).sum()) / len(xs)
            if marks is not None:
                marks.append(("tape.run + loss sum", clock()))
            # The step on arrays: the gradient comes back as an array (no .grad touched), L2 and
            # SGD are two NumPy expressions, and one pass writes every Value's new .data and .grad.
            # (The torch back end's gradient is a tensor: read as a NumPy array on the CPU.)
            grad = tape.gradient(mean)
            if backend == "torch":
                grad = grad.cpu().numpy()
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

    name = TORCH_TAPE if backend == "torch" else TAPE_BACKENDS[backend]
    return Engine(name, lambda lr: marked(lr, None), lambda: [p.grad for p in params], marked)


def make_torch_engine(
    weights: Weights, xs: list[list[float]], ys: list[float], threads: int = 1, alpha: float = ALPHA
) -> Engine | None:
    """The step in batched PyTorch float64: nn.Linear/ReLU layers holding `weights`, whole batch at once.

    Same loss (hinge mean + `alpha` * sum of squared parameters; 0 drops the L2 term, as nn.fit's
    hinge has none), `loss.backward()`, SGD under
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
            loss: Any = torch.relu(1.0 - y * scores).mean()
            if alpha:
                loss = loss + alpha * sum((p * p).sum() for p in params)
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


def random_weights(sizes: Sequence[int], seed: int = SEED) -> Weights:
    """Weights uniform in +-1/sqrt(fan-in), biases 0, for any sizes (no micrograd needed)."""
    rng = random.Random(seed)
    weights: Weights = []
    for nin, nout in itertools.pairwise(sizes):
        scale = 1.0 / math.sqrt(nin)
        weights.append([([rng.uniform(-scale, scale) for _ in range(nin)], 0.0) for _ in range(nout)])
    return weights

