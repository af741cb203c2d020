"""`check_backward`: test a `_backward` closure written the lecture's way, and name the likely slip.

The lecture builds a node as `out = Value(t, (self,), "tanh")` and gives it a closure such as
`self.grad += (1 - t**2) * out.grad`. Checking only the final gradients with out.grad = 1, as the
lecture's exercises do, misses two slips that break a real network: forgetting `* out.grad` (right
whenever out.grad happens to be 1) and `=` instead of `+=` (right until an input is used twice, so
that a second path's gradient must add to the first). `check_backward(fn)` therefore runs the
learner's closures micrograd's way (each node's closure in reverse topological order) on fresh
Values, in four situations per random point:

1. out.grad = 1, the inputs' grads at 0: the local derivative itself (checked against central
   differences of fn's forward); a wrong sign or the other input's derivative is named;
2. a random out.grad: the result must scale with it (else the closure forgets `* out.grad`);
3. the inputs' grads already holding another path's sum: the closure must add to it (else `=`);
4. fn(a, a), one Value as both inputs: both terms must add up (else `=`).

Python runs `out._backward = closure` through Value's property setter, which reads the closure
once and lets it go; the check watches that setter with `sys.setprofile` (this thread only, for
the duration of one call of fn) to keep each closure and call it again.
"""

from __future__ import annotations

import inspect
import math
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import Any

from autograd.checks import integer, needs, real_number
from autograd.closure import is_closure_kind
from autograd.display import markdown_text
from autograd.gradcheck import numerical_grad
from autograd.graph import topological_order
from autograd.value import Value

# The likely causes a report can name (TermProblem.causes holds these keys).
MISSING_OUT_GRAD = "missing * out.grad"
ASSIGNED = "= instead of +="
SIGN = "wrong sign"
OTHER_INPUT = "the other input's derivative"
FORWARD_VALUE = "the forward value"
FACTOR = "a constant factor"
NO_CLOSURE = "no _backward"
OTHER = "other"

CAUSE_TEXT = {
    MISSING_OUT_GRAD: (
        "the closure forgets `* out.grad`: each input's grad gets its local derivative TIMES the "
        "gradient arriving at out (the chain rule); with out.grad = 1 the slip is invisible"
    ),
    ASSIGNED: (
        "the closure writes `.grad = ...` where it must add, `.grad += ...`: a Value used twice "
        "gets a gradient from each path, and the paths add up"
    ),
    SIGN: "the local derivative has the wrong sign",
    OTHER_INPUT: "the term uses the other input's derivative (for a*b: d/da is b, d/db is a)",
    FORWARD_VALUE: "the term uses the forward value (out.data) where the derivative belongs",
    FACTOR: "the term is off by a constant factor (the 2 of d(x**2)/dx = 2x forgotten, or one too many)",
    NO_CLOSURE: "a node built as Value(data, children, op) never got its out._backward closure",
    OTHER: "the local derivative itself is wrong: compare your formula with the numbers above",
}

DEFAULT_DOMAIN = (-2.0, 2.0)
# How many points may be drawn per point wanted before giving up on a domain (log at x < 0 ...).
DRAWS_PER_POINT = 20


@dataclass
class TermProblem:
    """One input whose term is wrong: its name, the likely causes (keys of CAUSE_TEXT), evidence."""

    input: str
    index: int
    causes: list[str]
    evidence: list[str]
    failed_points: int = 0

    def __str__(self) -> str:
        """The input, what the numbers show, and each likely cause in words."""
        where = f"{self.input} (argument {self.index + 1})"
        lines = [f"{where}: its term is wrong at {self.failed_points} point(s)"]
        lines += [f"    {line}" for line in self.evidence]
        lines += [f"    likely cause: {CAUSE_TEXT[c]}" for c in self.causes]
        return "\n".join(lines)


@dataclass
class BackwardCheck:
    """What `check_backward` found: truthy when every input's term is right; str explains each wrong one."""

    name: str
    inputs: tuple[str, ...]
    checked: int
    problems: list[TermProblem] = field(default_factory=list)
    skipped: int = 0

    def __bool__(self) -> bool:
        """True when every term agreed at every point checked."""
        return not self.problems and self.checked > 0

    def cause(self, input: str) -> list[str]:
        """The likely causes found for the input named `input` ([] when its term is right)."""
        if input not in self.inputs:
            raise KeyError(f"{self.name} has inputs {', '.join(self.inputs)}; no input named {input!r}")
        return next((p.causes for p in self.problems if p.input == input), [])

    def __str__(self) -> str:
        """One line when right; else a paragraph per wrong input naming the likely cause."""
        outside = f"; {self.skipped} point(s) outside fn's domain skipped" if self.skipped else ""
        if not self.problems:
            shared = ", and as fn(a, a)" if len(self.inputs) == 2 else ""
            return (
                f"{self.name}: right at {self.checked} random points (against central differences, with "
                f"random out.grad, with the inputs' grads already non-zero{shared}{outside})"
            )
        wrong = ", ".join(p.input for p in self.problems)
        head = f"{self.name}: wrong term for {wrong} (checked at {self.checked} random points{outside})"
        return "\n".join([head, *(str(p) for p in self.problems)])

    # `assert check_backward(f)` in pytest prints the repr: make it the whole explanation.
    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        """Jupyter shows the same text, verbatim (no HTML markup can come from a name in it)."""
        return markdown_text(str(self))


# ---------------------------------------------------------------- running the learner's closures


def _setter_code() -> CodeType:
    """The code of Value's `_backward` setter, the call that hands over each closure."""
    prop = inspect.getattr_static(Value, "_backward", None)
    code = getattr(getattr(prop, "fset", None), "__code__", None)
    if not isinstance(code, CodeType):
        raise RuntimeError("check_backward: Value has no `_backward` property setter to watch")
    return code


@contextmanager
def _capturing(closures: dict[int, Callable[[], None]]) -> Iterator[None]:
    """While inside, every `node._backward = closure` on this thread also lands in `closures[id(node)]`."""
    code = _setter_code()
    node_arg, closure_arg = code.co_varnames[:2]

    def watch(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is code:
            closures[id(frame.f_locals[node_arg])] = frame.f_locals[closure_arg]

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        yield
    finally:
        sys.setprofile(previous)


@dataclass
class _Subject:
    """The function under check: fn, its name, its inputs' names, and the Value class it builds on.

    `cls` None means axongrad's Value (closures captured as they are set); any other class is a
    learner's own micrograd-style Value: nodes with `.data`, `.grad`, `._prev` and a stored
    `._backward` closure, which the check calls as micrograd's backward would.
    """

    fn: Callable[..., Any]
    name: str
    names: tuple[str, ...]
    cls: type | None

    def leaf(self, x: float, name: str) -> Any:
        """A fresh input node holding `x`."""
        return Value(x, label=name) if self.cls is None else self.cls(x)

    def call(self, args: Sequence[Any]) -> Any:
        """fn(*args), checked to be a node of the right class."""
        out = self.fn(*args)
        if isinstance(out, Value if self.cls is None else self.cls):
            return out
        got = f"{type(out).__module__}.{type(out).__qualname__}"
        if out is None:
            hint = " (did you forget `return out`?)"
        elif isinstance(out, (int, float)):
            hint = " (return the Value itself, not its .data)"
        elif self.cls is None and hasattr(out, "_backward") and hasattr(out, "data"):
            hint = ": for your own Value class, pass it: check_backward(fn, value=YourValue)"
        else:
            hint = ""
        what = "axongrad Value" if self.cls is None else self.cls.__qualname__
        raise TypeError(f"check_backward: {self.name} must return the {what} it built, got {got}{hint}")

    def forward(self, point: Sequence[float]) -> float:
        """fn's value at `point` (fresh inputs)."""
        return real_number(self.call([self.leaf(x, n) for x, n in zip(point, self.names)]).data,
                           f"check_backward: {self.name}(...).data")


@dataclass
class _Built:
    """One fresh graph of fn: its inputs, its output and the closures it set."""

    leaves: list[Any]
    out: Any
    closures: dict[int, Callable[[], None]]


def _build(subject: _Subject, xs: Sequence[float], shared: bool = False) -> _Built:
    """Fresh leaves at `xs` (one leaf for both inputs when `shared`), fn applied, closures kept."""
    names = subject.names
    leaves = [subject.leaf(xs[0], names[0])] if shared else [subject.leaf(x, n) for x, n in zip(xs, names)]
    args = [leaves[0], leaves[0]] if shared else leaves
    closures: dict[int, Callable[[], None]] = {}
    with _capturing(closures):
        out = subject.call(args)
    return _Built(leaves, out, closures)


def _inputs_of(v: Any) -> tuple[Any, ...]:
    """A node's inputs: axongrad's parents, or a micrograd-style node's `_prev`."""
    return v.parents if isinstance(v, Value) else tuple(getattr(v, "_prev", ()))


def _order(out: Any) -> list[Any]:
    """Every node `out` depends on, each after its inputs (iterative, by identity)."""
    if isinstance(out, Value):
        return topological_order(out)
    order: list[Any] = []
    seen = {id(out)}
    stack: list[tuple[Any, Iterator[Any]]] = [(out, iter(_inputs_of(out)))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            order.append(node)
        elif id(child) not in seen:
            seen.add(id(child))
            stack.append((child, iter(_inputs_of(child))))
    return order


def _backward(built: _Built, upstream: float, before: Sequence[float]) -> list[float]:
    """micrograd's backward from out.grad = `upstream`, the leaves' grads starting at `before`.

    Each node's own closure runs, in reverse topological order; built-in nodes add local × grad.
    Returns the leaves' grads afterwards.
    """
    order = _order(built.out)
    for v in order:
        v.grad = 0.0
    for leaf, g in zip(built.leaves, before):
        leaf.grad = g
    built.out.grad += upstream  # +=: out may be one of the inputs (fn(a) returning a)
    for v in reversed(order):
        if not _inputs_of(v):
            continue
        if not isinstance(v, Value):  # a learner's own class keeps its closure on the node
            getattr(v, "_backward", _nothing)()
            continue
        closure = built.closures.get(id(v))
        if closure is not None:
            closure()
        elif v.operation is None or not is_closure_kind(v.operation):
            for p, d in zip(v.parents, v.local_grads):
                p.grad += d * v.grad
        # A closure node whose closure was never set does nothing: micrograd's default _backward.
    return [float(leaf.grad) for leaf in built.leaves]


def _nothing() -> None:
    """micrograd's default `_backward` for a leaf."""


def _missing_closure(built: _Built) -> bool:
    """True when some node made as Value(data, children, op) got no `_backward`."""
    return any(
        isinstance(v, Value) and v.parents and v.operation is not None and is_closure_kind(v.operation)
        and id(v) not in built.closures
        for v in _order(built.out)
    )


# ---------------------------------------------------------------- the check


def _arity(fn: Callable[..., Any], arity: int | None, name: str) -> tuple[int, tuple[str, ...]]:
    """How many Values fn takes (1 or 2) and their names, from its signature or `arity`."""
    if arity is not None:
        integer(arity, "check_backward(arity)", at_least=1, at_most=2)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    if arity is None:
        if variadic or not params:
            raise TypeError(
                f"check_backward: cannot tell how many Values {name} takes; pass arity=1 or arity=2"
            )
        if len(required) not in (1, 2):
            listed = ", ".join(p.name for p in required) or "none"
            raise TypeError(
                f"check_backward checks fn(a) or fn(a, b) (Values in, the Value built out); {name} needs "
                f"{len(required)} argument(s) ({listed})"
            )
        arity = len(required)
    elif params and not variadic and not len(required) <= arity <= len(positional):
        raise TypeError(f"check_backward(arity={arity}): {name} cannot be called with {arity} Value(s)")
    names = [p.name for p in positional[:arity]] if len(positional) >= arity else []
    if len(set(names)) != arity:
        names = ["a", "b"][:arity]
    return arity, tuple(names)


def _points(points: Sequence[Any] | None, domain: Sequence[float] | None, arity: int, trials: int,
            rng: random.Random) -> tuple[list[list[float]], bool]:
    """The points to check (given, or drawn from `domain`) and whether they were drawn."""
    if points is not None:
        if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or not points:
            raise TypeError("check_backward(points=...) needs a non-empty list of numbers or tuples")
        grid = []
        for k, raw in enumerate(points):
            row = [raw] if isinstance(raw, (int, float)) and arity == 1 else raw
            if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != arity:
                raise ValueError(f"check_backward(points[{k}]) needs {arity} number(s), got {raw!r}")
            grid.append([real_number(x, f"check_backward(points[{k}])") for x in row])
        return grid, False
    lo, hi = DEFAULT_DOMAIN if domain is None else _domain(domain)
    wanted = trials * DRAWS_PER_POINT
    return [[rng.uniform(lo, hi) for _ in range(arity)] for _ in range(wanted)], True


def _domain(domain: Sequence[float]) -> tuple[float, float]:
    """(lo, hi) checked: two finite numbers, lo < hi."""
    if isinstance(domain, (str, bytes)) or not isinstance(domain, Sequence) or len(domain) != 2:
        raise TypeError(f"check_backward(domain=...) needs (lo, hi), got {domain!r}")
    lo, hi = (real_number(x, "check_backward(domain)") for x in domain)
    if not lo < hi:
        raise ValueError(f"check_backward(domain=...) needs lo < hi, got {domain!r}")
    return lo, hi


def _close(x: float, y: float, rtol: float, atol: float) -> bool:
    """|x - y| within atol + rtol * the larger magnitude."""
    return abs(x - y) <= atol + rtol * max(abs(x), abs(y))


def _upstream(rng: random.Random) -> float:
    """A random gradient for out: magnitude 0.5..3, either sign, never near 1 (or -1)."""
    while True:
        g = rng.uniform(0.5, 3.0) * rng.choice((-1.0, 1.0))
        if abs(abs(g) - 1.0) > 0.25:
            return g


def check_backward(
    fn: Callable[..., Any],
    *,
    points: Sequence[float | Sequence[float]] | None = None,
    domain: Sequence[float] | None = None,
    arity: int | None = None,
    value: type | None = None,
    trials: int = 6,
    seed: int = 0,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> BackwardCheck:
    """Check the `_backward` closures `fn(a)` or `fn(a, b)` builds, against central differences.

    `fn` takes Values and returns the Value it built (the lecture's `tanh`, `exp`, a `mul`).
    Inputs are drawn at random (seeded: same seed, same check) from `domain` (default -2..2; points
    where fn raises a math error are skipped, so log and sqrt need no `domain`, though it helps),
    or taken from `points`. The report is falsy when a term is wrong; its text names the input and
    the likely cause: missing `* out.grad`, `=` instead of `+=`, a wrong sign, the other input's
    derivative. One line: `print(autograd.check_backward(tanh))`. `value` is your own
    micrograd-style Value class, if fn builds on one (nodes with data, grad, _prev, _backward).
    """
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if not callable(fn):
        raise TypeError(needs("check_backward", "a function that builds a Value", fn))
    integer(trials, "check_backward(trials)", at_least=1)
    for label, tol in (("rtol", rtol), ("atol", atol)):
        real_number(tol, f"check_backward({label})", at_least=0)
    integer(seed, "check_backward(seed)")
    if value is not None and not isinstance(value, type):
        raise TypeError(needs("check_backward(value)", "a Value class", value))
    n, names = _arity(fn, arity, name)
    subject = _Subject(fn, name, names, None if value is None or issubclass(value, Value) else value)
    rng = random.Random(seed)  # noqa: S311 (test points, not cryptography)
    grid, drawn = _points(points, domain, n, trials, rng)
    report = BackwardCheck(name, names, 0)
    found: dict[int, TermProblem] = {}
    last_error: Exception | None = None
    for xs in grid:
        if drawn and report.checked >= trials:
            break
        try:
            numeric = _numeric(subject, xs)
        except (ValueError, ArithmeticError) as error:  # outside fn's domain: log(-1)
            report.skipped += 1
            last_error = error
            continue
        report.checked += 1
        _check_point(subject, xs, numeric, rng, rtol, atol, found)
    if report.checked == 0:
        where = f"domain {domain or DEFAULT_DOMAIN}" if drawn else "the points given"
        raise ValueError(
            f"check_backward: {name} raised a math error at every point of {where} (last: "
            f"{type(last_error).__name__}: {last_error}); pass domain=(lo, hi) where it is defined, "
            "e.g. domain=(0.1, 3) for log or sqrt"
        )
    report.problems = [found[i] for i in sorted(found)]
    return report


def _numeric(subject: _Subject, xs: list[float]) -> list[float]:
    """Central differences of fn's forward value at `xs`, one per input."""
    subject.forward(xs)  # the point itself must be inside the domain
    return numerical_grad(subject.forward, xs)


def _check_point(subject: _Subject, xs: list[float], numeric: list[float], rng: random.Random,
                 rtol: float, atol: float, found: dict[int, TermProblem]) -> None:
    """Run the four situations at `xs`; record each input's failure and its likely causes."""
    names = subject.names
    g = _upstream(rng)
    before = [rng.uniform(0.5, 3.0) * rng.choice((-1.0, 1.0)) for _ in xs]
    at = ", ".join(f"{n}={x:.4g}" for n, x in zip(names, xs))
    unit_graph = _build(subject, xs)
    unit = _backward(unit_graph, 1.0, [0.0] * len(xs))
    scaled = _backward(_build(subject, xs), g, [0.0] * len(xs))
    added = _backward(_build(subject, xs), g, before)
    forward = unit_graph.out.data
    no_closure = _missing_closure(unit_graph)
    for i, n_i in enumerate(numeric):
        causes: list[str] = []
        evidence: list[str] = []
        if not _close(unit[i], n_i, rtol, atol):
            evidence.append(
                f"at {at} with out.grad = 1: your _backward added {unit[i]:.6g} to {names[i]}.grad; "
                f"central differences say d out/d {names[i]} = {n_i:.6g}"
            )
            causes += _local_causes(unit[i], numeric, i, forward, no_closure, rtol, atol)
        if not _close(scaled[i], g * n_i, rtol, atol):
            right_at_1 = "right with out.grad = 1, but " if _close(unit[i], n_i, rtol, atol) else ""
            evidence.append(
                f"{right_at_1}at {at} with out.grad = {g:.4g}: your _backward added {scaled[i]:.6g} "
                f"to {names[i]}.grad; "
                f"the chain rule says {g:.4g} × {n_i:.6g} = {g * n_i:.6g}"
            )
            if _close(scaled[i], unit[i], rtol, atol) and not _close(unit[i], 0.0, rtol, atol):
                causes.append(MISSING_OUT_GRAD)
        if not _close(added[i], before[i] + g * n_i, rtol, atol):
            evidence.append(
                f"{names[i]}.grad already held {before[i]:.4g} from another path; after your _backward "
                f"it held {added[i]:.6g}, where {before[i]:.4g} + {g * n_i:.6g} = {before[i] + g * n_i:.6g}"
            )
            if _close(added[i], scaled[i], rtol, atol):
                causes.append(ASSIGNED)
        if len(xs) == 2 and i == 0:
            _check_shared(subject, xs[0], g, rtol, atol, evidence, causes)
        if evidence:
            _record(found, i, names[i], causes, evidence)


def _check_shared(subject: _Subject, x: float, g: float, rtol: float, atol: float, evidence: list[str],
                  causes: list[str]) -> None:
    """fn(a, a): the one Value's grad must be the sum of both terms (checked at a = x)."""
    names, name = subject.names, subject.name
    try:
        both = _numeric(subject, [x, x])
    except (ValueError, ArithmeticError):
        return
    want = g * (both[0] + both[1])
    shared = _backward(_build(subject, [x, x], shared=True), g, [0.0])[0]
    if _close(shared, want, rtol, atol):
        return
    evidence.append(
        f"{name}({names[0]}, {names[0]}) at {names[0]}={x:.4g} with out.grad = {g:.4g}: your _backward "
        f"left {names[0]}.grad = {shared:.6g}, where both terms add to {g:.4g} × ({both[0]:.6g} + "
        f"{both[1]:.6g}) = {want:.6g}"
    )
    one_path = _close(shared, g * both[0], rtol, atol) or _close(shared, g * both[1], rtol, atol)
    if one_path and ASSIGNED not in causes:
        causes.append(ASSIGNED)


def _local_causes(yours: float, numeric: list[float], i: int, forward: float, no_closure: bool,
                  rtol: float, atol: float) -> list[str]:
    """Why the term at out.grad = 1 differs from central differences: sign, other input, ... ."""
    right = numeric[i]
    if no_closure and _close(yours, 0.0, rtol, atol):
        return [NO_CLOSURE]
    if _close(yours, -right, rtol, atol):
        return [SIGN]
    others = [n for k, n in enumerate(numeric) if k != i]
    if any(_close(yours, n, rtol, atol) for n in others):
        return [OTHER_INPUT]
    if math.isfinite(forward) and _close(yours, forward, rtol, atol):
        return [FORWARD_VALUE]
    if any(_close(yours * k, right, rtol, atol) or _close(yours, right * k, rtol, atol) for k in (2, 3, 4)):
        return [FACTOR]
    return [OTHER]


def _record(found: dict[int, TermProblem], i: int, input: str, causes: list[str],
            evidence: list[str]) -> None:
    """Add one failing point for input i: the first point's evidence, every cause seen."""
    problem = found.get(i)
    if problem is None:
        problem = found[i] = TermProblem(input, i, [], evidence)
    problem.failed_points += 1
    for cause in causes or [OTHER]:
        if cause not in problem.causes:
            problem.causes.append(cause)
    if OTHER in problem.causes and len(problem.causes) > 1:  # a named cause explains more
        problem.causes.remove(OTHER)
    if ASSIGNED in problem.causes and FACTOR in problem.causes:  # a*a with `=`: one of two halves
        problem.causes.remove(FACTOR)
