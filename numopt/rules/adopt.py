"""ADOPT: Adam with the gradient normalised by the *previous* second moment, then averaged.

Taniguchi et al. 2024, "ADOPT: Modified Adam Can Converge with Any β2 with the Optimal
Rate", as optax writes it (``optax.contrib.adopt``; torch has no ADOPT).  The first
step only initialises ``v`` (θ does not move); from step 2 on:

    v_1 = g_1²
    q_t = clip(g_t / max(sqrt(v_{t-1}), ε), ±(t-1)^{1/4})   (no clip: clipping=False)
    m_t = β1 m_{t-1} + (1 - β1) q_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    θ_t = θ_{t-1} - η m_t              (nesterov: η (β1 m_t + (1 - β1) q_t))

Normalising by ``v_{t-1}``, which does not contain ``g_t``, removes the correlation
that makes Adam diverge for some β2; the clip at ``(t-1)^{1/4}`` (optax's default
``clip_value_fn``) keeps early steps bounded.  No bias correction.  Defaults are
optax's: β = (0.9, 0.9999), ε = 1e-6; η = 1e-3.
"""

from __future__ import annotations

import math

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, LEARNING_RATE, NESTEROV
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout(
    "lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "eps", "clip", "ahead",
    "later",
)  # fmt: skip


def reference(
    theta, g, m, v, *, t, learning_rate, beta1, beta2, eps, nesterov=False, clipping=True,
    maximize=False,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    if t == 1:
        v[:] = g * g
        return
    q = g / np.maximum(np.sqrt(v), dt(eps))
    if clipping:
        bound = dt((t - 1) ** 0.25)
        q = np.clip(q, -bound, bound)
    m[:] = dt(beta1) * m + dt(1 - beta1) * q
    v[:] = dt(beta2) * v + dt(1 - beta2) * (g * g)
    step = dt(beta1) * m + dt(1 - beta1) * q if nesterov else m
    theta -= dt(learning_rate) * step


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m, v)``.  ``later`` is 0 at the first step
    (which only sets ``v``), ``clip`` the bound (inf: off), ``ahead`` 1 for Nesterov.

    Every array element and factor is read first, then the step selects between
    values (the first step's are computed and dropped): an early return or a read
    inside a branch kept Numba's reference counting in the loop (10x slower).
    """
    gi = grad(i, g, c)
    old, m_old, th = state[1, i], state[0, i], theta[i]
    eps, bound, ahead, later = c[F.eps], c[F.clip], c[F.ahead], c[F.later]
    b1, c1, b2, c2, lr = (
        c[F.beta1], c[F.one_minus_beta1], c[F.beta2], c[F.one_minus_beta2], c[F.lr]
    )  # fmt: skip
    r = math.sqrt(old)
    q = gi / (r if r > eps else eps)
    q = bound if q > bound else q
    q = -bound if q < -bound else q
    m = b1 * m_old + c1 * q
    step = b1 * m + c1 * q if ahead != 0 else m
    g2 = gi * gi
    v = b2 * old + c2 * g2
    new_m = m_old if later == 0 else m
    new_v = g2 if later == 0 else v
    new_th = th if later == 0 else th - lr * step
    state[0, i] = new_m
    state[1, i] = new_v
    theta[i] = new_th


def factors(t, lr, h):
    """The step's factors from ``h = (β1, β2, ε, nesterov, clipping)``; Numba compiles it."""
    b1, b2 = h[0], h[1]
    clip = math.pow(float(t - 1), 0.25) if h[4] != 0.0 else math.inf
    return (lr, b1, 1 - b1, b2, 1 - b2, h[2], clip, h[3], 1.0 if t > 1 else 0.0)


SPEC = RuleSpec(
    name="adopt",
    hyperparameters=(
        LEARNING_RATE,
        BETA1,
        BETA2.but(default=0.9999),
        EPS.but(default=1e-6, doc="ε > 0, the floor of ``sqrt(v)`` that divides ``g``."),
        NESTEROV.but(doc="Step by ``β1 m + (1-β1) q`` instead of ``m`` (optax's ``nesterov``)."),
        Hyper(
            "clipping",
            True,
            _checks.boolean,
            "bool",
            "Clip the normalised gradient to ``±(t-1)^{1/4}`` (optax's ``use_clipping``\n"
            "with its default ``clip_value_fn``).",
        ),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (
        hp["beta1"],
        hp["beta2"],
        hp["eps"],
        float(hp["nesterov"]),
        float(hp["clipping"]),
    ),
    body=always(body),
    reference=reference,
    state=always(("m", "v")),
)


class ADOPT(Optimizer, spec=SPEC):
    """ADOPT: ``m ← β1 m + (1-β1) clip(g/max(√v_prev, ε))``, ``θ ← θ - η m``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.ADOPT(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step only sets v = g²
    array([ 1., -1.])
    >>> opt.step(x, np.array([3.0, -0.5]))   # then q = g/|g| = ±1 (the clip is 1): m = ±0.1
    array([ 0.99, -0.99])
    """
