"""The update rules, one file each, and the table that names them.

Each file declares one rule (:class:`~numopt.rules.spec.RuleSpec`): its NumPy
reference, its element body (compiled into the CPU and CUDA loops by
:mod:`numopt.kernels`), its factors and hyperparameters, and the stateful class
built from them (:class:`~numopt.rules.optimizer.Optimizer`).  Adding a rule is one
file plus one entry in :data:`RULES`.
"""

from __future__ import annotations

from numopt.rules.adadelta import Adadelta
from numopt.rules.adagrad import Adagrad
from numopt.rules.adam import Adam, AdamW
from numopt.rules.adamax import Adamax
from numopt.rules.gd import GD, SGD
from numopt.rules.lamb import Lamb
from numopt.rules.lion import Lion
from numopt.rules.momentum import Momentum
from numopt.rules.nadam import NAdam
from numopt.rules.optimizer import Optimizer
from numopt.rules.radam import RAdam
from numopt.rules.rmsprop import RMSprop
from numopt.rules.rprop import Rprop

#: ``method=`` name → stateful optimizer class.  "sgd" is the plain gradient
#: step fed with mini-batches.
RULES: dict[str, type[Optimizer]] = {
    "gd": GD,
    "sgd": SGD,
    "momentum": Momentum,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": NAdam,
    "radam": RAdam,
    "rprop": Rprop,
    "lion": Lion,
    "lamb": Lamb,
}

__all__ = [
    "GD",
    "RULES",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lamb",
    "Lion",
    "Momentum",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
]
