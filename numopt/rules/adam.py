"""Adam, bias-corrected, with optional coupled L2 weight decay.

Spec (``shared/spec/optimizers.md``, "Adam"):

    g_t ← g_t + λ θ_t                         (L2, coupled: λ = weight_decay, default 0)
    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    m̂_t = m_t / (1 - β1^t)
    v̂_t = v_t / (1 - β2^t)
    θ_{t+1} = θ_t - η m̂_t / (sqrt(v̂_t) + ε)

The bias corrections ``1 - β^t`` are computed once per step on the host in
float64 and passed to the kernels (cast to θ's dtype), like every scalar factor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(theta, g, m, v, *, t, learning_rate, beta1, beta2, eps, weight_decay):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    g = g + dt(weight_decay) * theta
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * g**2
    m_hat = m / dt(1 - beta1**t)
    v_hat = v / dt(1 - beta2**t)
    theta -= dt(learning_rate) * m_hat / (np.sqrt(v_hat) + dt(eps))


def body(i, theta, g, state, c):
    """Element ``i`` of one step.

    ``c = (η, β1, 1-β1, β2, 1-β2, 1-β1^t, 1-β2^t, ε, λ)``, ``state = (m, v)``.
    """
    gi = g[i] + c[8] * theta[i]
    m = c[1] * state[0, i] + c[2] * gi
    v = c[3] * state[1, i] + c[4] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] - c[0] * (m / c[5]) / (math.sqrt(v / c[6]) + c[7])


class Adam(Optimizer):
    """Adam with bias correction, and optional coupled L2 ``weight_decay``.

    Parameters
    ----------
    learning_rate : float or callable, default 1e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta1, beta2 : float, default 0.9, 0.999
        Decays of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        ε > 0, added outside the root.
    weight_decay : float, default 0
        λ >= 0: L2 regularisation added to the gradient before the moments (so it
        is rescaled by ``1/sqrt(v̂)``); see :class:`AdamW` for decoupled decay.
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adam(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step moves each entry by ~η
    array([ 0.9, -0.9])
    """

    name = "adam"
    state_names = ("m", "v")
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            backend=backend,
        )

    def _element(self) -> Callable:
        return body

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        hp = self._hyperparameters
        b1, b2 = hp["beta1"], hp["beta2"]
        return (lr, b1, 1 - b1, b2, 1 - b2, 1 - b1**t, 1 - b2**t, hp["eps"], hp["weight_decay"])
