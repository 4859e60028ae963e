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

**Where a step runs.**  ``"serial"`` and ``"parallel"`` (``"auto"`` as for every
rule) run the fused passes of :mod:`numopt.rules.adafactor_kernels`: one pass sums
‖θ‖² and the rows' and columns' Σ g², a small one updates r and c, one sums ‖u‖²,
one updates θ; no temporary of x's size.  Every sum goes in one fixed order (in
float64: lanes along a row, blocks of rows along a column, rows or blocks in order
for a norm), whatever the thread count, and ``"numpy"``'s lines (this module's
:func:`reference`) sum in the same order: every CPU backend gives the same bits.
A matrix's u is computed as ``g · p_i q_j`` with ``p_i = 1/√(r_i/D)`` and
``q_j = 1/√c_j`` (``D = max(mean_i r, ε₁)``; ``g/ε₁`` where ``V < ε₁²``), which
differs from ``g/√max(V, ε₁²)`` by rounding only.  Device arrays (``"cuda"``, and
``minimize(..., options={"device": "cuda"})``) run the same passes as CUDA kernels
(:mod:`numopt.rules.adafactor_cuda`), state and sums on the device; their rows
sum by a fixed shared-memory tree, so a device step equals the host's to a few
ulps.  ``minimize`` and a list/dict ``x`` give each array its own factors
(``shapes``).

Defaults are torch's: η = 1e-2, c = -0.8, ε = (None, 1e-3), d = 1, λ = 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numopt import _checks
from numopt.kernels.launch import resolve
from numopt.rules import adafactor_kernels as kernels
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
    maximize=False, backend="numpy", plan=None,
):  # fmt: skip
    """One step, in place on flat ``theta`` and the factored state ``v``; ``shapes``
    are the arrays that the flat ``theta`` is made of, in memory order ``order``.

    ``backend`` ``"serial"`` or ``"parallel"`` runs the fused passes of
    :mod:`numopt.rules.adafactor_kernels`, ``"cuda"`` (device arrays) those of
    :mod:`numopt.rules.adafactor_cuda` (``plan``: their plan for ``shapes``, built
    if None); ``"numpy"`` the lines below, whose sums
    (:func:`~numopt.rules.adafactor_kernels.row_sums` and the others) go in the
    passes' order: the same bits as the CPU passes."""
    dt = np.dtype(theta.dtype).type
    eps1 = float(np.finfo(theta.dtype).eps) if eps[0] is None else eps[0]
    weight = dt(float(t) ** beta2_decay)
    rho = min(learning_rate, 1 / math.sqrt(t))
    cap = math.inf if eps1 == 0 else 1 / eps1  # 1/√ε₁²
    if backend != "numpy":
        decay = 1 - learning_rate * weight_decay
        c = (weight, 1, eps1, eps1 * eps1, -1 if maximize else 1, decay, cap)
        if backend == "cuda":
            from numopt.rules import adafactor_cuda

            plan = adafactor_cuda.plan(shapes, order, theta.dtype) if plan is None else plan
            typed = tuple(dt(k) for k in c)
            adafactor_cuda.step(plan, theta, g, v, typed, (rho, float(eps[1]), float(d)))
            return
        plan = kernels.plan(shapes, order, theta.dtype) if plan is None else plan
        f = np.array((rho, eps[1], d))
        kernels.step(plan, theta, g, v, np.array(c, theta.dtype), f, backend)
        return
    g = -g if maximize else g
    at = 0
    for part, shape in segments(shapes):
        x, gs = theta[part], g[part].reshape(shape, order=order)
        n = max(x.size, 1)
        if len(shape) >= 2:  # the matrices in C order over the batch, as r and c
            *lead, rows, cols = shape
            batch = math.prod(lead)
            r = v[at : at + batch * rows].reshape((*lead, rows, 1))
            c = v[at + batch * rows : at + batch * (rows + cols)].reshape((*lead, 1, cols))
            square = (gs * gs).reshape(batch, rows, cols)
            r += weight * ((kernels.row_sums(square, False) / cols).astype(dt).reshape(r.shape) - r)
            c += weight * ((kernels.column_sums(square) / rows).astype(dt).reshape(c.shape) - c)
            mean = (kernels.ordered_sums(r.reshape(batch, rows)) / rows).astype(dt)
            a = r / np.maximum(mean.reshape((*lead, 1, 1)), dt(eps1))  # V = a cᵀ
            with np.errstate(divide="ignore"):  # a zero factor: 1/0, and V < ε₁² there
                w = np.where(
                    a * c < dt(eps1 * eps1), dt(cap), (dt(1) / np.sqrt(a)) * (dt(1) / np.sqrt(c))
                )
            u = gs * w  # g / √max(V, ε₁²), up to rounding
            matrices = x.reshape(shape, order=order).reshape(batch, rows, cols)
            theta_sq = kernels.ordered_sums(kernels.row_sums(matrices, True).reshape(1, -1))[0]
            u_sq = kernels.row_sums(u.reshape(batch, rows, cols), True).reshape(1, -1)
            u_sq = kernels.ordered_sums(u_sq)[0]
        else:
            var = v[at : at + x.size].reshape(shape)
            var += weight * (gs * gs - var)
            u = gs * (dt(1) / np.sqrt(np.maximum(var, dt(eps1 * eps1))))
            theta_sq, u_sq = kernels.block_sums(x), kernels.block_sums(u.reshape(-1))
        at += state_length(shape)
        alpha = max(eps[1], math.sqrt(theta_sq) / math.sqrt(n)) * rho
        denom = max(1.0, math.sqrt(u_sq) / (math.sqrt(n) * d))
        if weight_decay != 0:
            x *= dt(1 - learning_rate * weight_decay)
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
    """Adafactor's step: the fused passes (CPU or CUDA) or NumPy's lines, with its
    state's length."""

    runs_reference = True

    def reference_options(self, opt: Any, layout: Any) -> dict[str, Any]:
        """The arrays that the flat ``x`` is made of, the order it was flattened in,
        the backend that runs (``"auto"`` resolved as for every rule) and its plan."""
        given, order = array_shapes.of_x(opt.shapes, layout)
        want, have = self.state_length(opt, layout), opt._state.shape[1]
        if have != want:
            raise ValueError(
                f"this optimizer's state holds {have} second moments but the arrays "
                f"{[list(s) for s in given]} need {want}; call reset() to start over"
            )
        backend = resolve(opt.backend, layout.device, math.prod(layout.shape))
        out = {"shapes": given, "order": order, "backend": backend}
        if backend != "numpy":  # the plan, kept for the next steps (on the device)
            key = (given, order, np.dtype(layout.dtype), backend == "cuda")
            if opt._scratch is None or opt._scratch[0] != key:
                if backend == "cuda":
                    from numopt.rules import adafactor_cuda

                    built = adafactor_cuda.plan(given, order, layout.dtype)
                else:
                    built = kernels.plan(given, order, layout.dtype)
                opt._scratch = (key, built)
            out["plan"] = opt._scratch[1]
        return out

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
    (over their last two axes), vectors a full one.  A CPU step is three fused
    passes over x (norms and the factors' sums, ‖u‖², the update), the same bits
    on every CPU backend; on device arrays the same passes run as CUDA kernels (a
    few ulps from the host's).  ``minimize`` runs it in its Python loop.  See
    :mod:`numopt.rules.adafactor` for the formulas.

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
