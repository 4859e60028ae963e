"""Schedules that decay with the step count: constant, step, multi-step, exponential,
inverse-time and polynomial decay.

Each schedule is one class.  Its lower-case name (``step_decay`` for
:class:`StepDecay`) is the same class under the name the README and the examples
call; the class's docstring is the documentation of both.  Each formula is a plain
function beside its class, called by the class and compiled as it is by
:mod:`numopt.schedules.program` (the rules they follow are in
:mod:`numopt.schedules.base`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from numopt import _checks
from numopt.schedules.base import Node, Schedule, Tree, _increasing_steps, _set

# The kinds of node these schedules lower to (program._leaf switches on them).
CONSTANT, STEP_DECAY, MULTI_STEP, EXPONENTIAL, INVERSE_TIME, POLYNOMIAL = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True, slots=True)
class Constant(Schedule):
    """A constant learning rate: the same value at every step.

    Parameters
    ----------
    value : float
        The learning rate, finite and > 0.

    Examples
    --------
    >>> lr = constant(0.01)
    >>> lr(0), lr(10**6)
    (0.01, 0.01)
    >>> Constant(0.1)
    Constant(value=0.1)
    """

    value: float

    def __post_init__(self) -> None:
        _set(self, "value", _checks.positive("value", self.value))

    def _at(self, step: int) -> float:
        return self.value

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(CONSTANT, floats=(self.value,))


constant = Constant


def _power_decay(initial: float, rate: float, p: float) -> float:
    """``initial * rate ** p`` (StepDecay, MultiStep, Exponential)."""
    return initial * math.pow(rate, p)


@dataclass(frozen=True, slots=True)
class StepDecay(Schedule):
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

    Examples
    --------
    >>> lr = step_decay(1.0, step_size=3, gamma=0.5)
    >>> [lr(s) for s in range(8)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(STEP_DECAY, ints=(self.step_size,), floats=(self.initial, self.gamma))


step_decay = StepDecay


@dataclass(frozen=True, slots=True, init=False)
class MultiStep(Schedule):
    """Decay by ``gamma`` at each milestone (PyTorch's ``MultiStepLR``).

    ``lr(step) = initial * gamma ** (number of milestones <= step)``: the decay takes
    effect *at* the milestone step.

    Parameters
    ----------
    initial : float
        The learning rate at step 0, > 0.
    milestones : sequence of int
        Strictly increasing steps >= 1 (may be empty: a constant); kept as a tuple.
    gamma : float
        The factor of each decay, in (0, 1].

    Examples
    --------
    >>> lr = multi_step(1.0, milestones=[2, 5], gamma=0.5)
    >>> [lr(s) for s in range(7)]
    [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    >>> MultiStep(0.1, [30, 80])
    MultiStep(initial=0.1, milestones=(30, 80), gamma=0.1)
    """

    initial: float
    milestones: tuple[int, ...]
    gamma: float

    def __init__(self, initial: float, milestones: Iterable[int], gamma: float = 0.1) -> None:
        _set(self, "initial", _checks.positive("initial", initial))
        _set(self, "milestones", _increasing_steps("milestones", milestones))
        _set(self, "gamma", _checks.interval("gamma", gamma, "(0, 1]"))

    def _at(self, step: int) -> float:
        return _power_decay(self.initial, self.gamma, float(bisect_right(self.milestones, step)))

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        milestones = tree.pool_ints(self.milestones)
        node.set(
            MULTI_STEP, ints=(milestones, len(self.milestones)), floats=(self.initial, self.gamma)
        )


multi_step = MultiStep


def _exponent(step: int, period: int, staircase: bool) -> float:
    """``step / period``, or ``step // period`` if ``staircase``, as a float."""
    if staircase:
        return float(step // period)
    return step / period


@dataclass(frozen=True, slots=True)
class Exponential(Schedule):
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

    Examples
    --------
    >>> lr = exponential(2.0, decay_rate=0.5, transition_steps=2)
    >>> [round(lr(s), 6) for s in range(5)]
    [2.0, 1.414214, 1.0, 0.707107, 0.5]
    >>> lr = exponential(2.0, decay_rate=0.5, transition_steps=2, staircase=True)
    >>> [lr(s) for s in range(5)]
    [2.0, 2.0, 1.0, 1.0, 0.5]
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(
            EXPONENTIAL,
            ints=(self.transition_steps, int(self.staircase)),
            floats=(self.initial, self.decay_rate),
        )


exponential = Exponential


def _inverse_time_at(initial: float, decay_rate: float, p: float) -> float:
    return initial / (1 + decay_rate * p)


@dataclass(frozen=True, slots=True)
class InverseTime(Schedule):
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

    Examples
    --------
    >>> lr = inverse_time(1.0, decay_rate=0.5, decay_steps=2)
    >>> [round(lr(s), 6) for s in range(5)]
    [1.0, 0.8, 0.666667, 0.571429, 0.5]
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(
            INVERSE_TIME,
            ints=(self.decay_steps, int(self.staircase)),
            floats=(self.initial, self.decay_rate),
        )


inverse_time = InverseTime


def _polynomial_at(step: int, initial: float, end: float, power: float, t: int) -> float:
    frac = 1 - min(step, t) / t
    return (initial - end) * math.pow(frac, power) + end


@dataclass(frozen=True, slots=True)
class Polynomial(Schedule):
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

    Examples
    --------
    >>> lr = polynomial(1.0, end=0.1, power=2, transition_steps=4)
    >>> [round(lr(s), 6) for s in range(6)]
    [1.0, 0.60625, 0.325, 0.15625, 0.1, 0.1]
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(
            POLYNOMIAL,
            ints=(self.transition_steps,),
            floats=(self.initial, self.end, self.power),
        )


polynomial = Polynomial
