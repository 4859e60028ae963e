"""Adam and AdamW: bias-corrected moments, with coupled L2 or decoupled weight decay.

    g_t ← g_t + λ θ_t                         (Adam's L2, coupled: λ = weight_decay)
    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    m̂_t = m_t / (1 - β1^t)
    v̂_t = v_t / (1 - β2^t)
    θ_{t+1} = θ_t - η m̂_t / (sqrt(v̂_t) + ε)                  (Adam)
    θ_{t+1} = θ_t (1 - ηλ) - η m̂_t / (sqrt(v̂_t) + ε)         (AdamW, λ default 0.01)

AdamW's decay uses θ *before* the step and is proportional to the current η; its
moments are those of the plain gradient.  The two share their factors (``l2`` is λ
for Adam, ``decay`` is ``1 - ηλ`` for AdamW) and their reference; each has its body,
which with λ = 0 is the other's step bit for bit.

``amsgrad=True`` (``torch.optim.Adam(W)``'s AMSGrad) keeps the running maximum of
the second moment, state ``"v_max"`` (v_max_0 = 0), and uses it in place of v:

    v_max_t = max(v_max_{t-1}, v_t)
    v̂_t = v_max_t / (1 - β2^t)

``amsgrad`` fixes the state's layout (``m, v`` or ``m, v, v_max``): it cannot
change once the state exists (call ``reset()``).

The per-step constants are folded on the host in float64 (as torch's fused Adam folds
its own) and passed to the kernels, cast to θ's dtype, like every scalar factor: the
step size ``s_t = η / (1 - β1^t)``, ``r_t = 1 / (1 - β2^t)`` and ``1 / (1 - β1^t)``
(LAMB's, which shares these factors), so that an element costs one square root and
one division:

    θ_{t+1} = θ_t - s_t m_t / (sqrt(v_t r_t) + ε)

the step above with its divisions by the corrections made products by reciprocals.
It rounds about as the formula does (within 4 ulps of it, as the formula itself; the NumPy
reference makes the same operations, so every backend gives its bits).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from numopt.kernels.element import grad
from numopt.rules._bias import saturation_step
from numopt.rules.hyperparameters import (
    AMSGRAD,
    BETA1,
    BETA2,
    EPS,
    LEARNING_RATE,
    WEIGHT_DECAY,
)
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import RuleSpec, factor_layout

F = factor_layout(
    "lr", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "bias1", "bias2", "eps",
    "l2", "decay", "step_size", "inv_bias2", "inv_bias1",
)  # fmt: skip


def moments(m, v, g, beta1, beta2):
    """Adam's moments, in place, in NumPy: ``m ← β1 m + (1-β1) g``, ``v ← β2 v + (1-β2) g²``.

    The references of the rules that keep Adam's moments (NAdam, RAdam, LAMB) share it.
    """
    dt = m.dtype.type
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * g**2


def reference(
    theta,
    g,
    m,
    v,
    *v_max,
    t,
    learning_rate,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m``, ``v`` (and
    ``v_max`` with ``amsgrad``); ``decoupled`` is AdamW."""
    dt = theta.dtype.type
    g = -g if maximize else g
    if not decoupled:
        g = g + dt(weight_decay) * theta
    moments(m, v, g, beta1, beta2)
    if amsgrad:
        np.maximum(v_max[0], v, out=v_max[0])
        v = v_max[0]
    h = factor_args(dict(beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay))
    c = factors(t, learning_rate, h)  # the kernels' folded constants
    step = dt(c[F.step_size]) * m / (np.sqrt(v * dt(c[F.inv_bias2])) + dt(eps))
    if decoupled:
        theta[:] = theta * dt(1 - learning_rate * weight_decay) - step
    else:
        theta -= step


def body(i, theta, g, state, c):
    """Element ``i`` of an Adam step (coupled L2: ``l2`` = λ); ``state = (m, v)``."""
    gi = grad(i, g, c) + c[F.l2] * theta[i]
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] - c[F.step_size] * m / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps])


def amsgrad_body(i, theta, g, state, c):
    """Element ``i`` of an Adam AMSGrad step; ``state = (m, v, v_max)``."""
    gi = grad(i, g, c) + c[F.l2] * theta[i]
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    old = state[2, i]
    v_max = old if old >= v else v  # NaN in v propagates, as np.maximum
    state[0, i] = m
    state[1, i] = v
    state[2, i] = v_max
    theta[i] = theta[i] - c[F.step_size] * m / (math.sqrt(v_max * c[F.inv_bias2]) + c[F.eps])


def decoupled_body(i, theta, g, state, c):
    """Element ``i`` of an AdamW step (``decay`` = 1 - ηλ); ``state = (m, v)``."""
    gi = grad(i, g, c)
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    step = c[F.step_size] * m / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps])
    theta[i] = theta[i] * c[F.decay] - step


def decoupled_amsgrad_body(i, theta, g, state, c):
    """Element ``i`` of an AdamW AMSGrad step; ``state = (m, v, v_max)``."""
    gi = grad(i, g, c)
    m = c[F.beta1] * state[0, i] + c[F.one_minus_beta1] * gi
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    old = state[2, i]
    v_max = old if old >= v else v  # NaN in v propagates, as np.maximum
    state[0, i] = m
    state[1, i] = v
    state[2, i] = v_max
    step = c[F.step_size] * m / (math.sqrt(v_max * c[F.inv_bias2]) + c[F.eps])
    theta[i] = theta[i] * c[F.decay] - step


def factors(t, lr, h):
    """The factors of step ``t`` (float64), from ``h = (β1, β2, ε, λ, T1, T2, decoupled)``.

    Plain arithmetic that Numba compiles too, so the compiled loop computes the same
    factors as :meth:`Optimizer.step`: ``math.pow(β, float(t))`` is libm's ``pow`` in
    both (Numba computes ``β**t`` and ``math.pow(β, t)`` with an integer ``t`` by
    repeated multiplication: other bits).  ``T1, T2`` are the steps from which
    ``1 - β^t`` is exactly 1.0 (:func:`numopt.rules._bias.saturation_step`): ``pow``
    is skipped from there on.
    """
    b1, b2 = h[0], h[1]
    bc1 = 1.0 if t >= h[4] else 1 - math.pow(b1, float(t))
    bc2 = 1.0 if t >= h[5] else 1 - math.pow(b2, float(t))
    if h[6] != 0.0:  # AdamW: the decay factor, no L2 in the gradient
        l2, decay = 0.0, 1 - lr * h[3]
    else:
        l2, decay = h[3], 1.0
    return (
        lr, b1, 1 - b1, b2, 1 - b2, bc1, bc2, h[2], l2, decay, lr / bc1, 1 / bc2,
        1 / bc1,
    )  # fmt: skip


def factor_args(hp, decoupled=False):
    """``h`` of :func:`factors` from the hyperparameters (LAMB reads it too)."""
    b1, b2 = hp["beta1"], hp["beta2"]
    return (
        b1, b2, hp["eps"], hp["weight_decay"], saturation_step(b1), saturation_step(b2),
        float(decoupled),
    )  # fmt: skip


def _state(hp):
    return ("m", "v", "v_max") if hp["amsgrad"] else ("m", "v")


def _body(hp):
    return amsgrad_body if hp["amsgrad"] else body


def _decoupled_body(hp):
    return decoupled_amsgrad_body if hp["amsgrad"] else decoupled_body


SPEC = RuleSpec(
    name="adam",
    hyperparameters=(
        LEARNING_RATE,
        BETA1,
        BETA2,
        EPS,
        WEIGHT_DECAY.but(
            doc="λ >= 0: L2 regularisation added to the gradient before the moments (so it\n"
            "is rescaled by ``1/sqrt(v̂)``); see :class:`AdamW` for decoupled decay."
        ),
        AMSGRAD,
    ),
    factors=F,
    factor_fn=factors,
    factor_args=factor_args,
    body=_body,
    reference=reference,
    state=_state,
)

ADAMW = RuleSpec(
    name="adamw",
    hyperparameters=(
        *SPEC.hyperparameters[:4],
        WEIGHT_DECAY.but(
            default=0.01,
            doc="λ >= 0, decoupled: the decay is ``ηλθ``, whatever the gradient's variance.",
        ),
        AMSGRAD,
    ),
    factors=F,
    factor_fn=factors,
    factor_args=functools.partial(factor_args, decoupled=True),
    body=_decoupled_body,
    reference=functools.partial(reference, decoupled=True),
    state=_state,
)


class Adam(Optimizer, spec=SPEC):
    """Adam with bias correction, and optional coupled L2 ``weight_decay``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adam(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step moves each entry by ~η
    array([ 0.9, -0.9])
    >>> numopt.Adam(amsgrad=True).state_names
    ('m', 'v', 'v_max')
    """


class AdamW(Optimizer, spec=ADAMW):
    """AdamW: Adam with decoupled weight decay ``θ ← θ(1 - ηλ) - η m̂/(sqrt(v̂) + ε)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> opt.step(x, np.array([3.0, -0.5]))   # θ(1 - 0.05) - 0.1·sign(g)
    array([ 0.85, -0.85])
    """
