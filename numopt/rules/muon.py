"""Muon: momentum, orthogonalised per matrix by a Newton–Schulz iteration.

Keller Jordan's Muon (2024), as ``torch.optim.Muon`` (torch 2.13) writes it, for
each matrix θ of shape ``(A, B)``:

    m_t = μ m_{t-1} + (1 - μ) g_t                        (torch: ``buf.lerp_(g, 1 - μ)``)
    u_t = μ m_t + (1 - μ) g_t   (nesterov)   or   m_t
    O_t = NS(u_t)                                        (Newton–Schulz, below)
    θ_t = (1 - η λ) θ_{t-1} - η s(A, B) O_t

``NS`` orthogonalises: ``X ← u / max(‖u‖_F, ε)`` (transposed when ``A > B`` so that
``X Xᵀ`` is the smaller Gram matrix), then ``ns_steps`` times

    G = X Xᵀ,   X ← a X + (b G + c G²) X

with the quintic coefficients ``(a, b, c) = (3.4445, -4.7750, 2.0315)``: the singular
values of ``X`` are pushed towards 1 (to about 0.7–1.2, not exactly 1: the
coefficients trade accuracy for speed), its singular vectors kept.  ``s(A, B)``
scales the step for the shape: ``sqrt(max(1, A/B))`` (``adjust_lr_fn=None`` or
``"original"``, Keller Jordan's) or ``0.2 sqrt(max(A, B))`` (``"match_rms_adamw"``,
Moonshot's: the update's RMS matches AdamW's, so AdamW's η and λ carry over).  The
weight decay is decoupled and uses η, not ``η s``.

**Matrices only.**  Muon is for the 2-D weights of hidden layers.  An array of more
than two dimensions (a convolution's ``(out, in, h, w)``) is taken as the matrix
``(shape[0], rest)`` (as Keller Jordan's reference does; torch refuses it).  A 1-D or
0-D array (a bias, a gain) is refused with an error: give those to another rule —
in your own loop a second optimizer (``numopt.AdamW``) on them, in ``minimize`` a
param group with its own optimizer (``options={"param_groups": [{"params": ["b"],
"optimizer": numopt.AdamW(...)}]}``, :class:`numopt.ParamGroups`).

**Where a step runs.**  The cost is the matrix products (about ``6 ns_steps ·
min(A, B)² · max(A, B)`` flops per matrix), which NumPy hands to its BLAS (threads
included).  The element-wise parts are NumPy expressions around them: on the CPU
every backend runs this module's :func:`reference`, so ``"numpy"``, ``"serial"`` and
``"parallel"`` give the same bits.  Device arrays are stepped on the GPU by
:mod:`numopt.rules.muon_cuda` (Numba CUDA kernels: the momentum, tiled matrix
products, no copies to the host); its sums run in another order than the BLAS, so
the GPU agrees with the CPU to rounding.  The arithmetic is in θ's dtype (float32 or
float64); torch runs its Newton–Schulz in bfloat16, which the CPU has no fast path
for, and which agrees with float64 only to about 1e-2.

Defaults are torch's: η = 1e-3, λ = 0.1, μ = 0.95, nesterov, ε = 1e-7, 5 steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numopt import _checks
from numopt.rules import shapes as array_shapes
from numopt.rules.hyperparameters import LEARNING_RATE, NESTEROV, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.shapes import segments
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout("lr")
#: torch.optim.Muon's quintic Newton–Schulz coefficients ``(a, b, c)``.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
ADJUSTMENTS = ("original", "match_rms_adamw")


def newton_schulz(u: np.ndarray, coefficients: Any, steps: int, eps: float) -> np.ndarray:
    """``NS(u)``: the matrix ``u`` with its singular values pushed towards 1 (a new array).

    Examples
    --------
    >>> import numpy as np
    >>> o = newton_schulz(np.diag([3.0, 0.5]), NS_COEFFICIENTS, 5, 1e-7)
    >>> np.round(np.diag(o), 2)                    # both singular values near 1
    array([0.71, 1.04])
    """
    a, b, c = (u.dtype.type(k) for k in coefficients)
    tall = u.shape[0] > u.shape[1]
    x = u.T if tall else u
    x = x / u.dtype.type(max(float(np.linalg.norm(x)), eps))
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def step_scale(shape: tuple[int, int], adjust_lr_fn: str | None) -> float:
    """``s(A, B)``, the factor of η for a matrix of ``shape`` (see the module docstring)."""
    rows, cols = shape
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return math.sqrt(max(1.0, rows / cols))


def matrix_of(shape: tuple[int, ...]) -> tuple[int, int]:
    """The matrix an array of ``shape`` (2-D or more) is orthogonalised as."""
    return (shape[0], math.prod(shape[1:]))


def reference(
    theta, g, m, *, t, learning_rate, weight_decay, momentum, nesterov, ns_coefficients, eps,
    ns_steps, adjust_lr_fn, shapes, order="C", maximize=False, backend="numpy",
):  # fmt: skip
    """One step, in place on flat ``theta`` and ``m``; ``shapes`` are the arrays that the
    flat ``theta`` is made of, in its memory order ``order`` (what every CPU backend
    runs).  ``backend="cuda"``: device arrays, stepped by :mod:`numopt.rules.muon_cuda`."""
    if backend == "cuda":
        from numopt.rules import muon_cuda

        matrices = [
            (part.start, *matrix_of(shape), step_scale(matrix_of(shape), adjust_lr_fn))
            for part, shape in segments(shapes)
        ]
        muon_cuda.step(
            theta, g, m, learning_rate=learning_rate, weight_decay=weight_decay,
            momentum=momentum, nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
            ns_steps=ns_steps, matrices=matrices, order=order, maximize=maximize,
        )  # fmt: skip
        return
    dt = theta.dtype.type
    g = -g if maximize else g
    m += dt(1 - momentum) * (g - m)
    u = g + dt(momentum) * (m - g) if nesterov else m
    for part, shape in segments(shapes):
        rows, cols = matrix_of(shape)
        o = newton_schulz(
            u[part].reshape((rows, cols), order=order), ns_coefficients, ns_steps, eps
        )
        view = theta[part].reshape((rows, cols), order=order)
        step = learning_rate * step_scale((rows, cols), adjust_lr_fn)
        view *= dt(1 - learning_rate * weight_decay)
        view -= dt(step) * o


def coefficients(name: str, value: Any) -> tuple[float, float, float]:
    """Three finite real numbers ``(a, b, c)``."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise _checks.type_error(name, "three real numbers (a, b, c)", value)
    return tuple(_checks.real(f"{name}[{k}]", v) for k, v in enumerate(value))


def ns_steps(name: str, value: Any) -> int:
    """An integer in [0, 100) (torch's limit)."""
    value = _checks.integer(name, value, 0)
    if value >= 100:
        raise ValueError(f"{name} must be an integer in [0, 100), got {value!r}")
    return value


def adjustment(name: str, value: Any) -> str | None:
    """None (as ``"original"``) or one of :data:`ADJUSTMENTS`."""
    return None if value is None else _checks.choice(name, value, ADJUSTMENTS)


def matrices_only(what: str, shape: tuple[int, ...]) -> str:
    """Why Muon refuses an array of fewer than two dimensions."""
    return (
        f"Muon orthogonalises matrices, and {what} has shape {shape}: give 1-D and 0-D "
        "arrays (biases, gains) to another rule — in your own loop a second optimizer "
        "such as numopt.AdamW on them; in minimize a param group with its own optimizer, "
        "options={'param_groups': [{'params': [<their keys>], 'optimizer': "
        "numopt.AdamW(...)}]}"
    )


class Matrices:
    """Muon's step: NumPy and its BLAS on every CPU backend, CUDA kernels on the GPU."""

    runs_reference = True

    def reference_options(self, opt: Any, layout: Any) -> dict[str, Any]:
        """The shapes the flat ``x`` is made of, the order it was flattened in, and
        where it lives (``backend="cuda"`` for device arrays)."""
        given, order = array_shapes.of_x(opt.shapes, layout)
        if len(given[0]) < 2:  # x's own shape (a checked shapes attribute has >= 2 dims)
            raise ValueError(matrices_only("x", layout.shape))
        return {"shapes": given, "order": order, "backend": "cuda" if layout.device else "numpy"}


SPEC = RuleSpec(
    name="muon",
    hyperparameters=(
        LEARNING_RATE,
        WEIGHT_DECAY.but(
            default=0.1, doc="λ >= 0, decoupled: θ is scaled by ``1 - ηλ`` first (as torch)."
        ),
        Hyper("momentum", 0.95, _checks.decay, "float", "μ, the momentum's decay, in [0, 1)."),
        NESTEROV.but(default=True, doc="Orthogonalise ``μ m_t + (1-μ) g_t`` instead of ``m_t``."),
        Hyper(
            "ns_coefficients",
            NS_COEFFICIENTS,
            coefficients,
            "tuple of 3 float",
            "``(a, b, c)`` of the Newton–Schulz iteration ``X ← aX + (bG + cG²)X``.",
        ),
        Hyper(
            "eps",
            1e-7,
            _checks.positive,
            "float",
            "ε > 0: ``u`` is divided by ``max(‖u‖_F, ε)`` before the iteration.",
        ),
        Hyper("ns_steps", 5, ns_steps, "int", "Newton–Schulz iterations, in [0, 100)."),
        Hyper(
            "adjust_lr_fn",
            None,
            adjustment,
            "str or None",
            'The step\'s factor for an ``(A, B)`` matrix: None or ``"original"``,\n'
            '``sqrt(max(1, A/B))``; ``"match_rms_adamw"``, ``0.2 sqrt(max(A, B))``.',
        ),
    ),
    factors=F,
    factor_fn=lambda t, lr, h: (lr,),
    factor_args=lambda hp: (),
    body=always(None),
    reference=reference,
    state=always(("m",)),
    passes=Matrices(),
    attributes=(
        array_shapes.attribute(
            "each orthogonalised as a matrix",
            lambda what, shape: None if len(shape) >= 2 else matrices_only(what, shape),
        ),
    ),
)


class Muon(Optimizer, spec=SPEC):
    """Muon: momentum orthogonalised per matrix by Newton–Schulz, as ``torch.optim.Muon``.

    Notes
    -----
    For 2-D (and higher) arrays only, on the CPU or the GPU: see
    :mod:`numopt.rules.muon` for the formulas, and for how to pair it with AdamW for
    1-D arrays.  ``minimize`` runs it
    in its Python loop.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> w = np.zeros((2, 3))
    >>> opt = numopt.Muon(learning_rate=0.1, weight_decay=0.0, nesterov=False)
    >>> g = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> opt.step(w, g).round(3)            # w = -0.1 NS(g): singular values 1.11, 0.69
    array([[-0.111,  0.   ,  0.   ],
           [ 0.   , -0.069,  0.   ]])
    """
