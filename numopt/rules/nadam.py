"""NAdam: Adam with Nesterov momentum, and torch's momentum schedule μ_t.

torch.optim's algorithm box (``torch.optim.NAdam``; Dozat 2016):

    θ ← θ (1 - ηλ)                  if decoupled_weight_decay (λ = weight_decay)
    g_t ← g_t + λ θ_{t-1}            otherwise (coupled L2)
    μ_t = β1 (1 - ½ · 0.96^(t ψ))                   (ψ = momentum_decay)
    μ_{t+1} = β1 (1 - ½ · 0.96^((t+1) ψ))
    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    m̂_t = μ_{t+1} m_t / (1 - Π_{i≤t+1} μ_i) + (1 - μ_t) g_t / (1 - Π_{i≤t} μ_i)
    v̂_t = v_t / (1 - β2^t)
    θ_t = θ - η m̂_t / (sqrt(v̂_t) + ε)

The per-step constants are folded on the host in float64 (as torch's fused Adam
folds its own) and passed to the kernels, cast to θ's dtype:
``a = η(1 - μ_t)/(1 - Π_t)``, ``b = η μ_{t+1}/(1 - Π_{t+1})``, ``r_t = 1/(1 - β2^t)``
and ``d = 1 - ηλ`` (decoupled) or 1 (coupled; then λ enters the gradient), so that an
element costs one square root and one division:

    θ_t = θ d - (a g_t + b m_t) / (sqrt(v_t r_t) + ε)

which is the step above, rounded differently (within a few ulps of it; the NumPy
reference makes the same operations, so every backend gives its bits).

The product ``Π_t = μ_1 μ_2 ⋯ μ_t`` is a running product in float64, multiplied in
the order torch multiplies its ``mu_product``.  It depends only on ``t``, β1 and ψ,
so it is a memo, not state: after :meth:`~numopt.Optimizer.load_state_dict` (or a
change of β1 or ψ) it is recomputed from step 1 by the same multiplications, and a
resumed run is bit for bit an uninterrupted one, with no extra entry in the state
dict.  (Recomputing costs one multiplication per past step, once.)  The memo, with
``μ_t`` and ``μ_{t+1}``, is the last four entries of ``h``, which :func:`factors`
advances in place (one ``pow`` for the μ's per step); each caller has its own ``h``:
the optimizer on the host, the reference, and in compiled code the compiled loop of
``minimize``, ``step()``'s fast path and each problem of ``minimize_many``.  They
all run the same multiplications in the same order, so the same bits.  Powers are
``math.pow`` of float arguments, libm's ``pow`` in Python and in Numba alike; the
helpers are plain Python on the host and compiled inside Numba functions
(``register_jitable``).
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba.extending import register_jitable

from numopt import _checks
from numopt.kernels.element import grad
from numopt.kernels.generate import source_digest
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
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout(
    "a", "b", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "bias2", "eps", "l2",
    "decay", "inv_bias2",
)  # fmt: skip


@register_jitable
def mu(t, beta1, momentum_decay):
    """The momentum coefficient ``μ_t = β1 (1 - ½ · 0.96^(t ψ))`` (float64)."""
    return beta1 * (1.0 - 0.5 * math.pow(0.96, float(t) * momentum_decay))


def mu_product(t: int, beta1: float, momentum_decay: float) -> float:
    """``Π_{i≤t} μ_i``, multiplied in order from step 1: the definition, without a memo
    (what :func:`advance` must give)."""
    prod = 1.0
    for s in range(1, t + 1):
        prod *= mu(s, beta1, momentum_decay)
    return prod


#: The reference's memos by (β1, ψ): a stateless function stepping t = 1, 2, ...
#: would otherwise multiply Π_t again from step 1 at every call.
_REFERENCE_MEMO: dict[tuple[float, float], np.ndarray] = {}


@register_jitable
def _factors_of(t, lr, h, prod_t, mu_t, mu_next):
    """The factors of step ``t`` (float64) from ``h = (β1, β2, ε, λ, ψ, decoupled, …)``,
    ``Π_t``, ``μ_t`` and ``μ_{t+1}``."""
    b1, b2, wd = h[0], h[1], h[3]
    a = lr * (1.0 - mu_t) / (1.0 - prod_t)
    b = lr * mu_next / (1.0 - prod_t * mu_next)
    if h[5] != 0.0:  # NAdamW: the decay factor, no L2 in the gradient
        l2, decay = 0.0, 1 - lr * wd
    else:
        l2, decay = wd, 1.0
    bias2 = 1 - math.pow(b2, float(t))
    return (a, b, b1, 1 - b1, b2, 1 - b2, bias2, h[2], l2, decay, 1 / bias2)


@register_jitable
def advance(t, h):
    """``Π_t`` from the memo ``(s, Π_s, μ_s, μ_{s+1})`` in ``h[6:10]``, which it moves to
    step ``t``: multiplied on from ``s``, or from the start when ``t`` is before it (or
    the memo is new).  Each ``μ`` is computed once: ``μ_{s+1}`` is the next step's
    ``μ_s``, the same value."""
    s, prod, mu_s, mu_next = h[6], h[7], h[8], h[9]
    if s == 0.0 or not s <= t:  # (new, or a run resumed at an earlier step)
        s, prod, mu_next = 0.0, 1.0, mu(1.0, h[0], h[4])
    while s < t:
        s += 1.0
        mu_s = mu_next
        prod *= mu_s
        mu_next = mu(s + 1.0, h[0], h[4])
    h[6] = s
    h[7] = prod
    h[8] = mu_s
    h[9] = mu_next
    return prod


def factors(t, lr, h):
    """The rule's ``factor_fn``: the factors of step ``t``, with ``Π_t``, ``μ_t`` and
    ``μ_{t+1}`` from the memo that ``h`` (a float64 array of the caller's, see
    :func:`factor_args`) carries.  The host, the reference and compiled code all
    call it, each on its own ``h``."""
    prod = advance(t, h)
    return _factors_of(t, lr, h, prod, h[8], h[9])


# the compiled copies' cache tag: the helpers above are in its source, not only this one's
factors.__numopt_digest__ = source_digest(sys.modules[__name__])


def factor_args(hp):
    """``h`` of :func:`factors` from the hyperparameters: ``(β1, β2, ε, λ, ψ,
    decoupled)``, then the memo ``(s, Π_s, μ_s, μ_{s+1})`` that :func:`advance` moves on
    (new: ``s = 0``)."""
    return (
        hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"], hp["momentum_decay"],
        float(hp["decoupled_weight_decay"]), 0.0, 1.0, 0.0, 0.0,
    )  # fmt: skip


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
    momentum_decay,
    decoupled_weight_decay,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    h = factor_args(dict(
        beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
    ))  # fmt: skip
    memo = _REFERENCE_MEMO.setdefault((beta1, momentum_decay), np.array(h, np.float64))
    memo[:6] = h[:6]  # (the memo holds for this β1 and ψ; the rest may change)
    c = factors(t, learning_rate, memo)
    if not decoupled_weight_decay:
        g = g + dt(c[F.l2]) * theta
    moments(m, v, g, beta1, beta2)
    denom = np.sqrt(v * dt(c[F.inv_bias2])) + dt(eps)
    theta[:] = theta * dt(c[F.decay]) - (dt(c[F.a]) * g + dt(c[F.b]) * m) / denom


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (m, v)``."""
    gi = grad(i, g, c) + c[F.l2] * theta[i]
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    step = (c[F.a] * gi + c[F.b] * m) / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps])
    theta[i] = theta[i] * c[F.decay] - step


SPEC = RuleSpec(
    name="nadam",
    hyperparameters=(
        LEARNING_RATE.but(default=2e-3),
        BETA1,
        BETA2,
        EPS,
        WEIGHT_DECAY.but(
            doc="λ >= 0: L2 added to the gradient, or with ``decoupled_weight_decay`` the\n"
            "decay ``θ(1 - ηλ)`` (NAdamW)."
        ),
        Hyper(
            "momentum_decay",
            4e-3,
            _checks.nonnegative,
            "float",
            "ψ >= 0 in ``μ_t = β1 (1 - ½ · 0.96^(tψ))``.",
        ),
        DECOUPLED_WEIGHT_DECAY,
    ),
    factors=F,
    factor_fn=factors,
    factor_args=factor_args,
    body=always(body),
    reference=reference,
    state=always(("m", "v")),
)


class NAdam(Optimizer, spec=SPEC):
    """NAdam: Adam with Nesterov momentum and torch's momentum schedule μ_t.

    ``θ ← θ - η (μ_{t+1} m/(1-Π_{t+1}) + (1-μ_t) g/(1-Π_t)) / (sqrt(v̂) + ε)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.NAdam(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step moves each entry by ~η
    array([ 0.9, -0.9])
    """

    def reset(self) -> None:
        """Forget the state and the step count (and the memo of ``Π_t``)."""
        super().reset()
        self._memo = None  # (plan, h): the host's h, whose memo advance() moves on

    def _memo_h(self) -> np.ndarray:
        """The host's ``h``: the plan's, its memo kept while the plan stands (a new β1
        or ψ makes a new plan, and the memo starts again)."""
        plan = self._planned()
        memo = self._memo
        if memo is None or memo[0] is not plan:
            memo = self._memo = (plan, np.array(plan.h, np.float64))
        return memo[1]

    def _mu_product(self, t: int) -> float:
        """``Π_t``, advanced from the memo of the last step (or recomputed from 1)."""
        return advance(t, self._memo_h())

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        return factors(t, lr, self._memo_h())
