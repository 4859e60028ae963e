"""Schedules given value by value: constants between boundaries, or any Python callable.

Each schedule is one class, also callable by its lower-case name
(``piecewise_constant`` is :class:`PiecewiseConstant`).
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from numopt import _checks
from numopt.schedules.base import (
    PYTHON_LOOP_HINT,
    Node,
    NotCompilable,
    Schedule,
    Tree,
    _increasing_steps,
    _sequence,
    _set,
)

# The kind of node PiecewiseConstant lowers to (program._leaf switches on it).
PIECEWISE = 10


@dataclass(frozen=True, slots=True, init=False)
class PiecewiseConstant(Schedule):
    """Piecewise-constant learning rates.

    ``lr(step) = values[k]`` for ``boundaries[k-1] <= step < boundaries[k]``: the new
    value takes effect *at* the boundary step, as in optax's
    ``piecewise_constant_schedule`` (which takes scales, not values) and PyTorch's
    ``MultiStepLR``.  Keras's ``PiecewiseConstantDecay`` switches one step later
    (``step > boundary``).

    Parameters
    ----------
    boundaries : sequence of int
        Strictly increasing steps >= 1; kept as a tuple.
    values : sequence of float
        ``len(boundaries) + 1`` learning rates, each > 0; kept as a tuple.

    Examples
    --------
    >>> lr = piecewise_constant([3, 6], [1.0, 0.5, 0.1])
    >>> [lr(s) for s in range(8)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]
    >>> PiecewiseConstant([100], [0.1, 0.01])
    PiecewiseConstant(boundaries=(100,), values=(0.1, 0.01))
    """

    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __init__(self, boundaries: Iterable[int], values: Iterable[float]) -> None:
        boundaries = _increasing_steps("boundaries", boundaries)
        values = tuple(
            _checks.positive(f"values[{i}]", v) for i, v in enumerate(_sequence("values", values))
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        boundaries = tree.pool_ints(self.boundaries)
        values = tree.pool_floats(self.values)
        node.set(PIECEWISE, ints=(boundaries, len(self.boundaries), values))


piecewise_constant = PiecewiseConstant


@dataclass(frozen=True, slots=True)
class FromCallable(Schedule):
    """Wrap a Python callable ``fn(step) -> float`` as a schedule.

    The returned value is checked at each call: it must be a real number (a Python or
    NumPy scalar, not a ``bool``), finite and >= 0; it is returned as a Python
    ``float``.

    Parameters
    ----------
    fn : callable
        Called with the 0-based step (a Python ``int``).

    Examples
    --------
    >>> lr = from_callable(lambda step: 0.1 / (1 + step))
    >>> lr(0), lr(4)
    (0.1, 0.02)
    >>> def halving(step):
    ...     return 0.5**step
    >>> FromCallable(halving)(2)
    0.25
    >>> from_callable(lambda step: float("nan"))(3)
    Traceback (most recent call last):
    ...
    ValueError: schedule from_callable(<lambda>) returned nan at step 3; expected a finite \
number >= 0
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

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        name = getattr(self.fn, "__qualname__", None) or repr(self.fn)
        raise NotCompilable(
            f"{where} is from_callable({name}), a Python function: {PYTHON_LOOP_HINT}"
        )


from_callable = FromCallable
