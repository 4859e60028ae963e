"""Adagrad: steps scaled by the root of each parameter's summed squared gradients.

torch.optim's algorithm box (``torch.optim.Adagrad``; Duchi, Hazan & Singer 2011):

    state_sum_0 = τ                                 (initial_accumulator_value)
    g_t ← g_t + λ θ_{t-1}                           (coupled L2, λ = weight_decay)
    η̃_t = η / (1 + (t - 1) δ)                       (δ = lr_decay)
    state_sum_t = state_sum_{t-1} + g_t²
    θ_t = θ_{t-1} - η̃_t g_t / (sqrt(state_sum_t) + ε)

``η̃_t`` is a host-side factor (with a schedule, ``η`` is the schedule's value at
step t).  The accumulator starts at τ, not zero (:meth:`Adagrad._initial_state`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def reference(
    theta,
    g,
    state_sum,
    *,
    t,
    learning_rate,
    lr_decay,
    weight_decay,
    initial_accumulator_value,
    eps,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta`` and ``state_sum``.

    ``state_sum`` holds τ (``initial_accumulator_value``) before the first step.
    """
    dt = theta.dtype.type
    g = -g if maximize else g
    g = g + dt(weight_decay) * theta
    clr = learning_rate / (1 + (t - 1) * lr_decay)
    state_sum += g**2
    theta -= dt(clr) * (g / (np.sqrt(state_sum) + dt(eps)))


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``c = (η̃_t, λ, ε, ±1)``, ``state = (state_sum,)``."""
    gi = g[i] * c[-1] + c[1] * theta[i]
    s = state[0, i] + gi * gi
    state[0, i] = s
    theta[i] = theta[i] - c[0] * (gi / (math.sqrt(s) + c[2]))


def factors(t, lr, h):
    """``c = (η/(1 + (t-1)δ), λ, ε)`` from ``h = (δ, λ, ε)``; Numba compiles it too."""
    return (lr / (1 + (t - 1) * h[0]), h[1], h[2])


class Adagrad(Optimizer):
    """Adagrad: ``S ← S + g²``, ``θ ← θ - η̃ g / (sqrt(S) + ε)``, ``η̃ = η/(1 + (t-1)δ)``.

    Parameters
    ----------
    learning_rate : float or callable, default 1e-2
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    lr_decay : float, default 0
        δ >= 0: the step's rate is ``η / (1 + (t - 1) δ)``.
    weight_decay : float, default 0
        λ >= 0, L2 added to the gradient (coupled).
    initial_accumulator_value : float, default 0
        τ >= 0, the starting value of the sum of squared gradients.
    eps : float, default 1e-10
        ε > 0, added outside the root.
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, as ``torch.optim``'s ``maximize``).
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.Adagrad(learning_rate=0.1, initial_accumulator_value=5.0)
    >>> opt.step(x, np.array([2.0, -1.0]))   # S = [5+4, 5+1]; θ - 0.1·g/sqrt(S)
    array([ 0.93333333, -0.95917517])
    """

    name = "adagrad"
    state_names = ("sum",)
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-2,
        *,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
            backend=backend,
        )

    def _initial_state(self, rows: np.ndarray) -> None:
        rows[0] = self._hyperparameters["initial_accumulator_value"]

    def _element(self) -> Callable:
        return body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        hp = self._hyperparameters
        return (hp["lr_decay"], hp["weight_decay"], hp["eps"])
