"""Adafactor: second moments factored into a row and a column vector per matrix.

Shazeer & Stern (2018), as ``torch.optim.Adafactor`` (torch 2.13) writes it.  At
step t, with ρ_t = min(η, 1/√t) and β̂_t = t^c (``beta2_decay`` c <= 0, so β̂_1 = 1),
for each array θ of x (n elements) and its gradient g:

    α  = max(ε₂, ‖θ‖/√n) · ρ_t                     (θ before the decay)
    θ ← θ (1 - ηλ)                                  (``weight_decay`` λ)
    an array of 2 or more dimensions, factored over its last two (R × C; any leading
    dimensions are a batch of matrices):
        r ← r + β̂_t (mean_j g² - r)                 (R numbers per matrix)
        c ← c + β̂_t (mean_i g² - c)                 (C numbers per matrix)
        V = r cᵀ / max(mean_i r, ε₁)
    a 1-D or 0-D array:
        V ← V + β̂_t (g² - V)                        (n numbers)
    u  = g / √max(V, ε₁²)
    θ ← θ - α / max(1, ‖u‖/(√n · d)) · u

ε₁ = None means the machine epsilon of θ's dtype (torch's default).  The factored
state keeps R + C numbers per matrix instead of R·C: that is Adafactor's point, and
numopt's state holds exactly that (``opt.state["v"]`` is every array's ``r``, then
``c``, or ``V``, concatenated in x's order).

**Where a step runs.**  The per-array norms, means and the outer product are NumPy
expressions on every CPU backend (this module's :func:`reference`, so ``"numpy"``,
``"serial"`` and ``"parallel"`` give the same bits); device arrays are refused.
``minimize`` and a list/dict ``x`` give each array its own factors (``shapes``).

Defaults are torch's: η = 1e-2, c = -0.8, ε = (None, 1e-3), d = 1, λ = 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numopt import _checks
from numopt.rules import shapes as array_shapes
from numopt.rules.hyperparameters import LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.shapes import segments
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout


def state_length(shape: tuple[int, ...]) -> int:
    """The second-moment numbers an array of ``shape`` keeps: ``B·(R + C)`` for a batch
    ``B`` of ``R × C`` matrices, its size for a 1-D or 0-D array.

    Examples
    --------
    >>> state_length((100, 30)), state_length((4, 100, 30)), state_length((7,))
    (130, 520, 7)
    """
    if len(shape) < 2:
        return math.prod(shape)
    return math.prod(shape[:-2]) * (shape[-2] + shape[-1])


def reference(
    theta, g, v, *, t, learning_rate, beta2_decay, eps, d, weight_decay, shapes, order="C",
    maximize=False,
):  # fmt: skip
    """One step, in place on flat ``theta`` and the factored state ``v``; ``shapes``
    are the arrays that the flat ``theta`` is made of, in memory order ``order``."""
    dt = theta.dtype.type
    eps1 = float(np.finfo(theta.dtype).eps) if eps[0] is None else eps[0]
    g = -g if maximize else g
    weight = dt(float(t) ** beta2_decay)
    rho = min(learning_rate, 1 / math.sqrt(t))
    at = 0
    for part, shape in segments(shapes):
        x, gs = theta[part], g[part].reshape(shape, order=order)
        n = max(x.size, 1)
        alpha = max(eps[1], float(np.linalg.norm(x)) / math.sqrt(n)) * rho
        if weight_decay != 0:
            x *= dt(1 - learning_rate * weight_decay)
        if len(shape) >= 2:
            *lead, rows, cols = shape
            batch = math.prod(lead)
            r = v[at : at + batch * rows].reshape((*lead, rows, 1))
            c = v[at + batch * rows : at + batch * (rows + cols)].reshape((*lead, 1, cols))
            square = gs * gs
            r += weight * (square.sum(axis=-1, keepdims=True) / dt(cols) - r)
            c += weight * (square.sum(axis=-2, keepdims=True) / dt(rows) - c)
            var = (r * c) / np.maximum(r.mean(axis=-2, keepdims=True), dt(eps1))
        else:
            var = v[at : at + x.size].reshape(shape)
            var += weight * (gs * gs - var)
        at += state_length(shape)
        u = gs * (dt(1) / np.sqrt(np.maximum(var, dt(eps1 * eps1))))
        denom = max(1.0, float(np.linalg.norm(u)) / (math.sqrt(n) * d))
        x -= dt(alpha / denom) * u.reshape(-1, order=order)


def checked_eps(name: str, value: Any) -> tuple[float | None, float]:
    """``(ε₁, ε₂)``: ε₁ None (θ's machine epsilon) or >= 0, ε₂ >= 0 (torch's ranges)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise _checks.type_error(name, "a pair (eps1, eps2): eps1 None or >= 0, eps2 >= 0", value)
    eps1 = None if value[0] is None else _checks.nonnegative(f"{name}[0]", value[0])
    return eps1, _checks.nonnegative(f"{name}[1]", value[1])


def beta2_decay(name: str, value: Any) -> float:
    """A real number <= 0 (β̂_t = t^c decays towards 0 from β̂_1 = 1)."""
    value = _checks.real(name, value)
    if value > 0:
        raise ValueError(f"{name} must be <= 0, got {value!r}")
    return value


def clipping_threshold(name: str, value: Any) -> float:
    """``d >= 1``."""
    value = _checks.real(name, value)
    if not value >= 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return value


class Factored:
    """Adafactor's step: NumPy on every CPU backend, with its factored state's length."""

    runs_reference = True

    def reference_options(self, opt: Any, layout: Any) -> dict[str, Any]:
        """The arrays that the flat ``x`` is made of, and the order it was flattened in."""
        given, order = array_shapes.of_host_x("Adafactor", opt.shapes, layout)
        want, have = self.state_length(opt, layout), opt._state.shape[1]
        if have != want:
            raise ValueError(
                f"this optimizer's state holds {have} second moments but the arrays "
                f"{[list(s) for s in given]} need {want}; call reset() to start over"
            )
        return {"shapes": given, "order": order}

    def state_length(self, opt: Any, layout: Any) -> int:
        """The factored second moments' length for an ``x`` of ``layout``."""
        given, _ = array_shapes.of_x(opt.shapes, layout)
        return sum(state_length(s) for s in given)


SPEC = RuleSpec(
    name="adafactor",
    hyperparameters=(
        LEARNING_RATE.but(
            default=1e-2, doc="η > 0 (or a schedule): the step is ``min(η, 1/√t)`` times RMS(θ)."
        ),
        Hyper(
            "beta2_decay",
            -0.8,
            beta2_decay,
            "float",
            "c <= 0: the second moments' weight at step t is ``t^c`` (1 at the first step).",
        ),
        Hyper(
            "eps",
            (None, 1e-3),
            checked_eps,
            "tuple",
            "``(ε₁, ε₂)``: ε₁ floors the variance's denominator (None: θ's machine\n"
            "epsilon), ε₂ floors RMS(θ) in the step size.",
        ),
        Hyper("d", 1.0, clipping_threshold, "float", "d >= 1: the update's RMS is clipped to d."),
        WEIGHT_DECAY.but(doc="λ >= 0, decoupled: θ is scaled by ``1 - ηλ`` first (as torch)."),
    ),
    factors=factor_layout("lr"),
    factor_fn=lambda t, lr, h: (lr,),
    factor_args=lambda hp: (),
    body=always(None),
    reference=reference,
    state=always(("v",)),
    passes=Factored(),
    attributes=(array_shapes.attribute("each with its own factors"),),
)


class Adafactor(Optimizer, spec=SPEC):
    """Adafactor: factored second moments and a relative step, as ``torch.optim.Adafactor``.

    Notes
    -----
    Arrays of two or more dimensions keep a row and a column vector of second moments
    (over their last two axes), vectors a full one.  CPU only; ``minimize`` runs it in
    its Python loop.  See :mod:`numopt.rules.adafactor` for the formulas.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> w = np.ones((3, 4))
    >>> opt = numopt.Adafactor()
    >>> opt.step(w, np.full((3, 4), 0.5))[0, 0]     # RMS(θ)=1, ρ=1e-2, u=1: θ - 0.01
    np.float64(0.99)
    >>> opt.state["v"].shape                        # 3 row and 4 column moments
    (7,)
    """
