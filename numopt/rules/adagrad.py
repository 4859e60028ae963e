"""Adagrad: steps scaled by the root of each parameter's summed squared gradients.

torch.optim's algorithm box (``torch.optim.Adagrad``; Duchi, Hazan & Singer 2011):

    state_sum_0 = τ                                 (initial_accumulator_value)
    g_t ← g_t + λ θ_{t-1}                           (coupled L2, λ = weight_decay)
    η̃_t = η / (1 + (t - 1) δ)                       (δ = lr_decay)
    state_sum_t = state_sum_{t-1} + g_t²
    θ_t = θ_{t-1} - η̃_t g_t / (sqrt(state_sum_t) + ε)

``η̃_t`` is a host-side factor (with a schedule, ``η`` is the schedule's value at
step t).  The accumulator starts at τ, not zero (:func:`initial_state`).
"""

from __future__ import annotations

import math

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("lr", "weight_decay", "eps")


def reference(
    theta,
    g,
    state_sum,
    *,
    t,
    learning_rate,
    lr_decay,
    weight_decay,
    initial_accumulator_value,
    eps,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta`` and ``state_sum``.

    ``state_sum`` holds τ (``initial_accumulator_value``) before the first step.
    """
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    clr = learning_rate / (1 + (t - 1) * lr_decay)
    state_sum += g**2
    theta -= dt(clr) * (g / (np.sqrt(state_sum) + dt(eps)))


def body(i, theta, g, state, c):
    """Element ``i`` of one step (``lr`` is η̃_t); ``state = (sum,)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    s = state[0, i] + gi * gi
    state[0, i] = s
    theta[i] = theta[i] - c[F.lr] * (gi / (math.sqrt(s) + c[F.eps]))


def factors(t, lr, h):
    """``(η/(1 + (t-1)δ), λ, ε)`` from ``h = (δ, λ, ε)``; Numba compiles it too."""
    return (lr / (1 + (t - 1) * h[0]), h[1], h[2])


def initial_state(rows, hp):
    """The accumulator starts at τ, not zero."""
    rows[0] = hp["initial_accumulator_value"]


SPEC = RuleSpec(
    name="adagrad",
    hyperparameters=(
        LEARNING_RATE.but(default=1e-2),
        Hyper(
            "lr_decay",
            0.0,
            _checks.nonnegative,
            "float",
            "δ >= 0: the step's rate is ``η / (1 + (t - 1) δ)``.",
        ),
        WEIGHT_DECAY.but(doc="λ >= 0, L2 added to the gradient (coupled)."),
        Hyper(
            "initial_accumulator_value",
            0.0,
            _checks.nonnegative,
            "float",
            "τ >= 0, the starting value of the sum of squared gradients.",
        ),
        EPS.but(default=1e-10),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["lr_decay"], hp["weight_decay"], hp["eps"]),
    body=always(body),
    reference=reference,
    state=always(("sum",)),
    initial_state=initial_state,
)


class Adagrad(Optimizer, spec=SPEC):
    """Adagrad: ``S ← S + g²``, ``θ ← θ - η̃ g / (sqrt(S) + ε)``, ``η̃ = η/(1 + (t-1)δ)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adagrad(learning_rate=0.1, initial_accumulator_value=5.0)
    >>> opt.step(x, np.array([2.0, -1.0]))   # S = [5+4, 5+1]; θ - 0.1·g/sqrt(S)
    array([ 0.93333333, -0.95917517])
    """
