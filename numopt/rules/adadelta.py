"""Adadelta: steps in the units of θ, from running means of g² and of the steps².

torch.optim's algorithm box (``torch.optim.Adadelta``; Zeiler 2012):

    g_t ← g_t + λ θ_{t-1}                                   (coupled L2)
    v_t = ρ v_{t-1} + (1 - ρ) g_t²                          (square_avg)
    Δx_t = sqrt(u_{t-1} + ε) / sqrt(v_t + ε) · g_t
    u_t = ρ u_{t-1} + (1 - ρ) Δx_t²                         (acc_delta)
    θ_t = θ_{t-1} - η Δx_t

Zeiler's rule is ``η = 1`` (torch's default): the ratio of the two roots gives the
step its scale.  The step uses ``u`` from before this step's update.  The kernels take
one root of the ratio, ``sqrt((u + ε)/(v + ε))`` (the same number up to rounding; one
root and no second division is cheaper, and rounds the same in every backend).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(
    theta, g, square_avg, acc_delta, *, t, learning_rate, rho, eps, weight_decay, maximize=False
):
    """NumPy reference of one step, in place on flat ``theta`` and the two means."""
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    square_avg[:] = dt(rho) * square_avg + dt(1 - rho) * g**2
    delta = np.sqrt((acc_delta + dt(eps)) / (square_avg + dt(eps))) * g
    acc_delta[:] = dt(rho) * acc_delta + dt(1 - rho) * delta**2
    theta -= dt(learning_rate) * delta


def body(i, theta, g, state, c):
    """Element ``i`` of one step.

    ``c = (η, ρ, 1-ρ, ε, λ, ±1)``, ``state = (square_avg, acc_delta)``.
    """
    gi = g[i] * c[-1] + c[4] * theta[i]
    v = c[1] * state[0, i] + c[2] * (gi * gi)
    u = state[1, i]
    delta = math.sqrt((u + c[3]) / (v + c[3])) * gi
    state[0, i] = v
    state[1, i] = c[1] * u + c[2] * (delta * delta)
    theta[i] = theta[i] - c[0] * delta


def factors(t, lr, h):
    """``c = (η, ρ, 1-ρ, ε, λ)`` from ``h = (ρ, ε, λ)``; Numba compiles it too."""
    return (lr, h[0], 1 - h[0], h[1], h[2])


class Adadelta(Optimizer):
    """Adadelta: ``θ ← θ - η sqrt(u + ε)/sqrt(v + ε) · g`` with running means v of g², u of steps².

    Parameters
    ----------
    learning_rate : float or callable, default 1.0
        η > 0 scaling the step (Zeiler's rule has η = 1), or a schedule ``step -> η``
        called with the 0-based step.
    rho : float, default 0.9
        ρ, the decay of both running means, 0 <= ρ < 1.
    eps : float, default 1e-6
        ε > 0, inside both roots (it sets the size of the first steps).
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
    >>> x = np.array([1.0])
    >>> opt = numopt.Adadelta(rho=0.75, eps=1.0)
    >>> opt.step(x, np.array([2.0]))   # v = 0.25·4 = 1; Δx = sqrt(0 + 1)/sqrt(1 + 1)·2
    array([-0.41421356])
    """

    name = "adadelta"
    state_names = ("square_avg", "acc_delta")
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1.0,
        *,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            rho=rho,
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
        return (hp["rho"], hp["eps"], hp["weight_decay"])
