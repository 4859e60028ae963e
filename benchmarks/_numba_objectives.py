"""The N-D Rosenbrock function as Numba-compiled objectives, for compiled-loop benchmarks.

The definition is :func:`scipy.optimize.rosen`'s, for any ``n >= 2``::

    f(x) = sum_{i<n-1} 100 (x[i+1] - x[i]²)² + (1 - x[i])²

Three conventions, all ``@njit(cache=True)`` and taking float64 (or float32) 1-D
arrays:

* :func:`rosen_nb` ``(x) -> f`` and :func:`rosen_der_nb` ``(x) -> g`` (a new array):
  SciPy's ``fun``/``jac`` pair, as ``numopt.minimize(rosen_nb, x0, jac=rosen_der_nb)``
  takes it;
* :func:`rosen_fg_inplace` ``(x, grad) -> f``: the value, with the gradient written
  into ``grad`` (NLopt's convention; no allocation per call).

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
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
