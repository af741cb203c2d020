"""What the gradient doctor can find: the kinds, what each means in the posts' terms, what to try."""

from __future__ import annotations

from dataclasses import dataclass, field

# kind -> (what it means, what to try). The set is documented in nn.doctor's docstring.
KINDS: dict[str, tuple[str, str]] = {
    "dead-relu": (
        "a ReLU neuron whose z = w.x + b is <= 0 on every sample outputs 0 with slope 0 there, so no "
        "gradient reaches its weights and gradient descent can never revive it",
        "use leaky_relu or tanh, a smaller learning rate, or the lecture's tanh network "
        "(nn.lecture.MLP); re-initialise with another seed",
    ),
    "saturated": (
        "like the posts' step, a sigmoid or tanh far out on its flat tails has slope s'(z) near 0: "
        "the error barely moves its weights (a step or sign neuron has slope 0 everywhere)",
        "start with smaller weights (the default init), scale the inputs to about [-1, 1], or use "
        "sigmoid instead of step and relu instead of a saturated sigmoid in hidden layers",
    ),
    "vanishing": (
        "backpropagation multiplies the error by each layer's weights and slopes on its way to the "
        "input; here the product shrinks, so the first layers hardly learn",
        "use fewer layers, relu or tanh instead of sigmoid in hidden layers, or nn.Adam",
    ),
    "exploding": (
        "backpropagation multiplies the error by each layer's weights and slopes; here the product "
        "grows toward the input, so one update throws the first layers' weights far away",
        "use smaller initial weights, a smaller learning rate, or fewer layers",
    ),
    "learning-rate": (
        "each update moves the weights by lr * dE/dw; too large a step overshoots the valley's floor "
        "and the error rises or jumps back and forth instead of falling",
        "a learning rate 10 times smaller (fit(..., lr=...) or SGD(params, lr=...)), or nn.Adam",
    ),
    "constant-output": (
        "the network gives every sample the same prediction, so it can do no better than the targets' "
        "average (the lecture's collapse); usually its hidden neurons are dead or saturated",
        "see the other findings; another seed, tanh (nn.lecture.MLP) or a smaller learning rate",
    ),
    "labels": (
        "the targets do not fit the loss or the output neuron: the error can never reach 0 or has no "
        "useful slope",
        "hinge wants labels -1/+1, binary_cross_entropy 0/1 with a sigmoid output; a sigmoid output "
        "can only reach targets in [0, 1] and tanh [-1, 1]",
    ),
    "stale-grad": (
        "the leaves' grads are not this loss's gradient: an earlier backward's gradients were left "
        "on them and backward adds onto what is there",
        "call model.zero_grad() (or optimizer.zero_grad()) before each backward; to sum several "
        "losses on purpose, run the backwards inside `with autograd.accumulating():`",
    ),
}


@dataclass
class Finding:
    """One problem: its `kind` (a key of KINDS), a one-line summary with numbers, the neurons it names."""

    kind: str
    summary: str
    neurons: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def meaning(self) -> str:
        """What this kind of finding means, in the posts' terms."""
        return KINDS[self.kind][0]

    @property
    def advice(self) -> str:
        """What to try."""
        return KINDS[self.kind][1]

    def __str__(self) -> str:
        """`kind: summary`, then what it means and what to try on indented lines."""
        return f"{self.kind}: {self.summary}\n    means: {self.meaning}\n    try: {self.advice}"
