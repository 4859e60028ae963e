"""The N-D Rosenbrock functions as Numba-compiled objectives, for compiled-loop benchmarks.

The definition is :func:`scipy.optimize.rosen`'s, for any ``n >= 2``::

    f(x) = sum_{i<n-1} 100 (x[i+1] - x[i]²)² + (1 - x[i])²

Three conventions, all ``@njit(cache=True)`` and taking float64 (or float32) 1-D
arrays:

* :func:`rosen_nb` ``(x) -> f`` and :func:`rosen_der_nb` ``(x) -> g`` (a new array):
  SciPy's ``fun``/``jac`` pair, as ``numopt.minimize(rosen_nb, x0, jac=rosen_der_nb)``
  takes it;
* :func:`rosen_fg_inplace` ``(x, grad) -> f``: the value, with the gradient written
  into ``grad`` (NLopt's convention; no allocation per call).

The *extended* Rosenbrock function (Moré, Garbow & Hillstrom 1981, problem 21: ``n/2``
independent 2-D Rosenbrock functions, ``n`` even; the L-BFGS benchmarks' problem) is::

    f(x) = sum_{j<n/2} 100 (x[2j+1] - x[2j]²)² + (1 - x[2j])²

* :func:`xrosen_fg_inplace` ``(x, grad) -> f``, the in-place convention;
* :func:`xrosen_fg` ``(x) -> (f, g)``: value and a new gradient, for ``jac=True``.

For ``n = 2`` both functions are the classic 2-D Rosenbrock function.

* :func:`weighted_sphere_inplace` ``(x, grad, a) -> f``: ``½ Σ aᵢxᵢ²`` over ``prange``,
  the large-N benchmarks' objective (one pass, as cheap as an objective gets).

They are module-level dispatchers, so other jitted code (a compiled loop, a
benchmark's hand-written loop) can call them or take them as arguments.

Examples
--------
>>> import numpy as np
>>> from scipy.optimize import rosen, rosen_der
>>> x = np.array([-1.2, 1.0, 0.5])
>>> bool(np.isclose(rosen_nb(x), rosen(x)))
True
>>> g = np.empty(3)
>>> f = rosen_fg_inplace(x, g)
>>> bool(np.allclose(g, rosen_der(x)) and np.allclose(rosen_der_nb(x), g))
True
>>> y = np.array([-1.2, 1.0, 0.5, 0.3])
>>> fy, gy = xrosen_fg(y)
>>> bool(np.isclose(fy, rosen(y[:2]) + rosen(y[2:])))
True
>>> bool(np.allclose(gy, np.concatenate([rosen_der(y[:2]), rosen_der(y[2:])])))
True
>>> g4 = np.empty(4)
>>> bool(xrosen_fg_inplace(y, g4) == fy and np.array_equal(g4, gy))
True
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def rosen_nb(x):  # pragma: no cover - compiled
    """The Rosenbrock function of ``x`` (SciPy's ``rosen``)."""
    f = 0.0 * x[0]
    for i in range(x.size - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        f += 100.0 * a * a + b * b
    return f


@njit(cache=True)
def rosen_der_nb(x):  # pragma: no cover - compiled
    """The gradient of :func:`rosen_nb`, a new array (SciPy's ``rosen_der``)."""
    g = np.empty_like(x)
    rosen_fg_inplace(x, g)
    return g


@njit(cache=True)
def rosen_fg_inplace(x, grad):  # pragma: no cover - compiled
    """The Rosenbrock function of ``x``; its gradient is written into ``grad``."""
    n = x.size
    f = 0.0 * x[0]
    for i in range(n):
        grad[i] = 0.0
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        f += 100.0 * a * a + b * b
        grad[i] += -400.0 * x[i] * a - 2.0 * b
        grad[i + 1] += 200.0 * a
    return f


@njit(cache=True)
def xrosen_fg_inplace(x, grad):  # pragma: no cover - compiled
    """The extended Rosenbrock function of ``x``; its gradient is written into ``grad``.

    ``x.size`` should be even; an odd last entry does not enter ``f`` (gradient 0).
    """
    f = 0.0 * x[0]
    if x.size % 2:
        grad[x.size - 1] = 0.0
    for j in range(0, x.size - 1, 2):
        t = x[j + 1] - x[j] * x[j]
        s = 1.0 - x[j]
        f += 100.0 * t * t + s * s
        grad[j] = -400.0 * x[j] * t - 2.0 * s
        grad[j + 1] = 200.0 * t
    return f


@njit(cache=True)
def xrosen_fg(x):  # pragma: no cover - compiled
    """The extended Rosenbrock function of ``x`` and its gradient, a new array."""
    g = np.empty_like(x)
    f = xrosen_fg_inplace(x, g)
    return f, g


@njit(cache=True, parallel=True)
def weighted_sphere_inplace(x, grad, a):  # pragma: no cover - compiled
    """``f = ½ Σ a_i x_i²``, its gradient ``a ⊙ x`` written into ``grad``: one parallel
    pass over ``x``, ``a`` and ``grad`` (the cheapest objective a large model has,
    so that what ``minimize`` adds to the update shows)."""
    f = 0.0
    for i in prange(x.size):
        gi = a[i] * x[i]
        grad[i] = gi
        f += 0.5 * gi * x[i]
    return f
