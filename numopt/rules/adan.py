"""Adan: adaptive Nesterov momentum, from the gradient and its change since the last step.

Xie et al. 2022, "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing Deep
Models", as optax writes it (``optax.adan``; torch has no Adan).  With the previous
gradient ``g_{t-1}`` (the difference is 0 at the first step):

    d_t = g_t - g_{t-1}
    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) d_t
    n_t = β3 n_{t-1} + (1 - β3) (g_t + (1 - β2) d_t)²
    u_t = (m_t/(1-β1^t) + (1 - β2) v_t/(1-β2^t)) / (sqrt(n_t/(1-β3^t) + ε_root) + ε)
    θ_t = θ_{t-1} - η (u_t + λ θ_{t-1})                (λ = weight_decay, decoupled)

The β's are decay rates as in Adam (the paper's ``1 - β``).  The state keeps the
last gradient (``"g_prev"``, after ``maximize`` and clipping): four arrays.  Defaults
are optax's: β = (0.98, 0.92, 0.99), ε = ε_root = 1e-8, λ = 0; η = 1e-3.

The per-step constants are folded on the host in float64 (as torch's fused Adam
folds its own) and passed to the kernels cast to θ's dtype, like every scalar
factor: ``a_t = 1/(1-β1^t)``, ``b_t = (1-β2)/(1-β2^t)`` and ``c_t = 1/(1-β3^t)``, so
that an element costs one division and one square root:

    u_t = (m_t a_t + v_t b_t) / (sqrt(n_t c_t + ε_root) + ε)

which is the ``u_t`` above, rounded differently (within a few ulps of it; the NumPy
reference makes the same operations, so every backend gives its bits).
"""

from __future__ import annotations

import math

import numpy as np

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
from numopt.rules.spec import RuleSpec, always, factor_layout

F = factor_layout(
    "lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "beta3", "one_minus_beta3",
    "bias1", "bias2", "bias3", "eps", "eps_root", "decay", "later",
    "inv_bias1", "diff_scale", "inv_bias3",
)  # fmt: skip


def reference(
    theta, g, m, v, n, g_prev, *, t, learning_rate, beta1, beta2, beta3, eps, eps_root,
    weight_decay, maximize=False,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta`` and the state."""
    dt = theta.dtype.type
    g = -g if maximize else g
    d = g - g_prev if t > 1 else np.zeros_like(g)
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * d
    n[:] = dt(beta3) * n + dt(1 - beta3) * (g + dt(1 - beta2) * d) ** 2
    g_prev[:] = g
    h = factor_args(dict(beta1=beta1, beta2=beta2, beta3=beta3, eps=eps, eps_root=eps_root,
                         weight_decay=weight_decay))  # fmt: skip
    c = factors(t, learning_rate, h)  # the kernels' folded constants
    u = m * dt(c[F.inv_bias1]) + v * dt(c[F.diff_scale])
    u = u / (np.sqrt(n * dt(c[F.inv_bias3]) + dt(eps_root)) + dt(eps))
    theta -= dt(learning_rate) * (u + dt(weight_decay) * theta)


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m, v, n, g_prev)``; ``decay`` is λ."""
    gi = grad(i, g, c)
    prev = state[3, i]  # (read before the select, which then vectorises)
    d = gi - prev if c[F.later] != 0 else gi - gi
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * d
    q = gi + c[F.one_minus_beta2] * d
    n = c[F.beta3] * state[2, i] + c[F.one_minus_beta3] * (q * q)
    state[0, i] = m
    state[1, i] = v
    state[2, i] = n
    state[3, i] = gi
    u = m * c[F.inv_bias1] + v * c[F.diff_scale]
    u = u / (math.sqrt(n * c[F.inv_bias3] + c[F.eps_root]) + c[F.eps])
    theta[i] = theta[i] - c[F.lr] * (u + c[F.decay] * theta[i])


def factors(t, lr, h):
    """The step's factors from ``h = (β1, β2, β3, ε, ε_root, λ)``; Numba compiles it too."""
    b1, b2, b3 = h[0], h[1], h[2]
    ft = float(t)
    bc1, bc2, bc3 = 1 - math.pow(b1, ft), 1 - math.pow(b2, ft), 1 - math.pow(b3, ft)
    return (
        lr, b1, 1 - b1, b2, 1 - b2, b3, 1 - b3, bc1, bc2, bc3,
        h[3], h[4], h[5], 1.0 if t > 1 else 0.0,
        1 / bc1, (1 - b2) / bc2, 1 / bc3,
    )  # fmt: skip


def factor_args(hp):
    """``h`` of :func:`factors` from the hyperparameters."""
    return (hp["beta1"], hp["beta2"], hp["beta3"], hp["eps"], hp["eps_root"], hp["weight_decay"])


SPEC = RuleSpec(
    name="adan",
    hyperparameters=(
        LEARNING_RATE,
        BETA1.but(default=0.98),
        BETA2.but(default=0.92, doc="Decay of the gradient's change ``v``, in [0, 1)."),
        BETA3.but(default=0.99, doc="Decay of the second moment ``n``, in [0, 1)."),
        EPS,
        EPS_ROOT.but(default=1e-8),
        WEIGHT_DECAY.but(doc="λ >= 0, decoupled: the step is ``η (u + λθ)`` (as optax)."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=factor_args,
    body=always(body),
    reference=reference,
    state=always(("m", "v", "n", "g_prev")),
)


class Adan(Optimizer, spec=SPEC):
    """Adan: Adam's moments of ``g`` and of ``g - g_prev``, a Nesterov-style step.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adan(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5])).round(6)   # the first step is η·sign(g)
    array([ 0.9, -0.9])
    """
