"""AdEMAMix: Adam plus a second, slow momentum that remembers gradients for thousands of steps.

Pagliardini et al. 2024, "The AdEMAMix Optimizer: Better, Faster, Older", as optax
writes it (``optax.contrib.ademamix``, constant β3 and α; torch has no AdEMAMix):

    m1_t = β1 m1_{t-1} + (1 - β1) g_t              (fast momentum, bias-corrected)
    m2_t = β3 m2_{t-1} + (1 - β3) g_t              (slow momentum, not corrected)
    ν_t  = β2 ν_{t-1} + (1 - β2) g_t²
    u_t  = (m1_t/(1-β1^t) + α m2_t) / (sqrt(ν_t/(1-β2^t) + ε_root) + ε)
    θ_t  = θ_{t-1} - η (u_t + λ θ_{t-1})             (λ = weight_decay, decoupled)

The slow momentum is left uncorrected so that it fills slowly.  The paper warms α and
β3 up over training (optax's ``alpha_scheduler``/``b3_scheduler``); here they are
constants, and a schedule given for them is refused.
Defaults are optax's: β = (0.9, 0.999, 0.9999), α = 5, ε = 1e-8, ε_root = 0, λ = 0.

The per-step constants are folded on the host in float64 (as torch's fused Adam
folds its own) and passed to the kernels cast to θ's dtype, like every scalar
factor: ``a_t = 1/(1-β1^t)`` and ``b_t = 1/(1-β2^t)``, so that an element costs one
division and one square root:

    u_t = (m1_t a_t + α m2_t) / (sqrt(ν_t b_t + ε_root) + ε)

which is the ``u_t`` above, rounded differently (within a few ulps of it; the NumPy
reference makes the same operations, so every backend gives its bits).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import (
    BETA1,
    BETA2,
    BETA3,
    EPS,
    EPS_ROOT,
    LEARNING_RATE,
    WEIGHT_DECAY,
)
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout(
    "lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "beta3", "one_minus_beta3",
    "bias1", "bias2", "alpha", "eps", "eps_root", "decay", "inv_bias1", "inv_bias2",
)  # fmt: skip


def reference(
    theta, g, m1, m2, nu, *, t, learning_rate, beta1, beta2, beta3, alpha, eps, eps_root,
    weight_decay, maximize=False,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta``, ``m1``, ``m2``, ``nu``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    m1[:] = dt(beta1) * m1 + dt(1 - beta1) * g
    m2[:] = dt(beta3) * m2 + dt(1 - beta3) * g
    nu[:] = dt(beta2) * nu + dt(1 - beta2) * (g * g)
    h = factor_args(dict(beta1=beta1, beta2=beta2, beta3=beta3, alpha=alpha, eps=eps,
                         eps_root=eps_root, weight_decay=weight_decay))  # fmt: skip
    c = factors(t, learning_rate, h)  # the kernels' folded constants
    u = (m1 * dt(c[F.inv_bias1]) + dt(alpha) * m2) / (
        np.sqrt(nu * dt(c[F.inv_bias2]) + dt(eps_root)) + dt(eps)
    )
    theta -= dt(learning_rate) * (u + dt(weight_decay) * theta)


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m1, m2, nu)``; ``decay`` is λ."""
    gi = grad(i, g, c)
    m1 = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    m2 = c[F.beta3] * state[1, i] + c[F.one_minus_beta3] * gi
    nu = c[F.beta2] * state[2, i] + c[F.one_minus_beta2] * (gi * gi)
    state[0, i] = m1
    state[1, i] = m2
    state[2, i] = nu
    u = (m1 * c[F.inv_bias1] + c[F.alpha] * m2) / (
        math.sqrt(nu * c[F.inv_bias2] + c[F.eps_root]) + c[F.eps]
    )
    theta[i] = theta[i] - c[F.lr] * (u + c[F.decay] * theta[i])


def factors(t, lr, h):
    """The step's factors from ``h = (β1, β2, β3, α, ε, ε_root, λ)``; Numba compiles it."""
    b1, b2, b3 = h[0], h[1], h[2]
    ft = float(t)
    bc1, bc2 = 1 - math.pow(b1, ft), 1 - math.pow(b2, ft)
    return (
        lr, b1, 1 - b1, b2, 1 - b2, b3, 1 - b3, bc1, bc2,
        h[3], h[4], h[5], h[6], 1 / bc1, 1 / bc2,
    )  # fmt: skip


def factor_args(hp):
    """``h`` of :func:`factors` from the hyperparameters."""
    return (
        hp["beta1"], hp["beta2"], hp["beta3"], hp["alpha"], hp["eps"], hp["eps_root"],
        hp["weight_decay"],
    )  # fmt: skip


def constant_alpha(name: str, value: Any) -> float:
    """α >= 0, a number: optax's ``alpha_scheduler`` has no counterpart here."""
    if callable(value):
        raise TypeError(
            f"{name} must be a real number >= 0, not a schedule: numopt's AdEMAMix takes a "
            "constant alpha (optax's alpha_scheduler has no counterpart)"
        )
    return _checks.nonnegative(name, value)


SPEC = RuleSpec(
    name="ademamix",
    hyperparameters=(
        LEARNING_RATE,
        BETA1.but(doc="Decay of the fast momentum ``m1``, in [0, 1)."),
        BETA2,
        BETA3.but(doc="Decay of the slow momentum ``m2``, in [0, 1)."),
        Hyper(
            "alpha",
            5.0,
            constant_alpha,
            "float",
            "α >= 0, the weight of the slow momentum in the step.",
        ),
        EPS,
        EPS_ROOT,
        WEIGHT_DECAY.but(doc="λ >= 0, decoupled: the step is ``η (u + λθ)`` (as optax)."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=factor_args,
    body=always(body),
    reference=reference,
    state=always(("m1", "m2", "nu")),
)


class AdEMAMix(Optimizer, spec=SPEC):
    """AdEMAMix: ``θ ← θ - η (m̂1 + α m2)/(sqrt(ν̂) + ε)``, a fast and a slow momentum.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.AdEMAMix(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # (1 + α(1-β3)) η sign(g) at the first step
    array([ 0.89995, -0.89995])
    """
