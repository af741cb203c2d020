"""The Neuron, Layer and MLP of Karpathy's micrograd lecture: tanh everywhere, w and b uniform(-1, 1).

"The spelled-out intro to neural networks and backpropagation: building micrograd" writes its own
classes, which differ from the micrograd *package* (`micrograd.nn`, which `nn.MLP` follows):

                         lecture (this module)          micrograd package / nn.MLP
    activation           tanh on every neuron           ReLU hidden, linear output layer
    weights              uniform(-1, 1)                 uniform(-1, 1) (nn.MLP: He/Xavier bound)
    bias                 uniform(-1, 1)                 0
    Neuron(nin, ...)     Neuron(nin)                    Neuron(nin, nonlin=True)

So `from nn.lecture import MLP` runs the lecture's cells (`MLP(3, [4, 4, 1])` and its 20-step loop on
four samples) and `from nn import MLP` runs micrograd's demo. Calls and `parameters()` are the
same in both: a Value for one output and a list otherwise; per neuron w0, w1, ..., then b.
The random numbers are drawn in the lecture's order (each neuron's weights, then its bias, neuron by
neuron, layer by layer) from `seed=`/`rng=` or the generator of `nn.seed`, never the global `random`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from autograd import Value, scope
from autograd.checks import integer, needs, sequence
from nn import layers as base
from nn.layers import _pick_rng

ACTIVATION = "tanh"
"""Every lecture neuron's activation, the output layer's too."""

BOUND = 1.0
"""Weights and biases start uniform in (-BOUND, BOUND), as the lecture's `random.uniform(-1, 1)`."""


class Neuron(base.Neuron):
    """The lecture's neuron: tanh(w0*x0 + w1*x1 + ... + b), w and b drawn from uniform(-1, 1)."""

    def __init__(
        self,
        nin: int,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        name: str = "L1.n0",
    ) -> None:
        """nin weights, then the bias, each uniform(-1, 1) (the lecture's order of draws)."""
        # Not super().__init__: it draws He/Xavier weights and a zero bias, and its extra draws
        # would shift the lecture's sequence. Forward, parameters and repr are nn.Neuron's.
        self.nin = integer(nin, "lecture Neuron(nin)", at_least=1)
        if not isinstance(name, str) or not name:
            raise TypeError(needs("lecture Neuron(name)", "a non-empty str", name))
        self.activation = ACTIVATION
        self.nonlin = True
        self.name = name
        generator = _pick_rng(seed, rng)
        with scope(name):  # so diagrams group the parameters with their neuron
            self.w = [Value(generator.uniform(-BOUND, BOUND), label=f"w{i}") for i in range(self.nin)]
            self.b: Value | None = Value(generator.uniform(-BOUND, BOUND), label="b")


class Layer(base.Layer):
    """The lecture's layer: `nout` tanh neurons reading the same `nin` inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        index: int = 0,
    ) -> None:
        """Neurons named L{index+1}.n0, L{index+1}.n1, ..., drawn one after another."""
        nin = integer(nin, "lecture Layer(nin)", at_least=1)
        nout = integer(nout, "lecture Layer(nout)", at_least=1)
        index = integer(index, "lecture Layer(index)", at_least=0)
        generator = _pick_rng(seed, rng)
        self.nin = nin
        self.index = index
        self.neurons: list[base.Neuron] = [
            Neuron(nin, rng=generator, name=f"L{index + 1}.n{j}") for j in range(nout)
        ]


class MLP(base.MLP):
    """The lecture's MLP(nin, nouts): layers of tanh neurons, the output layer included."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Build the layers; sizes are checked before any weight is drawn."""
        nin = integer(nin, "lecture MLP(nin)", at_least=1)
        nouts = sequence(nouts, "lecture MLP(nouts)", "layer sizes")
        sizes = [integer(n, f"lecture MLP(nouts[{i}])", at_least=1) for i, n in enumerate(nouts)]
        generator = _pick_rng(seed, rng)
        ins = [nin, *sizes]
        self.nin = nin
        self.layers: list[base.Layer] = [
            Layer(ins[i], sizes[i], rng=generator, index=i) for i in range(len(sizes))
        ]
