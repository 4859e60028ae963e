"""Adamax: Adam with the infinity norm in place of the root mean square.

torch.optim's algorithm box (``torch.optim.Adamax``; Kingma & Ba 2015, §7.1):

    g_t ← g_t + λ θ_{t-1}                         (coupled L2, λ = weight_decay)
    m_t = β1 m_{t-1} + (1 - β1) g_t
    u_t = max(β2 u_{t-1}, |g_t| + ε)
    θ_t = θ_{t-1} - η m_t / ((1 - β1^t) u_t)

``η / (1 - β1^t)`` is one host-side factor.  ``u`` needs no bias correction; ε
inside the max keeps it positive (so ``m/u`` is never 0/0).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(theta, g, m, u, *, t, learning_rate, beta1, beta2, eps, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``u``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    u[:] = np.maximum(dt(beta2) * u, np.abs(g) + dt(eps))
    clr = learning_rate / (1 - beta1**t)
    theta -= dt(clr) * (m / u)


def body(i, theta, g, state, c):
    """Element ``i`` of one step.

    ``c = (η/(1-β1^t), β1, 1-β1, β2, ε, λ, ±1)``, ``state = (m, u)``.
    """
    gi = g[i] * c[-1] + c[5] * theta[i]
    m = c[1] * state[0, i] + c[2] * gi
    decayed, current = c[3] * state[1, i], abs(gi) + c[4]
    u = decayed if decayed > current else current  # builtin max does not vectorise
    state[0, i] = m
    state[1, i] = u
    theta[i] = theta[i] - c[0] * (m / u)


def factors(t, lr, h):
    """``c = (η/(1-β1^t), β1, 1-β1, β2, ε, λ)`` from ``h = (β1, β2, ε, λ)``.

    Plain arithmetic: Numba compiles it too, for the compiled loop
    (``math.pow(b, float(t))`` has the bits of Python's ``b**t``).
    """
    b1 = h[0]
    return (lr / (1 - math.pow(b1, float(t))), b1, 1 - b1, h[1], h[2], h[3])


class Adamax(Optimizer):
    """Adamax: ``u ← max(β2 u, |g| + ε)``, ``θ ← θ - η m / ((1 - β1^t) u)``.

    Parameters
    ----------
    learning_rate : float or callable, default 2e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta1, beta2 : float, default 0.9, 0.999
        Decays of the first moment and of the infinity norm, each in [0, 1).
    eps : float, default 1e-8
        ε > 0, added to ``|g|`` inside the max.
    weight_decay : float, default 0
        λ >= 0, L2 added to the gradient (coupled).
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, as ``torch.optim``'s ``maximize``).
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adamax(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step moves each entry by ~η
    array([ 0.9, -0.9])
    """

    name = "adamax"
    state_names = ("m", "u")
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 2e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            backend=backend,
        )

    def _element(self) -> Callable:
        return body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        hp = self._hyperparameters
        return (hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"])
