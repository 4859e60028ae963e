"""The base class of the learning-rate schedules and the checks they share.

:class:`Schedule` is what every schedule of :mod:`numopt.schedules` derives from; the
helpers below validate the arguments the schedules share (steps, sorted boundaries).
The rules that every formula function of the family modules follows, so that the
compiled loop computes the same bits, are in the comment block at the end.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from numopt import _checks


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
# Each schedule's formula lives in one plain function beside its class, called by the
# schedule's ``_at`` (or ``update``) and compiled as is by :mod:`numopt.schedules.program`
# (``njit(fn)``) for the compiled optimisation loop, so that both give the same float64
# bits.  Keep them numba-compilable and keep their operations in this order:
#
# * ``a ** n`` with a float ``a`` and an int ``n`` is C ``pow(a, (double)n)`` in
#   Python but repeated multiplication in numba, so powers are written
#   ``math.pow(a, float(n))`` (C ``pow`` in both);
# * int / int is a double division in both only while the ints are below 2**53
#   (Python divides big ints exactly), which any real step count is;
# * the positions in sorted boundaries (``bisect_right``) are found by the caller:
#   ``bisect`` in the schedules, a binary search in program.py.
#
# numba's on-disk cache of program.py does not notice edits to the family modules:
# after changing one of these functions, delete the ``*.nbi``/``*.nbc`` files in
# ``numopt/schedules/__pycache__`` (tests/test_schedule_program.py fails until then).
