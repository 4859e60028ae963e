"""numopt: first-order optimizers for NumPy objectives, with SciPy's conventions.

Update rules (gradient descent, mini-batch SGD, Momentum/Nesterov, RMSprop, Adam,
AdamW) run as fused Numba kernels on the CPU or, for CUDA device arrays, on the
GPU.  Importing numopt compiles nothing and needs no GPU.
"""

from numopt import methods, schedules
from numopt._minimize import minimize
from numopt.optimizer import Optimizer
from numopt.rules import GD, RULES, SGD, Adam, AdamW, Momentum, RMSprop

__version__ = "0.1.0"

__all__ = [
    "GD",
    "RULES",
    "SGD",
    "Adam",
    "AdamW",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "methods",
    "minimize",
    "schedules",
]
