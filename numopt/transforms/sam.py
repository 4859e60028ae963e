"""Sharpness-aware minimisation (Foret, Kleiner, Mobahi & Neyshabur, 2021) around any rule.

SAM steps with the gradient at a nearby worse point: from ``x`` and its gradient
``g`` it climbs to

    x̃ = x + ρ g / ‖g‖₂,

evaluates the gradient ``g̃`` there, goes back to ``x`` and lets the wrapped optimizer
step ``x`` with ``g̃``.  So each update costs two gradient evaluations.  With
``adaptive=True`` (ASAM, Kwon, Kim, Park & Choi, 2021, as in the ``sam`` package for
PyTorch) the climb is scaled element by element by ``|x|``:

    x̃ = x + ρ x² g / ‖x g‖₂.

The norm is the whole gradient's (every array of a structured ``x``), summed in a
fixed order (:func:`numopt.rules.clipping.gradient_norm`: the same bits for any
thread count); a zero gradient leaves ``x̃ = x``.  Under box bounds ``x̃`` is
clamped into the box, so the objective is never evaluated outside it.  The climb
and the return run in fused kernels (:mod:`numopt.transforms._kernels`) on the CPU or
the GPU; ``x`` is saved and restored exactly (a copy, not ``x̃ - ε``).

optax has this as ``optax.contrib.sam(optimizer, adv_optimizer)`` with ``adv_optimizer =
chain(normalize(), sgd(ρ))`` and ``sync_period=2``: numopt's ``SAM(optimizer, rho)``
makes the same updates (its tests compare 300 steps with optax's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from numopt._checks import boolean, positive
from numopt.kernels.arrays import FlatPair, flat_pair
from numopt.kernels.launch import resolve
from numopt.rules.clipping import gradient_norm
from numopt.transforms._kernels import (
    ascend_body,
    ascend_x2_body,
    launch,
    product_body,
    restore_body,
)
from numopt.transforms._wrapper import Rows, Wrapper, chain, updated


class NonFiniteClimb(ArithmeticError):
    """The loss or gradient at SAM's climbed point was not finite (``minimize``: no step)."""

    def __init__(self, f: float) -> None:
        super().__init__(f"non-finite loss ({f}) or gradient at SAM's climbed point")
        self.f = f


class SAM(Wrapper):
    """Sharpness-aware minimisation around any optimizer: step with the gradient at a
    point ``rho`` uphill.

    Parameters
    ----------
    optimizer : numopt optimizer
        Any rule (``numopt.SGD(...)``, ``numopt.Adam(...)``) or another transform.
    rho : float, default 0.05
        The radius ρ > 0 of the climb (Foret et al.'s default; ASAM used larger ones,
        e.g. 0.5–2).
    adaptive : bool, default False
        ASAM: scale the climb element-wise by ``|x|`` (see the module docstring).

    Notes
    -----
    In your own loop, each update is three calls::

        opt.perturb(x, g)          # x moves to x + ε (in place); the point is kept
        g_adv = gradient(x)        # the gradient there (your objective)
        opt.step(x, g_adv)         # x goes back, then the wrapped optimizer steps

    :meth:`step` without a :meth:`perturb` before it is an error (it would silently
    be the wrapped optimizer alone).  In ``minimize`` (``options={"sam": rho}``, or
    ``method=numopt.SAM(...)``) the loop does this itself: the second evaluation uses
    the same mini-batch as the first, ``nfev``/``njev`` count both, and ``fun``,
    ``jac``, the history and the stopping tests are those at ``x``.

    SAM keeps no state of its own between updates besides ``step_count``; the point
    saved by :meth:`perturb` is a scratch array of x's size (not in ``state_dict``,
    which is refused between :meth:`perturb` and :meth:`step`).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([3.0, 4.0])
    >>> opt = numopt.SAM(numopt.GD(learning_rate=0.1), rho=0.5)
    >>> opt.perturb(x, 2 * x)          # g = 2x = (6, 8), ‖g‖ = 10: x + 0.5 (0.6, 0.8)
    array([3.3, 4.4])
    >>> opt.step(x, 2 * x)             # g̃ = (6.6, 8.8), applied at (3, 4)
    array([2.34, 3.12])
    """

    kind = "sam"

    def __init__(self, optimizer: Any, rho: float = 0.05, adaptive: bool = False) -> None:
        super().__init__(optimizer)
        for link in chain(optimizer):
            if getattr(link, "evaluates", False):
                raise ValueError("SAM wraps a rule that steps from a given gradient, not l-bfgs")
        self._rho = positive("rho", rho)
        self._adaptive = boolean("adaptive", adaptive)
        self._point = Rows(("point",))  # x, kept while x is at the climbed point
        self._climbed = False
        #: set by ``minimize`` while it runs: evaluate the gradient at x into g; returns
        #: the loss and whether the loss and the gradient are finite
        self._evaluate: Callable[[], tuple[float, bool]] | None = None

    @property
    def rho(self) -> float:
        """The radius ρ of the climb."""
        return self._rho

    @property
    def adaptive(self) -> bool:
        """Whether the climb is ASAM's (scaled by ``|x|``)."""
        return self._adaptive

    # -- the climb and the return ------------------------------------------------------
    def _climb(self, pair: FlatPair, box: Any) -> None:
        """Save x and move it to ``x + ε`` (clamped into ``box``)."""
        n = pair.x.size
        backend = resolve(self.backend, pair.layout.device, n)
        rows, _ = self._point.get(pair.layout, n)
        if self._adaptive:  # ‖x g‖, summed from the scratch row
            launch(product_body, pair.x, pair.g, rows, (), backend)
            norm = gradient_norm(rows[0], backend)
        else:
            norm = gradient_norm(pair.g, backend)
        # (a zero gradient climbs nowhere; a non-finite one is the loop's to report)
        scale = self._rho / norm if 0.0 < norm < math.inf else 0.0
        body = ascend_x2_body if self._adaptive else ascend_body
        launch(body, pair.x, pair.g, rows, (scale,), backend, box)
        self._climbed = True

    def _return(self, pair: FlatPair) -> None:
        """x back to the point :meth:`_climb` saved, bit for bit."""
        backend = resolve(self.backend, pair.layout.device, pair.x.size)
        rows, _ = self._point.get(pair.layout, pair.x.size)
        launch(restore_body, pair.x, pair.g, rows, (), backend)
        self._climbed = False

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        if self._evaluate is not None:  # in minimize: the second evaluation is ours
            self._climb(pair, box)
            try:
                f, finite = self._evaluate()  # the gradient at x + ε, into pair.g
            finally:  # (an interrupted evaluation leaves x where it was)
                self._return(pair)
            if not finite:  # no step: minimize stops (or skips the batch) at x
                raise NonFiniteClimb(f)
        elif not self._climbed:
            raise ValueError(
                "SAM.step needs the gradient at the climbed point: call opt.perturb(x, g) "
                "first, evaluate the gradient at the x it leaves, then opt.step(x, g_there)"
            )
        else:
            self._return(pair)
        self._inner._apply(pair, box)
        self._updated = updated(self._inner)
        if self._updated:
            self._t += 1

    # -- the stateful API --------------------------------------------------------------
    def perturb(self, x: Any, g: Any) -> Any:
        """Move ``x`` in place to the climbed point ``x + ε`` from its gradient ``g``.

        Evaluate the gradient at the ``x`` this leaves, then call :meth:`step` with it:
        ``x`` goes back and the wrapped optimizer steps.  Returns ``x``.
        """
        if self._climbed:
            raise ValueError(
                "perturb was called twice: x is already at the climbed point; call "
                "opt.step(x, g_there) with the gradient there (or reset())"
            )
        pair = flat_pair(x, g)
        rule = chain(self)[-1]
        self._climb(pair, None if rule.bounds is None else rule._box_for(pair.layout))
        return x

    def reset(self) -> None:
        """Forget the state (a pending :meth:`perturb` too: x stays where it is)."""
        self._point.reset()
        self._climbed = False
        super().reset()

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's state, as :meth:`Wrapper.state_dict`; refused between
        :meth:`perturb` and :meth:`step`, when ``x`` is at the climbed point."""
        if self._climbed:
            raise ValueError(
                "state_dict between perturb and step: x is at the climbed point, not the "
                "iterate; call it after opt.step"
            )
        return super().state_dict()

    def _config(self) -> dict[str, Any]:
        return {"rho": self._rho, "adaptive": self._adaptive}

    def _clone_around(self, inner: Any) -> SAM:
        return SAM(inner, self._rho, self._adaptive)
