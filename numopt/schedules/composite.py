"""Schedules made of schedules: a linear warm-up in front of one, or several joined.

Their arguments may be schedules, floats (constants) or Python callables;
:func:`as_schedule` turns each into a :class:`~numopt.schedules.Schedule`.  Each
composite is one class, also callable by its lower-case name (``warmup`` is
:class:`Warmup`).
"""

from __future__ import annotations

import numbers
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numopt import _checks
from numopt.schedules.base import Node, Schedule, Tree, _increasing_steps, _sequence, _set
from numopt.schedules.decay import Constant
from numopt.schedules.piecewise import FromCallable

# The kinds of node the composites lower to (program.rate walks them).
WARMUP, JOIN = 12, 13

# -- coercion ------------------------------------------------------------------------
#: What a composite takes as a schedule: a Schedule, a float (a constant) or a callable.
ScheduleLike = Schedule | float | Callable[[int], float]


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
    >>> from numopt.schedules import step_decay
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


# -- the state of a composite is its children's, with prefixed keys -----------------
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


def _warmup_at(step: int, w: int, start: float, target: float) -> float:
    return start + (target - start) * step / w


@dataclass(frozen=True, slots=True, init=False)
class Warmup(Schedule):
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

    Examples
    --------
    >>> from numopt.schedules import cosine_annealing
    >>> lr = warmup(cosine_annealing(1.0, decay_steps=4), warmup_steps=4)
    >>> [round(lr(s), 6) for s in range(10)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    >>> Warmup(0.1, 5)
    Warmup(schedule=Constant(value=0.1), warmup_steps=5, start_value=0.0)
    """

    schedule: Schedule
    warmup_steps: int
    start_value: float

    def __init__(self, schedule: ScheduleLike, warmup_steps: int, start_value: float = 0.0) -> None:
        _set(self, "schedule", _to_schedule("schedule", schedule))
        _set(self, "warmup_steps", _checks.integer("warmup_steps", warmup_steps, 0))
        _set(self, "start_value", _checks.nonnegative("start_value", start_value))

    def _at(self, step: int) -> float:
        w = self.warmup_steps
        if step >= w:
            return self.schedule(step - w)
        return _warmup_at(step, w, self.start_value, self.schedule(0))

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        child = tree.add(self.schedule, node.row, f"{where}.schedule")
        node.set(WARMUP, ints=(child, self.warmup_steps), floats=(self.start_value,))

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


warmup = Warmup


@dataclass(frozen=True, slots=True, init=False)
class Join(Schedule):
    """Run schedules one after another (optax's ``join_schedules``).

    With ``b = (0, *boundaries)``, the step ``s`` with ``b[k] <= s < b[k+1]`` is
    given by ``schedules[k](s - b[k])``: each schedule starts from its own step 0.

    Parameters
    ----------
    schedules : sequence of Schedule, float or callable
        ``len(boundaries) + 1`` schedules; floats are constants (see
        :func:`as_schedule`).  Kept as a tuple of schedules.
    boundaries : sequence of int
        Strictly increasing steps >= 1 where the next schedule takes over; kept as a
        tuple.

    Examples
    --------
    >>> from numopt.schedules import cosine_annealing, polynomial
    >>> lr = join([polynomial(0.1, 1.0, 1, 4), cosine_annealing(1.0, 4), 0.05], [4, 8])
    >>> [round(lr(s), 6) for s in range(10)]
    [0.1, 0.325, 0.55, 0.775, 1.0, 0.853553, 0.5, 0.146447, 0.05, 0.05]
    >>> Join([0.1, 0.01], [10])
    Join(schedules=(Constant(value=0.1), Constant(value=0.01)), boundaries=(10,))
    """

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...]
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __init__(self, schedules: Iterable[ScheduleLike], boundaries: Iterable[int]) -> None:
        children = tuple(
            _to_schedule(f"schedules[{i}]", s)
            for i, s in enumerate(_sequence("schedules", schedules))
        )
        steps = _increasing_steps("boundaries", boundaries)
        if len(children) != len(steps) + 1:
            raise ValueError(
                "schedules must have one more entry than boundaries, got "
                f"len(schedules) = {len(children)} and len(boundaries) = {len(steps)}"
            )
        _set(self, "schedules", children)
        _set(self, "boundaries", steps)
        _set(self, "_starts", (0, *steps))

    def _at(self, step: int) -> float:
        k = bisect_right(self.boundaries, step)
        return self.schedules[k](step - self._starts[k])

    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        rows = [
            tree.add(child, node.row, f"{where}.schedules[{i}]")
            for i, child in enumerate(self.schedules)
        ]
        boundaries = tree.pool_ints(self.boundaries)
        node.set(JOIN, ints=(boundaries, len(self.boundaries), tree.pool_ints(rows)))

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


join = Join
