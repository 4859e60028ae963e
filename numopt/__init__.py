"""numopt: first-order optimizers for NumPy objectives, with SciPy's conventions.

Update rules (gradient descent, mini-batch SGD, Momentum/Nesterov, RMSprop, Adam,
AdamW) run as fused Numba kernels on the CPU or, for CUDA device arrays, on the
GPU.  Importing numopt compiles nothing and needs no GPU.
"""

from numopt import methods, schedules, transforms
from numopt._minimize import minimize
from numopt.optimizer import Optimizer
from numopt.rules import (
    GD,
    RULES,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lamb,
    Lion,
    Momentum,
    NAdam,
    RAdam,
    RMSprop,
    Rprop,
)
from numopt.transforms import EMA, Averaged, Lookahead, MultiSteps, ParamGroups, Polyak

__version__ = "0.1.0"

__all__ = [
    "EMA",
    "GD",
    "RULES",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Averaged",
    "Lamb",
    "Lion",
    "Lookahead",
    "Momentum",
    "MultiSteps",
    "NAdam",
    "Optimizer",
    "ParamGroups",
    "Polyak",
    "RAdam",
    "RMSprop",
    "Rprop",
    "methods",
    "minimize",
    "schedules",
    "transforms",
]
