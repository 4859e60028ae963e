"""Adamax: Adam with the infinity norm in place of the root mean square.

torch.optim's algorithm box (``torch.optim.Adamax``; Kingma & Ba 2015, §7.1):

    g_t ← g_t + λ θ_{t-1}                         (coupled L2, λ = weight_decay)
    m_t = β1 m_{t-1} + (1 - β1) g_t
    u_t = max(β2 u_{t-1}, |g_t| + ε)
    θ_t = θ_{t-1} - η m_t / ((1 - β1^t) u_t)

``η / (1 - β1^t)`` is one host-side factor.  ``u`` needs no bias correction; ε
inside the max keeps it positive (so ``m/u`` is never 0/0).
"""

from __future__ import annotations

import math

import numpy as np

from numopt.kernels.element import grad
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import RuleSpec, always, factor_layout

F = factor_layout("lr", "beta1", "one_minus_beta1", "beta2", "eps", "weight_decay")


def reference(theta, g, m, u, *, t, learning_rate, beta1, beta2, eps, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``u``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    u[:] = np.maximum(dt(beta2) * u, np.abs(g) + dt(eps))
    clr = learning_rate / (1 - beta1**t)
    theta -= dt(clr) * (m / u)


def body(i, theta, g, state, c):
    """Element ``i`` of one step (``lr`` is η/(1-β1^t)); ``state = (m, u)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    decayed, current = c[F.beta2] * state[1, i], abs(gi) + c[F.eps]
    u = decayed if decayed > current else current  # builtin max does not vectorise
    state[0, i] = m
    state[1, i] = u
    theta[i] = theta[i] - c[F.lr] * (m / u)


def factors(t, lr, h):
    """``(η/(1-β1^t), β1, 1-β1, β2, ε, λ)`` from ``h = (β1, β2, ε, λ)``.

    Plain arithmetic: Numba compiles it too, for the compiled loop
    (``math.pow(b, float(t))`` has the bits of Python's ``b**t``).
    """
    b1 = h[0]
    return (lr / (1 - math.pow(b1, float(t))), b1, 1 - b1, h[1], h[2], h[3])


SPEC = RuleSpec(
    name="adamax",
    hyperparameters=(
        LEARNING_RATE.but(default=2e-3),
        BETA1,
        BETA2.but(doc="Decay of the infinity norm, in [0, 1)."),
        EPS.but(doc="ε > 0, added to ``|g|`` inside the max."),
        WEIGHT_DECAY.but(doc="λ >= 0, L2 added to the gradient (coupled)."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"]),
    body=always(body),
    reference=reference,
    state=always(("m", "u")),
)


class Adamax(Optimizer, spec=SPEC):
    """Adamax: ``u ← max(β2 u, |g| + ε)``, ``θ ← θ - η m / ((1 - β1^t) u)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adamax(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step moves each entry by ~η
    array([ 0.9, -0.9])
    """
