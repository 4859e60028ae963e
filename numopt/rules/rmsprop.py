"""RMSprop, with ε inside the root (the spec's default) or outside (PyTorch, Keras).

Spec (``shared/spec/optimizers.md``, "RMSprop"):

    S_t = β S_{t-1} + (1 - β) g_t²
    θ_{t+1} = θ_t - η g_t / sqrt(S_t + ε)        (eps_placement="inside")
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
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


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


# Every body gets the same factors ``c = (η, β, 1-β, ε_in, ε_out, λ, μ, ±1)`` and
# reads those it needs; the default options run ``body``.


def body(i, theta, g, state, c):
    """Element ``i`` of one step; reads ``c = (η, β, 1-β, ε_in, ε_out, ·, ·, ±1)``,
    ``state = (S,)``."""
    gi = g[i] * c[-1]
    s = c[1] * state[0, i] + c[2] * (gi * gi)
    state[0, i] = s
    theta[i] = theta[i] - c[0] * gi / (math.sqrt(s + c[3]) + c[4])


def decay_body(i, theta, g, state, c):
    """With weight decay; ``state = (S,)``."""
    gi = g[i] * c[-1] + c[5] * theta[i]
    s = c[1] * state[0, i] + c[2] * (gi * gi)
    state[0, i] = s
    theta[i] = theta[i] - c[0] * gi / (math.sqrt(s + c[3]) + c[4])


def centered_body(i, theta, g, state, c):
    """Centered, with weight decay; ``state = (S, A)``."""
    gi = g[i] * c[-1] + c[5] * theta[i]
    s = c[1] * state[0, i] + c[2] * (gi * gi)
    a = c[1] * state[1, i] + c[2] * gi
    state[0, i] = s
    state[1, i] = a
    theta[i] = theta[i] - c[0] * gi / (math.sqrt(s - a * a + c[3]) + c[4])


def momentum_body(i, theta, g, state, c):
    """With momentum and weight decay; ``state = (S, B)``."""
    gi = g[i] * c[-1] + c[5] * theta[i]
    s = c[1] * state[0, i] + c[2] * (gi * gi)
    b = c[6] * state[1, i] + gi / (math.sqrt(s + c[3]) + c[4])
    state[0, i] = s
    state[1, i] = b
    theta[i] = theta[i] - c[0] * b


def centered_momentum_body(i, theta, g, state, c):
    """Centered, with momentum and weight decay; ``state = (S, A, B)``."""
    gi = g[i] * c[-1] + c[5] * theta[i]
    s = c[1] * state[0, i] + c[2] * (gi * gi)
    a = c[1] * state[1, i] + c[2] * gi
    b = c[6] * state[2, i] + gi / (math.sqrt(s - a * a + c[3]) + c[4])
    state[0, i] = s
    state[1, i] = a
    state[2, i] = b
    theta[i] = theta[i] - c[0] * b


#: (centered, momentum > 0) -> body; weight decay alone runs ``decay_body``.
_BODIES = {
    (True, False): centered_body,
    (False, True): momentum_body,
    (True, True): centered_momentum_body,
}


def factors(t, lr, h):
    """The factors ``c = (η, β, 1-β, ε_in, ε_out, λ, μ)`` from ``h = (β, ε_in, ε_out, λ, μ)``.

    Plain arithmetic: Numba compiles it too, for the compiled loop.
    """
    return (lr, h[0], 1 - h[0], h[1], h[2], h[3], h[4])


class RMSprop(Optimizer):
    """RMSprop: ``S ← βS + (1-β)g²``, ``θ ← θ - ηg / sqrt(S + ε)``.

    Parameters
    ----------
    learning_rate : float or callable, default 1e-2
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta : float, default 0.9
        Decay of the running mean square, 0 <= β < 1 (PyTorch calls it ``alpha``).
    eps : float, default 1e-8
        ε > 0.
    eps_placement : {"inside", "outside"}, default "inside"
        ``"inside"`` divides by ``sqrt(S + ε)`` (the spec); ``"outside"`` by
        ``sqrt(S) + ε``, as PyTorch and Keras do.
    weight_decay : float, default 0
        λ >= 0, L2 decay added to the gradient first: ``g ← g + λθ`` (as torch).
    momentum : float, default 0
        μ in [0, 1): with μ > 0, ``B ← μB + g/D``, ``θ ← θ - ηB`` where ``D`` is the
        denominator above (as torch; torch also accepts μ >= 1, where B diverges).
        Whether μ > 0 fixes the state's layout (see below).
    centered : bool, default False
        Divide by the root of the variance estimate ``S - A²``, with
        ``A ← βA + (1-β)g`` the running mean of the gradient (as torch).
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, before the weight decay is added, as ``torch.optim``'s ``maximize``).
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

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

    name = "rmsprop"
    state_names = ("s",)
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-2,
        *,
        beta: float = 0.9,
        eps: float = 1e-8,
        eps_placement: str = "inside",
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta=beta,
            eps=eps,
            eps_placement=eps_placement,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
            backend=backend,
        )

    def _state_names_for(self, hp: dict) -> tuple[str, ...]:
        centered = ("grad_avg",) if hp["centered"] else ()
        momentum = ("momentum_buffer",) if hp["momentum"] > 0 else ()
        return ("s", *centered, *momentum)

    def _element(self) -> Callable:
        hp = self._hyperparameters
        centered, momentum = hp["centered"], hp["momentum"] > 0
        if centered or momentum:
            return _BODIES[centered, momentum]
        return decay_body if hp["weight_decay"] else body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        hp = self._hyperparameters
        eps = hp["eps"]
        eps_in, eps_out = (eps, 0.0) if hp["eps_placement"] == "inside" else (0.0, eps)
        return (hp["beta"], eps_in, eps_out, hp["weight_decay"], hp["momentum"])
