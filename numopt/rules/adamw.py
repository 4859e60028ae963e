"""AdamW: Adam on the loss gradient, with decoupled weight decay.

Spec (``shared/spec/optimizers.md``, "AdamW"):

    θ_{t+1} = θ_t (1 - ηλ) - η m̂_t / (sqrt(v̂_t) + ε)      (λ default 0.01)

with ``m̂, v̂`` Adam's bias-corrected moments of the plain gradient.  The decay
uses θ *before* the step and is proportional to the current η; ``1 - ηλ`` is a
host-side factor.  With λ = 0 this is Adam bit for bit.

``amsgrad=True`` (``torch.optim.AdamW``'s AMSGrad) divides by the running maximum
of the second moment instead, as in :mod:`numopt.rules.adam`:

    v_max_t = max(v_max_{t-1}, v_t);  v̂_t = v_max_t / (1 - β2^t)

with the state ``m, v, v_max``; ``amsgrad`` cannot change once the state exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer
from numopt.rules._bias import saturation_step


def reference(
    theta,
    g,
    m,
    v,
    *v_max,
    t,
    learning_rate,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad=False,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m``, ``v`` (and
    ``v_max`` with ``amsgrad``)."""
    dt = theta.dtype.type
    g = -g if maximize else g
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * g**2
    if amsgrad:
        np.maximum(v_max[0], v, out=v_max[0])
        v = v_max[0]
    m_hat = m / dt(1 - beta1**t)
    v_hat = v / dt(1 - beta2**t)
    theta[:] = theta * dt(1 - learning_rate * weight_decay) - dt(learning_rate) * m_hat / (
        np.sqrt(v_hat) + dt(eps)
    )


def body(i, theta, g, state, c):
    """Element ``i`` of one step.

    ``c = (η, β1, 1-β1, β2, 1-β2, 1-β1^t, 1-β2^t, ε, 1-ηλ, ±1)``, ``state = (m, v)``.
    """
    gi = g[i] * c[-1]
    m = c[1] * state[0, i] + c[2] * gi
    v = c[3] * state[1, i] + c[4] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] * c[8] - c[0] * (m / c[5]) / (math.sqrt(v / c[6]) + c[7])


def amsgrad_body(i, theta, g, state, c):
    """Element ``i`` of an AMSGrad step; ``c`` as :func:`body`, ``state = (m, v, v_max)``."""
    gi = g[i] * c[-1]
    m = c[1] * state[0, i] + c[2] * gi
    v = c[3] * state[1, i] + c[4] * (gi * gi)
    old = state[2, i]
    v_max = old if old >= v else v  # NaN in v propagates, as np.maximum
    state[0, i] = m
    state[1, i] = v
    state[2, i] = v_max
    theta[i] = theta[i] * c[8] - c[0] * (m / c[5]) / (math.sqrt(v_max / c[6]) + c[7])


def factors(t, lr, h):
    """The factors ``c`` of step ``t`` (float64), from ``h = (β1, β2, ε, λ, T1, T2)``.

    Plain arithmetic that Numba compiles too, so the compiled loop
    (:mod:`numopt._compiled`) computes the same factors as :meth:`Optimizer.step`:
    ``math.pow(β, float(t))`` is libm's ``pow`` in both (Numba computes ``β**t`` and
    ``math.pow(β, t)`` with an integer ``t`` by repeated multiplication: other bits).
    ``h[4], h[5]`` are the steps from which ``1 - β^t`` is exactly 1.0
    (:func:`numopt.rules._bias.saturation_step`): ``pow`` is skipped from there on.
    """
    b1, b2 = h[0], h[1]
    decay = 1 - lr * h[3]
    bc1 = 1.0 if t >= h[4] else 1 - math.pow(b1, float(t))
    bc2 = 1.0 if t >= h[5] else 1 - math.pow(b2, float(t))
    return (lr, b1, 1 - b1, b2, 1 - b2, bc1, bc2, h[2], decay)


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
    amsgrad : bool, default False
        AMSGrad: divide by the running maximum of ``v`` (bias-corrected), kept in
        the state array ``v_max``; fixed once the state exists.
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, as ``torch.optim``'s ``maximize``).
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
        amsgrad: bool = False,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            backend=backend,
        )

    def _state_names_for(self, hp: dict) -> tuple[str, ...]:
        return ("m", "v", "v_max") if hp["amsgrad"] else ("m", "v")

    def _element(self) -> Callable:
        return amsgrad_body if self._hyperparameters["amsgrad"] else body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        hp = self._hyperparameters
        b1, b2 = hp["beta1"], hp["beta2"]
        return (b1, b2, hp["eps"], hp["weight_decay"], saturation_step(b1), saturation_step(b2))
