"""axongrad's pictures: graph diagrams with every partial derivative, chain-rule text, backward steps, plots.

    import viz
    E.backward()
    viz.draw(E)                              # a graphviz.Digraph; Jupyter shows it inline
    viz.draw(E).render("E", directory="out", format="svg", cleanup=True)   # writes out/E.svg
    viz.render(viz.draw(E, legend=True), "out/E.png", format="png")        # exact path, atomic
    viz.draw(loss, group="neuron")           # an MLP: one box per neuron, one cluster per layer
    print(viz.explain(E, W0))                # dE/dW0 = dE/da1 · da1/dZ1 · ... = 0.01502
    print(viz.deltas(loss, "L2.n0"))         # the posts' δ rules for one neuron, with numbers
    viz.neighbourhood(loss, "L2.n3")         # one neuron: inputs, weights, δ, where its output goes
    viz.save_backward_html(E, "out/backward.html")   # one page, a frame per backward step
    ex = viz.exercise(E)                     # derive it yourself: ex.answer("grad W0", "0.0124")
    ex.save_html("out/exercise.html")        # the exercise as a page; ex.widget() in Jupyter
    viz.plot_history(history, "out/loss.png")        # matplotlib: pip install 'axongrad[plots]'
    hunt = viz.bug_hunt(E, seed=0)                   # one planted wrong ∂: hunt.check("Z0"), guess, reveal
    viz.save_training_html(history, "out/training.html")   # replay nn.fit(..., record=k)'s frames
    nn.fit(model, xs, ys, record=5, on_frame=viz.TrainingView())   # the same view, live in Jupyter
    viz.plot_confusion(y_true, y_pred, "out/confusion.png")         # a classifier's mistakes

Rendering (render, save_backward_html, Jupyter's SVG) needs the Graphviz `dot` program; without it
the error names the install command and `draw(...).source` (the DOT text) still works. Colours are
explained in viz/dot.py and drawn with `draw(..., legend=True)`. viz reads autograd's graph
(parents, local_grads, labels, scopes) and never imports nn.
"""

from __future__ import annotations

# The marker _axongrad_clash reads; set before importing autograd, which checks that `import viz` is ours.
__axongrad__ = True

import _axongrad_clash

# HIPS autograd uses the same import name (and a learner's autograd.py can hide ours): say so.
if (_clash := _axongrad_clash.autograd_error("viz")) is not None:
    raise _clash

import autograd as _autograd
from viz.bug_hunt import BugHunt, bug_hunt
from viz.confusion import ConfusionMatrix, confusion_matrix, plot_confusion
from viz.deltas import Deltas, deltas
from viz.digit_pad import export_digit_pad
from viz.display import value_bundle
from viz.dot import Diagram, draw, render
from viz.exercise import Exercise, Question, Verdict, exercise
from viz.explain import ChainPath, Explanation, Factor, explain
from viz.live import TrainingView
from viz.neighbourhood import neighbourhood
from viz.plots import plot_activation, plot_decision_boundary, plot_history
from viz.steps import Step, backward_steps, save_backward_html
from viz.trace import Edge, Node, Trace, trace
from viz.training_page import save_training_html

# A Value shows its diagram in Jupyter (autograd itself imports no drawing code).
_autograd.set_renderer(value_bundle)

__all__ = [
    "BugHunt",
    "ChainPath",
    "ConfusionMatrix",
    "Deltas",
    "Diagram",
    "Edge",
    "Exercise",
    "Explanation",
    "Factor",
    "Node",
    "Question",
    "Step",
    "Trace",
    "TrainingView",
    "Verdict",
    "backward_steps",
    "bug_hunt",
    "confusion_matrix",
    "deltas",
    "draw",
    "exercise",
    "explain",
    "export_digit_pad",
    "neighbourhood",
    "plot_activation",
    "plot_confusion",
    "plot_decision_boundary",
    "plot_history",
    "render",
    "save_backward_html",
    "save_training_html",
    "trace",
]
