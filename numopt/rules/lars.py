"""LARS: momentum SGD whose step is scaled per layer by the trust ratio ‖θ‖/‖u‖.

You et al. 2017, "Large Batch Training of Convolutional Networks", as optax writes it
(``optax.lars``: ``add_decayed_weights``, ``scale_by_trust_ratio``, the learning rate,
then ``trace``; torch has no LARS):

    u_t = g_t + λ θ_{t-1}                                  (λ = weight_decay)
    r_ℓ = τ ‖θ_ℓ‖ / (‖u_ℓ‖ + ε) for each layer ℓ          (1 when either norm is 0)
    m_t = η r_ℓ u_t + μ m_{t-1}                            (μ = momentum)
    θ_t = θ_{t-1} - m_t                  (nesterov: θ_{t-1} - (η r_ℓ u_t + μ m_t))

τ is the trust coefficient: each layer moves by about ``η τ`` of its own norm per
step, whatever the scale of its gradient.  Layers are as in LAMB: each array of a
list/dict ``x0`` in ``minimize``, one layer for a single array, ``layers=`` for the
consecutive parts of one flat array in the stateful API.

Defaults are optax's: τ = 1e-3, ε = 0, μ = 0.9, λ = 0.  optax has no default η; with
τ = 1e-3 a layer moves by 0.1 % of its norm per step at numopt's η = 1 (LARS is
used with large rates: the paper's go up to 30).  A layer whose norm is 0 (a
zero-initialised bias) gets the ratio 1, so it moves by η u.

Two passes over memory per step, as LAMB: pass 1 sums ``θ_i²`` and ``u_i²`` per layer
(fixed-order blocked sums: the same bits on any thread count and on the GPU); pass 2
recomputes ``u_i`` and applies the momentum step with ``fl(η r_ℓ)``.
"""

from __future__ import annotations

import math

from numopt import _checks
from numopt.kernels import reduce
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import LEARNING_RATE, NESTEROV, WEIGHT_DECAY
from numopt.rules.lamb import LAYERS
from numopt.rules.layerwise import TrustRatio
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("lr", "weight_decay", "momentum", "ahead")


def trust_ratio(theta_norm: float, update_norm: float, hp) -> float:
    """``τ‖θ‖/(‖u‖ + ε)``, or 1 when either norm is 0 (optax's ``scale_by_trust_ratio``)."""
    if theta_norm == 0.0 or update_norm == 0.0:
        return 1.0
    return hp["trust_coefficient"] * theta_norm / (update_norm + hp["eps"])


def reference(
    theta, g, m, *, t, learning_rate, weight_decay, trust_coefficient, eps, momentum,
    nesterov=False, maximize=False, layers=None,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta`` and ``m`` (norms summed in
    the kernels' fixed order, :func:`numopt.kernels.reduce.sum_squares_numpy`)."""
    dt = theta.dtype.type
    g = -g if maximize else g
    u = g + dt(weight_decay) * theta
    sizes = (theta.size,) if layers is None else tuple(layers)
    theta_sq = reduce.sum_squares_numpy(theta, sizes)
    u_sq = reduce.sum_squares_numpy(u, sizes)
    hp = {"trust_coefficient": trust_coefficient, "eps": eps}
    start = 0
    for size, p, q in zip(sizes, theta_sq, u_sq, strict=True):
        part = slice(start, start + size)
        s = dt(learning_rate * trust_ratio(math.sqrt(p), math.sqrt(q), hp)) * u[part]
        m[part] = s + dt(momentum) * m[part]
        theta[part] -= s + dt(momentum) * m[part] if nesterov else m[part]
        start += size


def direction(i, theta, g, state, c):
    """Pass 1, element ``i``: ``u_i = g_i + λθ_i`` (its square is summed)."""
    return grad(i, g, c) + c[F.weight_decay] * theta[i]


def apply(i, theta, g, state, c, step):
    """Pass 2, element ``i``: the momentum step with ``step = fl(η r)`` of ``i``'s layer;
    ``state = (m,)``."""
    th = theta[i]
    s = step * (grad(i, g, c) + c[F.weight_decay] * th)
    m = s + c[F.momentum] * state[0, i]
    state[0, i] = m
    theta[i] = th - (s + c[F.momentum] * m if c[F.ahead] != 0 else m)


def factors(t, lr, h):
    """``(η, λ, μ, nesterov)`` from ``h = (λ, μ, nesterov)``."""
    return (lr, h[0], h[1], h[2])


SPEC = RuleSpec(
    name="lars",
    hyperparameters=(
        LEARNING_RATE.but(default=1.0),
        WEIGHT_DECAY.but(doc="λ >= 0, added to the gradient before the trust ratio (as optax)."),
        Hyper(
            "trust_coefficient",
            1e-3,
            _checks.positive,
            "float",
            "τ > 0: each layer moves by about ``η τ ‖θ_ℓ‖`` per step.",
        ),
        Hyper(
            "eps",
            0.0,
            _checks.nonnegative,
            "float",
            "ε >= 0, added to ``‖u_ℓ‖`` in the ratio (optax's default 0).",
        ),
        Hyper("momentum", 0.9, _checks.decay, "float", "μ, the momentum's decay, in [0, 1)."),
        NESTEROV.but(doc="Nesterov's momentum: step by ``η r u + μ m`` with the new ``m``."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["weight_decay"], hp["momentum"], float(hp["nesterov"])),
    body=always(direction),
    reference=reference,
    state=always(("m",)),
    passes=TrustRatio(direction, apply, trust_ratio),
    attributes=(LAYERS,),
)


class LARS(Optimizer, spec=SPEC):
    """LARS: momentum SGD with each layer's step scaled by ``τ‖θ‖/(‖u‖ + ε)``.

    Notes
    -----
    A step is two passes over memory, so ``minimize`` runs LARS in its Python loop.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([3.0, 4.0])                    # ‖θ‖ = 5
    >>> opt = numopt.LARS(learning_rate=1.0, trust_coefficient=0.1)
    >>> opt.step(x, np.array([0.6, 0.8]))           # ‖u‖ = 1: r = 0.5, m = 0.5 u
    array([2.7, 3.6])
    """

    def _loops(self) -> list:
        """The compiled CPU loops a step runs (without clipping), for tests."""
        return [reduce.two_sum_loops(direction), reduce.segment_loops(apply)]
