"""Adadelta: steps in the units of θ, from running means of g² and of the steps².

torch.optim's algorithm box (``torch.optim.Adadelta``; Zeiler 2012):

    g_t ← g_t + λ θ_{t-1}                                   (coupled L2)
    v_t = ρ v_{t-1} + (1 - ρ) g_t²                          (square_avg)
    Δx_t = sqrt(u_{t-1} + ε) / sqrt(v_t + ε) · g_t
    u_t = ρ u_{t-1} + (1 - ρ) Δx_t²                         (acc_delta)
    θ_t = θ_{t-1} - η Δx_t

Zeiler's rule is ``η = 1`` (torch's default): the ratio of the two roots gives the
step its scale.  The step uses ``u`` from before this step's update.  The kernels take
one root of the ratio, ``sqrt((u + ε)/(v + ε))`` (the same number up to rounding; one
root and no second division is cheaper, and rounds the same in every backend).
"""

from __future__ import annotations

import math

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("lr", "rho", "one_minus_rho", "eps", "weight_decay")


def reference(
    theta, g, square_avg, acc_delta, *, t, learning_rate, rho, eps, weight_decay, maximize=False
):
    """NumPy reference of one step, in place on flat ``theta`` and the two means."""
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    square_avg[:] = dt(rho) * square_avg + dt(1 - rho) * g**2
    delta = np.sqrt((acc_delta + dt(eps)) / (square_avg + dt(eps))) * g
    acc_delta[:] = dt(rho) * acc_delta + dt(1 - rho) * delta**2
    theta -= dt(learning_rate) * delta


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (square_avg, acc_delta)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    v = c[F.rho] * state[0, i] + c[F.one_minus_rho] * (gi * gi)
    u = state[1, i]
    delta = math.sqrt((u + c[F.eps]) / (v + c[F.eps])) * gi
    state[0, i] = v
    state[1, i] = c[F.rho] * u + c[F.one_minus_rho] * (delta * delta)
    theta[i] = theta[i] - c[F.lr] * delta


def factors(t, lr, h):
    """``(η, ρ, 1-ρ, ε, λ)`` from ``h = (ρ, ε, λ)``; Numba compiles it too."""
    return (lr, h[0], 1 - h[0], h[1], h[2])


SPEC = RuleSpec(
    name="adadelta",
    hyperparameters=(
        LEARNING_RATE.but(
            default=1.0,
            doc="η > 0 scaling the step (Zeiler's rule has η = 1), or a schedule\n"
            "``step -> η`` called with the 0-based step.",
        ),
        Hyper(
            "rho", 0.9, _checks.decay, "float", "ρ, the decay of both running means, 0 <= ρ < 1."
        ),
        EPS.but(
            default=1e-6, doc="ε > 0, inside both roots (it sets the size of the first steps)."
        ),
        WEIGHT_DECAY.but(doc="λ >= 0, L2 added to the gradient (coupled)."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["rho"], hp["eps"], hp["weight_decay"]),
    body=always(body),
    reference=reference,
    state=always(("square_avg", "acc_delta")),
)


class Adadelta(Optimizer, spec=SPEC):
    """Adadelta: ``θ ← θ - η sqrt(u + ε)/sqrt(v + ε) · g`` with running means v of g², u of steps².

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0])
    >>> opt = numopt.Adadelta(rho=0.75, eps=1.0)
    >>> opt.step(x, np.array([2.0]))   # v = 0.25·4 = 1; Δx = sqrt(0 + 1)/sqrt(1 + 1)·2
    array([-0.41421356])
    """
