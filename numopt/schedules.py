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

Examples
--------
>>> from numopt import schedules
>>> lr = schedules.warmup(schedules.cosine_annealing(0.1, decay_steps=100), warmup_steps=10)
>>> [round(lr(s), 6) for s in (0, 5, 10, 60, 110, 1000)]
[0.0, 0.05, 0.1, 0.05, 0.0, 0.0]
>>> schedules.as_schedule(0.01)
Constant(value=0.01)
"""

from __future__ import annotations

import math
import numbers
import operator
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numopt import _checks

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


# -- validation ----------------------------------------------------------------------
def _sequence(name: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _checks.type_error(name, "a sequence", value)
    return tuple(value)


def _increasing_steps(name: str, value: Any) -> tuple[int, ...]:
    """Strictly increasing integers >= 1 (milestones, boundaries)."""
    items = tuple(
        _checks.integer(f"{name}[{i}]", b, 1) for i, b in enumerate(_sequence(name, value))
    )
    for i in range(1, len(items)):
        if items[i] <= items[i - 1]:
            raise ValueError(
                f"{name} must be strictly increasing, got {list(items)} "
                f"({name}[{i}] = {items[i]} <= {name}[{i - 1}] = {items[i - 1]})"
            )
    return items


def _check_step(step: Any) -> int:
    """The slow path of the step check (the fast path is inlined in ``__call__``)."""
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Integral):
        raise _checks.type_error("step", "an integer >= 0", step)
    step = operator.index(step)
    if step < 0:
        raise ValueError(f"step must be an integer >= 0, got {step!r}")
    return step


def _to_schedule(name: str, value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise _checks.type_error(name, "a float > 0, a Schedule or a callable step -> float", value)
    if isinstance(value, numbers.Real):
        return Constant(_checks.positive(name, value))
    if callable(value):
        return FromCallable(value)
    raise _checks.type_error(name, "a float > 0, a Schedule or a callable step -> float", value)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


# -- the base class ------------------------------------------------------------------
class Schedule:
    """Base class of the learning-rate schedules.

    A subclass implements ``_at(step) -> float`` for a validated ``step`` (a Python
    ``int >= 0``); :meth:`__call__` checks the step and calls it.  Stateful
    subclasses also override :attr:`needs_loss`, :meth:`update`,
    :meth:`state_dict` and :meth:`load_state_dict`.

    Examples
    --------
    >>> class Halving(Schedule):
    ...     def _at(self, step):
    ...         return 1.0 / 2**step
    >>> Halving()(3)
    0.125
    >>> Halving()(-1)
    Traceback (most recent call last):
    ...
    ValueError: step must be an integer >= 0, got -1
    """

    __slots__ = ()

    def __call__(self, step: int) -> float:
        """The learning rate of the update with 0-based index ``step``."""
        if type(step) is not int or step < 0:
            step = _check_step(step)
        return self._at(step)

    def _at(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement _at(step)")

    @property
    def needs_loss(self) -> bool:
        """Whether :meth:`update` must be fed losses (only plateau rules need it)."""
        return False

    def update(self, loss: float) -> None:
        """Take a loss value into account; a no-op for schedules of the step alone."""

    def state_dict(self) -> dict[str, Any]:
        """The schedule's mutable state as plain data (empty for pure schedules)."""
        return {}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if not isinstance(state_dict, Mapping):
            raise _checks.type_error("state_dict", "a dict", state_dict)
        if state_dict:
            raise ValueError(
                f"state_dict must be empty for {type(self).__name__}, which has no state; "
                f"got keys {sorted(state_dict)}"
            )


# -- the arithmetic, shared with the compiled loop ------------------------------------
# Each schedule's formula lives in one plain function below, called by the schedule's
# ``_at`` (or ``update``) and compiled as is by :mod:`numopt._schedule_program`
# (``njit(fn)``) for the compiled optimisation loop, so that both give the same float64
# bits.  Keep them numba-compilable and keep their operations in this order:
#
# * ``a ** n`` with a float ``a`` and an int ``n`` is C ``pow(a, (double)n)`` in
#   Python but repeated multiplication in numba, so powers are written
#   ``math.pow(a, float(n))`` (C ``pow`` in both);
# * int / int is a double division in both only while the ints are below 2**53
#   (Python divides big ints exactly), which any real step count is;
# * the positions in sorted boundaries (``bisect_right``) are found by the caller:
#   ``bisect`` here, a binary search there.
#
# numba's on-disk cache of the compiled loop does not notice edits to this file:
# after changing one of these functions, delete the ``*.nbi``/``*.nbc`` files in
# ``numopt/__pycache__`` (tests/test_schedule_program.py fails until then).


def _power_decay(initial: float, rate: float, p: float) -> float:
    """``initial * rate ** p`` (StepDecay, MultiStep, Exponential)."""
    return initial * math.pow(rate, p)


def _exponent(step: int, period: int, staircase: bool) -> float:
    """``step / period``, or ``step // period`` if ``staircase``, as a float."""
    if staircase:
        return float(step // period)
    return step / period


def _inverse_time_at(initial: float, decay_rate: float, p: float) -> float:
    return initial / (1 + decay_rate * p)


def _polynomial_at(step: int, initial: float, end: float, power: float, t: int) -> float:
    frac = 1 - min(step, t) / t
    return (initial - end) * math.pow(frac, power) + end


def _cosine_annealing_at(step: int, initial: float, t: int, alpha: float) -> float:
    cosine = 0.5 * (1 + math.cos(math.pi * min(step, t) / t))
    return initial * ((1 - alpha) * cosine + alpha)


def _restart_position(step: int, t0: int, m: int) -> tuple[int, int]:
    """``(T_cur, T_i)`` of SGDR at ``step``: exact integers, no logarithm."""
    if step < t0:
        return step, t0
    if m == 1:
        return step % t0, t0
    start, t_i = 0, t0  # period i starts at t0 * (m**i - 1) / (m - 1) and lasts t0 * m**i
    while step - start >= t_i:
        start += t_i
        t_i *= m
    return step - start, t_i


def _warm_restarts_at(t_cur: int, t_i: int, initial: float, eta_min: float) -> float:
    return eta_min + (initial - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def _one_cycle_at(
    step: int,
    total_steps: int,
    end1: float,
    initial: float,
    max_lr: float,
    min_lr: float,
    cos: bool,
) -> float:
    # PyTorch's OneCycleLR.get_lr for one parameter group, three_phase=False.
    if step <= end1:
        start_step, end_step = 0.0, end1
        start, end = initial, max_lr
    else:
        start_step, end_step = end1, float(total_steps - 1)
        start, end = max_lr, min_lr
    pct = (step - start_step) / (end_step - start_step)
    if cos:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def _warmup_at(step: int, w: int, start: float, target: float) -> float:
    return start + (target - start) * step / w


def _plateau_update(
    a: float,
    lr: float,
    best: float,
    num_bad: int,
    cooldown_counter: int,
    minimize: bool,
    relative: bool,
    threshold: float,
    patience: int,
    cooldown: int,
    factor: float,
    min_lr: float,
    eps: float,
) -> tuple[float, float, int, int]:
    """ReduceLROnPlateau's rule for one finite loss ``a`` (not counting the update)."""
    if minimize:
        better = a < best * (1.0 - threshold) if relative else a < best - threshold
    else:
        better = a > best * (threshold + 1.0) if relative else a > best + threshold
    if better:
        best = a
        num_bad = 0
    else:
        num_bad += 1
    if cooldown_counter > 0:
        cooldown_counter -= 1
        num_bad = 0  # bad updates during cooldown are ignored
    if num_bad > patience:
        new = lr * factor
        if min_lr > new:  # max(lr * factor, min_lr), as Python's max picks
            new = min_lr
        if lr - new > eps:
            lr = new
        cooldown_counter = cooldown
        num_bad = 0
    return lr, best, num_bad, cooldown_counter


# -- pure schedules ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Constant(Schedule):
    """The same learning rate at every step; see :func:`constant`.

    Examples
    --------
    >>> Constant(0.1)
    Constant(value=0.1)
    """

    value: float

    def __post_init__(self) -> None:
        _set(self, "value", _checks.positive("value", self.value))

    def _at(self, step: int) -> float:
        return self.value


def constant(value: float) -> Constant:
    """A constant learning rate.

    Parameters
    ----------
    value : float
        The learning rate, finite and > 0.

    Returns
    -------
    Constant

    Examples
    --------
    >>> lr = constant(0.01)
    >>> lr(0), lr(10**6)
    (0.01, 0.01)
    """
    return Constant(value)


@dataclass(frozen=True, slots=True)
class StepDecay(Schedule):
    """``initial * gamma ** (step // step_size)``; see :func:`step_decay`.

    Examples
    --------
    >>> StepDecay(0.1, 30)
    StepDecay(initial=0.1, step_size=30, gamma=0.1)
    """

    initial: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "step_size", _checks.integer("step_size", self.step_size, 1))
        _set(self, "gamma", _checks.interval("gamma", self.gamma, "(0, 1]"))

    def _at(self, step: int) -> float:
        return _power_decay(self.initial, self.gamma, float(step // self.step_size))


def step_decay(initial: float, step_size: int, gamma: float = 0.1) -> StepDecay:
    """Decay by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``).

    ``lr(step) = initial * gamma ** (step // step_size)``

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    step_size : int
        Steps between two decays, >= 1.
    gamma : float
        The factor of each decay, in (0, 1].

    Returns
    -------
    StepDecay

    Examples
    --------
    >>> lr = step_decay(1.0, step_size=3, gamma=0.5)
    >>> [lr(s) for s in range(8)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    """
    return StepDecay(initial, step_size, gamma)


@dataclass(frozen=True, slots=True)
class MultiStep(Schedule):
    """Decay by ``gamma`` at each milestone; see :func:`multi_step`.

    Examples
    --------
    >>> MultiStep(0.1, [30, 80])
    MultiStep(initial=0.1, milestones=(30, 80), gamma=0.1)
    """

    initial: float
    milestones: tuple[int, ...]
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "milestones", _increasing_steps("milestones", self.milestones))
        _set(self, "gamma", _checks.interval("gamma", self.gamma, "(0, 1]"))

    def _at(self, step: int) -> float:
        return _power_decay(self.initial, self.gamma, float(bisect_right(self.milestones, step)))


def multi_step(initial: float, milestones: Iterable[int], gamma: float = 0.1) -> MultiStep:
    """Decay by ``gamma`` at each milestone (PyTorch's ``MultiStepLR``).

    ``lr(step) = initial * gamma ** (number of milestones <= step)``: the decay takes
    effect *at* the milestone step.

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    milestones : sequence of int
        Strictly increasing steps >= 1 (may be empty: a constant).
    gamma : float
        The factor of each decay, in (0, 1].

    Returns
    -------
    MultiStep

    Examples
    --------
    >>> lr = multi_step(1.0, milestones=[2, 5], gamma=0.5)
    >>> [lr(s) for s in range(7)]
    [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    """
    return MultiStep(initial, milestones, gamma)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Exponential(Schedule):
    """``initial * decay_rate ** (step / transition_steps)``; see :func:`exponential`.

    Examples
    --------
    >>> Exponential(0.1, 0.9)
    Exponential(initial=0.1, decay_rate=0.9, transition_steps=1, staircase=False)
    """

    initial: float
    decay_rate: float
    transition_steps: int = 1
    staircase: bool = False

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "decay_rate", _checks.interval("decay_rate", self.decay_rate, "(0, 1]"))
        _set(
            self, "transition_steps", _checks.integer("transition_steps", self.transition_steps, 1)
        )
        _set(self, "staircase", _checks.boolean("staircase", self.staircase))

    def _at(self, step: int) -> float:
        p = _exponent(step, self.transition_steps, self.staircase)
        return _power_decay(self.initial, self.decay_rate, p)


def exponential(
    initial: float, decay_rate: float, transition_steps: int = 1, staircase: bool = False
) -> Exponential:
    """Exponential decay (optax's ``exponential_decay``; PyTorch's ``ExponentialLR``).

    ``lr(step) = initial * decay_rate ** p`` with ``p = step / transition_steps``, or
    ``p = step // transition_steps`` if ``staircase``.  PyTorch's ``ExponentialLR``
    with ``gamma`` is ``exponential(initial, gamma)``.

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    decay_rate : float
        The factor applied per ``transition_steps`` steps, in (0, 1].
    transition_steps : int
        Steps over which the rate decays by ``decay_rate``, >= 1.
    staircase : bool
        Decay in discrete jumps every ``transition_steps`` steps.

    Returns
    -------
    Exponential

    Examples
    --------
    >>> lr = exponential(2.0, decay_rate=0.5, transition_steps=2)
    >>> [round(lr(s), 6) for s in range(5)]
    [2.0, 1.414214, 1.0, 0.707107, 0.5]
    >>> lr = exponential(2.0, decay_rate=0.5, transition_steps=2, staircase=True)
    >>> [lr(s) for s in range(5)]
    [2.0, 2.0, 1.0, 1.0, 0.5]
    """
    return Exponential(initial, decay_rate, transition_steps, staircase)


@dataclass(frozen=True, slots=True)
class InverseTime(Schedule):
    """``initial / (1 + decay_rate * step / decay_steps)``; see :func:`inverse_time`.

    Examples
    --------
    >>> InverseTime(0.1, 0.5)
    InverseTime(initial=0.1, decay_rate=0.5, decay_steps=1, staircase=False)
    """

    initial: float
    decay_rate: float
    decay_steps: int = 1
    staircase: bool = False

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "decay_rate", _checks.nonnegative("decay_rate", self.decay_rate))
        _set(self, "decay_steps", _checks.integer("decay_steps", self.decay_steps, 1))
        _set(self, "staircase", _checks.boolean("staircase", self.staircase))

    def _at(self, step: int) -> float:
        p = _exponent(step, self.decay_steps, self.staircase)
        return _inverse_time_at(self.initial, self.decay_rate, p)


def inverse_time(
    initial: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False
) -> InverseTime:
    """Inverse-time decay (Keras's ``InverseTimeDecay``).

    ``lr(step) = initial / (1 + decay_rate * p)`` with ``p = step / decay_steps``, or
    ``p = step // decay_steps`` if ``staircase``.

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    decay_rate : float
        >= 0 (0 gives a constant).
    decay_steps : int
        >= 1.
    staircase : bool
        Decay in discrete jumps every ``decay_steps`` steps.

    Returns
    -------
    InverseTime

    Examples
    --------
    >>> lr = inverse_time(1.0, decay_rate=0.5, decay_steps=2)
    >>> [round(lr(s), 6) for s in range(5)]
    [1.0, 0.8, 0.666667, 0.571429, 0.5]
    """
    return InverseTime(initial, decay_rate, decay_steps, staircase)


@dataclass(frozen=True, slots=True)
class Polynomial(Schedule):
    """Polynomial decay from ``initial`` to ``end``; see :func:`polynomial`.

    Examples
    --------
    >>> Polynomial(0.1, 0.001, 2, 100)
    Polynomial(initial=0.1, end=0.001, power=2.0, transition_steps=100)
    """

    initial: float
    end: float
    power: float
    transition_steps: int

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "end", _checks.nonnegative("end", self.end))
        _set(self, "power", _checks.positive("power", self.power))
        _set(
            self, "transition_steps", _checks.integer("transition_steps", self.transition_steps, 1)
        )

    def _at(self, step: int) -> float:
        return _polynomial_at(step, self.initial, self.end, self.power, self.transition_steps)


def polynomial(initial: float, end: float, power: float, transition_steps: int) -> Polynomial:
    """Polynomial decay (optax's ``polynomial_schedule``), then ``end`` forever.

    ``lr(step) = (initial - end) * (1 - min(step, T) / T) ** power + end`` with
    ``T = transition_steps``.  ``power=1`` is a linear ramp; ``end > initial`` ramps up.

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    end : float
        The learning rate from step ``T`` on, >= 0.
    power : float
        > 0.
    transition_steps : int
        ``T``, >= 1.

    Returns
    -------
    Polynomial

    Examples
    --------
    >>> lr = polynomial(1.0, end=0.1, power=2, transition_steps=4)
    >>> [round(lr(s), 6) for s in range(6)]
    [1.0, 0.60625, 0.325, 0.15625, 0.1, 0.1]
    """
    return Polynomial(initial, end, power, transition_steps)


@dataclass(frozen=True, slots=True)
class CosineAnnealing(Schedule):
    """Cosine decay over ``decay_steps``, then constant; see :func:`cosine_annealing`.

    Examples
    --------
    >>> CosineAnnealing(0.1, 1000)
    CosineAnnealing(initial=0.1, decay_steps=1000, alpha=0.0)
    """

    initial: float
    decay_steps: int
    alpha: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "decay_steps", _checks.integer("decay_steps", self.decay_steps, 1))
        _set(self, "alpha", _checks.interval("alpha", self.alpha, "[0, 1]"))

    def _at(self, step: int) -> float:
        return _cosine_annealing_at(step, self.initial, self.decay_steps, self.alpha)


def cosine_annealing(initial: float, decay_steps: int, alpha: float = 0.0) -> CosineAnnealing:
    """Cosine decay (optax's ``cosine_decay_schedule``; PyTorch's ``CosineAnnealingLR``).

    ``lr(step) = initial * ((1 - alpha) * c + alpha)`` with
    ``c = (1 + cos(pi * min(step, T) / T)) / 2`` and ``T = decay_steps``.

    Over steps ``0..T`` this is PyTorch's ``CosineAnnealingLR(T_max=T,
    eta_min=alpha * initial)``.  After ``T`` it holds ``alpha * initial`` (as optax),
    where PyTorch's curve would rise again.

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    decay_steps : int
        ``T``, >= 1.
    alpha : float
        The final value as a fraction of ``initial``, in [0, 1].

    Returns
    -------
    CosineAnnealing

    Examples
    --------
    >>> lr = cosine_annealing(1.0, decay_steps=4, alpha=0.1)
    >>> [round(lr(s), 6) for s in range(6)]
    [1.0, 0.868198, 0.55, 0.231802, 0.1, 0.1]
    """
    return CosineAnnealing(initial, decay_steps, alpha)


@dataclass(frozen=True, slots=True)
class CosineWarmRestarts(Schedule):
    """SGDR cosine annealing with warm restarts; see :func:`cosine_warm_restarts`.

    Examples
    --------
    >>> CosineWarmRestarts(0.1, 10, 2)
    CosineWarmRestarts(initial=0.1, first_period=10, period_mult=2, eta_min=0.0)
    """

    initial: float
    first_period: int
    period_mult: int = 1
    eta_min: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "initial", _checks.positive("initial", self.initial))
        _set(self, "first_period", _checks.integer("first_period", self.first_period, 1))
        _set(self, "period_mult", _checks.integer("period_mult", self.period_mult, 1))
        eta_min = _checks.nonnegative("eta_min", self.eta_min)
        if eta_min > self.initial:
            raise ValueError(f"eta_min must be <= initial ({self.initial!r}), got {eta_min!r}")
        _set(self, "eta_min", eta_min)

    def _at(self, step: int) -> float:
        # The periods are counted with exact integers.  PyTorch takes the period from a
        # float logarithm, which can land one period early exactly at a restart.
        t_cur, t_i = _restart_position(step, self.first_period, self.period_mult)
        return _warm_restarts_at(t_cur, t_i, self.initial, self.eta_min)


def cosine_warm_restarts(
    initial: float, first_period: int, period_mult: int = 1, eta_min: float = 0.0
) -> CosineWarmRestarts:
    """Cosine annealing with warm restarts (SGDR; PyTorch's ``CosineAnnealingWarmRestarts``).

    ``lr(step) = eta_min + (initial - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``,
    where period ``i`` lasts ``T_i = first_period * period_mult ** i`` steps and
    ``T_cur`` counts the steps since the last restart (0 at each restart, where the
    rate is back to ``initial``).

    The periods are found with exact integer arithmetic.  PyTorch's closed form
    (``step(epoch)``) uses a float logarithm that, for some ``period_mult``, puts a
    restart step at the end of the previous period (e.g. ``T_0=1, T_mult=10`` at
    step 111 it gives ``eta_min`` where the restart gives ``initial``).

    Parameters
    ----------
    initial : float
        The learning rate at each restart, > 0.
    first_period : int
        ``T_0``, the length of the first period, >= 1.
    period_mult : int
        ``T_mult``, the factor by which each period is longer than the last, >= 1.
    eta_min : float
        The value approached at the end of each period, in [0, initial].

    Returns
    -------
    CosineWarmRestarts

    Examples
    --------
    >>> lr = cosine_warm_restarts(1.0, first_period=2, period_mult=2)
    >>> [round(lr(s), 6) for s in range(7)]
    [1.0, 0.5, 1.0, 0.853553, 0.5, 0.146447, 1.0]
    """
    return CosineWarmRestarts(initial, first_period, period_mult, eta_min)


@dataclass(frozen=True, slots=True)
class OneCycle(Schedule):
    """PyTorch's two-phase 1cycle learning-rate curve; see :func:`one_cycle`.

    Examples
    --------
    >>> OneCycle(0.1, 100)
    OneCycle(max_lr=0.1, total_steps=100, pct_start=0.3, div_factor=25.0, \
final_div_factor=10000.0, anneal='cos')
    """

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal: str = "cos"
    _initial: float = field(init=False, repr=False, compare=False)
    _min: float = field(init=False, repr=False, compare=False)
    _end1: float = field(init=False, repr=False, compare=False)
    _final: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set(self, "max_lr", _checks.positive("max_lr", self.max_lr))
        _set(self, "total_steps", _checks.integer("total_steps", self.total_steps, 1))
        _set(self, "pct_start", _checks.interval("pct_start", self.pct_start, "[0, 1]"))
        _set(self, "div_factor", _checks.positive("div_factor", self.div_factor))
        _set(self, "final_div_factor", _checks.positive("final_div_factor", self.final_div_factor))
        _set(self, "anneal", _checks.choice("anneal", self.anneal, ("cos", "linear")))
        end1 = float(self.pct_start * self.total_steps) - 1
        if end1 == 0:
            raise ValueError(
                "pct_start * total_steps must not be 1 (the warm-up phase would have no "
                f"length), got pct_start={self.pct_start!r}, total_steps={self.total_steps!r}"
            )
        initial = self.max_lr / self.div_factor
        _set(self, "_initial", initial)
        _set(self, "_min", initial / self.final_div_factor)
        _set(self, "_end1", end1)
        _set(self, "_final", self._curve(self.total_steps - 1))

    def _curve(self, step: int) -> float:
        return _one_cycle_at(
            step,
            self.total_steps,
            self._end1,
            self._initial,
            self.max_lr,
            self._min,
            self.anneal == "cos",
        )

    def _at(self, step: int) -> float:
        if step >= self.total_steps - 1:
            return self._final
        return self._curve(step)


def one_cycle(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal: str = "cos",
) -> OneCycle:
    """The 1cycle policy's learning rate (PyTorch's ``OneCycleLR``, two phases).

    With ``initial = max_lr / div_factor`` and ``min = initial / final_div_factor``:

    * phase 1, steps ``0 .. e1`` with ``e1 = pct_start * total_steps - 1``: from
      ``initial`` up to ``max_lr``;
    * phase 2, steps ``e1 .. total_steps - 1``: from ``max_lr`` down to ``min``;

    each annealed as PyTorch does, with ``pct = (step - start) / (end - start)`` of
    the phase and ``"cos"``: ``end + (start - end) / 2 * (cos(pi * pct) + 1)`` or
    ``"linear"``: ``(end - start) * pct + start``.

    Unlike PyTorch, which raises past ``total_steps`` (and at ``step == total_steps``
    extrapolates the curve), steps after ``total_steps - 1`` hold the final value.
    Momentum cycling and ``three_phase`` are not provided.

    Parameters
    ----------
    max_lr : float
        The peak learning rate, > 0.
    total_steps : int
        The length of the cycle, >= 1.
    pct_start : float
        The fraction of the cycle spent increasing, in [0, 1];
        ``pct_start * total_steps == 1`` is refused (PyTorch divides by zero).
    div_factor : float
        ``initial = max_lr / div_factor``, > 0.
    final_div_factor : float
        ``min = initial / final_div_factor``, > 0.
    anneal : {"cos", "linear"}
        PyTorch's ``anneal_strategy``.

    Returns
    -------
    OneCycle

    Examples
    --------
    >>> lr = one_cycle(1.0, total_steps=6, pct_start=0.5, div_factor=4, final_div_factor=10)
    >>> [round(lr(s), 6) for s in range(8)]
    [0.25, 0.625, 1.0, 0.75625, 0.26875, 0.025, 0.025, 0.025]
    """
    return OneCycle(max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal)


@dataclass(frozen=True, slots=True)
class PiecewiseConstant(Schedule):
    """Constant values between boundaries; see :func:`piecewise_constant`.

    Examples
    --------
    >>> PiecewiseConstant([100], [0.1, 0.01])
    PiecewiseConstant(boundaries=(100,), values=(0.1, 0.01))
    """

    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        boundaries = _increasing_steps("boundaries", self.boundaries)
        values = tuple(
            _checks.positive(f"values[{i}]", v)
            for i, v in enumerate(_sequence("values", self.values))
        )
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "values must have one more entry than boundaries, got "
                f"len(values) = {len(values)} and len(boundaries) = {len(boundaries)}"
            )
        _set(self, "boundaries", boundaries)
        _set(self, "values", values)

    def _at(self, step: int) -> float:
        return self.values[bisect_right(self.boundaries, step)]


def piecewise_constant(boundaries: Iterable[int], values: Iterable[float]) -> PiecewiseConstant:
    """Piecewise-constant learning rates.

    ``lr(step) = values[k]`` for ``boundaries[k-1] <= step < boundaries[k]``: the new
    value takes effect *at* the boundary step, as in optax's
    ``piecewise_constant_schedule`` (which takes scales, not values) and PyTorch's
    ``MultiStepLR``.  Keras's ``PiecewiseConstantDecay`` switches one step later
    (``step > boundary``).

    Parameters
    ----------
    boundaries : sequence of int
        Strictly increasing steps >= 1.
    values : sequence of float
        ``len(boundaries) + 1`` learning rates, each > 0.

    Returns
    -------
    PiecewiseConstant

    Examples
    --------
    >>> lr = piecewise_constant([3, 6], [1.0, 0.5, 0.1])
    >>> [lr(s) for s in range(8)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]
    """
    return PiecewiseConstant(boundaries, values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FromCallable(Schedule):
    """A schedule from any callable ``fn(step) -> float``; see :func:`from_callable`.

    Examples
    --------
    >>> def halving(step):
    ...     return 0.5**step
    >>> FromCallable(halving)(2)
    0.25
    """

    fn: Callable[[int], float]

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise _checks.type_error("fn", "a callable step -> float", self.fn)

    def _at(self, step: int) -> float:
        value = self.fn(step)
        if type(value) is float and 0 <= value < math.inf:
            return value
        return self._checked(value, step)

    def _checked(self, value: Any, step: int) -> float:
        name = getattr(self.fn, "__qualname__", None) or repr(self.fn)
        where = f"schedule from_callable({name}) returned {value!r} at step {step}"
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} ({type(value).__name__}); expected a real number")
        value = float(value)
        if not (0 <= value < math.inf):
            raise ValueError(f"{where}; expected a finite number >= 0")
        return value


def from_callable(fn: Callable[[int], float]) -> FromCallable:
    """Wrap a Python callable ``fn(step) -> float`` as a schedule.

    The returned value is checked at each call: it must be a real number (a Python or
    NumPy scalar, not a ``bool``), finite and >= 0; it is returned as a Python
    ``float``.

    Parameters
    ----------
    fn : callable
        Called with the 0-based step (a Python ``int``).

    Returns
    -------
    FromCallable

    Examples
    --------
    >>> lr = from_callable(lambda step: 0.1 / (1 + step))
    >>> lr(0), lr(4)
    (0.1, 0.02)
    >>> from_callable(lambda step: float("nan"))(3)
    Traceback (most recent call last):
    ...
    ValueError: schedule from_callable(<lambda>) returned nan at step 3; expected a finite \
number >= 0
    """
    return FromCallable(fn)


# -- composites ----------------------------------------------------------------------
def _prefixed(prefix: str, state: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{key}": value for key, value in state.items()}


def _split(
    state_dict: Mapping[str, Any], prefixes: list[str], owner: str
) -> dict[str, dict[str, Any]]:
    """Route the keys ``"<prefix>.<rest>"`` of a composite's state to its children."""
    if not isinstance(state_dict, Mapping):
        raise _checks.type_error("state_dict", "a dict", state_dict)
    parts: dict[str, dict[str, Any]] = {p: {} for p in prefixes}
    for key, value in state_dict.items():
        for p in prefixes:
            if isinstance(key, str) and key.startswith(p + "."):
                parts[p][key[len(p) + 1 :]] = value
                break
        else:
            raise ValueError(f"state_dict has key {key!r}, unknown to {owner}")
    return parts


@dataclass(frozen=True, slots=True)
class Warmup(Schedule):
    """Linear warm-up in front of a schedule; see :func:`warmup`.

    Examples
    --------
    >>> Warmup(0.1, 5)
    Warmup(schedule=Constant(value=0.1), warmup_steps=5, start_value=0.0)
    """

    schedule: Schedule
    warmup_steps: int
    start_value: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "schedule", _to_schedule("schedule", self.schedule))
        _set(self, "warmup_steps", _checks.integer("warmup_steps", self.warmup_steps, 0))
        _set(self, "start_value", _checks.nonnegative("start_value", self.start_value))

    def _at(self, step: int) -> float:
        w = self.warmup_steps
        if step >= w:
            return self.schedule(step - w)
        return _warmup_at(step, w, self.start_value, self.schedule(0))

    @property
    def needs_loss(self) -> bool:
        """Whether the wrapped schedule needs losses."""
        return self.schedule.needs_loss

    def update(self, loss: float) -> None:
        """Pass ``loss`` on to the wrapped schedule."""
        self.schedule.update(loss)

    def state_dict(self) -> dict[str, Any]:
        """The wrapped schedule's state, its keys prefixed with ``"schedule."``."""
        return _prefixed("schedule", self.schedule.state_dict())

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        parts = _split(state_dict, ["schedule"], "Warmup")
        self.schedule.load_state_dict(parts["schedule"])


def warmup(schedule: Any, warmup_steps: int, start_value: float = 0.0) -> Warmup:
    """Linear warm-up, then ``schedule`` started afresh.

    With ``W = warmup_steps``, ``target = schedule(0)`` and ``start = start_value``:

    * ``step < W``: ``lr = start + (target - start) * step / W``;
    * ``step >= W``: ``lr = schedule(step - W)``.

    This is optax's ``join_schedules([linear_schedule(start, target, W), schedule],
    [W])``; optax's ``warmup_cosine_decay_schedule(start, peak, W, D)`` is
    ``warmup(cosine_annealing(peak, D - W), W, start)``.  ``W = 0`` means no warm-up.

    Parameters
    ----------
    schedule : Schedule, float or callable
        What follows the warm-up; a float is a constant (see :func:`as_schedule`).
    warmup_steps : int
        ``W``, >= 0.
    start_value : float
        The learning rate at step 0, >= 0.

    Returns
    -------
    Warmup

    Examples
    --------
    >>> lr = warmup(cosine_annealing(1.0, decay_steps=4), warmup_steps=4)
    >>> [round(lr(s), 6) for s in range(10)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    """
    return Warmup(schedule, warmup_steps, start_value)


@dataclass(frozen=True, slots=True)
class Join(Schedule):
    """Schedules one after another; see :func:`join`.

    Examples
    --------
    >>> Join([0.1, 0.01], [10])
    Join(schedules=(Constant(value=0.1), Constant(value=0.01)), boundaries=(10,))
    """

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...]
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schedules = tuple(
            _to_schedule(f"schedules[{i}]", s)
            for i, s in enumerate(_sequence("schedules", self.schedules))
        )
        boundaries = _increasing_steps("boundaries", self.boundaries)
        if len(schedules) != len(boundaries) + 1:
            raise ValueError(
                "schedules must have one more entry than boundaries, got "
                f"len(schedules) = {len(schedules)} and len(boundaries) = {len(boundaries)}"
            )
        _set(self, "schedules", schedules)
        _set(self, "boundaries", boundaries)
        _set(self, "_starts", (0, *boundaries))

    def _at(self, step: int) -> float:
        k = bisect_right(self.boundaries, step)
        return self.schedules[k](step - self._starts[k])

    @property
    def needs_loss(self) -> bool:
        """Whether any of the joined schedules needs losses."""
        return any(s.needs_loss for s in self.schedules)

    def update(self, loss: float) -> None:
        """Pass ``loss`` on to every joined schedule that needs losses."""
        for s in self.schedules:
            if s.needs_loss:
                s.update(loss)

    def state_dict(self) -> dict[str, Any]:
        """The joined schedules' states, keys prefixed with ``"schedules.<i>."``."""
        out: dict[str, Any] = {}
        for i, s in enumerate(self.schedules):
            out.update(_prefixed(f"schedules.{i}", s.state_dict()))
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        prefixes = [f"schedules.{i}" for i in range(len(self.schedules))]
        parts = _split(state_dict, prefixes, "Join")
        for p, s in zip(prefixes, self.schedules, strict=True):
            s.load_state_dict(parts[p])


def join(schedules: Iterable[Any], boundaries: Iterable[int]) -> Join:
    """Run schedules one after another (optax's ``join_schedules``).

    With ``b = (0, *boundaries)``, the step ``s`` with ``b[k] <= s < b[k+1]`` is
    given by ``schedules[k](s - b[k])``: each schedule starts from its own step 0.

    Parameters
    ----------
    schedules : sequence of Schedule, float or callable
        ``len(boundaries) + 1`` schedules; floats are constants (see
        :func:`as_schedule`).
    boundaries : sequence of int
        Strictly increasing steps >= 1 where the next schedule takes over.

    Returns
    -------
    Join

    Examples
    --------
    >>> lr = join([polynomial(0.1, 1.0, 1, 4), cosine_annealing(1.0, 4), 0.05], [4, 8])
    >>> [round(lr(s), 6) for s in range(10)]
    [0.1, 0.325, 0.55, 0.775, 1.0, 0.853553, 0.5, 0.146447, 0.05, 0.05]
    """
    return Join(schedules, boundaries)  # type: ignore[arg-type]


# -- the plateau rule ----------------------------------------------------------------
class ReduceLROnPlateau(Schedule):
    """Reduce the learning rate when a monitored loss stops improving (PyTorch's rule).

    The learning rate starts at ``initial``.  Each :meth:`update` with a loss ``a``
    does, exactly as PyTorch's ``ReduceLROnPlateau.step``:

    1. if ``a`` is better than ``best`` (``mode="min"``, ``"rel"``:
       ``a < best * (1 - threshold)``; ``"abs"``: ``a < best - threshold``;
       ``mode="max"``: ``a > best * (1 + threshold)`` / ``a > best + threshold``):
       ``best = a``, ``num_bad_epochs = 0``; else ``num_bad_epochs += 1``;
    2. if ``cooldown_counter > 0``: ``cooldown_counter -= 1``, ``num_bad_epochs = 0``;
    3. if ``num_bad_epochs > patience``: ``new = max(lr * factor, min_lr)``, taken
       only if ``lr - new > eps``; then ``cooldown_counter = cooldown`` and
       ``num_bad_epochs = 0``.

    ``best`` starts at ``inf`` (``-inf`` for ``mode="max"``), so the first loss is
    always an improvement.  As in PyTorch, the ``"rel"`` test scales ``best``, so for
    a negative ``best`` in ``"min"`` mode a slightly worse loss counts as better.

    Calling the schedule returns the current learning rate, whatever the step.  The
    caller decides the cadence of :meth:`update` (once per epoch, or per iteration);
    ``patience`` and ``cooldown`` count updates.

    Parameters
    ----------
    initial : float
        The learning rate before any reduction, > 0.
    factor : float
        The factor of each reduction, in (0, 1).
    patience : int
        Updates without improvement tolerated before a reduction, >= 0.
    threshold : float
        The margin of an improvement, >= 0 (< 1 with ``threshold_mode="rel"``).
    threshold_mode : {"rel", "abs"}
        Whether ``threshold`` is relative to ``best`` or absolute.
    cooldown : int
        Updates after a reduction during which bad updates are not counted, >= 0.
    min_lr : float
        The floor of the learning rate, in [0, initial].
    eps : float
        Reductions smaller than ``eps`` are skipped, >= 0.
    mode : {"min", "max"}
        Whether the monitored quantity should decrease (a loss) or increase.

    Examples
    --------
    >>> lr = ReduceLROnPlateau(1.0, factor=0.5, patience=1)
    >>> lrs = []
    >>> for loss in [3.0, 2.0, 2.5, 2.5, 2.5, 2.5]:
    ...     lr.update(loss)
    ...     lrs.append(lr(0))
    >>> lrs
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    >>> lr.state_dict()
    {'lr': 0.25, 'best': 2.0, 'num_bad_epochs': 0, 'cooldown_counter': 0, 'num_updates': 6}
    """

    __slots__ = (
        "_best",
        "_cooldown_counter",
        "_lr",
        "_num_bad_epochs",
        "_num_updates",
        "cooldown",
        "eps",
        "factor",
        "initial",
        "min_lr",
        "mode",
        "patience",
        "threshold",
        "threshold_mode",
    )

    _STATE_KEYS = ("lr", "best", "num_bad_epochs", "cooldown_counter", "num_updates")

    def __init__(
        self,
        initial: float,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
        mode: str = "min",
    ) -> None:
        initial = _checks.positive("initial", initial)
        threshold_mode = _checks.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        threshold = _checks.nonnegative("threshold", threshold)
        if threshold_mode == "rel" and not threshold < 1:
            raise ValueError(
                f"threshold must be in [0, 1) when threshold_mode='rel', got {threshold!r}"
            )
        min_lr = _checks.nonnegative("min_lr", min_lr)
        if min_lr > initial:
            raise ValueError(f"min_lr must be <= initial ({initial!r}), got {min_lr!r}")
        _set(self, "initial", initial)
        _set(self, "factor", _checks.interval("factor", factor, "(0, 1)"))
        _set(self, "patience", _checks.integer("patience", patience, 0))
        _set(self, "threshold", threshold)
        _set(self, "threshold_mode", threshold_mode)
        _set(self, "cooldown", _checks.integer("cooldown", cooldown, 0))
        _set(self, "min_lr", min_lr)
        _set(self, "eps", _checks.nonnegative("eps", eps))
        _set(self, "mode", _checks.choice("mode", mode, ("min", "max")))
        self.reset()

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise AttributeError(
                f"cannot set {name!r}: the parameters of ReduceLROnPlateau are fixed when "
                "it is built"
            )
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(initial={self.initial!r}, factor={self.factor!r}, "
            f"patience={self.patience!r}, threshold={self.threshold!r}, "
            f"threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown!r}, "
            f"min_lr={self.min_lr!r}, eps={self.eps!r}, mode={self.mode!r})"
        )

    # -- the state -----------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The current learning rate."""
        return self._lr

    @property
    def best(self) -> float:
        """The best loss seen (``inf``, or ``-inf`` in ``"max"`` mode, before any)."""
        return self._best

    @property
    def num_bad_epochs(self) -> int:
        """Updates since the last improvement (PyTorch's name)."""
        return self._num_bad_epochs

    @property
    def cooldown_counter(self) -> int:
        """Updates of cooldown left."""
        return self._cooldown_counter

    @property
    def num_updates(self) -> int:
        """Number of :meth:`update` calls so far (PyTorch's ``last_epoch``)."""
        return self._num_updates

    def reset(self) -> None:
        """Back to ``initial``, with no history."""
        self._lr = self.initial
        self._best = math.inf if self.mode == "min" else -math.inf
        self._num_bad_epochs = 0
        self._cooldown_counter = 0
        self._num_updates = 0

    # -- the schedule ----------------------------------------------------------------
    def _at(self, step: int) -> float:
        return self._lr

    @property
    def needs_loss(self) -> bool:
        """Always true: :meth:`update` must be fed losses."""
        return True

    def update(self, loss: float) -> None:
        """Take the monitored ``loss`` (finite) into account; may reduce the rate."""
        if isinstance(loss, (bool, np.bool_, str, bytes)):
            raise _checks.type_error("loss", "a real number", loss)
        try:
            current = float(loss)
        except (TypeError, ValueError):
            raise _checks.type_error("loss", "a real number", loss) from None
        if not math.isfinite(current):
            raise ValueError(f"loss must be finite, got {current!r}")
        lr, best, num_bad, cooldown_counter = _plateau_update(
            current,
            self._lr,
            self._best,
            self._num_bad_epochs,
            self._cooldown_counter,
            self.mode == "min",
            self.threshold_mode == "rel",
            self.threshold,
            self.patience,
            self.cooldown,
            self.factor,
            self.min_lr,
            self.eps,
        )
        # object.__setattr__: this class's __setattr__ (which guards the parameters) is
        # slow Python code, and update runs once per iteration in full-batch runs
        set_ = object.__setattr__
        set_(self, "_num_updates", self._num_updates + 1)
        set_(self, "_lr", lr)
        set_(self, "_best", best)
        set_(self, "_num_bad_epochs", num_bad)
        set_(self, "_cooldown_counter", cooldown_counter)

    def state_dict(self) -> dict[str, Any]:
        """The counters and the current rate, as Python scalars.

        Keys: ``lr``, ``best`` (possibly ``±inf``), ``num_bad_epochs``,
        ``cooldown_counter``, ``num_updates``.  The parameters are not included:
        load into a rule built with the same ones.
        """
        return {
            "lr": self._lr,
            "best": self._best,
            "num_bad_epochs": self._num_bad_epochs,
            "cooldown_counter": self._cooldown_counter,
            "num_updates": self._num_updates,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        if not isinstance(state_dict, Mapping):
            raise _checks.type_error("state_dict", "a dict", state_dict)
        keys = set(state_dict)
        if keys != set(self._STATE_KEYS):
            raise ValueError(
                f"state_dict must have exactly the keys {sorted(self._STATE_KEYS)}, got "
                f"{sorted(map(str, keys))}"
            )
        lr = _checks.nonnegative("state_dict['lr']", state_dict["lr"])
        best = state_dict["best"]
        if isinstance(best, (bool, np.bool_)) or not isinstance(best, numbers.Real):
            raise _checks.type_error("state_dict['best']", "a real number", best)
        best = float(best)
        if math.isnan(best):
            raise ValueError(f"state_dict['best'] must not be NaN, got {best!r}")
        counters = {
            key: _checks.integer(f"state_dict[{key!r}]", state_dict[key], 0)
            for key in ("num_bad_epochs", "cooldown_counter", "num_updates")
        }
        self._lr = lr
        self._best = best
        self._num_bad_epochs = counters["num_bad_epochs"]
        self._cooldown_counter = counters["cooldown_counter"]
        self._num_updates = counters["num_updates"]


# -- coercion ------------------------------------------------------------------------
def as_schedule(learning_rate: Any) -> Schedule:
    """Turn a ``learning_rate`` argument into a :class:`Schedule`.

    Parameters
    ----------
    learning_rate : float, Schedule or callable
        A real number (not a ``bool``) becomes :func:`constant` (it must be finite and
        > 0); a :class:`Schedule` is returned as is; any other callable is wrapped by
        :func:`from_callable`.

    Returns
    -------
    Schedule

    Raises
    ------
    TypeError
        For anything else (the message names ``learning_rate``).

    Examples
    --------
    >>> as_schedule(0.1)
    Constant(value=0.1)
    >>> s = step_decay(0.1, 10)
    >>> as_schedule(s) is s
    True
    >>> as_schedule("0.1")
    Traceback (most recent call last):
    ...
    TypeError: learning_rate must be a float > 0, a Schedule or a callable step -> float, \
got '0.1' (str)
    """
    return _to_schedule("learning_rate", learning_rate)
