"""The small functions every loop shares: how a body reads the gradient, and the clamp.

Every rule's element body reads the gradient entry ``i`` as ``grad(i, g, c)``, never
as ``g[i]``.  The factors ``c`` of every rule end with two slots the framework fills
(:data:`numopt.rules.spec.FRAMEWORK_FACTORS`): ``c[-2]``, the ``clip_value`` bound,
and ``c[-1]``, the gradient's sign — ``-1`` with ``maximize``, and scaled by
``min(1, clip_norm / ‖g‖)`` with ``clip_norm``.  The kernel generator
(:func:`numopt.kernels.generate.element`) binds ``grad`` to one of the two readers
below; the rule's arithmetic never sees clipping or the sign.
"""

from __future__ import annotations


def grad(i, g, c):
    """``g[i]`` times the sign ``c[-1]`` (exact: the sign is ±1, or ±1 · fl(scale))."""
    return g[i] * c[-1]


def clipped_grad(i, g, c):
    """``clip(g[i], -c[-2], c[-2])`` times the sign ``c[-1]`` (a NaN stays NaN)."""
    v = g[i]
    bound = c[-2]
    v = bound if v > bound else (-bound if v < -bound else v)
    return v * c[-1]


def clamp(v, low, high):
    """``v`` clamped into ``[low, high]`` as ``np.clip`` does it: the bound wins a tie
    (which decides the sign of a zero), and a NaN stays NaN (a diverging run is still
    detected)."""
    if v <= low:
        v = low
    if v >= high:
        v = high
    return v
