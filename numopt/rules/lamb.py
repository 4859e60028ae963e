"""LAMB: Adam's direction, scaled per layer by the trust ratio ‖θ‖/‖u‖.

You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
minutes", Algorithm 2 with φ the identity, as optax's ``lamb`` writes it
(``scale_by_adam``, ``add_decayed_weights``, ``scale_by_trust_ratio``; torch has
no LAMB):

    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    u_t = (m_t / (1 - β1^t)) / (sqrt(v_t / (1 - β2^t)) + ε) + λ θ_t
    r_ℓ = ‖θ_ℓ‖ / ‖u_ℓ‖ for each layer ℓ   (1 when either norm is 0)
    θ_ℓ ← θ_ℓ - η r_ℓ u_ℓ

A *layer* is a part of θ with its own ratio: for a list/dict ``x0`` in
``minimize``, each of its arrays; a single array is one layer; ``layers=`` gives
the sizes of consecutive layers of one flat array in the stateful API.  The
weight decay λ is decoupled (added to ``u``, so it is scaled by ``η r`` as in the
paper and optax, not by ``1/sqrt(v̂)`` as Adam's L2).

Defaults are optax's: β1 = 0.9, β2 = 0.999, ε = 1e-6, λ = 0; optax has no default
η, numopt takes Adam's 1e-3.

Two passes over memory per step, because every ``u_i`` of a layer is needed
before the first ``θ_i`` of it can move:

1. for each element, update ``m``, ``v`` (stored), compute ``u_i`` and add ``θ_i²``
   and ``u_i²`` to the layer's sums (:func:`moments`; fixed-order blocked sums,
   :mod:`numopt.backends.reduce`: the same bits on any thread count and on the
   GPU);
2. for each element, recompute ``u_i`` from the stored ``m``, ``v`` and ``θ_i``
   (the same arithmetic: the same bits) and step ``θ_i -= fl(η r_ℓ) u_i``
   (:func:`apply`).

Traffic: pass 1 reads θ, g, m, v and writes m, v; pass 2 reads θ, m, v and writes
θ — 10 arrays against Adam's 7.  Storing ``u`` instead of recomputing it would
cost as much (a write in pass 1, a read in pass 2, and an extra state array).
The ratio ``η r_ℓ`` is computed on the host in float64 from the sums and cast to
θ's dtype.

The per-step constants are folded on the host in float64 too (as torch's fused Adam
folds its own) and passed to the kernels cast to θ's dtype, like every scalar
factor: ``a_t = 1/(1 - β1^t)`` and Adam's ``r_t = 1/(1 - β2^t)``, so that an
element costs one division and one square root in each pass:

    u_t = a_t m_t / (sqrt(v_t r_t) + ε) + λ θ_t

which is the ``u_t`` above, rounded differently (within a few ulps of it; the NumPy
reference makes the same operations, so every backend gives its bits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from numopt.kernels import reduce
from numopt.kernels.element import grad
from numopt.rules import adam
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.layerwise import TrustRatio
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always

#: Adam's factors (:func:`numopt.rules.adam.factors`, coupled): ``F.l2`` is LAMB's λ,
#: added to ``u`` (decoupled from the moments); ``F.inv_bias1`` = 1/(1 - β1^t) and
#: ``F.inv_bias2`` fold the bias corrections; ``F.decay`` and ``F.step_size`` are unused.
F = adam.F


def trust_ratio(theta_norm: float, update_norm: float, hp: Any = None) -> float:
    """``‖θ‖/‖u‖``, or 1 when either norm is 0 (optax's ``scale_by_trust_ratio``)."""
    if theta_norm == 0.0 or update_norm == 0.0:
        return 1.0
    return theta_norm / update_norm


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
    maximize=False,
    layers=None,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m``, ``v``.

    ``layers``: the sizes of the consecutive layers of ``theta`` (None: one layer).
    The norms are summed in the fixed order of the kernels
    (:func:`numopt.backends.reduce.sum_squares_numpy`), so the reference and the
    kernels agree bit for bit.
    """
    dt = theta.dtype.type
    g = -g if maximize else g
    adam.moments(m, v, g, beta1, beta2)
    h = adam.factor_args(dict(beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay))
    c = adam.factors(t, learning_rate, h)  # the kernels' folded constants
    u = dt(c[F.inv_bias1]) * m / (np.sqrt(v * dt(c[F.inv_bias2])) + dt(eps))
    u = u + dt(weight_decay) * theta
    sizes = (theta.size,) if layers is None else tuple(layers)
    theta_sq = reduce.sum_squares_numpy(theta, sizes)
    u_sq = reduce.sum_squares_numpy(u, sizes)
    start = 0
    for size, p, q in zip(sizes, theta_sq, u_sq, strict=True):
        r = trust_ratio(math.sqrt(p), math.sqrt(q))
        theta[start : start + size] -= dt(learning_rate * r) * u[start : start + size]
        start += size


def moments(i, theta, g, state, c):
    """Pass 1, element ``i``: update ``m``, ``v``; return ``u_i`` (its square is summed).

    ``state = (m, v)``.
    """
    gi = grad(i, g, c)
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    return c[F.inv_bias1] * m / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps]) + c[F.l2] * theta[i]


def apply(i, theta, g, state, c, step):
    """Pass 2, element ``i``: ``θ_i -= step · u_i``, ``step = fl(η r)`` of ``i``'s layer."""
    th = theta[i]
    m, v = state[0, i], state[1, i]
    u = c[F.inv_bias1] * m / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps]) + c[F.l2] * th
    theta[i] = th - step * u


def checked_layers(name: str, value: Any) -> tuple[int, ...] | None:
    """``layers``: None (one layer) or the sizes of consecutive layers, integers >= 0."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(
            f"{name} must be None or a sequence of layer sizes (integers >= 0), got {value!r}"
        )
    sizes = []
    for k, size in enumerate(value):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"{name}[{k}] must be an integer >= 0, got {size!r}")
        if size < 0:
            raise ValueError(f"{name}[{k}] must be an integer >= 0, got {size!r}")
        sizes.append(int(size))
    if not sizes:
        raise ValueError(f"{name} is empty; give None for one layer")
    return tuple(sizes)


#: The layer-wise rules' ``layers`` (LAMB, LARS).
LAYERS = Hyper(
    "layers",
    None,
    checked_layers,
    "sequence of int, optional",
    "The sizes of the consecutive layers that ``x`` (viewed flat, in its memory\n"
    "order) is made of, each with its own trust ratio; None: ``x`` is one layer.\n"
    "``minimize`` sets it from a list/dict ``x0`` (one layer per array) when it is\n"
    "None.  A checked attribute, not part of :meth:`state_dict`.",
)

SPEC = RuleSpec(
    name="lamb",
    hyperparameters=(
        LEARNING_RATE,
        BETA1,
        BETA2,
        EPS.but(default=1e-6, doc="ε > 0, added outside the root (optax's default)."),
        WEIGHT_DECAY.but(
            doc="λ >= 0, decoupled: ``λθ`` is added to the Adam direction before the trust\nratio."
        ),
    ),
    factors=F,
    factor_fn=adam.factors,
    factor_args=adam.factor_args,
    body=always(moments),
    reference=reference,
    state=always(("m", "v")),
    passes=TrustRatio(moments, apply, trust_ratio),
    attributes=(LAYERS,),
)


class Lamb(Optimizer, spec=SPEC):
    """LAMB: Adam's direction plus decoupled decay, scaled per layer by ‖θ‖/‖u‖.

    Notes
    -----
    A step is two passes over memory (see the module's docstring), so ``minimize``
    runs LAMB in its Python loop, not the compiled one.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([3.0, 4.0])                  # ‖θ‖ = 5
    >>> opt = numopt.Lamb(learning_rate=0.1)
    >>> opt.step(x, np.array([1.0, -1.0]))        # u ≈ (1, -1): r ≈ 5/√2
    array([2.64644661, 4.35355339])
    >>> opt = numopt.Lamb(learning_rate=0.1, layers=[1, 1])
    >>> opt.step(np.array([3.0, 4.0]), np.array([1.0, -1.0]))  # r = 3 and 4
    array([2.7, 4.4])
    """

    def _loops(self) -> list:
        """The compiled CPU loops a step runs (without clipping), for tests."""
        return [reduce.two_sum_loops(moments), reduce.segment_loops(apply)]
