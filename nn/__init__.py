"""axongrad's nn package (see the README)."""

from __future__ import annotations

# The marker _axongrad_clash reads; set before importing autograd, which checks that `import nn` is ours.
__axongrad__ = True

import _axongrad_clash

try:
    import autograd as _autograd
except ImportError as _error:  # e.g. a learner's autograd.py that imports nn: say so
    raise _axongrad_clash.explain_failed_import("autograd", "nn", _error) from _error

# HIPS autograd uses the same import name; fail with a clear message instead of an AttributeError.
if not _axongrad_clash.is_ours(_autograd):
    raise _axongrad_clash.import_error("autograd", _autograd, "nn")

from nn import lecture  # the micrograd lecture's tanh MLP: `from nn.lecture import MLP`
from nn.activations import ACTIVATIONS
from nn.datasets import and_gate, circles, digits, moons, train_test_split, xor
from nn.doctor import diagnose
from nn.frames import Boundary, Frame, LayerFrame, SampleFrame
from nn.layers import MLP, Layer, Neuron, seed
from nn.losses import binary_cross_entropy, cross_entropy, hinge, mse, softmax, squared_error
from nn.module import Module
from nn.optim import SGD, Adam, Optimizer
from nn.serialize import load, save
from nn.train import ENGINES, History, evaluate, fit

__all__ = [
    "ACTIVATIONS",
    "ENGINES",
    "MLP",
    "SGD",
    "Adam",
    "Boundary",
    "Frame",
    "History",
    "Layer",
    "LayerFrame",
    "Module",
    "Neuron",
    "Optimizer",
    "SampleFrame",
    "and_gate",
    "binary_cross_entropy",
    "circles",
    "cross_entropy",
    "diagnose",
    "digits",
    "evaluate",
    "fit",
    "hinge",
    "lecture",
    "load",
    "moons",
    "mse",
    "save",
    "seed",
    "softmax",
    "squared_error",
    "train_test_split",
    "xor",
]
