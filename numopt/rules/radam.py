"""RAdam: Adam whose adaptive step is switched on once its variance is tractable.

torch.optim's algorithm box (``torch.optim.RAdam``; Liu et al. 2020):

    θ ← θ (1 - ηλ)                  if decoupled_weight_decay (λ = weight_decay)
    g_t ← g_t + λ θ_{t-1}            otherwise (coupled L2)
    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    m̂_t = m_t / (1 - β1^t)
    ρ_∞ = 2/(1 - β2) - 1
    ρ_t = ρ_∞ - 2t β2^t / (1 - β2^t)
    if ρ_t > 5:
        l_t = sqrt(1 - β2^t) / (sqrt(v_t) + ε)
        r_t = sqrt((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t))
        θ_t = θ - η m̂_t r_t l_t
    else:
        θ_t = θ - η m̂_t                               (momentum SGD)

The switch ``ρ_t > 5`` depends on t and β2 only, so it is decided on the host, in
float64 (the same expression as torch), and passed to the one kernel as factors:
the kernel computes ``θ d - k m / (s sqrt(v) + e)`` with

* rectified:   ``k = η r_t sqrt(1 - β2^t) / (1 - β1^t)``, ``s = 1``, ``e = ε``;
* unrectified: ``k = η / (1 - β1^t)``, ``s = 0``, ``e = 1`` (``m / (0 + 1)`` is ``m``
  exactly),

and ``d = 1 - ηλ`` (decoupled) or 1.  One compiled kernel serves both phases.
With the default β2 = 0.999 the first 5 steps are unrectified.
"""

from __future__ import annotations

import math

import numpy as np

from numopt.kernels.element import grad
from numopt.rules.adam import moments
from numopt.rules.hyperparameters import (
    BETA1,
    BETA2,
    DECOUPLED_WEIGHT_DECAY,
    EPS,
    LEARNING_RATE,
    WEIGHT_DECAY,
)
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import RuleSpec, always, factor_layout

F = factor_layout(
    "k", "s", "e", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "l2", "decay"
)


def rectification(t: int, beta2: float) -> float | None:
    """``r_t`` when ``ρ_t > 5`` (the adaptive step is used), else ``None``."""
    rho_inf = 2 / (1 - beta2) - 1
    bias_correction2 = 1 - beta2**t
    rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
    if not rho_t > 5.0:
        return None
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def _scalars(t, learning_rate, beta1, beta2, eps):
    """The factors ``(k, s, e)`` of step t (see the module docstring)."""
    r = rectification(t, beta2)
    if r is None:
        return learning_rate / (1 - beta1**t), 0.0, 1.0
    return learning_rate * r * math.sqrt(1 - beta2**t) / (1 - beta1**t), 1.0, eps


def reference(
    theta,
    g,
    m,
    v,
    *,
    t,
    learning_rate,
    beta1,
    beta2,
    eps,
    weight_decay,
    decoupled_weight_decay,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    decay = 1.0
    if decoupled_weight_decay:
        decay = 1 - learning_rate * weight_decay
    else:
        g = g + dt(weight_decay) * theta
    moments(m, v, g, beta1, beta2)
    k, s, e = _scalars(t, learning_rate, beta1, beta2, eps)
    theta[:] = theta * dt(decay) - dt(k) * m / (dt(s) * np.sqrt(v) + dt(e))


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m, v)``."""
    gi = grad(i, g, c) + c[F.l2] * theta[i]
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] * c[F.decay] - c[F.k] * m / (c[F.s] * math.sqrt(v) + c[F.e])


def factors(t, lr, h):
    """``c = (k, s, e, β1, 1-β1, β2, 1-β2, λ_coupled, 1-ηλ_decoupled)`` of step ``t``.

    From ``h = (β1, β2, ε, λ, decoupled)``; the rectification switch as in
    :func:`rectification`.  Plain arithmetic: Numba compiles it too, for the compiled
    loop (``math.pow(b, float(t))`` has the bits of Python's ``b**t``).
    """
    b1, b2, eps, wd = h[0], h[1], h[2], h[3]
    p1, p2 = math.pow(b1, float(t)), math.pow(b2, float(t))
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * p2 / (1 - p2)
    if not rho_t > 5.0:
        k, s, e = lr / (1 - p1), 0.0, 1.0
    else:
        r = math.pow(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5
        )
        k, s, e = lr * r * math.sqrt(1 - p2) / (1 - p1), 1.0, eps
    if h[4] != 0.0:
        coupled, decay = 0.0, 1 - lr * wd
    else:
        coupled, decay = wd, 1.0
    return (k, s, e, b1, 1 - b1, b2, 1 - b2, coupled, decay)


SPEC = RuleSpec(
    name="radam",
    hyperparameters=(
        LEARNING_RATE,
        BETA1,
        BETA2,
        EPS.but(doc="ε > 0, added to ``sqrt(v)``."),
        WEIGHT_DECAY.but(
            doc="λ >= 0: L2 added to the gradient, or with ``decoupled_weight_decay`` the\n"
            "decay ``θ(1 - ηλ)`` (as AdamW, and the RAdam authors' code)."
        ),
        DECOUPLED_WEIGHT_DECAY,
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (
        hp["beta1"],
        hp["beta2"],
        hp["eps"],
        hp["weight_decay"],
        1.0 if hp["decoupled_weight_decay"] else 0.0,
    ),
    body=always(body),
    reference=reference,
    state=always(("m", "v")),
)


class RAdam(Optimizer, spec=SPEC):
    """RAdam: rectified Adam; momentum SGD while ``ρ_t <= 5``, then ``η m̂ r_t l_t``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.RAdam(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # step 1 is unrectified: θ - η m̂ = θ - η g
    array([ 0.7 , -0.95])
    """
