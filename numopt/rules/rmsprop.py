"""RMSprop, with ε inside the root (numopt's default) or outside (PyTorch, Keras).

    S_t = β S_{t-1} + (1 - β) g_t²
    θ_{t+1} = θ_t - η g_t / sqrt(S_t + ε)        (eps_placement="inside", the default)
    θ_{t+1} = θ_t - η g_t / (sqrt(S_t) + ε)      (eps_placement="outside")

The kernels compute ``sqrt(S + ε_in) + ε_out`` with one of the two zero, which is
bit for bit either formula (``S + 0 == S`` and ``r + 0 == r`` for ``S, r >= 0``).

The options follow ``torch.optim.RMSprop``'s algorithm (its ``alpha`` is β here),
with ``D_t`` the denominator above (ε placed as ``eps_placement`` says):

    g_t ← g_t + λ θ_t                     (weight_decay λ, coupled L2; default 0)
    centered: A_t = β A_{t-1} + (1 - β) g_t, and S_t - A_t² replaces S_t in D_t,
              i.e. D_t = sqrt(S_t - A_t² + ε) or sqrt(S_t - A_t²) + ε
    momentum μ > 0: B_t = μ B_{t-1} + g_t / D_t;  θ_{t+1} = θ_t - η B_t

``A`` (state ``"grad_avg"``) exists only with ``centered=True`` and ``B`` (state
``"momentum_buffer"``) only with ``momentum > 0``, so those two options fix the
state's layout: they cannot change once the state exists (call ``reset()``).
Torch's ``RMSprop`` is ``eps_placement="outside"``.  ``S - A²`` is a weighted
variance, >= 0 in exact arithmetic; rounding can make it slightly negative when
the gradient is nearly constant, which gives NaN with ε outside the root (as in
torch) and is absorbed by ε inside it.
"""

from __future__ import annotations

import math

import numpy as np

from numopt import _checks
from numopt.kernels.element import grad
from numopt.rules.hyperparameters import EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, factor_layout

F = factor_layout(
    "lr", "beta", "one_minus_beta", "eps_inside", "eps_outside", "weight_decay", "momentum"
)


def reference(
    theta,
    g,
    s,
    *extra,
    t,
    learning_rate,
    beta,
    eps,
    eps_placement,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta``, ``s`` and the
    optional ``grad_avg`` (centered) and ``momentum_buffer`` (momentum > 0)."""
    dt = theta.dtype.type
    g = -g if maximize else g
    if weight_decay:
        g = g + dt(weight_decay) * theta
    s[:] = dt(beta) * s + dt(1 - beta) * g**2
    var = s
    if centered:
        a = extra[0]
        a[:] = dt(beta) * a + dt(1 - beta) * g
        var = s - a * a
    if eps_placement == "inside":
        denom = np.sqrt(var + dt(eps))
    else:
        denom = np.sqrt(var) + dt(eps)
    if momentum > 0:
        b = extra[-1]
        b[:] = dt(momentum) * b + g / denom
        theta -= dt(learning_rate) * b
    else:
        theta -= dt(learning_rate) * g / denom


# Every body gets the same factors and reads those it needs (one of the two ε is
# zero); the default options run ``body``.


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``state = (S,)``."""
    gi = grad(i, g, c)
    s = c[F.beta] * state[0, i] + c[F.one_minus_beta] * (gi * gi)
    state[0, i] = s
    theta[i] = theta[i] - c[F.lr] * gi / (math.sqrt(s + c[F.eps_inside]) + c[F.eps_outside])


def decay_body(i, theta, g, state, c):
    """With weight decay; ``state = (S,)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    s = c[F.beta] * state[0, i] + c[F.one_minus_beta] * (gi * gi)
    state[0, i] = s
    theta[i] = theta[i] - c[F.lr] * gi / (math.sqrt(s + c[F.eps_inside]) + c[F.eps_outside])


def centered_body(i, theta, g, state, c):
    """Centered, with weight decay; ``state = (S, A)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    s = c[F.beta] * state[0, i] + c[F.one_minus_beta] * (gi * gi)
    a = c[F.beta] * state[1, i] + c[F.one_minus_beta] * gi
    state[0, i] = s
    state[1, i] = a
    denom = math.sqrt(s - a * a + c[F.eps_inside]) + c[F.eps_outside]
    theta[i] = theta[i] - c[F.lr] * gi / denom


def momentum_body(i, theta, g, state, c):
    """With momentum and weight decay; ``state = (S, B)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    s = c[F.beta] * state[0, i] + c[F.one_minus_beta] * (gi * gi)
    denom = math.sqrt(s + c[F.eps_inside]) + c[F.eps_outside]
    b = c[F.momentum] * state[1, i] + gi / denom
    state[0, i] = s
    state[1, i] = b
    theta[i] = theta[i] - c[F.lr] * b


def centered_momentum_body(i, theta, g, state, c):
    """Centered, with momentum and weight decay; ``state = (S, A, B)``."""
    gi = grad(i, g, c) + c[F.weight_decay] * theta[i]
    s = c[F.beta] * state[0, i] + c[F.one_minus_beta] * (gi * gi)
    a = c[F.beta] * state[1, i] + c[F.one_minus_beta] * gi
    denom = math.sqrt(s - a * a + c[F.eps_inside]) + c[F.eps_outside]
    b = c[F.momentum] * state[2, i] + gi / denom
    state[0, i] = s
    state[1, i] = a
    state[2, i] = b
    theta[i] = theta[i] - c[F.lr] * b


#: (centered, momentum > 0) -> body; weight decay alone runs ``decay_body``.
_BODIES = {
    (True, False): centered_body,
    (False, True): momentum_body,
    (True, True): centered_momentum_body,
}


def factors(t, lr, h):
    """The factors from ``h = (β, ε_in, ε_out, λ, μ)``; Numba compiles it too."""
    return (lr, h[0], 1 - h[0], h[1], h[2], h[3], h[4])


def _body(hp):
    centered, momentum = hp["centered"], hp["momentum"] > 0
    if centered or momentum:
        return _BODIES[centered, momentum]
    return decay_body if hp["weight_decay"] else body


def _state(hp):
    centered = ("grad_avg",) if hp["centered"] else ()
    momentum = ("momentum_buffer",) if hp["momentum"] > 0 else ()
    return ("s", *centered, *momentum)


def _factor_args(hp):
    eps = hp["eps"]
    eps_in, eps_out = (eps, 0.0) if hp["eps_placement"] == "inside" else (0.0, eps)
    return (hp["beta"], eps_in, eps_out, hp["weight_decay"], hp["momentum"])


SPEC = RuleSpec(
    name="rmsprop",
    hyperparameters=(
        LEARNING_RATE.but(default=1e-2),
        Hyper(
            "beta",
            0.9,
            _checks.decay,
            "float",
            "Decay of the running mean square, 0 <= β < 1 (PyTorch calls it ``alpha``).",
        ),
        EPS.but(doc="ε > 0."),
        Hyper(
            "eps_placement",
            "inside",
            _checks.eps_placement,
            '{"inside", "outside"}',
            '``"inside"`` divides by ``sqrt(S + ε)``; ``"outside"`` by ``sqrt(S) + ε``, as\n'
            "PyTorch and Keras do.",
        ),
        WEIGHT_DECAY,
        Hyper(
            "momentum",
            0.0,
            _checks.decay,  # torch allows >= 1, where the buffer diverges
            "float",
            "μ in [0, 1): with μ > 0, ``B ← μB + g/D``, ``θ ← θ - ηB`` where ``D`` is the\n"
            "denominator above (as torch).  Whether μ > 0 fixes the state's layout.",
        ),
        Hyper(
            "centered",
            False,
            _checks.boolean,
            "bool",
            "Divide by the root of the variance estimate ``S - A²``, with\n"
            "``A ← βA + (1-β)g`` the running mean of the gradient (as torch).",
        ),
    ),
    factors=F,
    factor_fn=factors,
    factor_args=_factor_args,
    body=_body,
    reference=reference,
    state=_state,
)


class RMSprop(Optimizer, spec=SPEC):
    """RMSprop: ``S ← βS + (1-β)g²``, ``θ ← θ - ηg / sqrt(S + ε)``.

    Notes
    -----
    The state is ``s`` (S), then ``grad_avg`` (A) with ``centered=True``, then
    ``momentum_buffer`` (B) with ``momentum > 0``.  Once it exists, setting
    ``centered`` or moving ``momentum`` between 0 and > 0 is an error until
    :meth:`reset` (changing μ between two positive values is fine).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0])
    >>> opt = numopt.RMSprop(learning_rate=0.1, beta=0.75, eps=1e-8)
    >>> opt.step(x, np.array([2.0]))   # S = 0.25*4 = 1, step = 0.1*2/sqrt(1+1e-8)
    array([0.8])
    >>> opt = numopt.RMSprop(learning_rate=0.1, beta=0.75, centered=True, momentum=0.5)
    >>> opt.state_names
    ('s', 'grad_avg', 'momentum_buffer')
    """
