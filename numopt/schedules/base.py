"""The base class of the learning-rate schedules, the checks they share, their encoding.

:class:`Schedule` is what every schedule of :mod:`numopt.schedules` derives from; the
helpers below validate the arguments the schedules share (steps, sorted boundaries).

The compiled loop cannot call Python objects, so :mod:`numopt.schedules.program`
lowers a schedule to arrays.  Each schedule class encodes itself: its ``_encode``
method fills a :class:`Node` (a kind and a few numbers) and the :class:`Tree`'s
pools, composites adding their children with :meth:`Tree.add`.  Adding a schedule is
its class (with its ``_encode`` and a new kind number in its module) plus one branch
for that kind in ``program._leaf`` (and, for a new module, an entry in
``program.INLINED_MODULES``).

The rules that every formula function of the family modules follows, so that the
compiled loop computes the same bits, are in the comment block at the end.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Iterable, Mapping, Sequence
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

    # -- the encoding for the compiled loop (see Tree) ----------------------------------
    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        """Fill ``node`` (and ``tree``'s pools) so that the compiled loop evaluates self.

        Every schedule class of :mod:`numopt.schedules` defines its own.  This default
        refuses, and :meth:`Tree.add` uses it for any class that does not define
        ``_encode`` itself: a subclass defined elsewhere may have changed the formula
        that the encoding it inherits describes.
        """
        raise NotCompilable(
            f"{where} is a {type(self).__name__}, a Schedule subclass defined outside "
            f"numopt.schedules: {PYTHON_LOOP_HINT}"
        )

    def _load_state(self, values: list[float]) -> None:
        """Take back the state a compiled run changed (the values given to
        :meth:`Tree.stateful`, in that order); only stateful schedules define it."""
        raise NotImplementedError(f"{type(self).__name__} has no state in the compiled loop")


# -- the encoding --------------------------------------------------------------------
class NotCompilable(Exception):
    """A learning rate the compiled loop cannot evaluate; the message says why."""


#: The end of the messages of :class:`NotCompilable` for a Python-only schedule.
PYTHON_LOOP_HINT = (
    "the compiled loop evaluates only the schedules of numopt.schedules, so this run uses "
    "the Python loop; build the schedule from numopt.schedules (join, warmup, "
    "piecewise_constant, ...) to compile it"
)


class Node:
    """One schedule in a lowered tree: a kind and its parameters, one row of the arrays.

    ``row`` is the node's row in the program's arrays (1 for the outermost schedule)
    and ``parent`` its parent's row (0 for the outermost).  A schedule's ``_encode``
    calls :meth:`set` once.

    Examples
    --------
    >>> node = Node(row=1, parent=0)
    >>> node.set(2, ints=(30,), floats=(0.1, 0.5))
    >>> node.kind, node.ints, node.floats
    (2, (30,), (0.1, 0.5))
    """

    INTS = 5  # int parameters per node (the columns A..E of program.ints)
    FLOATS = 6  # float parameters per node

    __slots__ = ("floats", "ints", "kind", "parent", "row")

    def __init__(self, row: int, parent: int) -> None:
        self.row = row
        self.parent = parent
        self.kind = 0  # not set: the compiled evaluation refuses such a node
        self.ints: tuple[int, ...] = ()
        self.floats: tuple[float, ...] = ()

    def set(self, kind: int, ints: Sequence[int] = (), floats: Sequence[float] = ()) -> None:
        """The node's kind (a kind number of its family module) and parameters."""
        if len(ints) > self.INTS or len(floats) > self.FLOATS:
            raise ValueError(
                f"a node holds at most {self.INTS} ints and {self.FLOATS} floats, got "
                f"{len(ints)} and {len(floats)}"
            )
        self.kind = kind
        self.ints = tuple(ints)
        self.floats = tuple(floats)


class Tree:
    """A schedule lowered depth first: one :class:`Node` per occurrence, and pools.

    :meth:`add` makes a schedule's node and lets the schedule's ``_encode`` fill it;
    composites call :meth:`add` for each child.  Data of variable length (milestones,
    boundaries, values, the children's rows) go to the pools, and the state of a
    stateful schedule to :attr:`state`, once per distinct object.
    :class:`numopt.schedules.program.ScheduleProgram` turns the tree into arrays.

    Examples
    --------
    >>> from numopt.schedules import join
    >>> tree = Tree()
    >>> tree.add(join([0.1, 0.01], [10]), 0, "learning_rate")
    1
    >>> [(n.row, n.parent, n.kind) for n in tree.nodes]
    [(1, 0, 13), (2, 1, 1), (3, 1, 1)]
    >>> tree.int_pool  # the boundaries, then the children's rows
    [10, 2, 3]
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.int_pool: list[int] = []
        self.float_pool: list[float] = []
        self.state: list[float] = []
        #: the stateful schedules, each with its slice ``start:stop`` of :attr:`state`
        self.owners: list[tuple[Schedule, int, int]] = []
        #: the rows of the nodes fed each loss, in order
        self.observed: list[int] = []
        #: each node's type, or ``(type, owner index)`` for a stateful one
        self.signature: list[Any] = []

    def add(self, schedule: Any, parent: int, where: str) -> int:
        """Encode ``schedule`` as a new node under the row ``parent``; the new row.

        ``where`` names the schedule in a :class:`NotCompilable` message (such as
        ``learning_rate.schedules[1]``).
        """
        node = Node(len(self.nodes) + 1, parent)
        self.nodes.append(node)
        t = type(schedule)
        self.signature.append(t)
        if not isinstance(schedule, Schedule):  # not from lower(): composites hold Schedules
            raise NotCompilable(f"{where} is {schedule!r} ({t.__name__}), not a Schedule")
        encode = vars(t).get("_encode", Schedule._encode)  # only a class's own encoding
        encode(schedule, node, self, where)
        return node.row

    def pool_ints(self, values: Iterable[int]) -> int:
        """Append ``values`` to the int pool; the offset of the first."""
        offset = len(self.int_pool)
        self.int_pool.extend(values)
        return offset

    def pool_floats(self, values: Iterable[float]) -> int:
        """Append ``values`` to the float pool; the offset of the first."""
        offset = len(self.float_pool)
        self.float_pool.extend(values)
        return offset

    def stateful(self, owner: Schedule, values: Sequence[float], node: Node) -> int:
        """The offset of ``owner``'s state (``values``) in :attr:`state`; ``node`` is fed
        each loss.

        The same object met twice has one slice, updated twice per loss, as in Python.
        After a compiled run, ``owner._load_state`` takes its slice back.
        """
        index = next((i for i, o in enumerate(self.owners) if o[0] is owner), None)
        if index is None:
            index, start = len(self.owners), len(self.state)
            self.state.extend(values)
            self.owners.append((owner, start, len(self.state)))
        start = self.owners[index][1]
        self.signature[node.row - 1] = (type(owner), index)
        self.observed.append(node.row)
        return start


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
# ``numopt/schedules/__pycache__`` (tests/schedules/test_program.py fails until then).
