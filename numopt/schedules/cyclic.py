"""Cosine and cyclic schedules: cosine annealing, SGDR warm restarts and 1cycle.

Each schedule is one class, also callable by its lower-case name
(``cosine_annealing`` is :class:`CosineAnnealing`); each formula is a plain function
beside its class, compiled as it is by :mod:`numopt.schedules.program`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from numopt import _checks
from numopt.schedules.base import Node, Schedule, Tree, _set

# The kinds of node these schedules lower to (program._leaf switches on them).
COSINE, WARM_RESTARTS, ONE_CYCLE = 7, 8, 9


def _cosine_annealing_at(step: int, initial: float, t: int, alpha: float) -> float:
    cosine = 0.5 * (1 + math.cos(math.pi * min(step, t) / t))
    return initial * ((1 - alpha) * cosine + alpha)


@dataclass(frozen=True, slots=True)
class CosineAnnealing(Schedule):
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

    Examples
    --------
    >>> lr = cosine_annealing(1.0, decay_steps=4, alpha=0.1)
    >>> [round(lr(s), 6) for s in range(6)]
    [1.0, 0.868198, 0.55, 0.231802, 0.1, 0.1]
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(COSINE, ints=(self.decay_steps,), floats=(self.initial, self.alpha))


cosine_annealing = CosineAnnealing


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


@dataclass(frozen=True, slots=True)
class CosineWarmRestarts(Schedule):
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

    Examples
    --------
    >>> lr = cosine_warm_restarts(1.0, first_period=2, period_mult=2)
    >>> [round(lr(s), 6) for s in range(7)]
    [1.0, 0.5, 1.0, 0.853553, 0.5, 0.146447, 1.0]
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(
            WARM_RESTARTS,
            ints=(self.first_period, self.period_mult),
            floats=(self.initial, self.eta_min),
        )


cosine_warm_restarts = CosineWarmRestarts


def _one_cycle_at(
    step: int,
    total_steps: int,
    end1: float,
    initial: float,
    max_lr: float,
    min_lr: float,
    cos: bool,
) -> float:
    # PyTorch's OneCycleLR.get_lr for one parameter group, three_phase=False, except
    # that the steps after the cycle hold its final value (PyTorch raises there).
    if step > total_steps - 1:
        step = total_steps - 1
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


@dataclass(frozen=True, slots=True)
class OneCycle(Schedule):
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

    Examples
    --------
    >>> lr = one_cycle(1.0, total_steps=6, pct_start=0.5, div_factor=4, final_div_factor=10)
    >>> [round(lr(s), 6) for s in range(8)]
    [0.25, 0.625, 1.0, 0.75625, 0.26875, 0.025, 0.025, 0.025]
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

    def _at(self, step: int) -> float:
        return _one_cycle_at(
            step,
            self.total_steps,
            self._end1,
            self._initial,
            self.max_lr,
            self._min,
            self.anneal == "cos",
        )

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        node.set(
            ONE_CYCLE,
            ints=(self.total_steps, int(self.anneal == "cos")),
            floats=(self.max_lr, self._initial, self._min, self._end1),
        )


one_cycle = OneCycle
