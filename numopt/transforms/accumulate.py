"""Gradient accumulation: one update per ``k`` micro-batches, with their mean gradient.

:class:`MultiSteps` is optax's ``MultiSteps`` for your own loop: each call adds the
gradient to an accumulator, and every ``k``-th call steps the wrapped optimizer with
the mean of the ``k`` gradients (``x`` is unchanged by the other calls).  The mean
is summed in order and divided once, ``((g_1 + g_2) + … + g_k) / k``, in ``x``'s
dtype, by fused kernels (no temporaries): on the CPU or, for device arrays, the GPU.

``minimize(..., options={"accumulate": k, "batch_size": B})`` evaluates ``k``
micro-batches per update instead (:class:`MicroBatches`, :func:`grouped`): each
update sees the mean loss and the mean gradient of ``k`` consecutive batches of an
epoch, with exactly the same arithmetic as :class:`MultiSteps`.

For plain gradient descent, ``k`` micro-batches of ``B`` samples give the same
update as one batch of ``k·B`` samples when the loss is a mean over the batch: the
batch gradient is the mean of the micro-batch gradients.  In floating point the two
agree to rounding (the sums run in another order); bit for bit when the sums are
exact (see ``tests/transforms/test_accumulate.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from numopt._checks import integer
from numopt.kernels.arrays import FlatPair, Layout, on_device
from numopt.kernels.launch import resolve
from numopt.transforms._kernels import (
    add_body,
    launch,
    load_body,
    mean_body,
    mean_into_g_body,
)
from numopt.transforms._wrapper import Rows, Wrapper, count, updated


class MultiSteps(Wrapper):
    """Accumulate gradients over ``every_k`` calls; step the wrapped optimizer with their mean.

    Parameters
    ----------
    optimizer : numopt optimizer
        Any rule (``numopt.Adam(...)``) or another transform.
    every_k : int
        Calls per update, >= 1 (1: every call updates, as the optimizer alone).

    Notes
    -----
    The accumulator (state array ``"grad"``) has x's shape and dtype. ``step_count`` is
    the number of updates made, :attr:`micro_step` the number of gradients accumulated
    since the last one (0 … every_k - 1), :attr:`has_updated` whether the last call
    updated x. The wrapped optimizer counts its own steps: a schedule advances once per
    update, not per call.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, 1.0])
    >>> opt = numopt.MultiSteps(numopt.GD(learning_rate=0.5), every_k=2)
    >>> opt.step(x, np.array([1.0, 2.0]))  # accumulated: x unchanged
    array([1., 1.])
    >>> opt.has_updated, opt.micro_step
    (False, 1)
    >>> opt.step(x, np.array([3.0, 0.0]))  # mean gradient [2, 1]: x - 0.5 * [2, 1]
    array([0. , 0.5])
    >>> opt.has_updated, opt.step_count
    (True, 1)
    """

    kind = "accumulate"
    array_names = ("grad",)

    def __init__(self, optimizer: Any, every_k: int) -> None:
        super().__init__(optimizer)
        self._every_k = integer("every_k", every_k, 1)
        self._micro = 0

    @property
    def every_k(self) -> int:
        """Calls per update."""
        return self._every_k

    @property
    def micro_step(self) -> int:
        """Gradients accumulated since the last update (0 … every_k - 1)."""
        return self._micro

    @property
    def has_updated(self) -> bool:
        """Whether the last :meth:`step` updated x (optax's ``MultiSteps.has_updated``)."""
        return self._updated

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        k = self._every_k
        if k > 1:
            backend = resolve(self.backend, pair.layout.device, pair.x.size)
            rows, _ = self._rows.get(pair.layout, pair.x.size)
            m = self._micro + 1
            if m < k:  # accumulate: the first gradient is copied, the next ones added
                launch(load_body if m == 1 else add_body, pair.g, pair.g, rows, (), backend)
                self._micro = m
                self._updated = False
                return
            launch(mean_body, pair.g, pair.g, rows, (float(k),), backend)
            self._micro = 0
            pair = FlatPair(pair.x, rows[0], pair.layout)
        self._inner._apply(pair, box)
        self._updated = updated(self._inner)
        if self._updated:
            self._t += 1

    def _config(self) -> dict[str, Any]:
        return {"every_k": self._every_k}

    def _clone_around(self, inner: Any) -> MultiSteps:
        return MultiSteps(inner, self._every_k)

    def _counters(self) -> dict[str, int]:
        return {"micro_step": self._micro}

    def _load_counters(self, entry: dict) -> dict[str, int]:
        micro = count("micro_step", entry.get("micro_step"))
        if micro >= self._every_k:
            raise ValueError(
                f"state_dict's micro_step must be < every_k = {self._every_k}, got {micro}"
            )
        return {"micro_step": micro}

    def _set_counters(self, counters: dict[str, int]) -> None:
        self._micro = counters["micro_step"]

    def _needs_arrays(self, step: int, counters: dict[str, int]) -> bool:
        return counters["micro_step"] > 0

    def _reset_counters(self) -> None:
        self._micro = 0


# -- minimize: k micro-batches per update --------------------------------------------
class Group:
    """The micro-batches (argument tuples) of one update, as ``minimize``'s stream gives them."""

    __slots__ = ("batches",)

    def __init__(self, batches: list) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)


def grouped(enumerated: Iterable[tuple[int, Any]], k: int) -> Iterator[tuple[int, Group]]:
    """``(index, batch)`` pairs of one epoch → ``(index of the first, Group of up to k)``.

    The last group of an epoch holds the batches left (fewer than ``k`` when the
    epoch's batch count is not a multiple of ``k``); a group never spans two epochs.

    Examples
    --------
    >>> [(b, group.batches) for b, group in grouped(enumerate("abcde"), 2)]
    [(0, ['a', 'b']), (2, ['c', 'd']), (4, ['e'])]
    """
    group: list = []
    first = 0
    for b, batch in enumerated:
        if not group:
            first = b
        group.append(batch)
        if len(group) == k:
            yield first, Group(group)
            group = []
    if group:
        yield first, Group(group)


class MicroBatches:
    """``minimize``'s objective over a :class:`Group`: the mean loss, the mean gradient.

    Wraps the run's objective (same interface: ``obj(view, args) -> f``, the
    gradient left in ``obj.g``, ``nfev``/``njev``).  Given a :class:`Group` it
    evaluates each micro-batch at the same point, accumulates the gradients in a
    buffer of its own (fused kernels, on the host or the GPU like ``obj.g``) and
    leaves their mean in ``obj.g``; any other ``args`` (the whole data, at the end of
    a run) pass through.
    """

    def __init__(self, objective: Any, backend: str) -> None:
        self.objective = objective
        g = objective.g
        self._layout = Layout((g.size,), g.dtype, "C", on_device(g))
        self._backend = resolve(backend, self._layout.device, g.size)
        self._rows = Rows(("grad",))

    def __call__(self, view: Any, args: Any) -> float:
        obj = self.objective
        if not isinstance(args, Group):
            return obj(view, args)
        g, m = obj.g, len(args)
        total = 0.0
        for j, batch in enumerate(args.batches):
            total += obj(view, batch)
            if m == 1:
                break
            rows, _ = self._rows.get(self._layout, g.size)
            if j == 0:
                launch(load_body, g, g, rows, (), self._backend)
            elif j < m - 1:
                launch(add_body, g, g, rows, (), self._backend)
            else:
                launch(mean_into_g_body, g, g, rows, (float(m),), self._backend)
        return total / m

    @property
    def nfev(self) -> int:
        return self.objective.nfev

    @nfev.setter
    def nfev(self, value: int) -> None:
        self.objective.nfev = value

    @property
    def njev(self) -> int:
        return self.objective.njev

    @njev.setter
    def njev(self, value: int) -> None:
        self.objective.njev = value

    def __getattr__(self, name: str) -> Any:
        if name == "objective":
            raise AttributeError(name)
        return getattr(self.objective, name)
