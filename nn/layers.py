"""Neuron, Layer and MLP: the posts' artificial neuron, layers of them, a multilayer perceptron.

Names and call semantics follow micrograd (`MLP.layers`, `Layer.neurons`, `Neuron.w`, `Neuron.b`;
`MLP(2, [16, 16, 1])` is ReLU hidden and linear output; calling a model on a list of floats or
Values returns a Value for one output and a list otherwise), so micrograd tutorials run after
changing the imports.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from autograd import Op, Value, current_scope, scope
from autograd.checks import integer, is_real, needs, sequence
from autograd.weighted import neuron
from nn.activations import activation_function, built_in, check_activation, display_name, init_bound
from nn.module import Module

if TYPE_CHECKING:
    import torch

Input: TypeAlias = "Value | float | int"
Output: TypeAlias = "Value | list[Value]"



class Outputs(list[Value]):
    """A layer's or network's several outputs: a plain list (as micrograd returns) whose Value-only
    uses (`.backward()`, `.data`, `out - y`) say what to do instead of "'list' object has no attribute"."""

    def _hint(self, what: str) -> str:
        """What to do with several outputs where one Value was needed."""
        return (
            f"{what}: the model gave a list of {len(self)} Values, one per output neuron, not one Value; "
            "pick one (out[0]) or make one number of them first, a loss such as "
            "nn.cross_entropy(out, target) or nn.squared_error(out, targets), then call .backward() on it"
        )

    def __getattr__(self, name: str) -> object:
        """Only called for names a list lacks: a Value's (backward, data, grad, relu, ...) get the hint."""
        if not name.startswith("_") and hasattr(Value, name):
            raise AttributeError(self._hint(f"'list' object has no attribute {name!r}"))
        raise AttributeError(f"'list' object has no attribute {name!r}")

    def _no_arithmetic(self, other: object) -> NoReturn:
        """A Value's arithmetic on several outputs: a TypeError with the hint."""
        raise TypeError(self._hint(f"arithmetic on a list with {type(other).__name__}"))

    __sub__ = __rsub__ = __pow__ = __truediv__ = __rtruediv__ = _no_arithmetic

    def __add__(self, other: object) -> list[Any]:
        """out + [more] joins lists as a list does; out + 1.0 or out + a Value gets the hint."""
        if isinstance(other, list):
            return list.__add__(self, other)
        return self._no_arithmetic(other)

    def __radd__(self, other: object) -> list[Any]:
        """[more] + out joins lists; 1.0 + out or a Value + out gets the hint."""
        if isinstance(other, list):
            return other + list(self)
        return self._no_arithmetic(other)

    def __mul__(self, other: object) -> list[Any]:
        """out * 2 repeats the list as a list does; out * 2.0 or out * a Value gets the hint."""
        if isinstance(other, int) and not isinstance(other, bool):
            return list.__mul__(self, other)
        return self._no_arithmetic(other)

    __rmul__ = __mul__

    def __neg__(self) -> object:
        """-out on several outputs: a TypeError with the hint."""
        raise TypeError(self._hint("-list"))


# Used when no seed is given; `nn.seed(n)` reseeds it. Never the global `random` state.
_default_rng = random.Random(0)  # noqa: S311 (initialisation, not cryptography)


def seed(n: int) -> None:
    """Seed the generator that initialises models created without `seed=` (reproducible runs)."""
    _default_rng.seed(integer(n, "seed(n)"))


def _pick_rng(seed: int | None, rng: random.Random | None) -> random.Random:
    """A generator from `seed` (a fresh one), `rng` (shared), or the module default."""
    if seed is not None and rng is not None:
        raise ValueError("give either seed or rng, not both")
    if seed is not None:
        return random.Random(integer(seed, "seed"))  # noqa: S311 (initialisation, not cryptography)
    if rng is not None:
        if not isinstance(rng, random.Random):
            raise TypeError(needs("rng", "a random.Random or None", rng))
        return rng
    return _default_rng


def _check_inputs(x: object, nin: int, where: str) -> Sequence[Input]:
    """`x` as a sequence of nin numbers or Values (a bare one allowed when nin == 1; a NumPy row too)."""
    if isinstance(x, Value) or is_real(x):
        x = [x]
    return sequence(x, where, "numbers or Values", length=nin)


def _as_values(x: Sequence[Input]) -> list[Value]:
    """Numbers as labelled leaves x0, x1, ..., made once and shared by every neuron that reads them."""
    return [v if isinstance(v, Value) else Value(v, label=f"x{i}") for i, v in enumerate(x)]


class Neuron(Module):
    """The posts' artificial neuron: y = activation(w0*x0 + w1*x1 + ... + b).

    The bias b is the posts' threshold T moved into a weight on a constant input: the neuron
    fires when sum w_i x_i >= T, i.e. when sum w_i x_i + b >= 0 with b = -T. `bias=False` drops it
    (then `b` is None). `nonlin=False` makes the neuron linear whatever `activation` says
    (micrograd's `Neuron(nin, nonlin=False)`).

    The weighted sum is ONE node (`autograd.weighted_sum`, op "wsum") whose edges carry
    dz/dw_i = x_i and dz/db = 1. Every node a neuron creates carries its scope `name` (e.g.
    "L1.n3", layers from 1, neurons from 0), and its output Value is labelled with that name.
    """

    def __init__(
        self,
        nin: int,
        activation: str | Op = "relu",
        nonlin: bool = True,
        bias: bool = True,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        fan_out: int = 1,
        name: str = "L1.n0",
    ) -> None:
        """Weights uniform in [-a, a] (Xavier or He by activation, see nn.activations), bias 0."""
        self.nin = integer(nin, "Neuron(nin)", at_least=1)
        fan_out = integer(fan_out, "Neuron(fan_out)", at_least=1)
        activation = check_activation(activation, "Neuron activation")  # a learner's op: its name
        if not isinstance(name, str) or not name:
            raise TypeError(needs("Neuron(name)", "a non-empty str", name))
        self.activation = activation if nonlin else "linear"
        self.nonlin = self.activation != "linear"  # as micrograd: False for its linear output neuron
        self.name = name
        generator = _pick_rng(seed, rng)
        a = init_bound(self.activation, self.nin, fan_out)
        # Created inside the neuron's scope so diagrams group the parameters with their neuron.
        with scope(name):
            self.w = [Value(generator.uniform(-a, a), label=f"w{i}") for i in range(self.nin)]
            self.b: Value | None = Value(0.0, label="b") if bias else None

    def __call__(self, x: Sequence[Input]) -> Value:
        """activation(sum w_i x_i + b) for nin inputs (numbers or Values)."""
        return self._forward(_as_values(_check_inputs(x, self.nin, f"Neuron {self.name}")), current_scope())

    def _forward(self, x: Sequence[Value], outer: str, x_data: Sequence[float] | None = None) -> Value:
        """The neuron's output for inputs the caller checked and made Values (the layer), inside
        the scope tag `outer` (the caller's `current_scope()`, read once for a whole layer);
        `x_data`, when given, is the inputs' numbers (also read once for a whole layer)."""
        # Looked up on every call: an activation changed by hand, or a learner's op defined again
        # (the cell re-run), is what the next call applies.
        row = built_in(self.activation)
        apply = activation_function(self.activation) if row is None else row.apply
        if row is not None and row.composed:  # `scope` tags every node the activation makes
            with scope(self.name) as tag:
                return neuron(self.w, x, self.b, apply, tag, self.name, x_data)
        # NOTE: the weighted sum and the activation are the only nodes made here (the inputs are
        # Values already), so `neuron` tags them as `with scope(self.name)` would, without
        # entering and leaving a context on every neuron call.
        tag = f"{outer}.{self.name}" if outer else self.name
        return neuron(self.w, x, self.b, apply, tag, self.name, x_data)

    def parameters(self) -> list[Value]:
        """[w0, w1, ..., b], as micrograd lists them (the order of `named_parameters()`)."""
        params = [*self.w] if self.b is None else [*self.w, self.b]
        # Optimizers and zero_grad start here: a weight replaced by hand (`n.w[0] = 3.0`) is named
        # now, not met as "'float' object has no attribute 'grad'" inside them.
        if not all(map(isinstance, params, repeat(Value))):
            raise TypeError(self._not_a_value())
        return params

    def _not_a_value(self) -> str:
        """The message naming this neuron's first weight or bias that is not a Value."""
        name, p = next((name, p) for name, p in self.named_parameters() if not isinstance(p, Value))
        return (
            f"Neuron {self.name}: its {name} is a {type(p).__name__} ({p!r}), not a Value; a weight "
            "was replaced by hand? set its number instead: n.w[0].data = 3.0"
        )

    def named_parameters(self) -> list[tuple[str, Value]]:
        """("w.0", w0), ("w.1", w1), ..., ("b", b)."""
        named = [(f"w.{i}", w) for i, w in enumerate(self.w)]
        if self.b is not None:
            named.append(("b", self.b))
        return named

    def __repr__(self) -> str:
        """micrograd's form: ReLUNeuron(2), LinearNeuron(16), SigmoidNeuron(3)."""
        return f"{display_name(self.activation)}Neuron({self.nin})"


class Layer(Module):
    """`nout` neurons that all read the same `nin` inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | Op = "relu",
        nonlin: bool = True,
        bias: bool = True,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        index: int = 0,
    ) -> None:
        """Neurons named L{index+1}.n0, L{index+1}.n1, ... (`index` is the layer's place in an MLP)."""
        nin = integer(nin, "Layer(nin)", at_least=1)
        nout = integer(nout, "Layer(nout)", at_least=1)
        index = integer(index, "Layer(index)", at_least=0)
        activation = check_activation(activation, "Layer activation")
        generator = _pick_rng(seed, rng)
        self.nin = nin
        self.index = index
        self.neurons = [
            Neuron(nin, activation, nonlin, bias, rng=generator, fan_out=nout, name=f"L{index + 1}.n{j}")
            for j in range(nout)
        ]

    @property
    def nout(self) -> int:
        """Number of neurons (outputs)."""
        return len(self.neurons)

    @property
    def activation(self) -> str:
        """The neurons' activation name."""
        return self.neurons[0].activation

    @property
    def bias(self) -> bool:
        """Whether the neurons have a bias."""
        return self.neurons[0].b is not None

    def outputs(self, x: Sequence[Input]) -> list[Value]:
        """Every neuron's output as a list, even for one neuron."""
        return self._forward(_as_values(_check_inputs(x, self.nin, f"Layer L{self.index + 1}")))

    def _forward(self, x: list[Value]) -> list[Value]:
        """Every neuron's output on inputs already checked (the previous layer's outputs in an MLP)."""
        outer = current_scope()
        numbers = [v.data for v in x]  # every neuron reads the same inputs: their numbers, read once
        return [n._forward(x, outer, numbers) for n in self.neurons]

    def __call__(self, x: Sequence[Input]) -> Output:
        """The neurons' outputs: a Value for a one-neuron layer, else a list (as micrograd)."""
        out = self.outputs(x)
        return out[0] if len(out) == 1 else Outputs(out)

    def parameters(self) -> list[Value]:
        """Every neuron's parameters in turn (the order of `named_parameters()`)."""
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """("neurons.{j}.w.{i}", ...), ("neurons.{j}.b", ...) for every neuron j."""
        return [
            (f"neurons.{j}.{name}", p) for j, n in enumerate(self.neurons) for name, p in n.named_parameters()
        ]

    def __repr__(self) -> str:
        """micrograd's form: Layer of [ReLUNeuron(2), ...]."""
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multilayer perceptron: layers of sizes `nouts` on `nin` inputs.

    `activation` is the hidden layers' activation (a name for all, or one name per hidden layer);
    `output_activation` is the last layer's. `bias` is one flag for all layers or one per layer.
    `seed` makes the initialisation reproducible; without it the generator of `nn.seed` is used.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Op | Sequence[str | Op] = "relu",
        output_activation: str | Op = "linear",
        bias: bool | Sequence[bool] = True,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Build the layers; names are checked before any weight is drawn."""
        nin = integer(nin, "MLP(nin)", at_least=1)
        nouts = sequence(nouts, "MLP(nouts)", "layer sizes")
        sizes = [integer(n, f"MLP(nouts[{i}])", at_least=1) for i, n in enumerate(nouts)]
        hidden = len(sizes) - 1
        if isinstance(activation, (str, Op)):
            hidden_acts = [activation] * hidden
        elif isinstance(activation, Sequence) and len(activation) == hidden:
            hidden_acts = list(activation)
        else:
            what = f"a name or one name per hidden layer ({hidden})"
            raise ValueError(needs("MLP(activation)", what, activation))
        acts = [
            check_activation(act, f"MLP activation of layer {i + 1}")
            for i, act in enumerate([*hidden_acts, output_activation])
        ]
        if isinstance(bias, bool):
            biases = [bias] * len(sizes)
        elif (
            isinstance(bias, Sequence) and len(bias) == len(sizes) and all(isinstance(b, bool) for b in bias)
        ):
            biases = list(bias)
        else:
            raise ValueError(needs("MLP(bias)", f"a bool or one bool per layer ({len(sizes)})", bias))
        generator = _pick_rng(seed, rng)
        ins = [nin, *sizes]
        self.nin = nin
        self.layers = [
            Layer(ins[i], sizes[i], acts[i], bias=biases[i], rng=generator, index=i)
            for i in range(len(sizes))
        ]

    @property
    def sizes(self) -> list[int]:
        """Every layer's number of outputs (the `nouts` given)."""
        return [layer.nout for layer in self.layers]

    @property
    def activations(self) -> list[str]:
        """Every layer's activation name, the output layer last."""
        return [layer.activation for layer in self.layers]

    def outputs(self, x: Sequence[Input]) -> list[Value]:
        """The last layer's outputs as a list, even for one output."""
        # Checked once, here at the boundary: each layer then reads the previous layer's Values.
        h = _as_values(_check_inputs(x, self.nin, "MLP"))
        for layer in self.layers:
            h = layer._forward(h)
        return h

    def __call__(self, x: Sequence[Input]) -> Output:
        """The network's output: a Value when the last layer has one neuron, else a list."""
        out = self.outputs(x)
        return out[0] if len(out) == 1 else Outputs(out)

    def parameters(self) -> list[Value]:
        """Every layer's parameters in turn, as micrograd lists them (without building the names)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """("layers.{k}.neurons.{j}.w.{i}", ...) and ("layers.{k}.neurons.{j}.b", ...)."""
        return [
            (f"layers.{k}.{name}", p)
            for k, layer in enumerate(self.layers)
            for name, p in layer.named_parameters()
        ]

    def __repr__(self) -> str:
        """micrograd's form: MLP of [Layer of [ReLUNeuron(2), ...], Layer of [LinearNeuron(16)]]."""
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"

    def to_torch(self) -> torch.nn.Sequential:
        """An equivalent float64 `torch.nn.Sequential` with the same weights (needs torch)."""
        from nn.torch_bridge import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, seq: torch.nn.Sequential) -> MLP:
        """An MLP with the weights of a Sequential of Linear and activation modules (needs torch)."""
        from nn.torch_bridge import from_torch

        return from_torch(seq, MLP)
