"""Learning-rate schedules: maps from the 0-based update count to a learning rate.

A schedule is called with ``step``, the number of updates already taken: ``0`` for
the first update, as optax counts (and as PyTorch's schedulers index the initial
learning rate by ``last_epoch = 0``).  It returns a Python ``float``.  The front end
calls it once per update, so evaluation is plain float arithmetic with :mod:`math`:
no NumPy arrays and no new objects per call.

Every schedule is a small object, validated when built (the message names the
argument, says what was expected and shows what was given), with a readable
``repr``.  All values are finite and ``>= 0``; a schedule may reach ``0`` only
where its parameters say so (``end=0``, ``alpha=0``, ``eta_min=0``,
``start_value=0`` ...).

Driving a schedule (the contract with the front end)
----------------------------------------------------
* ``lr = schedule(step)`` with ``step = 0, 1, 2, ...`` — one call per update.
* ``schedule.needs_loss`` is true for :class:`ReduceLROnPlateau` and for any
  composite (:func:`warmup`, :func:`join`) that contains one.  Then call
  ``schedule.update(loss)`` with a finite loss at the cadence the caller chose (once
  per epoch or once per iteration); the next ``schedule(step)`` reflects it.  For
  the other schedules ``update`` exists and does nothing.
* ``schedule.state_dict()`` is a flat ``dict`` of Python scalars (empty for pure
  schedules) and ``schedule.load_state_dict(d)`` restores it exactly.

The package
-----------
Each schedule is one class, documented once; its lower-case name is the same class
(``cosine_annealing is CosineAnnealing``).  The families: :mod:`.decay` (constant,
step, multi-step, exponential, inverse-time, polynomial), :mod:`.cyclic` (cosine,
warm restarts, 1cycle), :mod:`.piecewise` (piecewise constant, from a callable),
:mod:`.composite` (warm-up, join), :mod:`.plateau` (ReduceLROnPlateau); :mod:`.base`
holds the base class and the encoding each schedule uses to lower itself, and
:mod:`.program` (imported only by the compiled loop) evaluates the lowered schedules
in Numba's nopython mode.

Examples
--------
>>> from numopt import schedules
>>> lr = schedules.warmup(schedules.cosine_annealing(0.1, decay_steps=100), warmup_steps=10)
>>> [round(lr(s), 6) for s in (0, 5, 10, 60, 110, 1000)]
[0.0, 0.05, 0.1, 0.05, 0.0, 0.0]
>>> schedules.as_schedule(0.01)
Constant(value=0.01)
"""

from numopt.schedules.base import Schedule
from numopt.schedules.composite import Join, Warmup, as_schedule, join, warmup
from numopt.schedules.cyclic import (
    CosineAnnealing,
    CosineWarmRestarts,
    OneCycle,
    cosine_annealing,
    cosine_warm_restarts,
    one_cycle,
)
from numopt.schedules.decay import (
    Constant,
    Exponential,
    InverseTime,
    MultiStep,
    Polynomial,
    StepDecay,
    constant,
    exponential,
    inverse_time,
    multi_step,
    polynomial,
    step_decay,
)
from numopt.schedules.piecewise import (
    FromCallable,
    PiecewiseConstant,
    from_callable,
    piecewise_constant,
)
from numopt.schedules.plateau import ReduceLROnPlateau

__all__ = [
    "Constant",
    "CosineAnnealing",
    "CosineWarmRestarts",
    "Exponential",
    "FromCallable",
    "InverseTime",
    "Join",
    "MultiStep",
    "OneCycle",
    "PiecewiseConstant",
    "Polynomial",
    "ReduceLROnPlateau",
    "Schedule",
    "StepDecay",
    "Warmup",
    "as_schedule",
    "constant",
    "cosine_annealing",
    "cosine_warm_restarts",
    "exponential",
    "from_callable",
    "inverse_time",
    "join",
    "multi_step",
    "one_cycle",
    "piecewise_constant",
    "polynomial",
    "step_decay",
    "warmup",
]
