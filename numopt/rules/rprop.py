"""Rprop: per-parameter step sizes adapted to the sign changes of the full gradient.

torch.optim's algorithm box (``torch.optim.Rprop``; Riedmiller & Braun 1993):

    initialise: g_prev ← 0, Δ ← η (the learning rate) for every parameter
    p = g_t g_prev
    if p > 0:   Δ ← min(Δ η₊, Γ_max)
    elif p < 0: Δ ← max(Δ η₋, Γ_min);  g_t ← 0       (no step, forget the sign)
    else:       Δ unchanged
    θ_t = θ_{t-1} - Δ sign(g_t)
    g_prev ← g_t

As torch computes it, every branch clamps ``Δ·factor`` into ``[Γ_min, Γ_max]``
(so a learning rate outside the bounds is clamped at the first step).  Only the
sign of the gradient is used; its size never is.

Rprop is a full-batch method: a mini-batch gradient's sign flips with the batch,
which Rprop would read as overshooting.  ``minimize`` refuses ``batch_size`` for it
(:attr:`Rprop.full_batch_only`).  The learning rate is only the initial step size
``Δ_0``, so it must be a number, not a schedule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import LEARNING_RATE
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("eta_minus", "eta_plus", "step_min", "step_max", "one")


def reference(theta, g, prev, step_size, *, t, learning_rate, etas, step_sizes, maximize=False):
    """NumPy reference of one step, in place on flat ``theta``, ``prev`` and ``step_size``.

    ``step_size`` holds the learning rate before the first step, ``prev`` zeros.
    """
    dt = theta.dtype.type
    g = -g if maximize else g
    eta_minus, eta_plus = dt(etas[0]), dt(etas[1])
    p = g * prev
    factor = np.where(p > 0, eta_plus, np.where(p < 0, eta_minus, dt(1)))
    step_size[:] = np.minimum(np.maximum(step_size * factor, dt(step_sizes[0])), dt(step_sizes[1]))
    g = np.where(p < 0, dt(0), g)
    theta -= np.sign(g) * step_size
    prev[:] = g


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (prev, step_size)``.

    Written without branches, so that the loop vectorises (a gradient's sign is an
    unpredictable branch): the factor is ``η₊·[p > 0] + η₋·[p < 0] + 1·[p = 0]``,
    one term exact and the others exact zeros.
    """
    one = c[F.one]
    gi = grad(i, g, c)
    p = gi * state[0, i]
    up = one * (p > 0)
    down = one * (p < 0)
    factor = c[F.eta_plus] * up + c[F.eta_minus] * down + (one - up - down)
    s = state[1, i] * factor
    s = c[F.step_min] if s < c[F.step_min] else s  # clamp by comparisons: min/max do not vectorise
    s = c[F.step_max] if s > c[F.step_max] else s
    zero = one - one
    gi = zero if p < 0 else gi  # a sign change means the last step overshot: no step
    state[0, i] = gi
    state[1, i] = s
    theta[i] = theta[i] - (math.copysign(s, gi) if gi != 0 else zero)


def factors(t, lr, h):
    """``(η₋, η₊, Δ_min, Δ_max, 1)`` from ``h = (η₋, η₊, Δ_min, Δ_max)``; Numba compiles it."""
    return (h[0], h[1], h[2], h[3], 1.0)


def initial_state(rows, hp):
    """Every step size starts at the learning rate; the previous gradient at zero."""
    rows[1] = hp["learning_rate"]


def initial_step(name: str, value: Any) -> float:
    """Rprop's learning rate: a number > 0 (only the initial step size), not a schedule."""
    if callable(value):
        raise TypeError(
            "learning_rate must be a number for Rprop (it is only the initial step size); "
            f"got the schedule {value!r}"
        )
    return _checks.positive(name, value)


SPEC = RuleSpec(
    name="rprop",
    hyperparameters=(
        LEARNING_RATE.but(
            default=1e-2,
            check=initial_step,
            kind="float",
            doc="η > 0, the initial step size Δ_0 of every parameter (used at the first step\n"
            "only, as in torch; not a schedule).",
        ),
        Hyper(
            "etas",
            (0.5, 1.2),
            _checks.etas,
            "(float, float)",
            "``(η₋, η₊)`` with 0 < η₋ < 1 < η₊: the factors that shrink and grow Δ.",
        ),
        Hyper(
            "step_sizes",
            (1e-6, 50.0),
            _checks.step_sizes,
            "(float, float)",
            "``(Γ_min, Γ_max)`` with 0 < Γ_min < Γ_max: the bounds of Δ.",
        ),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (*hp["etas"], *hp["step_sizes"]),
    body=always(body),
    reference=reference,
    state=always(("prev", "step_size")),
    initial_state=initial_state,
    full_batch_only=True,
)


class Rprop(Optimizer, spec=SPEC):
    """Rprop: ``θ ← θ - Δ sign(g)``, each Δ grown by η₊ or shrunk by η₋ as g keeps or flips sign.

    Notes
    -----
    Full-batch only: ``minimize(..., options={"batch_size": ...})`` is an error.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Rprop(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # θ - 0.1·sign(g)
    array([ 0.9, -0.9])
    >>> opt.step(x, np.array([2.0, 0.5]))    # same sign: Δ = 0.12; flipped: Δ = 0.05, no step
    array([ 0.78, -0.9 ])
    """
