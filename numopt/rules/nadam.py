"""NAdam: Adam with Nesterov momentum, and torch's momentum schedule μ_t.

torch.optim's algorithm box (``torch.optim.NAdam``; Dozat 2016):

    θ ← θ (1 - ηλ)                  if decoupled_weight_decay (λ = weight_decay)
    g_t ← g_t + λ θ_{t-1}            otherwise (coupled L2)
    μ_t = β1 (1 - ½ · 0.96^(t ψ))                   (ψ = momentum_decay)
    μ_{t+1} = β1 (1 - ½ · 0.96^((t+1) ψ))
    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    m̂_t = μ_{t+1} m_t / (1 - Π_{i≤t+1} μ_i) + (1 - μ_t) g_t / (1 - Π_{i≤t} μ_i)
    v̂_t = v_t / (1 - β2^t)
    θ_t = θ - η m̂_t / (sqrt(v̂_t) + ε)

The kernel computes ``θ d - (a g + b m) / (sqrt(v / (1 - β2^t)) + ε)`` with the
host-side factors ``a = η(1 - μ_t)/(1 - Π_t)``, ``b = η μ_{t+1}/(1 - Π_{t+1})`` and
``d = 1 - ηλ`` (decoupled) or 1 (coupled; then λ enters the gradient).

The product ``Π_t = μ_1 μ_2 ⋯ μ_t`` is kept on the host in float64, multiplied in
the order torch multiplies its ``mu_product``.  It depends only on ``t``, β1 and ψ,
so it is a memo, not state: after :meth:`~numopt.Optimizer.load_state_dict` (or a
change of β1 or ψ) it is recomputed from step 1 by the same multiplications, and a
resumed run is bit for bit an uninterrupted one, with no extra entry in the state
dict.  (Recomputing costs one multiplication per past step, once.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numopt.optimizer import Optimizer


def mu(t: int, beta1: float, momentum_decay: float) -> float:
    """The momentum coefficient ``μ_t = β1 (1 - ½ · 0.96^(t ψ))`` (float64)."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))


def mu_product(
    t: int, beta1: float, momentum_decay: float, start: tuple[int, float] = (0, 1.0)
) -> float:
    """``Π_{i≤t} μ_i``, multiplied in order from ``start = (s, Π_s)`` (s <= t)."""
    s, prod = start
    while s < t:
        s += 1
        prod *= mu(s, beta1, momentum_decay)
    return prod


#: The reference's memo: (β1, ψ) -> (t, Π_t) of its last call (a stateless function
#: stepping t = 1, 2, ... would otherwise recompute Π_t from 1 at every step).
_REFERENCE_MEMO: dict[tuple[float, float], tuple[int, float]] = {}


def _memo_product(t: int, beta1: float, momentum_decay: float) -> float:
    key = (beta1, momentum_decay)
    last = _REFERENCE_MEMO.get(key)
    prod = mu_product(t, *key, start=last if last is not None and last[0] <= t else (0, 1.0))
    _REFERENCE_MEMO[key] = (t, prod)
    return prod


def _scalars(t, learning_rate, beta1, momentum_decay, prod_t):
    """The factors ``a`` and ``b`` of step t, given ``Π_t``."""
    mu_t = mu(t, beta1, momentum_decay)
    mu_next = mu(t + 1, beta1, momentum_decay)
    prod_next = prod_t * mu_next
    a = learning_rate * (1.0 - mu_t) / (1.0 - prod_t)
    b = learning_rate * mu_next / (1.0 - prod_next)
    return a, b


def reference(
    theta,
    g,
    m,
    v,
    *,
    t,
    learning_rate,
    beta1,
    beta2,
    eps,
    weight_decay,
    momentum_decay,
    decoupled_weight_decay,
    maximize=False,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m`` and ``v``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    decay = 1.0
    if decoupled_weight_decay:
        decay = 1 - learning_rate * weight_decay
    else:
        g = g + dt(weight_decay) * theta
    prod = _memo_product(t, beta1, momentum_decay)
    a, b = _scalars(t, learning_rate, beta1, momentum_decay, prod)
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * g**2
    denom = np.sqrt(v / dt(1 - beta2**t)) + dt(eps)
    theta[:] = theta * dt(decay) - (dt(a) * g + dt(b) * m) / denom


def body(i, theta, g, state, c):
    """Element ``i`` of one step.

    ``c = (a, b, β1, 1-β1, β2, 1-β2, 1-β2^t, ε, λ_coupled, d, ±1)``, ``state = (m, v)``.
    """
    gi = g[i] * c[-1] + c[8] * theta[i]
    m = c[2] * state[0, i] + c[3] * gi
    v = c[4] * state[1, i] + c[5] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    theta[i] = theta[i] * c[9] - (c[0] * gi + c[1] * m) / (math.sqrt(v / c[6]) + c[7])


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and torch's momentum schedule μ_t.

    ``θ ← θ - η (μ_{t+1} m/(1-Π_{t+1}) + (1-μ_t) g/(1-Π_t)) / (sqrt(v̂) + ε)``.

    Parameters
    ----------
    learning_rate : float or callable, default 2e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta1, beta2 : float, default 0.9, 0.999
        Decays of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        ε > 0, added outside the root.
    weight_decay : float, default 0
        λ >= 0: L2 added to the gradient, or with ``decoupled_weight_decay`` the
        decay ``θ(1 - ηλ)`` (NAdamW).
    momentum_decay : float, default 4e-3
        ψ >= 0 in ``μ_t = β1 (1 - ½ · 0.96^(tψ))``.
    decoupled_weight_decay : bool, default False
        Decay the weights by ``ηλθ`` instead of adding ``λθ`` to the gradient.
    maximize : bool, default False
        Maximise the objective: step along ``+g`` (the gradient negated inside the
        kernel, as ``torch.optim``'s ``maximize``).
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -1.0])
    >>> opt = numopt.NAdam(learning_rate=0.1)
    >>> opt.step(x, np.array([3.0, -0.5]))   # the first step moves each entry by ~η
    array([ 0.9, -0.9])
    """

    name = "nadam"
    state_names = ("m", "v")
    reference = staticmethod(reference)

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 2e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            backend=backend,
        )
        self._mu_memo = None  # ((β1, ψ), t, Π_t) of the last step

    def _mu_product(self, t: int) -> float:
        """``Π_t``, advanced from the memo of the last step (or recomputed from 1)."""
        hp = self._hyperparameters
        key = (hp["beta1"], hp["momentum_decay"])
        memo = self._mu_memo
        start = (memo[1], memo[2]) if memo is not None and memo[0] == key and memo[1] <= t else None
        prod = mu_product(t, *key, start=start or (0, 1.0))
        self._mu_memo = (key, t, prod)
        return prod

    def _element(self) -> Callable:
        return body

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        hp = self._hyperparameters
        b1, b2, wd = hp["beta1"], hp["beta2"], hp["weight_decay"]
        a, b = _scalars(t, lr, b1, hp["momentum_decay"], self._mu_product(t))
        if hp["decoupled_weight_decay"]:
            coupled, decay = 0.0, 1 - lr * wd
        else:
            coupled, decay = wd, 1.0
        return (a, b, b1, 1 - b1, b2, 1 - b2, 1 - b2**t, hp["eps"], coupled, decay)
