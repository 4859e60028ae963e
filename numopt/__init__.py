"""numopt: the update rules of modern training for NumPy objectives, SciPy-style.

:func:`minimize` is the door, with ``scipy.optimize.minimize``'s calling
conventions; the stateful optimizers (``numopt.Adam(...).step(x, g)``) serve custom
loops.  The rules — gradient descent and mini-batch SGD, Momentum/Nesterov,
RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, Lion,
LAMB, LARS, AdaBelief, Yogi, Adan, ADOPT, AdEMAMix, sign SGD, Signum,
Schedule-Free SGD/AdamW (:data:`RULES`) — run as fused Numba kernels on the CPU or,
for CUDA device arrays, on the GPU; so do Muon (matrix products), SparseAdam (lazy
rows), Prodigy (an estimated rate) and Adafactor (factored moments), with kernels of
their own.
Schedules, transforms and bounds compose with every rule.
:class:`LBFGS` is L-BFGS-B (``method="l-bfgs-b"``), the quasi-Newton method of
``scipy.optimize.minimize``, for smooth deterministic objectives.
Importing numopt compiles nothing and needs no GPU.

The package, from the door down: :mod:`numopt.front` (options, configuration,
results), :mod:`numopt.loop` (the one iteration, run from Python or compiled),
:mod:`numopt.problem` (``x0``'s structure, the objective, batches, bounds,
placement), :mod:`numopt.rules` (one file per rule), :mod:`numopt.quasi_newton`
(L-BFGS-B), :mod:`numopt.kernels` (the
compiled loops), :mod:`numopt.schedules` and :mod:`numopt.transforms`.
"""

from numopt import methods, schedules, transforms
from numopt.front.minimize import minimize
from numopt.loop.loop_cache import RecompileWarning
from numopt.many import minimize_many
from numopt.quasi_newton import LBFGS
from numopt.rules import (
    ADOPT,
    ASGD,
    GD,
    LARS,
    RULES,
    SGD,
    AdaBelief,
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Adan,
    AdEMAMix,
    Lamb,
    Lion,
    Momentum,
    Muon,
    NAdam,
    Optimizer,
    Prodigy,
    RAdam,
    RMSprop,
    Rprop,
    ScheduleFreeAdamW,
    ScheduleFreeSGD,
    SignSGD,
    Signum,
    SparseAdam,
    Yogi,
)
from numopt.transforms import EMA, SAM, Averaged, Lookahead, MultiSteps, ParamGroups, Polyak

__version__ = "0.1.0"

__all__ = [
    "ADOPT",
    "ASGD",
    "EMA",
    "GD",
    "LARS",
    "LBFGS",
    "RULES",
    "SAM",
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
    "Averaged",
    "Lamb",
    "Lion",
    "Lookahead",
    "Momentum",
    "MultiSteps",
    "Muon",
    "NAdam",
    "Optimizer",
    "ParamGroups",
    "Polyak",
    "Prodigy",
    "RAdam",
    "RMSprop",
    "RecompileWarning",
    "Rprop",
    "ScheduleFreeAdamW",
    "ScheduleFreeSGD",
    "SignSGD",
    "Signum",
    "SparseAdam",
    "Yogi",
    "methods",
    "minimize",
    "minimize_many",
    "schedules",
    "transforms",
]
