"""Lion: the sign of an interpolated momentum, with decoupled weight decay.

Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1 (as
optax's ``lion`` writes it; torch has no Lion):

    c_t = β1 m_{t-1} + (1 - β1) g_t                (the interpolation)
    θ_t = θ_{t-1} - η (sign(c_t) + λ θ_{t-1})      (λ = weight_decay, decoupled)
    m_t = β2 m_{t-1} + (1 - β2) g_t                (the momentum)

computed as ``θ (1 - ηλ) - η sign(c)`` (``1 - ηλ`` is a host-side factor, as in
AdamW), with ``sign(0) = 0``.  Every step moves each parameter by exactly η (plus
the decay), so Lion wants a smaller η than Adam; at a constant η it hovers within
about η of a minimum (decay η to converge tightly).

Defaults (torch has none to follow): those of the authors' PyTorch code
(google/automl, ``lion/lion_pytorch.py``): η = 1e-4, β1 = 0.9, β2 = 0.99, λ = 0.
β1, β2 are the paper's and optax's too; η = 1e-4 follows the paper's advice of an η
3-10× smaller than AdamW's (1e-3).  λ = 0 as for numopt's Adam: decay moves the
fixed point away from ∇f = 0, so it is opt-in (the paper advises a λ 3-10× larger
than AdamW's when used; optax defaults to 1e-3).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(theta, g, m, *, t, learning_rate, beta1, beta2, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta`` and ``m``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    c = dt(beta1) * m + dt(1 - beta1) * g
    theta[:] = theta * dt(1 - learning_rate * weight_decay) - dt(learning_rate) * np.sign(c)
    m[:] = dt(beta2) * m + dt(1 - beta2) * g


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``c = (η, β1, 1-β1, β2, 1-β2, 1-ηλ, ±1)``, ``state = (m,)``.

    ``η·sign(c)`` is selected, not branched on, so that the loop vectorises.
    """
    eta = c[0]
    gi = g[i] * c[-1]
    m = state[0, i]
    u = c[1] * m + c[2] * gi
    step = math.copysign(eta, u) if u != 0 else eta - eta
    theta[i] = theta[i] * c[5] - step
    state[0, i] = c[3] * m + c[4] * gi


def factors(t, lr, h):
    """``c = (η, β1, 1-β1, β2, 1-β2, 1-ηλ)`` from ``h = (β1, β2, λ)``; Numba compiles it too."""
    b1, b2 = h[0], h[1]
    return (lr, b1, 1 - b1, b2, 1 - b2, 1 - lr * h[2])


class Lion(Optimizer):
    """Lion: ``θ ← θ(1 - ηλ) - η sign(β1 m + (1-β1) g)``, then ``m ← β2 m + (1-β2) g``.

    Parameters
    ----------
    learning_rate : float or callable, default 1e-4
        η > 0, the size of every step, or a schedule ``step -> η`` called with the
        0-based step.
    beta1 : float, default 0.9
        Interpolation between momentum and gradient for the step's sign, in [0, 1).
    beta2 : float, default 0.99
        Decay of the momentum, in [0, 1).
    weight_decay : float, default 0
        λ >= 0, decoupled: the decay is ``ηλθ``.
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, as ``torch.optim``'s ``maximize``).
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0, 0.5])
    >>> opt = numopt.Lion(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5, 0.0]))   # θ - η·sign(g) at the first step
    array([ 0.9, -0.9,  0.5])
    """

    name = "lion"
    state_names = ("m",)
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-4,
        *,
        beta1: float = 0.9,
        beta2: float = 0.99,
        weight_decay: float = 0.0,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            weight_decay=weight_decay,
            maximize=maximize,
            backend=backend,
        )

    def _element(self) -> Callable:
        return body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        hp = self._hyperparameters
        return (hp["beta1"], hp["beta2"], hp["weight_decay"])
