"""AdaBelief: Adam whose second moment tracks the gradient's deviation from its mean.

Zhuang et al. 2020, "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
Gradients", as optax writes it (``optax.adabelief``; torch has no AdaBelief):

    m_t = β1 m_{t-1} + (1 - β1) g_t
    s_t = β2 s_{t-1} + (1 - β2) (g_t - m_t)² + ε_root
    m̂_t = m_t / (1 - β1^t)
        (nesterov: m̂_t = β1 m_t/(1 - β1^{t+1}) + (1 - β1) g_t/(1 - β1^t))
    ŝ_t = s_t / (1 - β2^t)
    θ_t = θ_{t-1} - η m̂_t / (sqrt(ŝ_t) + ε)

``s`` is the "belief": where the gradient agrees with its running mean the step is
large, where it scatters the step is small.  ε_root is added to ``s`` at every step
(optax's ``eps_root``), ε outside the root.  Defaults are optax's: β = (0.9, 0.999),
ε = ε_root = 1e-16; the learning rate 1e-3 is the authors' (optax has no default).
"""

from __future__ import annotations

import math

import numpy as np

from numopt.kernels.element import grad
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, EPS_ROOT, LEARNING_RATE, NESTEROV
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import RuleSpec, always, factor_layout

F = factor_layout(
    "lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "bias1", "bias2", "eps",
    "eps_root", "ahead", "mean", "now",
)  # fmt: skip


def reference(
    theta, g, m, s, *, t, learning_rate, beta1, beta2, eps, eps_root, nesterov=False,
    maximize=False,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``s``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    s[:] = dt(beta2) * s + dt(1 - beta2) * (g - m) ** 2 + dt(eps_root)
    if nesterov:
        m_hat = dt(beta1 / (1 - beta1 ** (t + 1))) * m + dt((1 - beta1) / (1 - beta1**t)) * g
    else:
        m_hat = m / dt(1 - beta1**t)
    s_hat = s / dt(1 - beta2**t)
    theta -= dt(learning_rate) * m_hat / (np.sqrt(s_hat) + dt(eps))


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m, s)``.  With Nesterov (``ahead`` 1),
    ``m̂ = mean·m + now·g``: ``mean = β1/(1-β1^{t+1})``, ``now = (1-β1)/(1-β1^t)``."""
    gi = grad(i, g, c)
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    d = gi - m
    s = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (d * d) + c[F.eps_root]
    state[0, i] = m
    state[1, i] = s
    m_hat = c[F.mean] * m + c[F.now] * gi if c[F.ahead] != 0 else m / c[F.bias1]
    theta[i] = theta[i] - c[F.lr] * m_hat / (math.sqrt(s / c[F.bias2]) + c[F.eps])


def factors(t, lr, h):
    """The step's factors from ``h = (β1, β2, ε, ε_root, nesterov)``; Numba compiles it too."""
    b1, b2 = h[0], h[1]
    bias1, bias2 = 1 - math.pow(b1, float(t)), 1 - math.pow(b2, float(t))
    mean, now = b1 / (1 - math.pow(b1, float(t + 1))), (1 - b1) / bias1
    return (lr, b1, 1 - b1, b2, 1 - b2, bias1, bias2, h[2], h[3], h[4], mean, now)


SPEC = RuleSpec(
    name="adabelief",
    hyperparameters=(
        LEARNING_RATE,
        BETA1,
        BETA2.but(doc="Decay of the belief ``s`` (the squared deviation), in [0, 1)."),
        EPS.but(default=1e-16),
        EPS_ROOT.but(
            default=1e-16, doc="ε_root >= 0, added to ``s`` at every step (optax's ``eps_root``)."
        ),
        NESTEROV.but(doc="Nesterov's look-ahead on the bias-corrected first moment (optax's)."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (
        hp["beta1"],
        hp["beta2"],
        hp["eps"],
        hp["eps_root"],
        float(hp["nesterov"]),
    ),
    body=always(body),
    reference=reference,
    state=always(("m", "s")),
)


class AdaBelief(Optimizer, spec=SPEC):
    """AdaBelief: Adam with ``s ← β2 s + (1-β2)(g - m)²`` in place of ``v``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.AdaBelief(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step: η·g/|g - (1-β1)g| = η/β1
    array([ 0.88888889, -0.88888889])
    """
