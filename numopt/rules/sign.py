"""Sign SGD and Signum: steps of fixed size η along the sign of the gradient or of its EMA.

Bernstein et al. 2018, "signSGD: Compressed Optimisation for Non-Convex Problems", as
optax writes them (``optax.sign_sgd``, ``optax.signum``; torch has neither):

    θ_t = θ_{t-1} - η sign(g_t)                     (sign SGD)
    m_t = β m_{t-1} + (1 - β) g_t                   (Signum; not bias-corrected:
    θ_t = θ_{t-1} - η sign(m_t)                      the sign does not need it)

``sign(0) = 0``.  Each parameter moves by exactly η (or not at all), so at a constant
η the iterates hover within η of a minimum: decay η to converge tightly.  Signum's
β = 0.9 is optax's default; η = 1e-3 (optax has no default).
"""

from __future__ import annotations

import math

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import LEARNING_RATE
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("lr", "beta", "one_minus_beta")


def reference(theta, g, *m, t, learning_rate, beta=0.0, maximize=False):
    """NumPy reference of one step, in place on flat ``theta`` (and Signum's ``m``)."""
    dt = theta.dtype.type
    g = -g if maximize else g
    if m:
        m[0][:] = dt(beta) * m[0] + dt(1 - beta) * g
        g = m[0]
    theta -= dt(learning_rate) * np.sign(g)


def sign_body(i, theta, g, state, c):
    """Element ``i`` of a sign SGD step (no state).  ``η·sign(u)`` (``sign(0) = 0``) is
    selected, not branched on, so that the loop vectorises."""
    eta, u = c[F.lr], grad(i, g, c)
    theta[i] = theta[i] - (math.copysign(eta, u) if u != 0 else eta - eta)


def signum_body(i, theta, g, state, c):
    """Element ``i`` of a Signum step; ``state = (m,)``."""
    m = c[F.beta] * state[0, i] + c[F.one_minus_beta] * grad(i, g, c)
    state[0, i] = m
    eta = c[F.lr]
    theta[i] = theta[i] - (math.copysign(eta, m) if m != 0 else eta - eta)


def factors(t, lr, h):
    """``(η, β, 1-β)`` from ``h = (β,)``; Numba compiles it too."""
    return (lr, h[0], 1 - h[0])


SIGN_SGD = RuleSpec(
    name="sign_sgd",
    hyperparameters=(LEARNING_RATE,),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (0.0,),
    body=always(sign_body),
    reference=reference,
)

SIGNUM = RuleSpec(
    name="signum",
    hyperparameters=(
        LEARNING_RATE,
        Hyper(
            "beta",
            0.9,
            _checks.decay,
            "float",
            "Decay of the momentum whose sign is the step, in [0, 1).",
        ),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["beta"],),
    body=always(signum_body),
    reference=reference,
    state=always(("m",)),
)


class SignSGD(Optimizer, spec=SIGN_SGD):
    """Sign SGD: ``θ ← θ - η sign(g)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0, 0.5])
    >>> numopt.SignSGD(learning_rate=0.1).step(x, np.array([3.0, -0.5, 0.0]))
    array([ 0.9, -0.9,  0.5])
    """


class Signum(Optimizer, spec=SIGNUM):
    """Signum: ``m ← β m + (1-β) g``, ``θ ← θ - η sign(m)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0, 0.5])
    >>> numopt.Signum(learning_rate=0.1).step(x, np.array([3.0, -0.5, 0.0]))
    array([ 0.9, -0.9,  0.5])
    """
