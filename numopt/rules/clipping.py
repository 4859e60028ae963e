"""Gradient clipping, fused into every rule's step: ``clip_value`` and ``clip_norm``.

Every optimizer takes two hyperparameters besides its rule's own
(:data:`numopt.rules.hyperparameters.FRAMEWORK`):

``clip_value = v``
    Each entry of the gradient clamped to ``[-v, v]`` (``torch.nn.utils.
    clip_grad_value_``, optax ``clip``; a NaN stays NaN).
``clip_norm = c``
    The gradient scaled by ``min(1, c/‖g‖)``, ``‖g‖`` the Euclidean norm of the
    whole gradient (optax ``clip_by_global_norm``; for a list/dict ``x0`` in
    ``minimize`` the norm spans all its arrays, which share one flat buffer).
    ``‖g‖ = 0`` gives 1, ``inf`` gives 0, NaN gives NaN.

Both: the entries are clamped first, then scaled by the norm of the clamped
gradient (optax ``chain(clip(v), clip_by_global_norm(c))``).  ``maximize`` negates
afterwards (the norm does not care).

Neither modifies the caller's gradient, and neither adds a pass that writes
memory.  Every rule's element body reads the gradient as ``grad(i, g, c)``
(:mod:`numopt.kernels.element`), ``g[i]`` times the sign ``c[-1]``, so

* ``clip_norm`` costs one read pass over ``g`` for ``‖g‖``
  (:func:`numopt.kernels.reduce.sum_squares`: fixed-order, the same bits for any
  thread count), and nothing in the update: the sign becomes
  ``sign · min(1, c/‖g‖)`` (cast to ``g``'s dtype: the scaled entry is
  ``g_i · fl(scale)``, one rounding);
* ``clip_value`` costs nothing extra: the kernel generator binds ``grad`` to the
  reader that clamps ``g[i]`` to ``±c[-2]`` (the bound's slot; ``inf`` when off).

The NumPy reference (``backend="numpy"``) clamps and scales a copy of ``g`` the same
way (:func:`reference_gradient`) and hands it to the rule's reference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: The clipping hyperparameters every optimizer takes.
NAMES = ("clip_norm", "clip_value")


def scale(clip_norm: float, norm: float) -> float:
    """``min(1, clip_norm / norm)``: 1 for a zero norm, 0 for an infinite one, NaN for NaN.

    Examples
    --------
    >>> scale(1.0, 4.0), scale(1.0, 0.5), scale(1.0, 0.0), scale(1.0, math.inf)
    (0.25, 1.0, 1.0, 0.0)
    """
    if math.isnan(norm):
        return math.nan
    if norm <= clip_norm:
        return 1.0
    return clip_norm / norm


def gradient_norm(g: Any, backend: str, bound: float = math.inf) -> float:
    """``‖clip(g, -bound, bound)‖`` of a flat gradient, in the fixed order, by ``backend``."""
    if backend == "cuda":
        from numopt.kernels import cuda_reduce

        return math.sqrt(cuda_reduce.sum_squares(g, bound))
    from numopt.kernels import reduce

    if backend == "numpy":
        dt = g.dtype.type
        clipped = g if bound == math.inf else np.clip(g, dt(-bound), dt(bound))
        return math.sqrt(reduce.sum_squares_numpy(clipped)[0])
    return math.sqrt(reduce.sum_squares(g, bound=bound, parallel=backend == "parallel"))


def framework_factors(hp: Mapping[str, Any], g: Any, backend: str) -> tuple[float, float]:
    """The two slots every rule's factors end with: ``(clip_value bound, sign · scale)``.

    The bound is ``inf`` without ``clip_value``; the sign -1 with ``maximize``; the
    gradient ``g`` is read once for its norm when ``clip_norm`` is set.
    """
    sign = -1.0 if hp["maximize"] else 1.0
    bound = hp["clip_value"]
    bound = math.inf if bound is None else bound
    clip_norm = hp["clip_norm"]
    if clip_norm is not None:
        sign = sign * scale(clip_norm, gradient_norm(g, backend, bound))
    return bound, sign


def reference_gradient(g: np.ndarray, hp: dict) -> np.ndarray:
    """The clipped gradient (a copy; ``g`` itself if no clipping) for the NumPy reference.

    Bit for bit what the kernels use: ``clamp`` in ``g``'s dtype, then ``g · fl(scale)``.

    Examples
    --------
    >>> g = np.array([3.0, -4.0, 100.0])
    >>> reference_gradient(g, {"clip_value": 4.0, "clip_norm": 1.0}) * np.sqrt(41.0)
    array([ 3., -4.,  4.])
    """
    if not isinstance(g, np.ndarray):  # a flat device array (a rule's GPU path)
        return _device_gradient(g, hp)
    dt = g.dtype.type
    bound = hp.get("clip_value")
    if bound is not None:
        g = np.clip(g, dt(-bound), dt(bound))
    clip_norm = hp.get("clip_norm")
    if clip_norm is not None:
        g = g * dt(scale(clip_norm, gradient_norm(g, "numpy")))
    return g


def clamp_scale_body(i, theta, g, state, c):  # pragma: no cover - compiled
    """``s = min(max(g, -c0), c0) · c1``: :func:`reference_gradient`'s arithmetic, per entry."""
    v = g[i]
    if v > c[0]:
        v = c[0]
    elif v < -c[0]:
        v = -c[0]
    state[0, i] = v * c[1]


def _device_gradient(g: Any, hp: Mapping[str, Any]) -> Any:
    """:func:`reference_gradient` for a flat device array: a clipped device copy (one
    kernel pass; the same bits as the host's), or ``g`` itself when not clipping."""
    bound, clip_norm = hp.get("clip_value"), hp.get("clip_norm")
    if bound is None and clip_norm is None:
        return g
    from numopt.kernels import cuda
    from numopt.kernels.launch import typed_factors

    bound = math.inf if bound is None else bound
    factor = 1.0 if clip_norm is None else scale(clip_norm, gradient_norm(g, "cuda", bound))
    out = cuda.zeros((1, g.size), np.dtype(g.dtype))
    c = typed_factors((bound, factor), np.dtype(g.dtype), "cuda")
    cuda.launch(clamp_scale_body, g, g, out, c)
    return out[0]
