"""Backprop by hand on your own graph: each local derivative, then each grad, checked and explained.

    ex = viz.exercise(E)
    ex.questions                     # ["d E/d v2", "d v2/d v1", ..., "grad W0", "grad X"]
    v = ex.answer("d a0/d Z0", "a0*(1 - a0)")   # a number or a formula in the node names
    bool(v), v.message               # True, "Right: d a0/d Z0 = σ(Z0)(1 − σ(Z0)) = 0.1779."
    ex.answer("grad W0", "1.5").mistake          # "forgot-upstream" (d Z0/d W0 alone)
    ex.reveal("grad W0")             # the answer and its rule
    ex.progress                      # "1 of 18 right, 1 revealed"
    ex.save_html("exercise.html")    # the same questions as a standalone page (numbers only)
    ex.widget()                      # in Jupyter: pip install 'axongrad[widgets]'

Questions come in the order of the backward pass: first every local derivative, edge by edge from
the root back to the leaves; then every node's grad in reverse topological order. The root's grad
is the seed 1 and is given. Answers are checked against the op table's rule at the forward values
and against a backward pass of our own (no `.grad` changes). A typed number counts when it agrees
to 1e-3 relative or is the answer rounded to the digits typed (3 significant digits or more); a
formula counts when it is right at the forward values and at other values of the inputs. A wrong
answer that matches a known mistake (the forward value, a forgotten upstream grad, one path of
two, a sign, ...) is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograd import Value
from autograd.checks import is_real, needs, real_number
from autograd.files import FilePath
from viz.answers import AnswerError, Expression, agrees, close, parse_expression, parse_number, shorten_text
from viz.dot import root_value
from viz.exercise_graph import Graph, Point
from viz.labels import fmt, fmt_factor
from viz.mistakes import Mistake, for_grad, for_local, grad_sum, local_name
from viz.names import edge_rule, expression

MAX_EXERCISE_NODES = 150
# Seed of the other points formulas are checked at: the same graph gets the same points.
SEED = 18
# Relative agreement a formula needs at the other points (they are computed, not typed).
FORMULA_RTOL = 1e-4


@dataclass(frozen=True)
class Question:
    """One thing the exercise asks: a local derivative ("d a0/d Z0") or a grad ("grad W0").

    `prompt` says what is asked (after the name); `answer` is the right number; `rule` how it is
    computed (the op table's rule with the names filled in, or the chain rule's sum); `reveal` the
    answer with its rule, as a reveal shows it; `mistakes` what a wrong answer is compared with.
    """

    name: str
    kind: str
    node: int
    edge: int
    prompt: str
    answer: float
    rule: str
    reveal: str
    right: str
    wrong: str
    mistakes: tuple[Mistake, ...]


@dataclass(frozen=True)
class Verdict:
    """What an answer earned: truthy when right; `message` says why; `mistake` names a known mistake
    (one of `viz.mistakes.MISTAKES`, or "formula-only-here"); `understood` is False for text that is
    neither a number nor an allowed formula."""

    question: str
    right: bool
    message: str
    mistake: str | None = None
    understood: bool = True

    def __bool__(self) -> bool:
        """True when the answer was right."""
        return self.right

    def __str__(self) -> str:
        """The message."""
        return self.message


class Exercise:
    """A graph turned into questions (see the module docstring): answer, reveal, progress, page, widget."""

    def __init__(self, root: Value, *, max_nodes: int = MAX_EXERCISE_NODES) -> None:
        """The questions on `root`'s graph (ValueError past `max_nodes` Values)."""
        if not root.parents:
            raise ValueError(
                f"viz.exercise needs a Value computed by operations; {root!r} is a leaf, so there is "
                "nothing to derive"
            )
        self.root = root
        self.graph = Graph(root)
        if len(self.graph.order) > max_nodes:
            raise ValueError(
                f"this graph has {len(self.graph.order)} Values, more than max_nodes={max_nodes}: "
                "an exercise on it would ask hundreds of questions. Derive a smaller graph (one "
                "neuron, one sample's loss) or raise max_nodes."
            )
        self._questions = self._build()
        self._by_name = {q.name: q for q in self._questions}
        self._points: list[Point] | None = None
        self.verdicts: dict[str, Verdict] = {}
        self.revealed: set[str] = set()

    # ------------------------------------------------------------ the questions

    @property
    def questions(self) -> list[str]:
        """The questions' names in the order they are asked."""
        return [q.name for q in self._questions]

    @property
    def items(self) -> tuple[Question, ...]:
        """The questions themselves, in order (name, kind, answer, rule, messages, mistakes)."""
        return tuple(self._questions)

    def question(self, name: str) -> Question:
        """The question called `name` (ValueError naming the questions when there is none)."""
        if not isinstance(name, str):
            raise TypeError(f"a question's name is a str such as 'grad W0', got {type(name).__name__}")
        found = self._by_name.get(name)
        if found is None:
            listed = ", ".join(repr(n) for n in self.questions[:8])
            more = f", … ({len(self._questions) - 8} more)" if len(self._questions) > 8 else ""
            raise ValueError(f"no question {shorten_text(name)!r} in this exercise; it asks {listed}{more}")
        return found

    def _build(self) -> list[Question]:
        """Local derivatives root-first, edge by edge; then the grads in reverse topological order."""
        graph = self.graph
        asked: list[Question] = []
        point = graph.forward
        for node in range(len(graph.order) - 1, -1, -1):
            v = graph.order[node]
            for edge, parent in enumerate(graph.parents[node]):
                if graph.constant[parent]:
                    continue
                name = local_name(graph, node, edge)
                rule, _ = edge_rule(v, edge, graph.name_of)
                rule = rule or "the operation's own rule"
                value = point.locals[node][edge]
                made = f"{graph.names[node]} = {expression(v, graph.name_of)}"
                at = f" at {graph.names[parent]} = {fmt(point.values[parent])}"
                number = fmt(value)
                shown = rule if rule == number else f"{rule} = {number}"
                asked.append(Question(
                    name, "local", node, edge,
                    f"the local derivative of {made} with respect to {graph.names[parent]}",
                    value, rule, f"{name} = {shown}{at}",
                    f"Right: {name} = {shown}.",
                    f"Not {name}. It is the local derivative of {made} with respect to "
                    f"{graph.names[parent]}: the rule {rule}, at the forward values.",
                    tuple(for_local(graph, node, edge, rule)),
                ))
        for node in range(len(graph.order) - 1, -1, -1):
            if node == graph.root or graph.constant[node]:
                continue
            name = graph.names[node]
            total = grad_sum(graph, node)
            value = point.grads[node]
            numbers = " + ".join(
                f"{fmt_factor(point.locals[u][e])} × {fmt_factor(point.grads[u])}"
                for u, e in graph.uses[node]
            )
            shown = f"grad {name} = {total} = {numbers} = {fmt(value)}"
            asked.append(Question(
                f"grad {name}", "grad", node, -1,
                f"d{graph.names[graph.root]}/d{name}, by the chain rule",
                value, total, shown,
                f"Right: {shown}.",
                f"Not grad {name}. By the chain rule, grad {name} adds, for each use of {name}, its "
                f"local derivative times the grad of the node that uses it: grad {name} = {total}.",
                tuple(for_grad(graph, node)),
            ))
        return asked

    # ------------------------------------------------------------ answering

    def truth(self, question: Question, point: Point) -> float:
        """The right answer to `question` at `point`."""
        if question.kind == "local":
            return point.locals[question.node][question.edge]
        return point.grads[question.node]

    def answer(self, name: str, text: str | float) -> Verdict:
        """Check an answer (a number, or a formula in the node names) and return its verdict.

        Never raises for the text: anything unreadable is a wrong verdict saying what to type.
        """
        question = self.question(name)
        if not (isinstance(text, str) or is_real(text)):
            raise TypeError(needs("answer", "text or a number", text))
        if not isinstance(text, str):
            text = repr(real_number(text, "answer", finite=False))
        verdict = self._judge(question, text)
        self.verdicts[question.name] = verdict
        return verdict

    def _judge(self, question: Question, text: str) -> Verdict:
        """The verdict for `text` (see `answer`)."""
        try:
            number = parse_number(text)
            if number is not None:
                return self._judge_number(question, text, number)
            formula = parse_expression(text, self.graph.names)
            if not formula.names:  # arithmetic without names ("0.5*2"): a number
                value = formula.evaluate({})
                return self._judge_number(question, repr(value), value)
            return self._judge_formula(question, formula)
        except AnswerError as error:
            return Verdict(question.name, False, f"Cannot check that: {error}.", None, understood=False)

    def _judge_number(self, question: Question, text: str, number: float) -> Verdict:
        """A typed number compared at the forward values with the answer, then with each mistake."""
        if agrees(text, number, question.answer):
            return Verdict(question.name, True, question.right)
        for mistake in question.mistakes:
            if agrees(text, number, mistake.value(self.graph.forward)):
                return Verdict(question.name, False, mistake.message, mistake.kind)
        return Verdict(question.name, False, question.wrong + _digits_hint(text, number, question.answer))

    def points(self) -> list[Point]:
        """The other points formulas are checked at (computed once, seeded)."""
        if self._points is None:
            self._points = self.graph.others(SEED)
        return self._points

    def _judge_formula(self, question: Question, formula: Expression) -> Verdict:
        """A formula checked at the forward values and at other points, then matched with the mistakes."""
        graph = self.graph
        here = formula.evaluate(graph.named(graph.forward))
        others: list[tuple[Point, float]] = []
        for point in self.points():
            try:
                others.append((point, formula.evaluate(graph.named(point))))
            except AnswerError:
                continue  # undefined there (a log of a moved input): the other points decide

        def fits(target: float, at: list[tuple[float, float]]) -> bool:
            return abs(here - target) <= 1e-3 * abs(target) + 1e-12 and all(
                abs(got - want) <= FORMULA_RTOL * abs(want) + 1e-12 for got, want in at
            )

        truths = [(got, self.truth(question, p)) for p, got in others]
        only_here = (
            "" if others else " (checked at the forward values only: the graph could not be re-run elsewhere)"
        )
        if fits(question.answer, truths):
            return Verdict(question.name, True, question.right + only_here)
        for mistake in question.mistakes:
            try:
                if fits(mistake.value(graph.forward), [(got, mistake.value(p)) for p, got in others]):
                    return Verdict(question.name, False, mistake.message, mistake.kind)
            except ArithmeticError:
                continue
        if abs(here - question.answer) <= 1e-3 * abs(question.answer) + 1e-12:
            point, got = next((p, g) for p, g in others if not close(g, self.truth(question, p)))
            moved = _moved_leaf(graph, point)
            return Verdict(
                question.name, False,
                f"Your formula gives the right number at these values, but it is not the rule: with "
                f"{moved} it gives {fmt(got)} where {question.name} is {fmt(self.truth(question, point))}. "
                f"{question.name} = {question.rule}.",
                "formula-only-here",
            )
        return Verdict(question.name, False, question.wrong)

    def reveal(self, name: str) -> str:
        """The answer to question `name` with its rule (and marks it revealed in `progress`)."""
        question = self.question(name)
        self.revealed.add(question.name)
        return question.reveal

    @property
    def progress(self) -> str:
        """How many questions the latest answers got right: "3 of 18 right" (and how many revealed)."""
        right = sum(1 for v in self.verdicts.values() if v.right)
        shown = f", {len(self.revealed)} revealed" if self.revealed else ""
        return f"{right} of {len(self._questions)} right{shown}"

    def __repr__(self) -> str:
        """What is asked and how far the learner got."""
        head = ", ".join(self.questions[:4])
        more = ", …" if len(self._questions) > 4 else ""
        root = self.graph.names[self.graph.root]
        return f"<exercise on {root}: {len(self._questions)} questions ({head}{more}); {self.progress}>"

    # ------------------------------------------------------------ the page and the widget

    def save_html(self, path: FilePath, *, title: str | None = None) -> str:
        """Write the exercise as one standalone HTML page (numbers as answers) and return its path."""
        from viz.exercise_page import save_exercise_html

        return save_exercise_html(self, path, title=title)

    def widget(self) -> object:
        """An ipywidgets view for Jupyter: the diagram, a box per question, verdicts at once."""
        from viz.exercise_widget import exercise_widget

        return exercise_widget(self)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        """Jupyter shows the widget (or, without ipywidgets, the questions and how to get it)."""
        try:
            view: Any = self.widget()
        except ImportError as error:
            return {"text/plain": f"{self!r}\n{error}"}
        bundle: dict[str, Any] = view._repr_mimebundle_()
        return bundle


def _digits_hint(text: str, number: float, answer: float) -> str:
    """A note when a number is close but typed with too few digits to tell."""
    if answer != 0 and abs(number - answer) <= 0.05 * abs(answer):
        return " (You are close: type at least 3 significant digits; answers count when they agree to 3-4.)"
    return ""


def _moved_leaf(graph: Graph, point: Point) -> str:
    """A few leaves' values at `point`, for a message: "X = 1.62, W0 = 0.71"."""
    moved = [
        f"{graph.names[i]} = {fmt(point.values[i])}"
        for i, v in enumerate(graph.order)
        if not v.parents and not graph.constant[i]
    ]
    return ", ".join(moved[:4])


def exercise(root: object, *, max_nodes: int = MAX_EXERCISE_NODES) -> Exercise:
    """Turn the graph behind `root` into an exercise: derive each local derivative and grad yourself."""
    return Exercise(root_value(root), max_nodes=max_nodes)
