"""RMSprop, with ε inside the root (the spec's default) or outside (PyTorch, Keras).

Spec (``shared/spec/optimizers.md``, "RMSprop"):

    S_t = β S_{t-1} + (1 - β) g_t²
    θ_{t+1} = θ_t - η g_t / sqrt(S_t + ε)        (eps_placement="inside")
    θ_{t+1} = θ_t - η g_t / (sqrt(S_t) + ε)      (eps_placement="outside")

The kernels compute ``sqrt(S + ε_in) + ε_out`` with one of the two zero, which is
bit for bit either formula (``S + 0 == S`` and ``r + 0 == r`` for ``S, r >= 0``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(theta, g, s, *, t, learning_rate, beta, eps, eps_placement):
    """NumPy reference of one step, in place on flat ``theta`` and ``s``."""
    dt = theta.dtype.type
    s[:] = dt(beta) * s + dt(1 - beta) * g**2
    if eps_placement == "inside":
        theta -= dt(learning_rate) * g / np.sqrt(s + dt(eps))
    else:
        theta -= dt(learning_rate) * g / (np.sqrt(s) + dt(eps))


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``c = (η, β, 1-β, ε_in, ε_out)``, ``state = (S,)``."""
    gi = g[i]
    s = c[1] * state[0, i] + c[2] * (gi * gi)
    state[0, i] = s
    theta[i] = theta[i] - c[0] * gi / (math.sqrt(s + c[3]) + c[4])


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
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0])
    >>> opt = numopt.RMSprop(learning_rate=0.1, beta=0.75, eps=1e-8)
    >>> opt.step(x, np.array([2.0]))   # S = 0.25*4 = 1, step = 0.1*2/sqrt(1+1e-8)
    array([0.8])
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
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta=beta,
            eps=eps,
            eps_placement=eps_placement,
            backend=backend,
        )

    def _element(self) -> Callable:
        return body

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        hp = self._hyperparameters
        beta, eps = hp["beta"], hp["eps"]
        inside = hp["eps_placement"] == "inside"
        return (lr, beta, 1 - beta, eps if inside else 0.0, 0.0 if inside else eps)
