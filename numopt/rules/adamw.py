"""AdamW: Adam on the loss gradient, with decoupled weight decay.

Spec (``shared/spec/optimizers.md``, "AdamW"):

    θ_{t+1} = θ_t (1 - ηλ) - η m̂_t / (sqrt(v̂_t) + ε)      (λ default 0.01)

with ``m̂, v̂`` Adam's bias-corrected moments of the plain gradient.  The decay
uses θ *before* the step and is proportional to the current η; ``1 - ηλ`` is a
host-side factor.  With λ = 0 this is Adam bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(theta, g, m, v, *, t, learning_rate, beta1, beta2, eps, weight_decay):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * g**2
    m_hat = m / dt(1 - beta1**t)
    v_hat = v / dt(1 - beta2**t)
    theta[:] = theta * dt(1 - learning_rate * weight_decay) - dt(learning_rate) * m_hat / (
        np.sqrt(v_hat) + dt(eps)
    )


def body(i, theta, g, state, c):
    """Element ``i`` of one step.

    ``c = (η, β1, 1-β1, β2, 1-β2, 1-β1^t, 1-β2^t, ε, 1-ηλ)``, ``state = (m, v)``.
    """
    gi = g[i]
    m = c[1] * state[0, i] + c[2] * gi
    v = c[3] * state[1, i] + c[4] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] * c[8] - c[0] * (m / c[5]) / (math.sqrt(v / c[6]) + c[7])


class AdamW(Optimizer):
    """AdamW: Adam with decoupled weight decay ``θ ← θ(1 - ηλ) - η m̂/(sqrt(v̂) + ε)``.

    Parameters
    ----------
    learning_rate : float or callable, default 1e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta1, beta2 : float, default 0.9, 0.999
        Decays of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        ε > 0, added outside the root.
    weight_decay : float, default 0.01
        λ >= 0, decoupled: the decay is ``ηλθ``, whatever the gradient's variance.
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> opt.step(x, np.array([3.0, -0.5]))   # θ(1 - 0.05) - 0.1·sign(g)
    array([ 0.85, -0.85])
    """

    name = "adamw"
    state_names = ("m", "v")
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
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
        decay = 1 - lr * hp["weight_decay"]
        return (lr, b1, 1 - b1, b2, 1 - b2, 1 - b1**t, 1 - b2**t, hp["eps"], decay)
