"""Finite-difference gradients of a scalar objective: ``jac="2-point"`` / ``"3-point"``.

The steps and schemes are SciPy's (``scipy.optimize.minimize`` with ``jac=None`` or
``"2-point"``/``"3-point"``), so a run ported from SciPy sees the same gradients:

* the relative step is ``ε^(1/2)`` (2-point) or ``ε^(1/3)`` (3-point), ``ε`` the
  machine epsilon of ``x``'s dtype, computed in that dtype; the absolute step is
  ``h_i = rel · s_i · max(1, |x_i|)`` with ``s_i = +1`` for ``x_i >= 0``, else -1;
* 2-point: the forward difference ``(f(x + h_i e_i) - f(x)) / dx_i``, the step
  reversed or shortened where ``x + h`` would leave the bounds;
* 3-point: the central difference ``(f(x + h_i e_i) - f(x - h_i e_i)) / dx_i``, or,
  next to a bound, the one-sided ``(-3 f(x) + 4 f(x + h e_i) - f(x + 2 h e_i)) / dx_i``;
* ``dx_i`` is the step as taken, ``(x_i + h_i) - x_i`` (or between the two points);
* L-BFGS-B takes an absolute step instead (its ``eps``, default ``1e-8``), as
  SciPy's L-BFGS-B does, falling back to the relative step where ``x_i + eps == x_i``.

Each difference costs one evaluation of ``fun`` (2-point) or two (3-point) per
element of ``x``; the caller counts them.  The tests check every gradient against
SciPy's own ``approx_derivative`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: The schemes, as ``jac=`` names them.
METHODS = ("2-point", "3-point")


def absolute_steps(x: np.ndarray, method: str, step: float | None = None) -> np.ndarray:
    """``h_i = rel · s_i · max(1, |x_i|)`` in float64 (see the module docstring).

    ``step`` given (L-BFGS-B's ``eps``), ``h_i = step`` wherever ``x_i + step != x_i``.

    Examples
    --------
    >>> absolute_steps(np.array([0.0, -4.0]), "2-point") / np.sqrt(np.finfo(float).eps)
    array([ 1., -4.])
    >>> absolute_steps(np.array([0.0, 1e10]), "2-point", 1e-8) / np.sqrt(np.finfo(float).eps)
    array([6.71088640e-01, 1.00000000e+10])
    """
    eps = np.finfo(x.dtype).eps  # a scalar of x's dtype: the root is taken in it
    rel = eps**0.5 if method == "2-point" else eps ** (1 / 3)
    sign = (x >= 0).astype(float) * 2 - 1
    relative = rel * sign * np.maximum(1.0, np.abs(x))
    if step is None:
        return relative
    return np.where((x + step) - x == 0, relative, float(step))


def fitted_to_bounds(
    x: np.ndarray, h: np.ndarray, method: str, lo: Any, hi: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The steps ``h`` adjusted to stay inside ``[lo, hi]``, and where to go one-sided.

    2-point: a step that would leave the box is reversed when the reverse fits, else
    shortened to the room on the wider side.  3-point: a central step that does not fit
    becomes one-sided towards the wider side (at most half its room, as two steps are
    taken), or a central step as wide as the room allows when that is no shorter.
    """
    one_step = method == "2-point"
    if not one_step:
        h = np.abs(h)
    one_sided = np.full(h.shape, one_step)
    lo = np.broadcast_to(np.asarray(lo, float), x.shape)
    hi = np.broadcast_to(np.asarray(hi, float), x.shape)
    if np.all((lo == -np.inf) & (hi == np.inf)):
        return h, one_sided
    adjusted = h.copy()
    below, above = x - lo, hi - x
    if one_step:
        leaves = ((x + h) < lo) | ((x + h) > hi)
        fits = np.abs(h) <= np.maximum(below, above)
        adjusted[leaves & fits] *= -1
        forward = (above >= below) & ~fits
        adjusted[forward] = above[forward]
        backward = (above < below) & ~fits
        adjusted[backward] = -below[backward]
        return adjusted, one_sided
    central = (below >= h) & (above >= h)
    forward = (above >= below) & ~central
    adjusted[forward] = np.minimum(h[forward], 0.5 * above[forward])
    one_sided[forward] = True
    backward = (above < below) & ~central
    adjusted[backward] = -np.minimum(h[backward], 0.5 * below[backward])
    one_sided[backward] = True
    room = np.minimum(above, below)
    widened = ~central & (np.abs(adjusted) <= room)
    adjusted[widened] = room[widened]
    one_sided[widened] = False
    return adjusted, one_sided


def gradient(
    fun: Callable[[np.ndarray], float],
    x: np.ndarray,
    f0: float,
    method: str = "2-point",
    bounds: tuple[Any, Any] = (-np.inf, np.inf),
    step: float | None = None,
) -> np.ndarray:
    """The finite-difference gradient of ``fun`` at the flat ``x`` (float64).

    Parameters
    ----------
    fun : callable
        ``fun(z) -> float`` for a flat array ``z`` of ``x``'s dtype.
    x : numpy.ndarray
        The point, flat, float32 or float64 (not modified).
    f0 : float
        ``fun(x)``, already known.
    method : {"2-point", "3-point"}
        The scheme.
    bounds : (lo, hi)
        Scalars or flat float64 arrays; the differences stay inside.
    step : float, optional
        An absolute step (L-BFGS-B's ``eps``) instead of SciPy's relative one.

    Examples
    --------
    >>> g = gradient(lambda z: float(z @ z), np.array([1.0, -2.0]), 5.0, "3-point")
    >>> np.round(g, 6)
    array([ 2., -4.])
    """
    h, one_sided = fitted_to_bounds(x, absolute_steps(x, method, step), method, *bounds)
    out = np.empty(x.size)
    for i in range(x.size):
        if method == "2-point":
            x1 = x.copy()
            x1[i] = x[i] + h[i]
            dx = (x[i] + h[i]) - x[i]
            out[i] = (fun(x1) - f0) / dx
            continue
        x1, x2 = x.copy(), x.copy()
        if one_sided[i]:
            x1[i] = x[i] + h[i]
            x2[i] = x[i] + 2 * h[i]
            f1, f2 = fun(x1), fun(x2)
            out[i] = (-3.0 * f0 + 4 * f1 - f2) / np.float64(x2[i] - x[i])
        else:
            x1[i] = x[i] - h[i]
            x2[i] = x[i] + h[i]
            f1, f2 = fun(x1), fun(x2)
            out[i] = (f2 - f1) / np.float64(x2[i] - x1[i])
    return out
