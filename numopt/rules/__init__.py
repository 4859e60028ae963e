"""The update rules, one file each, and the table that names them.

Each file declares one rule (:class:`~numopt.rules.spec.RuleSpec`): its NumPy
reference, its element body (compiled into the CPU and CUDA loops by
:mod:`numopt.kernels`), its factors and hyperparameters, and the stateful class
built from them (:class:`~numopt.rules.optimizer.Optimizer`).  Adding a rule is one
file plus one entry in :data:`RULES`.
"""

from __future__ import annotations

from numopt.rules.adabelief import AdaBelief
from numopt.rules.adadelta import Adadelta
from numopt.rules.adafactor import Adafactor
from numopt.rules.adagrad import Adagrad
from numopt.rules.adam import Adam, AdamW
from numopt.rules.adamax import Adamax
from numopt.rules.adan import Adan
from numopt.rules.ademamix import AdEMAMix
from numopt.rules.adopt import ADOPT
from numopt.rules.asgd import ASGD
from numopt.rules.gd import GD, SGD
from numopt.rules.lamb import Lamb
from numopt.rules.lars import LARS
from numopt.rules.lion import Lion
from numopt.rules.momentum import Momentum
from numopt.rules.muon import Muon
from numopt.rules.nadam import NAdam
from numopt.rules.optimizer import Optimizer
from numopt.rules.prodigy import Prodigy
from numopt.rules.radam import RAdam
from numopt.rules.rmsprop import RMSprop
from numopt.rules.rprop import Rprop
from numopt.rules.schedule_free import ScheduleFreeAdamW, ScheduleFreeSGD
from numopt.rules.sign import SignSGD, Signum
from numopt.rules.sparse_adam import SparseAdam
from numopt.rules.yogi import Yogi

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
    "asgd": ASGD,
    "adabelief": AdaBelief,
    "yogi": Yogi,
    "adan": Adan,
    "adopt": ADOPT,
    "ademamix": AdEMAMix,
    "sign_sgd": SignSGD,
    "signum": Signum,
    "lars": LARS,
    "muon": Muon,
    "adafactor": Adafactor,
    "sparse_adam": SparseAdam,
    "prodigy": Prodigy,
    "schedule_free_sgd": ScheduleFreeSGD,
    "schedule_free_adamw": ScheduleFreeAdamW,
}

__all__ = [
    "ADOPT",
    "ASGD",
    "GD",
    "LARS",
    "RULES",
    "SGD",
    "AdEMAMix",
    "AdaBelief",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Adan",
    "Lamb",
    "Lion",
    "Momentum",
    "Muon",
    "NAdam",
    "Optimizer",
    "Prodigy",
    "RAdam",
    "RMSprop",
    "Rprop",
    "ScheduleFreeAdamW",
    "ScheduleFreeSGD",
    "SignSGD",
    "Signum",
    "SparseAdam",
    "Yogi",
]
