"""Plain gradient step: full-batch gradient descent and mini-batch SGD.

Spec (``shared/spec/optimizers.md``, "Gradient descent", "Mini-batch"):

    θ_{t+1} = θ_t - η g_t

with optional L2 decay ``λ``, coupled and decoupled being the same for this rule:
``θ_{t+1} = θ_t - η (g_t + λ θ_t)``.  This is ``torch.optim.SGD`` with
``momentum=0`` (its ``dampening`` then does nothing; :class:`numopt.Momentum` has
it).  ``maximize`` negates ``g_t`` before ``λ θ_t`` is added, as torch does, so the
decay still shrinks θ: ``θ_{t+1} = θ_t - η (-g_t + λ θ_t)``.
"""

from __future__ import annotations

from collections.abc import Callable

from numopt.optimizer import Optimizer


def reference(theta, g, *, t, learning_rate, weight_decay, maximize=False):
    """NumPy reference of one step, in place on flat ``theta``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    theta -= dt(learning_rate) * (g + dt(weight_decay) * theta)


def body(i, theta, g, state, c):
    """Element ``i`` of one step; ``c = (η, λ, ±1)`` (the last factor: -1 to maximize)."""
    theta[i] = theta[i] - c[0] * (g[i] * c[-1] + c[1] * theta[i])


def factors(t, lr, h):
    """The factors ``c`` of a step (float64), from ``h = (λ,)``; compiled by Numba too."""
    return (lr, h[0])


class GD(Optimizer):
    """Plain gradient step ``θ ← θ - η (g + λθ)`` (gradient descent; SGD on mini-batches).

    Parameters
    ----------
    learning_rate : float or callable, default 1e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    weight_decay : float, default 0
        λ >= 0, L2 decay (coupled and decoupled coincide for this rule).
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, as ``torch.optim``'s ``maximize``).
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -2.0])
    >>> opt = numopt.GD(learning_rate=0.1)
    >>> opt.step(x, 2 * x)           # gradient of ||x||^2
    array([ 0.8, -1.6])
    """

    name = "gd"
    state_names = ()
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-3,
        *,
        weight_decay: float = 0.0,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            maximize=maximize,
            backend=backend,
        )

    def _element(self) -> Callable:
        return body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        return (self._hyperparameters["weight_decay"],)


#: Mini-batch SGD is the same rule; ``minimize(method="sgd")`` feeds it batches.
SGD = GD

__all__ = ["GD", "SGD", "body", "reference"]
