"""Lion: the sign of an interpolated momentum, with decoupled weight decay.

Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1 (as
optax's ``lion`` writes it; torch has no Lion):

    c_t = β1 m_{t-1} + (1 - β1) g_t                (the interpolation)
    θ_t = θ_{t-1} - η (sign(c_t) + λ θ_{t-1})      (λ = weight_decay, decoupled)
    m_t = β2 m_{t-1} + (1 - β2) g_t                (the momentum)

computed as ``θ (1 - ηλ) - η sign(c)`` (``1 - ηλ`` is a host-side factor, as in
AdamW), with ``sign(0) = 0``.  Every step moves each parameter by exactly η (plus
the decay), so Lion wants a smaller η than Adam; at a constant η it hovers within
about η of a minimum (decay η to converge tightly).

Defaults (torch has none to follow): those of the authors' PyTorch code
(google/automl, ``lion/lion_pytorch.py``): η = 1e-4, β1 = 0.9, β2 = 0.99, λ = 0.
β1, β2 are the paper's and optax's too; η = 1e-4 follows the paper's advice of an η
3-10× smaller than AdamW's (1e-3).  λ = 0 as for numopt's Adam: decay moves the
fixed point away from ∇f = 0, so it is opt-in (the paper advises a λ 3-10× larger
than AdamW's when used; optax defaults to 1e-3).
"""

from __future__ import annotations

import math

import numpy as np

from numopt.kernels.element import grad
from numopt.rules.hyperparameters import BETA1, BETA2, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import RuleSpec, always, factor_layout

F = factor_layout("lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "decay")


def reference(theta, g, m, *, t, learning_rate, beta1, beta2, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta`` and ``m``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    c = dt(beta1) * m + dt(1 - beta1) * g
    theta[:] = theta * dt(1 - learning_rate * weight_decay) - dt(learning_rate) * np.sign(c)
    m[:] = dt(beta2) * m + dt(1 - beta2) * g


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m,)``.

    ``η·sign(c)`` is selected, not branched on, so that the loop vectorises.
    """
    eta = c[F.lr]
    gi = grad(i, g, c)
    m = state[0, i]
    u = c[F.beta1] * m + c[F.one_minus_beta1] * gi
    step = math.copysign(eta, u) if u != 0 else eta - eta
    theta[i] = theta[i] * c[F.decay] - step
    state[0, i] = c[F.beta2] * m + c[F.one_minus_beta2] * gi


def factors(t, lr, h):
    """``(η, β1, 1-β1, β2, 1-β2, 1-ηλ)`` from ``h = (β1, β2, λ)``; Numba compiles it too."""
    b1, b2 = h[0], h[1]
    return (lr, b1, 1 - b1, b2, 1 - b2, 1 - lr * h[2])


SPEC = RuleSpec(
    name="lion",
    hyperparameters=(
        LEARNING_RATE.but(
            default=1e-4,
            doc="η > 0, the size of every step, or a schedule ``step -> η`` called with the\n"
            "0-based step.",
        ),
        BETA1.but(
            doc="Interpolation between momentum and gradient for the step's sign, in [0, 1)."
        ),
        BETA2.but(default=0.99, doc="Decay of the momentum, in [0, 1)."),
        WEIGHT_DECAY.but(doc="λ >= 0, decoupled: the decay is ``ηλθ``."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["beta1"], hp["beta2"], hp["weight_decay"]),
    body=always(body),
    reference=reference,
    state=always(("m",)),
)


class Lion(Optimizer, spec=SPEC):
    """Lion: ``θ ← θ(1 - ηλ) - η sign(β1 m + (1-β1) g)``, then ``m ← β2 m + (1-β2) g``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0, 0.5])
    >>> opt = numopt.Lion(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5, 0.0]))   # θ - η·sign(g) at the first step
    array([ 0.9, -0.9,  0.5])
    """
