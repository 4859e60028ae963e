"""Momentum (heavy ball), with a Nesterov option.

Spec (``shared/spec/optimizers.md``, "Momentum"):

    v_{t+1} = β v_t + g_t
    θ_{t+1} = θ_t - η v_{t+1}                 (heavy ball)
    θ_{t+1} = θ_t - η (g_t + β v_{t+1})       (Nesterov)
"""

from __future__ import annotations

from collections.abc import Callable

from numopt.optimizer import Optimizer


def reference(theta, g, v, *, t, learning_rate, beta, nesterov):
    """NumPy reference of one step, in place on flat ``theta`` and ``v``."""
    dt = theta.dtype.type
    v[:] = dt(beta) * v + g
    if nesterov:
        theta -= dt(learning_rate) * (g + dt(beta) * v)
    else:
        theta -= dt(learning_rate) * v


def body(i, theta, g, state, c):
    """Element ``i`` of a heavy-ball step; ``c = (η, β)``, ``state = (v,)``."""
    v = c[1] * state[0, i] + g[i]
    state[0, i] = v
    theta[i] = theta[i] - c[0] * v


def nesterov_body(i, theta, g, state, c):
    """Element ``i`` of a Nesterov step; ``c = (η, β)``, ``state = (v,)``."""
    v = c[1] * state[0, i] + g[i]
    state[0, i] = v
    theta[i] = theta[i] - c[0] * (g[i] + c[1] * v)


class Momentum(Optimizer):
    """Momentum: ``v ← βv + g``, ``θ ← θ - ηv`` (or ``θ - η(g + βv)`` with Nesterov).

    Parameters
    ----------
    learning_rate : float or callable, default 1e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta : float, default 0.9
        Momentum coefficient, 0 <= β < 1.
    nesterov : bool, default False
        Nesterov's look-ahead step.
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0])
    >>> opt = numopt.Momentum(learning_rate=0.1, beta=0.5)
    >>> opt.step(x, np.array([1.0])); opt.step(x, np.array([1.0]))
    array([0.9])
    array([0.75])
    """

    name = "momentum"
    state_names = ("v",)
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-3,
        *,
        beta: float = 0.9,
        nesterov: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(learning_rate=learning_rate, beta=beta, nesterov=nesterov, backend=backend)

    def _element(self) -> Callable:
        return nesterov_body if self._hyperparameters["nesterov"] else body

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        return (lr, self._hyperparameters["beta"])
