"""The Numba objectives of ``tests/many``, compiled once and cached on disk.

Each distinct (objective, method, form of ``jac``, bounds or not, dtype, types of the
arguments, split of the arguments) compiles a new loop, for ``minimize_many`` and for
the ``minimize`` it is compared with, so the tests reuse these few functions and vary
the data instead.

* ``decay*``: the least squares of one exponential decay ``a·exp(-k·t) + c`` fitted to
  one data set ``y``, weighted by ``w`` (a scalar: shared, or one per problem), in the
  three forms of ``jac``, the same floating-point operations in each, so that the
  three forms give one trajectory.
* ``rosen``/``rosen_grad``: the extended Rosenbrock function (no arguments).
* ``matrix_inplace``: ``0.5·‖A·W - B‖²`` for a 2-D ``W`` (a problem whose ``x`` is 2-D),
  ``A`` shared, ``B`` one 2-D block per problem.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def decay(p, t, y, w):
    """``w · Σ ½ (a·exp(-k·t) + c - y)²``."""
    f = 0.0
    for j in range(t.size):
        r = p[0] * np.exp(-p[1] * t[j]) + p[2] - y[j]
        f += 0.5 * r * r
    return w * f


@njit(cache=True)
def _decay_fill(p, g, t, y, w):
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    for j in range(t.size):
        e = np.exp(-p[1] * t[j])
        r = p[0] * e + p[2] - y[j]
        f += 0.5 * r * r
        g0 += r * e
        g1 -= r * p[0] * t[j] * e
        g2 += r
    g[0] = w * g0
    g[1] = w * g1
    g[2] = w * g2
    return w * f


@njit(cache=True)
def decay_grad(p, t, y, w):
    """The gradient of :func:`decay`, a new array."""
    g = np.empty_like(p)
    _decay_fill(p, g, t, y, w)
    return g


@njit(cache=True)
def decay_both(p, t, y, w):
    """``(f, g)``, for ``jac=True``."""
    g = np.empty_like(p)
    f = _decay_fill(p, g, t, y, w)
    return f, g


@njit(cache=True)
def decay_inplace(p, g, t, y, w):
    """Fills ``g``, returns ``f``, for ``jac="inplace"``."""
    return _decay_fill(p, g, t, y, w)


#: The three forms of ``jac``: ``(fun, jac)`` for ``minimize``.
DECAY_FORMS = {
    "callable": (decay, decay_grad),
    "combined": (decay_both, True),
    "inplace": (decay_inplace, "inplace"),
}


@njit(cache=True)
def rosen(x):
    """The extended Rosenbrock function (``x.size`` even)."""
    f = 0.0
    for j in range(0, x.size, 2):
        a = x[j + 1] - x[j] * x[j]
        b = 1.0 - x[j]
        f += 100.0 * a * a + b * b
    return f


@njit(cache=True)
def rosen_grad(x):
    """Its gradient, a new array."""
    g = np.empty_like(x)
    for j in range(0, x.size, 2):
        a = x[j + 1] - x[j] * x[j]
        b = 1.0 - x[j]
        g[j] = -400.0 * x[j] * a - 2.0 * b
        g[j + 1] = 200.0 * a
    return g


@njit(cache=True)
def matrix_inplace(W, G, A, B):
    """``½ ‖A·W - B‖²`` (``W`` of shape ``(k, m)``), its gradient ``Aᵀ(A·W - B)`` into ``G``."""
    f = 0.0
    G[:, :] = 0.0
    for i in range(A.shape[0]):
        for c in range(W.shape[1]):
            r = -B[i, c]
            for k in range(W.shape[0]):
                r += A[i, k] * W[k, c]
            f += 0.5 * r * r
            for k in range(W.shape[0]):
                G[k, c] += A[i, k] * r
    return f
