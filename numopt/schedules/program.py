"""Learning-rate schedules lowered to arrays, evaluated in Numba nopython code.

The compiled optimisation loop cannot call Python objects, so :func:`lower` turns a
learning rate (a float or a :mod:`numopt.schedules` schedule, composites included)
into a :class:`ScheduleProgram`: three NumPy arrays that :func:`rate` and
:func:`observe` read.  The argument types never change, so a loop that calls them
compiles once for every schedule.

``rate(step, ints, floats, state)`` is ``schedule(step)`` and ``observe(loss, ints,
floats, state)`` is ``schedule.update(loss)``, with the same float64 bits: the formulas
are the plain functions of the family modules of :mod:`numopt.schedules`
(``decay._power_decay``, ``cyclic._cosine_annealing_at``, ...), which the Python
schedules call and which are compiled here as they are.  Only the search of a step
among sorted boundaries is written twice (``bisect_right`` there,
:func:`_bisect_right` here); both give the same integer.
Bit-for-bit equality holds for steps below 2**53 (Python divides larger ints exactly).

The layout (row ``0`` of ``ints`` is a header, rows ``1..n`` are the nodes of the
schedule tree, the last row of ``ints`` and of ``floats`` is a pool of variable-length
data; a node has a kind, its parent's row, five int and six float parameters).  Each
schedule class writes its own node in its ``_encode`` method (see
:class:`~numopt.schedules.base.Tree`); the kind numbers are defined beside the classes:

==============  ==============================================  ============================
kind            ints ``A B C D E``                              floats
==============  ==============================================  ============================
constant                                                        value
step_decay      step_size                                       initial, gamma
multi_step      milestones offset, count                        initial, gamma
exponential     transition_steps, staircase                     initial, decay_rate
inverse_time    decay_steps, staircase                          initial, decay_rate
polynomial      transition_steps                                initial, end, power
cosine          decay_steps                                     initial, alpha
warm_restarts   first_period, period_mult                       initial, eta_min
one_cycle       total_steps, cos                                max_lr, initial, min, end1
piecewise       boundaries offset, count, values offset (float)
plateau         state offset, patience, cooldown, minimize,     threshold, factor, min_lr,
                relative                                        eps
warmup          child row, warmup_steps                         start_value
join            boundaries offset, count, children offset
==============  ==============================================  ============================

Each distinct :class:`~numopt.schedules.ReduceLROnPlateau` owns five entries of
``state``: ``lr, best, num_bad_epochs, cooldown_counter, num_updates``.  A composite
that holds the same plateau object twice updates it twice per loss, as in Python.

Examples
--------
>>> from numopt import schedules
>>> lr = schedules.warmup(schedules.cosine_annealing(0.1, decay_steps=100), warmup_steps=10)
>>> program = lower(lr)
>>> [rate(s, program.ints, program.floats, program.state) == lr(s) for s in (0, 5, 60, 500)]
[True, True, True, True]
>>> lower(lambda step: 0.1)
Traceback (most recent call last):
...
numopt.schedules.base.NotCompilable: learning_rate is a callable (<lambda>), not a \
Schedule: the compiled loop evaluates only the schedules of numopt.schedules, so this run \
uses the Python loop; build the schedule from numopt.schedules (join, warmup, \
piecewise_constant, ...) to compile it
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import numpy as np
from numba import njit

from numopt import _checks
from numopt.schedules import composite, cyclic, decay, piecewise, plateau
from numopt.schedules.base import PYTHON_LOOP_HINT, Node, NotCompilable, Schedule, Tree
from numopt.schedules.composite import JOIN, WARMUP
from numopt.schedules.cyclic import COSINE, ONE_CYCLE, WARM_RESTARTS
from numopt.schedules.decay import (
    CONSTANT,
    EXPONENTIAL,
    INVERSE_TIME,
    MULTI_STEP,
    POLYNOMIAL,
    STEP_DECAY,
    Constant,
)
from numopt.schedules.piecewise import PIECEWISE
from numopt.schedules.plateau import PLATEAU

__all__ = ["INLINED_MODULES", "NotCompilable", "ScheduleProgram", "lower", "observe", "rate"]

# -- the layout --------------------------------------------------------------------------
# header (row 0 of ints)
H_NODES, H_OBSERVE_N, H_OBSERVE_OFF = 0, 1, 2
# node columns of ints
KIND, PARENT, A, B, C, D, E = 0, 1, 2, 3, 4, 5, 6
INT_COLUMNS, FLOAT_COLUMNS = 8, Node.FLOATS

# -- the formulas, compiled from the very functions the Python schedules call -----------
_power_decay = njit(cache=True)(decay._power_decay)
_exponent = njit(cache=True)(decay._exponent)
_inverse_time_at = njit(cache=True)(decay._inverse_time_at)
_polynomial_at = njit(cache=True)(decay._polynomial_at)
_cosine_annealing_at = njit(cache=True)(cyclic._cosine_annealing_at)
_restart_position = njit(cache=True)(cyclic._restart_position)
_warm_restarts_at = njit(cache=True)(cyclic._warm_restarts_at)
_one_cycle_at = njit(cache=True)(cyclic._one_cycle_at)
_warmup_at = njit(cache=True)(composite._warmup_at)
_plateau_update = njit(cache=True)(plateau._plateau_update)


@njit(cache=True)
def _bisect_right(pool: np.ndarray, offset: int, n: int, step: int) -> int:
    """``bisect_right(pool[offset:offset + n], step)``: how many entries are <= step."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if step < pool[offset + mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _leaf(node: int, s: int, ints: np.ndarray, floats: np.ndarray, state: np.ndarray) -> float:
    """The value at step ``s`` of a schedule that is not a composite."""
    kind = ints[node, KIND]
    last = ints.shape[0] - 1
    if kind == CONSTANT:
        return floats[node, 0]
    if kind == STEP_DECAY:
        return _power_decay(floats[node, 0], floats[node, 1], float(s // ints[node, A]))
    if kind == MULTI_STEP:
        k = _bisect_right(ints[last], ints[node, A], ints[node, B], s)
        return _power_decay(floats[node, 0], floats[node, 1], float(k))
    if kind == EXPONENTIAL:
        p = _exponent(s, ints[node, A], ints[node, B] != 0)
        return _power_decay(floats[node, 0], floats[node, 1], p)
    if kind == INVERSE_TIME:
        p = _exponent(s, ints[node, A], ints[node, B] != 0)
        return _inverse_time_at(floats[node, 0], floats[node, 1], p)
    if kind == POLYNOMIAL:
        return _polynomial_at(s, floats[node, 0], floats[node, 1], floats[node, 2], ints[node, A])
    if kind == COSINE:
        return _cosine_annealing_at(s, floats[node, 0], ints[node, A], floats[node, 1])
    if kind == WARM_RESTARTS:
        t_cur, t_i = _restart_position(s, ints[node, A], ints[node, B])
        return _warm_restarts_at(t_cur, t_i, floats[node, 0], floats[node, 1])
    if kind == ONE_CYCLE:
        return _one_cycle_at(
            s,
            ints[node, A],
            floats[node, 3],
            floats[node, 1],
            floats[node, 0],
            floats[node, 2],
            ints[node, B] != 0,
        )
    if kind == PIECEWISE:
        k = _bisect_right(ints[last], ints[node, A], ints[node, B], s)
        return floats[floats.shape[0] - 1, ints[node, C] + k]
    if kind == PLATEAU:
        return state[ints[node, A]]
    raise ValueError("corrupt schedule program: unknown node kind")


@njit(cache=True)
def rate(step: int, ints: np.ndarray, floats: np.ndarray, state: np.ndarray) -> float:
    """The learning rate of the update with 0-based index ``step`` (``schedule(step)``).

    Composites are walked without recursion: a :func:`~numopt.schedules.warmup`
    before its end needs its schedule's value at step 0, so the walk goes on at step 0
    and the warm-ups left pending on the way are applied on the way back up (through
    the parents), innermost first, as Python's nested calls return.
    """
    node = 1
    s = step
    first = -1  # the outermost warm-up still ramping at this step, if any
    s_first = 0
    while True:
        kind = ints[node, KIND]
        if kind == WARMUP:
            w = ints[node, B]
            if s >= w:
                s -= w
            elif first < 0:
                first = node
                s_first = s
                s = 0
            # else: below ``first`` every step is 0; this warm-up is pending if w > 0
            node = ints[node, A]
        elif kind == JOIN:
            last = ints.shape[0] - 1
            k = _bisect_right(ints[last], ints[node, A], ints[node, B], s)
            if k > 0:
                s -= ints[last, ints[node, A] + k - 1]
            node = ints[last, ints[node, C] + k]
        else:
            break
    value = _leaf(node, s, ints, floats, state)
    if first < 0:
        return value
    up = ints[node, PARENT]
    while up != first:
        if ints[up, KIND] == WARMUP and ints[up, B] > 0:
            value = _warmup_at(0, ints[up, B], floats[up, 0], value)
        up = ints[up, PARENT]
    return _warmup_at(s_first, ints[first, B], floats[first, 0], value)


@njit(cache=True)
def observe(loss: float, ints: np.ndarray, floats: np.ndarray, state: np.ndarray) -> None:
    """``schedule.update(loss)``: every plateau rule in the schedule takes ``loss``.

    A no-op for schedules without one.  A non-finite ``loss`` raises ``ValueError``
    before anything changes, as :meth:`~numopt.schedules.ReduceLROnPlateau.update`
    does (its message there also shows the value).
    """
    n = ints[0, H_OBSERVE_N]
    if n == 0:
        return
    if not math.isfinite(loss):
        raise ValueError("loss must be finite (ReduceLROnPlateau.update)")
    last = ints.shape[0] - 1
    offset = ints[0, H_OBSERVE_OFF]
    for j in range(n):
        node = ints[last, offset + j]
        o = ints[node, A]
        state[o + 4] += 1.0
        lr, best, num_bad, cooldown_counter = _plateau_update(
            loss,
            state[o],
            state[o + 1],
            int(state[o + 2]),
            int(state[o + 3]),
            ints[node, D] != 0,
            ints[node, E] != 0,
            floats[node, 0],
            ints[node, B],
            ints[node, C],
            floats[node, 1],
            floats[node, 2],
            floats[node, 3],
        )
        state[o] = lr
        state[o + 1] = best
        state[o + 2] = num_bad
        state[o + 3] = cooldown_counter


# -- lowering ----------------------------------------------------------------------------
class ScheduleProgram:
    """A learning rate as arrays for :func:`rate` and :func:`observe`; see :func:`lower`.

    Attributes
    ----------
    ints : numpy.ndarray
        int64, 2-D: the header, the nodes and the pool of boundaries (read-only use).
    floats : numpy.ndarray
        float64, 2-D: the nodes' parameters and the pool of values (read-only use).
    state : numpy.ndarray
        float64, 1-D, length >= 1: the plateau rules' state, changed by
        :func:`observe`; :meth:`store` writes it back into the schedule.
    needs_loss : bool
        Whether :func:`observe` must be fed losses (``schedule.needs_loss``).

    Examples
    --------
    >>> from numopt import schedules
    >>> plateau = schedules.ReduceLROnPlateau(1.0, factor=0.5, patience=0)
    >>> program = lower(plateau)
    >>> program.needs_loss
    True
    >>> for loss in (3.0, 4.0):
    ...     observe(loss, program.ints, program.floats, program.state)
    >>> rate(0, program.ints, program.floats, program.state)
    0.5
    >>> program.store(plateau)
    >>> plateau.state_dict()
    {'lr': 0.5, 'best': 3.0, 'num_bad_epochs': 0, 'cooldown_counter': 0, 'num_updates': 2}
    """

    __slots__ = ("_signature", "_stateful", "floats", "ints", "needs_loss", "state")

    def __init__(self, tree: Tree) -> None:
        nodes = len(tree.nodes)
        width = max(INT_COLUMNS, len(tree.int_pool) + len(tree.observed), 1)
        ints = np.zeros((nodes + 2, width), np.int64)
        floats = np.zeros((nodes + 2, max(FLOAT_COLUMNS, len(tree.float_pool))), np.float64)
        for node in tree.nodes:
            ints[node.row, KIND] = node.kind
            ints[node.row, PARENT] = node.parent
            ints[node.row, A : A + len(node.ints)] = node.ints
            floats[node.row, : len(node.floats)] = node.floats
        pool = tree.int_pool + tree.observed
        ints[-1, : len(pool)] = pool
        floats[-1, : len(tree.float_pool)] = tree.float_pool
        ints[0, H_NODES] = nodes
        ints[0, H_OBSERVE_N] = len(tree.observed)
        ints[0, H_OBSERVE_OFF] = len(tree.int_pool)
        state = np.zeros(max(1, len(tree.state)), np.float64)
        state[: len(tree.state)] = tree.state
        self.ints = ints
        self.floats = floats
        self.state = state
        self.needs_loss = bool(tree.observed)
        self._signature = tuple(tree.signature)
        self._stateful = bool(tree.owners)

    def __repr__(self) -> str:
        names = ", ".join((s[0] if isinstance(s, tuple) else s).__name__ for s in self._signature)
        return f"ScheduleProgram([{names}], needs_loss={self.needs_loss})"

    def store(self, schedule: Any) -> None:
        """Write :attr:`state` back into ``schedule`` (the one lowered, or a twin).

        Afterwards ``schedule.state_dict()`` and a checkpoint show the compiled run's
        plateau state.  A no-op for schedules without state.

        Raises
        ------
        ValueError
            If ``schedule`` is not built like the lowered schedule.
        """
        if not self._stateful:
            return  # nothing to write (a float learning rate lowers to a constant)
        tree = Tree()
        try:
            if isinstance(schedule, Schedule):
                tree.add(schedule, 0, "schedule")
            else:
                tree.signature.append(None)
        except NotCompilable:
            tree.signature.append(None)
        if tuple(tree.signature) != self._signature:
            raise ValueError(
                f"schedule must be the schedule this program was lowered from, got {schedule!r}"
            )
        for owner, start, stop in tree.owners:
            owner._load_state(self.state[start:stop].tolist())


def lower(learning_rate: Any) -> ScheduleProgram:
    """Lower a learning rate to a :class:`ScheduleProgram` for the compiled loop.

    Parameters
    ----------
    learning_rate : float or numopt.schedules.Schedule
        A constant (a real number > 0) or any schedule of :mod:`numopt.schedules`
        except :func:`~numopt.schedules.from_callable`, composites included.  The
        current state of its plateau rules is read, so a resumed run goes on exactly.

    Returns
    -------
    ScheduleProgram

    Raises
    ------
    NotCompilable
        For a Python callable, a :func:`~numopt.schedules.from_callable` anywhere in
        the schedule, a :class:`~numopt.schedules.Schedule` subclass defined elsewhere,
        or anything else that is not a number; the message says why.
    ValueError
        For a number that is not finite and > 0 (as everywhere in numopt).

    Examples
    --------
    >>> from numopt import schedules
    >>> lr = schedules.join([0.1, schedules.step_decay(0.1, 10, 0.5)], [5])
    >>> p = lower(lr)
    >>> [rate(s, p.ints, p.floats, p.state) for s in (0, 5, 15, 25)]
    [0.1, 0.1, 0.05, 0.025]
    >>> lower(schedules.warmup(schedules.from_callable(abs), 10))
    Traceback (most recent call last):
    ...
    numopt.schedules.base.NotCompilable: learning_rate.schedule is from_callable(abs), a \
Python function: the compiled loop evaluates only the schedules of numopt.schedules, so \
this run uses the Python loop; build the schedule from numopt.schedules (join, warmup, \
piecewise_constant, ...) to compile it
    """
    tree = Tree()
    if isinstance(learning_rate, Schedule):
        tree.add(learning_rate, 0, "learning_rate")
    elif isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        tree.add(Constant(_checks.positive("learning_rate", learning_rate)), 0, "learning_rate")
    elif callable(learning_rate):
        name = getattr(learning_rate, "__qualname__", None) or repr(learning_rate)
        raise NotCompilable(
            f"learning_rate is a callable ({name}), not a Schedule: {PYTHON_LOOP_HINT}"
        )
    else:
        raise NotCompilable(
            "learning_rate must be a float or a numopt.schedules.Schedule to compile, got "
            f"{learning_rate!r} ({type(learning_rate).__name__})"
        )
    return ScheduleProgram(tree)


#: Every module whose code the compiled evaluation (:func:`rate`, :func:`observe`)
#: inlines: the family modules, whose formulas and kind numbers are compiled in, and
#: this one.  Numba's on-disk cache of a compiled caller does not watch these files,
#: so a caller that caches itself names its cache after their sources (as
#: ``numopt._compiled`` does with ``source_digest``).
INLINED_MODULES = (decay, cyclic, piecewise, composite, plateau, sys.modules[__name__])
