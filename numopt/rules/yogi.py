"""Yogi: Adam whose second moment moves additively, by the sign of its error.

Zaheer et al. 2018, "Adaptive Methods for Nonconvex Optimization", as optax writes it
(``optax.yogi``; torch has no Yogi):

    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = v_{t-1} - (1 - β2) sign(v_{t-1} - g_t²) g_t²
    m̂_t = m_t / (1 - β1^t),   v̂_t = v_t / (1 - β2^t)
    θ_t = θ_{t-1} - η m̂_t / (sqrt(v̂_t) + ε)

Adam's ``v`` forgets a large gradient geometrically; Yogi's changes by at most
``(1-β2) g²`` per step, so a burst of large gradients cannot shrink the step
abruptly.  Both moments start at ``initial_accumulator_value`` (optax's 1e-6), not
zero.  Defaults are optax's: β = (0.9, 0.999), ε = 1e-3; η = 1e-2 is the paper's.

The per-step constants are folded on the host in float64, as torch's fused Adam
folds them, and passed to the kernels (cast to θ's dtype) like every scalar factor:
the step size ``s_t = η / (1 - β1^t)`` and ``r_t = 1 / (1 - β2^t)``, so that an
element costs one square root and one division:

    θ_t = θ_{t-1} - s_t m_t / (sqrt(v_t r_t) + ε)

which is the step above, rounded differently (within a few ulps of it; the NumPy
reference makes the same operations, so every backend gives its bits).
"""

from __future__ import annotations

import math

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, LEARNING_RATE
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout(
    "lr", "beta1", "one_minus_beta1", "one_minus_beta2", "bias1", "bias2", "eps",
    "step_size", "inv_bias2",
)  # fmt: skip


def reference(
    theta, g, m, v, *, t, learning_rate, beta1, beta2, eps, initial_accumulator_value,
    maximize=False,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    g2 = g * g
    v[:] = v - dt(1 - beta2) * np.sign(v - g2) * g2
    c = factors(t, learning_rate, factor_args(dict(beta1=beta1, beta2=beta2, eps=eps)))
    theta -= dt(c[F.step_size]) * m / (np.sqrt(v * dt(c[F.inv_bias2])) + dt(eps))


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m, v)``."""
    gi = grad(i, g, c)
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    g2 = gi * gi
    old = state[1, i]
    d = old - g2
    move = c[F.one_minus_beta2] * g2
    # v - (1-β2) sign(d) g², selected; sign(0) = 0 and a NaN d propagates, as np.sign
    v = old - move if d > 0 else (old + move if d < 0 else old + (d - d))
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] - c[F.step_size] * m / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps])


def factors(t, lr, h):
    """``(η, β1, 1-β1, 1-β2, 1-β1^t, 1-β2^t, ε, s_t, r_t)`` from ``h = (β1, β2, ε)``:
    ``s_t = η/(1-β1^t)``, ``r_t = 1/(1-β2^t)``, in float64; Numba compiles it too."""
    b1, b2 = h[0], h[1]
    ft = float(t)
    bias1, bias2 = 1 - math.pow(b1, ft), 1 - math.pow(b2, ft)
    return (lr, b1, 1 - b1, 1 - b2, bias1, bias2, h[2], lr / bias1, 1 / bias2)


def factor_args(hp):
    """``h`` of :func:`factors` from the hyperparameters."""
    return (hp["beta1"], hp["beta2"], hp["eps"])


def initial_state(rows, hp):
    """Both moments start at ``initial_accumulator_value``."""
    rows[:] = hp["initial_accumulator_value"]


SPEC = RuleSpec(
    name="yogi",
    hyperparameters=(
        LEARNING_RATE.but(default=1e-2),
        BETA1,
        BETA2.but(doc="How fast ``v`` moves: at most ``(1-β2) g²`` per step, in [0, 1)."),
        EPS.but(default=1e-3),
        Hyper(
            "initial_accumulator_value",
            1e-6,
            _checks.positive,
            "float",
            "> 0, the value both moments start at (optax's).",
        ),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=factor_args,
    body=always(body),
    reference=reference,
    state=always(("m", "v")),
    initial_state=initial_state,
)


class Yogi(Optimizer, spec=SPEC):
    """Yogi: ``v ← v - (1-β2) sign(v - g²) g²``, then Adam's bias-corrected step.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Yogi(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5])).round(4)   # about η·sign(g) at the first step
    array([ 0.9   , -0.9004])
    """
