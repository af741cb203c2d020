"""axongrad's nn package (see the README)."""

from __future__ import annotations

import autograd as _autograd

# HIPS autograd uses the same import name; fail with a clear message instead of an AttributeError.
if not getattr(_autograd, "__axongrad__", False):
    raise ImportError(
        f"nn needs axongrad's autograd package, but 'import autograd' found another one at "
        f"{getattr(_autograd, '__file__', None) or 'a folder without __init__.py'} (probably HIPS "
        "autograd, which uses the same name). 'pip uninstall autograd' alone also deletes the "
        "autograd/__init__.py the two share; repair with 'pip uninstall -y autograd && pip install "
        "--force-reinstall --no-deps axongrad' (or the wheel or folder you installed it from; for a "
        "checkout: 'pip install -e .'), or keep them in separate virtual environments."
    )

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
