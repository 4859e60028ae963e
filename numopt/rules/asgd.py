"""ASGD: SGD with a decaying step and a running average of the iterates.

``torch.optim.ASGD`` (Polyak & Juditsky 1992; Bottou 2012), with torch's names and
defaults.  At step ``t`` (1-based), with ``η_t = η / (1 + λ η (t-1))^α`` and
``μ_t = 1 / max(1, t - 1 - t0)``:

    g_t ← g_t + wd θ_{t-1}                      (coupled L2, wd = weight_decay)
    θ_t = θ_{t-1} (1 - λ η_t) - η_t g_t
    ax_t = θ_t                                  while μ_t = 1 (t ≤ t0 + 2)
    ax_t = ax_{t-1} + μ_t (θ_t - ax_{t-1})      after: the mean of the iterates since t0

``λ`` (``lambd``) both decays η and shrinks θ each step.  The average ``ax`` is kept in
the state (``opt.state["ax"]``), as torch keeps it: the parameters, and what
``minimize`` returns as ``x``, are the iterates θ, as in torch; read ``ax`` for the
averaged point (``minimize`` returns it as ``x_average``; with the default
``t0 = 1e6`` averaging starts only after a million steps).
torch keeps η_t and μ_t as tensors of its default dtype: with float32 (its default),
float64 parameters see a float32-rounded η_t; numopt computes them in float64 (as
torch does after ``torch.set_default_dtype(torch.float64)``).
"""

from __future__ import annotations

import math

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("eta", "shrink", "weight_decay", "mu")


def reference(theta, g, ax, *, t, learning_rate, lambd, alpha, t0, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta`` and ``ax``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    eta, shrink, _, mu = factors(t, learning_rate, (lambd, alpha, t0, weight_decay))
    theta[:] = theta * dt(shrink) - dt(eta) * g
    if mu != 1:
        ax += (theta - ax) * dt(mu)
    else:
        ax[:] = theta


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (ax,)``; ``shrink`` is ``1 - λη_t``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    th = theta[i] * c[F.shrink] - c[F.eta] * gi
    theta[i] = th
    a = state[0, i]
    mu = c[F.mu]  # (read before the select: an array read inside one kept the loop scalar)
    state[0, i] = th if mu == 1.0 else a + (th - a) * mu


def factors(t, lr, h):
    """``(η_t, 1 - λη_t, wd, μ_t)`` from ``h = (λ, α, t0, wd)``: torch's η and μ after
    step ``t - 1``; Numba compiles it too."""
    lambd, alpha, t0 = h[0], h[1], h[2]
    eta = lr if t == 1 else lr / math.pow(1 + lambd * lr * float(t - 1), alpha)
    mu = 1.0 / max(1.0, float(t - 1) - t0)
    return (eta, 1 - lambd * eta, h[3], mu)


SPEC = RuleSpec(
    name="asgd",
    hyperparameters=(
        LEARNING_RATE.but(default=1e-2),
        Hyper(
            "lambd",
            1e-4,
            _checks.nonnegative,
            "float",
            "λ >= 0: the step decays as ``η/(1 + λη(t-1))^α`` and θ shrinks by ``1 - λη_t``.",
        ),
        Hyper("alpha", 0.75, _checks.nonnegative, "float", "α >= 0, the power of η's decay."),
        Hyper(
            "t0",
            1e6,
            _checks.nonnegative,
            "float",
            "The step after which ``ax`` averages the iterates (before: ``ax = θ``).",
        ),
        WEIGHT_DECAY,
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["lambd"], hp["alpha"], hp["t0"], hp["weight_decay"]),
    body=always(body),
    reference=reference,
    state=always(("ax",)),
)


class ASGD(Optimizer, spec=SPEC):
    """ASGD: ``θ ← θ(1 - λη_t) - η_t g`` and the running average ``ax`` of the iterates.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.ASGD(learning_rate=0.1, lambd=0.0, t0=0.0)
    >>> opt.step(x, np.array([3.0, -0.5]))
    array([ 0.7 , -0.95])
    >>> opt.state["ax"]
    array([ 0.7 , -0.95])
    """
