"""Prodigy: AdamW whose learning rate is estimated as it goes (D-Adaptation, weighted).

Mishchenko & Defazio (2023), as ``optax.contrib.prodigy`` (optax 0.2.8) writes it.
The estimate d of the distance to the solution starts at ``estim_lr0`` and only
grows.  At step t (η_t the schedule, 1 by default), with d the estimate so far:

    λ_t = d η_t √(1 - β₂ᵗ)/(1 - β₁ᵗ)                      (``dlr``)
    m ← β₁ m + (1 - β₁) d g
    v ← β₂ v + (1 - β₂) d² g²
    s ← β₃ s + (λ_t / d₀) d g          (safeguard_warmup: d/d₀ · d g, no η or bias)
    r ← β₃ r + (d / d₀) λ_t ⟨g, x₀ - θ⟩                  (x₀: θ at the first step)
    d ← max(d, c · r / ‖s‖₁)                             (c: ``estim_lr_coef``)
    θ ← θ - λ_t (λ θ + m / (√v + d ε))                   (``weight_decay`` λ; d new)

with β₃ = √β₂ unless given.  The two dot products (⟨g, x₀ - θ⟩ and ‖s‖₁) run over all
of x: d is one number for the whole problem, as in optax.  Where ‖s‖₁ is 0 (a zero
gradient from the start) d is kept as it is; optax would divide by zero.

**State.**  m, v, s and x₀ are arrays like x; d and r are two numbers kept beside
them, in :meth:`Prodigy.state_dict` under ``"estimate"`` (and so in checkpoints), and
``opt.estimate`` reads them.

**Where a step runs.**  ``"serial"`` and ``"parallel"`` run two fused passes
(:data:`KERNELS`): one updates m, v, s and sums ⟨g, x₀ - θ⟩ and ‖s‖₁, the next
updates θ.  The sums go block by block (:data:`BLOCK` elements, each in order, in
float64), so their bits do not depend on the thread count, and ``"numpy"``'s lines
sum in the same order: every CPU backend gives the same bits.  Device arrays
(Numba's, or CuPy's and torch's through ``__cuda_array_interface__``) run the same
two passes as CUDA kernels (:mod:`numopt.rules.prodigy_cuda`): the state stays on
the device, each block's sums are added by a fixed tree in float64 and the blocks'
partials on the host in block order, so the bits do not depend on the grid (they
may differ from the CPU's in the last bits).  The estimate [d, r] is updated on the
host between the passes, by the same lines on every backend.  ``minimize`` runs it
in its Python loop, on the host or on the GPU (``device="cuda"``).

Defaults are optax's: η = 1, β = (0.9, 0.999), β₃ = None, ε = 1e-8, d₀ = 1e-6,
c = 1, λ = 0, no safeguard.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from numopt import _checks
from numopt.kernels.launch import resolve
from numopt.rules.hyperparameters import BETA1, BETA2, EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

#: Elements per block of the sums: each block is summed in order, in float64, and the
#: blocks' sums in block order, so a sum's bits depend on the length alone, never on
#: the threads (the ``prange`` loops hand whole blocks to threads).
BLOCK = 2048


@njit(inline="always")
def _blocked(n):  # pragma: no cover - compiled
    return (n + BLOCK - 1) // BLOCK


@njit(inline="always")
def _finish(partial):  # pragma: no cover - compiled
    total = 0.0
    for k in range(partial.size):
        total += partial[k]
    return total


def _moments(g, x0, theta, m, v, s, c):  # pragma: no cover - compiled
    """m, v, s in place from ``c = (d, β₁, 1-β₁, β₂, 1-β₂, β₃, s's factor, d₀, ±1)``;
    returns ``⟨g, x₀ - θ⟩`` (θ as it was) and ‖s‖₁ (new), each summed in float64 by
    blocks.  The arithmetic of :func:`reference`'s lines, in one pass."""
    n = m.size
    partial = np.zeros((2, _blocked(n)))
    for k in prange(partial.shape[1]):
        along = 0.0
        l1 = 0.0
        for i in range(k * BLOCK, min(n, (k + 1) * BLOCK)):
            gi = g[i] * c[8]
            along += gi * (x0[i] - theta[i])
            dg = c[0] * gi
            m[i] = m[i] * c[1] + c[2] * dg
            v[i] = v[i] * c[3] + c[4] * dg * dg
            s[i] = s[i] * c[5] + c[6] * dg / c[7]
            l1 += abs(s[i])
        partial[0, k] = along
        partial[1, k] = l1
    return _finish(partial[0]), _finish(partial[1])


def _update(theta, m, v, c):  # pragma: no cover - compiled
    """θ from ``c = (λ λ_t, λ_t, d ε)``: the last line of :func:`reference`."""
    for i in prange(theta.size):
        theta[i] += -c[0] * theta[i] - c[1] * m[i] / (math.sqrt(v[i]) + c[2])


def _compiled(fn, parallel):
    return njit(cache=True, nogil=True, error_model="numpy", parallel=parallel)(fn)


#: The two fused passes by CPU backend (the NumPy lines sum with :func:`_block_sum`).
KERNELS = {
    b: tuple(_compiled(fn, b == "parallel") for fn in (_moments, _update))
    for b in ("serial", "parallel")
}


@njit(cache=True, nogil=True)
def _block_sum(a):  # pragma: no cover - compiled
    """Σ a_i in float64 by blocks: the order of :data:`KERNELS`' sums."""
    partial = np.zeros(_blocked(a.size))
    for k in range(partial.size):
        acc = 0.0
        for i in range(k * BLOCK, min(a.size, (k + 1) * BLOCK)):
            acc += a[i]
        partial[k] = acc
    return _finish(partial)


def reference(
    theta, g, m, v, s, x0, *, t, learning_rate, beta1, beta2, beta3, eps, estim_lr0,
    estim_lr_coef, weight_decay, safeguard_warmup, estimate, maximize=False, backend="numpy",
):  # fmt: skip
    """One step, in place on flat ``theta``, ``m``, ``v``, ``s``, ``x0`` and on
    ``estimate`` = ``[d, r]`` (float64, on the host).  ``"serial"`` and ``"parallel"``
    run the fused passes of :data:`KERNELS` (the same bits); ``"cuda"`` (flat device
    arrays) those of :mod:`numopt.rules.prodigy_cuda` (the sums' last bits may differ)."""
    dt = np.dtype(theta.dtype).type
    if t == 1 and backend == "cuda":
        x0.copy_to_device(theta)
    elif t == 1:
        x0[:] = theta
    b3 = math.sqrt(beta2) if beta3 is None else beta3
    d, numerator = float(estimate[0]), float(estimate[1])
    dlr = d * learning_rate * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    factor = d if safeguard_warmup else dlr
    if backend == "numpy":
        g = -g if maximize else g
        along = _block_sum(g * (x0 - theta))  # ⟨g, x₀ - θ⟩
        dg = dt(d) * g
        m *= dt(beta1)
        m += dt(1 - beta1) * dg
        v *= dt(beta2)
        v += dt(1 - beta2) * dg * dg
        s *= dt(b3)
        s += dt(factor) * dg / dt(estim_lr0)
        l1 = _block_sum(np.abs(s))
    else:
        c = (d, beta1, 1 - beta1, beta2, 1 - beta2, b3, factor, estim_lr0)
        c = (*c, -1.0 if maximize else 1.0)
        if backend == "cuda":  # numba.cuda: imported for device arrays only
            from numopt.rules import prodigy_cuda

            moments, update = prodigy_cuda.moments, prodigy_cuda.update
            c = tuple(dt(a) for a in c)
        else:
            moments, update = KERNELS[backend]
            c = np.array(c, theta.dtype)
        along, l1 = moments(g, x0, theta, m, v, s, c)
    numerator = b3 * numerator + (d / estim_lr0) * dlr * along
    if l1 > 0:
        d = max(d, estim_lr_coef * numerator / l1)
    if backend == "numpy":
        theta += -dt(weight_decay * dlr) * theta - dt(dlr) * m / (np.sqrt(v) + dt(d * eps))
    else:
        c = (weight_decay * dlr, dlr, d * eps)
        update(theta, m, v, tuple(dt(a) for a in c) if backend == "cuda" else np.array(c, dt))
    estimate[:] = (d, numerator)


def optional_decay(name: str, value: Any) -> float | None:
    """None (β₃ = √β₂) or a decay in [0, 1)."""
    return None if value is None else _checks.decay(name, value)


class Estimated:
    """Prodigy's step: the fused passes, or NumPy's lines (see the module docstring)."""

    runs_reference = True

    def reference_options(self, opt: Any, layout: Any) -> dict[str, Any]:
        """The backend that runs (``"auto"`` resolved as for every rule: ``"cuda"`` for
        device arrays)."""
        return {"backend": resolve(opt.backend, layout.device, math.prod(layout.shape))}


SPEC = RuleSpec(
    name="prodigy",
    hyperparameters=(
        LEARNING_RATE.but(
            default=1.0, doc="η_t > 0 (or a schedule): a factor of the estimated rate d."
        ),
        BETA1,
        BETA2,
        Hyper(
            "beta3",
            None,
            optional_decay,
            "float or None",
            "β₃ in [0, 1), the decay of the estimate's sums; None: √β₂.",
        ),
        EPS.but(doc="ε > 0, added to √v as ``d ε``."),
        Hyper("estim_lr0", 1e-6, _checks.positive, "float", "d₀ > 0, the first estimate."),
        Hyper("estim_lr_coef", 1.0, _checks.positive, "float", "c > 0, a factor of each estimate."),
        WEIGHT_DECAY.but(doc="λ >= 0, decoupled: ``λ_t λ θ`` (AdamW's, at the estimated rate)."),
        Hyper(
            "safeguard_warmup",
            False,
            _checks.boolean,
            "bool",
            "Leave η_t and the bias correction out of the sum s (for warm-ups).",
        ),
    ),
    factors=factor_layout("lr"),
    factor_fn=lambda t, lr, h: (lr,),
    factor_args=lambda hp: (),
    body=always(None),
    reference=reference,
    state=always(("m", "v", "s", "x0")),
    passes=Estimated(),
)


class Prodigy(Optimizer, spec=SPEC):
    """Prodigy: AdamW with an estimated learning rate, as ``optax.contrib.prodigy``.

    Notes
    -----
    ``opt.estimate`` is the current estimate d (``estim_lr0`` before the first step).
    Host arrays run on the CPU, device arrays on the GPU (two CUDA kernels; the
    estimate is kept on the host); ``minimize`` runs it in its Python loop.  See
    :mod:`numopt.rules.prodigy` for the formulas and where each step runs.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([1.0, -2.0])
    >>> opt = numopt.Prodigy()
    >>> for _ in range(3):
    ...     _ = opt.step(x, 2 * x)               # f = ‖x‖²
    >>> opt.estimate                              # d₀ still: too little evidence yet
    1e-06
    >>> _ = opt.step(x, 2 * x)
    >>> bool(opt.estimate > 1e-6)                 # from the 4th step d grows
    True
    """

    def reset(self) -> None:
        """Forget the state, the step count and the estimate (back to ``estim_lr0``)."""
        super().reset()
        self._estimate = np.array([math.nan, 0.0])  # set from estim_lr0 at step 1

    @property
    def estimate(self) -> float:
        """The current estimate d of the learning rate's scale (``estim_lr0`` at first)."""
        return self._hyperparameters["estim_lr0"] if self._t == 0 else float(self._estimate[0])

    def _reference_extras(self, t: int, lr: float) -> dict[str, Any]:
        if t == 1:
            self._estimate[:] = (self._hyperparameters["estim_lr0"], 0.0)
        return {"estimate": self._estimate}

    def state_dict(self) -> dict[str, Any]:
        """As every rule's, plus ``"estimate"``: d and the weighted numerator r."""
        out = super().state_dict()
        out["estimate"] = {"d": float(self._estimate[0]), "numerator": float(self._estimate[1])}
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As every rule's; the estimate comes back too."""
        estimate = state_dict.get("estimate") if isinstance(state_dict, dict) else None
        if isinstance(state_dict, dict) and state_dict.get("step", 0) and estimate is None:
            raise ValueError("state_dict lacks 'estimate' (Prodigy's d and numerator)")
        if estimate is not None:
            if not isinstance(estimate, dict) or set(estimate) != {"d", "numerator"}:
                raise ValueError(
                    f"state_dict['estimate'] must be {{'d': ..., 'numerator': ...}}, "
                    f"got {estimate!r}"
                )
            d = _checks.positive("state_dict['estimate']['d']", estimate["d"])
            numerator = _checks.real("state_dict['estimate']['numerator']", estimate["numerator"])
        super().load_state_dict(state_dict)
        self._estimate = np.array([math.nan, 0.0] if estimate is None else [d, numerator])
