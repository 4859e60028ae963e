"""Lookahead (Zhang, Lucas, Hinton & Ba, 2019): slow weights that follow any rule's fast ones.

The wrapped optimizer steps ``x`` (the *fast* weights ``θ``) as usual.  The *slow*
weights ``φ`` start at ``x`` before the first step; after every ``k`` updates

    φ ← φ + α (θ - φ)
    θ ← φ

in one fused kernel (CPU loops or, for device arrays, the CUDA kernel).  The wrapped
rule's own state (moments) is kept across synchronisations, as in the paper's
experiments and ``torch-optimizer``'s ``Lookahead``.  optax calls ``k`` and ``α``
``sync_period`` and ``slow_step_size``.
"""

from __future__ import annotations

from typing import Any

from numopt._checks import integer, interval
from numopt.kernels.arrays import FlatPair
from numopt.kernels.launch import resolve
from numopt.transforms._kernels import launch, load_body, lookahead_body
from numopt.transforms._wrapper import Wrapper, updated


class Lookahead(Wrapper):
    """Lookahead around any optimizer: every ``k`` updates, pull x towards the slow weights.

    Parameters
    ----------
    optimizer : numopt optimizer
        Any rule (``numopt.Adam(...)``) or another transform.
    k : int, default 5
        Updates between synchronisations, >= 1.
    alpha : float, default 0.5
        Slow step size α in (0, 1] (α = 1: plain ``optimizer``).

    Notes
    -----
    State array ``"slow"`` (x's shape and dtype), allocated and set to x at the first
    step.  ``step_count`` counts the updates; a synchronisation follows each update
    whose count is a multiple of ``k``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0])
    >>> opt = numopt.Lookahead(numopt.GD(learning_rate=0.1), k=2, alpha=0.5)
    >>> opt.step(x, np.array([1.0]))   # fast: 1 - 0.1
    array([0.9])
    >>> opt.step(x, np.array([1.0]))   # fast 0.8, then slow = 1 + 0.5 (0.8 - 1) = 0.9
    array([0.9])
    """

    kind = "lookahead"
    array_names = ("slow",)

    def __init__(self, optimizer: Any, k: int = 5, alpha: float = 0.5) -> None:
        super().__init__(optimizer)
        self._k = integer("k", k, 1)
        self._alpha = interval("alpha", alpha, "(0, 1]")

    @property
    def k(self) -> int:
        """Updates between synchronisations."""
        return self._k

    @property
    def alpha(self) -> float:
        """The slow step size α."""
        return self._alpha

    @property
    def slow(self) -> Any:
        """The slow weights, a NumPy copy shaped like x (``None`` before the first step)."""
        return self._rows.host_arrays().get("slow")

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        backend = resolve(self.backend, pair.layout.device, pair.x.size)
        rows, fresh = self._rows.get(pair.layout, pair.x.size)
        if fresh:  # φ_0 = θ_0
            launch(load_body, pair.x, pair.x, rows, (), backend)
        self._inner._apply(pair, box)
        self._updated = updated(self._inner)
        if self._updated:
            self._t += 1
            if self._t % self._k == 0:  # x = φ, clamped into the bounds (rounding)
                launch(lookahead_body, pair.x, pair.x, rows, (self._alpha,), backend, box)

    def _config(self) -> dict[str, Any]:
        return {"k": self._k, "alpha": self._alpha}

    def _clone_around(self, inner: Any) -> Lookahead:
        return Lookahead(inner, self._k, self._alpha)
