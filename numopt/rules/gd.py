"""Plain gradient step: full-batch gradient descent and mini-batch SGD.

    θ_{t+1} = θ_t - η g_t

with optional L2 decay ``λ``, coupled and decoupled being the same for this rule:
``θ_{t+1} = θ_t - η (g_t + λ θ_t)``.  This is ``torch.optim.SGD`` with
``momentum=0`` (its ``dampening`` then does nothing; :class:`numopt.Momentum` has
it).  ``maximize`` negates ``g_t`` before ``λ θ_t`` is added, as torch does, so the
decay still shrinks θ: ``θ_{t+1} = θ_t - η (-g_t + λ θ_t)``.
"""

from __future__ import annotations

from numopt.kernels.element import grad
from numopt.rules.hyperparameters import LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import RuleSpec, always, factor_layout

F = factor_layout("lr", "weight_decay")


def reference(theta, g, *, t, learning_rate, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    theta -= dt(learning_rate) * (g + dt(weight_decay) * theta)


def body(i, theta, g, state, c):
    """Element ``i`` of one step."""
    theta[i] = theta[i] - c[F.lr] * (grad(i, g, c) + c[F.weight_decay] * theta[i])


def factors(t, lr, h):
    """The factors of a step (float64), from ``h = (λ,)``; compiled by Numba too."""
    return (lr, h[0])


SPEC = RuleSpec(
    name="gd",
    hyperparameters=(
        LEARNING_RATE,
        WEIGHT_DECAY.but(doc="λ >= 0, L2 decay (coupled and decoupled coincide for this rule)."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["weight_decay"],),
    body=always(body),
    reference=reference,
)


class GD(Optimizer, spec=SPEC):
    """Plain gradient step ``θ ← θ - η (g + λθ)`` (gradient descent; SGD on mini-batches).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -2.0])
    >>> opt = numopt.GD(learning_rate=0.1)
    >>> opt.step(x, 2 * x)           # gradient of ||x||^2
    array([ 0.8, -1.6])
    """


#: Mini-batch SGD is the same rule; ``minimize(method="sgd")`` feeds it batches.
SGD = GD

__all__ = ["GD", "SGD", "body", "reference"]
