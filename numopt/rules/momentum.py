"""Momentum (heavy ball), with Nesterov, dampening and L2 weight decay options.

With ``v_0 = 0``:

    v_{t+1} = β v_t + g_t
    θ_{t+1} = θ_t - η v_{t+1}                 (heavy ball)
    θ_{t+1} = θ_t - η (g_t + β v_{t+1})       (Nesterov)

The options follow ``torch.optim.SGD``'s algorithm (its ``momentum`` is β here):

    g_t ← g_t + λ θ_t                         (weight_decay λ, coupled L2; default 0)
    v_1 = g_1                                 (the first step is never dampened)
    v_{t+1} = β v_t + (1 - τ) g_t  for t > 1  (dampening τ ∈ [0, 1]; default 0)

and the θ update above uses that ``g_t`` and ``v``.  With τ = 0 this is the plain
rule above (``v_0 = 0`` makes ``v_1 = g_1`` either way).  The kernels multiply ``g_t``
by the host factor ``d_t = 1`` at t = 1, ``1 - τ`` after.  Unlike torch, Nesterov
with dampening is allowed (it computes the formula as written; torch refuses it).
"""

from __future__ import annotations

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import LEARNING_RATE, NESTEROV, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, factor_layout

F = factor_layout("lr", "beta", "weight_decay", "dampening")


def reference(
    theta,
    g,
    v,
    *,
    t,
    learning_rate,
    beta,
    nesterov,
    dampening=0.0,
    weight_decay=0.0,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    if weight_decay:
        g = g + dt(weight_decay) * theta
    if dampening and t > 1:
        v[:] = dt(beta) * v + dt(1 - dampening) * g
    else:
        v[:] = dt(beta) * v + g
    if nesterov:
        theta -= dt(learning_rate) * (g + dt(beta) * v)
    else:
        theta -= dt(learning_rate) * v


# Every body gets the same factors and reads those it needs; the default options
# run ``body`` / ``nesterov_body``.  ``dampening`` is ``d_t``: 1 at the first step.


def body(i, theta, g, state, c):
    """Element ``i`` of a heavy-ball step; ``state = (v,)``."""
    v = c[F.beta] * state[0, i] + grad(i, g, c)
    state[0, i] = v
    theta[i] = theta[i] - c[F.lr] * v


def nesterov_body(i, theta, g, state, c):
    """Element ``i`` of a Nesterov step; ``state = (v,)``."""
    gi = grad(i, g, c)
    v = c[F.beta] * state[0, i] + gi
    state[0, i] = v
    theta[i] = theta[i] - c[F.lr] * (gi + c[F.beta] * v)


def damped_body(i, theta, g, state, c):
    """Heavy ball with weight decay and dampening; ``state = (v,)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    v = c[F.beta] * state[0, i] + c[F.dampening] * gi
    state[0, i] = v
    theta[i] = theta[i] - c[F.lr] * v


def damped_nesterov_body(i, theta, g, state, c):
    """Nesterov with weight decay and dampening; ``state = (v,)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    v = c[F.beta] * state[0, i] + c[F.dampening] * gi
    state[0, i] = v
    theta[i] = theta[i] - c[F.lr] * (gi + c[F.beta] * v)


def factors(t, lr, h):
    """The factors ``(η, β, λ, d_t)`` of step ``t`` from ``h = (β, λ, τ)`` (float64).

    ``d_t = 1 - τ`` except on the first step (torch's undampened first step).  Plain
    arithmetic: Numba compiles it too, for the compiled loop.
    """
    d = 1.0 if t == 1 else 1.0 - h[2]
    return (lr, h[0], h[1], d)


def _body(hp):
    if hp["dampening"] or hp["weight_decay"]:
        return damped_nesterov_body if hp["nesterov"] else damped_body
    return nesterov_body if hp["nesterov"] else body


SPEC = RuleSpec(
    name="momentum",
    hyperparameters=(
        LEARNING_RATE,
        Hyper(
            "beta",
            0.9,
            _checks.decay,
            "float",
            "Momentum coefficient, 0 <= β < 1 (``torch.optim.SGD``'s ``momentum``).",
        ),
        Hyper(
            "dampening",
            0.0,
            _checks.fraction,
            "float",
            "τ in [0, 1]: after the first step, ``v ← βv + (1 - τ)g`` (as torch).",
        ),
        WEIGHT_DECAY.but(
            doc="λ >= 0, L2 decay added to the gradient before the momentum:\n"
            "``g ← g + λθ`` (as torch)."
        ),
        NESTEROV.but(doc="Nesterov's look-ahead step ``θ ← θ - η(g + βv)``."),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=lambda hp: (hp["beta"], hp["weight_decay"], hp["dampening"]),
    body=_body,
    reference=reference,
    state=lambda hp: ("v",),
)


class Momentum(Optimizer, spec=SPEC):
    """Momentum: ``v ← βv + g``, ``θ ← θ - ηv`` (or ``θ - η(g + βv)`` with Nesterov).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0])
    >>> opt = numopt.Momentum(learning_rate=0.1, beta=0.5)
    >>> opt.step(x, np.array([1.0])); opt.step(x, np.array([1.0]))
    array([0.9])
    array([0.75])
    >>> x = np.array([1.0])
    >>> opt = numopt.Momentum(learning_rate=0.1, beta=0.5, dampening=0.5)
    >>> opt.step(x, np.array([1.0])); opt.step(x, np.array([1.0]))  # v = 1, then 0.5 + 0.5
    array([0.9])
    array([0.8])
    """
