"""axongrad's nn package (see the README)."""

from __future__ import annotations

# The marker _axongrad_clash reads; set before importing autograd, which checks that `import nn` is ours.
__axongrad__ = True

import _axongrad_clash

# HIPS autograd uses the same import name (and a learner's autograd.py can hide ours): say so.
if (_clash := _axongrad_clash.autograd_error("nn")) is not None:
    raise _clash

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
