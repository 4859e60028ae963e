"""Numba objectives shared by the compiled-loop tests of L-BFGS-B.

The compiled loop is compiled once per objective function, objective form (``jac``
callable, ``jac=True``, ``jac="inplace"``), dtype and whether the run has bounds, and
cached on disk next to this module.  Every compiled-loop test of ``tests/quasi_newton``
uses the extended Rosenbrock function in one of these forms, so that the whole folder
compiles the L-BFGS-B loop only a handful of times:

* ``jac="inplace"``: ``mgh._xrosen_inplace`` (:data:`INPLACE`), float64 with and
  without bounds, and float32 with bounds (infinite bounds give the unbounded
  algorithm, the two-loop recursion, in that same compiled loop);
* ``jac`` callable: :func:`xrosen_fun` and :func:`xrosen_jac`, float64, no bounds;
* ``jac=True``: :func:`xrosen_both`, float64, no bounds.

The four are the same floating-point operations in the same order as
``mgh._xrosen_inplace``, so the three forms give one trajectory, bit for bit.
"""

from __future__ import annotations

import numpy as np
from mgh import problem
from numba import njit

#: ``inplace(x, g) -> f``, the extended Rosenbrock function of ``mgh``.
INPLACE = problem("rosenbrock").inplace


@njit(cache=True)
def xrosen_fun(x):
    """The extended Rosenbrock function (n even)."""
    f = 0.0
    for j in range(0, x.size, 2):
        t = x[j + 1] - x[j] * x[j]
        s = 1.0 - x[j]
        f += 100.0 * t * t + s * s
    return f


@njit(cache=True)
def xrosen_jac(x):
    """Its gradient, a new array."""
    g = np.empty_like(x)
    for j in range(0, x.size, 2):
        t = x[j + 1] - x[j] * x[j]
        s = 1.0 - x[j]
        g[j] = -400.0 * x[j] * t - 2.0 * s
        g[j + 1] = 200.0 * t
    return g


@njit(cache=True)
def xrosen_both(x):
    """``(f, g)`` for ``jac=True``."""
    return xrosen_fun(x), xrosen_jac(x)


#: The three forms, as ``(fun, jac)`` for ``minimize``.
FORMS = {
    "inplace": (INPLACE, "inplace"),
    "jac": (xrosen_fun, xrosen_jac),
    "combined": (xrosen_both, True),
}
