"""Momentum (heavy ball), with Nesterov, dampening and L2 weight decay options.

Spec (``shared/spec/optimizers.md``, "Momentum"), with ``v_0 = 0``:

    v_{t+1} = β v_t + g_t
    θ_{t+1} = θ_t - η v_{t+1}                 (heavy ball)
    θ_{t+1} = θ_t - η (g_t + β v_{t+1})       (Nesterov)

The options follow ``torch.optim.SGD``'s algorithm (its ``momentum`` is β here):

    g_t ← g_t + λ θ_t                         (weight_decay λ, coupled L2; default 0)
    v_1 = g_1                                 (the first step is never dampened)
    v_{t+1} = β v_t + (1 - τ) g_t  for t > 1  (dampening τ ∈ [0, 1]; default 0)

and the θ update above uses that ``g_t`` and ``v``.  With τ = 0 this is the spec's
rule (``v_0 = 0`` makes ``v_1 = g_1`` either way).  The kernels multiply ``g_t``
by the host factor ``d_t = 1`` at t = 1, ``1 - τ`` after.  Unlike torch, Nesterov
with dampening is allowed (it computes the formula as written; torch refuses it).
"""

from __future__ import annotations

from collections.abc import Callable

from numopt.optimizer import Optimizer


def reference(
    theta,
    g,
    v,
    *,
    t,
    learning_rate,
    beta,
    nesterov,
    dampening=0.0,
    weight_decay=0.0,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    if weight_decay:
        g = g + dt(weight_decay) * theta
    if dampening and t > 1:
        v[:] = dt(beta) * v + dt(1 - dampening) * g
    else:
        v[:] = dt(beta) * v + g
    if nesterov:
        theta -= dt(learning_rate) * (g + dt(beta) * v)
    else:
        theta -= dt(learning_rate) * v


# Every body gets the same factors ``c = (η, β, λ, d_t, ±1)`` and reads those it
# needs; the default options run ``body`` / ``nesterov_body``.


def body(i, theta, g, state, c):
    """Element ``i`` of a heavy-ball step; reads ``c = (η, β, ·, ·, ±1)``, ``state = (v,)``."""
    v = c[1] * state[0, i] + g[i] * c[-1]
    state[0, i] = v
    theta[i] = theta[i] - c[0] * v


def nesterov_body(i, theta, g, state, c):
    """Element ``i`` of a Nesterov step; reads ``c = (η, β, ·, ·, ±1)``, ``state = (v,)``."""
    gi = g[i] * c[-1]
    v = c[1] * state[0, i] + gi
    state[0, i] = v
    theta[i] = theta[i] - c[0] * (gi + c[1] * v)


def damped_body(i, theta, g, state, c):
    """Heavy ball with weight decay and dampening; ``c = (η, β, λ, d_t, ±1)``."""
    gi = g[i] * c[-1] + c[2] * theta[i]
    v = c[1] * state[0, i] + c[3] * gi
    state[0, i] = v
    theta[i] = theta[i] - c[0] * v


def damped_nesterov_body(i, theta, g, state, c):
    """Nesterov with weight decay and dampening; ``c = (η, β, λ, d_t, ±1)``."""
    gi = g[i] * c[-1] + c[2] * theta[i]
    v = c[1] * state[0, i] + c[3] * gi
    state[0, i] = v
    theta[i] = theta[i] - c[0] * (gi + c[1] * v)


def factors(t, lr, h):
    """The factors ``c = (η, β, λ, d_t)`` of step ``t`` from ``h = (β, λ, τ)`` (float64).

    ``d_t = 1 - τ`` except on the first step (torch's undampened first step).  Plain
    arithmetic: Numba compiles it too, for the compiled loop.
    """
    d = 1.0 if t == 1 else 1.0 - h[2]
    return (lr, h[0], h[1], d)


class Momentum(Optimizer):
    """Momentum: ``v ← βv + g``, ``θ ← θ - ηv`` (or ``θ - η(g + βv)`` with Nesterov).

    Parameters
    ----------
    learning_rate : float or callable, default 1e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta : float, default 0.9
        Momentum coefficient, 0 <= β < 1 (``torch.optim.SGD``'s ``momentum``).
    dampening : float, default 0
        τ in [0, 1]: after the first step, ``v ← βv + (1 - τ)g`` (as torch).
    weight_decay : float, default 0
        λ >= 0, L2 decay added to the gradient before the momentum:
        ``g ← g + λθ`` (as torch).
    nesterov : bool, default False
        Nesterov's look-ahead step ``θ ← θ - η(g + βv)``.
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, before the weight decay is added, as ``torch.optim``'s ``maximize``).
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
    >>> x = np.array([1.0])
    >>> opt = numopt.Momentum(learning_rate=0.1, beta=0.5, dampening=0.5)
    >>> opt.step(x, np.array([1.0])); opt.step(x, np.array([1.0]))  # v = 1, then 0.5 + 0.5
    array([0.9])
    array([0.8])
    """

    name = "momentum"
    state_names = ("v",)
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-3,
        *,
        beta: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta=beta,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            backend=backend,
        )

    def _element(self) -> Callable:
        hp = self._hyperparameters
        if hp["dampening"] or hp["weight_decay"]:
            return damped_nesterov_body if hp["nesterov"] else damped_body
        return nesterov_body if hp["nesterov"] else body

    factors = staticmethod(factors)

    def _factor_args(self) -> tuple[float, ...]:
        hp = self._hyperparameters
        return (hp["beta"], hp["weight_decay"], hp["dampening"])
